import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BindParams, Database, SqlValue, Statement } from 'sql.js';
import { writeFileAtomic, writeFileAtomicAsync } from '../atomicFile';
import { MetricsAccumulator, type ReadPosition } from '../metrics/metricsFile';
import type { Expr, SortKey } from '../query/ast';
import { SqlCompiler } from '../query/toSql';
import { pathInRepo, scriptOfRun } from '../code/scriptOfRun';
import { isRunId } from '../runId';
import type { MetricsSummary, RunRecord, RunStatus } from '../runRecord';
import { patternMatches } from '../query/pattern';
import { lastSignOfLife, readRunRecord, runDir, runsDir, withLiveStatus, type UnreadableRun } from '../store';
import { SCHEMA, SCHEMA_VERSION, SECONDARY_INDEXES } from './schema';
import { loadSqlJs } from './sqlite';

export const INDEX_FILE = 'index.sqlite';

/**
 * A run folder's signature source: run.json's own stat, not the folder's (a run.json rewritten in
 * place leaves the folder's mtime as it was), or the folder's when it has no run.json (a run killed
 * at start); 'gone' when it went while looked at, 'skip' for a dot name (a pull's staging folder).
 */
type FolderStat = fs.Stats | 'not a folder' | 'gone' | 'skip';
const STATS_IN_FLIGHT = 64;

