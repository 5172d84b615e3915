import { execFile } from 'node:child_process';
import * as os from 'node:os';
import type { EnvironmentInfo, PythonInfo } from '../runRecord';
import { isSecretName, REDACTED, redactValue } from '../secrets';
import { stripUrlCredentials } from '../git/remoteUrl';

/** Variable names that hold secrets by convention (DESIGN.md section 1): their values never reach disk. */
const SECRET_NAME = /TOKEN|SECRET|KEY|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|AUTH|PRIVATE|COOKIE|SESSION|SIGNATURE|CONNECTION_?STRING|(^|_)PAT$|(^|_)PAT_/i;

/** Terminal and desktop noise that says nothing about a training run. */
const NOISE_NAME = /^(LS_COLORS|TERM|TERM_.*|COLORTERM|SHLVL|OLDPWD|_|PS1|PS2|PROMPT_COMMAND|DISPLAY|WINDOWID|XAUTHORITY|SSH_.*|DBUS_.*|XDG_SESSION_.*|VSCODE_.*|GIT_ASKPASS|LESS.*|MAIL|HISTFILE|HISTSIZE)$/;

export function isSecretVariable(name: string): boolean {
  return SECRET_NAME.test(name) || isSecretName(name);
}

/** The environment worth recording, with secrets redacted by name and credentials cut out of URLs. */
export function recordableVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined || NOISE_NAME.test(name)) continue;
    out[name] = isSecretVariable(name) ? REDACTED : redactValue(value);
  }
  return out;
}

const PYTHON_PROBE = [
  'import json, platform, sys',
  'try:',
  '    from importlib import metadata',
  '    pkgs = {}',
  '    origins = {}',
  '    for d in metadata.distributions():',
  '        name = d.metadata["Name"]',
  '        if not name: continue',
  '        pkgs[name.lower()] = d.version',
  // PEP 610: a package installed from a folder or a VCS says where from; an export cannot pin it to an index.
  '        try:',
  '            direct = json.loads(d.read_text("direct_url.json") or "null")',
  '        except Exception:',
  '            direct = None',
  '        if isinstance(direct, dict) and isinstance(direct.get("url"), str):',
  '            vcs = direct.get("vcs_info") or {}',
  '            editable = (direct.get("dir_info") or {}).get("editable")',
  '            origins[name.lower()] = direct["url"] + ("@" + vcs["commit_id"] if vcs.get("commit_id") else "") + (" (editable)" if editable else "")',
  'except Exception:',
  '    pkgs, origins = {}, {}',
  'print(json.dumps({"executable": sys.executable, "version": platform.python_version(),',
  '  "implementation": platform.python_implementation(), "packages": dict(sorted(pkgs.items())), "origins": dict(sorted(origins.items()))}))',
].join('\n');

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });
}

/** Asks the interpreter that will run the command for its version and installed packages. */
export async function probePython(interpreter: string, env: NodeJS.ProcessEnv): Promise<PythonInfo> {
  const out = await run(interpreter, ['-c', PYTHON_PROBE], env, 20_000);
  const info = JSON.parse(out) as PythonInfo;
  // A VCS URL may carry a token (https://user:token@host/…): it is never written.
  if (info.origins) for (const [name, origin] of Object.entries(info.origins)) info.origins[name] = stripUrlCredentials(String(origin));
  return info;
}

async function probeGpus(notes: string[]): Promise<EnvironmentInfo['gpus']> {
  try {
    const out = await run('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader,nounits'], process.env, 10_000);
    return out
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => {
        const [name, memory, driver] = line.split(',').map((s) => s.trim());
        const memoryMiB = Number(memory);
        return { name: name ?? '', memoryMiB: Number.isFinite(memoryMiB) ? memoryMiB : null, driver: driver ?? null };
      });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    notes.push(code === 'ENOENT' ? 'no nvidia-smi: no NVIDIA GPU information' : `nvidia-smi failed: ${(err as Error).message.split('\n')[0]}`);
    return [];
  }
}

/**
 * The machine and interpreter a run used. `pythonInterpreter` is the
 * executable to ask, when the command is Python; none is probed otherwise.
 */
export async function captureEnvironment(childEnv: NodeJS.ProcessEnv, pythonInterpreter: string | null): Promise<EnvironmentInfo> {
  const notes: string[] = [];
  const pythonPromise = pythonInterpreter
    ? probePython(pythonInterpreter, childEnv).catch((err: Error) => {
        notes.push(`could not ask ${pythonInterpreter} for its version and packages: ${err.message.split('\n')[0]}`);
        return null;
      })
    : Promise.resolve(null);
  const [python, gpus] = await Promise.all([pythonPromise, probeGpus(notes)]);
  const cpus = os.cpus();
  return {
    os: { platform: os.platform(), release: os.release(), type: os.type(), arch: os.arch() },
    cpu: { model: cpus[0]?.model ?? 'unknown', cores: cpus.length },
    memoryBytes: os.totalmem(),
    node: process.version,
    python,
    gpus,
    variables: recordableVariables(childEnv),
    notes,
  };
}
