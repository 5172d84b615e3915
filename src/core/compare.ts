import { SOURCE_NAMES } from './import/types';
import type { RunRecord } from './runRecord';
import { metricGoal } from './code/metricGoal';

export interface ComparedRun {
  id: string;
  name: string;
  status: string;
  branch: string | null;
  commit: string | null;
  dirty: boolean;
  startedAt: string;
  /** For an imported run: the tool it came from and its experiment there, as people read them ("MLflow · wine_quality"). */
  source: string | null;
  /** Who ran it, where: `user@host`. */
  author: string;
}

export interface ParamRow {
  key: string;
  /** One per run, as text; null when the run has no such param. */
  values: (string | null)[];
  differs: boolean;
  /** Where each run got it: `cli`, `argv`, `config:<file>`, `run`. */
  sources: (string | null)[];
}

export interface MetricRow {
  key: string;
  last: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  /** Lower is better for losses and errors, higher for the rest. */
  goal: 'min' | 'max';
  /** The index of the best run by its last value, when any is a number. */
  best: number | null;
}

export interface ValueRow {
  key: string;
  values: (string | null)[];
}

export interface Comparison {
  runs: ComparedRun[];
  params: ParamRow[];
  metrics: MetricRow[];
  /** Interpreter and packages, only where the runs differ. */
  environment: ValueRow[];
  /** Declared inputs whose hashes differ (or that some runs lack). */
  data: ValueRow[];
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}

function union(lists: string[][]): string[] {
  return [...new Set(lists.flat())].sort();
}

function differs(values: (string | null)[]): boolean {
  return values.some((v) => v !== values[0]);
}

/**
 * Everything a comparison of any number of runs shows, side by side. No cap on
 * the number of runs: the rows grow with the union of their keys.
 */
export function buildComparison(records: RunRecord[]): Comparison {
  const runs = records.map((r) => ({
    id: r.id,
    name: r.name,
    status: r.status,
    branch: r.git?.branch ?? null,
    commit: r.git?.head ?? r.git?.snapshot ?? null,
    source: r.source ? [SOURCE_NAMES[r.source.kind] ?? r.source.kind, r.source.experiment].filter(Boolean).join(' · ') : null,
    dirty: r.git?.dirty ?? false,
    startedAt: r.startedAt,
    author: `${r.user}@${r.host}`,
  }));
  const params = union(records.map((r) => Object.keys(r.params))).map((key) => {
    const values = records.map((r) => (Object.prototype.hasOwnProperty.call(r.params, key) ? show(r.params[key]) : null));
    return { key, values, differs: differs(values), sources: records.map((r) => r.paramSources[key] ?? null) };
  });
  const metrics = union(records.map((r) => Object.keys(r.metricsSummary?.metrics ?? {}))).map((key): MetricRow => {
    const of = (pick: 'last' | 'min' | 'max') => records.map((r) => r.metricsSummary?.metrics[key]?.[pick] ?? null);
    const last = of('last');
    const goal = metricGoal(key);
    let best: number | null = null;
    last.forEach((v, i) => {
      if (v === null || Number.isNaN(v)) return;
      if (best === null || (goal === 'min' ? v < last[best]! : v > last[best]!)) best = i;
    });
    return { key, last, min: of('min'), max: of('max'), goal, best };
  });
  const environment: ValueRow[] = [];
  const python = records.map((r) => r.env?.python?.version ?? null);
  if (differs(python)) environment.push({ key: 'python', values: python });
  for (const pkg of union(records.map((r) => Object.keys(r.env?.python?.packages ?? {})))) {
    const values = records.map((r) => r.env?.python?.packages[pkg] ?? null);
    if (differs(values)) environment.push({ key: pkg, values });
  }
  const data = union(records.map((r) => r.data.map((d) => d.path)))
    .map((p) => ({ key: p, values: records.map((r) => r.data.find((d) => d.path === p)?.sha256 ?? null) }))
    .filter((row) => differs(row.values));
  return { runs, params, metrics, environment, data };
}
