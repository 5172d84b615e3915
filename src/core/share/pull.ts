import * as fs from 'node:fs';
import * as path from 'node:path';
import { execGit, splitNul } from '../git/gitClient';
import { excludeFromGit, locateRepository } from '../git/repository';
import { Registry } from '../registry/registry';
import { isRunId } from '../runId';
import { parseRunRecord, runDir, runsDir } from '../store';
import { readLedger, saveLedger } from './ledger';
import { PULLED_MARKER, SHARED_FILES, STDOUT_FILE } from './layout';
import { chunk, existingCommits, lsTree, objectFormatOf, readBlobs, readTrees } from './objects';
import { fetchShare, resolveRemote } from './remote';
import { readRemoteEvents, remoteRunTrees } from './tree';

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
  // What changed since the last pull (diff-tree), or, the first time, every run the remote holds.
  let ids: string[] | null = null;
  if (ledger.pulledCommit) {
    try {
      const diff = await execGit(root, ['diff-tree', '-r', '-z', '--name-only', '--no-commit-id', ledger.pulledCommit, remoteHead, '--', 'runs/']);
      ids = [...new Set(splitNul(diff).map((p) => p.split('/')[2]).filter((id): id is string => Boolean(id)))];
    } catch {
      ids = null; // the commit last pulled is gone: list everything
    }
  }
  if (ids === null) ids = (await lsTree(root, remoteHead, ['runs/'], ['-r', '-d'])).map((l) => l.path.split('/')).filter((p) => p.length === 3).map((p) => p[2]!);
  // Names come from the remote's trees: only what is a run id is a run here (no '..', no path).
  for (const id of ids) if (!isRunId(id)) result.problems.push({ id: id.slice(0, 60), reason: 'not a run id; left out' });
  ids = ids.filter(isRunId);
  // A run here that was not pulled is this clone's own: the remote's copy is what this clone pushed.
  const wanted = ids.filter((id) => {
    const dir = runDir(storeDir, id);
    return !fs.existsSync(dir) || fs.existsSync(path.join(dir, PULLED_MARKER));
  });
  say(`${wanted.length} run(s) to bring in from ${remote}`);
  fs.mkdirSync(runsDir(storeDir), { recursive: true });
  const snapshots: [string, string][] = [];
  const runTrees = await remoteRunTrees(root, remoteHead, wanted, format);
  for (const batch of chunk(wanted, RUNS_PER_BATCH)) {
    const files = new Map<string, { name: string; sha: string }[]>();
    const trees = new Map<string, string>();
    const read = await readTrees(root, batch.map((id) => runTrees.get(id)).filter((t): t is string => Boolean(t)), format);
    for (const id of batch) {
      const tree = read.get(runTrees.get(id) ?? '');
      if (!tree?.id) continue;
      trees.set(id, tree.id);
      files.set(id, tree.filter((e) => e.mode === '100644' || e.mode === '100755').map((e) => ({ name: e.name, sha: e.id })));
    }
    // The first pull compares trees with what is here: an unchanged pulled run is not written again.
    const fresh = batch.filter((id) => trees.has(id) && markerTree(storeDir, id) !== trees.get(id));
    const blobs = await readBlobs(root, fresh.flatMap((id) => (files.get(id) ?? []).map((x) => x.sha)));
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
  const { events } = await readRemoteEvents(root, remoteHead);
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
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging);
  for (const { name, content } of files) {
    // Only the files a push sends: a remote cannot put anything else into a run folder.
    if (!SHAREABLE.has(name)) continue;
    fs.writeFileSync(path.join(staging, name), content);
  }
  fs.writeFileSync(path.join(staging, PULLED_MARKER), JSON.stringify(marker, null, 2) + '\n');
  if (fs.existsSync(dir)) {
    const old = path.join(runsDir(storeDir), `.replaced-${id}-${process.pid}`);
    fs.renameSync(dir, old);
    fs.renameSync(staging, dir);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.renameSync(staging, dir);
  }
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
