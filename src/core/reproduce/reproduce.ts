import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HashCache, hashPath } from '../dataHash';
import { pulledFrom } from '../share/pull';
import { execGit } from '../git/gitClient';
import type { ParamValue } from '../params';
import { RunRecorder } from '../record/recorder';
import type { HashedPath, RunRecord } from '../runRecord';
import { REDACTED } from '../secrets';
import { readRunRecord } from '../store';
import { buildReport, DEFAULT_TOLERANCE, pathInRepo, writeReport, type ReproductionReport, type Tolerance } from './report';

/** A reproduction that cannot start, and why; nothing was changed. */
export class ReproductionRefused extends Error {}

export interface ReproduceOptions {
  storeDir: string;
  runId: string;
  /** Put the worktree here and keep it; otherwise a temporary folder, removed unless `keep`. */
  into?: string;
  keep?: boolean;
  /** Stop when declared data no longer matches its recorded hash (otherwise a warning). */
  strict?: boolean;
  tolerance?: Tolerance;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  pythonHelperDir?: string;
  /** Progress and warnings, one line each. */
  say?: (text: string) => void;
  onStarted?: (record: RunRecord, dir: string) => void;
  /** Ends the reproduction early: the command is sent SIGTERM, the run ends killed, the worktree is still removed. */
  signal?: AbortSignal;
}

export interface ReproduceResult {
  original: RunRecord;
  record: RunRecord;
  report: ReproductionReport;
  exitCode: number;
  /** The worktree, when it was kept. */
  worktree: string | null;
}

interface DataSource {
  declared: HashedPath;
  /** Where the reproduction finds it: in the snapshot's checkout, or linked from where the original read it. */
  from: 'snapshot' | 'workspace' | 'absolute';
  source: string;
}

async function gitOk(root: string, args: string[]): Promise<boolean> {
  return execGit(root, args).then(
    (out) => out.trim() !== '',
    () => false,
  );
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Everything that must hold before anything is created, checked first so that a refusal changes nothing. */
async function plan(options: ReproduceOptions): Promise<{ original: RunRecord; repoRoot: string; data: DataSource[] }> {
  let original: RunRecord;
  try {
    // A run whose recorder died reads as crashed, not as running forever.
    original = readRunRecord(options.storeDir, options.runId);
  } catch (err) {
    throw new ReproductionRefused(`run ${options.runId} cannot be read: ${(err as Error).message}`);
  }
  const label = `run ${original.id} "${original.name}"`;
  if (original.status === 'running') throw new ReproductionRefused(`${label} is still running; reproduce it once it has ended`);
  // Secrets given on the command line were never recorded: re-running with "<redacted>" in their place would not be this run.
  const redacted = original.command.filter((arg) => arg.includes(REDACTED));
  if (redacted.length > 0) {
    throw new ReproductionRefused(
      `${label} was given secrets on its command line (${redacted.join(' ')}), which are never recorded; pass them through the environment (read with os.environ) and record a new run to make it reproducible`,
    );
  }
  if (!original.git) {
    throw new ReproductionRefused(`${label} was recorded outside a git repository${original.gitError ? ` (${original.gitError})` : ''}: there is no code snapshot to reproduce it from`);
  }
  const git = original.git;
  // A teammate's run (runlens pull) names their clone's folder and ref: its snapshot is here without a
  // ref of its own, reachable from the share tracking ref, and this clone is where it is reproduced.
  const pulled = pulledFrom(options.storeDir, original.id) !== null;
  const repoRoot = !pulled && fs.existsSync(git.root) ? git.root : path.dirname(options.storeDir);
  if (pulled && !(await gitOk(repoRoot, ['rev-parse', '-q', '--verify', `${git.snapshot}^{commit}`]))) {
    throw new ReproductionRefused(`the snapshot of ${label} (${git.snapshot.slice(0, 12)}) did not come with it: pull again from the remote it was shared through`);
  }
  if (!pulled && !(await gitOk(repoRoot, ['rev-parse', '-q', '--verify', `${git.ref}^{commit}`]))) {
    const objectLeft = await gitOk(repoRoot, ['rev-parse', '-q', '--verify', `${git.snapshot}^{commit}`]);
    throw new ReproductionRefused(
      `the snapshot of ${label} is gone: ${git.ref} no longer exists` +
        (objectLeft ? ` (its commit ${git.snapshot.slice(0, 12)} is still in the repository; \`git update-ref ${git.ref} ${git.snapshot}\` brings it back)` : ''),
    );
  }
  if (options.into) {
    const into = path.resolve(options.into);
    if (isInside(into, repoRoot)) throw new ReproductionRefused(`--in ${options.into} is inside the repository's working tree; choose a folder outside ${repoRoot}`);
    if (fs.existsSync(into) && fs.readdirSync(into).length > 0) throw new ReproductionRefused(`--in ${options.into} is not empty`);
  }
  const originalCwd = path.join(repoRoot, original.cwdInRepo ?? '');
  const data: DataSource[] = [];
  for (const declared of original.data) {
    if (path.isAbsolute(declared.path)) {
      if (!fs.existsSync(declared.path)) throw new ReproductionRefused(`data ${declared.path} of ${label} no longer exists`);
      data.push({ declared, from: 'absolute', source: declared.path });
      continue;
    }
    const inRepo = pathInRepo(original.cwdInRepo, declared.path);
    if (await gitOk(repoRoot, ['cat-file', '-t', `${git.snapshot}:${inRepo}`])) {
      data.push({ declared, from: 'snapshot', source: inRepo });
      continue;
    }
    const source = path.resolve(originalCwd, declared.path);
    if (!fs.existsSync(source)) throw new ReproductionRefused(`data ${declared.path} of ${label} no longer exists (not at ${source}, nor in the snapshot)`);
    data.push({ declared, from: 'workspace', source });
  }
  return { original, repoRoot, data };
}

/** What a re-run needs besides the run: where it is recorded, how it is stopped and what it prints. */
export type RerunOptions = Pick<ReproduceOptions, 'storeDir' | 'env' | 'stdout' | 'stderr' | 'pythonHelperDir' | 'onStarted' | 'signal' | 'tolerance'>;

/**
 * Runs the original's command again from `cwd` through the recorder, as its
 * reproduction (the recorded seed offered as RUNLENS_SEED, `--param` params
 * given again), and writes the report of what differs. Shared by reproduce
 * from a snapshot and from an export.
 */
export async function rerunAndReport(original: RunRecord, cwd: string, repoRoot: string, name: string, data: string[], options: RerunOptions): Promise<{ record: RunRecord; exitCode: number; report: ReproductionReport }> {
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), RUNLENS_REPRODUCES: original.id };
  if (original.seed) env.RUNLENS_SEED = String(original.seed.value);
  // Params given with --param are not in the command line; the rest (argv, config files, the script's own) come back by themselves.
  const cliParams = Object.entries(original.params).filter(([k]) => original.paramSources[k] === 'cli') as [string, ParamValue][];
  const recorder = new RunRecorder({
    command: original.command,
    cwd,
    name,
    params: cliParams,
    configFiles: original.configFiles.map((c) => c.path),
    data,
    artifacts: original.artifacts.map((a) => a.path),
    tags: original.tags,
    env,
    storeDir: options.storeDir,
    stdout: options.stdout,
    stderr: options.stderr,
    stdin: 'ignore',
    pythonHelperDir: options.pythonHelperDir,
    reproduces: original.id,
    onStarted: options.onStarted,
  });
  const stop = () => recorder.interrupt('SIGTERM', true);
  options.signal?.addEventListener('abort', stop);
  if (options.signal?.aborted) stop();
  const { record, exitCode } = await recorder.run().finally(() => options.signal?.removeEventListener('abort', stop));
  const report = await buildReport(options.storeDir, repoRoot, original, record, options.tolerance ?? DEFAULT_TOLERANCE);
  writeReport(options.storeDir, report);
  return { record, exitCode, report };
}

