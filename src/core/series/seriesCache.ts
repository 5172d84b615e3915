import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../atomicFile';
import { GrowableFloat64 } from './growable';
import { readWholeLines } from '../wholeLines';
import { MetricLineScanner } from './scanner';

const CACHE_VERSION = 3;
const READ_CHUNK = 8 * 1024 * 1024;
const COLUMNS = ['step', 't', 'y'] as const;
export type Column = (typeof COLUMNS)[number];

/**
 * Points per chunk summary. A request whose buckets hold many chunks reads the
 * summaries instead of the points: only chunks that straddle a bucket edge
 * (about CHUNK / points-per-bucket of them) are read point by point.
 */
export const CHUNK = 64;
/** The fields of one chunk's summary, in the order stored. Extremes leave NaN out; `*Nan` count it. */
export const SUMMARY_FIELDS = ['stepMin', 'stepMax', 'stepLast', 'tMin', 'tMax', 'tLast', 'tNan', 'yMin', 'yMax', 'yLast', 'yNan', 'count'] as const;
export const S = Object.fromEntries(SUMMARY_FIELDS.map((name, i) => [name, i])) as Record<(typeof SUMMARY_FIELDS)[number], number>;
const SUMMARY_SIZE = SUMMARY_FIELDS.length;

/** Summaries of consecutive chunks of CHUNK points (the last one may be partial). */
function summarize(step: Float64Array, t: Float64Array, y: Float64Array): Float64Array {
  const chunks = Math.ceil(y.length / CHUNK);
  const out = new Float64Array(chunks * SUMMARY_SIZE);
  for (let c = 0; c < chunks; c++) {
    const from = c * CHUNK;
    const to = Math.min(y.length, from + CHUNK);
    let stepMin = Infinity, stepMax = -Infinity, tMin = Infinity, tMax = -Infinity, tNan = 0, yNan = 0;
    let yMin = NaN, yMax = NaN;
    for (let i = from; i < to; i++) {
      const si = step[i]!;
      if (si < stepMin) stepMin = si;
      if (si > stepMax) stepMax = si;
      const ti = t[i]!;
      if (ti !== ti) tNan++;
      else {
        if (ti < tMin) tMin = ti;
        if (ti > tMax) tMax = ti;
      }
      const yi = y[i]!;
      // The same comparisons as bucketing point by point, so merged chunks give the same extremes.
      if (yi !== yi) yNan++;
      else {
        if (!(yi >= yMin)) yMin = yi;
        if (!(yi <= yMax)) yMax = yi;
      }
    }
    const o = c * SUMMARY_SIZE;
    out[o + S.stepMin] = stepMin;
    out[o + S.stepMax] = stepMax;
    out[o + S.stepLast] = step[to - 1]!;
    out[o + S.tMin] = tMin;
    out[o + S.tMax] = tMax;
    out[o + S.tLast] = t[to - 1]!;
    out[o + S.tNan] = tNan;
    out[o + S.yMin] = yMin;
    out[o + S.yMax] = yMax;
    out[o + S.yLast] = y[to - 1]!;
    out[o + S.yNan] = yNan;
    out[o + S.count] = to - from;
  }
  return out;
}

