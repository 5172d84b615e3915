import { execFile } from 'node:child_process';
import { simpleGit, type SimpleGit } from 'simple-git';

/** Thrown when git itself cannot be run, as opposed to git refusing a command. */
export class GitUnavailableError extends Error {}

const GIT_MISSING = 'git is not installed or not on PATH (set RUNLENS_GIT to its path)';

/**
 * simple-git refuses to pass on variables such as EDITOR, PAGER, GIT_SSH_COMMAND
 * or GIT_CONFIG_GLOBAL once an environment is given, which would fail for most
 * people's shells. They come from the user's own environment and we run only
 * fixed commands with our own arguments, so they are passed on exactly as git
 * itself would see them.
 */
const USERS_OWN_ENVIRONMENT = {
  allowUnsafeConfigPaths: true,
  allowUnsafeConfigEnvCount: true,
  allowUnsafeEditor: true,
  allowUnsafePager: true,
  allowUnsafeAskPass: true,
  allowUnsafeSshCommand: true,
  allowUnsafeGitProxy: true,
  allowUnsafeTemplateDir: true,
  allowUnsafeDiffExternal: true,
  allowUnsafeDiffTextConv: true,
  allowUnsafeFilter: true,
  allowUnsafeCredentialHelper: true,
  allowUnsafeHooksPath: true,
  allowUnsafeFsMonitor: true,
};

function gitBinary(): string {
  return process.env.RUNLENS_GIT ?? 'git';
}

/** The git client for everything but the snapshot's hot path (see `execGit`). */
export function gitAt(dir: string): SimpleGit {
  return simpleGit({ baseDir: dir, binary: gitBinary(), maxConcurrentProcesses: 4, unsafe: USERS_OWN_ENVIRONMENT });
}

function explain(err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  if ((err as NodeJS.ErrnoException)?.code === 'ENOENT' || (/ENOENT/.test(message) && /spawn/.test(message))) {
    return new GitUnavailableError(GIT_MISSING);
  }
  return new Error(message.trim().replace(/^fatal: /, ''));
}

/** Runs a git command through simple-git, turning "git is not installed" into a message a person can act on. */
export async function runGit(git: SimpleGit, args: string[]): Promise<string> {
  try {
    return await git.raw(args);
  } catch (err) {
    throw explain(err);
  }
}

/**
 * Runs git directly, for the snapshot taken before every run. simple-git waits
 * a fixed 50 ms after any command that prints nothing (its completion plugin's
 * `deferClose`, not configurable), and capture runs several silent plumbing
 * commands (`add`, `update-ref`, `ls-files` on a tree without untracked
 * files): measured on 20k files, that made capture 2.4× raw git against a
 * budget of 1.5×. Exit status 1 with no stderr is an empty answer, as in
 * simple-git (`rev-parse -q --verify`, `config --get-regexp` finding nothing).
 */
export function execGit(dir: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(gitBinary(), args, { cwd: dir, env: env ?? process.env, maxBuffer: 1024 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if (typeof err.code === 'number' && err.code === 1 && stderr.trim() === '') return resolve(stdout);
      reject(explain(stderr.trim() ? Object.assign(new Error(stderr), { code: err.code }) : err));
    });
  });
}

/** The same for output that may not be text (a blob at a commit). */
export function execGitBuffer(dir: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(gitBinary(), args, { cwd: dir, encoding: 'buffer', maxBuffer: 2 * 1024 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const message = stderr.toString('utf8').trim();
      reject(explain(message ? Object.assign(new Error(message), { code: err.code }) : err));
    });
  });
}

/** Splits the output of a `-z` command into its NUL-terminated fields. */
export function splitNul(output: string): string[] {
  const parts = output.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Runs git with `input` on its stdin (`cat-file --batch-check`, `update-ref --stdin`). */
export function execGitInput(dir: string, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(gitBinary(), args, { cwd: dir, maxBuffer: 1024 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      reject(explain(stderr.trim() ? Object.assign(new Error(stderr), { code: err.code }) : err));
    });
    child.stdin?.on('error', () => {
      // git exited before reading all of it: its own error is what is reported
    });
    child.stdin?.end(input);
  });
}

/** The same, with bytes in and out: blobs of any content (`cat-file --batch`, `hash-object --stdin`). */
export function execGitInputBuffer(dir: string, args: string[], input: string | Uint8Array, env?: NodeJS.ProcessEnv): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(gitBinary(), args, { cwd: dir, env: env ?? process.env, encoding: 'buffer', maxBuffer: 4 * 1024 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const message = stderr.toString('utf8').trim();
      reject(explain(message ? Object.assign(new Error(message), { code: err.code }) : err));
    });
    child.stdin?.on('error', () => {
      // git exited before reading all of it: its own error is what is reported
    });
    child.stdin?.end(input);
  });
}
