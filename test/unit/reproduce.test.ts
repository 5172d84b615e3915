import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { buildReport, type ReproductionReport } from '../../src/core/reproduce/report';
import type { RunRecord } from '../../src/core/runRecord';
import { git, makeRepo, readJson, runCli, runIds, startCli, tempDir, write } from '../helpers/repo';
import { makeRecord, rng, writeRecord } from '../helpers/runFactory';

// A training script whose numbers depend on its code, its data and its seed, and (with --noise) on an unseeded random source.
const TRAIN = `import json, random, sys
from helper import SCALE
seed = int(sys.argv[sys.argv.index("--seed") + 1])
rng = random.Random(seed)
total = sum(float(x) for x in open("data/train.csv").read().split())
noisy = "--noise" in sys.argv
for step in range(20):
    loss = SCALE * total / (step + 1) + rng.random() * 1e-3
    line = {"step": step, "loss": loss}
    if noisy:
        line["noise"] = random.random()
    print(json.dumps(line), flush=True)
`;

function project(): string {
  const repo = makeRepo({ 'train.py': TRAIN.replace('from helper import SCALE', 'SCALE = 1.0'), '.gitignore': 'data/\n' });
  // The run's code: an uncommitted edit importing an untracked file, both kept only by the snapshot.
  write(repo, 'train.py', TRAIN);
  write(repo, 'helper.py', 'SCALE = 0.5\n');
  write(repo, 'data/train.csv', '1 2 3 4\n');
  return repo;
}

/** What the user has: working tree, index, refs other than RunLens's own, worktrees. */
function userState(repo: string): string {
  const index = createHash('sha256').update(fs.readFileSync(path.join(repo, '.git', 'index'))).digest('hex');
  const refs = git(repo, 'for-each-ref', '--format=%(refname) %(objectname)').split('\n').filter((l) => l && !l.startsWith('refs/runlens/'));
  return JSON.stringify({ status: git(repo, 'status', '--porcelain', '--untracked-files=all'), head: git(repo, 'rev-parse', 'HEAD'), index, refs, worktrees: git(repo, 'worktree', 'list', '--porcelain') });
}

function leftoverWorktrees(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('runlens-reproduce-'));
}

function record(repo: string, id: string): RunRecord {
  return readJson<RunRecord>(path.join(repo, '.runlens', 'runs', id, 'run.json'));
}

function report(repo: string, id: string): ReproductionReport {
  return readJson<ReproductionReport>(path.join(repo, '.runlens', 'runs', id, 'reproduction.json'));
}

function recordRun(repo: string, ...extra: string[]): string {
  const before = runIds(repo);
  const result = runCli(['run', '--quiet', '--data', 'data/train.csv', '--', 'python3', 'train.py', '--seed', '3', ...extra], repo);
  assert.equal(result.code, 0, result.stderr);
  return runIds(repo).find((id) => !before.includes(id))!;
}

