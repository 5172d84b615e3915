import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { readMetricsFile } from '../../src/core/metrics/metricsFile';
import { bucketColumns, bucketSeries, type Bucket } from '../../src/core/series/bucket';
import { MetricLineScanner } from '../../src/core/series/scanner';
import { readSeries, readSeriesColumns, seriesCacheDir, seriesExtent } from '../../src/core/series/series';
import { SeriesPool } from '../../src/core/series/seriesPool';
import { makeRecord, rng, pick, writeRecord } from '../helpers/runFactory';
import { tempDir } from '../helpers/repo';

type Point = [string, number, number, number];

function randomLine(random: () => number): string {
  const parts: string[] = [];
  if (random() < 0.6) parts.push(`"step": ${Math.floor(random() * 1000)}`);
  if (random() < 0.7) parts.push(`"t":${1.7e9 + random()}`);
  const values = ['0.5', '-1.25e-7', '3', '0', 'NaN', 'Infinity', '-Infinity', '"NaN"', '"Infinity"', '"-Infinity"', '1E+3', '"text"', 'true', 'null', '[1]', '{"a":1}', '-0.0', '01', '.5', '0x10'];
  const keys = ['loss', 'acc', 'val/loss', 'ключ', 'a\\"b', 'step_time', 'lr'];
  const n = 1 + Math.floor(random() * 3);
  for (let i = 0; i < n; i++) parts.push(`"${pick(random, keys)}":${random() < 0.5 ? ' ' : ''}${pick(random, values)}`);
  if (random() < 0.05) return pick(random, ['', 'not json', "{'loss': 1}", '{}', '{"loss": 1', '   ']);
  return `${random() < 0.1 ? ' ' : ''}{${parts.join(random() < 0.2 ? ', ' : ',')}}`;
}

