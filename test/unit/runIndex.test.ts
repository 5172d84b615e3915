import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { writeFileAtomic } from '../../src/core/atomicFile';
import { INDEX_FILE, RunIndex, type IndexedRun } from '../../src/core/index/runIndex';
import { SCHEMA_VERSION, SECONDARY_INDEXES } from '../../src/core/index/schema';
import { summarizeMetricsFile } from '../../src/core/metrics/metricsFile';
import type { Comparison, Expr, Field, Value } from '../../src/core/query/ast';
import { parseQuery, parseSort } from '../../src/core/query/parse';
import type { MetricsSummary, RunRecord } from '../../src/core/runRecord';
import { parseRunRecord, serializeRunRecord } from '../../src/core/store';
import { evaluate, printQuery, referenceSort, type ReferenceRun } from '../helpers/queryReference';
import { tempDir } from '../helpers/repo';
import { makeRecord, pick, rng, writeRecord, BRANCHES, OPTIMIZERS, TAGS } from '../helpers/runFactory';

/**
 * A live run's summary, read the obvious way and independently of the product's parser: every
 * complete line is JSON (numbers, or "NaN"/"Infinity"/"-Infinity" strings); NaN counts but is no
 * min or max. A running run's unfinished last line is not read yet.
 */
function summarizeByHand(file: string, running: boolean): MetricsSummary {
  const summary: MetricsSummary = { lines: 0, lastStep: null, metrics: {}, malformed: 0, malformedSamples: [] };
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const lines = text.split('\n');
  const complete = text.endsWith('\n') || !running ? lines : lines.slice(0, -1);
  let step = -1;
  for (const line of complete) {
    if (!line.trim()) continue;
    let object: Record<string, unknown>;
    try {
      object = JSON.parse(line.replace(/(?<=[:[,]\s*)(-?Infinity|NaN)(?=\s*[,}\]])/g, '"$1"')) as Record<string, unknown>;
    } catch {
      continue;
    }
    const number = (v: unknown) => (typeof v === 'number' ? v : v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : undefined);
    const values = Object.entries(object).filter(([k, v]) => k !== 'step' && k !== 't' && number(v) !== undefined);
    if (values.length === 0) continue;
    step = number(object.step) ?? step + 1;
    summary.lines++;
    summary.lastStep = step;
    for (const [key, raw] of values) {
      const value = number(raw)!;
      const m = (summary.metrics[key] ??= { last: value, min: NaN, max: NaN, count: 0, nan: 0, lastStep: step });
      m.last = value;
      m.lastStep = step;
      m.count++;
      if (Number.isNaN(value)) m.nan++;
      else {
        m.min = Number.isNaN(m.min) ? value : Math.min(m.min, value);
        m.max = Number.isNaN(m.max) ? value : Math.max(m.max, value);
      }
    }
  }
  return summary;
}

/** What the run folders say, read the slow, obvious way. */
function truthFromFiles(store: string): { runs: Map<string, ReferenceRun>; unreadable: string[] } {
  const runs = new Map<string, ReferenceRun>();
  const unreadable: string[] = [];
  const root = path.join(store, 'runs');
  for (const id of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    let record: RunRecord;
    try {
      record = parseRunRecord(fs.readFileSync(path.join(root, id, 'run.json'), 'utf8'), id);
    } catch {
      unreadable.push(id);
      continue;
    }
    const summary = record.metricsSummary ?? summarizeByHand(path.join(root, id, 'metrics.jsonl'), record.status === 'running');
    runs.set(id, { record, summary });
  }
  return { runs, unreadable: unreadable.sort() };
}

function view(run: IndexedRun) {
  return { id: run.id, name: run.name, status: run.status, metrics: run.metrics.map((m) => [m.key, m.last, m.min, m.max, m.count, m.nan]) };
}

function expectedView({ record, summary }: ReferenceRun) {
  return { id: record.id, name: record.name, status: record.status, metrics: Object.entries(summary?.metrics ?? {}).map(([k, m]) => [k, m.last, m.min, m.max, m.count, m.nan]) };
}

