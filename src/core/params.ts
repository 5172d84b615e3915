import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseToml } from './toml';
import { parse as parseYaml } from 'yaml';

export type ParamValue = string | number | boolean | null;

/** Flattens nested objects into `a.b.c` keys; arrays keep their index (`layers.0`). */
export function flattenParams(value: unknown, prefix = '', out: Record<string, ParamValue> = {}): Record<string, ParamValue> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    if (entries.length === 0 && prefix) out[prefix] = Array.isArray(value) ? '[]' : '{}';
    for (const [key, child] of entries) flattenParams(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out[prefix] = toParamValue(value);
  }
  return out;
}

function toParamValue(value: unknown): ParamValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** `--param lr=0.01` → `['lr', 0.01]`: numbers, booleans and null are typed, the rest stays text. */
export function parseParamAssignment(assignment: string): [string, ParamValue] {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new Error(`--param expects key=value, got "${assignment}"`);
  return [assignment.slice(0, eq).trim(), parseScalar(assignment.slice(eq + 1))];
}

export function parseScalar(text: string): ParamValue {
  const trimmed = text.trim();
  if (trimmed === 'true') return true;
  if (trimmed === 'false') return false;
  if (trimmed === 'null') return null;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed)) return Number(trimmed);
  return text;
}

/** A config file that cannot be used; the run does not start. */
export class ConfigError extends Error {}

/**
 * Reads a YAML, JSON or TOML config file (by extension; YAML otherwise, which
 * also reads JSON). `file` is named in messages as given; `cwd` resolves it.
 */
export function loadConfigFile(file: string, cwd = process.cwd()): Record<string, ParamValue> {
  let parsed: unknown;
  try {
    const text = fs.readFileSync(path.resolve(cwd, file), 'utf8');
    const ext = path.extname(file).toLowerCase();
    parsed = ext === '.json' ? JSON.parse(text) : ext === '.toml' ? parseToml(text) : parseYaml(text);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError(`cannot read config ${file}: ${reason}`);
  }
  if (parsed === null || typeof parsed !== 'object') throw new ConfigError(`config ${file} is not a mapping of keys to values`);
  if (nestingDepth(parsed) > MAX_CONFIG_DEPTH) throw new ConfigError(`config ${file} nests deeper than ${MAX_CONFIG_DEPTH} levels`);
  return flattenParams(parsed);
}

/** Far deeper than any real config; past it a config is refused rather than flattened key by key. */
const MAX_CONFIG_DEPTH = 64;

/** How deep objects and arrays nest in a parsed value, measured without recursion. */
function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_CONFIG_DEPTH) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Params a training script was given as flags (`train.py --lr 0.01 --amp`),
 * read the way argparse would: `--key value`, `--key=value`, bare `--flag` is true.
 */
export function paramsFromArgv(args: string[]): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const match = /^--([A-Za-z_][\w.-]*)(?:=(.*))?$/s.exec(arg);
    if (!match) continue;
    const key = match[1]!.replace(/-/g, '_');
    if (match[2] !== undefined) {
      params[key] = parseScalar(match[2]);
    } else {
      const next = args[i + 1];
      if (next !== undefined && (!next.startsWith('-') || /^-\d|^-\.\d/.test(next))) {
        params[key] = parseScalar(next);
        i++;
      } else {
        params[key] = true;
      }
    }
  }
  return params;
}

/**
 * The arguments a training script was given: `python -u train.py --lr 1` and
 * `python -m pkg.train --lr 1` give `['--lr', '1']`; `./train.sh --lr 1` too.
 */
export function scriptArguments(command: string[]): string[] {
  if (!isPythonInterpreter(command[0] ?? '')) return command.slice(1);
  for (let i = 1; i < command.length; i++) {
    const arg = command[i]!;
    if (arg === '-m') return command.slice(i + 2);
    if (arg === '-c') return [];
    if (arg === '-X' || arg === '-W') i++;
    else if (!arg.startsWith('-')) return command.slice(i + 1);
  }
  return [];
}

export function isPythonInterpreter(executable: string): boolean {
  return /^python(\d+(\.\d+)?)?$/.test(path.basename(executable));
}

/** Whether the command runs Python, so that its interpreter and packages are worth recording. */
export function isPythonCommand(command: string[]): boolean {
  return isPythonInterpreter(command[0] ?? '') || /\.py$/.test(command[0] ?? '');
}

const SEED_KEY = /(^|[._])(seed|random_seed|random_state|manual_seed)$/i;

/** The seed of a run where a param names it. */
export function findSeed(params: Record<string, unknown>, sources: Record<string, string>): { value: number | string; source: string } | null {
  for (const [key, value] of Object.entries(params)) {
    if (SEED_KEY.test(key) && (typeof value === 'number' || typeof value === 'string')) {
      return { value, source: `${sources[key] ?? 'param'}:${key}` };
    }
  }
  return null;
}
