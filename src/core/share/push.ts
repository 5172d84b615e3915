import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execGit } from '../git/gitClient';
import { locateRepository } from '../git/repository';
import { userAtHost } from '../identity';
import { Registry } from '../registry/registry';
import { eventLines, unionEvents } from '../registry/merge';
import type { RunRecord } from '../runRecord';
import { parseRunRecord, runDir, runsDir } from '../store';
import { readLedger, saveLedger } from './ledger';
import { DEFAULT_PRIVATE_TAGS, PULLED_MARKER, REGISTRY_DIR, REGISTRY_FILE, runTreePath, SHARED_FILES, STDOUT_FILE, STDOUT_TAIL_BYTES, trackingRef } from './layout';
import { existingCommits, fileBlobId, flatTreeId, objectFormatOf, writeShareCommit, type ObjectFormat, type ShareFile } from './objects';
import { readRemoteEvents, remoteRunTrees } from './tree';
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

/**
 * A run folder's state, cheaply: its own mtime and its run.json's. A file is added to a run folder by
 * a rename (its mtime moves) and run.json is replaced when a run ends, while the files appended in
 * place (metrics, output) grow only while the run is running, which is never pushed. Two stats per
 * run: with thousands of own runs, a stat per shared file was most of a push (bench).
 */
function signatureOf(dir: string): string {
  try {
    const folder = fs.statSync(dir);
    const record = fs.statSync(path.join(dir, 'run.json'));
    return `${folder.mtimeMs}:${record.size}:${record.mtimeMs}`;
  } catch {
    return '';
  }
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
  // git answers which remote while the run folders are looked at.
  const remoteAndFormat = Promise.all([resolveRemote(root, options.remote), objectFormatOf(root)]);
  let names: string[] = [];
  try {
    names = fs.readdirSync(runsDir(storeDir)).filter((n) => !n.startsWith('.'));
  } catch {
    // no runs
  }
  const folders = names.map((id) => ({ id, dir: runDir(storeDir, id), signature: signatureOf(runDir(storeDir, id)) }));
  const [remote, format] = await remoteAndFormat;
  const say = options.onProgress ?? (() => {});
  const privateTags = new Set([...DEFAULT_PRIVATE_TAGS, ...(options.privateTags ?? [])]);
  const ledger = readLedger(storeDir, remote);
  const result: PushResult = { remote, runs: [], kept: [], registryEvents: 0, commit: null, attempts: 0 };
  const known = execGit(root, ['rev-parse', '-q', '--verify', `${trackingRef(remote)}^{commit}`]).then((sha) => sha.trim() || null);

  // Which runs changed since they were last pushed: two stats each, and run.json read only for those.
  const candidates: Candidate[] = [];
  for (const { id, dir, signature } of folders) {
    if (!signature || ledger.pushed[id] === signature) continue;
    if (fs.existsSync(path.join(dir, PULLED_MARKER))) continue;
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
  // The importers (YAML, CSV, protobuf, sql.js) load only when there is one: a pull or a push of recorded runs starts without them.
  const materialize = imported.length ? (await import('../import/importRuns.js')).materializeImportedSeries : async () => [];
  for (const problem of await materialize(storeDir, imported)) result.kept.push({ id: problem.id, name: problem.id, reason: problem.problem });

  const tails = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-share-'));
  try {
    // A run's files are hashed (to compare with the remote's copy) only when the remote holds that run at all.
    const local = new Map<string, LocalRun>();
    const localRun = (c: Candidate) => local.get(c.record.id) ?? local.set(c.record.id, runFiles(c, format, tails)).get(c.record.id)!;
    const registry = new Registry(storeDir);
    const localEvents = registry.read().events;

    const lastSeen = await known;
    for (let attempt = 1; attempt <= (options.attempts ?? 10); attempt++) {
      result.attempts = attempt;
      // The first attempt builds on the remote's commit as last seen here: when nobody pushed since (the
      // usual case), the push goes without a fetch first; when somebody did, the lease refuses it, and
      // the next attempt fetches. A dry run always asks the remote, to list what it lacks now.
      const remoteHead = attempt === 1 && lastSeen && !options.dryRun ? lastSeen : await fetchShare(root, remote);
      // What the remote holds of the changed runs only (the trees of their shards, whatever it holds besides),
      // its registry events, and which snapshots are here to carry: three reads at once.
      const [remoteTrees, remoteEvents, present] = await Promise.all([
        remoteHead ? remoteRunTrees(root, remoteHead, candidates.map((c) => c.record.id), format) : new Map<string, string>(),
        remoteHead ? readRemoteEvents(root, remoteHead) : { events: [], blob: null },
        existingCommits(root, [...new Set(candidates.map((c) => c.record.git?.snapshot).filter((s): s is string => Boolean(s)))]),
      ]);
      const toSend = candidates.filter((c) => !remoteTrees.has(c.record.id) || localRun(c).tree() !== remoteTrees.get(c.record.id)).map(localRun);
      const events = unionEvents(remoteEvents.events, localEvents);
      const newEvents = events.length - unionEvents(remoteEvents.events, []).length;
      result.runs = toSend.map((run) => ({ id: run.id, name: run.name }));
      result.registryEvents = newEvents;
      if (options.dryRun || (toSend.length === 0 && newEvents === 0)) {
        if (!options.dryRun && candidates.length) {
          for (const c of candidates) ledger.pushed[c.record.id] = c.signature;
          saveLedger(storeDir, remote, ledger);
        }
        result.commit = remoteHead;
        return result;
      }
      say(`sending ${toSend.length} run(s) and ${newEvents} registry event(s) to ${remote}`);
      const snapshots = [...new Set(toSend.map((run) => run.snapshot).filter((s): s is string => Boolean(s)))];
      const now = Date.now();
      const carried = snapshots.filter((sha) => present.has(sha));
      const files: ShareFile[] = toSend.flatMap((run) => run.files.map((f) => ({ path: `${runTreePath(run.id)}/${f.name}`, from: f.file })));
      if (newEvents > 0) files.push({ path: `${REGISTRY_DIR}/${REGISTRY_FILE}`, from: Buffer.from(eventLines(events), 'utf8') });
      const message = `runlens: ${toSend.length} run(s), ${newEvents} registry event(s) from ${userAtHost()}`;
      const commit = await writeShareCommit(root, remoteHead, carried, files, message, now);
      if (await pushShare(root, remote, commit, remoteHead)) {
        await execGit(root, ['update-ref', trackingRef(remote), commit]);
        for (const c of candidates) ledger.pushed[c.record.id] = c.signature;
        saveLedger(storeDir, remote, ledger);
        result.commit = commit;
        return result;
      }
      say(`someone pushed to ${remote} first; fetching and trying again (${attempt})`);
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 250 * attempt));
    }
  } finally {
    fs.rmSync(tails, { recursive: true, force: true });
  }
  throw new ShareError(`${remote} kept moving: ${options.attempts ?? 10} pushes in a row were overtaken; try again`);
}

