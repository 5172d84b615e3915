import * as fs from 'node:fs';
import type { Database, SqlValue } from 'sql.js';
import { loadSqlJs } from '../index/sqlite';
import { mlflowStatus } from './mlflowFiles';
import { emptyRun, newSeries, SourceFormatError, type FoundSource, type ImportProblem, type ImportedRun, type RunHandle } from './types';
import { typedParam } from './sourceFiles';

/**
 * MLflow's SQLite store (`mlflow.db`, the default since MLflow 3.7), read
 * with sql.js. The schema differs across MLflow's migrations, so tables and
 * columns are looked up, not assumed: `runs`, `params`, `tags`, `metrics`
 * (with `is_nan` in newer ones), `experiments`. `status` is text here.
 */

const SQLITE_HEADER = 'SQLite format 3\0';
/** sql.js holds the database in memory; a store bigger than this is refused with the reason. */
export const MAX_DB_BYTES = 2 * 1024 * 1024 * 1024;

export function isSqliteFile(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(16);
      return fs.readSync(fd, buf, 0, 16, 0) === 16 && buf.toString('latin1') === SQLITE_HEADER;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

async function openDb(file: string): Promise<Database> {
  const size = fs.statSync(file).size;
  if (size > MAX_DB_BYTES) throw new SourceFormatError(`${size} bytes is more than sql.js can hold in memory`);
  const SQL = await loadSqlJs();
  return new SQL.Database(fs.readFileSync(file));
}

function columnsOf(db: Database, table: string): Set<string> {
  const result = db.exec(`PRAGMA table_info("${table.replace(/"/g, '""')}")`);
  return new Set((result[0]?.values ?? []).map((row) => String(row[1])));
}

function tablesOf(db: Database): Set<string> {
  return new Set((db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values ?? []).map((row) => String(row[0])));
}

/** True when the file is an MLflow tracking database: it has runs and experiments tables with a run id column. */
export async function isMlflowDb(file: string): Promise<boolean> {
  if (!isSqliteFile(file)) return false;
  let db: Database | null = null;
  try {
    db = await openDb(file);
    const tables = tablesOf(db);
    return tables.has('runs') && tables.has('experiments') && columnsOf(db, 'runs').has('run_uuid');
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

function rows(db: Database, sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] {
  const statement = db.prepare(sql);
  try {
    statement.bind(params);
    const out: Record<string, SqlValue>[] = [];
    while (statement.step()) out.push(statement.getAsObject());
    return out;
  } finally {
    statement.free();
  }
}

export function mlflowSqliteSource(file: string): FoundSource {
  let db: Database | null = null;
  return {
    kind: 'mlflow-sqlite',
    path: file,
    async runs(problems: ImportProblem[]): Promise<RunHandle[]> {
      try {
        db = await openDb(file);
      } catch (err) {
        problems.push({ path: file, reason: (err as Error).message });
        return [];
      }
      const open = db;
      const tables = tablesOf(open);
      const runColumns = columnsOf(open, 'runs');
      const pick = (name: string) => (runColumns.has(name) ? `r."${name}"` : 'NULL');
      const experiments = tables.has('experiments');
      const list = rows(
        open,
        `SELECT r.run_uuid AS id, ${pick('name')} AS name, ${pick('status')} AS status, ${pick('start_time')} AS start, ${pick('end_time')} AS end,
           ${pick('lifecycle_stage')} AS stage, ${pick('user_id')} AS user, ${pick('artifact_uri')} AS artifacts,
           ${experiments && runColumns.has('experiment_id') ? 'e.name' : 'NULL'} AS experiment, ${experiments && runColumns.has('experiment_id') && columnsOf(open, 'experiments').has('lifecycle_stage') ? 'e.lifecycle_stage' : 'NULL'} AS experimentStage
         FROM runs r ${experiments && runColumns.has('experiment_id') ? 'LEFT JOIN experiments e ON e.experiment_id = r.experiment_id' : ''}
         ORDER BY ${runColumns.has('start_time') ? 'r.start_time' : 'r.run_uuid'}`,
      );
      const hasNan = tables.has('metrics') && columnsOf(open, 'metrics').has('is_nan');
      const hasStep = tables.has('metrics') && columnsOf(open, 'metrics').has('step');
      const handles = list.map((row) => {
        const id = String(row.id);
        return {
          originalId: id,
          // The database is one file: any change to it reads its runs again.
          files: [file],
          load: async (): Promise<ImportedRun> => {
            const run = emptyRun(id, '');
            const tags = new Map<string, string>();
            if (tables.has('tags')) for (const t of rows(open, 'SELECT key, value FROM tags WHERE run_uuid = ?', [id])) tags.set(String(t.key), t.value === null ? '' : String(t.value));
            run.name = (typeof row.name === 'string' && row.name) || tags.get('mlflow.runName') || id.slice(0, 8);
            run.status = mlflowStatus(row.status);
            run.startedAt = typeof row.start === 'number' ? row.start : null;
            run.endedAt = typeof row.end === 'number' ? row.end : null;
            run.user = (typeof row.user === 'string' && row.user) || tags.get('mlflow.user') || null;
            run.experiment = typeof row.experiment === 'string' ? row.experiment : null;
            run.deletedAtSource = row.stage === 'deleted' || row.experimentStage === 'deleted';
            run.tags = Object.fromEntries(tags);
            run.gitCommit = tags.get('mlflow.source.git.commit')?.trim() || null;
            if (typeof row.artifacts === 'string') run.extra.artifactUri = row.artifacts;
            if (tables.has('params')) for (const p of rows(open, 'SELECT key, value FROM params WHERE run_uuid = ?', [id])) run.params[String(p.key)] = typedParam(String(p.value ?? ''));
            if (tables.has('metrics')) {
              const points = rows(
                open,
                `SELECT key, value, timestamp, ${hasStep ? 'step' : '0'} AS step, ${hasNan ? 'is_nan' : '0'} AS nan FROM metrics WHERE run_uuid = ? ORDER BY key, step, timestamp`,
                [id],
              );
              for (const p of points) {
                const key = String(p.key);
                let series = run.metrics.get(key);
                if (!series) run.metrics.set(key, (series = newSeries()));
                series.step.push(Number(p.step ?? 0));
                series.t.push(typeof p.timestamp === 'number' ? p.timestamp / 1000 : NaN);
                series.value.push(Number(p.nan) === 1 || p.value === null ? NaN : Number(p.value));
              }
            }
            return run;
          },
        };
      });
      return handles;
    },
    close() {
      db?.close();
      db = null;
    },
  };
}