function statRunFolder(storeDir: string, name: string): FolderStat {
  if (name.startsWith('.')) return 'skip';
  const dir = runDir(storeDir, name);
  try {
    return fs.statSync(path.join(dir, 'run.json'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return 'not a folder';
    try {
      return fs.statSync(dir);
    } catch {
      return 'gone'; // deleted while we looked
    }
  }
}

/**
 * statRunFolder for every name, on libuv's threads, STATS_IN_FLIGHT at a time. Callbacks, not
 * fs.promises: a promise per stat doubled the thread's own work at 100,000 runs.
 */
function statRunFoldersAsync(storeDir: string, names: string[]): Promise<FolderStat[]> {
  const stats: FolderStat[] = new Array(names.length);
  return new Promise((resolve) => {
    let next = 0;
    let pending = 0;
    const done = (i: number, stat: FolderStat) => {
      stats[i] = stat;
      pending--;
      start();
    };
    const start = () => {
      while (pending < STATS_IN_FLIGHT && next < names.length) {
        const i = next++;
        const name = names[i]!;
        if (name.startsWith('.')) {
          stats[i] = 'skip';
          continue;
        }
        pending++;
        const dir = runDir(storeDir, name);
        fs.stat(path.join(dir, 'run.json'), (err, stat) => {
          if (!err) return done(i, stat);
          if (err.code === 'ENOTDIR') return done(i, 'not a folder');
          fs.stat(dir, (err2, folder) => done(i, err2 ? 'gone' : folder));
        });
      }
      if (pending === 0 && next >= names.length) resolve(stats);
    };
    start();
  });
}

/** What following a live run's metrics needs of its row, read with the rows that list the live runs. */
const LIVE_COLUMNS = 'status, host, pid, rid, metrics_offset, metrics_line, metrics_step';
interface LiveRow {
  status: string;
  host: string | null;
  pid: number | null;
  rid: number;
  position: ReadPosition;
}

function liveRowOf(row: SqlValue[], at: number): LiveRow {
  return {
    status: String(row[at]),
    host: row[at + 1] as string | null,
    pid: row[at + 2] as number | null,
    rid: Number(row[at + 3]),
    position: { offset: Number(row[at + 4] ?? 0), line: Number(row[at + 5] ?? 0), step: Number(row[at + 6] ?? -1) },
  };
}

/**
 * The index file's checksum: the first 8 bytes of the sha1 of the file, less the two header
 * fields that hold it (the user version at byte 60 and the application id at byte 68, which
 * SQLite leaves to applications). All zero: a file saved without one.
 */
const SEAL_FIELDS = [60, 68] as const;

function checksumOf(bytes: Uint8Array): Buffer {
  const hash = createHash('sha1');
  hash.update(bytes.subarray(0, SEAL_FIELDS[0]));
  hash.update(bytes.subarray(SEAL_FIELDS[0] + 4, SEAL_FIELDS[1]));
  hash.update(bytes.subarray(SEAL_FIELDS[1] + 4));
  return hash.digest().subarray(0, 8);
}

function sealed(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 100) return bytes;
  const sum = checksumOf(bytes);
  bytes.set(sum.subarray(0, 4), SEAL_FIELDS[0]);
  bytes.set(sum.subarray(4, 8), SEAL_FIELDS[1]);
  return bytes;
}

function sealOf(bytes: Uint8Array): 'sealed' | 'broken' | 'none' {
  if (bytes.length < 100) return 'none';
  const held = Buffer.concat([bytes.subarray(SEAL_FIELDS[0], SEAL_FIELDS[0] + 4), bytes.subarray(SEAL_FIELDS[1], SEAL_FIELDS[1] + 4)]);
  if (held.every((b) => b === 0)) return 'none';
  return held.equals(checksumOf(bytes)) ? 'sealed' : 'broken';
}

/** A change younger than this may share its mtime with the next one; such a run is read again next time. */
const DEFAULT_RACY_MS = 2000;
const INDEX_TABLES = ['meta', 'runs', 'keys', 'params', 'metrics', 'tags', 'config_files', 'unreadable'];

export interface IndexOptions {
  /** How recent a folder's mtime must be to be re-read on the next refresh anyway (git's "racily clean"). */
  racyMs?: number;
}

export interface IndexedMetric {
  key: string;
  last: number;
  min: number;
  max: number;
  count: number;
  nan: number;
  lastStep: number | null;
}

/** What the index knows of a run: enough for lists, trees and sorting without opening run.json. */
export interface IndexedRun {
  id: string;
  name: string;
  status: RunStatus;
  startedAt: string | null;
  endedAt: string | null;
  exitCode: number | null;
  branch: string | null;
  head: string | null;
  snapshot: string | null;
  dirty: boolean | null;
  host: string | null;
  user: string | null;
  problems: number;
  reproduces: string | null;
  /** The file its command ran, as a path in the repository. */
  script: string | null;
  /** Where an imported run came from; null for a run RunLens recorded. */
  source: { kind: string; experiment: string | null } | null;
  metrics: IndexedMetric[];
}

/** One run's value of a param, and of the metric it is judged by (null when it has none, or NaN). */
export interface ParamInRun {
  id: string;
  name: string;
  startedMs: number | null;
  value: string | null;
  metric: number | null;
}

export interface OpenReport {
  /** Why the index was built from scratch, when it was. */
  rebuilt: string | null;
}

export interface RefreshReport {
  added: number;
  updated: number;
  removed: number;
  unreadable: UnreadableRun[];
}

function matches(pattern: unknown, text: unknown): number {
  if (typeof text !== 'string' || typeof pattern !== 'string') return 0;
  return patternMatches(pattern, text) ? 1 : 0;
}

function nullIfNaN(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

/** Rows per multi-row INSERT: a statement is kept for each row count up to this, so few are made. */
const ROWS_PER_INSERT = 64;

const RUN_COLUMNS = [
  'id', 'name', 'status', 'started_ms', 'ended_ms', 'exit_code', 'branch', 'head', 'snapshot', 'dirty', 'host', 'user', 'pid', 'command', 'script',
  'reproduces', 'source_kind', 'source_experiment', 'problems', 'file_sig', 'metrics_offset', 'metrics_line', 'metrics_step', 'live_summary',
] as const;
type RunColumn = (typeof RUN_COLUMNS)[number];
/** Bound by position and returning its rowid: sql.js looks each named parameter up in the wasm on every run. */
const INSERT_RUN = `INSERT INTO runs(${RUN_COLUMNS.join(', ')}) VALUES (${RUN_COLUMNS.map(() => '?').join(', ')}) RETURNING rid`;

/**
 * The sql.js index over `.runlens/runs/`: a cache that makes thousands of runs
 * searchable in milliseconds. The run files are the truth; this is rebuilt
 * from them whenever it is missing, unreadable or of another schema version,
 * and it is refreshed incrementally (only run folders whose mtime changed, and
 * the metrics files of live runs). It is saved atomically, and only by `save`.
 */
export class RunIndex {
  private dirty = false;
  /** The runs folder's mtime when the last full refresh listed it: a folder added or removed since moves it. */
  private listedMtime: number | null = null;
  /** The folder names that listing found, for a tick that must check the listing is still whole (see refreshLive). */
  private listedNames: Set<string> = new Set();

  private constructor(
    private db: Database,
    readonly storeDir: string,
    readonly opened: OpenReport,
    private readonly racyMs: number,
  ) {
    this.registerFunctions();
  }

  static async open(storeDir: string, options: IndexOptions = {}): Promise<RunIndex> {
    const racyMs = options.racyMs ?? DEFAULT_RACY_MS;
    const SQL = await loadSqlJs();
    const file = path.join(storeDir, INDEX_FILE);
    let rebuilt: string | null = null;
    let bytes: Buffer | null = null;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      rebuilt = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'there was no index yet' : `the index could not be read (${(err as Error).message})`;
    }
    if (bytes) {
      let db: Database | null = null;
      try {
        db = new SQL.Database(bytes);
        const version = db.exec("SELECT value FROM meta WHERE key = 'schema'")[0]?.values[0]?.[0];
        if (String(version) !== String(SCHEMA_VERSION)) throw new Error(`it has schema version ${String(version)}, not ${SCHEMA_VERSION}`);
        const seal = sealOf(bytes);
        if (seal === 'broken') throw new Error('its checksum does not match its contents');
        // A file this version saved carries its checksum, which also catches a changed value that
        // SQLite's own check cannot see; it costs 40 ms at 100,000 runs, the check 190-560 ms.
        if (seal === 'none') {
          const check = db.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
          if (check !== 'ok') throw new Error(`its integrity check says: ${String(check)}`);
        }
        const tables = new Set((db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values ?? []).map((r) => String(r[0])));
        const missing = INDEX_TABLES.filter((t) => !tables.has(t));
        if (missing.length) throw new Error(`it has no ${missing.join(', ')} table`);
        const index = new RunIndex(db, storeDir, { rebuilt: null }, racyMs);
        return index;
      } catch (err) {
        db?.close();
        rebuilt = `the index was unusable (${(err as Error).message.replace(/^file is not a database$/, 'not a database')})`;
      }
    }
    const db = new SQL.Database();
    db.run(SCHEMA);
    db.run("INSERT INTO meta(key, value) VALUES ('schema', :v)", { ':v': String(SCHEMA_VERSION) });
    const index = new RunIndex(db, storeDir, { rebuilt }, racyMs);
    index.dirty = true;
    index.indexesPending = true;
    return index;
  }

  private registerFunctions(): void {
    this.db.create_function('rl_match', matches);
    this.db.create_function('rl_number_text', (num: unknown) => (num === null ? 'NaN' : String(num)));
  }

  private keyIds: Map<string, number> | null = null;
  /**
   * The runs a tick looks at (running, or summed up from their metrics file), as last selected;
   * null once a run was indexed or removed. A tick would otherwise scan every row for them.
   */
  private liveIds: string[] | null = null;
  /** keyNames() as last asked, with its metric names as a set; null once a run was indexed or removed. */
  private keyNamesCache: { params: string[]; metrics: string[]; metricSet: Set<string> } | null = null;
  /** A new database gets its secondary indexes after its first refresh has put the rows in. */
  private indexesPending = false;

  private makePendingIndexes(): void {
    if (!this.indexesPending) return;
    this.db.run(SECONDARY_INDEXES);
    this.indexesPending = false;
  }

  /** The integer id of a param or metric name, made on first use. */
  private keyId(name: string): number {
    if (!this.keyIds) this.keyIds = new Map(this.rows('SELECT name, kid FROM keys').map((r) => [String(r[0]), Number(r[1])]));
    let kid = this.keyIds.get(name);
    if (kid === undefined) {
      this.db.run('INSERT INTO keys(name) VALUES (:n)', { ':n': name });
      kid = Number(this.rows('SELECT last_insert_rowid()')[0]![0]);
      this.keyIds.set(name, kid);
    }
    return kid;
  }

  private rowId(id: string): number | null {
    const row = this.first('SELECT rid FROM runs WHERE id = ?', [id]);
    return row ? Number(row[0]) : null;
  }

  /**
   * Statements prepared once and kept: sql.js's `run(sql)` parses and compiles its SQL on every
   * call, and a cold build runs a dozen statements per run (bench). Freed before an export and on close.
   */
  private readonly statements = new Map<string, Statement>();

  private statement(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) this.statements.set(sql, (stmt = this.db.prepare(sql)));
    return stmt;
  }

  /** Runs a kept statement once. */
  private execute(sql: string, params: BindParams): void {
    this.statement(sql).run(params);
  }

  /** The first row of a kept statement, or null. */
  private first(sql: string, params: BindParams): SqlValue[] | null {
    const stmt = this.statement(sql);
    try {
      stmt.bind(params);
      return stmt.step() ? stmt.get() : null;
    } finally {
      stmt.reset();
    }
  }

  /**
   * Rows of `width` values each, in statements of up to ROWS_PER_INSERT rows: one step for a run's
   * 30 params rather than 30, each of which sql.js wraps in two resets (bench).
   */
  private readonly multiRowSql = new Map<string, string>();

  private insertRows(insertValues: string, width: number, values: SqlValue[]): void {
    const rows = values.length / width;
    for (let from = 0; from < rows; from += ROWS_PER_INSERT) {
      const count = Math.min(ROWS_PER_INSERT, rows - from);
      const key = `${count} ${insertValues}`;
      let sql = this.multiRowSql.get(key);
      if (!sql) {
        const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
        this.multiRowSql.set(key, (sql = `${insertValues} ${Array.from({ length: count }, () => tuple).join(', ')}`));
      }
      this.execute(sql, count === rows ? values : values.slice(from * width, (from + count) * width));
    }
  }

  private freeStatements(): void {
    for (const stmt of this.statements.values()) stmt.free();
    this.statements.clear();
  }

  /**
   * Brings the index up to date with the run folders; returns what changed. `live` lists the runs
   * whose rows may have changed without being added or removed: those read again, and the live
   * ones followed. With nothing added or removed, the other runs' rows are as they were.
   */
  refresh(): RefreshReport & { live: string[] } {
    const listing = this.listRuns();
    return this.applyListing(listing, listing.names.map((name) => statRunFolder(this.storeDir, name)));
  }

  /**
   * refresh() with the stat of every run folder off the thread, many at once: at 100,000 runs
   * those stats held the extension host for 1.5 s. The rest (comparing, reading what changed)
   * runs on the thread as in refresh().
   */
  async refreshAsync(): Promise<RefreshReport & { live: string[] }> {
    const listing = this.listRuns();
    const stats = await statRunFoldersAsync(this.storeDir, listing.names);
    return this.applyListing(listing, stats);
  }

  /** The run folders' names, and the runs folder's mtime taken before them (a folder added while they are read moves it past). */
  private listRuns(): { names: string[]; mtime: number | null } {
    const mtime = this.runsFolderMtime();
    let names: string[] = [];
    try {
      names = fs.readdirSync(runsDir(this.storeDir));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return { names, mtime };
  }

  private applyListing({ names, mtime: listedMtime }: { names: string[]; mtime: number | null }, stats: FolderStat[]): RefreshReport & { live: string[] } {
    const report: RefreshReport = { added: 0, updated: 0, removed: 0, unreadable: [] };
    const live: string[] = [];
    this.listedMtime = listedMtime;
    this.listedNames = new Set(names);
    // Every run's signature, and the status, host and pid of the few that are live: at 100,000 runs
    // decoding three more columns of every row cost more than the rest of this query.
    const known = new Map<string, { mtime: string; live: boolean }>();
    for (const row of this.rows('SELECT id, file_sig, live_summary FROM runs')) known.set(String(row[0]), { mtime: String(row[1]), live: row[2] === 1 });
    const liveRows = new Map<string, LiveRow>();
    for (const row of this.rows(`SELECT id, ${LIVE_COLUMNS} FROM runs WHERE live_summary = 1`)) liveRows.set(String(row[0]), liveRowOf(row, 1));
    const knownBad = new Map<string, string>();
    for (const row of this.rows('SELECT id, file_sig FROM unreadable')) knownBad.set(String(row[0]), String(row[1]));

    const now = Date.now();
    const seen = new Set<string>();
    this.db.run('BEGIN');
    try {
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        const stat = stats[i]!;
        if (stat === 'skip' || stat === 'gone') continue;
        if (stat === 'not a folder') {
          if (isRunId(name)) this.markUnreadable(name, 'not a folder', '0');
          seen.add(name);
          continue;
        }
        seen.add(name);
        // A file changed moments ago may change again within the same mtime tick: read it again next time.
        // The inode tells an atomic replace within the same tick; the size, most rewrites in place.
        const mtime = now - stat.mtimeMs < this.racyMs ? '0' : `${stat.mtimeMs}:${stat.ino}:${stat.size}`;
        const row = known.get(name);
        if (row && row.mtime === mtime && mtime !== '0') {
          if (row.live) {
            this.updateLive(name, liveRows.get(name)!);
            live.push(name);
          }
          continue;
        }
        if (!row && knownBad.get(name) === mtime && mtime !== '0') continue;
        // A held run read again may also have become unreadable, which takes it from the list: named either way.
        if (row) live.push(name);
        if (this.indexRun(name, mtime, row !== undefined || knownBad.has(name))) {
          if (row) report.updated++;
          else report.added++;
        }
      }
      for (const id of known.keys()) {
        if (!seen.has(id)) {
          this.deleteRun(id);
          report.removed++;
        }
      }
      for (const id of knownBad.keys()) if (!seen.has(id)) this.db.run('DELETE FROM unreadable WHERE id = :id', { ':id': id });
      this.db.run('COMMIT');
    } catch (err) {
      this.db.run('ROLLBACK');
      throw err;
    }
    this.makePendingIndexes();
    if (report.added || report.updated || report.removed) this.dirty = true;
    report.unreadable = this.unreadable();
    return { ...report, live };
  }

  /**
   * A live run's tick: only the runs indexed as running or with a live
   * summary (their run.json, their metrics file), and the whole folder list
   * only when the runs folder itself changed since the last full refresh (a
   * run added or removed). A run.json rewritten in a run that is not live is
   * left to `refresh`, which a file watcher calls. Two stats per live run
   * instead of one per run folder: at 100,000 runs the full refresh took the
   * extension host's whole second (bench). `live` lists the runs looked at.
   *
   * `also` names more runs to look at the same way: those a file watcher saw change. A run the
   * index does not hold among them (a folder fixed, or new) sends it to the full refresh.
   */
  refreshLive(also: readonly string[] = []): RefreshReport & { live: string[] } {
    const mtime = this.runsFolderMtime();
    if (this.listedMtime === null || mtime !== this.listedMtime || also.length > 500) return this.refresh();
    if (Date.now() - (mtime ?? 0) < this.racyMs && !this.listingStillWhole()) return this.refresh();
    const report: RefreshReport = { added: 0, updated: 0, removed: 0, unreadable: [] };
    const now = Date.now();
    const live: string[] = [];
    this.liveIds ??= this.rows("SELECT id FROM runs WHERE live_summary = 1 OR status = 'running'").map((r) => String(r[0]));
    const looked = [...new Set([...this.liveIds, ...also])];
    const bindings: Record<string, SqlValue> = {};
    looked.forEach((id, i) => (bindings[`:id${i}`] = id));
    const rows = looked.length ? this.rows(`SELECT id, file_sig, live_summary, ${LIVE_COLUMNS} FROM runs WHERE id IN (${looked.map((_, i) => `:id${i}`).join(',')})`, bindings) : [];
    if (also.length) {
      const held = new Set(rows.map((r) => String(r[0])));
      if (also.some((id) => !held.has(id))) return this.refresh();
    }
    this.db.run('BEGIN');
    try {
      for (const row of rows) {
        const id = String(row[0]);
        const known = { mtime: String(row[1]), ...liveRowOf(row, 3) };
        live.push(id);
        let stat: fs.Stats;
        try {
          stat = fs.statSync(path.join(runDir(this.storeDir, id), 'run.json'));
        } catch {
          // Gone or unreadable: the full refresh says which, and the runs folder's mtime sends the next tick there.
          this.listedMtime = null;
          continue;
        }
        const signature = now - stat.mtimeMs < this.racyMs ? '0' : `${stat.mtimeMs}:${stat.ino}:${stat.size}`;
        // A run named by `also` that is not live has no metrics of its own to follow: its run.json is its summary.
        const followed = row[2] === 1 || known.status === 'running';
        if (signature === known.mtime && signature !== '0') {
          if (followed) this.updateLive(id, known);
        } else if (this.indexRun(id, signature)) report.updated++;
      }
      this.db.run('COMMIT');
    } catch (err) {
      this.db.run('ROLLBACK');
      throw err;
    }
    if (report.updated) this.dirty = true;
    return { ...report, live };
  }

  /**
   * The runs folder's mtime moved moments ago: a folder made within the same mtime tick would not
   * move it again. Its names, read again (no stats), tell whether the last listing still holds.
   * That is the first seconds of every new run, when a full refresh would stat every run folder.
   */
  private listingStillWhole(): boolean {
    let names: string[];
    try {
      names = fs.readdirSync(runsDir(this.storeDir));
    } catch {
      return false;
    }
    return names.length === this.listedNames.size && names.every((name) => this.listedNames.has(name));
  }

  private runsFolderMtime(): number | null {
    try {
      return fs.statSync(runsDir(this.storeDir)).mtimeMs;
    } catch {
      return null;
    }
  }

  /** Run folders that could not be read, with the reason; they are never deleted. */
  unreadable(): UnreadableRun[] {
    return this.rows('SELECT id, reason FROM unreadable ORDER BY id DESC').map((r) => ({
      id: String(r[0]),
      dir: runDir(this.storeDir, String(r[0])),
      reason: String(r[1]),
    }));
  }

  private rows(sql: string, params?: Record<string, SqlValue>): SqlValue[][] {
    return this.db.exec(sql, params)[0]?.values ?? [];
  }

  private markUnreadable(id: string, reason: string, mtime: string): void {
    this.deleteRun(id);
    this.db.run('INSERT OR REPLACE INTO unreadable(id, reason, file_sig) VALUES (:id, :r, :m)', { ':id': id, ':r': reason, ':m': mtime });
    this.dirty = true;
  }

  private deleteRun(id: string): void {
    this.forgetDerived();
    const rid = this.rowId(id);
    if (rid !== null) {
      this.execute('DELETE FROM params WHERE rid = ?', [rid]);
      this.execute('DELETE FROM metrics WHERE rid = ?', [rid]);
      this.execute('DELETE FROM tags WHERE rid = ?', [rid]);
      this.execute('DELETE FROM config_files WHERE rid = ?', [rid]);
      this.execute('DELETE FROM runs WHERE rid = ?', [rid]);
    }
    this.execute('DELETE FROM unreadable WHERE id = ?', [id]);
  }

  /** Reads one run folder into the index; false (and recorded as unreadable) when it cannot be read. */
  /** What is kept from earlier queries and is wrong once a run's rows change. */
  private forgetDerived(): void {
    this.liveIds = null;
    this.keyNamesCache = null;
  }

  private indexRun(id: string, mtime: string, known = true): boolean {
    this.forgetDerived();
    let record: RunRecord;
    try {
      record = readRunRecord(this.storeDir, id);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.markUnreadable(id, code === 'ENOENT' ? 'no run.json' : code ? `run.json: ${code}` : (err as Error).message, mtime);
      return false;
    }
    // A run the index has never held (every run of a cold build) has nothing to delete first.
    if (known) this.deleteRun(id);
    const live = record.metricsSummary === null;
    let summary = record.metricsSummary;
    let position: ReadPosition = { offset: 0, line: 0, step: -1 };
    if (live) {
      const acc = new MetricsAccumulator().readFrom(path.join(runDir(this.storeDir, id), 'metrics.jsonl'), 'metrics.jsonl', record.status === 'running');
      summary = acc.summary;
      position = acc.position;
    }
    const row: Record<RunColumn, SqlValue> = {
      id,
      name: record.name,
      status: record.status,
      started_ms: nullIfNaN(Date.parse(record.startedAt)),
      ended_ms: record.endedAt ? nullIfNaN(Date.parse(record.endedAt)) : null,
      exit_code: record.exitCode,
      branch: record.git?.branch ?? null,
      head: record.git?.head ?? null,
      snapshot: record.git?.snapshot ?? null,
      dirty: record.git ? (record.git.dirty ? 1 : 0) : null,
      host: record.host ?? null,
      user: record.user ?? null,
      pid: record.pid ?? null,
      command: Array.isArray(record.command) ? record.command.join(' ') : null,
      script: scriptOfRun(record),
      reproduces: record.reproduces ?? null,
      source_kind: record.source?.kind ?? null,
      source_experiment: record.source?.experiment ?? null,
      problems: record.problems?.length ?? 0,
      file_sig: mtime,
      metrics_offset: position.offset,
      metrics_line: position.line,
      metrics_step: position.step,
      live_summary: live ? 1 : 0,
    };
    const rid = Number(this.first(INSERT_RUN, RUN_COLUMNS.map((c) => row[c]))![0]);
    const params: SqlValue[] = [];
    for (const [key, value] of Object.entries(record.params ?? {})) {
      const kid = this.keyId(key);
      if (typeof value === 'number') params.push(rid, kid, 'n', nullIfNaN(value), null);
      else if (typeof value === 'boolean') params.push(rid, kid, 'b', null, String(value));
      else if (value === null || value === undefined) params.push(rid, kid, 'z', null, null);
      else params.push(rid, kid, 's', null, typeof value === 'string' ? value : JSON.stringify(value));
    }
    this.insertRows('INSERT OR REPLACE INTO params(rid, kid, type, num, text) VALUES', 5, params);
    for (const tag of new Set(record.tags ?? [])) this.execute('INSERT INTO tags(rid, tag) VALUES (?, ?)', [rid, tag]);
    const configs = new Set((Array.isArray(record.configFiles) ? record.configFiles : []).map((c) => (typeof c?.path === 'string' ? pathInRepo(record, c.path) : null)));
    for (const file of configs) if (file) this.execute('INSERT INTO config_files(rid, path) VALUES (?, ?)', [rid, file]);
    this.writeMetrics(rid, summary);
    return true;
  }

  private writeMetrics(rid: number, summary: MetricsSummary | null): void {
    if (!summary) return;
    const values: SqlValue[] = [];
    let ord = 0;
    for (const [key, m] of Object.entries(summary.metrics)) {
      values.push(rid, this.keyId(key), ord++, nullIfNaN(m.last), Number.isNaN(m.last) ? 1 : 0, nullIfNaN(m.min), nullIfNaN(m.max), m.count, m.nan, m.lastStep);
    }
    this.insertRows('INSERT OR REPLACE INTO metrics(rid, kid, ord, last, last_nan, min, max, count, nan, last_step) VALUES', 10, values);
  }

  /** A live run: read what its metrics file gained, and notice a recorder that died. */
  /** A live run's metrics followed from where they were last read (`row`, from LIVE_COLUMNS: no query per run). */
  private updateLive(id: string, row: LiveRow): void {
    const file = path.join(runDir(this.storeDir, id), 'metrics.jsonl');
    const { rid, position } = row;
    // No file is no metrics yet (and no exception made per run); any other failure is the caller's to hear.
    const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    let status = row.status;
    if (status === 'running' && row.pid !== null && row.host === os.hostname()) {
      status = withLiveStatus({ status: 'running', host: row.host, pid: row.pid } as RunRecord).status;
    }
    if (size === position.offset && status === row.status) return;
    const summary: MetricsSummary = { lines: 0, lastStep: null, metrics: {}, malformed: 0, malformedSamples: [] };
    for (const r of this.rows('SELECT k.name, last, last_nan, min, max, count, nan, last_step FROM metrics m JOIN keys k ON k.kid = m.kid WHERE rid = :rid ORDER BY ord', { ':rid': rid })) {
      summary.metrics[String(r[0])] = {
        last: r[2] === 1 ? NaN : Number(r[1]),
        min: r[3] === null ? NaN : Number(r[3]),
        max: r[4] === null ? NaN : Number(r[4]),
        count: Number(r[5]),
        nan: Number(r[6]),
        lastStep: Number(r[7]),
      };
    }
    const acc = new MetricsAccumulator(summary, position).readFrom(file, 'metrics.jsonl', status === 'running');
    this.writeMetrics(rid, acc.summary);
    if (status !== row.status) this.liveIds = null;
    if (this.keyNamesCache && Object.keys(acc.summary.metrics).some((key) => !this.keyNamesCache!.metricSet.has(key))) this.keyNamesCache = null;
    if (status === 'crashed' && row.status !== 'crashed') {
      const ended = lastSignOfLife(runDir(this.storeDir, id));
      if (ended) this.db.run('UPDATE runs SET ended_ms = :e WHERE rid = :rid AND ended_ms IS NULL', { ':e': Date.parse(ended), ':rid': rid });
    }
    this.db.run('UPDATE runs SET status = :s, metrics_offset = :o, metrics_line = :l, metrics_step = :st WHERE rid = :rid', {
      ':s': status,
      ':o': acc.position.offset,
      ':l': acc.position.line,
      ':st': acc.position.step,
      ':rid': rid,
    });
    this.dirty = true;
  }

  count(): number {
    return Number(this.rows('SELECT count(*) FROM runs')[0]?.[0] ?? 0);
  }

  /** Runs matching `where`, in `sort` order (newest first after that), at most `limit`. */
  query(where: Expr | null, sort: SortKey[] = [], limit?: number, now: number = Date.now()): IndexedRun[] {
    return this.toIndexedRuns(this.selectRuns(where, sort, limit, now));
  }

  /** The runs of these ids that the index holds, in no particular order. */
  runsByIds(ids: string[]): IndexedRun[] {
    const out: IndexedRun[] = [];
    for (let start = 0; start < ids.length; start += 500) {
      const batch = ids.slice(start, start + 500);
      const bindings = Object.fromEntries(batch.map((id, i) => [`:id${i}`, id]));
      out.push(...this.toIndexedRuns(this.rows(`SELECT ${RunIndex.COLUMNS} FROM runs r WHERE r.id IN (${batch.map((_, i) => `:id${i}`).join(',')})`, bindings)));
    }
    return out;
  }

  /**
   * Which of these runs match `where`, in no particular order: a live run's tick asks this of the
   * live runs alone, rather than running the whole query again to learn whether they still match.
   */
  queryAmong(where: Expr | null, ids: readonly string[], now: number = Date.now()): IndexedRun[] {
    const out: IndexedRun[] = [];
    for (let start = 0; start < ids.length; start += 500) {
      const compiler = new SqlCompiler(now);
      const condition = compiler.where(where);
      const batch = ids.slice(start, start + 500);
      const bindings: Record<string, SqlValue> = { ...compiler.bindings };
      batch.forEach((id, i) => (bindings[`:among${i}`] = id));
      out.push(...this.toIndexedRuns(this.rows(`SELECT ${RunIndex.COLUMNS} FROM runs r WHERE r.id IN (${batch.map((_, i) => `:among${i}`).join(',')}) AND (${condition})`, bindings)));
    }
    return out;
  }

  /** The ids of the runs matching `where`, in `sort` order: the order of a query without its rows. */
  orderedIds(where: Expr | null, sort: SortKey[] = [], now: number = Date.now()): string[] {
    const compiler = new SqlCompiler(now);
    const condition = compiler.where(where);
    const { joins, order } = compiler.orderBy(sort);
    return this.rows(`SELECT r.id FROM runs r ${joins} WHERE ${condition} ORDER BY ${order}`, compiler.bindings).map((r) => String(r[0]));
  }

  private toIndexedRuns(runs: SqlValue[][]): IndexedRun[] {
    const result = runs.map(
      (r): IndexedRun => ({
        id: String(r[0]),
        name: String(r[1]),
        status: r[2] as RunStatus,
        startedAt: r[3] === null ? null : new Date(Number(r[3])).toISOString(),
        endedAt: r[4] === null ? null : new Date(Number(r[4])).toISOString(),
        exitCode: r[5] as number | null,
        branch: r[6] as string | null,
        head: r[7] as string | null,
        snapshot: r[8] as string | null,
        dirty: r[9] === null ? null : r[9] === 1,
        host: r[10] as string | null,
        user: r[11] as string | null,
        problems: Number(r[12]),
        reproduces: r[13] as string | null,
        source: r[15] === null ? null : { kind: String(r[15]), experiment: r[16] as string | null },
        script: r[17] as string | null,
        metrics: [],
      }),
    );
    const byRid = new Map(runs.map((r, i) => [Number(r[14]), result[i]!]));
    const rids = [...byRid.keys()];
    // Key names by id, made once here: joining them in would decode the same few names for every row.
    const names = new Map(this.rows('SELECT kid, name FROM keys').map((r) => [Number(r[0]), String(r[1])]));
    // Metrics of the rows found, by their ids: running the selection again would double the cost. For
    // most of the runs (a whole list of 100,000), one pass over the table costs less than 200 id lists.
    const wholeTable = rids.length > 500 && rids.length * 2 > this.count();
    for (let start = 0; start < rids.length; start += wholeTable ? rids.length : 500) {
      const batch = rids.slice(start, start + 500);
      for (const m of this.rows(
        `SELECT rid, kid, last, last_nan, min, max, count, nan, last_step FROM metrics
         ${wholeTable ? '' : `WHERE rid IN (${batch.join(',')})`} ORDER BY rid, ord`,
      )) {
        byRid.get(Number(m[0]))?.metrics.push({
          key: names.get(Number(m[1])) ?? '',
          last: m[3] === 1 ? NaN : Number(m[2]),
          min: m[4] === null ? NaN : Number(m[4]),
          max: m[5] === null ? NaN : Number(m[5]),
          count: Number(m[6]),
          nan: Number(m[7]),
          lastStep: m[8] === null ? null : Number(m[8]),
        });
      }
    }
    return result;
  }

  private static readonly COLUMNS =
    'r.id, r.name, r.status, r.started_ms, r.ended_ms, r.exit_code, r.branch, r.head, r.snapshot, r.dirty, r.host, r.user, r.problems, r.reproduces, r.rid, r.source_kind, r.source_experiment, r.script';

  private selectRuns(where: Expr | null, sort: SortKey[], limit: number | undefined, now: number): SqlValue[][] {
    const only = sort.length === 1 ? sort[0]! : null;
    if (limit !== undefined && only?.field.kind === 'metric') return this.selectByMetric(where, only.field.key, only.descending, Math.max(0, Math.floor(limit)), now);
    const compiler = new SqlCompiler(now);
    const condition = compiler.where(where);
    const { joins, order } = compiler.orderBy(sort);
    const limitSql = limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(limit))}` : '';
    return this.rows(`SELECT ${RunIndex.COLUMNS} FROM runs r ${joins} WHERE ${condition} ORDER BY ${order}${limitSql}`, compiler.bindings);
  }

  /**
   * The first rows by one metric, the common way to look at runs. Walking the
   * (kid, last) index in order stops at the limit instead of sorting every
   * match; runs without the metric (or with NaN) follow, newest first, as in
   * the general ORDER BY.
   */
  private selectByMetric(where: Expr | null, key: string, descending: boolean, limit: number, now: number): SqlValue[][] {
    const compiler = new SqlCompiler(now);
    const condition = compiler.where(where);
    const dir = descending ? 'DESC' : 'ASC';
    const bindings = { ...compiler.bindings, ':sortkey': key };
    const kid = '(SELECT kid FROM keys WHERE name = :sortkey)';
    const found = this.rows(
      `SELECT ${RunIndex.COLUMNS} FROM metrics s JOIN runs r ON r.rid = s.rid
       WHERE s.kid = ${kid} AND s.last IS NOT NULL AND ${condition}
       ORDER BY s.last ${dir}, r.started_ms DESC, r.id DESC LIMIT ${limit}`,
      bindings,
    );
    if (found.length >= limit) return found;
    const rest = this.rows(
      `SELECT ${RunIndex.COLUMNS} FROM runs r
       WHERE NOT (+r.rid IN (SELECT rid FROM metrics WHERE kid = ${kid} AND last IS NOT NULL)) AND ${condition}
       ORDER BY r.started_ms DESC, r.id DESC LIMIT ${limit - found.length}`,
      bindings,
    );
    return [...found, ...rest];
  }

  /** How many runs match `where`. */
  countWhere(where: Expr | null, now: number = Date.now()): number {
    const compiler = new SqlCompiler(now);
    const condition = compiler.where(where);
    return Number(this.rows(`SELECT count(*) FROM runs r WHERE ${condition}`, compiler.bindings)[0]?.[0] ?? 0);
  }

  /**
   * The value of param `key` in each run of a script, or of the runs that
   * loaded a config file, with the last value of `metric` there: what a hover
   * on that param sums up. Values are text as the query language prints them.
   */
  paramAcrossRuns(key: string, scope: { script: string } | { configFile: string }, metric: string | null): ParamInRun[] {
    const inScope = 'script' in scope ? 'r.script = :scope' : 'r.rid IN (SELECT rid FROM config_files WHERE path = :scope)';
    return this.rows(
      `SELECT r.id, r.name, r.started_ms, p.type, p.num, p.text, m.last, m.last_nan FROM runs r
       JOIN params p ON p.rid = r.rid AND p.kid = (SELECT kid FROM keys WHERE name = :key)
       LEFT JOIN metrics m ON m.rid = r.rid AND m.kid = (SELECT kid FROM keys WHERE name = :metric)
       WHERE ${inScope}`,
      { ':key': key, ':metric': metric, ':scope': 'script' in scope ? scope.script : scope.configFile },
    ).map((r) => ({
      id: String(r[0]),
      name: String(r[1]),
      startedMs: r[2] === null ? null : Number(r[2]),
      value: r[3] === 'n' ? (r[4] === null ? 'NaN' : String(r[4])) : r[3] === 'z' ? null : String(r[5]),
      metric: r[6] === null || r[7] === 1 ? null : Number(r[6]),
    }));
  }

  /** How many runs a script ran, or loaded a config file. */
  countInScope(scope: { script: string } | { configFile: string }): number {
    const sql = 'script' in scope ? 'SELECT count(*) FROM runs WHERE script = :scope' : 'SELECT count(*) FROM config_files WHERE path = :scope';
    return Number(this.rows(sql, { ':scope': 'script' in scope ? scope.script : scope.configFile })[0]?.[0] ?? 0);
  }

  /** The names of every param and every metric some run has, for choosing table columns. */
  keyNames(): { params: string[]; metrics: string[] } {
    if (!this.keyNamesCache) {
      const names = (table: 'params' | 'metrics') => this.rows(`SELECT k.name FROM keys k WHERE k.kid IN (SELECT DISTINCT kid FROM ${table}) ORDER BY k.name`).map((r) => String(r[0]));
      const metrics = names('metrics');
      this.keyNamesCache = { params: names('params'), metrics, metricSet: new Set(metrics) };
    }
    return { params: [...this.keyNamesCache.params], metrics: [...this.keyNamesCache.metrics] };
  }

  /** Values of the given params for the given runs: run id → key → value as text (null when null). */
  paramValues(runIds: string[], keys: string[]): Map<string, Record<string, string | null>> {
    const out = new Map<string, Record<string, string | null>>();
    if (runIds.length === 0 || keys.length === 0) return out;
    const wanted = new Set(runIds);
    const bindings: Record<string, SqlValue> = {};
    keys.forEach((k, i) => (bindings[`:k${i}`] = k));
    // A screenful of runs is looked up by id; for thousands, one pass over the keys' rows is cheaper than binding them all.
    const byId = runIds.length <= 1000;
    if (byId) runIds.forEach((id, i) => (bindings[`:r${i}`] = id));
    for (const r of this.rows(
      `SELECT r.id, k.name, p.type, p.num, p.text FROM params p JOIN keys k ON k.kid = p.kid JOIN runs r ON r.rid = p.rid
       WHERE k.name IN (${keys.map((_, i) => `:k${i}`).join(',')})${byId ? ` AND r.id IN (${runIds.map((_, i) => `:r${i}`).join(',')})` : ''}`,
      bindings,
    )) {
      const id = String(r[0]);
      if (!wanted.has(id)) continue;
      const value = r[2] === 'n' ? (r[3] === null ? 'NaN' : String(r[3])) : r[2] === 'z' ? null : String(r[4]);
      (out.get(id) ?? out.set(id, {}).get(id)!)[String(r[1])] = value;
    }
    return out;
  }

  /** Writes the index atomically, when anything changed since it was opened or saved. */
  save(): boolean {
    const bytes = this.exportIfDirty();
    if (!bytes) return false;
    fs.mkdirSync(this.storeDir, { recursive: true });
    writeFileAtomic(path.join(this.storeDir, INDEX_FILE), bytes);
    return true;
  }

  /** The writes of saves in flight, one after another: a later save's file must not be replaced by an earlier one's. */
  private writing: Promise<unknown> = Promise.resolve();

  /**
   * save() for the editor: the database is copied out on the thread (sql.js can do no other), and
   * written, synced and renamed off it. At 100,000 runs the write and fsync were most of 0.7 s.
   * A failed write marks the index dirty again, so the next save tries again.
   */
  async saveAsync(): Promise<boolean> {
    const bytes = this.exportIfDirty();
    if (!bytes) return false;
    const file = path.join(this.storeDir, INDEX_FILE);
    const write = this.writing.then(async () => {
      await fs.promises.mkdir(this.storeDir, { recursive: true });
      await writeFileAtomicAsync(file, bytes);
    });
    this.writing = write.catch(() => undefined);
    try {
      await write;
    } catch (err) {
      this.dirty = true;
      throw err;
    }
    return true;
  }

  /** The database's bytes when it changed since the last save (clearing that), else null. */
  private exportIfDirty(): Uint8Array | null {
    if (!this.dirty) return null;
    this.makePendingIndexes();
    this.analyzeIfGrown();
    this.freeStatements();
    const bytes = this.db.export();
    // export() reopens the database, which drops user functions.
    this.registerFunctions();
    this.dirty = false;
    return sealed(bytes);
  }

  /**
   * Table statistics let SQLite pick between a subquery's index and the runs'
   * order; they are refreshed when the number of runs moved by a quarter since
   * the last time (about 150 ms at 10k runs, so not on every save).
   */
  private analyzeIfGrown(): void {
    const runs = this.count();
    const analyzed = Number(this.rows("SELECT value FROM meta WHERE key = 'analyzed_runs'")[0]?.[0] ?? -1);
    if (analyzed >= 0 && Math.abs(runs - analyzed) <= analyzed / 4) return;
    this.db.run('ANALYZE');
    this.db.run("INSERT OR REPLACE INTO meta(key, value) VALUES ('analyzed_runs', :n)", { ':n': String(runs) });
  }

  close(): void {
    this.freeStatements();
    this.db.close();
  }
}
