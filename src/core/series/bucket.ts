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

/**
 * The same result as parallel typed arrays, one entry per non-empty bucket
 * (or per point): what crosses to a chart, because a webview message carries
 * typed arrays as bytes, where an array of objects is cloned field by field.
 */
export type BucketedColumns =
  | { kind: 'points'; xs: Float64Array; ys: Float64Array; range: [number, number] | null; inRange: number }
  | {
      kind: 'buckets';
      /** Each bucket's number among all `buckets` over the range: bucket k starts at range[0] + k × width. */
      bucket: Uint32Array;
      width: number;
      x0: Float64Array;
      x1: Float64Array;
      min: Float64Array;
      max: Float64Array;
      last: Float64Array;
      lastX: Float64Array;
      count: Uint32Array;
      nan: Uint32Array;
      range: [number, number];
      inRange: number;
    };

export type Bucketed =
  | { kind: 'points'; points: SeriesPoint[]; range: [number, number] | null; inRange: number }
  | { kind: 'buckets'; buckets: Bucket[]; range: [number, number]; inRange: number };

/**
 * The points of one series with x in `range` (all of them without a range):
 * exact when there are at most `buckets` of them, else `buckets` equal-width
 * buckets over the range, empty ones left out. Points whose x is NaN (no wall
 * time) are left out.
 */
export function bucketColumns(x: Float64Array, y: Float64Array, buckets: number, range?: [number, number]): BucketedColumns {
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
  if (inRange === 0) return { kind: 'points', xs: new Float64Array(0), ys: new Float64Array(0), range: range ?? null, inRange: 0 };
  if (inRange <= buckets) {
    const px = new Float64Array(inRange);
    const py = new Float64Array(inRange);
    for (let i = 0, k = 0; i < n; i++) {
      const xi = x[i]!;
      if (xi >= lo && xi <= hi) {
        px[k] = xi;
        py[k++] = y[i]!;
      }
    }
    return { kind: 'points', xs: px, ys: py, range: [lo, hi], inRange };
  }
  const acc = new BucketAccumulator(lo, hi, buckets);
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    if (xi >= lo && xi <= hi) acc.addPoint(xi, y[i]!);
  }
  return acc.finish(inRange);
}

/**
 * Equal-width buckets over [lo, hi], filled point by point in file order, or
 * by whole chunks whose points all fall in one bucket (from the series
 * cache's chunk summaries): both give the same extremes, counts and last.
 */
export class BucketAccumulator {
  readonly width: number;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly last: Float64Array;
  private readonly lastX: Float64Array;
  private readonly count: Uint32Array;
  private readonly nan: Uint32Array;

  constructor(
    private readonly lo: number,
    private readonly hi: number,
    private readonly buckets: number,
  ) {
    this.width = (hi - lo) / buckets;
    this.min = new Float64Array(buckets).fill(NaN);
    this.max = new Float64Array(buckets).fill(NaN);
    this.last = new Float64Array(buckets).fill(NaN);
    this.lastX = new Float64Array(buckets).fill(NaN);
    this.count = new Uint32Array(buckets);
    this.nan = new Uint32Array(buckets);
  }

  /** The bucket of an x in [lo, hi]. Division, not a multiplied reciprocal: the two disagree on points that sit on a boundary. */
  bucketOf(x: number): number {
    const b = this.width > 0 ? ((x - this.lo) / this.width) | 0 : 0;
    return b >= this.buckets ? this.buckets - 1 : b;
  }

  /** One point with x in [lo, hi]. */
  addPoint(x: number, y: number): void {
    const b = this.bucketOf(x);
    this.count[b]!++;
    this.last[b] = y;
    this.lastX[b] = x;
    if (y !== y) {
      this.nan[b]!++;
      return;
    }
    if (!(y >= this.min[b]!)) this.min[b] = y;
    if (!(y <= this.max[b]!)) this.max[b] = y;
  }

  /** Consecutive points, all in bucket `b`, given by their summary (extremes NaN when every y is NaN). */
  addChunk(b: number, count: number, nan: number, yMin: number, yMax: number, yLast: number, xLast: number): void {
    this.count[b]! += count;
    this.nan[b]! += nan;
    this.last[b] = yLast;
    this.lastX[b] = xLast;
    if (yMin !== yMin) return; // every y NaN: no extremes to merge
    if (!(yMin >= this.min[b]!)) this.min[b] = yMin;
    if (!(yMax <= this.max[b]!)) this.max[b] = yMax;
  }

  finish(inRange: number): BucketedColumns {
    const { buckets, lo, hi, width, count } = this;
    let used = 0;
    for (let b = 0; b < buckets; b++) if (count[b] !== 0) used++;
    const out = {
      bucket: new Uint32Array(used),
      x0: new Float64Array(used),
      x1: new Float64Array(used),
      min: new Float64Array(used),
      max: new Float64Array(used),
      last: new Float64Array(used),
      lastX: new Float64Array(used),
      count: new Uint32Array(used),
      nan: new Uint32Array(used),
    };
    for (let b = 0, k = 0; b < buckets; b++) {
      if (count[b] === 0) continue;
      out.bucket[k] = b;
      out.x0[k] = lo + b * width;
      out.x1[k] = b === buckets - 1 ? hi : lo + (b + 1) * width;
      out.min[k] = this.min[b]!;
      out.max[k] = this.max[b]!;
      out.last[k] = this.last[b]!;
      out.lastX[k] = this.lastX[b]!;
      out.count[k] = count[b]!;
      out.nan[k] = this.nan[b]!;
      k++;
    }
    return { kind: 'buckets', ...out, width, range: [lo, hi], inRange };
  }
}

/** bucketColumns as objects, for JSON output and for readers who want one record per bucket. */
export function bucketSeries(x: Float64Array, y: Float64Array, buckets: number, range?: [number, number]): Bucketed {
  return asObjects(bucketColumns(x, y, buckets, range));
}

export function asObjects(columns: BucketedColumns): Bucketed {
  if (columns.kind === 'points') {
    const points: SeriesPoint[] = [];
    for (let i = 0; i < columns.xs.length; i++) points.push({ x: columns.xs[i]!, y: columns.ys[i]! });
    return { kind: 'points', points, range: columns.range, inRange: columns.inRange };
  }
  const buckets: Bucket[] = [];
  for (let k = 0; k < columns.x0.length; k++) {
    buckets.push({ x0: columns.x0[k]!, x1: columns.x1[k]!, min: columns.min[k]!, max: columns.max[k]!, last: columns.last[k]!, lastX: columns.lastX[k]!, count: columns.count[k]!, nan: columns.nan[k]! });
  }
  return { kind: 'buckets', buckets, range: columns.range, inRange: columns.inRange };
}
