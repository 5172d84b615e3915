import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Registry, RegistryError } from '../../src/core/registry/registry';
import type { AliasSetEvent } from '../../src/core/registry/events';
import type { RunRecord } from '../../src/core/runRecord';
import { exited, makeRepo, runCli, startCli, write } from '../helpers/repo';

/** A repository with one finished run per given name, each writing its own model file. */
function repoWithRuns(names: string[]): { repo: string; runs: Map<string, RunRecord> } {
  const repo = makeRepo({ '.gitignore': 'out/\n', 'train.py': 'import sys, os\nos.makedirs("out", exist_ok=True)\nopen(f"out/{sys.argv[1]}.bin", "w").write(sys.argv[1])\nprint(\'{"acc": 0.5}\')\n' });
  for (const name of names) {
    const r = runCli(['run', '--name', name, '--artifact', `out/${name}.bin`, '--', 'python3', 'train.py', name], repo);
    assert.equal(r.code, 0, r.stderr);
  }
  const runs = new Map((JSON.parse(runCli(['ls', '--json'], repo).stdout) as RunRecord[]).map((r) => [r.name, r]));
  return { repo, runs };
}

describe('model registry', () => {
  test('register, set and move aliases, roll back, remove: the log says who moved what, and the fold agrees', () => {
    const { repo, runs } = repoWithRuns(['a', 'b', 'c']);
    const registry = new Registry(path.join(repo, '.runlens'));
    assert.equal(registry.register('mnist', runs.get('a')!).version, 1);
    assert.equal(registry.register('mnist', runs.get('b')!).version, 2);
    const v3 = registry.register('mnist', runs.get('c')!);
    assert.equal(v3.version, 3);
    assert.equal(v3.artifact.path, 'out/c.bin');
    assert.equal(v3.metrics.acc, 0.5);
    assert.equal(v3.snapshot, runs.get('c')!.git!.snapshot);

    assert.equal(registry.setAlias('mnist', 'production', 1).previous, null);
    registry.setAlias('mnist', 'staging', 2);
    assert.equal(registry.setAlias('mnist', 'production', 3).previous, 1);
    assert.throws(() => registry.setAlias('mnist', 'production', 3), /already points at mnist v3/);
    assert.throws(() => registry.setAlias('mnist', 'production', 9), /mnist has no version 9 \(versions: 1, 2, 3\)/);
    const back = registry.rollback('mnist', 'production');
    assert.deepEqual([back.previous, back.version], [3, 1]);
    const model = registry.model('mnist');
    assert.deepEqual(model.aliases, { production: 1, staging: 2 });
    assert.deepEqual(model.versions.map((v) => [v.version, v.aliases]), [[1, ['production']], [2, ['staging']], [3, []]]);

    const history = registry.history('mnist', 'production') as AliasSetEvent[];
    assert.deepEqual(history.map((e) => [e.previous, e.version]), [[null, 1], [1, 3], [3, 1]]);
    assert.ok(history.every((e) => /@/.test(e.who) && !Number.isNaN(Date.parse(e.at))));
    registry.removeAlias('mnist', 'staging');
    assert.deepEqual(registry.model('mnist').aliases, { production: 1 });
    assert.throws(() => registry.removeAlias('mnist', 'staging'), /no alias "staging"/);
  });

  test('refusals explain and write nothing: running, failed, stale, changed or unnamed artifacts, bad names', () => {
    const { repo, runs } = repoWithRuns(['a', 'b']);
    const store = path.join(repo, '.runlens');
    const registry = new Registry(store);
    const before = () => (fs.existsSync(registry.file) ? fs.readFileSync(registry.file, 'utf8') : '');
    const a = runs.get('a')!;
    const snapshot = before();
    assert.throws(() => registry.register('m', { ...a, status: 'running' }), /still running/);
    assert.throws(() => registry.register('m', { ...a, status: 'failed' }), /failed; register a finished run, or pass --force/);
    assert.throws(() => registry.register('bad name!', a), /not a usable model name/);
    assert.throws(() => registry.register('m', { ...a, artifacts: [] }), /recorded no artifact; name the model file with --artifact/);
    fs.writeFileSync(path.join(repo, 'out', 'a.bin'), 'tampered');
    assert.throws(() => registry.register('m', a), /has changed since run .* wrote it/);
    assert.throws(() => registry.register('m', a, 'out/none.bin'), /artifact out\/none\.bin is not there/);
    assert.throws(() => registry.setAlias('m', 'prod', 1), /no model named "m"/);
    assert.equal(before(), snapshot, 'nothing written');
    assert.equal(registry.register('m', runs.get('b')!).version, 1);
    assert.throws(() => registry.setAlias('m', '../../etc', 1), (e: Error) => e instanceof RegistryError && /not a usable alias name/.test(e.message));
  });

  test('an artifact the run did not write (older than the run) is marked stale and not registered', () => {
    const repo = makeRepo({ '.gitignore': 'out/\n' });
    write(repo, 'out/model.bin', 'left by someone else');
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(path.join(repo, 'out', 'model.bin'), old, old);
    const result = runCli(['run', '--artifact', 'out/model.bin', '--', 'true'], repo);
    assert.match(result.stderr, /artifact out\/model\.bin was not written by this run/);
    const run = (JSON.parse(runCli(['ls', '--json'], repo).stdout) as RunRecord[])[0]!;
    assert.equal(run.artifacts[0]!.stale, true);
    const registry = new Registry(path.join(repo, '.runlens'));
    assert.throws(() => registry.register('m', run), /recorded no artifact|was not written by run/);
    assert.throws(() => registry.register('m', run, 'out/model.bin'), /was not written by run .*pass --force/);
    assert.equal(registry.register('m', run, 'out/model.bin', true).version, 1);
  });

  test('four processes registering at once get four distinct versions', async () => {
    const { repo } = repoWithRuns(['a', 'b', 'c', 'd']);
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((name) => exited(startCli(['model', 'register', name, '--name', 'race'], repo))));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const registry = new Registry(path.join(repo, '.runlens'));
    assert.deepEqual(registry.model('race').versions.map((v) => v.version), [1, 2, 3, 4]);
    assert.equal(new Set(registry.model('race').versions.map((v) => v.runId)).size, 4);
  });

  test('a torn line in the log is reported and skipped, and the next event starts a line of its own', () => {
    const { repo, runs } = repoWithRuns(['a']);
    const registry = new Registry(path.join(repo, '.runlens'));
    registry.register('m', runs.get('a')!);
    fs.appendFileSync(registry.file, '{"type":"alias-set","model":"m","al');
    assert.match(registry.read().problems[0]!, /line 2 is torn/);
    registry.setAlias('m', 'prod', 1);
    const { events, problems } = registry.read();
    assert.equal(events.length, 2);
    assert.match(problems[0]!, /line 2 cannot be read/);
    assert.deepEqual(registry.model('m').aliases, { prod: 1 });
  });

  test('the CLI: register, alias, rollback, history and ls', () => {
    const { repo } = repoWithRuns(['first', 'second']);
    const ok = (args: string[]) => {
      const r = runCli(args, repo);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    assert.match(ok(['model', 'register', 'first', '--name', 'clf']), /registered clf v1 from run .* "first" \(out\/first\.bin, sha256 [0-9a-f]{12}…\)/);
    ok(['model', 'register', 'second', '--name', 'clf']);
    assert.match(ok(['model', 'alias', 'clf', 'production', '1']), /production → clf v1/);
    assert.match(ok(['model', 'alias', 'clf', 'production', 'v2']), /moved production of clf from v1 to v2/);
    assert.match(ok(['model', 'rollback', 'clf', 'production']), /rolled production of clf back from v2 to v1/);
    const history = ok(['model', 'history', 'clf', '--alias', 'production']);
    assert.equal(history.trim().split('\n').length, 3);
    assert.match(history, /set production → v1\n.*moved production v1 → v2\n.*moved production v2 → v1$/m);
    assert.match(ok(['model', 'ls']), /clf +v2 +[0-9a-z]{12} +acc=0\.5[\s\S]*clf +v1 +production/);
    const bad = runCli(['model', 'alias', 'clf', 'production', 'seven'], repo);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"seven" is not a version number/);
    assert.equal(runCli(['model', 'frob'], repo).code, 2);
  });
});