/** With `async`, the refresh that stats the run folders off the thread (the editor's). */
async function assertIndexMatchesFiles(index: RunIndex, store: string, context: string, async = false): Promise<void> {
  const report = async ? await index.refreshAsync() : index.refresh();
  const truth = truthFromFiles(store);
  const got = index.query(null).map(view).sort((a, b) => (a.id < b.id ? -1 : 1));
  const want = [...truth.runs.values()].map(expectedView).sort((a, b) => (a.id < b.id ? -1 : 1));
  assert.deepStrictEqual(got, want, context);
  assert.deepStrictEqual(report.unreadable.map((u) => u.id).sort(), truth.unreadable, `${context}: unreadable`);
}

/**
 * After a live tick alone, every run the index held as live, and every run the files say is live,
 * reads as the files say: the tick needs no full refresh to follow a live run.
 */
function assertLiveTickMatchesFiles(index: RunIndex, store: string, context: string): void {
  const tick = index.refreshLive();
  const truth = truthFromFiles(store);
  const ids = new Set([...tick.live, ...[...truth.runs.values()].filter((r) => r.record.status === 'running' || !r.record.metricsSummary).map((r) => r.record.id)]);
  const present = [...ids].filter((id) => truth.runs.has(id)).sort();
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
  assert.deepStrictEqual(index.runsByIds(present).map(view).sort(byId), present.map((id) => expectedView(truth.runs.get(id)!)), `${context}: after a live tick`);
}

let clock = Date.now() - 3600_000;
/** Gives a folder a fresh mtime, as a filesystem with fine timestamps would. */
function touched(dir: string): void {
  clock += 1000;
  fs.utimesSync(dir, new Date(clock), new Date(clock));
}