describe('series', () => {
  test('the fast scanner reads exactly what the exact parser reads, line for line', () => {
    const random = rng(42);
    const lines = Array.from({ length: 5000 }, () => randomLine(random));
    const file = path.join(tempDir(), 'metrics.jsonl');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const exact: Point[] = [];
    readMetricsFile(file, (r) => {
      for (const [k, v] of Object.entries(r.values)) exact.push([k, r.step, r.t ?? NaN, v]);
    });
    const fast: Point[] = [];
    new MetricLineScanner((k, step, t, v) => fast.push([k, step, t, v])).scan(lines.join('\n') + '\n');
    assert.ok(exact.length > 4000);
    assert.deepStrictEqual(fast, exact);
  });

  test('bucketing equals a brute-force reference, with NaN, infinities, a single point and an empty series', () => {
    const random = rng(3);
    const reference = (x: number[], y: number[], n: number, range?: [number, number]) => {
      const idx = x.map((_, i) => i).filter((i) => !Number.isNaN(x[i]!) && (!range || (x[i]! >= range[0] && x[i]! <= range[1])));
      if (idx.length === 0) return { points: [] as { x: number; y: number }[] };
      const lo = range ? range[0] : Math.min(...idx.map((i) => x[i]!));
      const hi = range ? range[1] : Math.max(...idx.map((i) => x[i]!));
      if (idx.length <= n) return { points: idx.map((i) => ({ x: x[i]!, y: y[i]! })) };
      const width = (hi - lo) / n;
      const buckets: Bucket[] = [];
      for (let b = 0; b < n; b++) {
        const inside = idx.filter((i) => Math.min(n - 1, width > 0 ? Math.floor((x[i]! - lo) / width) : 0) === b);
        if (inside.length === 0) continue;
        const numbers = inside.map((i) => y[i]!).filter((v) => !Number.isNaN(v));
        const lastI = inside[inside.length - 1]!;
        buckets.push({
          x0: lo + b * width, x1: b === n - 1 ? hi : lo + (b + 1) * width,
          min: numbers.length ? Math.min(...numbers) : NaN, max: numbers.length ? Math.max(...numbers) : NaN,
          last: y[lastI]!, lastX: x[lastI]!, count: inside.length, nan: inside.length - numbers.length,
        });
      }
      return { buckets };
    };
    const cases: { x: number[]; y: number[]; n: number; range?: [number, number] }[] = [
      { x: [], y: [], n: 10 },
      { x: [5], y: [NaN], n: 10 },
      { x: [5], y: [2], n: 1 },
      { x: [1, 1, 1, 1], y: [4, 3, NaN, Infinity], n: 2 },
      { x: [0, 1, 2, NaN, 3], y: [1, 2, 3, 4, 5], n: 2 },
    ];
    for (let k = 0; k < 40; k++) {
      const len = Math.floor(random() * 3000);
      const x: number[] = [];
      let step = 0;
      for (let i = 0; i < len; i++) x.push(random() < 0.1 ? Math.floor(random() * len) : (step += Math.floor(random() * 3)));
      const y = x.map(() => (random() < 0.03 ? NaN : random() < 0.01 ? -Infinity : random() < 0.01 ? Infinity : random() * 100 - 50));
      const range: [number, number] | undefined = random() < 0.4 ? [Math.floor(random() * len), len] : undefined;
      cases.push({ x, y, n: 1 + Math.floor(random() * 200), range });
    }
    for (const c of cases) {
      const got = bucketSeries(Float64Array.from(c.x), Float64Array.from(c.y), c.n, c.range);
      const want = reference(c.x, c.y, c.n, c.range);
      if ('points' in want) {
        assert.equal(got.kind, 'points', JSON.stringify({ ...c, x: c.x.length }));
        assert.deepStrictEqual(got.kind === 'points' ? got.points : null, want.points);
      } else {
        assert.equal(got.kind, 'buckets');
        assert.deepStrictEqual(got.kind === 'buckets' ? got.buckets : null, want.buckets);
      }
    }
  });

  test('the binary cache follows a growing file, waits for an unfinished line, and starts over when the file is replaced', () => {
    const store = tempDir();
    const record = makeRecord(rng(1));
    const dir = writeRecord(store, record);
    const file = path.join(dir, 'metrics.jsonl');
    const all = (metric = 'loss') => {
      const [s] = readSeries(store, [record.id], { metric, x: 'step', buckets: 1_000_000 });
      return s!.kind === 'points' ? s!.points : [];
    };
    assert.deepStrictEqual(all(), [], 'no metrics file yet');
    fs.writeFileSync(file, '{"step":0,"loss":1}\n{"loss":2}\n{"step":10,"lo');
    assert.deepStrictEqual(all(), [{ x: 0, y: 1 }, { x: 1, y: 2 }]);
    assert.equal(readSeries(store, [record.id], { metric: 'loss', x: 'step', buckets: 10 })[0]!.unfinishedBytes, '{"step":10,"lo'.length, 'the torn tail is reported');
    fs.appendFileSync(file, 'ss":3,"acc":0.5}\n{"loss":"NaN"}\n');
    assert.deepStrictEqual(all(), [{ x: 0, y: 1 }, { x: 1, y: 2 }, { x: 10, y: 3 }, { x: 11, y: NaN }]);
    assert.deepStrictEqual(all('acc'), [{ x: 10, y: 0.5 }], 'a metric first seen later');
    // An update that died after writing columns but before index.json leaves stale bytes: harmless.
    const cacheDir = seriesCacheDir(store, record.id);
    const stepFile = fs.readdirSync(cacheDir).find((f) => f.endsWith('.step'))!;
    fs.appendFileSync(path.join(cacheDir, stepFile), Buffer.alloc(8 * 3, 0x7f));
    fs.appendFileSync(file, '{"loss":4}\n');
    assert.deepStrictEqual(all().map((p) => p.y), [1, 2, 3, NaN, 4]);
    fs.writeFileSync(file, '{"step":5,"loss":9}\n');
    assert.deepStrictEqual(all(), [{ x: 5, y: 9 }], 'a shorter file means a new file');
    fs.rmSync(cacheDir, { recursive: true });
    assert.deepStrictEqual(all(), [{ x: 5, y: 9 }], 'a deleted cache is rebuilt');
  });

  test('the common x extent of several runs comes from the caches and equals the points\' own', () => {
    const store = tempDir();
    const random = rng(11);
    const a = makeRecord(random);
    const b = makeRecord(random);
    fs.writeFileSync(path.join(writeRecord(store, a), 'metrics.jsonl'), '{"step":5,"t":100,"loss":1}\n{"loss":2}\n{"step":40,"loss":3}\n');
    fs.writeFileSync(path.join(writeRecord(store, b), 'metrics.jsonl'), '{"step":-3,"t":250,"loss":1}\n{"t":90,"acc":1}\n{"t":300,"loss":0}\n');
    assert.deepStrictEqual(seriesExtent(store, [a.id, b.id], 'loss', 'step'), [-3, 40]);
    assert.deepStrictEqual(seriesExtent(store, [a.id, b.id], 'loss', 'time'), [100, 300]);
    assert.deepStrictEqual(seriesExtent(store, [a.id, b.id], 'loss', 'relative'), [0, 50], 'each run from its own first time');
    assert.equal(seriesExtent(store, [a.id, b.id], 'nothing', 'step'), null);
    const [bucketed] = readSeries(store, [a.id], { metric: 'loss', x: 'step', buckets: 1, range: [-3, 40] });
    assert.equal(bucketed!.inRange, 3);
  });

  test('time axes use wall time; lines without it are left out of them; relative time starts at the first line', () => {
    const store = tempDir();
    const record = makeRecord(rng(2));
    const dir = writeRecord(store, record);
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"t":1000,"step":0,"x":1}\n{"loss":1}\n{"t":1002.5,"loss":2}\n{"t":1010,"loss":Infinity}\n');
    const [time] = readSeries(store, [record.id], { metric: 'loss', x: 'time', buckets: 10 });
    assert.deepStrictEqual(time!.kind === 'points' && time!.points, [{ x: 1002.5, y: 2 }, { x: 1010, y: Infinity }]);
    const [relative] = readSeries(store, [record.id], { metric: 'loss', x: 'relative', buckets: 10 });
    assert.deepStrictEqual(relative!.kind === 'points' && relative!.points, [{ x: 2.5, y: 2 }, { x: 10, y: Infinity }]);
    const [zoomed] = readSeries(store, [record.id], { metric: 'loss', x: 'step', buckets: 1, range: [2, 3] });
    assert.equal(zoomed!.inRange, 2);
    assert.equal(zoomed!.kind, 'buckets');
    assert.deepStrictEqual(zoomed!.kind === 'buckets' && [zoomed!.buckets[0]!.min, zoomed!.buckets[0]!.max, zoomed!.buckets[0]!.last], [2, Infinity, Infinity]);
  });
});

