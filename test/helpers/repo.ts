import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The project's root: the nearest folder above this bundle with the project's package.json (tests and `npm run faults` live at different depths). */
export const PROJECT_ROOT = ((): string => {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src', 'cli', 'main.ts'))) return dir;
  }
  return path.resolve(__dirname, '..', '..', '..');
})();
export const CLI = path.join(PROJECT_ROOT, 'dist', 'cli.js');

/** Environment for git and the CLI in tests: no user config, a fixed identity. */
export const TEST_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  RUNLENS_DIR: '',
};
delete TEST_ENV.RUNLENS_DIR;
for (const key of Object.keys(TEST_ENV)) if (key.startsWith('RUNLENS_')) delete TEST_ENV[key];
Object.assign(process.env, { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' });

export function tempDir(prefix = 'runlens-test-'): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: TEST_ENV, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

export function gitBuffer(cwd: string, ...args: string[]): Buffer {
  return execFileSync('git', args, { cwd, env: TEST_ENV, maxBuffer: 256 * 1024 * 1024 });
}

export function write(root: string, rel: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), content);
}

/** A real repository with one commit holding `files`. */
export function makeRepo(files: Record<string, string> = { 'train.py': 'print("hi")\n', 'README.md': '# demo\n' }): string {
  const dir = tempDir('runlens-repo-');
  git(dir, 'init', '-q', '-b', 'main');
  for (const [rel, content] of Object.entries(files)) write(dir, rel, content);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...TEST_ENV, ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

export function startCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd, env: { ...TEST_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function runIds(repo: string, store = path.join(repo, '.runlens')): string[] {
  const dir = path.join(store, 'runs');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

export function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Every file's bytes below a folder, for "nothing else changed" checks. */
export function treeBytes(root: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (skip(child)) continue;
      if (entry.isDirectory()) walk(child);
      else out.set(child, fs.readFileSync(path.join(root, child)).toString('base64'));
    }
  };
  walk('');
  return out;
}

export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}
