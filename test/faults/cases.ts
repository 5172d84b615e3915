// The fault cases of `npm run faults`: real kills, real concurrency, corrupt files, fuzzed
// queries and planted secrets against the built CLI, on real git repositories. Each case
// returns its counts; `npm run faults` prints them at full size, and a small size of each runs
// in `npm test`, which asserts every count that must be zero is zero.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { importRuns } from '../../src/core/import/importRuns';
import type { SourceKind } from '../../src/core/import/types';
import { RunIndex } from '../../src/core/index/runIndex';
import { QuerySyntaxError } from '../../src/core/query/ast';
import { parseQuery, parseSort } from '../../src/core/query/parse';
import { CLI, git, makeRepo, PROJECT_ROOT, runCli, TEST_ENV, tempDir, write } from '../helpers/repo';
import { rng } from '../helpers/runFactory';

export interface Sizes {
  /** Mutated inputs per import kind. */
  importInputs: number;
  /** Corruptions and commands of the corruption corpus: all of them, or the first few. */
  corruptions: number;
  commands: number;
  kills: number;
  concurrentRuns: number;
  pointsPerRun: number;
  queries: number;
}

export const FULL: Sizes = { corruptions: 99, commands: 99, kills: 100, concurrentRuns: 8, pointsPerRun: 100_000, queries: 10_000, importInputs: 10_000 };
export const SMALL: Sizes = { corruptions: 3, commands: 5, kills: 6, concurrentRuns: 3, pointsPerRun: 3_000, queries: 400, importInputs: 60 };

const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
/** A stack trace, or RunLens saying it hit a bug of its own: either is a crash, not a message. */
const STACK = /\n\s+at [^\n]+:\d+:\d+|internal error:/;

function sha(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The steps of the fault script's metric lines as it printed them (stdout.log). */
function stepsPrinted(text: string): Set<number> {
  const steps = new Set<number>();
  for (const m of text.matchAll(/\{"step": (\d+), "loss": [^}\n]*\}/g)) steps.add(Number(m[1]));
  return steps;
}

/** The steps in metrics.jsonl, read line by line as JSON; a torn last line counts for nothing. */
function stepsRecorded(text: string): Set<number> {
  const steps = new Set<number>();
  for (const line of text.split('\n')) {
    try {
      const step = (JSON.parse(line) as { step?: unknown }).step;
      if (typeof step === 'number') steps.add(step);
    } catch {
      // torn or empty
    }
  }
  return steps;
}

function killLeftovers(marker: string): void {
  spawnSync('pkill', ['-KILL', '-f', marker]);
}

export interface KillCounts {
  kills: number;
  unreadableRuns: number;
  lostMetricLines: number;
  tempFoldersLeft: number;
  fsckProblems: number;
  userIndexChanged: number;
}

/**
 * SIGKILL to the recorder (alone, or with its whole process group) at random moments of a run that
 * prints metric lines as fast as it can: during capture, while run.json is first written, mid-output.
 */
