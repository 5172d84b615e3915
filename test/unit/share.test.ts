import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { RunRecord } from '../../src/core/runRecord';
import { foldEvents, type RegistryEvent } from '../../src/core/registry/events';
import { writeShareCommit } from '../../src/core/share/objects';
import { serializeRunRecord } from '../../src/core/store';
import { makeRecord, rng } from '../helpers/runFactory';
import { exited, git, runCli, startCli, tempDir, write } from '../helpers/repo';

/**
 * Sharing through a real git remote: a bare repository and clones of it in
 * temp folders, the CLI run as a process, pushes racing each other for real.
 */

interface Team {
  remote: string;
  clones: string[];
}

function makeTeam(people: number): Team {
  const dir = tempDir('runlens-team-');
  const remote = path.join(dir, 'remote.git');
  git(dir, 'init', '-q', '--bare', '-b', 'main', remote);
  const seed = path.join(dir, 'seed');
  git(dir, 'init', '-q', '-b', 'main', seed);
  write(seed, 'train.py', 'import json, sys\nseed = int(sys.argv[1]) if len(sys.argv) > 1 else 0\nfor s in range(5):\n    print(json.dumps({"step": s, "loss": (seed + 1) / (s + 1)}))\nopen("model.bin", "w").write(str(seed))\n');
  write(seed, '.gitignore', 'model.bin\n');
  git(seed, 'add', '-A');
  git(seed, 'commit', '-q', '-m', 'train');
  git(seed, 'remote', 'add', 'origin', remote);
  git(seed, 'push', '-q', 'origin', 'main');
  const clones = Array.from({ length: people }, (_, i) => {
    const clone = path.join(dir, `person${i}`);
    git(dir, 'clone', '-q', remote, clone);
    return clone;
  });
  return { remote, clones };
}

function cli(repo: string, args: string[]): string {
  const out = runCli(args, repo);
  assert.equal(out.code, 0, `runlens ${args.join(' ')} in ${path.basename(repo)}: ${out.stderr}`);
  return out.stdout;
}

function record(repo: string, name: string, seed: number): string {
  const out = runCli(['run', '--quiet', '--name', name, '--artifact', 'model.bin', '--', 'python3', 'train.py', String(seed)], repo);
  assert.equal(out.code, 0, out.stderr);
  return runs(repo).find((r) => r.name === name)!.id;
}

function runs(repo: string): RunRecord[] {
  return JSON.parse(cli(repo, ['ls', '--json'])) as RunRecord[];
}

function events(repo: string): RegistryEvent[] {
  const file = path.join(repo, '.runlens', 'registry', 'events.jsonl');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RegistryEvent) : [];
}

/** What a clone holds that sharing must carry: each run's record essentials and every metric line. */
function holdings(repo: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const run of runs(repo)) {
    const metrics = fs.readFileSync(path.join(repo, '.runlens', 'runs', run.id, 'metrics.jsonl'), 'utf8');
    out.set(run.id, JSON.stringify([run.name, run.status, run.user, run.host, run.git?.snapshot, createHash('sha256').update(metrics).digest('hex')]));
  }
  return out;
}

/** What sharing must never touch: branches, HEAD, the index, the work tree. */
function userState(repo: string): string {
  const refs = git(repo, 'for-each-ref', '--format=%(refname) %(objectname)').split('\n').filter((l) => l && !l.startsWith('refs/runlens/'));
  const index = createHash('sha256').update(fs.readFileSync(path.join(repo, '.git', 'index'))).digest('hex');
  return JSON.stringify([git(repo, 'rev-parse', 'HEAD'), git(repo, 'symbolic-ref', 'HEAD'), refs, index, git(repo, 'status', '--porcelain', '--untracked-files=all'), git(repo, 'stash', 'list')]);
}

function fsckClean(repo: string): void {
  const out = git(repo, 'fsck', '--no-progress', '--no-dangling');
  assert.equal(out.trim(), '', `git fsck in ${path.basename(repo)}: ${out}`);
}

