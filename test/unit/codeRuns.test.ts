import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { argparseKeyAt, tomlKeyAt, yamlKeyAt } from '../../src/core/code/configKeys';
import { blobsAtRuns, readTextBlobs, versionsOfFile } from '../../src/core/code/fileVersions';
import { LineInterner, matchLines, rematchAfterEdit, unchangedLines } from '../../src/core/code/lineDiff';
import { FileLineRuns } from '../../src/core/code/lineRuns';
import { metricGoal } from '../../src/core/code/metricGoal';
import { paramEqualsQuery, paramStats } from '../../src/core/code/paramValues';
import { summarizeScript } from '../../src/core/code/scriptRuns';
import { RunIndex, type IndexedRun } from '../../src/core/index/runIndex';
import type { RunRecord } from '../../src/core/runRecord';
import { readRunRecord } from '../../src/core/store';
import { git, makeRepo, runCli, runIds, TEST_ENV, write } from '../helpers/repo';
import { rng } from '../helpers/runFactory';

/** A script whose accuracy depends on its flags, so that the best run is known from them. */
const TRAIN = `import argparse, json
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.01)
parser.add_argument("--batch-size", type=int, default=32)
args = parser.parse_args()
acc = round(0.9 - abs(args.lr - 0.05) - args.batch_size / 10000, 6)
print(json.dumps({"step": 1, "acc": acc, "loss": 1 - acc}))
`;

const CONFIG = 'model:\n  depth: 3\noptim:\n  lr: 0.1\n  name: adam\n';

interface Recorded {
  id: string;
  record: RunRecord;
}