export async function killCase(sizes: Sizes, seed = 1): Promise<KillCounts> {
  const random = rng(seed);
  const repo = makeRepo({ 'train.py': 'print("hi")\n', 'README.md': '# r\n' });
  write(repo, 'train.py', 'print("hi again")\n');
  git(repo, 'add', 'train.py');
  write(repo, 'wip.py', 'x = 1\n');
  const tmp = tempDir('runlens-faults-tmp-');
  const env = { ...TEST_ENV, TMPDIR: tmp };
  const indexBefore = sha(path.join(repo, '.git', 'index'));
  const marker = `faultkill${process.pid}`;
  const script = `import sys\n# ${marker}\nfor s in range(10**7):\n    print('{"step": %d, "loss": %f}' % (s, 1.0 / (s + 1)))\n    if s % 50 == 0: sys.stderr.write("progress %d\\r" % s)\n`;
  write(repo, 'fault.py', script);
  write(repo, '.gitignore', 'fault.py\n');
  const counts: KillCounts = { kills: 0, unreadableRuns: 0, lostMetricLines: 0, tempFoldersLeft: 0, fsckProblems: 0, userIndexChanged: 0 };
  for (let i = 0; i < sizes.kills; i++) {
    const group = i % 2 === 1;
    const child = spawn(process.execPath, [CLI, 'run', '--quiet', '--', PYTHON, 'fault.py'], { cwd: repo, env, stdio: 'ignore', detached: true });
    const delay = Math.floor(random() ** 2 * 1500);
    await new Promise((r) => setTimeout(r, delay));
    try {
      if (group) process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // already gone
    }
    await new Promise((r) => child.once('close', r));
    killLeftovers(marker);
    counts.kills++;
  }
  // The next run cleans up after the killed ones.
  const next = runCli(['run', '--quiet', '--', 'true'], repo, { TMPDIR: tmp });
  if (next.code !== 0) counts.unreadableRuns++;
  counts.tempFoldersLeft = fs.readdirSync(tmp).filter((n) => n.startsWith('runlens-')).length;
  const ls = runCli(['ls', '--json'], repo);
  const listed = ls.code === 0 ? (JSON.parse(ls.stdout) as { id: string }[]) : [];
  counts.unreadableRuns += (ls.stderr.match(/cannot be read/g) ?? []).length + (ls.code === 0 ? 0 : 1);
  const runsDir = path.join(repo, '.runlens', 'runs');
  const folders = fs.readdirSync(runsDir);
  counts.unreadableRuns += folders.filter((id) => !listed.some((r) => r.id === id)).length;
  for (const id of folders) {
    const dir = path.join(runsDir, id);
    const log = fs.existsSync(path.join(dir, 'stdout.log')) ? fs.readFileSync(path.join(dir, 'stdout.log'), 'utf8') : '';
    const metrics = fs.existsSync(path.join(dir, 'metrics.jsonl')) ? fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8') : '';
    const kept = stepsRecorded(metrics);
    for (const step of stepsPrinted(log)) if (!kept.has(step)) counts.lostMetricLines++;
  }
  const fsck = spawnSync('git', ['fsck', '--no-progress'], { cwd: repo, env: TEST_ENV, encoding: 'utf8' });
  counts.fsckProblems = fsck.status === 0 ? 0 : Math.max(1, fsck.stdout.split('\n').filter(Boolean).length);
  counts.userIndexChanged = sha(path.join(repo, '.git', 'index')) === indexBefore ? 0 : 1;
  fs.rmSync(tmp, { recursive: true, force: true });
  return counts;
}

export interface ConcurrencyCounts {
  runs: number;
  points: number;
  lost: number;
  readerFailures: number;
}

/** Several runs writing at once while ls, series and the index read the same store. */
export async function concurrencyCase(sizes: Sizes): Promise<ConcurrencyCounts> {
  const repo = makeRepo();
  const n = sizes.pointsPerRun;
  const children = Array.from({ length: sizes.concurrentRuns }, (_, i) =>
    spawn(process.execPath, [CLI, 'run', '--quiet', '--name', `writer-${i}`, '--', process.execPath, '-e', `for (let s = 0; s < ${n}; s++) console.log('{"step": ' + s + ', "loss": ' + (1 / (s + 1)) + ', "w": ${i}}')`], {
      cwd: repo,
      env: TEST_ENV,
      stdio: 'ignore',
    }),
  );
  const done = Promise.all(children.map((c) => new Promise<number | null>((r) => c.once('close', r))));
  let finished = false;
  void done.then(() => (finished = true));
  let readerFailures = 0;
  const reader = (async () => {
    while (!finished) {
      const ls = spawnSync(process.execPath, [CLI, 'ls', '--json'], { cwd: repo, env: TEST_ENV, encoding: 'utf8', maxBuffer: 1 << 28 });
      if (ls.status !== 0 || STACK.test(ls.stderr)) readerFailures++;
      const ids = ls.status === 0 ? (JSON.parse(ls.stdout) as { id: string }[]).map((r) => r.id) : [];
      if (ids.length) {
        const series = spawnSync(process.execPath, [CLI, 'series', ...ids, '--metric', 'loss', '--json'], { cwd: repo, env: TEST_ENV, encoding: 'utf8', maxBuffer: 1 << 28 });
        if (series.status !== 0 || STACK.test(series.stderr)) readerFailures++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const codes = await done;
  await reader;
  let lost = codes.filter((c) => c !== 0).length * n;
  const runsDir = path.join(repo, '.runlens', 'runs');
  for (const id of fs.readdirSync(runsDir)) {
    const text = fs.readFileSync(path.join(runsDir, id, 'metrics.jsonl'), 'utf8');
    lost += n - stepsRecorded(text).size;
  }
  return { runs: sizes.concurrentRuns, points: sizes.concurrentRuns * n, lost, readerFailures };
}

export interface CorruptionCounts {
  cases: number;
  stackTraces: number;
  userFilesChanged: number;
  otherRunsMissing: number;
  examples: string[];
}

type Corruption = [string, (file: string) => void];

const CORRUPTIONS: Corruption[] = [
  ['truncated', (f) => fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2))],
  ['a folder', (f) => {
    fs.rmSync(f, { recursive: true, force: true });
    fs.mkdirSync(f);
  }],
  ['wrong types', (f) => fs.writeFileSync(f, '{"id": 5, "status": ["x"], "metrics": "no", "events": 1}\n[1, 2]\n"text"\n')],
  ['emptied', (f) => fs.writeFileSync(f, '')],
  ['garbage', (f) => fs.writeFileSync(f, Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0x0a, 0x80, 0x81]))],
  ['nested 5000 deep', (f) => fs.writeFileSync(f, '['.repeat(5000) + ']'.repeat(5000) + '\n')],
];

