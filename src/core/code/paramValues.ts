import type { ParamInRun, RunIndex } from '../index/runIndex';
import { isBetter, metricGoal, type MetricGoal } from './metricGoal';

/** One value a param took: in how many runs, and the best of them by the metric. */
export interface ParamValueRow {
  /** As the query language prints it: `0.01`, `true`, `adam`; null for null. */
  value: string | null;
  runs: number;
  best: { id: string; name: string; metric: number } | null;
}

export interface ParamStats {
  key: string;
  metric: { key: string; goal: MetricGoal } | null;
  /** The best values first (by their best run), then the values no run of which has the metric, by count. */
  rows: ParamValueRow[];
  /** Values beyond the rows shown. */
  more: number;
  /** Runs in the scope that have no value for the param (a script's flag left at its default). */
  without: number;
  /** Every value some run had (also those beyond `rows`). */
  tried: Set<string | null>;
  /** The best run over every value. */
  best: { id: string; name: string; value: string | null; metric: number } | null;
}

/**
 * The values param `key` took across the runs of a script (or of a config
 * file), with the primary metric: what a hover on that param shows.
 */
export function paramStats(
  index: RunIndex,
  key: string,
  scope: { script: string } | { configFile: string },
  metricKey: string | null,
  goals: Readonly<Record<string, string>> = {},
  limit = 8,
): ParamStats {
  const goal = metricKey ? metricGoal(metricKey, goals) : 'max';
  const runs = index.paramAcrossRuns(key, scope, metricKey);
  const byValue = new Map<string | null, { runs: number; best: ParamInRun | null }>();
  for (const run of runs) {
    const row = byValue.get(run.value) ?? byValue.set(run.value, { runs: 0, best: null }).get(run.value)!;
    row.runs++;
    if (run.metric !== null && (row.best === null || isBetter(run.metric, row.best.metric!, goal))) row.best = run;
  }
  const rows: ParamValueRow[] = [...byValue].map(([value, row]) => ({
    value,
    runs: row.runs,
    best: row.best ? { id: row.best.id, name: row.best.name, metric: row.best.metric! } : null,
  }));
  rows.sort((a, b) => {
    if (a.best && b.best && a.best.metric !== b.best.metric) return isBetter(a.best.metric, b.best.metric, goal) ? -1 : 1;
    if (Boolean(a.best) !== Boolean(b.best)) return a.best ? -1 : 1;
    return b.runs - a.runs || String(a.value).localeCompare(String(b.value));
  });
  const top = rows.find((r) => r.best);
  return {
    key,
    metric: metricKey ? { key: metricKey, goal } : null,
    rows: rows.slice(0, limit),
    more: Math.max(0, rows.length - limit),
    without: index.countInScope(scope) - runs.length,
    tried: new Set(byValue.keys()),
    best: top?.best ? { ...top.best, value: top.value } : null,
  };
}

/** The text a value from a file has in the index: numbers as JavaScript prints them, so `1e-3` is `0.001`. */
export function indexText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'boolean') return String(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A query that keeps the runs where the param has this value: `params.lr = 0.01`. */
export function paramEqualsQuery(key: string, value: string | null): string {
  const name = /^[A-Za-z_][\w./-]*$/.test(key) ? key : `\`${key.replace(/`/g, '')}\``;
  if (value === null) return `params.${name} = null`;
  const literal = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value) || value === 'true' || value === 'false' ? value : `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return `params.${name} = ${literal}`;
}
