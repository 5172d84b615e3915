import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execGit } from '../git/gitClient';
import { locateRepository } from '../git/repository';
import { userAtHost } from '../identity';
import { materializeImportedSeries } from '../import/importRuns';
import { Registry } from '../registry/registry';
import { eventLines, unionEvents } from '../registry/merge';
import type { RunRecord } from '../runRecord';
import { parseRunRecord, runDir, runsDir } from '../store';
import { readLedger, saveLedger, updateRemoteRuns } from './ledger';
import { DEFAULT_PRIVATE_TAGS, PULLED_MARKER, SHARED_FILES, SNAPSHOTS_PER_CARRIER, STDOUT_FILE, STDOUT_TAIL_BYTES, trackingRef } from './layout';
import { existingCommits, objectFormatOf, SHARE_IDENTITY, writeBlobs, writeCarriers, writeTrees } from './objects';
import { buildTree, readRemoteEvents } from './tree';
import { fetchShare, pushShare, resolveRemote, ShareError } from './remote';

export interface PushOptions {
  remote?: string;
  dryRun?: boolean;
  /** Tags that keep a run local, besides `private`. */
  privateTags?: string[];
  onProgress?: (message: string) => void;
  /** Attempts when another push lands first (each fetches and builds again). */
  attempts?: number;
}

export interface PushResult {
  remote: string;
  /** Runs sent (or, with dryRun, that would be). */
  runs: { id: string; name: string }[];
  /** Runs kept local, and why. */
  kept: { id: string; name: string; reason: string }[];
  registryEvents: number;
  commit: string | null;
  attempts: number;
}

/** A run folder's shared files as they are now: when unchanged since the last push, nothing of it is read. */
function signatureOf(dir: string): string {
  const parts: string[] = [];
  for (const name of [...SHARED_FILES, STDOUT_FILE]) {
    try {
      const stat = fs.statSync(path.join(dir, name));
      parts.push(`${name}:${stat.size}:${stat.mtimeMs}`);
    } catch {
      // absent
    }
  }
  return parts.join('|');
}

interface Candidate {
  record: RunRecord;
  dir: string;
  signature: string;
}

/**
 * `runlens push`: sends the runs recorded or imported here that the remote
 * lacks (or holds in an older state), with their snapshots, and the
 * registry's events, as one new share commit on top of the remote's. When
 * someone else pushed first, it fetches, builds on theirs and tries again:
 * runs merge as a union by id, registry events by event id. Only
 * `refs/runlens/*` refs move, here and on the remote.
 */
