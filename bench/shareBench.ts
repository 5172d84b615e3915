/**
 * Sharing through git against a remote that already holds 100,000 runs (made
 * by plumbing, `git fast-import`, not by 100,000 pushes): push of 1 and of
 * 1,000 new runs against `git push` of the same commit, pull of 1,000 new
 * runs against `git fetch` of the same objects, no-op push and pull; and the
 * reason for the layout, a no-op `git push` to a remote with a ref per run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { serializeRunRecord } from '../src/core/store';
import { runTreePath } from '../src/core/share/layout';
import { makeRecord, rng } from '../test/helpers/runFactory';
import type { RunRecord } from '../src/core/runRecord';
import type { BenchRow } from './row';

const REMOTE_RUNS = 100_000;
const PROJECT = path.resolve(__dirname, '..', '..');
/** The command users run: the bundle behind its code-cache loader. */
const CLI = path.join(PROJECT, 'bin', 'runlens');
const ENV: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };

function log(text: string): void {
  process.stderr.write(`[bench] ${text}\n`);
}

function git(cwd: string, args: string[], input?: string | Buffer): string {
  return execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', input, maxBuffer: 1024 * 1024 * 1024 });
}

function timed(work: () => void): number {
  const start = performance.now();
  work();
  return performance.now() - start;
}

function runlens(cwd: string, args: string[], env: NodeJS.ProcessEnv = ENV): string {
  const out = spawnSync(process.execPath, [CLI, ...args], { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`runlens ${args.join(' ')}: ${out.stderr}`);
  return out.stdout;
}

function record(random: () => number, i: number, snapshot: string | null): RunRecord {
  const r = makeRecord(random, { startedMs: Date.UTC(2026, 0, 1) + i * 1000, host: `node${i % 50}` });
  r.status = 'finished';
  r.exitCode = 0;
  r.endedAt = new Date(Date.parse(r.startedAt) + 60_000).toISOString();
  r.metricsSummary = { lines: 3, lastStep: 2, metrics: { loss: { last: 0.1, min: 0.1, max: 1, count: 3, nan: 0, lastStep: 2 } }, malformed: 0, malformedSamples: [] };
  if (r.git) r.git.snapshot = snapshot ?? r.git.snapshot;
  if (!snapshot) r.git = null;
  return r;
}

const METRICS = '{"step":0,"loss":1}\n{"step":1,"loss":0.5}\n{"step":2,"loss":0.1}\n';

/** The remote's share commit with REMOTE_RUNS runs, written by one `git fast-import`. */
export function makeRemote(remote: string): void {
  git(path.dirname(remote), ['init', '-q', '--bare', '-b', 'main', remote]);
  const random = rng(7);
  const parts: string[] = ['blob\nmark :1\n', `data ${Buffer.byteLength(METRICS)}\n${METRICS}\n`];
  const files: string[] = [];
  for (let i = 0; i < REMOTE_RUNS; i++) {
    const text = serializeRunRecord(record(random, i, null));
    parts.push(`blob\nmark :${i + 2}\ndata ${Buffer.byteLength(text)}\n${text}\n`);
    const id = JSON.parse(text).id as string;
    files.push(`M 100644 :${i + 2} ${runTreePath(id)}/run.json\nM 100644 :1 ${runTreePath(id)}/metrics.jsonl\n`);
  }
  const message = 'runlens: 100,000 runs';
  parts.push(`commit refs/runlens/share/runs\ncommitter b <b@b> 1767225600 +0000\ndata ${message.length}\n${message}\n`, ...files, '\n');
  git(remote, ['fast-import', '--quiet'], parts.join(''));
}

/** A clone with a commit of its own and `origin` at `remote`. */
export function makeClone(dir: string, remote: string): void {
  git(path.dirname(dir), ['init', '-q', '-b', 'main', dir]);
  fs.writeFileSync(path.join(dir, 'train.py'), 'print(1)\n');
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-qm', 'train']);
  git(dir, ['remote', 'add', 'origin', remote]);
}

/** `count` finished runs in `clone`'s store, each with a real snapshot commit of its own. */
export function addRuns(clone: string, count: number, seed: number): void {
  const head = git(clone, ['rev-parse', 'HEAD']).trim();
  const stream: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = `snapshot ${seed}-${i}\n`;
    stream.push(`commit refs/bench/snapshots\nmark :${i + 1}\ncommitter b <b@b> 1767225600 +0000\ndata 4\nsnap\nfrom ${head}\nM 100644 inline notes.txt\ndata ${body.length}\n${body}\n`);
  }
  const marks = path.join(os.tmpdir(), `runlens-bench-marks-${process.pid}`);
  git(clone, ['fast-import', '--quiet', `--export-marks=${marks}`], stream.join(''));
  const snapshots = fs.readFileSync(marks, 'utf8').trim().split('\n').map((l) => l.split(' ')[1]!);
  fs.rmSync(marks);
  git(clone, ['update-ref', '-d', 'refs/bench/snapshots']);
  const random = rng(seed);
  const refs: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = record(random, 200_000 + seed * 10_000 + i, snapshots[i]!);
    const dir = path.join(clone, '.runlens', 'runs', r.id);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'run.json'), serializeRunRecord(r));
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), METRICS);
    refs.push(`update refs/runlens/runs/${r.id} ${snapshots[i]}\n`);
  }
  git(clone, ['update-ref', '--stdin'], refs.join(''));
}

