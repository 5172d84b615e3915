import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import type { RunRecord } from '../../src/core/runRecord';
import type { RunDiff } from '../../src/core/runDiff';
import { spawnSync } from 'node:child_process';
import { git, makeRepo, PROJECT_ROOT, runCli, tempDir, TEST_ENV, write } from '../helpers/repo';

function record0(dir: string): string {
  return (JSON.parse(runCli(['ls', '--json'], dir).stdout) as RunRecord[])[0]!.id;
}

describe('runlens ls, show and diff', () => {
  let repo: string;
  let ids: string[];

  before(() => {
    repo = makeRepo({ 'train.py': 'import json, sys\nlr = float(sys.argv[2])\nfor s in range(3): print(json.dumps({"step": s, "loss": lr * (3 - s)}))\n', 'model.py': 'depth = 2\n' });
    assert.equal(runCli(['run', '--name', 'baseline', '--', 'python3', 'train.py', '--lr', '0.1'], repo).code, 0);
    write(repo, 'model.py', 'depth = 4\n');
    write(repo, 'augment.py', 'flip = True\n');
    assert.equal(runCli(['run', '--name', 'deeper', '--param', 'note=deeper net', '--', 'python3', 'train.py', '--lr', '0.2'], repo).code, 0);
    ids = (JSON.parse(runCli(['ls', '--json'], repo).stdout) as RunRecord[]).map((r) => r.id);
  });

  test('ls lists newest first as a table, and as JSON', () => {
    const out = runCli(['ls'], repo);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID +NAME +STATUS +STARTED +DURATION +BRANCH +COMMIT +METRICS$/);
    assert.match(lines[1]!, /deeper +finished .* main +[0-9a-f]{8}\* +loss=0/);
    assert.match(lines[2]!, /baseline +finished .* main +[0-9a-f]{8} +loss=0/);
    assert.equal(ids.length, 2);
    const limited = JSON.parse(runCli(['ls', '--limit', '1', '--json'], repo).stdout) as { name: string }[];
    assert.deepEqual(limited.map((r) => r.name), ['deeper']);
  });

  test('show finds a run by prefix or name, in words and as JSON', () => {
    const byName = runCli(['show', 'baseline'], repo);
    assert.equal(byName.code, 0, byName.stderr);
    assert.match(byName.stdout, /^baseline {2}\(/);
    assert.match(byName.stdout, /lr = 0\.1 {2}\(argv\)/);
    assert.match(byName.stdout, /loss: last 0\.1, min 0\.1, max 0\.3 over 3 step\(s\)/);
    const json = JSON.parse(runCli(['show', ids[0]!.slice(0, 20), '--json'], repo).stdout) as RunRecord;
    assert.equal(json.name, 'deeper');
    assert.equal(json.git!.changes.length, 2);
  });

  test('diff names the params, metrics and files that differ', () => {
    const out = runCli(['diff', 'baseline', 'deeper'], repo);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /params that differ\n +PARAM +A +B\n +lr +0\.1 +0\.2\n +note +\(absent\) +deeper net/);
    assert.match(out.stdout, /loss +0\.1 \[0\.1, 0\.3\] +0\.2 \[0\.2, 0\.6\]/);
    assert.match(out.stdout, /files that differ between the snapshots\n +A augment\.py\n +M model\.py/);
    const json = JSON.parse(runCli(['diff', 'baseline', 'deeper', '--json'], repo).stdout) as RunDiff;
    assert.deepEqual(json.files, [{ path: 'augment.py', status: 'A' }, { path: 'model.py', status: 'M' }]);
    assert.deepEqual(json.data, []);
  });

  test('ls --where and --sort answer from the index, which is saved and reused', () => {
    const out = runCli(['ls', '--where', 'params.lr > 0.15 and metrics.loss < 1', '--sort', '-metrics.loss'], repo);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /deeper/);
    assert.doesNotMatch(out.stdout, /baseline/);
    assert.ok(fs.existsSync(path.join(repo, '.runlens', 'index.sqlite')));
    const sorted = runCli(['ls', '--sort', 'name', '--json'], repo);
    assert.deepEqual((JSON.parse(sorted.stdout) as RunRecord[]).map((r) => r.name), ['baseline', 'deeper']);
    assert.match(runCli(['ls', '--where', 'tag = nothing'], repo).stdout, /^No run matches\.$/m);
    const bad = runCli(['ls', '--where', 'metrics.loss <'], repo);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected a value after "<", found the end of the query at position 15\n {2}metrics\.loss <\n {16}\^/);
  });

  test('a corrupt index is rebuilt from the run files, with a message, and loses nothing', () => {
    fs.writeFileSync(path.join(repo, '.runlens', 'index.sqlite'), 'garbage');
    const out = runCli(['ls', '--json'], repo);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /the index was unusable .*; rebuilding it from the run files/);
    assert.equal((JSON.parse(out.stdout) as RunRecord[]).length, 2);
  });

  test('the user\'s work tree and index were never touched by recording', () => {
    assert.equal(git(repo, 'status', '--porcelain'), ' M model.py\n?? augment.py\n');
  });

  test('mistakes give a clear message and exit code 2', () => {
    const cases: [string[], RegExp][] = [
      [['ls', '--bogus'], /unknown option --bogus/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['show'], /missing a run/],
      [['show', 'nothing-like-this'], /no run matches "nothing-like-this"/],
      [['show', ids[0]!.slice(0, 3)], /matches 2 runs; give more of the id/],
      [['diff', 'baseline'], /missing run b/],
      [['run'], /no command to record/],
      [['run', '--param', 'oops', '--', 'true'], /--param expects key=value/],
      [['run', '--config', 'missing.yaml', '--', 'true'], /cannot read config missing\.yaml: no such file/],
      [['ls', '--limit', 'x'], /--limit expects a whole number/],
    ];
    for (const [args, message] of cases) {
      const out = runCli(args, repo);
      assert.equal(out.code, 2, `${args.join(' ')}: ${out.stderr}`);
      assert.match(out.stderr, message, args.join(' '));
    }
    assert.equal((JSON.parse(runCli(['ls', '--json'], repo).stdout) as unknown[]).length, 2, 'a refused run leaves no run behind');
  });

  test('hostile names are shown as text, escape sequences made visible', () => {
    const dir = makeRepo();
    const name = '<img src=x onerror=alert(1)> \u001b[31mred\u001b[0m "quoted" </script>';
    assert.equal(runCli(['run', '--name', name, '--', 'true'], dir).code, 0);
    const out = runCli(['ls'], dir).stdout;
    assert.ok(!out.includes('\u001b'), 'no raw escape reaches the terminal');
    assert.match(out, /<img src=x onerror=alert\(1\)> \\x… /, 'escaped first, then cut to the column');
    assert.match(runCli(['show', record0(dir)], dir).stdout, /^<img src=x onerror=alert\(1\)> \\x1b\[31mred\\x1b\[0m "quoted" <\/script> {2}\(/);
    const record = (JSON.parse(runCli(['ls', '--json'], dir).stdout) as RunRecord[])[0]!;
    assert.equal(record.name, name, 'stored exactly as given');
    assert.ok(fs.existsSync(path.join(dir, '.runlens', 'runs', record.id, 'run.json')));
  });
});

describe('bin/runlens, the command users run', () => {
  const bin = path.join(PROJECT_ROOT, 'bin', 'runlens');
  const launch = (args: string[], cwd: string, cache: string, env: NodeJS.ProcessEnv = {}) => {
    const out = spawnSync(process.execPath, [bin, ...args], { cwd, env: { ...TEST_ENV, RUNLENS_COMPILE_CACHE: cache, ...env }, encoding: 'utf8' });
    return { code: out.status, signal: out.signal, stdout: out.stdout, stderr: out.stderr };
  };

  test("keeps V8's compiled code per command, reuses it, replaces a cache V8 rejects, and answers exactly as the bundle does", () => {
    const repo = makeRepo({ 'train.py': 'print("{\\"step\\": 0, \\"loss\\": 1}")\n' });
    assert.equal(runCli(['run', '--name', 'one', '--', 'python3', 'train.py'], repo).code, 0);
    const cache = path.join(tempDir('runlens-compile-'), 'cache');
    const plain = runCli(['ls', '--json'], repo);
    const first = launch(['ls', '--json'], repo, cache);
    assert.deepEqual(first, plain, 'the same answer as dist/cli.js');
    const files = fs.readdirSync(cache);
    assert.equal(files.length, 1, files.join(' '));
    assert.match(files[0]!, /\.ls\.bin$/);
    const file = path.join(cache, files[0]!);
    const written = fs.statSync(file).mtimeMs;
    assert.ok(fs.statSync(file).size > 10_000, 'compiled code, not an empty file');
    assert.deepEqual(launch(['ls', '--json'], repo, cache), plain);
    assert.equal(fs.statSync(file).mtimeMs, written, 'an accepted cache is not written again');
    fs.writeFileSync(file, 'not a code cache');
    assert.deepEqual(launch(['ls', '--json'], repo, cache), plain, 'a rejected cache costs nothing but time');
    assert.notEqual(fs.readFileSync(file, 'utf8').slice(0, 16), 'not a code cache', 'and is replaced');
    assert.equal(launch(['show', 'nope'], repo, cache).code, runCli(['show', 'nope'], repo).code, 'exit codes pass through');
    assert.ok(fs.readdirSync(cache).some((f) => f.endsWith('.show.bin')), 'one cache per command');
    const home = tempDir('runlens-compile-home-');
    assert.deepEqual(launch(['ls', '--json'], repo, 'off', { HOME: home, XDG_CACHE_HOME: '' }), plain);
    assert.deepEqual(fs.readdirSync(home), [], 'off writes nothing');
    assert.deepEqual(launch(['ls', '--json'], repo, '', { HOME: home, XDG_CACHE_HOME: '' }), plain);
    assert.equal(fs.readdirSync(path.join(home, '.cache', 'runlens', 'compile')).length, 1, "by default in the user's cache folder");
  });
});
