import * as fs from 'node:fs';
import * as path from 'node:path';
import { excludeFromGit, locateRepository } from '../git/repository';
import { Registry } from '../registry/registry';
import { isRunId } from '../runId';
import { parseRunRecord, runDir, runsDir } from '../store';
import { readLedger, saveLedger } from './ledger';
import { PULLED_MARKER, SHARED_FILES, STDOUT_FILE } from './layout';
import { chunk, existingCommits, lsTree, objectFormatOf, readBlobs, readTrees, type TreeEntry } from './objects';
import { fetchShare, resolveRemote } from './remote';
import { changedRuns, readRemoteEvents, remoteRunTrees, type RemoteRun } from './tree';

export interface PullOptions {
  remote?: string;
  onProgress?: (message: string) => void;
}

export interface PullResult {
  remote: string;
  /** Runs brought in or brought up to date. */
  runs: { id: string; name: string; user: string; host: string }[];
  registryEvents: number;
  /** Runs of the remote that could not be taken in, and why. */
  problems: { id: string; reason: string }[];
  commit: string | null;
}

const SHAREABLE = new Set([...SHARED_FILES, STDOUT_FILE]);

/** Runs are written this many at a time: a pull of 100,000 runs never holds them all in memory. */
const RUNS_PER_BATCH = 500;

/**
 * `runlens pull`: brings in the remote's shared runs that this clone lacks
 * or holds in an older state, as read-only runs (a `pulled-from.json` in
 * their folder) with their author and host, their snapshot commits (kept
 * reachable by the tracking ref, so their code opens), and the registry's
 * events as a union. Only `refs/runlens/*` refs move; branches, the index and the work
 * tree are never touched.
 */
export async function pullRuns(cwd: string, storeDir: string, options: PullOptions = {}): Promise<PullResult> {
  const repo = await locateRepository(cwd);
  const root = repo.root;
  const [remote, format] = await Promise.all([resolveRemote(root, options.remote), objectFormatOf(root)]);
  // The store is RunLens's, not the user's: pulled runs must not show up in git status.
  excludeFromGit(repo, storeDir);
  const say = options.onProgress ?? (() => {});
  const ledger = readLedger(storeDir, remote);
  const result: PullResult = { remote, runs: [], registryEvents: 0, problems: [], commit: null };
  const remoteHead = await fetchShare(root, remote);
  result.commit = remoteHead;
  if (!remoteHead || remoteHead === ledger.pulledCommit) return result;
  // What changed since the last pull (diff-tree, which also names a new run's files), or, the first time, every run the remote holds.
  let remoteRuns: Map<string, RemoteRun> | null = null;
  if (ledger.pulledCommit) {
    try {
      remoteRuns = await changedRuns(root, ledger.pulledCommit, remoteHead);
    } catch {
      remoteRuns = null; // the commit last pulled is gone: list everything
    }
  }
  if (remoteRuns === null) {
    const ids = (await lsTree(root, remoteHead, ['runs/'], ['-r', '-d'])).map((l) => l.path.split('/')).filter((p) => p.length === 3).map((p) => p[2]!);
    remoteRuns = new Map([...(await remoteRunTrees(root, remoteHead, ids.filter(isRunId), format))].map(([id, tree]) => [id, { tree, files: null }]));
    for (const id of ids) if (!isRunId(id)) remoteRuns.set(id, { tree: '', files: null });
  }
  // Names come from the remote's trees: only what is a run id is a run here (no '..', no path).
  for (const id of remoteRuns.keys()) if (!isRunId(id)) result.problems.push({ id: id.slice(0, 60), reason: 'not a run id; left out' });
  // A run here that was not pulled is this clone's own: the remote's copy is what this clone pushed.
  const wanted = [...remoteRuns.keys()].filter((id) => {
    if (!isRunId(id)) return false;
    const dir = runDir(storeDir, id);
    return !fs.existsSync(dir) || fs.existsSync(path.join(dir, PULLED_MARKER));
  });
  say(`${wanted.length} run(s) to bring in from ${remote}`);
  fs.mkdirSync(runsDir(storeDir), { recursive: true });
  const snapshots: [string, string][] = [];
  // The registry's events are read while the runs are written (a failure is met where it is awaited).
  const remoteEvents = readRemoteEvents(root, remoteHead);
  remoteEvents.catch(() => undefined);
  // What a batch needs is read while the batch before it is written: the next `cat-file` runs beside the writes.
  const readBatch = async (batch: string[]) => {
    const files = new Map<string, { name: string; sha: string }[]>();
    const trees = new Map<string, string>();
    const unlisted = batch.map((id) => remoteRuns.get(id)!).filter((run) => run.tree && !run.files).map((run) => run.tree);
    const read = unlisted.length ? await readTrees(root, unlisted, format) : new Map<string, TreeEntry[]>();
    for (const id of batch) {
      const run = remoteRuns.get(id);
      const entries = run?.files ?? read.get(run?.tree ?? '');
      if (!run?.tree || !entries) continue;
      trees.set(id, run.tree);
      files.set(id, entries.filter((e) => e.mode === '100644' || e.mode === '100755').map((e) => ({ name: e.name, sha: e.id })));
    }
    // The first pull compares trees with what is here: an unchanged pulled run is not written again.
    const fresh = batch.filter((id) => trees.has(id) && markerTree(storeDir, id) !== trees.get(id));
    const blobs = await readBlobs(root, fresh.flatMap((id) => (files.get(id) ?? []).map((x) => x.sha)));
    return { fresh, trees, files, blobs };
  };
  const batches = chunk(wanted, RUNS_PER_BATCH);
  let next = batches.length ? readBatch(batches[0]!) : null;
  for (let b = 0; next; b++) {
    const { fresh, trees, files, blobs } = await next;
    next = b + 1 < batches.length ? readBatch(batches[b + 1]!) : null;
    // A failure of the read ahead is met when it is awaited, after this batch is written.
    next?.catch(() => undefined);
    for (const id of fresh) {
      const tree = trees.get(id)!;
      const entries = files.get(id) ?? [];
      const recordBlob = entries.find((e) => e.name === 'run.json');
      let record;
      try {
        if (!recordBlob) throw new Error('no run.json');
        record = parseRunRecord(blobs.get(recordBlob.sha)?.toString('utf8') ?? '', id);
      } catch (err) {
        result.problems.push({ id, reason: (err as Error).message.split('\n')[0]! });
        continue;
      }
      writePulledRun(storeDir, id, entries.map((e) => ({ name: e.name, content: blobs.get(e.sha) ?? Buffer.alloc(0) })), { remote, tree, commit: remoteHead, at: new Date().toISOString() });
      if (record.git?.snapshot) snapshots.push([id, record.git.snapshot]);
      result.runs.push({ id, name: record.name, user: record.user, host: record.host });
    }
    say(`${result.runs.length} of ${wanted.length} run(s) in`);
  }
  // The snapshots came with the share commit and stay reachable from the tracking ref (the share
  // history only grows), so a pulled run needs no ref of its own: 100,000 pulled runs would otherwise
  // be 100,000 refs in the clone. Said when one did not come.
  const present = await existingCommits(root, snapshots.map(([, sha]) => sha));
  for (const [id, sha] of snapshots) if (!present.has(sha)) result.problems.push({ id, reason: `its snapshot ${sha.slice(0, 12)} did not come with the share commit; its code cannot be opened here` });
  const { events } = await remoteEvents;
  result.registryEvents = new Registry(storeDir).merge(events);
  ledger.pulledCommit = remoteHead;
  saveLedger(storeDir, remote, ledger);
  return result;
}

