import type { IndexedRun } from '../core/index/runIndex';

export { formatNumber } from '../core/format';

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