/** Every file RunLens reads, broken in every way above, under every reading command. */
export function corruptionCase(sizes: Sizes): CorruptionCounts {
  const template = makeRepo({ 'train.py': 'import json\nfor s in range(20): print(json.dumps({"step": s, "loss": 1 / (s + 1)}))\n', 'conf.yaml': 'lr: 0.1\n' });
  write(template, 'model.bin', 'weights');
  const record = (name: string) => runCli(['run', '--quiet', '--name', name, '--config', 'conf.yaml', '--artifact', 'model.bin', '--', PYTHON, '-c', 'import runlens, json\nrunlens.params({"depth": 3})\nfor s in range(20): print(json.dumps({"step": s, "loss": 1 / (s + 1)}))\nopen("model.bin", "w").write("weights")'], template);
  record('victim');
  record('bystander');
  runCli(['model', 'register', 'victim', '--name', 'clf'], template);
  runCli(['reproduce', 'victim'], template);
  runCli(['ls'], template);
  runCli(['series', 'victim', '--metric', 'loss'], template);
  const listing = JSON.parse(runCli(['ls', '--json'], template).stdout) as { id: string; name: string; reproduces?: string }[];
  const victim = listing.find((r) => r.name === 'victim')!;
  const bystander = listing.find((r) => r.name === 'bystander')!;
  const reproduction = listing.find((r) => r.reproduces === victim.id);
  const store = (repo: string) => path.join(repo, '.runlens');
  const targets: string[] = [
    `runs/${victim.id}/run.json`,
    `runs/${victim.id}/metrics.jsonl`,
    `runs/${victim.id}/params.jsonl`,
    `runs/${victim.id}/stdout.log`,
    ...(reproduction ? [`runs/${reproduction.id}/reproduction.json`] : []),
    'index.sqlite',
    'registry/events.jsonl',
    'cache/hashes.json',
    `cache/series/${victim.id}/index.json`,
  ];
  const commands = [['ls'], ['ls', '--json'], ['show', victim.id], ['series', victim.id, '--metric', 'loss'], ['model', 'ls'], ['show', '--json', victim.id], ['model', 'history', 'clf'], ['diff', victim.id, bystander.id]].slice(0, sizes.commands);
  const counts: CorruptionCounts = { cases: 0, stackTraces: 0, userFilesChanged: 0, otherRunsMissing: 0, examples: [] };
  for (const target of targets) {
    if (!fs.existsSync(path.join(store(template), target))) continue;
    for (const [how, corrupt] of CORRUPTIONS.slice(0, sizes.corruptions)) {
      const repo = tempDir('runlens-corrupt-');
      fs.cpSync(template, repo, { recursive: true });
      corrupt(path.join(store(repo), target));
      const userFiles = ['train.py', 'conf.yaml', 'model.bin'].map((f) => sha(path.join(repo, f))).join();
      for (const command of commands) {
        const r = runCli(command, repo);
        counts.cases++;
        if (STACK.test(r.stderr) || STACK.test(r.stdout)) {
          counts.stackTraces++;
          if (counts.examples.length < 5) counts.examples.push(`${target} ${how}, runlens ${command.join(' ')}: ${r.stderr.split('\n').slice(0, 2).join(' ')}`);
        }
        if (command[0] === 'ls' && !r.stdout.includes(command[1] === '--json' ? bystander.id : bystander.id.slice(0, 12))) {
          counts.otherRunsMissing++;
          if (counts.examples.length < 5) counts.examples.push(`${target} ${how}, runlens ${command.join(' ')}: bystander not listed; ${r.stderr.split('\n')[0]}`);
        }
      }
      if (['train.py', 'conf.yaml', 'model.bin'].map((f) => sha(path.join(repo, f))).join() !== userFiles) counts.userFilesChanged++;
      fs.rmSync(repo, { recursive: true, force: true });
    }
  }
  return counts;
}

