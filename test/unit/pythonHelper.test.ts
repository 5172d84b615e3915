import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { PROJECT_ROOT, tempDir, waitFor } from '../helpers/repo';

const HELPER_DIR = path.join(PROJECT_ROOT, 'python');

function helperEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: HELPER_DIR, RUNLENS_METRICS_FILE: path.join(dir, 'metrics.jsonl'), RUNLENS_RUN_DIR: dir };
}

function runPython(dir: string, script: string) {
  const result = spawnSync('python3', ['-c', script], { cwd: dir, env: helperEnv(dir), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result;
}

function lines(dir: string): Record<string, unknown>[] {
  return fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('the Python package: log() and params()', () => {
  test('four threads logging at once lose no line and tear none', () => {
    const dir = tempDir();
    runPython(dir, [
      'import threading, runlens',
      'def work(k):',
      '    for i in range(20000): runlens.log({"w%d" % k: i}, step=i)',
      'ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]',
      '[t.start() for t in ts]; [t.join() for t in ts]',
    ].join('\n'));
    const got = lines(dir);
    assert.equal(got.length, 80_000);
    for (let k = 0; k < 4; k++) assert.equal(got.filter((l) => `w${k}` in l).length, 20_000);
  });

  test('a slow training loop shows its metrics within a second, before the script ends', async () => {
    const dir = tempDir();
    const child = spawn('python3', ['-c', 'import runlens, time\nrunlens.log({"loss": 1.5})\ntime.sleep(5)\n'], { env: helperEnv(dir) });
    try {
      await waitFor(() => fs.existsSync(path.join(dir, 'metrics.jsonl')) && fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').includes('"loss":1.5'), 1500, 'the flush');
      assert.equal(child.exitCode, null, 'still running');
    } finally {
      child.kill();
    }
  });

  test('a forked worker does not write its parent\'s buffered lines again', () => {
    const dir = tempDir();
    runPython(dir, [
      'import os, runlens',
      'runlens.log({"parent": 1}, step=0)',
      'pid = os.fork()',
      'if pid == 0:',
      '    runlens.log({"child": 1}, step=1); runlens.flush(); os._exit(0)',
      'os.waitpid(pid, 0)',
    ].join('\n'));
    const got = lines(dir);
    assert.equal(got.filter((l) => 'parent' in l).length, 1);
    assert.equal(got.filter((l) => 'child' in l).length, 1);
  });

  test('numbers of every kind are written as JSON; NaN and infinities as strings; steps count up', () => {
    const dir = tempDir();
    runPython(dir, [
      'import runlens',
      'class Scalar:  # what numpy and torch scalars look like',
      '    def __init__(self, v): self.v = v',
      '    def item(self): return self.v',
      'runlens.log({"f": 0.1, "i": 3, "b": True, "s": Scalar(2.5), "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"), "big": 10**20})',
      'runlens.log({"f": 0.2})',
      'runlens.log({"f": 0.3}, step=10)',
      'runlens.log({"f": 0.4})',
    ].join('\n'));
    const got = lines(dir);
    assert.deepEqual(got.map((l) => l.step), [0, 1, 10, 11]);
    const first = got[0]!;
    assert.deepEqual({ ...first, t: 0 }, { step: 0, t: 0, f: 0.1, i: 3, b: 1, s: 2.5, nan: 'NaN', inf: 'Infinity', ninf: '-Infinity', big: 1e20 });
    assert.equal(typeof first.t, 'number');
  });

  test('misuse is explained: a reserved name, a value that is not a number', () => {
    const dir = tempDir();
    const reserved = spawnSync('python3', ['-c', 'import runlens\nrunlens.log({"step": 1})'], { env: helperEnv(dir), encoding: 'utf8' });
    assert.match(reserved.stderr, /'step' is reserved; pass step=\.\.\. instead/);
    const text = spawnSync('python3', ['-c', 'import runlens\nrunlens.log({"loss": "low"})'], { env: helperEnv(dir), encoding: 'utf8' });
    assert.match(text.stderr, /'low' is not a number/);
  });

  test('params() lands in params.jsonl, nested as given', () => {
    const dir = tempDir();
    runPython(dir, 'import runlens\nrunlens.params({"opt": {"name": "adam"}, "layers": [1, 2]})');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'params.jsonl'), 'utf8')), { opt: { name: 'adam' }, layers: [1, 2] });
  });
});