describe('reproduce', () => {
  test('a deterministic run reproduces exactly from its snapshot, and the user\'s tree, index, branches and worktrees are unchanged', () => {
    const repo = project();
    const original = recordRun(repo);
    // The user moves on: the edit is reverted and the helper deleted. The snapshot still has both.
    git(repo, 'checkout', '--', 'train.py');
    fs.rmSync(path.join(repo, 'helper.py'));
    write(repo, 'scratch.txt', 'work in progress\n');
    git(repo, 'branch', 'experiment');
    const before = userState(repo);
    const leftBefore = leftoverWorktrees();

    const result = runCli(['reproduce', original.slice(0, 10)], repo);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^REPRODUCED/m);
    const repro = runIds(repo).find((id) => id !== original)!;
    const rec = record(repo, repro);
    assert.equal(rec.reproduces, original);
    assert.equal(rec.status, 'finished');
    assert.equal(rec.git!.tree, record(repo, original).git!.tree, 'the same code tree, uncommitted edit and untracked helper included');
    const r = report(repo, repro);
    assert.equal(r.verdict, 'reproduced');
    assert.deepStrictEqual(r.causes, []);
    assert.deepStrictEqual(r.metrics.map((m) => [m.key, m.within, m.stepsCompared]), [['loss', true, 20]]);
    assert.deepStrictEqual(r.seed.original?.value, 3);

    assert.equal(userState(repo), before);
    assert.deepStrictEqual(leftoverWorktrees(), leftBefore, 'no worktree left behind');
    const show = runCli(['show', original], repo);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`reproductions\\n  ${repro}  .*\\(reproduction\\)  reproduced`));
  });

  test('an unseeded random source diverges, and the report names the metric it moved and not the others', () => {
    const repo = project();
    const original = recordRun(repo, '--noise');
    const result = runCli(['reproduce', original, '--json'], repo);
    assert.equal(result.code, 1, result.stderr);
    const r = JSON.parse(result.stdout) as ReproductionReport;
    assert.equal(r.verdict, 'diverged');
    assert.deepStrictEqual(r.metrics.map((m) => [m.key, m.within]), [['loss', true], ['noise', false]]);
    const metricCauses = r.causes.filter((c) => c.kind === 'metrics');
    assert.equal(metricCauses.length, 1);
    assert.match(metricCauses[0]!.text, /^noise: final .* first differs at step 0/);
  });

  test('data changed since the run is named as data drift; --strict refuses and records nothing', () => {
    const repo = project();
    const original = recordRun(repo);
    write(repo, 'data/train.csv', '1 2 3 5\n');
    const leftBefore = leftoverWorktrees();

    const strict = runCli(['reproduce', original, '--strict'], repo);
    assert.equal(strict.code, 3, strict.stdout + strict.stderr);
    assert.match(strict.stderr, /cannot reproduce: data data\/train\.csv changed since the run: recorded [0-9a-f]{12}, now [0-9a-f]{12}\n--strict stops here/);
    assert.deepStrictEqual(runIds(repo), [original], 'no run recorded');
    assert.deepStrictEqual(leftoverWorktrees(), leftBefore);

    const result = runCli(['reproduce', original], repo);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /warning: data data\/train\.csv changed since the run/);
    const r = report(repo, runIds(repo).find((id) => id !== original)!);
    assert.equal(r.verdict, 'diverged');
    assert.deepStrictEqual(r.data.map((d) => [d.path, d.same]), [['data/train.csv', false]]);
    assert.deepStrictEqual([...new Set(r.causes.map((c) => c.kind))].sort(), ['data', 'metrics']);
  });

  test('a package whose version differs from the one recorded is named as environment drift', () => {
    const repo = project();
    const site = tempDir('runlens-site-');
    const install = (version: string) => {
      fs.rmSync(site, { recursive: true, force: true });
      write(site, `fakepkg-${version}.dist-info/METADATA`, `Metadata-Version: 2.1\nName: fakepkg\nVersion: ${version}\n`);
    };
    install('1.0');
    const before = runIds(repo);
    assert.equal(runCli(['run', '--quiet', '--data', 'data/train.csv', '--', 'python3', 'train.py', '--seed', '3'], repo, { PYTHONPATH: site }).code, 0);
    const original = runIds(repo).find((id) => !before.includes(id))!;
    assert.equal(record(repo, original).env!.python!.packages.fakepkg, '1.0');
    install('2.0');
    const result = runCli(['reproduce', original], repo, { PYTHONPATH: site });
    assert.equal(result.code, 0, 'same numbers: reproduced, with the difference named');
    const r = report(repo, runIds(repo).find((id) => id !== original)!);
    assert.deepStrictEqual(r.environment.packages, [{ name: 'fakepkg', original: '1.0', reproduction: '2.0' }]);
    assert.deepStrictEqual(r.causes, [{ kind: 'environment', text: 'packages differ: fakepkg 1.0 → 2.0' }]);
    assert.match(result.stdout, /environment: packages differ: fakepkg 1\.0 → 2\.0/);
  });

  test('refusals explain and change nothing: outside git, a deleted snapshot ref, data that is gone, a folder inside the repo', () => {
    const leftBefore = leftoverWorktrees();
    const plain = tempDir('runlens-nogit-');
    write(plain, 'train.py', 'print("hi")\n');
    assert.equal(runCli(['run', '--quiet', '--', 'python3', 'train.py'], plain).code, 0);
    const [outside] = runIds(plain);
    const noGit = runCli(['reproduce', outside!], plain);
    assert.equal(noGit.code, 3);
    assert.match(noGit.stderr, /was recorded outside a git repository .*there is no code snapshot to reproduce it from/);
    assert.equal(runIds(plain).length, 1);

    const repo = project();
    const original = recordRun(repo);
    const before = userState(repo);
    const inside = runCli(['reproduce', original, '--in', path.join(repo, 'again')], repo);
    assert.equal(inside.code, 3);
    assert.match(inside.stderr, /is inside the repository's working tree/);

    fs.renameSync(path.join(repo, 'data'), path.join(repo, 'data-moved'));
    const gone = runCli(['reproduce', original], repo);
    assert.equal(gone.code, 3);
    assert.match(gone.stderr, /data data\/train\.csv of run .* no longer exists/);
    fs.renameSync(path.join(repo, 'data-moved'), path.join(repo, 'data'));

    const ref = record(repo, original).git!.ref;
    git(repo, 'update-ref', '-d', ref);
    const noRef = runCli(['reproduce', original], repo);
    assert.equal(noRef.code, 3);
    assert.match(noRef.stderr, new RegExp(`the snapshot of run ${original} .* is gone: ${ref} no longer exists \\(its commit [0-9a-f]{12} is still in the repository; \`git update-ref`));

    assert.deepStrictEqual(runIds(repo), [original], 'no run recorded by a refusal');
    assert.equal(userState(repo), before);
    assert.deepStrictEqual(leftoverWorktrees(), leftBefore);
  });

  test('stopping a reproduction ends its run as killed, reports it, and still removes the worktree', async () => {
    const repo = makeRepo({ 'slow.py': 'import json, os, time\nfor step in range(50):\n    print(json.dumps({"step": step, "loss": 1 / (step + 1)}), flush=True)\n    time.sleep(float(os.environ.get("PAUSE", "0")))\n' });
    assert.equal(runCli(['run', '--quiet', '--', 'python3', 'slow.py'], repo).code, 0);
    const [original] = runIds(repo);
    const leftBefore = leftoverWorktrees();
    const child = startCli(['reproduce', original!], repo, { PAUSE: '0.2' });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const started = Date.now();
    while (!stdout.includes('"step": 2')) {
      assert.ok(Date.now() - started < 20_000, 'the reproduction started');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 1);
    const repro = runIds(repo).find((id) => id !== original)!;
    assert.equal(record(repo, repro).status, 'killed');
    const r = report(repo, repro);
    assert.equal(r.verdict, 'diverged');
    assert.match(r.causes[0]!.text, /^the original finished \(exit 0\), the reproduction killed/);
    assert.deepStrictEqual(leftoverWorktrees(), leftBefore, 'no worktree left behind');
    assert.doesNotMatch(git(repo, 'worktree', 'list'), /runlens-reproduce/);
  });

  test('--in keeps the worktree where asked, at the snapshot, and the report says where', () => {
    const repo = project();
    const original = recordRun(repo);
    const into = path.join(tempDir('runlens-keep-'), 'repro');
    const result = runCli(['reproduce', original, '--in', into], repo);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(fs.readFileSync(path.join(into, 'helper.py'), 'utf8'), 'SCALE = 0.5\n', 'the untracked helper is in the checkout');
    assert.match(result.stderr, /the worktree is kept in .*repro; remove it with `git worktree remove/);
    assert.match(git(repo, 'worktree', 'list'), /repro/);
    git(repo, 'worktree', 'remove', '--force', into);
  });
});

describe('the report of what differs', () => {
  /** The metrics of two runs compared step by step, as the report is read: every step in a Map, the plainest way. */
  function referenceMetrics(a: string[], b: string[]) {
    const byStep = (lines: string[]) => {
      const out = new Map<string, Map<number, number>>();
      let step = -1;
      for (const line of lines) {
        const parsed = JSON.parse(line.replace(/\bNaN\b/g, '"NaN"')) as Record<string, number | string>;
        step = typeof parsed.step === 'number' ? parsed.step : step + 1;
        for (const [key, value] of Object.entries(parsed)) {
          if (key === 'step') continue;
          if (!out.has(key)) out.set(key, new Map());
          out.get(key)!.set(step, value === 'NaN' ? NaN : Number(value));
        }
      }
      return out;
    };
    const [ma, mb] = [byStep(a), byStep(b)];
    return [...new Set([...ma.keys(), ...mb.keys()])].sort().map((key) => {
      const sa = ma.get(key) ?? new Map<number, number>();
      const sb = mb.get(key) ?? new Map<number, number>();
      let compared = 0;
      let missing = 0;
      let maxDiff: number | null = null;
      let first: number | null = null;
      for (const step of [...new Set([...sa.keys(), ...sb.keys()])].sort((x, y) => x - y)) {
        const [va, vb] = [sa.get(step), sb.get(step)];
        if (va === undefined || vb === undefined) {
          missing++;
          first ??= step;
          continue;
        }
        compared++;
        const diff = Number.isNaN(va) && Number.isNaN(vb) ? 0 : Number.isNaN(va) || Number.isNaN(vb) ? Infinity : va === vb ? 0 : Math.abs(va - vb);
        maxDiff = Math.max(maxDiff ?? 0, diff);
        const agreeing = Number.isNaN(va) || Number.isNaN(vb) ? Number.isNaN(va) && Number.isNaN(vb) : va === vb || Math.abs(va - vb) <= 1e-9 + 1e-6 * Math.max(Math.abs(va), Math.abs(vb));
        if (!agreeing) first ??= step;
      }
      return { key, maxStepDifference: maxDiff, stepsCompared: compared, stepsMissing: missing, firstDivergentStep: first };
    });
  }

  test('metrics step by step: steps out of order, logged twice (the last wins), missing on one side, NaN, against a plain reading', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = rng(seed);
      const store = tempDir();
      const lines = (n: number, drift: number) =>
        Array.from({ length: n }, (_, i) => {
          // Mostly in order; some steps again, some back, some skipped; a few without a step (the one before + 1).
          const r = random();
          const step = r < 0.08 ? Math.floor(random() * n) : r < 0.12 ? null : i;
          const line: Record<string, unknown> = step === null ? {} : { step };
          if (random() < 0.9) line.loss = Math.round((1 / (i + 1) + (random() < drift ? random() : 0)) * 1e6) / 1e6;
          if (random() < 0.3) line.acc = random() < 0.05 ? 'NaN' : Math.round(random() * 100) / 100;
          if (Object.keys(line).length === (step === null ? 0 : 1)) line.loss = 0.5;
          return JSON.stringify(line).replace('"NaN"', 'NaN');
        });
      const a = lines(50 + Math.floor(random() * 300), 0.02);
      const b = random() < 0.3 ? a : lines(50 + Math.floor(random() * 300), 0.02);
      const [original, reproduction] = [a, b].map((text) => {
        const rec = { ...makeRecord(random), status: 'finished' as const, git: null, data: [], env: null, seed: null };
        rec.metricsSummary = { lines: text.length, lastStep: null, metrics: {}, malformed: 0, malformedSamples: [] };
        writeRecord(store, rec);
        fs.writeFileSync(path.join(store, 'runs', rec.id, 'metrics.jsonl'), text.join('\n') + '\n');
        return rec;
      });
      const got = (await buildReport(store, store, original!, reproduction!)).metrics.map(({ key, maxStepDifference, stepsCompared, stepsMissing, firstDivergentStep }) => ({ key, maxStepDifference, stepsCompared, stepsMissing, firstDivergentStep }));
      assert.deepStrictEqual(got, referenceMetrics(a, b), `seed ${seed}`);
    }
  });
});