function copyRepo(from: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  execFileSync('cp', ['-a', from, to]);
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

/**
 * Three shots of `measured` and of `floor`, each after `setup(shot)` has put their state back; the
 * two take turns going first, so that neither always meets a cache the other warmed.
 */
function threeShots(setup: (shot: number) => void, measured: () => void, floor: () => void): { measured: number[]; floor: number[] } {
  const out = { measured: [] as number[], floor: [] as number[] };
  for (let shot = 0; shot < 3; shot++) {
    setup(shot);
    const sides: [number[], () => void][] = [
      [out.measured, measured],
      [out.floor, floor],
    ];
    for (const [times, work] of shot % 2 === 0 ? sides : sides.reverse()) times.push(timed(work));
  }
  return out;
}

/** `runlens --version` against bare node: what every command pays before its work (median of 15, interleaved). */
function cliStartRow(root: string): BenchRow {
  const cold = timed(() => runlens(root, ['--version']));
  const start: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < 15; i++) {
    start.push(timed(() => runlens(root, ['--version'])));
    bare.push(timed(() => spawnSync(process.execPath, ['-e', '0'])));
  }
  const [ms, floor] = [median(start), median(bare)];
  log(`CLI start ${ms.toFixed(0)} ms (${cold.toFixed(0)} ms before its code cache), bare node ${floor.toFixed(0)} ms`);
  return {
    figure: `CLI start: runlens --version, code cache warm (median of 15; ${cold.toFixed(0)} ms the first time)`,
    measured: `${ms.toFixed(0)} ms`,
    floor: `${floor.toFixed(0)} ms node -e 0`,
    ratio: `${(ms / floor).toFixed(2)}×`,
    target: '≤ 1.5× floor',
    ok: ms <= 1.5 * floor,
  };
}