describe('series from chunk summaries', () => {
  test('bucketing from the cache\'s chunk summaries gives exactly what bucketing every point gives, as the file grows', () => {
    const random = rng(64);
    for (let round = 0; round < 12; round++) {
      const store = tempDir();
      const record = makeRecord(random);
      const file = path.join(writeRecord(store, record), 'metrics.jsonl');
      const steps: number[] = [];
      const times: number[] = [];
      const values: number[] = [];
      let step = 0;
      let t = 1000;
      const grow = (n: number) => {
        let text = '';
        for (let i = 0; i < n; i++) {
          // Mostly increasing steps with repeats and jumps back; some lines without a time; NaN and ±Infinity values.
          step = random() < 0.02 ? Math.max(0, step - Math.floor(random() * 50)) : step + (random() < 0.9 ? 1 : 0);
          const withTime = random() > 0.05;
          t += random();
          const r = random();
          const value = r < 0.03 ? NaN : r < 0.04 ? Infinity : r < 0.05 ? -Infinity : Math.round((random() - 0.3) * 1e6) / 1e3;
          steps.push(step);
          times.push(withTime ? t : NaN);
          values.push(value);
          const shown = Number.isNaN(value) ? '"NaN"' : value === Infinity ? '"Infinity"' : value === -Infinity ? '"-Infinity"' : String(value);
          text += `{"step":${step}${withTime ? `,"t":${t}` : ''},"loss":${shown}}\n`;
        }
        fs.appendFileSync(file, text);
      };
      for (const piece of [1 + Math.floor(random() * 100), 1 + Math.floor(random() * 3000), 1 + Math.floor(random() * 700)]) {
        grow(piece);
        const t0 = times.find((v) => !Number.isNaN(v)) ?? 0;
        const axes = { step: Float64Array.from(steps), time: Float64Array.from(times), relative: Float64Array.from(times, (v) => v - t0) };
        for (const x of ['step', 'time', 'relative'] as const) {
          for (const buckets of [1, 7, 50, 400, 5000]) {
            const extent = [...axes[x]].filter((v) => !Number.isNaN(v));
            const [lo, hi] = [Math.min(...extent), Math.max(...extent)];
            const a = lo + (hi - lo) * random();
            const ranges: ([number, number] | undefined)[] = [undefined, [a, a + (hi - a) * random()], [lo - 10, hi + 10], [hi + 1, hi + 2]];
            for (const range of ranges) {
              const [got] = readSeriesColumns(store, [record.id], { metric: 'loss', x, buckets, range });
              const want = bucketColumns(axes[x], Float64Array.from(values), buckets, range);
              const { runId: _r, metric: _m, x: _x, total, badLines: _b, unfinishedBytes: _u, ...bucketed } = got!;
              assert.equal(total, values.length);
              assert.deepStrictEqual(bucketed, want, `round ${round}, ${values.length} points, x ${x}, ${buckets} buckets, range ${JSON.stringify(range)}`);
            }
          }
        }
      }
    }
  });
});

