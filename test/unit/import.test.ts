import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { summarizeMetricsFile } from '../../src/core/metrics/metricsFile';
import type { RunRecord } from '../../src/core/runRecord';
import { readRunRecord } from '../../src/core/store';
import { flattenBounded, parseToolYaml } from '../../src/core/import/sourceFiles';
import { materializeImportedSeries } from '../../src/core/import/importRuns';
import { readEventFile } from '../../src/core/import/tensorboard';
import { readMetricFile } from '../../src/core/import/mlflowFiles';
import { crc32c, maskedCrc32c } from '../../src/core/import/tfrecord';
// crc-32 is the reference the in-place CRC-32C is checked against, nothing more.
import * as CRC32C from 'crc-32/crc32c';
import { git, makeRepo, PROJECT_ROOT, runCli, startCli, tempDir, waitFor, write } from '../helpers/repo';

const FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures');
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

interface Reference {
  params: number | null;
  metrics: Record<string, { count: number; last: number | string | null }>;
}

function shown(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  return value;
}

function listRuns(repo: string): RunRecord[] {
  const out = runCli(['ls', '--json'], repo);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as RunRecord[];
}

function keyOf(run: RunRecord): string {
  return `${run.source!.kind} ${run.source!.path} ${run.source!.id}`;
}

function copyFixtures(repo: string): void {
  fs.cpSync(path.join(FIXTURES, 'real-logs'), path.join(repo, 'real-logs'), { recursive: true });
}