export interface QueryFuzzCounts {
  queries: number;
  crashes: number;
  overOneSecond: number;
  slowestMs: number;
  examples: string[];
}

const FIELDS = ['metrics.acc', 'metrics.loss', 'params.lr', 'params.optimizer', 'name', 'status', 'branch', 'tag', 'started', 'age', 'duration', 'exit', 'dirty', 'commit', 'host', 'user', 'command', 'id', '`metrics.a b`', 'm.x'];
const OPS = ['=', '!=', '<', '<=', '>', '>=', '~', '!~', '=='];
const VALUES = ['0.5', '-1e9', 'NaN', '"adam"', "'sgd'", 'true', 'null', '2h', '"2026-11-01"', '"(A+)+B"', '"(?=x)"', '"[a-"', '"' + 'a'.repeat(300) + '"', '7d', '"\\u202e"', '"\u0000"'];
const NOISE = ['(', ')', 'and', 'or', 'not', '"', "'", '`', '~', '!', '=', ' ', '\n', '\\', '.', '-', '1e400', '\u202e', '\ud800'];

/** Queries made of the language's parts, then mutated: cut, spliced, repeated, noised. */
export async function queryFuzzCase(sizes: Sizes, seed = 7): Promise<QueryFuzzCounts> {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const store = tempDir('runlens-fuzz-');
  const runs = path.join(store, 'runs');
  fs.mkdirSync(runs, { recursive: true });
  for (let i = 0; i < 50; i++) {
    const id = `01m8${String(i).padStart(6, '0')}aaaaaaaaaaaaaaaa`.replace(/[ilou]/g, 'a');
    fs.mkdirSync(path.join(runs, id));
    fs.writeFileSync(path.join(runs, id, 'run.json'), JSON.stringify({ version: 1, id, name: `${'A'.repeat(40 + i)}-${i}`, command: ['python', 'train.py'], cwd: '/', startedAt: new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString(), endedAt: null, status: i % 3 ? 'finished' : 'failed', exitCode: i % 3 ? 0 : 1, pid: 1, host: 'h', user: 'u', tags: ['sweep'], git: null, params: { lr: i / 100, optimizer: i % 2 ? 'adam' : 'sgd' }, metricsSummary: { lines: 1, lastStep: 0, malformed: 0, malformedSamples: [], metrics: { acc: { last: i / 50, min: 0, max: 1, count: 1, nan: 0, lastStep: 0 } } }, problems: [] }));
  }
  const index = await RunIndex.open(store, { racyMs: 0 });
  index.refresh();
  const counts: QueryFuzzCounts = { queries: 0, crashes: 0, overOneSecond: 0, slowestMs: 0, examples: [] };
  const comparison = () => `${pick(FIELDS)} ${pick(OPS)} ${pick(VALUES)}`;
  const expression = (depth: number): string => {
    const r = random();
    if (depth > 3 || r < 0.4) return comparison();
    if (r < 0.55) return `not ${expression(depth + 1)}`;
    if (r < 0.7) return `(${expression(depth + 1)})`;
    return `${expression(depth + 1)} ${pick(['and', 'or'])} ${expression(depth + 1)}`;
  };
  const mutate = (q: string): string => {
    const r = random();
    const at = Math.floor(random() * (q.length + 1));
    if (r < 0.2) return q.slice(0, at);
    if (r < 0.4) return q.slice(0, at) + pick(NOISE) + q.slice(at);
    if (r < 0.5) return q.slice(0, at) + q.slice(at + 1 + Math.floor(random() * 5));
    if (r < 0.6) return Array(2 + Math.floor(random() * 400)).fill(q).join(pick([' and ', ' or ', '']));
    if (r < 0.7) return pick(['not ', '(']).repeat(Math.floor(random() * 3000)) + q + ')'.repeat(Math.floor(random() * 3000));
    return q;
  };
  for (let i = 0; i < sizes.queries; i++) {
    let query = expression(0);
    for (let m = Math.floor(random() * 3); m > 0; m--) query = mutate(query);
    const started = performance.now();
    try {
      const expr = parseQuery(query);
      index.query(expr, parseSort(pick(['-started', 'metrics.acc', '-params.lr,name', 'name'])), pick([undefined, 10, 1000]));
    } catch (err) {
      if (!(err instanceof QuerySyntaxError)) {
        counts.crashes++;
        if (counts.examples.length < 5) counts.examples.push(`${JSON.stringify(query.slice(0, 120))}: ${(err as Error).message.slice(0, 160)}`);
      }
    }
    const ms = performance.now() - started;
    counts.slowestMs = Math.max(counts.slowestMs, ms);
    if (ms > 1000) counts.overOneSecond++;
    counts.queries++;
  }
  index.close();
  fs.rmSync(store, { recursive: true, force: true });
  return counts;
}

