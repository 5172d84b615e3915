import { formatNumber } from '../../src/core/format';

/**
 * Where a field's values go along an axis, from 0 to 1: numbers linearly or
 * on a log scale, text as ordered categories (sorted, numbers among them
 * shown as text). A value the axis cannot place (missing, NaN, ≤ 0 on a log
 * axis) is NaN, and is not drawn.
 */
export interface Axis {
  kind: 'number' | 'category';
  position(value: number | string | null): number;
  ticks(): { at: number; label: string }[];
  /** A value at a position, for brushes' labels. */
  label(at: number): string;
}

export function makeAxis(values: readonly (number | string | null)[], log = false): Axis {
  if (values.some((v) => typeof v === 'string')) return categoryAxis(values);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v) || (log && v <= 0)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) {
    min = 0;
    max = 1;
  }
  if (log) {
    const lo = Math.log10(min);
    const hi = Math.log10(max) === lo ? lo + 1 : Math.log10(max);
    return {
      kind: 'number',
      position: (v) => (typeof v === 'number' && v > 0 && Number.isFinite(v) ? (Math.log10(v) - lo) / (hi - lo) : NaN),
      ticks: () => {
        const out: { at: number; label: string }[] = [];
        for (let e = Math.ceil(lo); e <= Math.floor(hi) && out.length < 12; e++) out.push({ at: (e - lo) / (hi - lo), label: formatNumber(10 ** e) });
        return out.length ? out : [{ at: 0, label: formatNumber(min) }, { at: 1, label: formatNumber(max) }];
      },
      label: (at) => formatNumber(10 ** (lo + at * (hi - lo))),
    };
  }
  if (min === max) {
    min -= 0.5;
    max += 0.5;
  }
  const span = max - min;
  return {
    kind: 'number',
    position: (v) => (typeof v === 'number' && Number.isFinite(v) ? (v - min) / span : NaN),
    ticks: () => {
      const step = niceStep(span / 5);
      const out: { at: number; label: string }[] = [];
      for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) out.push({ at: (t - min) / span, label: formatNumber(Math.abs(t) < step * 1e-9 ? 0 : t) });
      return out;
    },
    label: (at) => formatNumber(min + at * span),
  };
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function categoryAxis(values: readonly (number | string | null)[]): Axis {
  const categories = [...new Set(values.filter((v): v is number | string => v !== null && !(typeof v === 'number' && Number.isNaN(v))).map(String))].sort((a, b) =>
    a.localeCompare(b, undefined, { numeric: true }),
  );
  const index = new Map(categories.map((c, i) => [c, i]));
  const at = (i: number) => (categories.length === 1 ? 0.5 : i / (categories.length - 1));
  return {
    kind: 'category',
    position: (v) => (v === null ? NaN : at(index.get(String(v)) ?? NaN)),
    ticks: () => {
      const every = Math.max(1, Math.ceil(categories.length / 12));
      return categories.filter((_, i) => i % every === 0).map((c) => ({ at: at(index.get(c)!), label: c.length > 14 ? `${c.slice(0, 13)}…` : c }));
    },
    label: (p) => categories[Math.round(p * (categories.length - 1))] ?? '',
  };
}
