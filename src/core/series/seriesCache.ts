import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../atomicFile';
import { GrowableFloat64 } from './growable';
import { readWholeLines } from '../wholeLines';
import { MetricLineScanner } from './scanner';

const CACHE_VERSION = 2;
const READ_CHUNK = 8 * 1024 * 1024;
const COLUMNS = ['step', 't', 'y'] as const;
export type Column = (typeof COLUMNS)[number];

interface CacheIndex {
  version: number;
  /** Bytes of metrics.jsonl consumed: always just past a complete line. */
  offset: number;
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

/** One metric's points, as parallel columns. */
export interface SeriesColumns {
  step: Float64Array;
  t: Float64Array;
  y: Float64Array;
}

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

  /** Reads what metrics.jsonl gained since the cache was last brought up to date. */
  update(): void {
    let size: number;
    try {
      size = fs.statSync(this.metricsFile).size;
    } catch {
      size = 0;
    }
    if (size < this.index.offset) {
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
    index.lastStep = scanner.lastStep;
    // An unfinished last line stays unread: a live writer will finish it, and a dead one is reported.
    index.unfinishedBytes = size - index.offset;

    fs.mkdirSync(this.dir, { recursive: true });
    for (const [metric, columns] of added) {
      const entry = (index.metrics[metric] ??= { file: fileFor(metric), count: 0, steps: null, times: null });
      entry.steps = widen(entry.steps, columns.step.view());
      entry.times = widen(entry.times, columns.t.view());
      for (const column of COLUMNS) {
        // Written at the position the count implies, not appended: two processes updating
        // the same cache from the same append-only file write the same bytes to the same place.
        const fd = fs.openSync(path.join(this.dir, `${entry.file}.${column}`), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
        try {
          const view = columns[column].view();
          const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
          for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, entry.count * 8 + done);
        } finally {
          fs.closeSync(fd);
        }
      }
      entry.count += columns.y.length;
    }
    writeJsonAtomic(this.indexFile, index);
  }

  /** The x extent of one metric without reading its points: steps, or wall times. */
  extent(metric: string, axis: 'step' | 't'): [number, number] | null {
    const entry = this.index.metrics[metric];
    return (axis === 'step' ? entry?.steps : entry?.times) ?? null;
  }

  /** Points of one metric; null when the run never logged it. Only the columns asked for are read. */
  read(metric: string, columns: readonly Column[] = COLUMNS): Partial<SeriesColumns> | null {
    const entry = this.index.metrics[metric];
    if (!entry) return null;
    const read = (name: Column) => {
      const out = new Float64Array(entry.count);
      const fd = fs.openSync(path.join(this.dir, `${entry.file}.${name}`), 'r');
      try {
        const bytes = new Uint8Array(out.buffer);
        for (let offset = 0; offset < bytes.length; ) {
          const n = fs.readSync(fd, bytes, offset, bytes.length - offset, offset);
          if (n === 0) throw new Error(`series cache for ${metric} is shorter than its index says`);
          offset += n;
        }
      } finally {
        fs.closeSync(fd);
      }
      return out;
    };
    const out: Partial<SeriesColumns> = {};
    for (const name of columns) out[name] = read(name);
    return out;
  }
}