export interface ImportFuzzCounts {
  inputs: number;
  /** Per kind, how many inputs were tried. */
  perKind: Record<string, number>;
  crashes: number;
  overOneSecond: number;
  slowestMs: number;
  examples: string[];
}

const LOGS = path.join(PROJECT_ROOT, 'test', 'fixtures', 'real-logs');

/** For each kind: the real files one source is made of (relative path in the source → fixture file). */
const SEEDS: Record<SourceKind, Record<string, string>> = {
  mlflow: {
    'mlruns/516221907975278643/meta.yaml': 'mlflow/2025-2-productos__PRE-07-mlflow-tracking-basico-LissyGraceRestrepo/mlruns/516221907975278643/meta.yaml',
    'mlruns/516221907975278643/08226ccc86194e9780d2931109f93380/meta.yaml': 'mlflow/2025-2-productos__PRE-07-mlflow-tracking-basico-LissyGraceRestrepo/mlruns/516221907975278643/08226ccc86194e9780d2931109f93380/meta.yaml',
    'mlruns/516221907975278643/08226ccc86194e9780d2931109f93380/metrics/test_mae': 'mlflow/2025-2-productos__PRE-07-mlflow-tracking-basico-LissyGraceRestrepo/mlruns/516221907975278643/08226ccc86194e9780d2931109f93380/metrics/test_mae',
    'mlruns/516221907975278643/08226ccc86194e9780d2931109f93380/params/alpha': 'mlflow/2025-2-productos__PRE-07-mlflow-tracking-basico-LissyGraceRestrepo/mlruns/516221907975278643/08226ccc86194e9780d2931109f93380/params/alpha',
    'mlruns/516221907975278643/models/m-5374a5db53cc4dbbb1ae574ec1e6bb5a/meta.yaml': 'mlflow/2025-2-productos__PRE-07-mlflow-tracking-basico-LissyGraceRestrepo/mlruns/516221907975278643/models/m-5374a5db53cc4dbbb1ae574ec1e6bb5a/meta.yaml',
  },
  'mlflow-sqlite': { 'mlflow.db': 'mlflow/1412010__nda-mlops-zoomcamp-2024/week-02/mlflow.db' },
  tensorboard: { 'board/events.out.tfevents.1609169139.e8fc262d1b07.21087.0': 'tensorboard/AtomScott__FractalDB/lightning_logs/version_0/events.out.tfevents.1609169139.e8fc262d1b07.21087.0' },
  lightning: {
    'lightning_logs/version_1/metrics.csv': 'lightning/Driemann__ml-aos/lightning_logs/version_1/metrics.csv',
    'lightning_logs/version_1/hparams.yaml': 'lightning/Driemann__ml-aos/lightning_logs/version_1/hparams.yaml',
  },
  dvclive: {
    'dvclive.json': 'dvclive/alex000kim__iterative-hackathon/dvclive.json',
    'dvclive/scalars/train/loss.tsv': 'dvclive/alex000kim__iterative-hackathon/dvclive/scalars/train/loss.tsv',
    'params.yaml': 'dvclive/alex000kim__iterative-hackathon/params.yaml',
  },
  keras: { 'training.log': 'keras/AmineEchraibi__BrainCNN/training.log' },
  huggingface: { 'out/trainer_state.json': 'hf/Dheena731__tinyLlama-finetune/trainer_state.json' },
};

