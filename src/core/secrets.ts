/**
 * Secrets never reach disk or git (DESIGN.md section 7). Everything a run
 * records that a person typed or a process inherited (argv, params, config
 * keys, environment values, the commit message) passes through here first.
 *
 * Two tests, both cheap:
 * - by name: a flag, param, config key or variable whose name says it holds a
 *   secret (`--password`, `db_password`, `api.token`, `GITHUB_TOKEN`);
 * - by shape: a value that looks like a provider's token (`ghp_…`, `AKIA…`,
 *   `sk-…`, `hf_…`, a JWT, a private key block) or carries one
 *   (`AccountKey=…`, `password=…`, `?access_token=…`, credentials in a URL),
 *   whatever it is called.
 */
import { stripUrlCredentials } from './git/remoteUrl';

export const REDACTED = '<redacted>';

/** Words that make a name secret on their own. */
const SECRET_WORDS = new Set([
  'password', 'passwd', 'passphrase', 'secret', 'secrets', 'apikey', 'credential', 'credentials',
  'privatekey', 'cookie', 'cookies', 'signature', 'authorization', 'bearer', 'pat', 'accesskey', 'secretkey',
  'connectionstring', 'accesstoken', 'authtoken',
]);
/**
 * `token` alone is a secret (`--token`, `HF_TOKEN`), and so is an `auth_token`; but ML configs are
 * full of tokens that are not: `pad_token`, `max_tokens`, `token_type_ids`, `tokenizer`.
 */
const TOKEN_QUALIFIERS = new Set([
  'auth', 'access', 'api', 'hf', 'hub', 'github', 'gh', 'gitlab', 'bearer', 'refresh', 'session', 'bot', 'slack', 'wandb',
  'secret', 'id', 'oauth', 'personal', 'private', 'user', 'service', 'write', 'read', 'npm', 'pypi', 'discord', 'telegram',
  'openai', 'anthropic', 'comet', 'neptune', 'mlflow', 'kaggle', 'registry', 'deploy', 'client', 'app',
]);
/** Words that make the word `key` after them secret: `api_key`, `access-key`, `AccountKey`. */
const KEY_QUALIFIERS = new Set(['api', 'access', 'secret', 'private', 'auth', 'signing', 'encryption', 'account', 'client', 'master', 'shared', 'storage', 'ssh', 'gpg', 'license']);

/** The words of a name: `db_password`, `api.token`, `apiKey`, `--api-key`, `GH_PAT`. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether a flag, param, config key or environment variable is named as a secret. */
export function isSecretName(name: string): boolean {
  const words = nameWords(name);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (SECRET_WORDS.has(word)) return true;
    if (word === 'token' && (words.length === 1 || (i > 0 && TOKEN_QUALIFIERS.has(words[i - 1]!) && i === words.length - 1))) return true;
    if ((word === 'key' || word === 'keys') && i > 0 && KEY_QUALIFIERS.has(words[i - 1]!)) return true;
    if (word === 'connection' && words[i + 1] === 'string') return true;
  }
  // Run-together names: APIKEY, SECRETKEY, MYTOKEN.
  return /password|passwd|secret|apikey|accesskey|privatekey|credential|authtoken|accesstoken/i.test(name.replace(/[^a-z]/gi, ''));
}

/**
 * Provider token formats. Each is specific enough that an ordinary value
 * (a path, a git sha, a number, a model name) cannot match it.
 */
const TOKEN_SHAPES: RegExp[] = [
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, // GitHub
  /\bgithub_pat_[A-Za-z0-9_]{40,}\b/g,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/g, // GitLab
  /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, // AWS access key id
  /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g, // Slack
  /\bsk-(?:ant-|proj-|svcacct-)?[A-Za-z0-9_-]{20,}\b/g, // OpenAI, Anthropic
  /\bhf_[A-Za-z0-9]{30,}\b/g, // Hugging Face
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google API key
  /\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}\b/g, // Stripe
  /\bnpm_[A-Za-z0-9]{36}\b/g, // npm
  /\bpypi-[A-Za-z0-9_-]{50,}\b/g, // PyPI
  /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b/g, // SendGrid
  /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, // JWT
  /-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
];

/** `name=value` pairs inside a value: connection strings, query strings, `--opt password=…`. */
const SECRET_ASSIGNMENT = /([A-Za-z][A-Za-z0-9_.-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s;&,]+)/g;

/** A value with every secret it carries replaced by `<redacted>`. */
export function redactValue(value: string): string {
  if (value.length < 8) return value;
  let text = stripUrlCredentials(value);
  for (const shape of TOKEN_SHAPES) text = text.replace(shape, REDACTED);
  if (/[=:]/.test(text)) {
    text = text.replace(SECRET_ASSIGNMENT, (whole, name: string, sep: string, v: string) =>
      isSecretName(name) && v !== REDACTED && !/^https?$/i.test(name) ? `${name}${sep}${REDACTED}` : whole,
    );
  }
  return text;
}

/**
 * What every token shape and secret assignment above starts with or contains: a line without any of
 * these holds no secret redactValue would find, so output lines skip the full scan.
 */
const MAYBE_SECRET = /gh[pousr]_|github_pat_|glpat-|A[KSGIRNP][IS]A|xox[abposr]-|sk-|hf_|AIza|_(?:live|test)_|npm_|pypi-|SG\.|eyJ|-----BEGIN|:\/\/[^\s/]*@|pass|secret|token|key|auth|cred|sig|cookie|bearer|pat\b/i;

/** A line of a command's output as it may be kept: token-shaped values and secret assignments redacted. */
export function redactOutputLine(line: string): string {
  return MAYBE_SECRET.test(line) ? redactValue(line) : line;
}

/** Whether a text (a file's content, say) holds anything shaped like a provider token or a private key. */
export function holdsTokenShape(text: string): boolean {
  return TOKEN_SHAPES.some((shape) => {
    shape.lastIndex = 0;
    return shape.test(text);
  });
}

/** Params with secret-named keys and secret-shaped text values redacted. */
export function redactParams<T>(params: Record<string, T>): Record<string, T | string> {
  const out: Record<string, T | string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (isSecretName(key) && value !== null && value !== undefined && value !== '') out[key] = REDACTED;
    else out[key] = typeof value === 'string' ? redactValue(value) : value;
  }
  return out;
}

/**
 * A command line as it may be recorded: `--password hunter2`,
 * `--api-key=…`, `-p …` after a secret flag, and any token-shaped argument are
 * redacted. The command itself still runs with the real arguments.
 */
export function redactArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = /^(--?[A-Za-z][\w.-]*)=(.*)$/s.exec(arg);
    if (flag && isSecretName(flag[1]!)) {
      out.push(`${flag[1]}=${REDACTED}`);
      continue;
    }
    out.push(redactValue(arg));
    const bare = /^--?([A-Za-z][\w.-]*)$/.exec(arg);
    const next = argv[i + 1];
    if (bare && isSecretName(bare[1]!) && next !== undefined && !next.startsWith('-')) {
      out.push(REDACTED);
      i++;
    }
  }
  return out;
}
