import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { RunRecord } from '../../src/core/runRecord';
import { parseRunRecord } from '../../src/core/store';
import { exited, git, makeRepo, readJson, runCli, runIds, startCli, tempDir, waitFor, write } from '../helpers/repo';

function onlyRun(repo: string): { id: string; dir: string; record: RunRecord } {
  const ids = runIds(repo);
  assert.equal(ids.length, 1, `expected one run, found ${ids.length}`);
  const id = ids[0]!;
  const dir = path.join(repo, '.runlens', 'runs', id);
  return { id, dir, record: parseRunRecord(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), id) };
}

function metricLines(dir: string): Record<string, unknown>[] {
  return fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const PYTHON_TRAIN = `
import math, runlens, sys
runlens.params({"optimizer": {"name": "adam", "beta": 0.9}, "seed": 1234})
for step in range(50):
    runlens.log({"loss": 1.0 / (step + 1), "acc": step / 50}, step=step)
runlens.log({"loss": float("nan"), "grad": math.inf, "neg": -math.inf}, step=50)
print("epoch done")
`;

describe('runlens run', () => {
  test('metrics arrive from stdout, from $RUNLENS_METRICS_FILE and from the Python package, NaN and ±Infinity intact', () => {
    const repo = makeRepo({ 'train.py': PYTHON_TRAIN });
    const script = [
      'echo \'{"step": 1, "val_loss": 0.5}\'',
      'echo \'runlens: {"step": 2, "val_loss": NaN, "lr": Infinity}\'',
      'echo \'{"step": 3, "from_file": 7}\' >> "$RUNLENS_METRICS_FILE"',
      'python3 train.py',
    ].join('; ');
    const result = runCli(['run', '--name', 'three-paths', '--', 'sh', '-c', script], repo);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /epoch done/, 'output still reaches the terminal');
    const { dir, record } = onlyRun(repo);
    assert.equal(record.status, 'finished');
    assert.equal(record.name, 'three-paths');
    const lines = metricLines(dir);
    assert.ok(lines.some((l) => l.val_loss === 0.5 && l.step === 1 && typeof l.t === 'number'));
    assert.ok(lines.some((l) => l.val_loss === 'NaN' && l.lr === 'Infinity'));
    assert.ok(lines.some((l) => l.from_file === 7));
    assert.equal(lines.filter((l) => 'acc' in l).length, 50);
    assert.ok(lines.some((l) => l.loss === 'NaN' && l.grad === 'Infinity' && l.neg === '-Infinity'));
    const summary = record.metricsSummary!;
    assert.ok(Number.isNaN(summary.metrics.loss!.last), 'NaN survives into run.json');
    assert.equal(summary.metrics.loss!.nan, 1);
    assert.equal(summary.metrics.loss!.min, 1 / 50);
    assert.equal(summary.metrics.grad!.last, Infinity);
    assert.equal(summary.metrics.neg!.last, -Infinity);
    assert.equal(summary.metrics.acc!.count, 50);
    assert.equal(summary.malformed, 0);
    assert.equal(record.params['optimizer.name'], 'adam');
    assert.equal(record.paramSources['optimizer.beta'], 'run');
    assert.deepEqual(record.seed, { value: 1234, source: 'run:seed' });
  });

  test('a malformed metric line is never fatal: kept in stdout.log, counted, and explained', () => {
    const repo = makeRepo();
    const script = [
      'echo \'{"loss": 1.0}\'',
      'echo "{\'loss\': 0.5}"',
      'echo \'runlens: not json\'',
      'echo \'{"loss": 0.25\'',
      'echo \'{"loss": 0.125}\'',
      'printf \'{"torn": 1\' >> "$RUNLENS_METRICS_FILE"',
    ].join('; ');
    const result = runCli(['run', '--', 'sh', '-c', script], repo);
    assert.equal(result.code, 0, result.stderr);
    const { dir, record } = onlyRun(repo);
    const log = fs.readFileSync(path.join(dir, 'stdout.log'), 'utf8');
    assert.match(log, /\{'loss': 0\.5\}/);
    assert.match(log, /runlens: not json/);
    assert.equal(record.metricsSummary!.metrics.loss!.count, 2);
    assert.equal(record.metricsSummary!.metrics.loss!.last, 0.125);
    // `{'loss': 0.5}`, `runlens: not json` and `{"loss": 0.25` (a metrics line cut short) on stdout,
    // and the unfinished line in the file, which must not swallow the recorder's next line.
    assert.equal(record.metricsSummary!.malformed, 4);
    assert.match(record.metricsSummary!.malformedSamples[0]!.reason, /single quotes/);
    assert.ok(record.metricsSummary!.malformedSamples.some((s) => s.text === '{"torn": 1'));
    assert.match(result.stderr, /4 metric line\(s\) could not be read/);
  });

  test('params come from --config (YAML and JSON, flattened), the script\'s flags and --param, in that order', () => {
    const repo = makeRepo({ 'train.py': 'pass\n', 'conf/base.yaml': 'lr: 0.1\nmodel:\n  depth: 4\n  widths: [64, 128]\n', 'extra.json': '{"batch": 16, "lr": 0.05}' });
    const result = runCli(
      ['run', '--config', 'conf/base.yaml', '--config', 'extra.json', '--param', 'batch=64', '--param', 'note=hello world', '--tag', 'baseline', '--', 'python3', 'train.py', '--lr', '0.01', '--amp', '--seed=7'],
      repo,
    );
    assert.equal(result.code, 0, result.stderr);
    const { record } = onlyRun(repo);
    assert.equal(record.params['model.depth'], 4);
    assert.equal(record.params['model.widths.1'], 128);
    assert.equal(record.params.lr, 0.01);
    assert.equal(record.paramSources.lr, 'argv');
    assert.equal(record.params.batch, 64);
    assert.equal(record.paramSources.batch, 'cli');
    assert.equal(record.paramSources['model.depth'], 'config:conf/base.yaml');
    assert.equal(record.params.amp, true);
    assert.equal(record.params.note, 'hello world');
    assert.deepEqual(record.seed, { value: 7, source: 'argv:seed' });
    assert.deepEqual(record.tags, ['baseline']);
    assert.equal(record.configFiles.length, 2);
    assert.match(record.configFiles[0]!.sha256!, /^[0-9a-f]{64}$/);
  });

  test('data and artifacts are content-hashed; a missing artifact is reported, not fatal', () => {
    const repo = makeRepo({ '.gitignore': 'data/\nout/\n', 'train.py': 'pass\n' });
    write(repo, 'data/train.csv', 'a,b\n1,2\n');
    write(repo, 'data/sub/val.csv', 'a,b\n3,4\n');
    const script = 'mkdir -p out && printf weights > out/model.bin';
    const result = runCli(['run', '--data', 'data', '--artifact', 'out/model.bin', '--artifact', 'out/missing.pt', '--', 'sh', '-c', script], repo);
    assert.equal(result.code, 0, result.stderr);
    const { record } = onlyRun(repo);
    assert.equal(record.data[0]!.kind, 'dir');
    assert.equal(record.data[0]!.files, 2);
    assert.deepEqual(record.data[0]!.entries!.map((e) => e.path), ['sub/val.csv', 'train.csv']);
    assert.equal(record.artifacts[0]!.sha256, createHash('sha256').update('weights').digest('hex'));
    const folderListing = ['sub/val.csv', 'train.csv'].map((f) => `${createHash('sha256').update(fs.readFileSync(path.join(repo, 'data', f))).digest('hex')}  ${f}\n`).join('');
    assert.equal(record.data[0]!.sha256, createHash('sha256').update(folderListing).digest('hex'), 'folder hash = sha256 of its sha256sum listing');
    assert.equal(record.artifacts[0]!.size, 7);
    assert.equal(record.artifacts[1]!.kind, 'missing');
    assert.match(record.problems.join('\n'), /artifact out\/missing\.pt was not written/);
  });

  test('the exit code is the command\'s, and a failing command is recorded as failed', () => {
    const repo = makeRepo();
    const result = runCli(['run', '--', 'sh', '-c', 'echo partial; exit 3'], repo);
    assert.equal(result.code, 3);
    const { record } = onlyRun(repo);
    assert.equal(record.status, 'failed');
    assert.equal(record.exitCode, 3);
  });

  test('a command that cannot start is recorded as failed with the reason, exit 127', () => {
    const repo = makeRepo();
    const result = runCli(['run', '--', 'no-such-trainer-xyz', '--lr', '1'], repo);
    assert.equal(result.code, 127);
    const { record } = onlyRun(repo);
    assert.equal(record.status, 'failed');
    assert.match(record.problems.join('\n'), /could not start no-such-trainer-xyz: .*ENOENT/);
  });

  test('SIGINT is forwarded to the command and the run ends killed', async () => {
    const repo = makeRepo();
    const script = 'trap "echo got-int; exit 130" INT; echo \'{"loss": 1}\'; while true; do sleep 0.05; done';
    const child = startCli(['run', '--', 'sh', '-c', script], repo);
    const done = exited(child);
    await waitFor(() => {
      const ids = runIds(repo);
      return ids.length === 1 && fs.existsSync(path.join(repo, '.runlens', 'runs', ids[0]!, 'metrics.jsonl')) && fs.statSync(path.join(repo, '.runlens', 'runs', ids[0]!, 'metrics.jsonl')).size > 0;
    }, 15_000, 'the first metric line');
    child.kill('SIGINT');
    const result = await done;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stdout, /got-int/, 'the command saw the interrupt');
    const { record } = onlyRun(repo);
    assert.equal(record.status, 'killed');
    assert.equal(record.metricsSummary!.metrics.loss!.last, 1);
  });

  test('a recorder killed with SIGKILL leaves a run that reads as crashed, its metrics kept', async () => {
    const repo = makeRepo();
    const child = startCli(['run', '--', 'sh', '-c', 'echo \'{"loss": 2}\'; sleep 30'], repo);
    await waitFor(() => {
      const ids = runIds(repo);
      const file = ids[0] && path.join(repo, '.runlens', 'runs', ids[0], 'metrics.jsonl');
      return Boolean(file && fs.existsSync(file) && fs.statSync(file).size > 0);
    }, 15_000, 'the first metric line');
    const done = exited(child);
    child.kill('SIGKILL');
    await done;
    const { dir, record } = onlyRun(repo);
    assert.equal(record.status, 'running', 'on disk it was still running');
    const ls = runCli(['ls', '--json'], repo);
    const [listed] = JSON.parse(ls.stdout) as RunRecord[];
    assert.equal(listed!.status, 'crashed');
    assert.equal(metricLines(dir)[0]!.loss, 2);
    const show = runCli(['show', record.id.slice(0, 14)], repo);
    assert.match(show.stdout, /status +crashed/);
  });

  test('four runs at once in one repository: distinct snapshots, no metric line lost', async () => {
    const repo = makeRepo();
    write(repo, 'wip.py', 'work in progress\n');
    const lines = 3000;
    const children = [0, 1, 2, 3].map((i) =>
      startCli(['run', '--name', `parallel-${i}`, '--', process.execPath, '-e', `for (let s = 0; s < ${lines}; s++) console.log(JSON.stringify({ step: s, worker: ${i}, loss: 1 / (s + 1) }))`], repo),
    );
    const results = await Promise.all(children.map(exited));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const ids = runIds(repo);
    assert.equal(ids.length, 4);
    const snapshots = new Set<string>();
    for (const id of ids) {
      const dir = path.join(repo, '.runlens', 'runs', id);
      const record = readJson<RunRecord>(path.join(dir, 'run.json'));
      snapshots.add(record.git!.snapshot);
      assert.equal(git(repo, 'show', `${record.git!.snapshot}:wip.py`), 'work in progress\n');
      const got = metricLines(dir);
      assert.equal(got.length, lines, `${record.name} kept every line`);
      assert.ok(got.every((l) => l.worker === got[0]!.worker));
      assert.equal(record.metricsSummary!.metrics.loss!.count, lines);
    }
    assert.equal(snapshots.size, 4);
  });

  test('secret-looking variables and remote credentials never reach disk', () => {
    const repo = makeRepo({ 'train.py': 'import os\nprint(len(os.environ["MY_API_TOKEN"]))\n' });
    git(repo, 'remote', 'add', 'origin', 'https://bob:ghp_remoteSecret123@git.example.com/ml/model.git');
    const secret = 'tok_9f8e7d6c5b4a_do_not_store';
    const result = runCli(['run', '--', 'python3', 'train.py'], repo, { MY_API_TOKEN: secret, DATABASE_URL: 'postgres://u:dbSecret42@db/x', HARMLESS_SETTING: 'visible' });
    assert.equal(result.code, 0, result.stderr);
    const { record } = onlyRun(repo);
    assert.equal(record.env!.variables.MY_API_TOKEN, '<redacted>');
    assert.equal(record.env!.variables.HARMLESS_SETTING, 'visible');
    assert.equal(record.env!.variables.DATABASE_URL, 'postgres://db/x');
    assert.equal(record.git!.remote, 'https://git.example.com/ml/model.git');
    for (const needle of [secret, 'ghp_remoteSecret123', 'dbSecret42']) {
      const found = findInTree(path.join(repo, '.runlens'), needle);
      assert.deepEqual(found, [], `${needle} found under .runlens`);
      const grep = spawnSync('git', ['grep', '-l', '-F', needle, record.git!.snapshot, '--'], { cwd: repo, encoding: 'utf8' });
      assert.equal(grep.status, 1, `${needle} found in the snapshot: ${grep.stdout}${grep.stderr}`);
      assert.ok(!git(repo, 'cat-file', '-p', record.git!.snapshot).includes(needle));
    }
    assert.equal(record.env!.python!.version.split('.')[0], '3');
    assert.ok(Object.keys(record.env!.python!.packages).length > 0, 'packages listed');
  });

  test('outside a git repository the run is still recorded, with the reason', () => {
    const dir = tempDir();
    const result = runCli(['run', '--', 'sh', '-c', 'echo \'{"acc": 0.5}\''], dir);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /no code snapshot: .*not a git repository/);
    const { record } = onlyRun(dir);
    assert.equal(record.git, null);
    assert.match(record.gitError!, /not a git repository/);
    assert.equal(record.metricsSummary!.metrics.acc!.last, 0.5);
  });

  test('without git on PATH the run is still recorded, and the message says what to do', () => {
    const repo = makeRepo();
    const result = runCli(['run', '--', 'sh', '-c', 'echo ok'], repo, { RUNLENS_GIT: '/nonexistent/git' });
    assert.equal(result.code, 0, result.stderr);
    const ids = runIds(repo);
    assert.equal(ids.length, 1);
    const record = readJson<RunRecord>(path.join(repo, '.runlens', 'runs', ids[0]!, 'run.json'));
    assert.equal(record.git, null);
    assert.match(record.gitError!, /git is not installed or not on PATH/);
  });

  test('from a subfolder, the run lands at the repository root with its relative directory', () => {
    const repo = makeRepo({ 'experiments/mnist/train.py': 'print("x")\n' });
    const result = runCli(['run', '--', 'python3', 'train.py'], path.join(repo, 'experiments', 'mnist'));
    assert.equal(result.code, 0, result.stderr);
    const { record } = onlyRun(repo);
    assert.equal(record.cwdInRepo, 'experiments/mnist');
    assert.equal(record.name.startsWith('train-'), true);
  });

  test('the Python package outside a run says how to record, and the script still runs', () => {
    const dir = tempDir();
    write(dir, 'train.py', 'import runlens\nrunlens.log({"loss": 1})\nrunlens.log({"loss": 2})\nprint("trained")\n');
    const helper = path.resolve(__dirname, '..', '..', '..', 'python');
    const result = spawnSync('python3', ['train.py'], { cwd: dir, encoding: 'utf8', env: { ...process.env, PYTHONPATH: helper, RUNLENS_METRICS_FILE: '', RUNLENS_RUN_DIR: '' } });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'trained\n');
    assert.equal(result.stderr.match(/runlens: not recording/g)?.length, 1, 'one warning');
    assert.match(result.stderr, /runlens run -- python/);
  });
});

function findInTree(root: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (fs.readFileSync(full).includes(needle)) hits.push(full);
    }
  };
  walk(root);
  return hits;
}
