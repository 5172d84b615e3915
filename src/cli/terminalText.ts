import { formatNumber as formatCoreNumber } from '../core/format';

import { safeText } from '../core/safeText';

/**
 * Run-provided text (names, params, paths) may hold escape sequences that would
 * drive the terminal; they are shown as visible escapes instead.
 */
export { safeText };

export function truncate(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, Math.max(0, width - 1)) + '…';
}

/** Numbers for a terminal, where ∞ may not render. */
export function formatNumber(value: number): string {
  return formatCoreNumber(value, 'inf');
}

export function formatAge(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

export function formatDuration(startIso: string, endIso: string | null, now = Date.now()): string {
  const seconds = Math.max(0, ((endIso ? Date.parse(endIso) : now) - Date.parse(startIso)) / 1000);
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** A plain left-aligned table; cells are made safe for the terminal. */
export function table(header: string[], rows: string[][]): string {
  const safeRows = rows.map((row) => row.map(safeText));
  const widths = header.map((h, i) => Math.max(h.length, ...safeRows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...safeRows.map(line)].join('\n');
}