describe('run index', () => {
  test('after random sequences of creating, appending to, finishing, breaking and deleting runs, the index says what the files say', async () => {
    for (const seed of [1, 2, 3]) {
      const random = rng(seed);
      const store = tempDir();
      let index = await RunIndex.open(store, { racyMs: 0 });
      const live: string[] = [];
      const all: string[] = [];
      for (let step = 0; step < 60; step++) {
        const op = random();
        let what: string;
        if (op < 0.3 || all.length === 0) {
          const record = makeRecord(random);
          const dir = writeRecord(store, record);
          if (record.status === 'running') {
            fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"step":0,"loss":1}\n{"loss":0.5}\n');
            live.push(record.id);
          }
          touched(dir);
          all.push(record.id);
          what = `create ${record.status}`;
        } else if (op < 0.55 && live.length > 0) {
          const id = pick(random, live);
          const lines = Array.from({ length: 1 + Math.floor(random() * 5) }, () =>
            random() < 0.1 ? '{"loss": NaN}' : `{"loss":${Math.round(random() * 100) / 100},"acc":${random() < 0.5 ? '"Infinity"' : random()}}`,
          );
          // Sometimes leave the last line unfinished, as a writer mid-line does.
          const text = lines.join('\n') + (random() < 0.3 ? '' : '\n');
          fs.appendFileSync(path.join(store, 'runs', id, 'metrics.jsonl'), text);
          what = `append to ${id}`;
        } else if (op < 0.7 && live.length > 0) {
          const id = live.splice(Math.floor(random() * live.length), 1)[0]!;
          const dir = path.join(store, 'runs', id);
          const file = path.join(dir, 'metrics.jsonl');
          const content = fs.readFileSync(file, 'utf8');
          if (!content.endsWith('\n')) fs.appendFileSync(file, '\n');
          const record = parseRunRecord(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), id);
          writeFileAtomic(path.join(dir, 'run.json'), serializeRunRecord({ ...record, status: 'finished', exitCode: 0, endedAt: new Date().toISOString(), metricsSummary: summarizeMetricsFile(file) }));
          touched(dir);
          what = `finish ${id}`;
        } else if (op < 0.8) {
          const id = pick(random, all);
          const dir = path.join(store, 'runs', id);
          if (!fs.existsSync(dir)) continue;
          fs.writeFileSync(path.join(dir, 'run.json'), '{"id": "half-writ');
          touched(dir);
          const i = live.indexOf(id);
          if (i >= 0) live.splice(i, 1);
          what = `break ${id}`;
        } else if (op < 0.9) {
          const id = all.splice(Math.floor(random() * all.length), 1)[0]!;
          fs.rmSync(path.join(store, 'runs', id), { recursive: true, force: true });
          const i = live.indexOf(id);
          if (i >= 0) live.splice(i, 1);
          what = `delete ${id}`;
        } else {
          index.save();
          index.close();
          index = await RunIndex.open(store, { racyMs: 0 });
          assert.equal(index.opened.rebuilt, null, 'a saved index is reused');
          what = 'save and reopen';
        }
        assertLiveTickMatchesFiles(index, store, `seed ${seed}, step ${step}: ${what}`);
        await assertIndexMatchesFiles(index, store, `seed ${seed}, step ${step}: ${what}`, step % 2 === 1);
      }
      index.close();
    }
  });

  test("a live tick reads the live runs' files and the runs folder, and leaves a finished run's run.json to the full refresh", async () => {
    const store = tempDir();
    const random = rng(9);
    const finished = Array.from({ length: 20 }, () => {
      const record = makeRecord(random);
      record.status = 'finished';
      // Ended with its summary written: nothing of it is read live (a run.json without one is, as running runs are).
      record.metricsSummary ??= { lines: 0, lastStep: null, metrics: {}, malformed: 0, malformedSamples: [] };
      return record;
    });
    for (const record of finished) touched(writeRecord(store, record));
    const index = await RunIndex.open(store, { racyMs: 0 });
    index.refresh();
    const quiet = index.refreshLive();
    assert.deepEqual([quiet.added, quiet.updated, quiet.removed, quiet.live], [0, 0, 0, []], 'nothing live, nothing changed: nothing read');
    // A finished run renamed in place: its folder is not looked at by a tick, only by a refresh.
    const renamed = finished[3]!;
    writeFileAtomic(path.join(store, 'runs', renamed.id, 'run.json'), serializeRunRecord({ ...renamed, name: 'renamed' }));
    touched(path.join(store, 'runs', renamed.id));
    index.refreshLive();
    assert.equal(index.runsByIds([renamed.id])[0]!.name, renamed.name, 'the tick did not stat the finished run');
    assert.equal(index.refresh().updated, 1);
    assert.equal(index.runsByIds([renamed.id])[0]!.name, 'renamed');
    // A finished run that a file watcher saw change: a tick that names it looks at it, and only at its
    // run.json. A metrics.jsonl beside its summary is not read into it, then or on the next tick.
    const retagged = finished[5]!;
    const retaggedDir = path.join(store, 'runs', retagged.id);
    fs.writeFileSync(path.join(retaggedDir, 'metrics.jsonl'), '{"step":0,"stray":1}\n');
    writeFileAtomic(path.join(retaggedDir, 'run.json'), serializeRunRecord({ ...retagged, name: 'retagged' }));
    touched(retaggedDir);
    const named = index.refreshLive([retagged.id]);
    assert.deepEqual([named.added, named.updated, named.removed, named.live], [0, 1, 0, [retagged.id]], 'the named run, and only it, was looked at');
    const summaryKeys = Object.keys(retagged.metricsSummary!.metrics);
    for (let tick = 0; tick < 2; tick++) {
      const [seen] = index.runsByIds([retagged.id]);
      assert.equal(seen!.name, 'retagged');
      assert.deepEqual(seen!.metrics.map((m) => m.key), summaryKeys, `tick ${tick}: the metrics are run.json's summary`);
      index.refreshLive([retagged.id]);
    }
    // A run the index does not hold, named: the tick becomes a full refresh.
    // (The runs folder's mtime is put back, as a coarse clock would leave it, so only the name can send it there.)
    const listed = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    fs.utimesSync(path.join(store, 'runs'), listed, listed);
    index.refresh();
    const stranger = { ...makeRecord(random), status: 'finished' as const };
    touched(writeRecord(store, stranger));
    fs.utimesSync(path.join(store, 'runs'), listed, listed);
    assert.equal(index.refreshLive().added, 0, 'unnamed, the stranger is not seen by a tick');
    assert.equal(index.refreshLive([stranger.id]).added, 1, 'named, it is');
    // A run added: the runs folder moved, so the tick lists it.
    const live = makeRecord(random);
    live.status = 'running';
    live.metricsSummary = null;
    const dir = writeRecord(store, live);
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"step":0,"loss":1}\n');
    touched(dir);
    assert.equal(index.refreshLive().added, 1);
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"step":1,"loss":0.5}\n{"step":2,"loss":0.25}\n');
    const tick = index.refreshLive();
    assert.deepEqual(tick.live, [live.id]);
    assert.deepEqual(index.runsByIds([live.id]).map(view), [expectedView({ record: live, summary: summarizeByHand(path.join(dir, 'metrics.jsonl'), true) })]);
    // The key names are kept between asks, and a metric the live run logs for the first time joins them.
    assert.ok(!index.keyNames().metrics.includes('first_seen_live'));
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"step":3,"first_seen_live":7}\n');
    index.refreshLive();
    assert.ok(index.keyNames().metrics.includes('first_seen_live'), 'a new live metric is among the key names');
  });

  test('in the seconds after the runs folder moved, a tick reads its names again, and finds a run added within the same mtime', async () => {
    const store = tempDir();
    const random = rng(11);
    const live = { ...makeRecord(random), status: 'running' as const, metricsSummary: null, host: 'elsewhere' };
    writeRecord(store, live);
    const other = { ...makeRecord(random), status: 'finished' as const };
    const otherDir = writeRecord(store, other);
    const runs = path.join(store, 'runs');
    const index = await RunIndex.open(store);
    const recent = new Date(Date.now() - 300);
    fs.utimesSync(runs, recent, recent);
    index.refresh();
    // A finished run renamed in place: a tick leaves it to the full refresh, which is how the two are told apart here.
    writeFileAtomic(path.join(otherDir, 'run.json'), serializeRunRecord({ ...other, name: 'renamed in place' }));
    fs.utimesSync(otherDir, new Date(Date.now() - 5000), new Date(Date.now() - 5000));
    fs.utimesSync(path.join(otherDir, 'run.json'), new Date(Date.now() - 5000), new Date(Date.now() - 5000));
    const quiet = index.refreshLive();
    assert.deepEqual([quiet.live, index.runsByIds([other.id])[0]!.name], [[live.id], other.name], 'the listing still holds: a tick, no full refresh');
    const full = index.refresh();
    assert.deepEqual([full.added, full.removed, [...full.live].sort(), index.runsByIds([other.id])[0]!.name], [0, 0, [live.id, other.id].sort(), 'renamed in place'], 'a full refresh names the run it read again and the live one it followed');
    // A run added, and the folder's mtime as a coarse clock would leave it: the same as at the listing.
    const later = { ...makeRecord(random), status: 'finished' as const };
    writeRecord(store, later);
    fs.utimesSync(runs, recent, recent);
    const tick = index.refreshLive();
    assert.equal(tick.added, 1, 'the names differ: a full refresh, which finds it');
    index.close();
  });

  test('a run folder changed within the same mtime tick is still seen (racily clean)', async () => {
    const store = tempDir();
    const random = rng(7);
    const record = { ...makeRecord(random), status: 'finished' as const };
    const dir = writeRecord(store, record);
    const index = await RunIndex.open(store);
    assert.equal(index.query(null).length, 0);
    index.refresh();
    const before = fs.statSync(dir).mtime;
    writeFileAtomic(path.join(dir, 'run.json'), serializeRunRecord({ ...record, name: 'renamed' }));
    fs.utimesSync(dir, before, before);
    index.refresh();
    assert.equal(index.query(null)[0]!.name, 'renamed');
    index.close();
  });

  test('a new index gets its secondary indexes once its first refresh has put the rows in, or when it is saved first', async () => {
    const wanted = [...SECONDARY_INDEXES.matchAll(/CREATE INDEX (\w+)/g)].map((m) => m[1]!).sort();
    assert.ok(wanted.length >= 5, 'the indexes are read from the schema');
    const indexesOf = (index: RunIndex) =>
      ((index as unknown as { db: { exec(sql: string): { values: unknown[][] }[] } }).db.exec("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")[0]?.values ?? []).map((r) => String(r[0])).sort();
    const store = tempDir();
    const random = rng(12);
    for (let i = 0; i < 20; i++) writeRecord(store, makeRecord(random));
    const cold = await RunIndex.open(store);
    assert.deepEqual(indexesOf(cold), [], 'none while the rows go in');
    cold.refresh();
    assert.deepEqual(indexesOf(cold), wanted, 'all of them after the first refresh');
    cold.save();
    cold.close();
    const reopened = await RunIndex.open(store);
    assert.equal(reopened.opened.rebuilt, null);
    assert.deepEqual(indexesOf(reopened), wanted, 'kept in the file');
    reopened.close();
    // Saved before any refresh: the file still has them, so the next open (which does not rebuild) does too.
    const empty = tempDir();
    const first = await RunIndex.open(empty);
    first.save();
    first.close();
    const again = await RunIndex.open(empty);
    assert.deepEqual(indexesOf(again), wanted);
    again.close();
  });

  test('a background save writes the index off the thread; one that fails leaves it to be saved again', async () => {
    const store = tempDir();
    const random = rng(13);
    for (let i = 0; i < 30; i++) writeRecord(store, makeRecord(random));
    const index = await RunIndex.open(store);
    index.refresh();
    const want = index.query(null).map((r) => `${r.id}:${r.name}:${r.metrics.length}`);
    // The index file's place taken by a folder that holds something: the rename fails.
    const file = path.join(store, INDEX_FILE);
    fs.mkdirSync(path.join(file, 'in-the-way'), { recursive: true });
    await assert.rejects(index.saveAsync());
    fs.rmSync(file, { recursive: true });
    assert.equal(await index.saveAsync(), true, 'still dirty after the failed write, so saved now');
    assert.equal(await index.saveAsync(), false, 'nothing left to save');
    assert.deepEqual(fs.readdirSync(store).filter((n) => n.endsWith('.tmp')), [], 'no temp file left behind');
    index.close();
    const reopened = await RunIndex.open(store);
    assert.equal(reopened.opened.rebuilt, null, 'the file written in the background opens as it is');
    assert.deepEqual(reopened.query(null).map((r) => `${r.id}:${r.name}:${r.metrics.length}`), want);
    reopened.close();
  });

  test('a corrupt, truncated, foreign or outdated index.sqlite is rebuilt, with the reason, and nothing is lost', async () => {
    const store = tempDir();
    const random = rng(11);
    for (let i = 0; i < 30; i++) writeRecord(store, makeRecord(random));
    const first = await RunIndex.open(store);
    first.refresh();
    const expected = first.query(null).map(view);
    first.save();
    first.close();
    const file = path.join(store, INDEX_FILE);
    const good = fs.readFileSync(file);
    const damages: [string, () => void, RegExp][] = [
      ['truncated', () => fs.writeFileSync(file, good.subarray(0, Math.floor(good.length / 2))), /unusable/],
      ['garbage', () => fs.writeFileSync(file, Buffer.from('this is not sqlite at all'.repeat(100))), /unusable/],
      ['a page overwritten', () => { const b = Buffer.from(good); b.fill(0xab, 4096, 8192); fs.writeFileSync(file, b); }, /unusable/],
      ['empty', () => fs.writeFileSync(file, ''), /schema version undefined|unusable/],
      // One byte of a stored value: SQLite's own checks cannot see it; the file's checksum does.
      ['a byte changed', () => { const b = Buffer.from(good); const at = b.lastIndexOf(Buffer.from(expected[0]!.name)); assert.ok(at > 100, 'the name is in the file'); b[at] = b[at]! ^ 1; fs.writeFileSync(file, b); }, /unusable \(its checksum does not match its contents\)/],
    ];
    for (const [name, damage, reason] of damages) {
      damage();
      const index = await RunIndex.open(store);
      assert.match(index.opened.rebuilt ?? '', reason, name);
      index.refresh();
      assert.deepStrictEqual(index.query(null).map(view), expected, name);
      index.save();
      index.close();
    }
    const old = await RunIndex.open(store);
    (old as unknown as { db: { run(sql: string): void } }).db.run("UPDATE meta SET value = '0' WHERE key = 'schema'");
    (old as unknown as { dirty: boolean }).dirty = true;
    old.save();
    old.close();
    const reopened = await RunIndex.open(store);
    assert.match(reopened.opened.rebuilt ?? '', new RegExp(`schema version 0, not ${SCHEMA_VERSION}`));
    reopened.refresh();
    assert.deepStrictEqual(reopened.query(null).map(view), expected);
    reopened.close();
  });

  test('a run being appended to while the index reads it: no torn line counted, every line read once', async () => {
    const store = tempDir();
    const record = { ...makeRecord(rng(5)), status: 'running' as const, metricsSummary: null };
    const dir = writeRecord(store, record);
    const file = path.join(dir, 'metrics.jsonl');
    const index = await RunIndex.open(store, { racyMs: 0 });
    touched(dir);
    let expectedCount = 0;
    for (let round = 0; round < 50; round++) {
      // A writer mid-line: the tail grows across refreshes.
      const line = `{"step":${round},"loss":${1 / (round + 1)}}\n`;
      const cut = Math.floor(line.length / 2);
      fs.appendFileSync(file, line.slice(0, cut));
      index.refresh();
      fs.appendFileSync(file, line.slice(cut));
      expectedCount++;
      index.refresh();
      const [run] = index.query(null);
      const loss = run!.metrics.find((m) => m.key === 'loss')!;
      assert.equal(loss.count, expectedCount, `round ${round}`);
      assert.equal(loss.last, 1 / (round + 1));
      assert.equal(loss.min, 1 / (round + 1));
      assert.equal(loss.max, 1);
    }
    index.close();
  });

  test('a folder that cannot be read is reported on every refresh, never deleted, and picked up once fixed', async () => {
    const store = tempDir();
    const record = makeRecord(rng(9));
    const dir = writeRecord(store, record);
    fs.writeFileSync(path.join(dir, 'run.json'), 'not json');
    touched(dir);
    const index = await RunIndex.open(store, { racyMs: 0 });
    assert.match(index.refresh().unreadable[0]!.reason, /run\.json is not valid JSON/);
    assert.equal(index.refresh().unreadable.length, 1, 'still reported');
    assert.ok(fs.existsSync(path.join(dir, 'run.json')));
    fs.writeFileSync(path.join(dir, 'run.json'), serializeRunRecord(record));
    touched(dir);
    assert.equal(index.refresh().unreadable.length, 0);
    assert.equal(index.query(null)[0]!.id, record.id);
    index.close();
  });
});