describe('the code knows its runs', () => {
  let repo: string;
  const recorded: Recorded[] = [];
  let index: RunIndex;

  /** Records a run with the CLI and returns it (the run folder that appeared). */
  function record(args: string[], cwd = repo): Recorded {
    const beforeIds = new Set(runIds(repo));
    const result = runCli(['run', '--quiet', ...args], cwd);
    assert.equal(result.code, 0, result.stderr);
    const id = runIds(repo).find((r) => !beforeIds.has(r))!;
    const run = { id, record: readRunRecord(path.join(repo, '.runlens'), id) };
    recorded.push(run);
    return run;
  }

  before(async () => {
    repo = makeRepo({ 'train.py': TRAIN, 'config.yaml': CONFIG, 'other.py': 'print(\'{"acc": 0.99}\')\n', 'sub/keep.txt': '' });
    record(['--config', 'config.yaml', '--', 'python3', 'train.py', '--lr', '0.01']);
    record(['--config', 'config.yaml', '--', 'python3', 'train.py', '--lr', '0.05', '--batch-size', '64']);
    // An edit in the middle of the script: the lines around it stay the runs' lines.
    fs.writeFileSync(path.join(repo, 'train.py'), TRAIN.replace('args = parser.parse_args()\n', 'parser.add_argument("--seed", type=int, default=0)\nargs = parser.parse_args()\n'));
    record(['--', 'python3', 'train.py', '--lr', '0.05']);
    fs.writeFileSync(path.join(repo, 'config.yaml'), CONFIG.replace('lr: 0.1', 'lr: 0.2'));
    record(['--config', 'config.yaml', '--', 'python3', 'train.py', '--lr', '0.2']);
    // From a subfolder, the script is still train.py in the repository.
    record(['--', 'python3', '../train.py', '--lr', '0.01'], path.join(repo, 'sub'));
    record(['--', 'python3', 'other.py']);
    // The script now: one line changed, one added at the top.
    fs.writeFileSync(path.join(repo, 'train.py'), '# tuned\n' + fs.readFileSync(path.join(repo, 'train.py'), 'utf8').replace('default=32', 'default=16'));
    index = await RunIndex.open(path.join(repo, '.runlens'), { racyMs: 0 });
    index.refresh();
  });

  const ofTrain = () => recorded.filter((r) => r.record.command.some((a) => /(^|\/)train\.py$/.test(a)));
  const acc = (r: Recorded) => r.record.metricsSummary!.metrics.acc!.last;

  test('the lens counts the runs of a script, wherever they ran from, and names the best and the newest', () => {
    const runs = ofTrain();
    const summary = summarizeScript(index, 'train.py', '')!;
    assert.equal(summary.runs, runs.length);
    assert.equal(summary.runs, 5);
    assert.deepEqual(summary.metric, { key: 'acc', goal: 'max' });
    const best = runs.reduce((a, b) => (acc(b) > acc(a) ? b : a));
    assert.equal(summary.best!.run.id, best.id);
    assert.equal(summary.best!.value, acc(best));
    assert.equal(summary.recent[0]!.id, runs.at(-1)!.id);
    assert.deepEqual(summary.recent.map((r) => r.id), runs.slice(-5).reverse().map((r) => r.id));
    // Judged by loss, the best is the run with the lowest loss.
    const byLoss = summarizeScript(index, 'train.py', 'loss')!;
    assert.equal(byLoss.metric!.goal, 'min');
    assert.equal(byLoss.best!.run.id, runs.reduce((a, b) => (b.record.metricsSummary!.metrics.loss!.last < a.record.metricsSummary!.metrics.loss!.last ? b : a)).id);
    assert.equal(summarizeScript(index, 'other.py', '')!.runs, 1);
    assert.equal(summarizeScript(index, 'sub/train.py', ''), null);
  });

  test('a hover on a flag lists its values with the runs `runlens ls --where` finds for each, and the best', () => {
    const stats = paramStats(index, 'lr', { script: 'train.py' }, 'acc');
    const runs = ofTrain();
    assert.equal(stats.rows.reduce((n, r) => n + r.runs, 0) + stats.without, runs.length);
    for (const row of stats.rows) {
      const listed = JSON.parse(runCli(['ls', '--json', '--where', `${paramEqualsQuery('lr', row.value)} and script = "train.py"`], repo).stdout) as { id: string }[];
      assert.equal(row.runs, listed.length, `lr = ${row.value}`);
      const best = recorded.filter((r) => listed.some((l) => l.id === r.id)).reduce((a, b) => (acc(b) > acc(a) ? b : a));
      assert.equal(row.best!.id, best.id);
      assert.equal(row.best!.metric, acc(best));
    }
    assert.deepEqual(stats.rows.map((r) => r.value), ['0.05', '0.01', '0.2'], 'best first');
    assert.equal(stats.best!.value, '0.05');
    // --batch-size is batch_size, as argparse names it; runs that left it out used the default.
    const batch = paramStats(index, 'batch_size', { script: 'train.py' }, 'acc');
    assert.deepEqual(batch.rows.map((r) => [r.value, r.runs]), [['64', 1]]);
    assert.equal(batch.without, 4);
  });

  test('a hover on a config key lists the values of the runs that loaded that config file', () => {
    const text = fs.readFileSync(path.join(repo, 'config.yaml'), 'utf8');
    const key = yamlKeyAt(text, text.indexOf('lr:') + 1)!;
    assert.equal(key.key, 'optim.lr');
    assert.equal(key.value, 0.2);
    const stats = paramStats(index, key.key, { configFile: 'config.yaml' }, 'acc');
    const loaded = recorded.filter((r) => r.record.configFiles.some((c) => c.path === 'config.yaml'));
    assert.equal(loaded.length, 3);
    assert.deepEqual(
      stats.rows.map((r) => [r.value, r.runs]).sort(),
      [...new Set(loaded.map((r) => String(r.record.params['optim.lr'])))].map((v) => [v, loaded.filter((r) => String(r.record.params['optim.lr']) === v).length]).sort(),
    );
  });

  test('which runs used this file: the blob of every run\'s snapshot, as `git rev-parse <snapshot>:<path>` says', async () => {
    const runs = recorded.map((r) => ({ id: r.id, snapshot: r.record.git!.snapshot }));
    for (const file of ['train.py', 'config.yaml', 'other.py', 'missing.py']) {
      const blobs = await blobsAtRuns(repo, runs, file);
      for (const run of runs) {
        let expected: string | null;
        try {
          expected = execFileSync('git', ['rev-parse', '--verify', '-q', `${run.snapshot}:${file}`], { cwd: repo, env: TEST_ENV, encoding: 'utf8' }).trim();
        } catch {
          expected = null;
        }
        assert.equal(blobs.get(run.id), expected, `${file} in ${run.id}`);
      }
    }
    // The config as it is now is in the snapshots from the fourth run on; the first three had another version.
    const now = git(repo, 'hash-object', 'config.yaml').trim();
    const { byBlob, without } = await versionsOfFile(repo, runs, 'config.yaml');
    const holdingNow = recorded.filter((r) => git(repo, 'rev-parse', `${r.record.git!.snapshot}:config.yaml`).trim() === now).map((r) => r.id);
    assert.ok(holdingNow.length >= 3, 'the runs after the config edit');
    assert.deepEqual(byBlob.get(now)?.map((r) => r.id), holdingNow);
    assert.equal(without.length, 0);
    assert.equal(byBlob.size, 2);
  });

  test('line annotations agree with git\'s own diff from each run\'s version of the file to the file now', async () => {
    const runs = index.query(null).filter((r) => r.script === 'train.py');
    const now = fs.readFileSync(path.join(repo, 'train.py'), 'utf8');
    const annotations = await annotate(repo, runs, 'train.py', now);
    // Ground truth: for each run, the lines of the file now that `git diff` keeps from the run's version.
    const lines = now.split('\n');
    const expected = lines.map(() => [] as string[]);
    for (const run of runs) {
      const old = path.join(repo, '.git', `old-${run.id}`);
      fs.writeFileSync(old, git(repo, 'show', `${run.snapshot}:train.py`));
      let diff = '';
      try {
        diff = execFileSync('git', ['diff', '--no-index', '--diff-algorithm=myers', '-U0', old, path.join(repo, 'train.py')], { cwd: repo, env: TEST_ENV, encoding: 'utf8' });
      } catch (err) {
        diff = String((err as { stdout?: string }).stdout ?? '');
      }
      const added = new Set<number>();
      for (const m of diff.matchAll(/^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/gm)) {
        const start = Number(m[1]);
        const count = m[2] === undefined ? 1 : Number(m[2]);
        for (let i = 0; i < count; i++) added.add(start + i - 1);
      }
      lines.forEach((_, i) => {
        if (!added.has(i)) expected[i]!.push(run.id);
      });
    }
    assert.ok(expected[0]!.length === 0, 'the new first line is in no run');
    assert.ok(expected.some((e) => e.length === runs.length), 'untouched lines are in every run');
    assert.ok(expected.some((e) => e.length > 0 && e.length < runs.length), 'the added --seed line is in some runs only');
    lines.forEach((_, i) => {
      const at = annotations.annotate(now)[i];
      assert.equal(at?.runs ?? 0, expected[i]!.length, `line ${i + 1}: ${lines[i]}`);
      if (!at) return;
      const holding = runs.filter((r) => expected[i]!.includes(r.id));
      assert.equal(at.first.id, holding.reduce((a, b) => (Date.parse(b.startedAt!) < Date.parse(a.startedAt!) ? b : a)).id);
      const accOf = (r: IndexedRun) => r.metrics.find((m) => m.key === 'acc')!.last;
      assert.equal(at.best!.id, holding.reduce((a, b) => (accOf(b) > accOf(a) ? b : a)).id);
      assert.deepEqual(new Set(annotations.runsOf(at).map((r) => r.id)), new Set(expected[i]));
    });
    // An edit above a line moves its annotation with it.
    const edited = '# one more line\n' + now;
    const moved = annotations.annotate(edited);
    assert.equal(moved[0], null);
    lines.forEach((_, i) => assert.equal(moved[i + 1]?.runs ?? 0, expected[i]!.length));
  });

  test('config keys are found under the cursor in YAML, JSON and TOML, and flags on add_argument lines', () => {
    const yaml = 'model:\n  layers:\n    - 64\n    - 128\noptim: {lr: 1e-3}\n';
    assert.deepEqual(pick(yamlKeyAt(yaml, yaml.indexOf('128') + 1)), ['model.layers.1', 128]);
    assert.deepEqual(pick(yamlKeyAt(yaml, yaml.indexOf('lr'))), ['optim.lr', 0.001]);
    assert.equal(yamlKeyAt(yaml, yaml.indexOf('model')), null, 'a key whose value is a mapping is no param');
    const json = '{\n  "optimizer": {\n    "lr": 0.01,\n    "betas": [0.9, 0.99]\n  }\n}\n';
    assert.deepEqual(pick(yamlKeyAt(json, json.indexOf('"lr"') + 1)), ['optimizer.lr', 0.01]);
    assert.deepEqual(pick(yamlKeyAt(json, json.indexOf('0.99'))), ['optimizer.betas.1', 0.99]);
    const toml = 'seed = 1\n[optim]\nlr = 0.01  # comment\n"weight.decay" = 0\n[[layers]]\nwidth = 64\n[[layers]]\nwidth = 128\n';
    assert.deepEqual(pick(tomlKeyAt(toml, toml.indexOf('lr'))), ['optim.lr', 0.01]);
    assert.deepEqual(pick(tomlKeyAt(toml, toml.indexOf('weight'))), ['optim.weight.decay', 0]);
    assert.deepEqual(pick(tomlKeyAt(toml, toml.indexOf('width = 128'))), ['layers.1.width', 128]);
    assert.deepEqual(pick(tomlKeyAt(toml, 1)), ['seed', 1]);
    assert.equal(tomlKeyAt('not = = toml', 1), null);
    const flag = argparseKeyAt('    parser.add_argument("-b", "--batch-size", type=int, default=32, help="x")')!;
    assert.deepEqual([flag.key, flag.flag, flag.default], ['batch_size', '--batch-size', 32]);
    assert.deepEqual(argparseKeyAt("p.add_argument('--opt', default='adam')")!.default, 'adam');
    assert.equal(argparseKeyAt('p.add_argument("input")'), null);
  });

  test('metric goals come from the name, and the setting overrides them', () => {
    assert.equal(metricGoal('val_loss'), 'min');
    assert.equal(metricGoal('test/error'), 'min');
    assert.equal(metricGoal('rmse'), 'min');
    assert.equal(metricGoal('acc'), 'max');
    assert.equal(metricGoal('f1'), 'max');
    assert.equal(metricGoal('acc', { acc: 'min' }), 'min');
  });
});