export async function pushRuns(cwd: string, storeDir: string, options: PushOptions = {}): Promise<PushResult> {
  const repo = await locateRepository(cwd);
  const root = repo.root;
  const remote = await resolveRemote(root, options.remote);
  const say = options.onProgress ?? (() => {});
  const privateTags = new Set([...DEFAULT_PRIVATE_TAGS, ...(options.privateTags ?? [])]);
  const ledger = readLedger(storeDir, remote);
  const result: PushResult = { remote, runs: [], kept: [], registryEvents: 0, commit: null, attempts: 0 };

  // Which runs changed since they were last pushed: a stat of their files, and run.json read only for those.
  const candidates: Candidate[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(runsDir(storeDir)).filter((n) => !n.startsWith('.'));
  } catch {
    // no runs
  }
  for (const id of names) {
    const dir = runDir(storeDir, id);
    if (fs.existsSync(path.join(dir, PULLED_MARKER))) continue;
    const signature = signatureOf(dir);
    if (!signature.includes('run.json:')) continue;
    if (ledger.pushed[id] === signature && ledger.remoteRuns[id]) continue;
    let record: RunRecord;
    try {
      record = parseRunRecord(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), id);
    } catch (err) {
      result.kept.push({ id, name: id, reason: `run.json cannot be read: ${(err as Error).message.split('\n')[0]}` });
      continue;
    }
    const privateTag = record.tags.find((t) => privateTags.has(t));
    if (privateTag) result.kept.push({ id, name: record.name, reason: `tagged ${privateTag}` });
    else if (record.status === 'running') result.kept.push({ id, name: record.name, reason: 'still running; it goes once it has ended' });
    else candidates.push({ record, dir, signature });
  }
  say(`${candidates.length} run(s) changed since the last push to ${remote}`);

  // An imported run's metrics are read from its source on demand: they are written into the run before they travel.
  const imported = candidates.filter((c) => c.record.source && !fs.existsSync(path.join(c.dir, 'metrics.jsonl'))).map((c) => c.record.id);
  for (const problem of await materializeImportedSeries(storeDir, imported)) result.kept.push({ id: problem.id, name: problem.id, reason: problem.problem });

  const objectFormat = await objectFormatOf(root);
  const runTrees = await writeRunTrees(root, candidates);
  const registry = new Registry(storeDir);
  const localEvents = registry.read().events;

  for (let attempt = 1; attempt <= (options.attempts ?? 10); attempt++) {
    result.attempts = attempt;
    const remoteHead = await fetchShare(root, remote);
    await updateRemoteRuns(root, ledger, remoteHead);
    const toSend = candidates.filter((c) => runTrees.get(c.record.id) !== ledger.remoteRuns[c.record.id]);
    const remoteEvents = remoteHead ? await readRemoteEvents(root, remoteHead) : { events: [], blob: null };
    const events = unionEvents(remoteEvents.events, localEvents);
    const newEvents = events.length - unionEvents(remoteEvents.events, []).length;
    result.runs = toSend.map((c) => ({ id: c.record.id, name: c.record.name }));
    result.registryEvents = newEvents;
    if (options.dryRun || (toSend.length === 0 && newEvents === 0)) {
      if (!options.dryRun) {
        for (const c of candidates) ledger.pushed[c.record.id] = c.signature;
        saveLedger(storeDir, remote, ledger);
      }
      result.commit = remoteHead;
      return result;
    }
    say(`sending ${toSend.length} run(s) and ${newEvents} registry event(s) to ${remote}`);
    const tree = await buildTree(root, remoteHead, toSend.map((c) => [c.record.id, runTrees.get(c.record.id)!]), newEvents > 0 ? eventLines(events) : null);
    const snapshots = [...new Set(toSend.map((c) => c.record.git?.snapshot).filter((s): s is string => Boolean(s)))];
    const present = [...(await existingCommits(root, snapshots))];
    const now = Date.now();
    const carrier = await writeCarriers(root, present, SNAPSHOTS_PER_CARRIER, objectFormat, now);
    const parents = [remoteHead, carrier].filter((p): p is string => Boolean(p));
    const message = `runlens: ${toSend.length} run(s), ${newEvents} registry event(s) from ${userAtHost()}`;
    const commit = (await execGit(root, ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-m', message], { ...process.env, ...SHARE_IDENTITY })).trim();
    if (await pushShare(root, remote, commit, remoteHead)) {
      await execGit(root, ['update-ref', trackingRef(remote), commit]);
      for (const c of toSend) ledger.remoteRuns[c.record.id] = runTrees.get(c.record.id)!;
      ledger.remoteCommit = commit;
      for (const c of candidates) ledger.pushed[c.record.id] = c.signature;
      saveLedger(storeDir, remote, ledger);
      result.commit = commit;
      return result;
    }
    say(`someone pushed to ${remote} first; fetching and trying again (${attempt})`);
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 250 * attempt));
  }
  throw new ShareError(`${remote} kept moving: ${options.attempts ?? 10} pushes in a row were overtaken; try again`);
}

/** Each candidate's run tree: its shared files as blobs, the output log as its tail. */
async function writeRunTrees(root: string, candidates: Candidate[]): Promise<Map<string, string>> {
  const files: string[] = [];
  const owners: { id: string; name: string }[] = [];
  const tails = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-share-'));
  try {
    for (const { record, dir } of candidates) {
      for (const name of SHARED_FILES) {
        const file = path.join(dir, name);
        if (!fs.existsSync(file)) continue;
        files.push(file);
        owners.push({ id: record.id, name });
      }
      const log = path.join(dir, STDOUT_FILE);
      if (fs.existsSync(log)) {
        files.push(tailOf(log, path.join(tails, record.id)));
        owners.push({ id: record.id, name: STDOUT_FILE });
      }
    }
    const shas = await writeBlobs(root, files);
    const byRun = new Map<string, Map<string, string>>();
    owners.forEach(({ id, name }, i) => {
      if (!byRun.has(id)) byRun.set(id, new Map());
      byRun.get(id)!.set(name, `100644 blob ${shas[i]}`);
    });
    const ids = [...byRun.keys()];
    const trees = await writeTrees(root, ids.map((id) => byRun.get(id)!));
    return new Map(ids.map((id, i) => [id, trees[i]!]));
  } finally {
    fs.rmSync(tails, { recursive: true, force: true });
  }
}

/** The file itself when small; else its last STDOUT_TAIL_BYTES from a line start, written to `to`. */
function tailOf(file: string, to: string): string {
  const size = fs.statSync(file).size;
  if (size <= STDOUT_TAIL_BYTES) return file;
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(STDOUT_TAIL_BYTES);
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    const from = buf.indexOf(10) + 1;
    fs.writeFileSync(to, Buffer.concat([Buffer.from(`[runlens: the first ${size - buf.length + from} bytes of this log stayed local]\n`), buf.subarray(from)]));
    return to;
  } finally {
    fs.closeSync(fd);
  }
}