describe('queries over the index', () => {
  const now = Date.UTC(2026, 10, 23);

  function randomValue(random: () => number, field: Field): Value {
    const span = field.kind === 'attr' && (field.name === 'age' || field.name === 'duration');
    if (!span && random() < 0.05) return { kind: 'null' };
    if (field.kind === 'metric') return { kind: 'number', value: Math.round(random() * 100) / 100 };
    if (field.kind === 'param') {
      switch (field.key) {
        case 'lr':
          return { kind: 'number', value: pick(random, [0.1, 0.01, 0.001, 0.0003, 3e-5, 0.005]) };
        case 'batch':
        case 'model.depth':
          return { kind: 'number', value: Math.floor(random() * 130) };
        case 'amp':
          return { kind: 'bool', value: random() < 0.5 };
        default:
          return { kind: 'string', value: pick(random, [...OPTIMIZERS, 'a', 'z', '0.01', 'true', 'ß']) };
      }
    }
    switch (field.name) {
      case 'branch':
        return { kind: 'string', value: pick(random, BRANCHES.filter((b) => b !== null)) as string };
      case 'status':
        return { kind: 'string', value: pick(random, ['finished', 'failed', 'running', 'killed', 'crashed']) };
      case 'tag':
        return { kind: 'string', value: pick(random, TAGS) };
      case 'name':
        return { kind: 'string', value: pick(random, ['resnet', 'vit-1', 'bert', '^m', '\\d{3}$']) };
      case 'age':
      case 'duration':
        return { kind: 'duration', seconds: Math.floor(random() * 40 * 86400) / (field.name === 'duration' ? 400 : 1) };
      case 'started':
        return { kind: 'string', value: new Date(Date.UTC(2026, 9, 1) + random() * 50 * 86400_000).toISOString() };
      case 'exit':
        return { kind: 'number', value: pick(random, [0, 1, 130]) };
      case 'dirty':
        return { kind: 'bool', value: random() < 0.5 };
      case 'commit':
        return { kind: 'string', value: pick(random, ['a', 'b1', '0', 'f']) };
      default:
        return { kind: 'string', value: 'x' };
    }
  }

  function randomComparison(random: () => number): Expr {
    const field: Field = pick(random, [
      { kind: 'metric', key: 'acc' }, { kind: 'metric', key: 'loss' }, { kind: 'metric', key: 'val_loss' }, { kind: 'metric', key: 'missing' },
      { kind: 'param', key: 'lr' }, { kind: 'param', key: 'batch' }, { kind: 'param', key: 'optimizer' }, { kind: 'param', key: 'amp' },
      { kind: 'param', key: 'model.depth' }, { kind: 'param', key: 'note' }, { kind: 'param', key: 'weird' },
      { kind: 'attr', name: 'branch' }, { kind: 'attr', name: 'status' }, { kind: 'attr', name: 'tag' }, { kind: 'attr', name: 'name' },
      { kind: 'attr', name: 'age' }, { kind: 'attr', name: 'duration' }, { kind: 'attr', name: 'started' }, { kind: 'attr', name: 'exit' },
      { kind: 'attr', name: 'dirty' }, { kind: 'attr', name: 'commit' },
    ] as Field[]);
    const value = randomValue(random, field);
    const textual = value.kind === 'string' && !(field.kind === 'attr' && field.name === 'started');
    const ordered: Comparison[] = ['<', '<=', '>', '>='];
    let ops: Comparison[];
    if (value.kind === 'null') ops = ['=', '!='];
    else if (field.kind === 'attr' && (field.name === 'age' || field.name === 'duration')) ops = ordered;
    else if (field.kind === 'attr' && field.name === 'started') ops = ['<', '<=', '>', '>=', '!='];
    else if (value.kind === 'bool') ops = ['=', '!='];
    else if (textual && field.kind === 'param') ops = ['=', '!=', '~', '!~', '<', '>='];
    else if (textual) ops = ['=', '!=', '~', '!~'];
    else ops = ['=', '!=', ...ordered];
    return { kind: 'cmp', field, op: pick(random, ops), value, pos: 0 };
  }

  function randomExpr(random: () => number, depth = 0): Expr {
    const r = random();
    if (depth > 2 || r < 0.45) return randomComparison(random);
    if (r < 0.55) return { kind: 'not', expr: randomExpr(random, depth + 1) };
    return { kind: r < 0.8 ? 'and' : 'or', left: randomExpr(random, depth + 1), right: randomExpr(random, depth + 1) };
  }

  const SORTS = ['', '-started', 'name', '-metrics.loss', 'params.lr,-started', 'status,-metrics.acc'];

  test('500 random queries give exactly what a brute-force filter over the same runs gives', async () => {
    const random = rng(2026);
    const store = tempDir();
    for (let i = 0; i < 300; i++) writeRecord(store, makeRecord(random));
    const index = await RunIndex.open(store);
    index.refresh();
    const runs = [...truthFromFiles(store).runs.values()];
    let nonTrivial = 0;
    for (let q = 0; q < 500; q++) {
      const text = printQuery(randomExpr(random));
      const parsed = parseQuery(text)!;
      assert.equal(printQuery(parsed), text, 'the query reads back as printed');
      const got = index.query(parsed, [], undefined, now).map((r) => r.id).sort();
      const want = runs.filter((r) => evaluate(parsed, r, now)).map((r) => r.record.id).sort();
      assert.deepStrictEqual(got, want, text);
      if (want.length > 0 && want.length < runs.length) nonTrivial++;
      // A live tick's two questions: which of a few runs match, and the order without the rows.
      const among = runs.filter(() => random() < 0.05).map((r) => r.record.id);
      const wantAmong = new Set(want);
      assert.deepStrictEqual(index.queryAmong(parsed, among, now).map((r) => r.id).sort(), among.filter((id) => wantAmong.has(id)).sort(), `${text}, among ${among.length}`);
      const sort = SORTS[q % SORTS.length] ? parseSort(SORTS[q % SORTS.length]!) : [];
      assert.deepStrictEqual(index.orderedIds(parsed, sort, now), index.query(parsed, sort, undefined, now).map((r) => r.id), `${text} sorted by ${SORTS[q % SORTS.length]}`);
    }
    assert.ok(nonTrivial > 250, `most queries select some but not all runs (${nonTrivial})`);
    index.close();
  });

  test('a run with hundreds of params and metrics (more than one insert takes) is indexed whole, its values exact', async () => {
    const random = rng(21);
    const store = tempDir();
    const record = makeRecord(random);
    record.params = {};
    for (let i = 0; i < 150; i++) record.params[`p${i}`] = i % 5 === 0 ? `text ${i}` : i % 5 === 1 ? i % 2 === 0 : i % 5 === 2 ? null : i % 7 === 0 ? NaN : random() * 10 ** (i % 9);
    record.metricsSummary = { lines: 10, lastStep: 9, metrics: {}, malformed: 0, malformedSamples: [] };
    for (let i = 0; i < 70; i++) record.metricsSummary.metrics[`m${i}`] = { last: i === 3 ? Infinity : random(), min: -random(), max: i === 4 ? -Infinity : 1 + random(), count: 10, nan: 0, lastStep: 9 };
    writeRecord(store, record);
    const index = await RunIndex.open(store);
    index.refresh();
    const stored = parseRunRecord(fs.readFileSync(path.join(store, 'runs', record.id, 'run.json'), 'utf8'), record.id);
    const keys = Object.keys(stored.params);
    const values = index.paramValues([record.id], keys).get(record.id)!;
    assert.equal(Object.keys(values).length, 150, 'every param');
    for (const key of keys) {
      const v = stored.params[key];
      assert.equal(values[key], typeof v === 'number' ? String(v) : v === null ? null : String(v), key);
    }
    const [run] = index.query(null);
    assert.deepEqual(
      run!.metrics.map((m) => [m.key, m.last, m.min, m.max]),
      Object.entries(stored.metricsSummary!.metrics).map(([name, m]) => [name, m.last, m.min, m.max]),
      'every metric, in order, with its values',
    );
    index.close();
  });

  test('param values for a table: the same whether a few runs or thousands are asked for', async () => {
    const random = rng(7);
    const store = tempDir();
    for (let i = 0; i < 1200; i++) writeRecord(store, makeRecord(random));
    const index = await RunIndex.open(store);
    index.refresh();
    const truth = [...truthFromFiles(store).runs.values()];
    // Most of the runs at once: their metrics come from one pass over the table, a few from lists of ids.
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
    assert.deepStrictEqual(index.query(null).map(view).sort(byId), truth.map(expectedView).sort(byId), 'every run with its metrics, in one pass');
    const someRuns = truth.filter((_, i) => i % 7 === 0);
    assert.deepStrictEqual(index.runsByIds(someRuns.map((r) => r.record.id)).map(view).sort(byId), someRuns.map(expectedView).sort(byId), 'a seventh of them, by lists of ids');
    const keys = index.keyNames().params;
    assert.ok(keys.includes('lr') && keys.includes('note'), `params seen: ${keys.join(', ')}`);
    const all = index.paramValues(truth.map((r) => r.record.id), keys);
    assert.equal(all.size, truth.length, 'over the threshold: one pass over the keys');
    const few = truth.slice(0, 30).map((r) => r.record.id);
    const some = index.paramValues(few, keys);
    assert.deepStrictEqual([...some.keys()].sort(), [...few].sort());
    for (const id of few) assert.deepStrictEqual(some.get(id), all.get(id), id);
    assert.ok(few.some((id) => Object.keys(some.get(id)!).length > 1), 'the runs asked for have values');
    index.close();
  });

  test('sorting by metrics, names and attributes, with missing and NaN values last either way, and limits', async () => {
    const random = rng(99);
    const store = tempDir();
    for (let i = 0; i < 200; i++) writeRecord(store, makeRecord(random));
    const index = await RunIndex.open(store);
    index.refresh();
    const runs = [...truthFromFiles(store).runs.values()];
    for (const sortText of ['-metrics.acc', 'metrics.loss', 'name,-metrics.val_loss', '-name', 'started', '-started', 'age', '-age', 'commit', '-commit', 'branch,-started', '-status,metrics.acc']) {
      const sort = parseSort(sortText);
      const got = index.query(null, sort, undefined, now).map((r) => r.id);
      const want = referenceSort(runs, sort).map((r) => r.record.id);
      assert.deepStrictEqual(got, want, sortText);
      for (const limit of [7, 150, 250]) {
        assert.deepStrictEqual(index.query(null, sort, limit, now).map((r) => r.id), want.slice(0, limit), `${sortText} limit ${limit}`);
      }
      const where = parseQuery('status != running and params.batch >= 32')!;
      const filtered = referenceSort(runs.filter((r) => evaluate(where, r, now)), sort).map((r) => r.record.id);
      assert.deepStrictEqual(index.query(where, sort, 40, now).map((r) => r.id), filtered.slice(0, 40), `${sortText} filtered, limit 40`);
    }
    const nobody = parseSort('-metrics.nobody_logs_this');
    assert.deepStrictEqual(index.query(null, nobody, 5, now).map((r) => r.id), referenceSort(runs, nobody).slice(0, 5).map((r) => r.record.id));
    const where = parseQuery('metrics.acc > 0.5 and status = finished')!;
    const got = index.query(where, parseSort('-metrics.acc'), undefined, now);
    assert.ok(got.length > 0);
    for (let i = 1; i < got.length; i++) {
      const acc = (r: IndexedRun) => r.metrics.find((m) => m.key === 'acc')!.last;
      assert.ok(acc(got[i - 1]!) >= acc(got[i]!));
    }
    index.close();
  });
});
