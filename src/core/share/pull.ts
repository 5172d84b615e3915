import * as fs from 'node:fs';
import * as path from 'node:path';
import { execGitInput } from '../git/gitClient';
import { excludeFromGit, locateRepository } from '../git/repository';
import { snapshotRef } from '../git/snapshot';
import { Registry } from '../registry/registry';
import { parseRunRecord, runDir, runsDir } from '../store';
import { readLedger, saveLedger, updateRemoteRuns } from './ledger';
import { PULLED_MARKER, runTreePath } from './layout';
import { chunk, existingCommits, lsTree, readBlobs } from './objects';
import { fetchShare, resolveRemote } from './remote';
import { readRemoteEvents } from './tree';

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

/** Runs are written this many at a time: a pull of 100,000 runs never holds them all in memory. */
const RUNS_PER_BATCH = 200;

/**
 * `runlens pull`: brings in the remote's shared runs that this clone lacks
 * or holds in an older state, as read-only runs (a `pulled-from.json` in
 * their folder) with their author and host, their snapshot commits under
 * refs/runlens/runs/<id> so their code opens, and the registry's events as
 * a union. Only `refs/runlens/*` refs move; branches, the index and the work
 * tree are never touched.
 */
export async function pullRuns(cwd: string, storeDir: string, options: PullOptions = {}): Promise<PullResult> {
  const repo = await locateRepository(cwd);
  const root = repo.root;
  const remote = await resolveRemote(root, options.remote);
  // The store is RunLens's, not the user's: pulled runs must not show up in git status.
  excludeFromGit(repo, storeDir);
  const say = options.onProgress ?? (() => {});
  const ledger = readLedger(storeDir, remote);
  const result: PullResult = { remote, runs: [], registryEvents: 0, problems: [], commit: null };
  const remoteHead = await fetchShare(root, remote);
  result.commit = remoteHead;
  if (!remoteHead || remoteHead === ledger.pulledCommit) return result;
  await updateRemoteRuns(root, ledger, remoteHead);

  // A run here that was not pulled is this clone's own: the remote's copy is what this clone pushed.
  const wanted = Object.entries(ledger.remoteRuns).filter(([id, tree]) => {
    if (ledger.pulled[id] === tree) return false;
    const dir = runDir(storeDir, id);
    return !fs.existsSync(dir) || fs.existsSync(path.join(dir, PULLED_MARKER));
  });
  say(`${wanted.length} run(s) to bring in from ${remote}`);
  fs.mkdirSync(runsDir(storeDir), { recursive: true });
  const snapshots: [string, string][] = [];
  for (const batch of chunk(wanted, RUNS_PER_BATCH)) {
    const files = new Map<string, { name: string; sha: string }[]>();
    for (const line of await lsTree(root, remoteHead, batch.map(([id]) => `${runTreePath(id)}/`))) {
      const [, , id, name] = line.path.split('/');
      if (!id || !name || line.type !== 'blob') continue;
      if (!files.has(id)) files.set(id, []);
      files.get(id)!.push({ name, sha: line.sha });
    }
    const blobs = await readBlobs(root, [...files.values()].flatMap((f) => f.map((x) => x.sha)));
    for (const [id, tree] of batch) {
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
      ledger.pulled[id] = tree;
      if (record.git?.snapshot) snapshots.push([id, record.git.snapshot]);
      result.runs.push({ id, name: record.name, user: record.user, host: record.host });
    }
    say(`${result.runs.length} of ${wanted.length} run(s) in`);
  }
  // The snapshots came with the share commit: a ref each here makes them a run's code like any other.
  const present = await existingCommits(root, snapshots.map(([, sha]) => sha));
  const updates = snapshots.filter(([, sha]) => present.has(sha)).map(([id, sha]) => `update ${snapshotRef(id)} ${sha}\n`);
  if (updates.length) await execGitInput(root, ['update-ref', '--stdin'], updates.join(''));
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
    if (name.includes('/') || name.startsWith('.') || name === PULLED_MARKER) continue;
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