describe('series on worker threads', () => {
  const workerFile = path.join(__dirname, 'seriesWorker.js');

  test('the pool answers what readSeriesColumns answers, for any number of runs split across workers, in run order', async () => {
    const store = tempDir();
    const random = rng(21);
    const ids: string[] = [];
    for (let r = 0; r < 7; r++) {
      const record = makeRecord(random);
      const lines = Array.from({ length: 200 + r * 50 }, (_, s) => `{"step":${s},"t":${1000 + s},"loss":${s % 17 === 0 ? '"NaN"' : random()}}`);
      fs.writeFileSync(path.join(writeRecord(store, record), 'metrics.jsonl'), lines.join('\n') + '\n');
      ids.push(record.id);
    }
    const pool = new SeriesPool(workerFile, 3);
    try {
      for (const request of [
        { metric: 'loss', x: 'step' as const, buckets: 40 },
        { metric: 'loss', x: 'relative' as const, buckets: 1000 },
        { metric: 'loss', x: 'step' as const, buckets: 10, range: [50, 120] as [number, number] },
        { metric: 'absent', x: 'step' as const, buckets: 10 },
      ]) {
        const range = request.range ?? (await pool.extent(store, ids, request.metric, request.x)) ?? undefined;
        assert.deepStrictEqual(range, request.range ?? seriesExtent(store, ids, request.metric, request.x) ?? undefined);
        const viaPool = await pool.series(store, ids, { ...request, range });
        assert.deepStrictEqual(viaPool, readSeriesColumns(store, ids, { ...request, range }));
        assert.deepStrictEqual(viaPool.map((s) => s.runId), ids);
      }
      assert.deepStrictEqual(await pool.series(store, [], { metric: 'loss', x: 'step', buckets: 10 }), []);
    } finally {
      pool.dispose();
    }
  });

  test('a cache the worker cannot read fails that request with its reason, and the pool keeps working', async () => {
    const store = tempDir();
    const record = makeRecord(rng(22));
    fs.writeFileSync(path.join(writeRecord(store, record), 'metrics.jsonl'), '{"step":0,"loss":1}\n{"step":1,"loss":2}\n');
    const pool = new SeriesPool(workerFile, 2);
    try {
      assert.equal((await pool.series(store, [record.id], { metric: 'loss', x: 'step', buckets: 10 }))[0]!.inRange, 2);
      const cacheDir = seriesCacheDir(store, record.id);
      const yFile = fs.readdirSync(cacheDir).find((f) => f.endsWith('.y'))!;
      fs.truncateSync(path.join(cacheDir, yFile), 8);
      await assert.rejects(pool.series(store, [record.id], { metric: 'loss', x: 'step', buckets: 10 }), /shorter than its index says/);
      fs.rmSync(cacheDir, { recursive: true });
      assert.equal((await pool.series(store, [record.id], { metric: 'loss', x: 'step', buckets: 10 }))[0]!.inRange, 2, 'a rebuilt cache reads again');
    } finally {
      pool.dispose();
    }
  });
});