function readAt(file: string, out: Float64Array, position: number, what: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    for (let offset = 0; offset < bytes.length; ) {
      const n = fs.readSync(fd, bytes, offset, bytes.length - offset, position + offset);
      if (n === 0) throw new Error(`series cache for ${what} is shorter than its index says`);
      offset += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function writeAt(file: string, data: Float64Array, position: number): void {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  try {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
  } finally {
    fs.closeSync(fd);
  }
}

interface CacheIndex {
  version: number;
  /** Bytes of metrics.jsonl consumed: always just past a complete line. */
  offset: number;
  /**
   * The last bytes consumed (up to PROBE_BYTES before `offset`), hex: a file rewritten to the same
   * size or longer, not appended to, no longer has them there, and the cache starts over.
   */
  probe?: string;
  /** The step of the last line consumed, so a line without one continues from it. */
  lastStep: number;
  /** Wall time of the first line that had one: zero of the relative time axis. */
  t0: number | null;
  badLines: number;
  /** Bytes after the last newline: a line still being written, or torn by a writer that died. */
  unfinishedBytes: number;
  /** Per metric: its columns' file stem, its point count, and the extent of its steps and times (NaN-free). */
  metrics: Record<string, { file: string; count: number; steps: [number, number] | null; times: [number, number] | null }>;
}

const PROBE_BYTES = 64;

function emptyIndex(): CacheIndex {
  return { version: CACHE_VERSION, offset: 0, lastStep: -1, t0: null, badLines: 0, unfinishedBytes: 0, metrics: {} };
}

/** An extent grown by new values; NaN (a line without a time) is left out. */
function widen(extent: [number, number] | null, values: Float64Array): [number, number] | null {
  let [lo, hi] = extent ?? [Infinity, -Infinity];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/** File names derived from metric names, which may hold any character. */
function fileFor(metric: string): string {
  return createHash('sha1').update(metric).digest('hex').slice(0, 16);
}

/**
 * A compact binary cache of one run's metrics (DESIGN.md section 4): per
 * metric, three little-endian float64 columns (step, wall time, value). It
 * follows metrics.jsonl as it grows, reading only the new bytes, and starts
 * over when the file shrank (it was replaced). Only a cache: deleting it costs
 * one read of the file.
 */
export class RunSeriesCache {
  private index: CacheIndex;
  private readonly indexFile: string;

  constructor(
    private readonly metricsFile: string,
    private readonly dir: string,
  ) {
    this.indexFile = path.join(dir, 'index.json');
    this.index = this.loadIndex();
  }

  private loadIndex(): CacheIndex {
    try {
      const parsed = JSON.parse(fs.readFileSync(this.indexFile, 'utf8')) as CacheIndex;
      if (parsed.version === CACHE_VERSION) return parsed;
    } catch {
      // none yet, or unreadable: start over
    }
    return emptyIndex();
  }

  get t0(): number | null {
    return this.index.t0;
  }

  get badLines(): number {
    return this.index.badLines;
  }

  get unfinishedBytes(): number {
    return this.index.unfinishedBytes ?? 0;
  }

  metricNames(): string[] {
    return Object.keys(this.index.metrics);
  }

  /** The bytes just before `offset` in metrics.jsonl, hex, or '' when they cannot be read. */
  private probeAt(offset: number): string {
    const from = Math.max(0, offset - PROBE_BYTES);
    if (offset === 0) return '';
    try {
      const fd = fs.openSync(this.metricsFile, 'r');
      try {
        const bytes = Buffer.alloc(offset - from);
        const n = fs.readSync(fd, bytes, 0, bytes.length, from);
        return bytes.subarray(0, n).toString('hex');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return '';
    }
  }

  /** Reads what metrics.jsonl gained since the cache was last brought up to date. */
  update(): void {
    let size: number;
    try {
      size = fs.statSync(this.metricsFile).size;
    } catch {
      size = 0;
    }
    const replaced = this.index.offset > 0 && this.index.probe !== undefined && size >= this.index.offset && this.probeAt(this.index.offset) !== this.index.probe;
    if (size < this.index.offset || replaced) {
      fs.rmSync(this.dir, { recursive: true, force: true });
      this.index = emptyIndex();
    }
    if (size === this.index.offset) {
      this.index.unfinishedBytes = 0;
      return;
    }

    const added = new Map<string, Record<Column, GrowableFloat64>>();
    const index = this.index;
    // Lines mostly repeat one metric after another: remember the last one's columns.
    let lastMetric: string | null = null;
    let lastColumns: Record<Column, GrowableFloat64> | null = null;
    const scanner = new MetricLineScanner(
      (metric, step, t, value) => {
        let columns = metric === lastMetric ? lastColumns : added.get(metric);
        if (!columns) {
          columns = { step: new GrowableFloat64(), t: new GrowableFloat64(), y: new GrowableFloat64() };
          added.set(metric, columns);
        }
        lastMetric = metric;
        lastColumns = columns;
        columns.step.push(step);
        columns.t.push(t);
        columns.y.push(value);
        if (index.t0 === null && t === t) index.t0 = t;
      },
      index.lastStep,
      () => index.badLines++,
    );
    index.offset = readWholeLines(this.metricsFile, index.offset, (text) => scanner.scan(text), size, READ_CHUNK).offset;
    index.probe = this.probeAt(index.offset);
    index.lastStep = scanner.lastStep;
    // An unfinished last line stays unread: a live writer will finish it, and a dead one is reported.
    index.unfinishedBytes = size - index.offset;

    fs.mkdirSync(this.dir, { recursive: true });
    for (const [metric, columns] of added) {
      const entry = (index.metrics[metric] ??= { file: fileFor(metric), count: 0, steps: null, times: null });
      entry.steps = widen(entry.steps, columns.step.view());
      entry.times = widen(entry.times, columns.t.view());
      // Written at the position the count implies, not appended: two processes updating
      // the same cache from the same append-only file write the same bytes to the same place.
      for (const column of COLUMNS) writeAt(path.join(this.dir, `${entry.file}.${column}`), columns[column].view(), entry.count * 8);
      // The last chunk may have been partial: its summary is made again with the new points.
      const firstChunk = Math.floor(entry.count / CHUNK);
      const carried = entry.count - firstChunk * CHUNK;
      const joined = (column: Column) => {
        const added = columns[column].view();
        if (carried === 0) return added;
        const out = new Float64Array(carried + added.length);
        readAt(path.join(this.dir, `${entry.file}.${column}`), out.subarray(0, carried), firstChunk * CHUNK * 8, metric);
        out.set(added, carried);
        return out;
      };
      writeAt(path.join(this.dir, `${entry.file}.sum`), summarize(joined('step'), joined('t'), joined('y')), firstChunk * SUMMARY_SIZE * 8);
      entry.count += columns.y.length;
    }
    writeJsonAtomic(this.indexFile, index);
  }

  /** The x extent of one metric without reading its points: steps, or wall times. */
  extent(metric: string, axis: 'step' | 't'): [number, number] | null {
    const entry = this.index.metrics[metric];
    return (axis === 'step' ? entry?.steps : entry?.times) ?? null;
  }

  /**
   * Reads ranges of one metric's columns through files kept open until
   * `close`: bucketing from summaries reads hundreds of small ranges.
   */
  rangeReader(metric: string): { read(column: Column, from: number, to: number): Float64Array; close(): void } {
    const entry = this.index.metrics[metric]!;
    const fds = new Map<Column, number>();
    return {
      read: (column, from, to) => {
        const out = new Float64Array(Math.max(0, Math.min(to, entry.count) - from));
        let fd = fds.get(column);
        if (fd === undefined) fds.set(column, (fd = fs.openSync(path.join(this.dir, `${entry.file}.${column}`), 'r')));
        const bytes = new Uint8Array(out.buffer);
        for (let offset = 0; offset < bytes.length; ) {
          const n = fs.readSync(fd, bytes, offset, bytes.length - offset, from * 8 + offset);
          if (n === 0) throw new Error(`series cache for ${metric} is shorter than its index says`);
          offset += n;
        }
        return out;
      },
      close: () => {
        for (const fd of fds.values()) fs.closeSync(fd);
      },
    };
  }

  /** The chunk summaries of one metric (SUMMARY_FIELDS per chunk of CHUNK points); null when the run never logged it. */
  summaries(metric: string): Float64Array | null {
    const entry = this.index.metrics[metric];
    if (!entry) return null;
    const out = new Float64Array(Math.ceil(entry.count / CHUNK) * SUMMARY_SIZE);
    if (out.length > 0) readAt(path.join(this.dir, `${entry.file}.sum`), out, 0, metric);
    return out;
  }

  pointCount(metric: string): number {
    return this.index.metrics[metric]?.count ?? 0;
  }
}