/** Ways a log goes bad: cut short, bits flipped, a huge length, bytes spliced in, nesting a parser recurses on. */
function mutateBytes(bytes: Buffer, random: () => number): Buffer {
  const r = random();
  const at = Math.floor(random() * bytes.length);
  const out = Buffer.from(bytes);
  if (r < 0.2) return out.subarray(0, at);
  if (r < 0.45) {
    for (let i = 1 + Math.floor(random() * 8); i > 0; i--) out[Math.floor(random() * out.length)]! ^= 1 << Math.floor(random() * 8);
    return out;
  }
  if (r < 0.55) {
    // A length field of 2^31 or more, where a framing or a varint is read.
    if (out.length >= 4) out.writeUInt32LE(0xfffffff0, Math.min(at, out.length - 4) & ~3);
    return out;
  }
  if (r < 0.7) return Buffer.concat([out.subarray(0, at), Buffer.from(['\u0000', '\n', ',', '\t', '"', 'nan', '-inf', '1e400', ': [', '!!python/object:x', '&a *a', '\ud800'][Math.floor(random() * 12)]!), out.subarray(at)]);
  if (r < 0.8) return Buffer.concat([out.subarray(0, at), Buffer.from('['.repeat(5000) + '{a: '.repeat(2000)), out.subarray(at)]);
  if (r < 0.9) return Buffer.concat([out.subarray(0, at), out.subarray(Math.floor(random() * out.length))]);
  return out;
}

/**
 * Every importer on inputs made from its real files, then mutated. An
 * import must never throw (a bad file is a reported problem) and must answer
 * within a second. Run in-process, with --dry-run's reading, as the CLI and
 * the extension host run it.
 */
/** `kinds` narrows the fuzz to some importers, to re-check one after a change without the hour the full run takes. */
export async function importFuzzCase(sizes: Sizes, seed = 11, kinds?: SourceKind[]): Promise<ImportFuzzCounts> {
  const random = rng(seed);
  const counts: ImportFuzzCounts = { inputs: 0, perKind: {}, crashes: 0, overOneSecond: 0, slowestMs: 0, examples: [] };
  const root = tempDir('runlens-import-fuzz-');
  const store = path.join(root, 'store');
  for (const [kind, files] of Object.entries(SEEDS) as [SourceKind, Record<string, string>][]) {
    if (kinds && !kinds.includes(kind)) continue;
    const seeds: Record<string, Buffer> = Object.fromEntries(Object.entries(files).map(([rel, fixture]) => [rel, fs.readFileSync(path.join(LOGS, fixture)) as Buffer]));
    for (let i = 0; i < sizes.importInputs; i++) {
      const dir = path.join(root, `${kind}-${i}`);
      const names = Object.keys(seeds);
      const victim = names[Math.floor(random() * names.length)]!;
      for (const [rel, bytes] of Object.entries(seeds)) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        let content: Buffer = bytes;
        if (rel === victim) for (let m = 1 + Math.floor(random() * 2); m > 0; m--) content = mutateBytes(content, random);
        fs.writeFileSync(path.join(dir, rel), content);
      }
      const started = performance.now();
      try {
        await importRuns(store, [dir], { dryRun: random() < 0.5, kind: random() < 0.3 ? kind : undefined });
      } catch (err) {
        counts.crashes++;
        if (counts.examples.length < 5) counts.examples.push(`${kind} ${victim}: ${(err as Error).stack?.split('\n').slice(0, 3).join(' ') ?? String(err)}`);
      }
      const ms = performance.now() - started;
      counts.slowestMs = Math.max(counts.slowestMs, ms);
      if (ms > 1000) counts.overOneSecond++;
      counts.inputs++;
      counts.perKind[kind] = (counts.perKind[kind] ?? 0) + 1;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
  return counts;
}

export interface SecretCounts {
  planted: number;
  leaked: number;
  leaks: string[];
}

/** Everything RunLens wrote for a repository: its store, the index included, and its refs' commits and trees. */
export function everythingWritten(repo: string): string {
  const parts: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(abs);
      else parts.push(fs.readFileSync(abs).toString('latin1'));
    }
  };
  walk(path.join(repo, '.runlens'));
  for (const ref of git(repo, 'for-each-ref', '--format=%(refname)', 'refs/runlens/').split('\n').filter(Boolean)) {
    parts.push(git(repo, 'cat-file', '-p', ref));
    for (const line of git(repo, 'ls-tree', '-r', ref).split('\n').filter(Boolean)) parts.push(line, git(repo, 'cat-file', '-p', line.split(/\s+/)[2]!));
  }
  return parts.join('\n');
}

