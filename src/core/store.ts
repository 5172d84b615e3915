import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from './atomicFile';
import { execGit } from './git/gitClient';
import { locateRepository } from './git/repository';
import { isRunId } from './runId';
import type { RunRecord, RunStatus } from './runRecord';

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

export function writeRunRecord(storeDir: string, record: RunRecord): void {
  writeFileAtomic(path.join(runDir(storeDir, record.id), 'run.json'), serializeRunRecord(record));
}

export function parseRunRecord(text: string, id: string): RunRecord {
  const record = JSON.parse(text) as RunRecord;
  if (!record || typeof record !== 'object' || record.id !== id) {
    throw new Error(`run.json does not describe run ${id}`);
  }
  decodeSummaryNumbers(record);
  return record;
}

export function readRunRecord(storeDir: string, id: string): RunRecord {
  return withLiveStatus(parseRunRecord(fs.readFileSync(path.join(runDir(storeDir, id), 'run.json'), 'utf8'), id));
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A run still marked running whose recorder is gone (killed with SIGKILL, the
 * machine rebooted) is shown as crashed. A run recorded on another host cannot
 * be checked from here and stays running.
 */
export function withLiveStatus(record: RunRecord): RunRecord {
  if (record.status === 'running' && record.host === os.hostname() && !processIsAlive(record.pid)) {
    return { ...record, status: 'crashed' as RunStatus };
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
    const shown = candidates.slice(0, 10).map((r) => `  ${r.id}  ${r.name}`).join('\n');
    const more = candidates.length > 10 ? `\n  … and ${candidates.length - 10} more` : '';
    throw new RunLookupError(`"${query}" matches ${candidates.length} runs; give more of the id:\n${shown}${more}`);
  }
  throw new RunLookupError(`no run matches "${query}"`);
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
    await execGit(record.git.root, ['update-ref', '-d', record.git.ref]).catch(() => undefined);
  }
}
