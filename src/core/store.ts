import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from './atomicFile';
import { execGit } from './git/gitClient';
import { safeText } from './safeText';
import { summarizeMetricsFile } from './metrics/metricsFile';
import { locateRepository } from './git/repository';
import { isRunId, runIdTime } from './runId';
import { RUN_RECORD_VERSION, type RunRecord, type RunStatus } from './runRecord';

export const STORE_FOLDER = '.runlens';

/**
 * Where run records live: $RUNLENS_DIR when set, else `.runlens/` at the root
 * of the git repository holding `cwd`, else the nearest `.runlens/` above
 * `cwd`, else `cwd/.runlens`.
 */
export async function resolveStoreDir(cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.RUNLENS_DIR) return path.resolve(cwd, env.RUNLENS_DIR);
  try {
    return path.join((await locateRepository(cwd)).root, STORE_FOLDER);
  } catch {
    for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, STORE_FOLDER, 'runs'))) return path.join(dir, STORE_FOLDER);
      if (path.dirname(dir) === dir) break;
    }
    return path.join(path.resolve(cwd), STORE_FOLDER);
  }
}

export function runsDir(storeDir: string): string {
  return path.join(storeDir, 'runs');
}

export function runDir(storeDir: string, id: string): string {
  return path.join(runsDir(storeDir), id);
}

/** JSON cannot hold NaN or Infinity; run.json stores them as the strings JSON-aware tools expect from us. */
function encodeNonFinite(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  return value;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function decodeSummaryNumbers(record: RunRecord): void {
  for (const m of Object.values(record.metricsSummary?.metrics ?? {})) {
    const fields = m as unknown as Record<string, unknown>;
    for (const key of ['last', 'min', 'max']) {
      const v = fields[key];
      if (typeof v === 'string' && v in NON_FINITE) fields[key] = NON_FINITE[v];
    }
  }
}

export function serializeRunRecord(record: RunRecord): string {
  return JSON.stringify(record, encodeNonFinite, 2) + '\n';
}

export function writeRunRecord(storeDir: string, record: RunRecord, durable = true): void {
  writeFileAtomic(path.join(runDir(storeDir, record.id), 'run.json'), serializeRunRecord(record), durable);
}

const STATUSES: readonly RunStatus[] = ['running', 'finished', 'failed', 'killed', 'crashed'];

/** A run.json that cannot be used, with what is wrong in words. */
class RunRecordError extends Error {}

/**
 * Reads run.json text. What a run needs to be listed (its id, start and status)
 * must be there and of the right type; any other field of the wrong type is
 * set aside as empty, so one odd field never hides the run.
 */
export function parseRunRecord(text: string, id: string): RunRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RunRecordError(text.trim() === '' ? 'run.json is empty' : `run.json is not valid JSON (${(err as Error).message}); truncated?`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new RunRecordError('run.json does not hold an object');
  const record = parsed as RunRecord;
  if (record.id !== id) throw new RunRecordError(`run.json does not describe run ${id}`);
  if (typeof record.startedAt !== 'string' || Number.isNaN(Date.parse(record.startedAt))) throw new RunRecordError('run.json has no valid "startedAt"');
  if (!STATUSES.includes(record.status)) throw new RunRecordError(`run.json has an unknown "status" (${JSON.stringify(record.status)?.slice(0, 40)})`);
  const fields = record as unknown as Record<string, unknown>;
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const expect = (key: string, ok: (v: unknown) => boolean, empty: unknown) => {
    if (!ok(fields[key])) fields[key] = empty;
  };
  expect('name', (v) => typeof v === 'string', `(unnamed ${id.slice(-4)})`);
  expect('command', (v) => Array.isArray(v) && v.every((a) => typeof a === 'string'), []);
  expect('cwd', (v) => typeof v === 'string', '');
  expect('endedAt', (v) => v === null || (typeof v === 'string' && !Number.isNaN(Date.parse(v))), null);
  expect('tags', (v) => Array.isArray(v) && v.every((t) => typeof t === 'string'), []);
  expect('params', isObject, {});
  expect('paramSources', isObject, {});
  expect('problems', (v) => Array.isArray(v) && v.every((t) => typeof t === 'string'), []);
  expect('data', Array.isArray, []);
  expect('artifacts', Array.isArray, []);
  expect('configFiles', Array.isArray, []);
  expect('git', (v) => v === null || (isObject(v) && typeof (v as { snapshot?: unknown }).snapshot === 'string'), null);
  expect('env', (v) => v === null || isObject(v), null);
  expect('metricsSummary', (v) => v === null || (isObject(v) && isObject((v as { metrics?: unknown }).metrics)), null);
  expect('host', (v) => typeof v === 'string', '');
  expect('user', (v) => typeof v === 'string', '');
  expect('pid', (v) => Number.isInteger(v), 0);
  expect('exitCode', (v) => v === null || Number.isInteger(v), null);
  expect('signal', (v) => v === null || typeof v === 'string', null);
  expect('cwdInRepo', (v) => v === null || typeof v === 'string', null);
  expect('gitError', (v) => v === null || typeof v === 'string', null);
  expect('seed', (v) => v === null || isObject(v), null);
  expect('version', (v) => Number.isInteger(v), RUN_RECORD_VERSION);
  if (fields.reproduces !== undefined && typeof fields.reproduces !== 'string') delete fields.reproduces;
  if (fields.attachedLogs !== undefined && !Array.isArray(fields.attachedLogs)) delete fields.attachedLogs;
  if (fields.source !== undefined) {
    const source = fields.source as Record<string, unknown>;
    if (!isObject(source) || typeof source.kind !== 'string' || typeof source.path !== 'string' || typeof source.id !== 'string') delete fields.source;
    else {
      if (!isObject(source.tags)) source.tags = {};
      if (!isObject(source.extra)) source.extra = {};
      if (!Array.isArray(source.notes)) source.notes = [];
    }
  }
  decodeSummaryNumbers(record);
  return record;
}

/**
 * One run as its files tell it. A run whose recorder died before run.json
 * was first in place (killed at start, or a full disk) is still a run: it is
 * read from the temp file the recorder was writing, or made from what its
 * folder shows, and reads as crashed.
 */
export function readRunRecord(storeDir: string, id: string): RunRecord {
  const dir = runDir(storeDir, id);
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'run.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && isRunId(id) && isFolder(dir)) return withLiveStatus(recoverUnwrittenRun(dir, id), dir);
    throw err;
  }
  const record = withLiveStatus(parseRunRecord(text, id), dir);
  // A run that crashed never wrote its summary: it is read from its metrics, as the index does.
  if (record.status === 'crashed' && record.metricsSummary === null) record.metricsSummary = summarizeMetricsFile(path.join(dir, 'metrics.jsonl'));
  return record;
}

