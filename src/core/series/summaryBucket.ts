import { BucketAccumulator, type BucketedColumns } from './bucket';
import { CHUNK, type RunSeriesCache, S, SUMMARY_FIELDS } from './seriesCache';

const SIZE = SUMMARY_FIELDS.length;

/**
 * bucketColumns over one metric of the cache, reading chunk summaries where
 * a whole chunk falls in one bucket and points only for the chunks that
 * straddle a bucket edge or the range, or hold points without an x. The
 * result is the one bucketColumns gives on all the points (x shifted by
 * `shift`: relative time is wall time minus the run's first time).
 */
export function bucketFromCache(cache: RunSeriesCache, metric: string, axis: 'step' | 't', shift: number, buckets: number, range?: [number, number]): BucketedColumns {
  const sums = cache.summaries(metric) ?? new Float64Array(0);
  const points = cache.pointCount(metric);
  const chunks = sums.length / SIZE;
  const [minField, maxField] = axis === 'step' ? [S.stepMin, S.stepMax] : [S.tMin, S.tMax];
  const xNanOf = (o: number) => (axis === 't' ? sums[o + S.tNan]! : 0);
  const empty = (given = range ?? null): BucketedColumns => ({ kind: 'points', xs: new Float64Array(0), ys: new Float64Array(0), range: given, inRange: 0 });
  // A metric the run never logged: no range either, whatever was asked.
  if (points === 0) return empty(null);

  let lo = range ? range[0] : Infinity;
  let hi = range ? range[1] : -Infinity;
  if (!range) {
    for (let c = 0, o = 0; c < chunks; c++, o += SIZE) {
      if (xNanOf(o) === sums[o + S.count]) continue;
      lo = Math.min(lo, sums[o + minField]! - shift);
      hi = Math.max(hi, sums[o + maxField]! - shift);
    }
    if (!(lo <= hi)) return empty();
  }

  const reader = cache.rangeReader(metric);
  try {
    return bucketChunks(sums, points, reader, axis, shift, buckets, lo, hi, empty);
  } finally {
    reader.close();
  }
}

function bucketChunks(
  sums: Float64Array,
  points: number,
  reader: ReturnType<RunSeriesCache['rangeReader']>,
  axis: 'step' | 't',
  shift: number,
  buckets: number,
  lo: number,
  hi: number,
  empty: () => BucketedColumns,
): BucketedColumns {
  const chunks = sums.length / SIZE;
  const [minField, maxField, lastField] = axis === 'step' ? [S.stepMin, S.stepMax, S.stepLast] : [S.tMin, S.tMax, S.tLast];
  const xNanOf = (o: number) => (axis === 't' ? sums[o + S.tNan]! : 0);
  const rawCache = new Map<number, { x: Float64Array; y: Float64Array }>();
  const raw = (c: number) => {
    let found = rawCache.get(c);
    if (!found) {
      const from = c * CHUNK;
      const to = Math.min(points, from + CHUNK);
      let x = reader.read(axis, from, to);
      if (shift !== 0) x = x.map((v) => v - shift);
      found = { x, y: reader.read('y', from, to) };
      rawCache.set(c, found);
    }
    return found;
  };

  // Which chunks lie wholly in the range (0 outside, 1 inside, 2 partly: read point by point), and how many points are in it.
  const place = new Uint8Array(chunks);
  let inRange = 0;
  for (let c = 0, o = 0; c < chunks; c++, o += SIZE) {
    const count = sums[o + S.count]!;
    const xNan = xNanOf(o);
    const xMin = sums[o + minField]! - shift;
    const xMax = sums[o + maxField]! - shift;
    if (xNan === count || xMax < lo || xMin > hi) continue;
    if (xNan === 0 && xMin >= lo && xMax <= hi) {
      place[c] = 1;
      inRange += count;
      continue;
    }
    place[c] = 2;
    const { x } = raw(c);
    for (let i = 0; i < x.length; i++) if (x[i]! >= lo && x[i]! <= hi) inRange++;
  }
  if (inRange === 0) return empty();

  if (inRange <= buckets) {
    const xs = new Float64Array(inRange);
    const ys = new Float64Array(inRange);
    let k = 0;
    for (let c = 0; c < chunks; c++) {
      if (place[c] === 0) continue;
      const { x, y } = raw(c);
      for (let i = 0; i < x.length; i++) {
        if (x[i]! >= lo && x[i]! <= hi) {
          xs[k] = x[i]!;
          ys[k++] = y[i]!;
        }
      }
    }
    return { kind: 'points', xs, ys, range: [lo, hi], inRange };
  }

  const acc = new BucketAccumulator(lo, hi, buckets);
  for (let c = 0, o = 0; c < chunks; c++, o += SIZE) {
    if (place[c] === 0) continue;
    if (place[c] === 1) {
      const b = acc.bucketOf(sums[o + minField]! - shift);
      if (b === acc.bucketOf(sums[o + maxField]! - shift)) {
        acc.addChunk(b, sums[o + S.count]!, sums[o + S.yNan]!, sums[o + S.yMin]!, sums[o + S.yMax]!, sums[o + S.yLast]!, sums[o + lastField]! - shift);
        continue;
      }
    }
    const { x, y } = raw(c);
    for (let i = 0; i < x.length; i++) if (x[i]! >= lo && x[i]! <= hi) acc.addPoint(x[i]!, y[i]!);
  }
  return acc.finish(inRange);
}