/**
 * Re-runs a recorded run from its snapshot (DESIGN.md: reproduce): a git
 * worktree at the snapshot commit, outside the user's working tree, the
 * declared data checked against its recorded hashes, then the same command
 * from the same relative folder through the recorder, with the recorded seed
 * offered as RUNLENS_SEED. The user's working tree, index and branches are
 * not touched. Ends with a report of what differs, kept beside the new run.
 */
export async function reproduceRun(options: ReproduceOptions): Promise<ReproduceResult> {
  const say = options.say ?? (() => {});
  const { original, repoRoot, data } = await plan(options);
  const git = original.git!;
  const keep = Boolean(options.into || options.keep);
  const worktree = options.into ? path.resolve(options.into) : fs.mkdtempSync(path.join(os.tmpdir(), `runlens-reproduce-${original.id.slice(-6)}-`));
  fs.mkdirSync(worktree, { recursive: true });

  let removeWorktree = !keep;
  try {
    await execGit(repoRoot, ['worktree', 'add', '--detach', worktree, git.snapshot]);
    say(`checked out the snapshot ${git.snapshot.slice(0, 12)} of "${original.name}" in ${worktree}`);
    const cwd = path.join(worktree, original.cwdInRepo ?? '');
    const cache = new HashCache(path.join(options.storeDir, 'cache', 'hashes.json'));
    const drift: string[] = [];
    for (const d of data) {
      if (d.from === 'workspace') {
        // Data outside the snapshot is used where the original read it, through a link at the same relative place.
        const target = path.resolve(cwd, d.declared.path);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.symlinkSync(d.source, target);
      }
      const now = hashPath(d.declared.path, cwd, cache);
      if (now.sha256 !== d.declared.sha256) drift.push(`data ${d.declared.path} changed since the run: recorded ${d.declared.sha256?.slice(0, 12) ?? 'none'}, now ${now.sha256?.slice(0, 12) ?? 'none'}`);
    }
    cache.save();
    if (drift.length > 0 && options.strict) {
      removeWorktree = true;
      throw new ReproductionRefused(`${drift.join('\n')}\n--strict stops here; without it the run would go ahead and the report would name the data`);
    }
    for (const line of drift) say(`warning: ${line}`);

    const { record, exitCode, report } = await rerunAndReport(original, cwd, repoRoot, `${original.name} (reproduction)`, original.data.map((d) => d.path), options);
    return { original, record, report, exitCode, worktree: keep ? worktree : null };
  } finally {
    if (removeWorktree) {
      await execGit(repoRoot, ['worktree', 'remove', '--force', worktree]).catch(() => undefined);
      fs.rmSync(worktree, { recursive: true, force: true });
      await execGit(repoRoot, ['worktree', 'prune']).catch(() => undefined);
    }
  }
}