describe('runlens import on real logs', () => {
  let repo: string;
  let reference: Record<string, Reference>;
  let runs: RunRecord[];

  before(async () => {
    repo = makeRepo();
    copyFixtures(repo);
    const out = runCli(['import', 'real-logs'], repo);
    assert.equal(out.code, 0, out.stderr);
    runs = listRuns(repo);
    // Points stay in the source until a chart asks; this is what asking does.
    assert.ok(!fs.existsSync(path.join(repo, '.runlens', 'runs', runs[0]!.id, 'metrics.jsonl')), 'the import itself copies no points');
    assert.deepEqual(await materializeImportedSeries(path.join(repo, '.runlens'), runs.map((r) => r.id)), []);
    // The independent reading: a short Python script with only the standard library, run on the same files.
    reference = JSON.parse(execFileSync(PYTHON, [path.join(FIXTURES, 'import-reference.py'), path.join(repo, 'real-logs')], { encoding: 'utf8' })) as Record<string, Reference>;
  });

  test('every run the independent reading finds is imported, once', () => {
    const keys = runs.map(keyOf).sort();
    assert.deepEqual(keys, Object.keys(reference).sort());
    assert.equal(new Set(runs.map((r) => r.id)).size, runs.length);
    const kinds = new Set(runs.map((r) => r.source!.kind));
    assert.deepEqual([...kinds].sort(), ['dvclive', 'huggingface', 'keras', 'lightning', 'mlflow', 'mlflow-sqlite', 'tensorboard']);
  });

  test('params, metric keys, point counts and final values match the independent reading, in the record and in metrics.jsonl', () => {
    for (const run of runs) {
      const expected = reference[keyOf(run)]!;
      if (expected.params !== null) assert.equal(Object.keys(run.params).length, expected.params, `params of ${keyOf(run)}`);
      const summary = run.metricsSummary!;
      const file = summarizeMetricsFile(path.join(repo, '.runlens', 'runs', run.id, 'metrics.jsonl'));
      assert.deepEqual(Object.keys(summary.metrics).sort(), Object.keys(expected.metrics).sort(), `metric keys of ${keyOf(run)}`);
      assert.deepEqual(Object.keys(file.metrics).sort(), Object.keys(expected.metrics).sort(), `metric keys in metrics.jsonl of ${keyOf(run)}`);
      for (const [key, want] of Object.entries(expected.metrics)) {
        for (const [where, got] of [['record', summary.metrics[key]!], ['metrics.jsonl', file.metrics[key]!]] as const) {
          assert.equal(got.count, want.count, `${where}: points of ${key} in ${keyOf(run)}`);
          assert.equal(shown(got.last), want.last, `${where}: last ${key} of ${keyOf(run)}`);
        }
      }
    }
  });

  test('sources are kept with each run: kind, path, original id, experiment, status', () => {
    const mlflow = runs.find((r) => r.source!.kind === 'mlflow' && r.source!.id === '08226ccc86194e9780d2931109f93380')!;
    assert.equal(mlflow.name, 'elasticnet_04011cf0');
    assert.equal(mlflow.source!.experiment, 'wine_quality_experiment');
    assert.equal(mlflow.status, 'finished');
    assert.equal(mlflow.startedAt, new Date(1765068767492).toISOString());
    assert.equal(mlflow.source!.tags['mlflow.source.git.commit'], 'fde5365f7912e80208466c6a3fbaeadaeaffbcfd');
    assert.match(mlflow.gitError ?? '', /commit fde5365f7912 is not in this repository/);
    // MLflow 3's logged models are attached to the run that logged them, not listed as runs.
    const knn = runs.find((r) => r.source!.id === '370084186acf42c1ba19ea7f3f2ff468')!;
    assert.deepEqual((knn.source!.extra.loggedModels as { id: string }[]).map((m) => m.id), ['m-5374a5db53cc4dbbb1ae574ec1e6bb5a']);
    const sqlite = runs.filter((r) => r.source!.kind === 'mlflow-sqlite');
    assert.deepEqual([...new Set(sqlite.map((r) => r.status))].sort(), ['failed', 'finished', 'running']);
    // The mlruns/ folders beside the databases hold artifacts: never a second store.
    assert.ok(!runs.some((r) => r.source!.kind === 'mlflow' && r.source!.path.includes('1412010')));
    // The index knows the source: the query language finds runs by it.
    const bySource = JSON.parse(runCli(['ls', '--json', '--where', 'source = mlflow and experiment = wine_quality_experiment'], repo).stdout) as RunRecord[];
    assert.deepEqual(bySource.map((r) => r.source!.id).sort(), ['08226ccc86194e9780d2931109f93380', '370084186acf42c1ba19ea7f3f2ff468', 'bf1751f73062472fa3637ef31cec5cf9']);
    assert.equal((JSON.parse(runCli(['ls', '--json', '--where', 'source = null'], repo).stdout) as RunRecord[]).length, 0);
    const board = runs.filter((r) => r.source!.path.endsWith('board'));
    assert.equal(board.length, 13, 'each event file of a folder is its own session');
    assert.match(board[0]!.source!.notes.join(' '), /graph\(s\) counted, not imported/);
  });

  test('hparams.yaml full of python tags imports, each such value as its tag text, and bounded', () => {
    const file = path.join(repo, 'real-logs/tensorboard/AtomScott__FractalDB/lightning_logs/version_0/hparams.yaml');
    const parsed = parseToolYaml(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.equal(parsed.backbone, '!!python/object:__main__.Backbone');
    const tagged = parseToolYaml('a: &id001 !!python/object/apply:numpy.core.multiarray.scalar\n- 1\nb: *id001\nc: !!binary aGVsbG8=\nd: 3\n') as Record<string, unknown>;
    assert.deepEqual(tagged, { a: '!!python/object/apply:numpy.core.multiarray.scalar', b: '!!python/object/apply:numpy.core.multiarray.scalar', c: '!!binary', d: 3 });
    assert.throws(() => parseToolYaml('a: &a [x, x, x, x, x, x, x, x, x, x]\n' + Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`).join('\n')));
    const version0 = runs.find((r) => r.source!.kind === 'tensorboard' && r.source!.path.endsWith('version_0'))!;
    // The event file's HParams plugin says learning_rate and backbone; hparams.yaml's own text never replaces them.
    assert.equal(version0.params.learning_rate, 0.001);
    assert.match(String(version0.params.backbone), /^Backbone\(/);
    assert.ok(Object.keys(flattenBounded(parsed).params).length <= 2000);
  });

  test('importing again changes nothing; a grown log updates its run; a run gone from its source is marked, not dropped', () => {
    const before = new Map(runs.map((r) => [r.id, fs.readFileSync(path.join(repo, '.runlens', 'runs', r.id, 'run.json'), 'utf8')]));
    const again = runCli(['import', 'real-logs', '--json'], repo);
    assert.equal(again.code, 0, again.stderr);
    const summary = JSON.parse(again.stdout) as { sources: { added: number; updated: number; unchanged: number; runs: number }[] };
    assert.equal(summary.sources.reduce((n, s) => n + s.added + s.updated, 0), 0);
    assert.equal(summary.sources.reduce((n, s) => n + s.unchanged, 0), runs.length);
    for (const [id, text] of before) assert.equal(fs.readFileSync(path.join(repo, '.runlens', 'runs', id, 'run.json'), 'utf8'), text);

    const csv = path.join(repo, 'real-logs/lightning/Driemann__ml-aos/lightning_logs/version_1/metrics.csv');
    fs.appendFileSync(csv, '0.5,0.25,99,99999,,\n');
    fs.rmSync(path.join(repo, 'real-logs/mlflow/2025-2-productos__PRE-07-mlflow-tracking-basico-LissyGraceRestrepo/mlruns/516221907975278643/bf1751f73062472fa3637ef31cec5cf9'), { recursive: true });
    const third = JSON.parse(runCli(['import', 'real-logs', '--json'], repo).stdout) as { sources: { kind: string; path: string; updated: number; missing: number }[] };
    assert.equal(third.sources.find((s) => s.path.endsWith('version_1'))!.updated, 1);
    assert.equal(third.sources.find((s) => s.kind === 'mlflow')!.missing, 1);
    const after = listRuns(repo);
    assert.equal(after.length, runs.length, 'no run disappears, none is added twice');
    const grown = after.find((r) => r.source!.path.endsWith('version_1'))!;
    assert.equal(grown.metricsSummary!.metrics.train_rmse!.last, 0.5);
    assert.equal(grown.metricsSummary!.metrics.train_rmse!.lastStep, 99999);
    // Its old copy of the points is dropped with the update; the next chart reads the grown file.
    const series = runCli(['series', grown.id, '--metric', 'train_rmse', '--json'], repo);
    assert.equal(series.code, 0, series.stderr);
    assert.equal((JSON.parse(series.stdout) as { total: number }[])[0]!.total, 303);
    const gone = after.find((r) => r.source!.id === 'bf1751f73062472fa3637ef31cec5cf9')!;
    assert.equal(gone.source!.missing, true);
    assert.match(gone.problems.join(' '), /gone from mlflow/);
  });
});

describe('runlens import: behaviour', () => {
  test('--dry-run lists what it would import and writes nothing', () => {
    const repo = makeRepo();
    copyFixtures(repo);
    const out = runCli(['import', 'real-logs/keras', 'real-logs/hf', '--dry-run'], repo);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /keras .*training\.log: 1 run\(s\) \(1 new/);
    assert.match(out.stdout, /huggingface .*: 1 run\(s\) \(1 new/);
    assert.ok(!fs.existsSync(path.join(repo, '.runlens', 'runs')));
  });

  test('an MLflow run tagged with a commit of this repository links to it: Open Commit and Open File at Run work', () => {
    const repo = makeRepo({ 'train.py': 'print("v1")\n' });
    const commit = git(repo, 'rev-parse', 'HEAD').trim();
    const run = 'mlruns/1/0123456789abcdef0123456789abcdef';
    write(repo, 'mlruns/1/meta.yaml', 'artifact_location: mlflow-artifacts:/1\nexperiment_id: \'1\'\nlifecycle_stage: active\nname: linked\n');
    write(repo, `${run}/meta.yaml`, "run_id: 0123456789abcdef0123456789abcdef\nrun_name: ''\nname: ''\nstatus: 4\nstart_time: 1700000000000\nend_time: 1700000005000\nlifecycle_stage: active\nuser_id: ana\nartifact_uri: file:///C:/Users/ana/mlruns/1/0123/artifacts\n");
    write(repo, `${run}/tags/mlflow.source.git.commit`, commit);
    write(repo, `${run}/tags/mlflow.runName`, 'tagged-name');
    write(repo, `${run}/params/lr`, '0.01');
    write(repo, `${run}/params/db_password`, 'hunter2');
    write(repo, `${run}/params/nested/key`, 'x');
    write(repo, `${run}/metrics/loss`, '1700000001000 nan 0\n1700000002000 inf 1\n1700000003000 0.5\n1700000003000 0.25 2\nnot a line\n');
    git(repo, 'add', 'mlruns');
    git(repo, 'commit', '-qm', 'logs');
    const out = runCli(['import', 'mlruns'], repo);
    assert.equal(out.code, 0, out.stderr);
    const record = readRunRecord(path.join(repo, '.runlens'), listRuns(repo)[0]!.id);
    assert.equal(record!.name, 'tagged-name', 'an empty run_name falls back to the mlflow.runName tag');
    assert.equal(record!.status, 'failed');
    assert.equal(record!.git?.snapshot, commit);
    assert.equal(git(repo, 'rev-parse', `refs/runlens/runs/${record!.id}`).trim(), commit);
    const shown = runCli(['show', record!.id], repo);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /\nimported from\n {2}MLflow {2}mlruns\n {2}run {7}0123456789abcdef0123456789abcdef, experiment linked\n/);
    assert.match(shown.stdout, new RegExp(`snapshot  ${commit}`));
    assert.equal(record!.params.lr, 0.01);
    assert.equal(record!.params['nested/key'], 'x');
    assert.notEqual(record!.params.db_password, 'hunter2', 'a secret-named param is redacted before it is written');
    assert.ok(!fs.readFileSync(path.join(repo, '.runlens', 'runs', record!.id, 'run.json'), 'utf8').includes('hunter2'));
    const loss = record!.metricsSummary!.metrics.loss!;
    assert.equal(loss.count, 4);
    assert.equal(loss.nan, 1);
    assert.equal(loss.max, Infinity);
    assert.equal(loss.last, 0.25, 'points are ordered by step, then time; a line without a step is at step 0');
    assert.match(record!.source!.notes.join(' '), /1 line\(s\) that are not/);
    assert.equal(record!.source!.extra.artifactUri, 'file:///C:/Users/ana/mlruns/1/0123/artifacts');
  });

  test('no link leads outside the folder being imported, and a bad file is reported with its path while the rest imports', () => {
    const outside = tempDir();
    write(outside, 'secret/lr', 'stolen');
    const repo = makeRepo();
    write(repo, 'mlruns/1/meta.yaml', 'experiment_id: \'1\'\nname: e\n');
    write(repo, 'mlruns/1/aaaa/meta.yaml', 'run_id: aaaa\nstatus: 3\nstart_time: 1700000000000\n');
    fs.symlinkSync(path.join(outside, 'secret'), path.join(repo, 'mlruns/1/aaaa/params'));
    write(repo, 'mlruns/1/bbbb/meta.yaml', 'run_id: [unclosed\n');
    write(repo, 'mlruns/2/meta.yaml', ': : :\n\t- bad yaml');
    const out = runCli(['import', 'mlruns', '--kind', 'mlflow', '--json'], repo);
    assert.equal(out.code, 0, out.stderr);
    const summary = JSON.parse(out.stdout) as { sources: { runs: number; added: number; skipped: { path: string; reason: string }[] }[] };
    assert.equal(summary.sources[0]!.added, 1);
    const skipped = summary.sources[0]!.skipped.map((s) => s.path).join(' ');
    assert.match(skipped, /bbbb/);
    assert.match(skipped, /mlruns\/2\/meta\.yaml/);
    const [record] = listRuns(repo);
    assert.deepEqual(record!.params, {}, 'params behind a link out of the folder are not read');
  });

  test('times no Date can hold (a corrupt start_time, a dvclive timestamp of 1e300) are left out with a note; the run still imports', () => {
    const repo = makeRepo();
    write(repo, 'mlruns/1/meta.yaml', "experiment_id: '1'\nname: e\n");
    write(repo, 'mlruns/1/aaaa/meta.yaml', 'run_id: aaaa\nstatus: 3\nstart_time: 100000000000000000000\nend_time: -1e300\n');
    write(repo, 'live/dvclive.json', '{}');
    write(repo, 'live/dvclive/loss.tsv', 'timestamp\tstep\tloss\n1e300\t0\t0.5\n');
    const out = runCli(['import', 'mlruns', 'live'], repo);
    assert.equal(out.code, 0, out.stderr);
    const runs = listRuns(repo);
    assert.equal(runs.length, 2);
    const mlflow = runs.find((r) => r.source!.kind === 'mlflow')!;
    assert.match(mlflow.source!.notes.join(' '), /start time \(100000000000000000000\) is not a time/);
    assert.ok(!Number.isNaN(Date.parse(mlflow.startedAt)));
  });

  test('Keras logs appended by two sessions are two runs, in order, never merged by epoch', () => {
    const repo = makeRepo();
    write(repo, 'logs/training.log', 'epoch,acc,loss\n0,0.5,1.0\n1,0.6,0.8\n2,0.7,0.6\n0,0.55,0.9\n1,0.65,nan\n');
    const out = runCli(['import', 'logs'], repo);
    assert.equal(out.code, 0, out.stderr);
    const runs = listRuns(repo)
      .map((r) => readRunRecord(path.join(repo, '.runlens'), r.id))
      .sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(runs.map((r) => r.name), ['logs/training.log (session 1 of 2)', 'logs/training.log (session 2 of 2)']);
    assert.equal(runs[0]!.metricsSummary!.metrics.acc!.last, 0.7);
    assert.equal(runs[1]!.metricsSummary!.metrics.acc!.count, 2);
    assert.ok(Number.isNaN(runs[1]!.metricsSummary!.metrics.loss!.last));
  });

  test('an event file with a bad checksum, a flipped length and a cut tail: each bad record is counted and skipped, the rest is read', () => {
    const source = path.join(FIXTURES, 'real-logs/tensorboard/AtomScott__FractalDB/lightning_logs/version_0/events.out.tfevents.1609169139.e8fc262d1b07.21087.0');
    const clean = readEventFile(source, 'clean');
    const points = (run: ReturnType<typeof readEventFile>) => [...run.metrics.values()].reduce((n, s) => n + s.value.length, 0);
    const dir = tempDir();
    const bytes = fs.readFileSync(source);
    // Walk the framing to find record boundaries, then damage the 10th record's data and the 20th's length.
    const starts: number[] = [];
    for (let pos = 0; pos + 12 <= bytes.length; pos += 12 + bytes.readUInt32LE(pos) + 4) starts.push(pos);
    const damaged = Buffer.from(bytes);
    damaged[starts[10]! + 14]! ^= 0xff;
    damaged[starts[20]!]! ^= 0x40;
    const file = path.join(dir, 'events.out.tfevents.1.damaged');
    fs.writeFileSync(file, damaged.subarray(0, damaged.length - 7));
    const run = readEventFile(file, 'damaged');
    const notes = run.notes.join(' ');
    assert.match(notes, /2 record\(s\) with a bad checksum skipped/);
    assert.match(notes, /the last record is unfinished/);
    const lost = clean.metrics.size > 0 ? points(clean) - points(run) : 0;
    assert.ok(lost >= 1 && lost <= 3, `only the damaged records' scalars are lost (${lost})`);
  });

  test('an MLflow metric file bigger than a read chunk is read in full: lines across chunk ends, and a 2 MB garbage line counted once', () => {
    const dir = tempDir();
    const file = path.join(dir, 'loss');
    const lines: string[] = [];
    for (let s = 0; s < 150_000; s++) lines.push(`${1_700_000_000_000 + s} ${(s / 7).toFixed(6)} ${s}`);
    const garbage = 'x'.repeat(2 * 1024 * 1024);
    fs.writeFileSync(file, `${lines.slice(0, 100_000).join('\n')}\n${garbage}\n${lines.slice(100_000).join('\n')}\n`);
    assert.ok(fs.statSync(file).size > 4 * 1024 * 1024);
    const series = readMetricFile(file, 3);
    assert.equal(series.step.length, 150_000);
    assert.equal(series.malformed, 1);
    assert.deepEqual(series.step.slice(99_998, 100_002), [99_998, 99_999, 100_000, 100_001]);
    for (let s = 0; s < 150_000; s += 997) assert.equal(series.value[s], Number((s / 7).toFixed(6)), `step ${s}`);
    assert.equal(series.value.at(-1), Number((149_999 / 7).toFixed(6)));
  });

  test('CRC-32C of any range equals crc-32 over the same bytes as a copy, and the check value of "123456789"', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    const bytes = Buffer.alloc(4096);
    let seed = 7;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (let i = 0; i < 2000; i++) {
      const start = (seed = (seed * 1103515245 + 12345) >>> 0) % 2048;
      const end = start + ((seed = (seed * 1103515245 + 12345) >>> 0) % 70);
      assert.equal(crc32c(bytes, start, end), CRC32C.buf(bytes.subarray(start, end)) >>> 0, `range ${start}..${end}`);
    }
    const record = Buffer.from([0x10, 0, 0, 0, 0, 0, 0, 0]);
    // TensorFlow's masking: rotate right by 15, add 0xa282ead8.
    const crc = CRC32C.buf(record) >>> 0;
    assert.equal(maskedCrc32c(record), (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0);
  });

  test('an Event whose value claims to run past its summary is skipped as undecodable, and the next one is read', () => {
    const frame = (data: number[]) => {
      const payload = Buffer.from(data);
      const header = Buffer.alloc(12);
      header.writeUInt32LE(payload.length, 0);
      header.writeUInt32LE(maskedCrc32c(header, 0, 8), 8);
      const footer = Buffer.alloc(4);
      footer.writeUInt32LE(maskedCrc32c(payload), 0);
      return Buffer.concat([header, payload, footer]);
    };
    // Event{step: 1, summary: {value: {tag: "a", simple_value: 1.5}}}. The broken one's value says it is two bytes
    // longer than its summary holds; those two bytes (an unknown varint field) follow the summary in the Event.
    const value = [0x0a, 0x01, 0x61, 0x15, ...new Uint8Array(new Float32Array([1.5]).buffer)];
    const good = frame([0x10, 0x01, 0x2a, value.length + 2, 0x0a, value.length, ...value]);
    const broken = frame([0x10, 0x02, 0x2a, value.length + 2, 0x0a, value.length + 2, ...value, 0x18, 0x01]);
    const dir = tempDir();
    const file = path.join(dir, 'events.out.tfevents.1.hand');
    fs.writeFileSync(file, Buffer.concat([broken, good]));
    const run = readEventFile(file, 'hand');
    assert.deepEqual(run.metrics.get('a')?.value, [1.5]);
    assert.deepEqual(run.metrics.get('a')?.step, [1]);
    assert.match(run.notes.join(' '), /1 record\(s\) that are not Event protos skipped/);
  });

  test('a path with nothing to import says so and exits 1', () => {
    const repo = makeRepo();
    write(repo, 'empty/readme.txt', 'nothing here');
    const out = runCli(['import', 'empty'], repo);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /empty: no MLflow, TensorBoard, Lightning, dvclive, Keras or Hugging Face logs found/);
    assert.equal(runCli(['import', 'empty', '--kind', 'nope'], repo).code, 2);
  });
});

describe('logs of other tools written during runlens run are attached and followed live', () => {
  test('a Lightning CSV, a dvclive folder and a replayed TensorBoard event file join the run; logs that were there before do not', async () => {
    const repo = makeRepo();
    // A log from an earlier session: there before the run, unchanged by it, so never attached.
    write(repo, 'lightning_logs/version_9/metrics.csv', 'train_loss,epoch,step\n0.9,0,0\n');
    write(repo, 'lightning_logs/version_9/hparams.yaml', 'lr: 1\n');
    const events = path.join(FIXTURES, 'real-logs/tensorboard/AtomScott__FractalDB/lightning_logs/version_0/events.out.tfevents.1609169139.e8fc262d1b07.21087.0');
    // The way Lightning's CSVLogger and dvclive write, with the standard library: CSVLogger rewrites
    // metrics.csv whole at each save; dvclive appends a TSV row per step and rewrites metrics.json.
    write(
      repo,
      'train.py',
      `import csv, json, os, shutil, sys, time
os.makedirs('lightning_logs/version_10', exist_ok=True)
with open('lightning_logs/version_10/hparams.yaml', 'w') as f:
    f.write('lr: 0.01\\nbatch_size: 32\\n')
os.makedirs('dvclive/plots/metrics/train', exist_ok=True)
with open('dvclive/params.yaml', 'w') as f:
    f.write('dropout: 0.5\\n')
rows = []
for step in range(6):
    rows.append({'train_loss': 1 / (step + 1), 'epoch': 0, 'step': step, 'val_loss': ''})
    with open('lightning_logs/version_10/metrics.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=['train_loss', 'epoch', 'step', 'val_loss'])
        w.writeheader()
        w.writerows(rows)
    new = not os.path.exists('dvclive/plots/metrics/train/acc.tsv')
    with open('dvclive/plots/metrics/train/acc.tsv', 'a') as f:
        if new:
            f.write('step\\tacc\\n')
        f.write('%d\\t%s\\n' % (step, 0.5 + step / 20))
    with open('dvclive/metrics.json', 'w') as f:
        json.dump({'step': step, 'train': {'acc': 0.5 + step / 20}}, f)
    if step == 2:
        # Halfway: wait until the test has seen these points arrive in the run, live.
        open('halfway', 'w').close()
        while not os.path.exists('go'):
            time.sleep(0.05)
os.makedirs('board', exist_ok=True)
shutil.copy(sys.argv[1], 'board/')
`,
    );
    const child = startCli(['run', '--name', 'attached', '--', PYTHON, 'train.py', events], repo);
    const exitedPromise = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitFor(() => fs.existsSync(path.join(repo, 'halfway')), 30_000, 'the script to reach halfway');
      const runsDir = path.join(repo, '.runlens', 'runs');
      const metricsFile = () => path.join(runsDir, fs.readdirSync(runsDir)[0]!, 'metrics.jsonl');
      // Followed live: the points logged so far arrive while the script still runs.
      await waitFor(() => fs.existsSync(metricsFile()) && /"train_loss":0\.3333/.test(fs.readFileSync(metricsFile(), 'utf8')), 30_000, 'the Lightning points to arrive while the run is live');
      assert.ok(!fs.existsSync(path.join(repo, 'go')));
    } finally {
      // Whatever happened, the script is let go, so a failure ends the test instead of hanging it.
      fs.writeFileSync(path.join(repo, 'go'), '');
    }
    assert.equal(await exitedPromise, 0);
    const [listed] = listRuns(repo);
    const run = readRunRecord(path.join(repo, '.runlens'), listed!.id);
    const attached = (run.attachedLogs ?? []).map((l) => `${l.kind} ${l.path} ${l.id}`).sort();
    assert.deepEqual(attached, ['dvclive dvclive dvclive', 'lightning lightning_logs/version_10 version_10', 'tensorboard board events.out.tfevents.1609169139.e8fc262d1b07.21087.0']);
    const metrics = run.metricsSummary!.metrics;
    assert.equal(metrics.train_loss!.count, 6, 'each point once, though CSVLogger rewrote the file six times');
    assert.equal(metrics.train_loss!.last, 1 / 6);
    assert.equal(metrics['train/acc']!.count, 6);
    assert.equal(metrics.hp_metric!.count, 2, 'the replayed event file brings its scalars');
    assert.equal(run.params.lr, 0.01);
    assert.equal(run.paramSources.lr, 'attached:lightning');
    assert.equal(run.params.dropout, 0.5);
    // Those logs belong to the run now: importing the folder leaves them to it, and imports only the rest.
    const out = runCli(['import', '.', '--json'], repo);
    const summary = JSON.parse(out.stdout) as { sources: { kind: string; added: number; skipped: { reason: string }[] }[] };
    assert.deepEqual(summary.sources.filter((s) => s.added > 0).map((s) => s.kind), ['lightning'], 'only the earlier version_9 is imported');
    assert.match(JSON.stringify(summary.sources), /attached to runs recorded with runlens run; left to them/);
  });

  test('--no-attach-logs leaves them alone', () => {
    const repo = makeRepo();
    write(repo, 'train.py', "import os\nos.makedirs('lightning_logs/version_0', exist_ok=True)\nopen('lightning_logs/version_0/metrics.csv', 'w').write('loss,step\\n1,0\\n')\n");
    assert.equal(runCli(['run', '--no-attach-logs', '--', PYTHON, 'train.py'], repo).code, 0);
    const [listed] = listRuns(repo);
    const run = readRunRecord(path.join(repo, '.runlens'), listed!.id);
    assert.equal(run.attachedLogs, undefined);
    assert.deepEqual(Object.keys(run.metricsSummary!.metrics), []);
  });
});