function isFolder(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

const TEMP_RECORD = /^\.run\.json\.(\d+)\.(\d+)\.tmp$/;

function recoverUnwrittenRun(dir: string, id: string): RunRecord {
  const temps = fs
    .readdirSync(dir)
    .map((name) => ({ name, match: TEMP_RECORD.exec(name) }))
    .filter((t) => t.match)
    .sort((a, b) => Number(b.match![2]) - Number(a.match![2]));
  for (const temp of temps) {
    try {
      const record = parseRunRecord(fs.readFileSync(path.join(dir, temp.name), 'utf8'), id);
      return { ...record, problems: [...record.problems, `run.json was never put in place; read from ${temp.name}`] };
    } catch {
      // torn: the recorder died while writing it
    }
  }
  const pid = temps.length ? Number(temps[0]!.match![1]) : 0;
  const startedAt = new Date(runIdTime(id)).toISOString();
  const files = fs.readdirSync(dir);
  return {
    version: RUN_RECORD_VERSION,
    id,
    name: `(unnamed ${id.slice(-4)})`,
    command: [],
    cwd: '',
    cwdInRepo: null,
    startedAt,
    endedAt: null,
    status: 'running',
    exitCode: null,
    signal: null,
    pid,
    host: os.hostname(),
    user: '',
    tags: [],
    git: null,
    gitError: 'the recorder stopped before it took the snapshot',
    params: {},
    paramSources: {},
    configFiles: [],
    env: null,
    data: [],
    artifacts: [],
    seed: null,
    metricsSummary: null,
    problems: [`run.json was never written: the recorder stopped while starting the run (the folder holds ${files.length ? files.join(', ') : 'nothing'})`],
  };
}

/** Whether a process of this machine still runs (EPERM: it does, under another user). */
export function processIsAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When a run's files last changed: the last sign of life of a run that crashed. */
export function lastSignOfLife(dir: string): string | null {
  let latest = 0;
  for (const name of ['metrics.jsonl', 'stdout.log', 'params.jsonl', 'run.json']) {
    try {
      latest = Math.max(latest, fs.statSync(path.join(dir, name)).mtimeMs);
    } catch {
      // not written
    }
  }
  return latest ? new Date(latest).toISOString() : null;
}

/**
 * A run still marked running whose recorder is gone (killed with SIGKILL, the
 * machine rebooted) is shown as crashed, ended at its last sign of life (when
 * `dir`, its folder, is given). A run recorded on another host cannot be
 * checked from here and stays running.
 */
export function withLiveStatus(record: RunRecord, dir?: string): RunRecord {
  if (record.status === 'running' && record.host === os.hostname() && !processIsAlive(record.pid)) {
    const endedAt = record.endedAt ?? (dir ? lastSignOfLife(dir) : null) ?? record.startedAt;
    return { ...record, status: 'crashed' as RunStatus, endedAt: endedAt < record.startedAt ? record.startedAt : endedAt };
  }
  return record;
}

export interface UnreadableRun {
  id: string;
  dir: string;
  reason: string;
}

export interface RunListing {
  runs: RunRecord[];
  /** Run folders that could not be read: reported, never hidden or deleted. */
  unreadable: UnreadableRun[];
}

/** Every run in the store, newest first. */
export function listRuns(storeDir: string): RunListing {
  const listing: RunListing = { runs: [], unreadable: [] };
  let names: string[];
  try {
    names = fs.readdirSync(runsDir(storeDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return listing;
    throw err;
  }
  for (const name of names.sort().reverse()) {
    if (name.startsWith('.')) continue;
    const dir = runDir(storeDir, name);
    try {
      listing.runs.push(readRunRecord(storeDir, name));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'no run.json' : code === 'ENOTDIR' ? 'not a folder' : (err as Error).message;
      if (code === 'ENOTDIR' && !isRunId(name)) continue;
      listing.unreadable.push({ id: name, dir, reason });
    }
  }
  return listing;
}

export class RunLookupError extends Error {}

/** Finds one run by full id, unique id prefix, or unique name. */
export function resolveRun(runs: RunRecord[], query: string): RunRecord {
  const q = query.trim().toLowerCase();
  if (!q) throw new RunLookupError('no run id given');
  const exact = runs.find((r) => r.id === q);
  if (exact) return exact;
  const byPrefix = runs.filter((r) => r.id.startsWith(q));
  if (byPrefix.length === 1) return byPrefix[0]!;
  const byName = runs.filter((r) => r.name === query.trim());
  if (byPrefix.length === 0 && byName.length === 1) return byName[0]!;
  const candidates = byPrefix.length > 0 ? byPrefix : byName;
  if (candidates.length > 1) {
    // Names and the query are run- and user-provided: shown with their escapes made visible.
    const shown = candidates.slice(0, 10).map((r) => `  ${r.id}  ${safeText(r.name)}`).join('\n');
    const more = candidates.length > 10 ? `\n  … and ${candidates.length - 10} more` : '';
    throw new RunLookupError(`"${safeText(query)}" matches ${candidates.length} runs; give more of the id:\n${shown}${more}`);
  }
  throw new RunLookupError(`no run matches "${safeText(query)}"`);
}

/**
 * Deletes a run: its folder, its series cache and its snapshot ref. The
 * snapshot commit itself stays until git's own garbage collection, so a
 * mistaken delete can still be recovered with `git fsck --lost-found`.
 */
export async function deleteRun(storeDir: string, record: RunRecord): Promise<void> {
  fs.rmSync(runDir(storeDir, record.id), { recursive: true, force: true });
  fs.rmSync(path.join(storeDir, 'cache', 'series', record.id), { recursive: true, force: true });
  if (record.git) {
    try {
      await execGit(record.git.root, ['update-ref', '-d', record.git.ref]);
    } catch (err) {
      throw new Error(`run ${record.id} is deleted, but its snapshot ref ${record.git.ref} could not be removed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}
