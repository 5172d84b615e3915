import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runDir } from '../store';
import { asObjects, type Bucketed, type BucketedColumns } from './bucket';
import { bucketFromCache } from './summaryBucket';
import { RunSeriesCache } from './seriesCache';

export type XAxis = 'step' | 'time' | 'relative';

export interface SeriesRequest {
  metric: string;
  x: XAxis;
  /** At most this many buckets per run; fewer points come back exact. */
  buckets: number;
  /** Only points with x in [from, to], for zooming. */
  range?: [number, number];
}

interface SeriesOrigin {
  runId: string;
  metric: string;
  x: XAxis;
  /** All points of the metric in the run, in range or not. */
  total: number;
  /** Lines of metrics.jsonl that could not be read, skipped. */
  badLines: number;
  /** Bytes of an unfinished last line, skipped: still being written, or torn when the run has ended. */
  unfinishedBytes: number;
}

export type RunSeries = Bucketed & SeriesOrigin;
/** The same as typed arrays: what a chart is sent. */
export type RunSeriesColumns = BucketedColumns & SeriesOrigin;

export function seriesCacheDir(storeDir: string, runId: string): string {
  return path.join(storeDir, 'cache', 'series', runId);
}

const CANNOT_WRITE = new Set(['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EDQUOT', 'ENOTDIR', 'EISDIR', 'EEXIST']);
let scratch: string | null = null;

/**
 * A run's series cache, brought up to date. The cache is only a cache: where it cannot be written
 * (a full disk, a read-only store), the series is read into a scratch cache of this process's,
 * removed when it exits, and the answer is the same.
 */
function updatedCache(storeDir: string, runId: string): RunSeriesCache {
  const metrics = path.join(runDir(storeDir, runId), 'metrics.jsonl');
  const cache = new RunSeriesCache(metrics, seriesCacheDir(storeDir, runId));
  try {
    cache.update();
    return cache;
  } catch (err) {
    if (!CANNOT_WRITE.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  if (!scratch) {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), `runlens-series-${process.pid}-`));
    const dir = scratch;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  const fallback = new RunSeriesCache(metrics, path.join(scratch, runId));
  fallback.update();
  return fallback;
}

/**
 * The x range that covers one metric in all the given runs, from the caches'
 * indexes (each brought up to date): charts of several runs share bucket
 * edges when they are bucketed over it.
 */
export function seriesExtent(storeDir: string, runIds: string[], metric: string, x: XAxis): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const runId of runIds) {
    const cache = updatedCache(storeDir, runId);
    const extent = cache.extent(metric, x === 'step' ? 'step' : 't');
    if (!extent) continue;
    const shift = x === 'relative' ? (cache.t0 ?? 0) : 0;
    lo = Math.min(lo, extent[0] - shift);
    hi = Math.max(hi, extent[1] - shift);
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * One metric of several runs, bucketed for a chart. Each run's metrics.jsonl
 * is read once into a binary cache, which later calls only extend.
 */
export function readSeriesColumns(storeDir: string, runIds: string[], request: SeriesRequest): RunSeriesColumns[] {
  return runIds.map((runId) => {
    const cache = updatedCache(storeDir, runId);
    const base = { runId, metric: request.metric, x: request.x, badLines: cache.badLines, unfinishedBytes: cache.unfinishedBytes };
    const total = cache.pointCount(request.metric);
    const shift = request.x === 'relative' ? (cache.t0 ?? 0) : 0;
    return { ...base, ...bucketFromCache(cache, request.metric, request.x === 'step' ? 'step' : 't', shift, request.buckets, request.range), total };
  });
}

/** readSeriesColumns with one object per point or bucket, for JSON output. */
export function readSeries(storeDir: string, runIds: string[], request: SeriesRequest): RunSeries[] {
  return readSeriesColumns(storeDir, runIds, request).map((s) => {
    const { runId, metric, x, total, badLines, unfinishedBytes } = s;
    return { ...asObjects(s), runId, metric, x, total, badLines, unfinishedBytes };
  });
}
