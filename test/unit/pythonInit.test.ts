import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import type { RunRecord } from '../../src/core/runRecord';
import { exited, makeRepo, PROJECT_ROOT, runCli, TEST_ENV, tempDir, waitFor, write } from '../helpers/repo';

/**
 * runlens.init() with real interpreters and processes: the package installed
 * by pip from python/ into virtual environments (offline), Debian's python3
 * with its torch, jupyter nbconvert running a real kernel, and real signals.
 */

const DEBIAN_PYTHON = '/usr/bin/python3';
const PACKAGE_DIR = path.join(PROJECT_ROOT, 'python');

function which(program: string): string | null {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

/** A folder with `runlens` in it, for PATH: how a user who installed the CLI has it. */
function cliOnPath(): string {
  const dir = tempDir('runlens-bin-');
  fs.symlinkSync(path.join(PROJECT_ROOT, 'bin', 'runlens'), path.join(dir, 'runlens'));
  return dir;
}

function envWith(binDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...TEST_ENV, PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`, ...extra };
}

/** A virtual environment of `python` with the runlens package installed by pip from python/, no index. */
function venvWithPackage(python: string): string {
  const dir = tempDir('runlens-venv-');
  execFileSync(python, ['-m', 'venv', dir]);
  const pip = spawnSync(path.join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '--no-index', '--disable-pip-version-check', '-q', PACKAGE_DIR], { encoding: 'utf8' });
  assert.equal(pip.status, 0, `pip install ./python under ${python}: ${pip.stderr}`);
  return path.join(dir, 'bin', 'python');
}

function runs(repo: string): RunRecord[] {
  const out = runCli(['ls', '--json'], repo);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as RunRecord[];
}

function only(repo: string): RunRecord {
  const all = runs(repo);
  assert.equal(all.length, 1, `one run (${all.map((r) => `${r.name}:${r.status}`).join(', ')})`);
  return all[0]!;
}

const TRAIN = [
  'import runlens, sys',
  'run = runlens.init(config={"lr": 0.01, "model": {"depth": 4}}, data=["data.csv"], tags=["sweep"])',
  'for step in range(20):',
  '    runlens.log({"loss": 1.0 / (step + 1), "acc": step / 20}, step=step)',
  'print("trained", run.id)',
].join('\n');

describe('runlens.init()', () => {
  let bin: string;
  before(() => {
    bin = cliOnPath();
  });

  test('pip installs python/ offline; init() under another Python on PATH records the run like runlens run', () => {
    const python = venvWithPackage('python3');
    const repo = makeRepo({ 'train.py': TRAIN + '\n', 'data.csv': 'x,y\n1,2\n' });
    write(repo, 'notes.txt', 'untracked\n');
    const result = spawnSync(python, ['train.py', '--epochs', '3'], { cwd: repo, env: envWith(bin), encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const run = only(repo);
    assert.equal(run.status, 'finished');
    assert.equal(run.exitCode, 0);
    assert.match(result.stdout, new RegExp(`trained ${run.id}`));
    assert.deepEqual([run.params.lr, run.params['model.depth'], run.params.epochs], [0.01, 4, 3]);
    assert.deepEqual([run.paramSources.lr, run.paramSources.epochs], ['init', 'argv']);
    assert.deepEqual(run.tags, ['sweep']);
    assert.equal(run.data[0]?.path, 'data.csv');
    assert.ok(run.data[0]?.sha256, 'data hashed');
    assert.equal(run.metricsSummary?.metrics.loss?.count, 20);
    assert.equal(run.metricsSummary?.metrics.loss?.last, 1 / 20);
    // The snapshot holds the untracked file, as runlens run's does.
    assert.ok(run.git?.changes.some((c) => c.path === 'notes.txt'), 'untracked file in the snapshot');
    assert.equal(run.env?.python?.executable, python, 'the environment of the interpreter that ran');
    assert.equal(run.command[0], python);
  });

  test("Debian's python3 with PYTHONPATH, and the CLI from RUNLENS_CLI; finish() ends the run early, with-blocks too", () => {
    const repo = makeRepo({ 'train.py': 'print(1)\n' });
    write(repo, 'early.py', [
      'import runlens',
      'runlens.init(name="early")',
      'runlens.log({"loss": 2.0})',
      'runlens.finish()',
      'runlens.log({"loss": 9.0})',
      'with runlens.init(name="block") as run:',
      '    run.log({"loss": 1.0})',
      'print(run.status)',
    ].join('\n'));
    const result = spawnSync(DEBIAN_PYTHON, ['early.py'], {
      cwd: repo,
      env: { ...TEST_ENV, PYTHONPATH: PACKAGE_DIR, RUNLENS_CLI: path.join(PROJECT_ROOT, 'bin', 'runlens') },
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /not recording/, 'a log() between runs says it records nothing');
    assert.equal(result.stdout.trim(), 'finished');
    const all = runs(repo);
    assert.deepEqual(all.map((r) => [r.name, r.status, r.metricsSummary?.metrics.loss?.last]).sort(), [['block', 'finished', 1], ['early', 'finished', 2]]);
    assert.ok(all.every((r) => r.env?.python?.executable === DEBIAN_PYTHON));
  });

  test('an uncaught exception: failed, with the traceback kept in the run', () => {
    const repo = makeRepo({ 'train.py': 'import runlens\nrunlens.init()\nrunlens.log({"loss": 1})\nraise ValueError("learning rate too high")\n' });
    const result = spawnSync('python3', ['train.py'], { cwd: repo, env: envWith(bin, { PYTHONPATH: PACKAGE_DIR }), encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /ValueError: learning rate too high/, "Python's own traceback is still printed");
    const run = only(repo);
    assert.equal(run.status, 'failed');
    assert.equal(run.exitCode, 1);
    assert.ok(run.problems.some((p) => p.includes('uncaught ValueError: learning rate too high')), run.problems.join('; '));
    const traceback = fs.readFileSync(path.join(repo, '.runlens', 'runs', run.id, 'traceback.txt'), 'utf8');
    assert.match(traceback, /Traceback \(most recent call last\):[\s\S]*train\.py", line 4[\s\S]*ValueError: learning rate too high/);
  });

  test('sys.exit(3) fails the run with its code', () => {
    const repo = makeRepo({ 'train.py': 'import runlens, sys\nrunlens.init()\nsys.exit(3)\n' });
    const result = spawnSync('python3', ['train.py'], { cwd: repo, env: envWith(bin, { PYTHONPATH: PACKAGE_DIR }), encoding: 'utf8' });
    assert.equal(result.status, 3);
    const run = only(repo);
    assert.deepEqual([run.status, run.exitCode], ['failed', 3]);
  });

  for (const [signal, status] of [['SIGINT', 'killed'], ['SIGTERM', 'killed'], ['SIGKILL', 'crashed']] as const) {
    test(`${signal} while training: ${status}`, async () => {
      const repo = makeRepo({ 'train.py': 'import runlens, time\nrunlens.init()\nfor s in range(600):\n    runlens.log({"loss": 1.0 / (s + 1)})\n    time.sleep(0.05)\n' });
      const child = spawn('python3', ['train.py'], { cwd: repo, env: envWith(bin, { PYTHONPATH: PACKAGE_DIR }), stdio: ['ignore', 'pipe', 'pipe'] });
      const done = exited(child);
      const metrics = () => {
        const dir = path.join(repo, '.runlens', 'runs');
        if (!fs.existsSync(dir)) return '';
        const [id] = fs.readdirSync(dir);
        const file = id ? path.join(dir, id, 'metrics.jsonl') : '';
        return file && fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      };
      await waitFor(() => metrics().split('\n').length > 5, 20_000, 'metrics of the running script');
      child.kill(signal);
      const end = await done;
      assert.equal(end.signal, signal, end.stderr);
      // The recorder writes the end after the process is gone (SIGKILL: it sees the pipe close).
      await waitFor(() => runs(repo)[0]?.status !== 'running' && runs(repo)[0]?.endedAt != null, 10_000, 'the run to end');
      const run = only(repo);
      assert.equal(run.status, status);
      if (signal !== 'SIGKILL') assert.equal(run.signal, signal);
      else assert.ok(run.problems.some((p) => p.includes('ended without saying how')), run.problems.join('; '));
      assert.ok((run.metricsSummary?.metrics.loss?.count ?? 0) >= 5, 'the metrics logged before the end are kept');
    });
  }

  test('under runlens run, init() joins the run being recorded: one run, with what init() declared', () => {
    const repo = makeRepo({
      'train.py': 'import runlens\nrun = runlens.init(name="from-init", config="conf.yaml", params={"lr": 0.5}, tags=["joined"], artifacts=["model.bin"])\nopen("model.bin", "w").write("w")\nrunlens.log({"loss": 0.25})\nprint("joined", run.joined)\n',
      'conf.yaml': 'batch: 64\nlr: 9\n',
    });
    const out = runCli(['run', '--quiet', '--', 'python3', 'train.py'], repo);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /joined True/);
    const run = only(repo);
    assert.deepEqual([run.name, run.status, run.params.lr, run.metricsSummary?.metrics.loss?.last], ['from-init', 'finished', 0.5, 0.25]);
    assert.deepEqual(run.tags, ['joined']);
    assert.equal(run.artifacts[0]?.path, 'model.bin');
    assert.deepEqual([run.params.batch, run.paramSources.batch, run.configFiles[0]?.path], [64, 'config:conf.yaml', 'conf.yaml']);
  });

  test('without the runlens command anywhere, init() says so once and the script still trains', () => {
    const repo = makeRepo({ 'train.py': 'import runlens\nrun = runlens.init()\nrunlens.log({"loss": 1})\nprint("still", run.id)\n' });
    const result = spawnSync('python3', ['train.py'], { cwd: repo, env: { ...TEST_ENV, PYTHONPATH: PACKAGE_DIR, PATH: path.dirname(process.execPath) + ':/usr/bin:/bin' }, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /still None/);
    assert.equal((result.stderr.match(/runlens: not recording/g) ?? []).length, 1, result.stderr);
    assert.match(result.stderr, /the runlens command was not found/);
  });

  test('a notebook executed by nbconvert: the run holds its cells, re-running init() starts a new run, a failing cell fails it', () => {
    const repo = makeRepo({ 'train.py': 'print(1)\n' });
    const notebook = (cells: string[]) =>
      JSON.stringify({
        cells: cells.map((source) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source })),
        metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
        nbformat: 4,
        nbformat_minor: 5,
      });
    write(repo, 'nb/explore.ipynb', notebook([
      'import runlens\nrun = runlens.init(params={"lr": 0.01})',
      'for s in range(3):\n    runlens.log({"loss": 1.0 / (s + 1)})',
      'first = run\nrun = runlens.init(name="second try")\nrunlens.log({"acc": 0.5})\nprint(first.status)',
    ]));
    const env = envWith(bin, { PYTHONPATH: PACKAGE_DIR });
    const nbconvert = (file: string) => spawnSync('jupyter', ['nbconvert', '--to', 'notebook', '--execute', file, '--output', 'executed'], { cwd: path.join(repo, 'nb'), env, encoding: 'utf8' });
    const first = nbconvert('explore.ipynb');
    assert.equal(first.status, 0, first.stderr);
    const all = runs(repo);
    assert.deepEqual(all.map((r) => [r.name, r.status]).sort(), [['explore', 'finished'], ['second try', 'finished']]);
    const explore = all.find((r) => r.name === 'explore')!;
    assert.equal(explore.params.lr, 0.01);
    assert.equal(explore.metricsSummary?.metrics.loss?.count, 3);
    assert.equal(all.find((r) => r.name === 'second try')!.metricsSummary?.metrics.acc?.last, 0.5);
    const cells = fs.readFileSync(path.join(repo, '.runlens', 'runs', explore.id, 'notebook-cells.py'), 'utf8');
    assert.match(cells, /# In\[1\]:\nimport runlens\nrun = runlens\.init\(params=\{"lr": 0\.01\}\)[\s\S]*# In\[2\]:\nfor s in range\(3\)/);
    // The notebook as saved is in the snapshot: it is in the work tree.
    assert.ok(explore.git?.changes.some((c) => c.path === 'nb/explore.ipynb'), 'the notebook in the snapshot');
    const executed = JSON.parse(fs.readFileSync(path.join(repo, 'nb', 'executed.ipynb'), 'utf8')) as { cells: { outputs: { text?: string[] | string }[] }[] };
    assert.match(JSON.stringify(executed.cells[2]!.outputs), /finished/, 'the first run was finished before the second began');

    // A token typed into a cell never reaches the run's copy of the cells.
    write(repo, 'nb/broken.ipynb', notebook(['import runlens\nrunlens.init(name="broken")\nrunlens.log({"loss": 3})', 'api_token = "sk-abcdefghijklmnopqrstuvwxyz123456"\nraise RuntimeError("diverged")']));
    const broken = nbconvert('broken.ipynb');
    assert.notEqual(broken.status, 0, 'nbconvert stops at the failing cell');
    const failed = runs(repo).find((r) => r.name === 'broken')!;
    assert.equal(failed.status, 'failed');
    assert.ok(failed.problems.some((p) => p.includes('RuntimeError: diverged')), failed.problems.join('; '));
    const brokenCells = fs.readFileSync(path.join(repo, '.runlens', 'runs', failed.id, 'notebook-cells.py'), 'utf8');
    assert.match(brokenCells, /api_token = <redacted>/);
    assert.doesNotMatch(brokenCells, /sk-abcdefghij/);
  });

  test("a real PyTorch training loop (Debian's python3-torch) logs through init() and log()", () => {
    const repo = makeRepo({
      'train.py': [
        'import torch, runlens',
        'torch.manual_seed(runlens.seed(0))',
        'run = runlens.init(config={"lr": 0.1, "hidden": 16})',
        'x = torch.randn(256, 4)',
        'y = (x @ torch.tensor([1.0, -2.0, 0.5, 3.0])).unsqueeze(1) + 0.1 * torch.randn(256, 1)',
        'model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))',
        'opt = torch.optim.SGD(model.parameters(), lr=0.1)',
        'for epoch in range(50):',
        '    opt.zero_grad()',
        '    loss = torch.nn.functional.mse_loss(model(x), y)',
        '    loss.backward()',
        '    opt.step()',
        '    runlens.log({"loss": loss, "weight_norm": model[0].weight.norm()}, step=epoch)',
        'torch.save(model.state_dict(), "model.pt")',
      ].join('\n'),
    });
    const result = spawnSync(DEBIAN_PYTHON, ['train.py'], { cwd: repo, env: envWith(bin, { PYTHONPATH: PACKAGE_DIR }), encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const run = only(repo);
    const loss = run.metricsSummary!.metrics.loss!;
    assert.equal(run.status, 'finished');
    assert.equal(loss.count, 50);
    assert.ok(loss.last < loss.max / 5, `the loss falls (${loss.max} → ${loss.last})`);
    assert.equal(run.params.hidden, 16);
    assert.ok('torch' in (run.env?.python?.packages ?? {}), 'torch in the recorded environment');
  });

  test('the wheel npm run package builds installs with pip and holds every module of the package', () => {
    const out = tempDir('runlens-wheel-');
    const built = spawnSync('python3', [path.join(PROJECT_ROOT, 'scripts', 'build-wheel.py'), out], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const wheel = built.stdout.trim();
    assert.equal(path.basename(wheel), 'runlens-0.1.0-py3-none-any.whl');
    const listing = spawnSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', wheel], { encoding: 'utf8' }).stdout.split('\n');
    const modules = fs.readdirSync(path.join(PACKAGE_DIR, 'runlens')).filter((f) => f.endsWith('.py')).map((f) => `runlens/${f}`);
    for (const module of modules) assert.ok(listing.includes(module), `${module} in the wheel`);
    assert.ok(listing.includes('runlens-0.1.0.dist-info/METADATA') && listing.includes('runlens-0.1.0.dist-info/RECORD'));
    const venv = tempDir('runlens-venv-');
    execFileSync('python3', ['-m', 'venv', venv]);
    const pip = spawnSync(path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--no-index', '-q', wheel], { encoding: 'utf8' });
    assert.equal(pip.status, 0, pip.stderr);
    const imported = spawnSync(path.join(venv, 'bin', 'python'), ['-c', 'import runlens; print(runlens.__version__, callable(runlens.init))'], { cwd: venv, encoding: 'utf8' });
    assert.equal(imported.stdout.trim(), '0.1.0 True', imported.stderr);
  });

  test('the package is Python 3.8 code, and runs under 3.8 where one is installed', () => {
    const check = spawnSync(DEBIAN_PYTHON, ['-c', 'import ast, glob, sys\nfor f in glob.glob(sys.argv[1] + "/**/*.py", recursive=True): ast.parse(open(f).read(), f, feature_version=(3, 8))', PACKAGE_DIR], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    const python38 = which('python3.8');
    if (!python38 || spawnSync(python38, ['--version']).status !== 0) return;
    const python = venvWithPackage(python38);
    const repo = makeRepo({ 'train.py': TRAIN + '\n', 'data.csv': 'x\n' });
    const result = spawnSync(python, ['train.py'], { cwd: repo, env: envWith(bin), encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const run = only(repo);
    assert.equal(run.status, 'finished');
    assert.match(run.env?.python?.version ?? '', /^3\.8\./);
  });
});