describe('runlens push and pull', () => {
  test('two clones pushing at once, ten times, end up with exactly the union: every run, metric point and registry event', async () => {
    const { remote, clones } = makeTeam(2);
    const [a, b] = clones as [string, string];
    // A shared model first, so both can move its alias while apart.
    const first = record(a, 'a-base', 100);
    cli(a, ['model', 'register', first, '--name', 'shared']);
    cli(a, ['push']);
    cli(b, ['pull']);
    const before = [userState(a), userState(b)];
    let seed = 0;
    for (let round = 0; round < 10; round++) {
      for (const [who, repo] of [['a', a], ['b', b]] as const) {
        const id = record(repo, `${who}-${round}`, seed++);
        if (round % 3 === 0) cli(repo, ['model', 'register', id, '--name', `${who}-model`]);
      }
      if (round === 4) {
        // Both move the same alias while apart: both moves stay in the log; the later one wins.
        cli(a, ['model', 'register', runs(a).find((r) => r.name === 'a-4')!.id, '--name', 'shared']);
        cli(a, ['model', 'alias', 'shared', 'production', '2']);
        await new Promise((r) => setTimeout(r, 20));
        cli(b, ['model', 'alias', 'shared', 'production', '1']);
      }
      // Both push at the same moment, in a random order and offset: one is overtaken and retries.
      const order = Math.random() < 0.5 ? [a, b] : [b, a];
      const pushes = order.map(async (repo, i) => {
        await new Promise((r) => setTimeout(r, i * Math.random() * 30));
        return exited(startCli(['push'], repo));
      });
      for (const end of await Promise.all(pushes)) assert.equal(end.code, 0, end.stderr);
    }
    cli(a, ['pull']);
    cli(b, ['pull']);
    const union = holdings(a);
    assert.equal(union.size, 21, 'the base run and ten rounds of two runs');
    assert.deepEqual(holdings(b), union, 'both clones hold the same runs, records and metric lines');
    for (const run of runs(a)) assert.equal(run.metricsSummary?.metrics.loss?.count, 5, `${run.name}: every metric point`);
    const idsOf = (repo: string) => events(repo).map((e) => e.id ?? JSON.stringify(e)).sort();
    assert.deepEqual(idsOf(a), idsOf(b), 'the same registry events on both sides');
    assert.equal(events(a).length, 1 + 8 + 1 + 2, 'every registration and alias move, once');
    for (const repo of [a, b]) {
      const shared = foldEvents(events(repo).sort((x, y) => (x.at < y.at ? -1 : 1))).get('shared')!;
      assert.equal(shared.aliases.production, 1, "the later alias move (B's) wins on both sides");
    }
    const history = cli(a, ['model', 'history', 'shared', '--alias', 'production']);
    assert.match(history, /v2[\s\S]*v1/, 'both moves are in the audit log');
    assert.deepEqual([userState(a), userState(b)], before, 'no branch, HEAD, index, work tree or stash changed');
    for (const repo of [a, b, remote]) fsckClean(repo);
    const remoteRefs = git(remote, 'for-each-ref', '--format=%(refname)', 'refs/runlens/').trim().split('\n');
    assert.deepEqual(remoteRefs, ['refs/runlens/share/runs'], 'the remote holds one ref for every run');
  });

  test('a push overtaken by another fetches theirs, builds on it and tries again: both arrive', async () => {
    const { remote, clones } = makeTeam(2);
    const [a, b] = clones as [string, string];
    const ra = record(a, 'from-a', 1);
    const rb = record(b, 'from-b', 2);
    // The remote holds every push for a second before taking it: B's push, started while A's is held,
    // was built on a remote without A's run, and is refused when it lands.
    write(remote, 'hooks/pre-receive', '#!/bin/sh\ncat >/dev/null\nsleep 1\n');
    fs.chmodSync(path.join(remote, 'hooks', 'pre-receive'), 0o755);
    const first = exited(startCli(['push'], a));
    await new Promise((r) => setTimeout(r, 400));
    const second = exited(startCli(['push'], b));
    const [ea, eb] = await Promise.all([first, second]);
    assert.equal(ea.code, 0, ea.stderr);
    assert.equal(eb.code, 0, eb.stderr);
    assert.match(eb.stderr, /someone pushed to origin first; fetching and trying again/);
    const tree = git(remote, 'ls-tree', '-r', '-d', '--name-only', 'refs/runlens/share/runs', 'runs/');
    for (const id of [ra, rb]) assert.ok(tree.includes(id), `${id} on the remote`);
  });

  test("a pulled run is read-only here, shows its author, opens its code, and reproduces in the teammate's clone", () => {
    const { clones } = makeTeam(2);
    const [a, b] = clones as [string, string];
    write(a, 'train.py', fs.readFileSync(path.join(a, 'train.py'), 'utf8') + '# local change, never committed\n');
    const id = record(a, 'with-local-change', 3);
    cli(a, ['push']);
    const pulled = cli(b, ['pull']);
    assert.match(pulled, new RegExp(`pulled ${id} with-local-change \\(`));
    const run = runs(b).find((r) => r.id === id)!;
    assert.equal(run.user, runs(a)[0]!.user);
    assert.ok(fs.existsSync(path.join(b, '.runlens', 'runs', id, 'pulled-from.json')));
    // The snapshot travelled: the uncommitted change is in B's copy of the run's code.
    const file = git(b, 'show', `${run.git!.snapshot}:train.py`);
    assert.match(file, /local change, never committed/);
    // As on a teammate's machine: A's clone is not there to read from.
    fs.renameSync(a, `${a}-elsewhere`);
    const again = runCli(['reproduce', id], b);
    assert.equal(again.code, 0, again.stderr);
    const reproductions = runs(b).filter((r) => r.reproduces === id);
    assert.equal(reproductions.length, 1);
    assert.equal(reproductions[0]!.metricsSummary?.metrics.loss?.last, run.metricsSummary?.metrics.loss?.last);
    // B pushes its own run: the pulled one is not sent again.
    const pushed = cli(b, ['push']);
    assert.doesNotMatch(pushed, new RegExp(`pushed ${id}`));
    assert.match(pushed, new RegExp(`pushed ${reproductions[0]!.id}`));
  });

  test('nothing new: a second push and pull send and fetch nothing; --dry-run lists and sends nothing; private runs stay', () => {
    const { remote, clones } = makeTeam(2);
    const [a, b] = clones as [string, string];
    const open = record(a, 'open', 1);
    const hidden = runCli(['run', '--quiet', '--name', 'hidden', '--tag', 'private', '--', 'python3', 'train.py'], a);
    assert.equal(hidden.code, 0);
    const dry = cli(a, ['push', '--dry-run']);
    assert.match(dry, new RegExp(`would push ${open} open`));
    assert.match(dry, /kept local \S+ hidden: tagged private/);
    assert.equal(git(remote, 'for-each-ref', 'refs/runlens/').trim(), '', '--dry-run sent nothing');
    cli(a, ['push']);
    const head = git(remote, 'rev-parse', 'refs/runlens/share/runs').trim();
    assert.match(cli(a, ['push']), /has everything already/);
    assert.equal(git(remote, 'rev-parse', 'refs/runlens/share/runs').trim(), head, 'a no-op push moves nothing');
    // Without the ledger, the runs' tree ids (computed here as git would) match the remote's: still nothing to send.
    fs.rmSync(path.join(a, '.runlens', 'share'), { recursive: true, force: true });
    assert.match(cli(a, ['push']), /has everything already/);
    assert.equal(git(remote, 'rev-parse', 'refs/runlens/share/runs').trim(), head, 'nothing pushed again');
    cli(b, ['pull']);
    assert.match(cli(b, ['pull']), /^0 run\(s\) and 0 registry event\(s\) pulled/m);
    assert.deepEqual(runs(b).map((r) => r.name), ['open'], 'the private run stayed in A');
  });

  test("a hostile remote cannot write outside a run's folder or add files to it: names that are not run ids, and files a push never sends, are left out", async () => {
    const { remote, clones } = makeTeam(1);
    const [b] = clones as [string];
    const record = makeRecord(rng(5), { host: 'elsewhere' });
    record.status = 'finished';
    record.git = null;
    const id = record.id;
    const commit = await writeShareCommit(remote, null, [], [
      { path: `runs/${id.slice(-2)}/${id}/run.json`, from: Buffer.from(serializeRunRecord(record)) },
      { path: `runs/${id.slice(-2)}/${id}/hooks.sh`, from: Buffer.from('#!/bin/sh\necho owned\n') },
      { path: 'runs/xy/not-a-run/run.json', from: Buffer.from('{}') },
    ], 'hostile', Date.now());
    git(remote, 'update-ref', 'refs/runlens/share/runs', commit);
    const out = runCli(['pull'], b);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /run not-a-run from origin was not taken in: not a run id; left out/);
    assert.deepEqual(fs.readdirSync(path.join(b, '.runlens', 'runs', id)).sort(), ['pulled-from.json', 'run.json']);
    assert.ok(!fs.existsSync(path.join(b, '.runlens', 'runs', 'not-a-run')));
  });

  test('no remote: one line that says what to do, exit 1', () => {
    const repo = tempDir('runlens-lonely-');
    git(repo, 'init', '-q', '-b', 'main');
    const out = runCli(['push'], repo);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /^runlens: this repository has no remote: add one \(git remote add origin URL\)/);
    assert.equal(out.stderr.trim().split('\n').length, 1);
  });

  test("the remote is the branch's upstream, else origin; a branch whose upstream is another remote pushes there", () => {
    const { remote, clones } = makeTeam(1);
    const [a] = clones as [string];
    const fork = path.join(path.dirname(remote), 'fork.git');
    git(path.dirname(remote), 'clone', '-q', '--bare', remote, fork);
    git(a, 'remote', 'add', 'fork', fork);
    record(a, 'on-main', 1);
    // main's upstream is origin (the clone set it): the push goes there.
    assert.match(cli(a, ['push', '--dry-run']), /would go to origin/);
    // A branch named with capitals, tracking the fork: its push goes to the fork, not origin.
    git(a, 'checkout', '-q', '-b', 'Feature/X');
    git(a, 'config', 'branch.Feature/X.remote', 'fork');
    assert.match(cli(a, ['push', '--dry-run']), /would go to fork/);
    // Another branch named like it but for case has no upstream: origin.
    git(a, 'checkout', '-q', '-b', 'feature/x');
    assert.match(cli(a, ['push', '--dry-run']), /would go to origin/);
  });

  test('a pulled run that changes at the remote comes in again whole: the changed file, a new file, and the files that did not change', () => {
    const { clones } = makeTeam(2);
    const [a, b] = clones as [string, string];
    const id = record(a, 'to-change', 3);
    cli(a, ['push']);
    cli(b, ['pull']);
    const inB = path.join(b, '.runlens', 'runs', id);
    const metricsBefore = fs.readFileSync(path.join(inB, 'metrics.jsonl'), 'utf8');
    assert.match(metricsBefore, /"loss"/);
    // In A the run gains a tag and a traceback after it was shared: A's next push sends the new state.
    const inA = path.join(a, '.runlens', 'runs', id);
    const changed = JSON.parse(fs.readFileSync(path.join(inA, 'run.json'), 'utf8')) as RunRecord;
    changed.tags = [...changed.tags, 'checked'];
    fs.writeFileSync(path.join(inA, 'run.json'), serializeRunRecord(changed));
    fs.writeFileSync(path.join(inA, 'traceback.txt'), 'a note added later\n');
    assert.match(cli(a, ['push']), /1 run\(s\)/);
    assert.match(cli(b, ['pull']), /^pulled /m);
    const pulled = runs(b).find((r) => r.id === id)!;
    assert.deepEqual(pulled.tags, changed.tags, 'the changed run.json came');
    assert.equal(fs.readFileSync(path.join(inB, 'traceback.txt'), 'utf8'), 'a note added later\n', 'the new file came');
    assert.equal(fs.readFileSync(path.join(inB, 'metrics.jsonl'), 'utf8'), metricsBefore, 'the file that did not change is still there');
    assert.ok(fs.existsSync(path.join(inB, 'pulled-from.json')), 'still marked as pulled');
  });

  test('runs that fall in the same shard are kept side by side; the other shards are left as they were', async () => {
    const repo = tempDir('runlens-shard-');
    git(repo, 'init', '-q', '-b', 'main');
    const file = (id: string) => ({ path: `runs/${id.slice(-2)}/${id}/run.json`, from: Buffer.from(`{"id":"${id}"}\n`) });
    const first = await writeShareCommit(repo, null, [], [file('01aaaaaaaaaaaaaaaaaaaaaaxy'), file('01cccccccccccccccccccccczz')], 'share', Date.now());
    const second = await writeShareCommit(repo, first, [], [file('01bbbbbbbbbbbbbbbbbbbbbbxy'), { path: 'registry/events.jsonl', from: Buffer.from('{"id":"e1"}\n') }], 'share', Date.now());
    const paths = git(repo, 'ls-tree', '-r', '--name-only', second).trim().split('\n');
    assert.deepEqual(paths, ['registry/events.jsonl', 'runs/xy/01aaaaaaaaaaaaaaaaaaaaaaxy/run.json', 'runs/xy/01bbbbbbbbbbbbbbbbbbbbbbxy/run.json', 'runs/zz/01cccccccccccccccccccccczz/run.json']);
    assert.equal(git(repo, 'rev-parse', `${second}^1`).trim(), first, 'built on the commit before');
    assert.equal(git(repo, 'show', `${second}:registry/events.jsonl`), '{"id":"e1"}\n');
    assert.equal(git(repo, 'for-each-ref', 'refs/runlens/').trim(), '', 'no ref left behind');
  });

  test('two clones that registered the same version number before sharing keep both: the later one is renumbered', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const register = (runId: string, s: number): RegistryEvent => ({ type: 'register', id: `e${runId}`, model: 'm', version: 1, runId, snapshot: null, artifact: { path: 'm.bin', sha256: runId, size: 1 }, metrics: {}, who: runId, at: at(s) });
    const model = foldEvents([register('r1', 1), register('r2', 2), register('r1', 1)]).get('m')!;
    assert.deepEqual(model.versions.map((v) => [v.version, v.runId, v.renumberedFrom ?? null]), [[1, 'r1', null], [2, 'r2', 1]]);
  });
});
