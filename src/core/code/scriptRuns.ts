import type { IndexedRun, RunIndex } from '../index/runIndex';
import type { Expr } from '../query/ast';
import { metricGoal, type MetricGoal } from './metricGoal';

/** `script = "<path>"`: the runs of one file. */
export function scriptIs(script: string): Expr {
  return { kind: 'cmp', field: { kind: 'attr', name: 'script' }, op: '=', value: { kind: 'string', value: script }, pos: 0 };
}

/** What the lens at the top of a training script says about its runs. */
export interface ScriptSummary {
  script: string;
  runs: number;
  /** The metric runs are judged by, and whether high or low is better. */
  metric: { key: string; goal: MetricGoal } | null;
  /** The run with the best last value of that metric. */
  best: { run: IndexedRun; value: number } | null;
  /** Newest first, at most `recent` of them (the newest is `[0]`). */
  recent: IndexedRun[];
}

/**
 * Sums up the runs of a script from the index: how many, the best by the
 * primary metric (the setting's, else the first the newest runs logged), and
 * the newest. Three indexed queries, whatever the number of runs.
 */
export function summarizeScript(index: RunIndex, script: string, preferredMetric: string, goals: Readonly<Record<string, string>> = {}, recent = 5): ScriptSummary | null {
  const where = scriptIs(script);
  const newest = index.query(where, [], recent);
  if (newest.length === 0) return null;
  const runs = newest.length < recent ? newest.length : index.countWhere(where);
  const key = preferredMetric || newest.find((r) => r.metrics.length > 0)?.metrics[0]?.key;
  if (!key) return { script, runs, metric: null, best: null, recent: newest };
  const goal = metricGoal(key, goals);
  const [top] = index.query(where, [{ field: { kind: 'metric', key }, descending: goal === 'max' }], 1);
  const value = top?.metrics.find((m) => m.key === key)?.last;
  return { script, runs, metric: { key, goal }, best: top && value !== undefined && !Number.isNaN(value) ? { run: top, value } : null, recent: newest };
}