function pick(key: { key: string; value: unknown } | null): [string, unknown] | null {
  return key ? [key.key, key.value] : null;
}

async function annotate(repo: string, runs: IndexedRun[], file: string, now: string): Promise<FileLineRuns> {
  const { byBlob } = await versionsOfFile(repo, runs.map((r) => ({ ...r, snapshot: r.snapshot! })), file);
  const texts = await readTextBlobs(repo, [...byBlob.keys()]);
  const versions = [...byBlob].map(([blob, held]) => ({
    blob,
    text: texts.get(blob)!,
    runs: held.map((r) => ({ id: r.id, name: r.name, startedMs: Date.parse(r.startedAt!), metric: r.metrics.find((m) => m.key === 'acc')?.last ?? null })),
  }));
  const lines = new FileLineRuns(versions, 'max');
  lines.annotate(now);
  return lines;
}

describe('line diff', () => {
  /** The length of the longest common subsequence, by dynamic programming. */
  function lcs(a: number[], b: number[]): number {
    const row = new Array<number>(b.length + 1).fill(0);
    for (const x of a) {
      let diagonal = 0;
      for (let j = 1; j <= b.length; j++) {
        const up = row[j]!;
        row[j] = x === b[j - 1] ? diagonal + 1 : Math.max(row[j]!, row[j - 1]!);
        diagonal = up;
      }
    }
    return row[b.length]!;
  }

  /** Whether the kept lines of b occur in a in the same order. */
  function isCommonSubsequence(a: number[], b: number[], kept: Uint8Array): boolean {
    let i = 0;
    for (let j = 0; j < b.length; j++) {
      if (!kept[j]) continue;
      while (i < a.length && a[i] !== b[j]) i++;
      if (i++ >= a.length) return false;
    }
    return true;
  }

  test('keeps a longest common subsequence of lines (random files, against dynamic programming)', () => {
    const random = rng(15);
    for (let round = 0; round < 400; round++) {
      const alphabet = 1 + Math.floor(random() * 8);
      const a = Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * alphabet));
      const b = a.filter(() => random() > 0.2).flatMap((x) => (random() < 0.15 ? [x, Math.floor(random() * alphabet)] : [x]));
      const kept = unchangedLines(Int32Array.from(a), Int32Array.from(b));
      assert.ok(isCommonSubsequence(a, b, kept), `round ${round}`);
      assert.equal(kept.reduce((n, k) => n + k, 0), lcs(a, b), `round ${round}: ${a} → ${b}`);
      // Past the edit budget the answer is smaller but still a common subsequence.
      assert.ok(isCommonSubsequence(a, b, unchangedLines(Int32Array.from(a), Int32Array.from(b), 2)), `round ${round}, budget 2`);
      // A buffer handed in is cleared first.
      assert.deepEqual(matchLines(Int32Array.from(a), Int32Array.from(b), 1000, new Int32Array(b.length).fill(7)), matchLines(Int32Array.from(a), Int32Array.from(b)));
    }
  });

  /** Whether `match` pairs equal lines in increasing order on both sides. */
  function isMatching(a: Int32Array, b: Int32Array, match: Int32Array): boolean {
    let last = -1;
    for (let j = 0; j < b.length; j++) {
      if (match[j]! < 0) continue;
      if (match[j]! <= last || a[match[j]!] !== b[j]) return false;
      last = match[j]!;
    }
    return true;
  }

  test('after an edit, only the edited part is diffed again, and the answer is the full diff\'s', () => {
    const random = rng(16);
    for (let round = 0; round < 300; round++) {
      // Mostly distinct lines, as code has: then the diff is what a full one finds.
      const a = Int32Array.from({ length: 20 + Math.floor(random() * 60) }, (_, i) => i);
      const b = Int32Array.from([...a].filter(() => random() > 0.1).flatMap((x) => (random() < 0.1 ? [x, 1000 + Math.floor(random() * 1000)] : [x])));
      const before = matchLines(a, b);
      const at = Math.floor(random() * b.length);
      const removed = Math.floor(random() * 4);
      const added = Array.from({ length: Math.floor(random() * 4) }, () => (random() < 0.5 ? a[Math.floor(random() * a.length)]! : 5000 + round));
      const now = Int32Array.from([...b.slice(0, at), ...added, ...b.slice(at + removed)]);
      let prefix = 0;
      while (prefix < Math.min(b.length, now.length) && b[prefix] === now[prefix]) prefix++;
      let suffix = 0;
      while (suffix < Math.min(b.length, now.length) - prefix && b[b.length - 1 - suffix] === now[now.length - 1 - suffix]) suffix++;
      const after = rematchAfterEdit(a, before, now, prefix, suffix);
      assert.ok(isMatching(a, now, after), `round ${round}: a valid matching`);
      const full = matchLines(a, now);
      assert.equal(after.filter((m) => m >= 0).length, full.filter((m) => m >= 0).length, `round ${round}: as many lines kept as a full diff`);
    }
  });

  test('annotations rebuilt after the runs changed reuse the versions read, and say what fresh ones say', () => {
    const random = rng(17);
    const base = Array.from({ length: 200 }, (_, i) => `line ${i}`);
    const versions = Array.from({ length: 30 }, (_, v) => ({
      blob: `b${v}`,
      text: base.map((l) => (random() < 0.05 ? `${l} changed in ${v}` : l)).join('\n'),
      runs: [{ id: `r${v}`, name: `run ${v}`, startedMs: v, metric: random() }],
    }));
    const now = base.map((l, i) => (i % 50 === 0 ? `${l} now` : l)).join('\n');
    const before = new FileLineRuns(versions, 'max');
    before.annotate(now);
    // A new run of a new version, and a changed metric: rebuilt on the previous annotations.
    const changed = [...versions.slice(1), { blob: 'b99', text: now, runs: [{ id: 'r99', name: 'run 99', startedMs: 99, metric: 2 }] }];
    const rebuilt = new FileLineRuns(changed, 'max', before).annotate(now);
    assert.deepEqual(rebuilt, new FileLineRuns(changed, 'max').annotate(now));
    assert.equal(rebuilt[0]!.best!.id, 'r99');
  });

  test('lines compare as text, and a CRLF line is the same line', () => {
    const interner = new LineInterner();
    const a = interner.lines('a\r\nb\nc\n');
    const b = interner.lines('a\nx\nc\n');
    assert.deepEqual([...unchangedLines(a, b)], [1, 0, 1, 1]);
  });

  test('a file held by many versions is diffed once per version', async () => {
    const repo = makeRepo({ 'f.txt': 'one\ntwo\n' });
    write(repo, 'f.txt', 'one\ntwo\nthree\n');
    git(repo, 'commit', '-qam', 'three');
    const heads = git(repo, 'rev-list', 'HEAD').trim().split('\n');
    const runs = Array.from({ length: 50 }, (_, i) => ({ id: `r${i}`, snapshot: heads[i % 2]! }));
    const { byBlob } = await versionsOfFile(repo, runs, 'f.txt');
    assert.equal(byBlob.size, 2);
  });
});