interface LocalRun {
  id: string;
  name: string;
  snapshot: string | null;
  files: { name: string; file: string }[];
  /** Its tree's id as git would compute it (hashing its files): equal to the remote's when the remote holds this very state. */
  tree: () => string;
}

/** A candidate's shared files (the output log as its tail, in `tails`); hashed only when asked for its tree. */
function runFiles(candidate: Candidate, format: ObjectFormat, tails: string): LocalRun {
  const { record, dir } = candidate;
  const files: LocalRun['files'] = [];
  // One listing per run rather than a stat per file that might be there: 8,000 stats were a tenth of a 1,000-run push (bench).
  let present = new Set<string>();
  try {
    present = new Set(fs.readdirSync(dir));
  } catch {
    // Removed since it was read: it goes with no files, and the next push finds it gone.
  }
  for (const name of SHARED_FILES) if (present.has(name)) files.push({ name, file: path.join(dir, name) });
  if (present.has(STDOUT_FILE)) files.push({ name: STDOUT_FILE, file: tailOf(path.join(dir, STDOUT_FILE), path.join(tails, record.id)) });
  let tree: string | null = null;
  return {
    id: record.id,
    name: record.name,
    snapshot: record.git?.snapshot ?? null,
    files,
    tree: () => (tree ??= flatTreeId(format, files.map((f) => ({ name: f.name, id: fileBlobId(format, f.file).id })))),
  };
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

