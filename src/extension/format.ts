import type { IndexedRun } from '../core/index/runIndex';

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}

export function formatAge(iso: string | null, now = Date.now()): string {
  if (!iso) return '';
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

/** The metric a run is summed up by: the setting, else the first one it logged. */
export function primaryMetric(run: IndexedRun, preferred: string): { key: string; value: number } | null {
  const m = (preferred && run.metrics.find((x) => x.key === preferred)) || run.metrics[0];
  return m ? { key: m.key, value: m.last } : null;
}