/**
 * A pulled run's folder, replaced whole: written beside it, then renamed in
 * its place, so a reader sees the old copy or the new one, never a mix.
 */
function writePulledRun(storeDir: string, id: string, files: { name: string; content: Buffer }[], marker: Record<string, string>): void {
  const dir = runDir(storeDir, id);
  const staging = path.join(runsDir(storeDir), `.pull-${id}-${process.pid}`);
  // Left by a pull of the same pid that was stopped: only then is there anything to clear (a stat per run saved).
  try {
    fs.mkdirSync(staging);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging);
  }
  for (const { name, content } of files) {
    // Only the files a push sends: a remote cannot put anything else into a run folder.
    if (!SHAREABLE.has(name)) continue;
    fs.writeFileSync(path.join(staging, name), content);
  }
  fs.writeFileSync(path.join(staging, PULLED_MARKER), JSON.stringify(marker, null, 2) + '\n');
  // A new run's folder is renamed into place; a rename onto a run already here fails, and that copy is replaced.
  try {
    fs.renameSync(staging, dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
  const old = path.join(runsDir(storeDir), `.replaced-${id}-${process.pid}`);
  fs.renameSync(dir, old);
  fs.renameSync(staging, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** The remote a teammate's run was pulled from, or null for a run of this clone. */
export function pulledFrom(storeDir: string, id: string): string | null {
  try {
    const marker = JSON.parse(fs.readFileSync(path.join(runDir(storeDir, id), PULLED_MARKER), 'utf8')) as { remote?: unknown };
    return typeof marker.remote === 'string' ? marker.remote : 'a remote';
  } catch {
    return null;
  }
}

function markerTree(storeDir: string, id: string): string | null {
  try {
    const marker = JSON.parse(fs.readFileSync(path.join(runDir(storeDir, id), PULLED_MARKER), 'utf8')) as { tree?: unknown };
    return typeof marker.tree === 'string' ? marker.tree : null;
  } catch {
    return null;
  }
}