export async function benchShare(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-share-')));
  // The code cache as a user's machine holds it after the first command, in a folder of the bench's own.
  ENV.RUNLENS_COMPILE_CACHE = path.join(root, 'compile-cache');
  try {
    rows.push(cliStartRow(root));
    log(`making a remote that shares ${REMOTE_RUNS.toLocaleString('en')} runs (fast-import)…`);
    const remote = path.join(root, 'remote.git');
    makeRemote(remote);

    // Why one ref: the same no-op push to a remote that holds a ref per run.
    log('the layout: a no-op git push to a remote with a ref per run…');
    const perRef = path.join(root, 'per-ref.git');
    copyRepo(remote, perRef);
    const share = git(perRef, ['rev-parse', 'refs/runlens/share/runs']).trim();
    // The refs go straight into packed-refs: made as 100,000 loose refs and packed, their files' deletion
    // made ext4 slow to create the first pull's files just after (`recently_deleted`): 125 s against 49 s.
    const fake = Array.from({ length: REMOTE_RUNS }, (_, i) => `${share} refs/runlens/runs/${String(i).padStart(26, '0')}\n`).join('');
    if (fs.existsSync(path.join(perRef, 'packed-refs'))) throw new Error('the remote has packed refs already');
    fs.writeFileSync(path.join(perRef, 'packed-refs'), `# pack-refs with: peeled fully-peeled sorted \n${fake}`);
    if (git(perRef, ['for-each-ref', '--count=100001', '--format=x', 'refs/runlens/runs/']).split('\n').filter(Boolean).length !== REMOTE_RUNS) throw new Error('the per-ref remote lacks its refs');
    const probe = path.join(root, 'probe');
    makeClone(probe, remote);
    git(probe, ['push', '-q', remote, 'main']);
    git(probe, ['push', '-q', perRef, 'main']);
    const noopPush = (to: string) => Math.min(...[0, 1, 2].map(() => timed(() => git(probe, ['push', '-q', to, 'main']))));
    const perRefMs = noopPush(perRef);
    const oneRefMs = noopPush(remote);
    rows.push({
      figure: `no-op git push to a remote holding ${REMOTE_RUNS.toLocaleString('en')} runs as a ref each (the layout RunLens does not use)`,
      measured: `${perRefMs.toFixed(0)} ms`,
      floor: `${oneRefMs.toFixed(0)} ms the same push, runs in one ref`,
      ratio: `${(perRefMs / oneRefMs).toFixed(1)}×`,
      target: 'the reason for one ref',
      ok: perRefMs > oneRefMs,
    });
    fs.rmSync(perRef, { recursive: true, force: true });

    const pusher = path.join(root, 'pusher');
    const puller = path.join(root, 'puller');
    makeClone(pusher, remote);
    makeClone(puller, remote);
    log('first contact: the pusher lists the remote once, the puller brings in 100,000 runs…');
    const firstPush = timed(() => runlens(pusher, ['push']));
    const firstPull = timed(() => runlens(puller, ['pull']));
    log(`first push ${firstPush.toFixed(0)} ms, first pull ${(firstPull / 1000).toFixed(1)} s`);

    const noop = (repo: string, args: string[]) => [0, 1, 2].map(() => timed(() => runlens(repo, args))).sort((a, b) => a - b)[1]!;
    const noopPushMs = noop(pusher, ['push']);
    const noopPullMs = noop(puller, ['pull']);
    rows.push({ figure: `no-op runlens push, remote holding ${REMOTE_RUNS.toLocaleString('en')} runs (median of 3)`, measured: `${noopPushMs.toFixed(0)} ms`, floor: `${oneRefMs.toFixed(0)} ms no-op git push`, ratio: `${(noopPushMs / oneRefMs).toFixed(1)}×`, target: '< 1 s', ok: noopPushMs < 1000 });
    rows.push({ figure: `no-op runlens pull, remote holding ${REMOTE_RUNS.toLocaleString('en')} runs (median of 3)`, measured: `${noopPullMs.toFixed(0)} ms`, floor: `${oneRefMs.toFixed(0)} ms no-op git push`, ratio: `${(noopPullMs / oneRefMs).toFixed(1)}×`, target: '< 1 s', ok: noopPullMs < 1000 });

    // Each row is the median of three shots, with the remote and this clone's side put back between
    // them, and the floor and the measured taking turns to go first. Nothing is deleted between shots
    // (what was used is moved aside): ext4 makes the files created just after a mass deletion slow
    // to allocate (`recently_deleted`, seen in perf), which would bias whichever side came next.
    const aside = path.join(root, 'aside');
    fs.mkdirSync(aside);
    let asideCount = 0;
    const moveAside = (target: string) => {
      if (fs.existsSync(target)) fs.renameSync(target, path.join(aside, `${asideCount++}-${path.basename(target)}`));
    };
    const restore = (copy: string, target: string) => {
      moveAside(target);
      execFileSync('cp', ['-a', copy, target]);
    };
    /** Keeps a copy of `target` as it is now, or that it is absent; the function returned puts that back. */
    const keep = (target: string, copy: string) => {
      const existed = fs.existsSync(target);
      if (existed) copyRepo(target, copy);
      return () => (existed ? restore(copy, target) : moveAside(target));
    };
    for (const count of [1, 1000]) {
      addRuns(pusher, count, count);
      const remoteBefore = path.join(root, `remote-before-${count}.git`);
      const putBack = [keep(remote, remoteBefore), keep(path.join(pusher, '.git'), path.join(root, `pusher-git-before-${count}`)), keep(path.join(pusher, '.runlens', 'share'), path.join(root, `pusher-share-before-${count}`))];
      // A first push, not timed, gives the floor its commit: the floor pushes it from a copy of the pusher kept after it.
      runlens(pusher, ['push']);
      const pushed = git(pusher, ['rev-parse', 'refs/runlens/share-remotes/origin']).trim();
      const floorSource = path.join(root, `floor-source-${count}`);
      fs.mkdirSync(floorSource);
      copyRepo(path.join(pusher, '.git'), path.join(floorSource, '.git'));
      const floorTarget = path.join(root, 'floor-target.git');
      const shots = threeShots(
        () => {
          for (const back of putBack) back();
          restore(remoteBefore, floorTarget);
        },
        () => runlens(pusher, ['push']),
        () => git(floorSource, ['push', '-q', floorTarget, `${pushed}:refs/runlens/share/runs`]),
      );
      log(`push of ${count}: ${shots.measured.map((x) => x.toFixed(0)).join(' / ')} ms, floor ${shots.floor.map((x) => x.toFixed(0)).join(' / ')} ms`);
      const [pushMs, floorMs] = [median(shots.measured), median(shots.floor)];
      rows.push({
        figure: `runlens push of ${count.toLocaleString('en')} new run(s) with their snapshots, remote holding ${REMOTE_RUNS.toLocaleString('en')} (median of 3)`,
        measured: `${pushMs.toFixed(0)} ms`,
        floor: `${floorMs.toFixed(0)} ms git push of the same commit`,
        ratio: `${(pushMs / floorMs).toFixed(2)}×`,
        target: count === 1 ? '< 2 s, ≤ 2× floor' : '≤ 2× floor',
        ok: pushMs <= 2 * floorMs && (count !== 1 || pushMs < 2000),
      });
    }

    // The puller as it was before the 1,001 runs: its git folder, ledger and registry, and its run folders' names.
    const pullerGit = path.join(root, 'puller-git-before');
    const putBackPuller = [keep(path.join(puller, '.git'), pullerGit), keep(path.join(puller, '.runlens', 'share'), path.join(root, 'puller-share-before')), keep(path.join(puller, '.runlens', 'registry'), path.join(root, 'puller-registry-before'))];
    const pullerRuns = path.join(puller, '.runlens', 'runs');
    const runsBefore = new Set(fs.readdirSync(pullerRuns));
    const fetcher = path.join(root, 'fetcher');
    const pulls = threeShots(
      (shot) => {
        if (shot > 0) {
          const pulledAside = path.join(aside, `pulled-${shot}`);
          fs.mkdirSync(pulledAside);
          const pulled = fs.readdirSync(pullerRuns).filter((name) => !runsBefore.has(name));
          if (pulled.length !== 1001) throw new Error(`the pull brought in ${pulled.length} runs`);
          for (const name of pulled) fs.renameSync(path.join(pullerRuns, name), path.join(pulledAside, name));
          for (const back of putBackPuller) back();
        }
        moveAside(fetcher);
        fs.mkdirSync(fetcher);
        copyRepo(pullerGit, path.join(fetcher, '.git'));
      },
      () => runlens(puller, ['pull']),
      () => git(fetcher, ['fetch', '-q', '--no-tags', 'origin', '+refs/runlens/share/runs:refs/runlens/share-remotes/origin']),
    );
    const pulled = fs.readdirSync(pullerRuns).length;
    if (pulled !== REMOTE_RUNS + 1001) throw new Error(`the puller holds ${pulled} runs`);
    log(`pull of 1,001: ${pulls.measured.map((x) => x.toFixed(0)).join(' / ')} ms, fetch ${pulls.floor.map((x) => x.toFixed(0)).join(' / ')} ms`);
    const [pullMs, fetchMs] = [median(pulls.measured), median(pulls.floor)];
    rows.push({
      figure: `runlens pull of 1,001 new runs (writes their folders), remote holding ${REMOTE_RUNS.toLocaleString('en')} (median of 3)`,
      measured: `${pullMs.toFixed(0)} ms`,
      floor: `${fetchMs.toFixed(0)} ms git fetch of the same objects`,
      ratio: `${(pullMs / fetchMs).toFixed(2)}×`,
      target: '≤ 2× floor',
      ok: pullMs <= 2 * fetchMs,
    });
    rows.push({
      figure: `first runlens pull of ${REMOTE_RUNS.toLocaleString('en')} runs into an empty clone (once per clone)`,
      measured: `${(firstPull / 1000).toFixed(1)} s`,
      floor: 'none: no plain tool writes 100,000 run folders from a remote',
      ratio: '—',
      target: '≤ 60 s, once per clone',
      ok: firstPull <= 60_000,
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return rows;
}