/** Secrets planted everywhere a run takes input from; none may be found in anything RunLens wrote. */
export function secretsCase(): SecretCounts {
  const token = (prefix: string, n: number, ch: string) => prefix + ch.repeat(n);
  // The script reads its key from an ignored file, as scripts do: the value is only ever in the run's params.
  const repo = makeRepo({
    'train.py': [
      'import runlens, sys',
      'key = open("wandb-key.txt").read().strip()',
      'runlens.params({"optimizer": "adam", "wandb": {"api_key": key}})',
      'token = open("gh-token.txt").read().strip()',
      'print("logged in with", token)',
      'sys.stderr.write("retrying with password=%s\\n" % key)',
      'print("ok")',
      '',
    ].join('\n'),
    '.gitignore': 'wandb-key.txt\ngh-token.txt\n',
  });
  write(repo, 'wandb-key.txt', 'pyParamPlanted55\n');
  write(repo, 'gh-token.txt', `${token('ghp_', 36, 'P')}\n`);
  const planted: Record<string, string> = {
    'argv --password': 'hunter2planted',
    'argv --api-key=': 'cliKEY14planted',
    'argv --token': 'tokPlanted000111',
    'argv bare github token': token('ghp_', 36, 'G'),
    'param password=': 'paramPlanted99',
    'param aws key shape': token('AKIA', 16, 'Q'),
    'env GH_PAT': token('ghp_', 36, 'H'),
    'env AZURE connection string': 'azPlantedKey0123456789==',
    'env DATABASE_URL password': 'urlPlantedPw',
    'env value password=': 'valPlanted42',
    'env HF_TOKEN': token('hf_', 34, 'F'),
    'env OPENAI_API_KEY': token('sk-', 40, 'O'),
    'config db_password': 'cfgPlanted77',
    'config api.token': 'cfgTok55planted',
    'untracked .env': 'dotEnvPlanted31',
    'untracked id_rsa': 'rsaPlantedBody',
    'untracked token file': token('glpat-', 20, 'L'),
    'runlens.params() from Python, and password= printed on stderr': 'pyParamPlanted55',
    'a token printed on stdout': token('ghp_', 36, 'P'),
  };
  write(repo, 'secret-conf.yaml', `db_password: ${planted['config db_password']}\napi:\n  token: ${planted['config api.token']}\nlr: 0.1\n`);
  write(repo, '.env', `SECRET=${planted['untracked .env']}\n`);
  write(repo, 'keys/id_rsa', `-----BEGIN OPENSSH PRIVATE KEY-----\n${planted['untracked id_rsa']}\n-----END OPENSSH PRIVATE KEY-----\n`);
  write(repo, 'deploy-notes.txt', `use ${planted['untracked token file']}\n`);
  git(repo, 'add', 'secret-conf.yaml');
  git(repo, 'commit', '-q', '-m', 'config');
  const r = runCli(
    ['run', '--config', 'secret-conf.yaml', '--param', `password=${planted['param password=']}`, '--param', `key_id=${planted['param aws key shape']}`, '--',
      PYTHON, 'train.py', '--password', planted['argv --password']!, `--api-key=${planted['argv --api-key=']}`, '--token', planted['argv --token']!, planted['argv bare github token']!],
    repo,
    {
      GH_PAT: planted['env GH_PAT'],
      AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=https;AccountName=a;AccountKey=${planted['env AZURE connection string']};EndpointSuffix=core.windows.net`,
      DATABASE_URL: `postgres://ml:${planted['env DATABASE_URL password']}@db.example.invalid/x`,
      TRAIN_OPTS: `fast=1 password=${planted['env value password=']}`,
      HF_TOKEN: planted['env HF_TOKEN'],
      OPENAI_API_KEY: planted['env OPENAI_API_KEY'],
    },
  );
  runCli(['ls'], repo);
  const written = everythingWritten(repo)
    // The committed config is the user's own file, in the snapshot tree as in HEAD: not RunLens's write.
    .split(fs.readFileSync(path.join(repo, 'secret-conf.yaml'), 'latin1'))
    .join('');
  const leaks = Object.entries(planted).filter(([, value]) => written.includes(value)).map(([where]) => where);
  if (r.code !== 0) leaks.push(`the run failed: ${r.stderr.split('\n')[0]}`);
  return { planted: Object.keys(planted).length, leaked: leaks.length, leaks };
}

export function machine(): string {
  return `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}
