/**
 * Min/max/last bucketing (DESIGN.md section 4): a chart never gets more than
 * about two points per pixel column, yet every spike survives because each
 * bucket keeps its extremes. NaN is counted, never plotted as 0; ±Infinity is
 * kept as it is.
 */

export interface SeriesPoint {
  x: number;
  y: number;
}

export interface Bucket {
  /** The bucket's x span: [x0, x1), the last bucket closed. */
  x0: number;
  x1: number;
  /** Extremes of the non-NaN values; NaN when the bucket holds only NaN. */
  min: number;
  max: number;
  /** The last value logged in the bucket (in file order), and its x. */
  last: number;
  lastX: number;
  count: number;
  nan: number;
}

export type Bucketed =
  | { kind: 'points'; points: SeriesPoint[]; range: [number, number] | null; inRange: number }
  | { kind: 'buckets'; buckets: Bucket[]; range: [number, number]; inRange: number };

/**
 * The points of one series with x in `range` (all of them without a range):
 * exact when there are at most `buckets` of them, else `buckets` equal-width
 * buckets over the range. Points whose x is NaN (no wall time) are left out.
 */
export function bucketSeries(x: Float64Array, y: Float64Array, buckets: number, range?: [number, number]): Bucketed {
  const n = x.length;
  let lo = range ? range[0] : Infinity;
  let hi = range ? range[1] : -Infinity;
  let inRange = 0;
  if (!range) {
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      if (xi !== xi) continue;
      if (xi < lo) lo = xi;
      if (xi > hi) hi = xi;
      inRange++;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      if (xi >= lo && xi <= hi) inRange++;
    }
  }
  if (inRange === 0) return { kind: 'points', points: [], range: range ?? null, inRange: 0 };
  if (inRange <= buckets) {
    const points: SeriesPoint[] = [];
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      if (xi >= lo && xi <= hi) points.push({ x: xi, y: y[i]! });
    }
    return { kind: 'points', points, range: [lo, hi], inRange };
  }
  const width = (hi - lo) / buckets;
  const min = new Float64Array(buckets).fill(NaN);
  const max = new Float64Array(buckets).fill(NaN);
  const last = new Float64Array(buckets).fill(NaN);
  const lastX = new Float64Array(buckets).fill(NaN);
  const count = new Uint32Array(buckets);
  const nan = new Uint32Array(buckets);
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    if (!(xi >= lo && xi <= hi)) continue;
    // Division, not a multiplied reciprocal: the two disagree on points that sit on a boundary.
    let b = width > 0 ? ((xi - lo) / width) | 0 : 0;
    if (b >= buckets) b = buckets - 1;
    const yi = y[i]!;
    count[b]!++;
    last[b] = yi;
    lastX[b] = xi;
    if (yi !== yi) {
      nan[b]!++;
      continue;
    }
    if (!(yi >= min[b]!)) min[b] = yi;
    if (!(yi <= max[b]!)) max[b] = yi;
  }
  const out: Bucket[] = [];
  for (let b = 0; b < buckets; b++) {
    if (count[b] === 0) continue;
    out.push({ x0: lo + b * width, x1: b === buckets - 1 ? hi : lo + (b + 1) * width, min: min[b]!, max: max[b]!, last: last[b]!, lastX: lastX[b]!, count: count[b]!, nan: nan[b]! });
  }
  return { kind: 'buckets', buckets: out, range: [lo, hi], inRange };
}
