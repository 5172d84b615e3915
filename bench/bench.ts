/**
 * `npm run bench`: every figure beside its floor, measured in the same run on
 * this machine. Budgets live here, never in timed tests.
 */
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { HashCache, hashPath } from '../src/core/dataHash';
import { captureSnapshot } from '../src/core/git/snapshot';
import { buildReport } from '../src/core/reproduce/report';
import { RunIndex } from '../src/core/index/runIndex';
import { parseQuery, parseSort } from '../src/core/query/parse';
import { RunRecorder } from '../src/core/record/recorder';
import { newRunId } from '../src/core/runId';
import { parseRunRecord } from '../src/core/store';
import { readSeries } from '../src/core/series/series';
import { benchCode } from './codeBench';
import { benchImport } from './importBench';
import { benchShare } from './shareBench';
import type { BenchRow } from './row';
import { makeRecord, rng, writeRecord } from '../test/helpers/runFactory';

type Row = BenchRow;

const rows: Row[] = [];
const ENV = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' };
Object.assign(process.env, { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' });
const PROJECT = path.resolve(__dirname, '..', '..');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = ENV): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
}

function log(text: string): void {
  process.stderr.write(`[bench] ${text}\n`);
}

/** A repository of `tracked` files, then `modified` of them changed and `untracked` new ones. */
function makeBigRepo(tracked: number, modified: number, untracked: number): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-repo-')));
  git(dir, ['init', '-q', '-b', 'main']);
  for (let i = 0; i < tracked; i++) {
    const sub = path.join(dir, 'src', `pkg${i % 100}`, `mod${Math.floor(i / 100) % 20}`);
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `file${i}.py`), `# module ${i}\nVALUE = ${i}\n${'x = 1\n'.repeat(20)}`);
  }
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'initial']);
  for (let i = 0; i < modified; i++) {
    const k = i * Math.floor(tracked / modified);
    const file = path.join(dir, 'src', `pkg${k % 100}`, `mod${Math.floor(k / 100) % 20}`, `file${k}.py`);
    fs.appendFileSync(file, `# edited ${i}\n`);
  }
  for (let i = 0; i < untracked; i++) fs.writeFileSync(path.join(dir, `scratch${i}.py`), `print(${i})\n`);
  return dir;
}

/**
 * The same git plumbing captureSnapshot runs, as raw git commands: those that
 * do not wait on each other run side by side, as capture runs them, so that
 * the floor is not inflated by serial starts.
 */
async function rawCapture(repo: string, id: string): Promise<void> {
  const gitAsync = (args: string[], env: NodeJS.ProcessEnv = ENV) =>
    new Promise<string>((resolve, reject) => execFile('git', args, { cwd: repo, env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 }, (err, out) => (err && (err as { code?: unknown }).code !== 1 ? reject(err) : resolve(out))));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-index-'));
  const index = path.join(tmp, 'index');
  const [, headOut, , , untracked] = await Promise.all([
    gitAsync(['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-path', 'index', '--git-path', 'info/exclude']),
    gitAsync(['rev-parse', '-q', '--verify', 'HEAD^{commit}']),
    gitAsync(['symbolic-ref', '-q', '--short', 'HEAD']),
    gitAsync(['config', '--get-regexp', '^remote\\..*\\.url$']),
    gitAsync(['ls-files', '--others', '--exclude-standard', '-z']),
    fs.promises.copyFile(path.join(repo, '.git', 'index'), index),
  ]);
  const head = headOut.trim();
  const env = { ...ENV, GIT_INDEX_FILE: index, GIT_LITERAL_PATHSPECS: '1' };
  await gitAsync(['add', '-u'], env);
  fs.writeFileSync(path.join(tmp, 'list'), untracked);
  await gitAsync(['add', `--pathspec-from-file=${path.join(tmp, 'list')}`, '--pathspec-file-nul'], env);
  const tree = (await gitAsync(['write-tree'], env)).trim();
  const [, shaOut] = await Promise.all([gitAsync(['diff-tree', '-r', '-z', '-M', '--name-status', head, tree], env), gitAsync(['commit-tree', tree, '-p', head, '-m', 'raw'], env)]);
  await gitAsync(['update-ref', `refs/runlens/bench-raw/${id}`, shaOut.trim()]);
  fs.rmSync(tmp, { recursive: true, force: true });
}

async function benchCapture(): Promise<void> {
  log('making a repository of 20,000 tracked files (200 modified, 50 untracked)…');
  const repo = makeBigRepo(20_000, 200, 50);
  const ours: number[] = [];
  const floor: number[] = [];
  await rawCapture(repo, 'warmup');
  await captureSnapshot({ cwd: repo, runId: newRunId(), storeDir: path.join(repo, '.runlens') });
  for (let i = 0; i < 5; i++) {
    // Alternating which goes first, so that neither always finds the other's warm caches.
    const floorRun = async () => {
      const t = performance.now();
      await rawCapture(repo, String(i));
      floor.push(performance.now() - t);
    };
    const ourRun = async () => {
      const t = performance.now();
      const info = await captureSnapshot({ cwd: repo, runId: newRunId(), storeDir: path.join(repo, '.runlens') });
      ours.push(performance.now() - t);
      if (info.changes.length !== 250) throw new Error(`expected 250 changed files, got ${info.changes.length}`);
    };
    if (i % 2 === 0) {
      await floorRun();
      await ourRun();
    } else {
      await ourRun();
      await floorRun();
    }
  }
  const m = median(ours);
  const f = median(floor);
  rows.push({ figure: 'snapshot capture, 20k tracked / 200 modified / 50 untracked (median of 5)', measured: `${m.toFixed(0)} ms`, floor: `${f.toFixed(0)} ms raw git plumbing, side by side where capture is`, ratio: `${(m / f).toFixed(2)}×`, target: '≤ 1.5× floor', ok: m <= 1.5 * f });
  fs.rmSync(repo, { recursive: true, force: true });
}

/** Milliseconds from starting `command` to its first line on stdout: when training would begin. */
function timeToFirstLine(command: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command[0]!, command.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let firstLine: number | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      if (firstLine === null && chunk.includes(10)) firstLine = performance.now() - start;
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => (code === 0 && firstLine !== null ? resolve(firstLine) : reject(new Error(`${command.join(' ')} exited ${code}: ${stderr}`))));
  });
}

/**
 * What runlens.init() adds before the first line of training, against what
 * `runlens run` adds before the same line: each less a bare python3 start, in
 * repositories of 20,000 and of 1,000 files (the medians of five).
 */
async function benchInitStart(): Promise<void> {
  const cli = path.join(PROJECT, 'dist', 'cli.js');
  const env = { ...ENV, PYTHONPATH: path.join(PROJECT, 'python'), RUNLENS_CLI: cli, RUNLENS_NODE: process.execPath, PYTHONUNBUFFERED: '1' };
  for (const [tracked, modified, untracked] of [[20_000, 200, 50], [1_000, 10, 5]] as const) {
    log(`init() start in a repository of ${tracked.toLocaleString('en')} files…`);
    const repo = makeBigRepo(tracked, modified, untracked);
    fs.writeFileSync(path.join(repo, 'bare.py'), 'print("training")\n');
    fs.writeFileSync(path.join(repo, 'init.py'), 'import runlens\nrunlens.init()\nprint("training")\n');
    const times = { bare: [] as number[], run: [] as number[], init: [] as number[] };
    await timeToFirstLine(['python3', 'init.py'], repo, env); // warms git's and the page cache
    for (let i = 0; i < 5; i++) {
      times.bare.push(await timeToFirstLine(['python3', 'bare.py'], repo, env));
      times.run.push(await timeToFirstLine([process.execPath, cli, 'run', '--quiet', '--', 'python3', 'bare.py'], repo, env));
      times.init.push(await timeToFirstLine(['python3', 'init.py'], repo, env));
    }
    const bare = median(times.bare);
    const initAdds = median(times.init) - bare;
    const runAdds = median(times.run) - bare;
    const big = tracked === 20_000;
    rows.push({
      figure: `time init() adds before training starts, ${tracked.toLocaleString('en')} files (${modified} modified, ${untracked} untracked; median of 5)`,
      measured: `${initAdds.toFixed(0)} ms`,
      floor: `${runAdds.toFixed(0)} ms runlens run's own start (python3 alone ${bare.toFixed(0)} ms)`,
      ratio: `${(initAdds / runAdds).toFixed(2)}×`,
      target: big ? '≤ 1.2× runlens run' : '≤ 1.2× runlens run, < 300 ms',
      ok: initAdds <= 1.2 * runAdds && (big || initAdds < 300),
    });
    fs.rmSync(repo, { recursive: true, force: true });
  }
}

const nullSink = () => new Writable({ write: (_chunk, _enc, done) => done() });

async function recordOnce(command: string[], cwd: string): Promise<number> {
  const t = performance.now();
  const recorder = new RunRecorder({ command, cwd, stdin: 'ignore', stdout: nullSink(), stderr: nullSink(), pythonHelperDir: path.join(PROJECT, 'python') });
  const { exitCode } = await recorder.run();
  if (exitCode !== 0) throw new Error(`${command.join(' ')} exited ${exitCode}`);
  return performance.now() - t;
}

async function benchStdoutMetrics(): Promise<void> {
  const n = 1_000_000;
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-stdout-')));
  git(dir, ['init', '-q', '-b', 'main']);
  fs.writeFileSync(path.join(dir, 'README'), 'bench\n');
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'x']);
  const lines = path.join(os.tmpdir(), `runlens-bench-lines-${process.pid}.jsonl`);
  let text = '';
  for (let i = 0; i < n; i++) text += `{"step":${i},"loss":${(1 / (i + 1)).toPrecision(8)},"acc":${(i / n).toPrecision(6)}}\n`;
  fs.writeFileSync(lines, text);
  log(`recording ${n.toLocaleString('en')} stdout metric lines…`);
  const empty = median([await recordOnce(['true'], dir), await recordOnce(['true'], dir), await recordOnce(['true'], dir)]);
  const full = await recordOnce(['cat', lines], dir);
  const t = performance.now();
  execFileSync('sh', ['-c', `cat "${lines}" > "${lines}.copy"`]);
  const floorMs = performance.now() - t;
  const rate = n / ((full - empty) / 1000);
  const floorRate = n / (floorMs / 1000);
  rows.push({ figure: `stdout metric lines through the recorder (${n / 1e6}M lines, run overhead ${empty.toFixed(0)} ms excluded)`, measured: `${fmtRate(rate)} lines/s`, floor: `${fmtRate(floorRate)} lines/s cat > file`, ratio: `${(floorRate / rate).toFixed(1)}× slower`, target: '≥ 200k lines/s', ok: rate >= 200_000 });
  fs.rmSync(lines, { force: true });
  fs.rmSync(`${lines}.copy`, { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
}

function benchPythonHelper(): void {
  const n = 1_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-py-'));
  const helperScript = `import time, runlens\nt=time.perf_counter()\nfor i in range(${n}):\n    runlens.log({"loss": 1.0/(i+1), "acc": i/${n}}, step=i)\nrunlens.flush()\nprint(time.perf_counter()-t)\n`;
  const floorScript = `import json, time\nt=time.perf_counter()\nwith open(${JSON.stringify(path.join(dir, 'floor.jsonl'))}, "w") as f:\n    for i in range(${n}):\n        f.write(json.dumps({"step": i, "t": time.time(), "loss": 1.0/(i+1), "acc": i/${n}}) + "\\n")\nprint(time.perf_counter()-t)\n`;
  const run = (script: string) => {
    const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(PROJECT, 'python'), RUNLENS_METRICS_FILE: path.join(dir, 'metrics.jsonl'), RUNLENS_RUN_DIR: dir } });
    if (r.status !== 0) throw new Error(r.stderr);
    return Number(r.stdout.trim());
  };
  log(`logging ${n.toLocaleString('en')} steps through the runlens package…`);
  const ours = run(helperScript);
  const floor = run(floorScript);
  const written = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').length - 1;
  if (written !== n) throw new Error(`runlens.log() wrote ${written} lines, expected ${n}`);
  const rate = n / ours;
  const floorRate = n / floor;
  rows.push({ figure: `runlens.log() calls (${n / 1e6}M steps, 2 metrics each)`, measured: `${fmtRate(rate)} lines/s`, floor: `${fmtRate(floorRate)} lines/s json.dumps + write`, ratio: `${(floorRate / rate).toFixed(2)}× floor time`, target: '≥ 200k lines/s', ok: rate >= 200_000 });
  fs.rmSync(dir, { recursive: true, force: true });
}

function fmtRate(rate: number): string {
  return rate >= 1e6 ? `${(rate / 1e6).toFixed(2)}M` : `${(rate / 1e3).toFixed(0)}k`;
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Mixed queries of the shapes people type, with changing constants. */
function mixedQueries(count: number): { where: string; sort: string }[] {
  const random = rng(77);
  const shapes = [
    () => `metrics.acc > ${(random() * 0.9).toFixed(2)}`,
    () => `metrics.acc > ${(random() * 0.9).toFixed(2)} and params.lr < 0.01 and branch = "main"`,
    () => `status = finished and metrics.loss < ${(random()).toFixed(2)}`,
    () => `name ~ "${['resnet', 'vit', 'bert'][Math.floor(random() * 3)]}" and tag = sweep`,
    () => `params.optimizer = adam and params.batch >= ${[16, 32, 64][Math.floor(random() * 3)]}`,
    () => `params.extra.p${Math.floor(random() * 25)} > ${Math.floor(random() * 100)}`,
    () => `started >= "2026-10-${String(1 + Math.floor(random() * 28)).padStart(2, '0')}" and not status = failed`,
    () => `(status = failed or status = killed) and metrics.m${Math.floor(random() * 7)} < 0.5`,
    () => `dirty = true and commit ~ "^a"`,
  ];
  const sorts = ['-started', '-metrics.acc', 'metrics.loss', 'name', '-params.lr'];
  return Array.from({ length: count }, () => ({ where: shapes[Math.floor(random() * shapes.length)]!(), sort: sorts[Math.floor(random() * sorts.length)]! }));
}

async function benchIndex(): Promise<void> {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-index-'));
  const random = rng(1);
  const n = 10_000;
  log(`writing ${n.toLocaleString('en')} run folders (30 params, 10 metrics summarised over 1,000 steps each)…`);
  const past = new Date(Date.now() - 86400_000);
  for (let i = 0; i < n; i++) {
    const record = makeRecord(random, { params: 25, metrics: 7 });
    record.status = record.status === 'running' ? 'finished' : record.status;
    record.metricsSummary ??= { lines: 1000, lastStep: 999, metrics: {}, malformed: 0, malformedSamples: [] };
    for (const m of Object.values(record.metricsSummary.metrics)) m.count = 1000;
    const dir = writeRecord(store, record);
    // Written a day ago, as a store of 10k runs was: a run.json written within the index's racy window is read again on purpose.
    fs.utimesSync(path.join(dir, 'run.json'), past, past);
    fs.utimesSync(dir, past, past);
  }
  const runsRoot = path.join(store, 'runs');

  // Each floor runs before and after what it is the floor of, and the faster is kept.
  const parseFloorOnce = () => {
    const t = performance.now();
    let parsed = 0;
    for (const id of fs.readdirSync(runsRoot)) parsed += parseRunRecord(fs.readFileSync(path.join(runsRoot, id, 'run.json'), 'utf8'), id) ? 1 : 0;
    if (parsed !== n) throw new Error(`the floor parsed ${parsed} records`);
    return performance.now() - t;
  };
  const parseBefore = parseFloorOnce();
  let t = performance.now();
  const cold = await RunIndex.open(store);
  cold.refresh();
  cold.save();
  cold.close();
  const coldMs = performance.now() - t;
  const parseFloor = Math.min(parseBefore, parseFloorOnce());
  const sizeMb = fs.statSync(path.join(store, 'index.sqlite')).size / 1024 ** 2;

  const statFloorOnce = () => {
    const t = performance.now();
    for (const id of fs.readdirSync(runsRoot)) fs.statSync(path.join(runsRoot, id));
    fs.readFileSync(path.join(store, 'index.sqlite'));
    return performance.now() - t;
  };
  const statBefore = statFloorOnce();
  const warmTimes: number[] = [];
  let index!: RunIndex;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    index = await RunIndex.open(store);
    const report = index.refresh();
    warmTimes.push(performance.now() - t);
    if (report.added + report.updated + report.removed !== 0 || index.opened.rebuilt) throw new Error(`warm open re-read runs: ${JSON.stringify({ ...report, unreadable: report.unreadable.length, rebuilt: index.opened.rebuilt, coldMs })}`);
    if (i < 2) index.close();
  }
  const warmMs = median(warmTimes);
  const statFloor = Math.min(statBefore, statFloorOnce());

  // One run live among the 10k: what the editor does each second to follow it, the live tick against the full refresh and query it replaced.
  const liveRecord = makeRecord(random, { params: 25, metrics: 7 });
  liveRecord.status = 'running';
  liveRecord.metricsSummary = null;
  const liveDir = writeRecord(store, liveRecord);
  const liveMetrics = path.join(liveDir, 'metrics.jsonl');
  fs.writeFileSync(liveMetrics, '');
  // Started a while ago: within the racy window (2 s) every tick would read the new folder's run.json and the folder list again.
  for (const p of [path.join(liveDir, 'run.json'), liveDir, runsRoot]) fs.utimesSync(p, past, past);
  index.refresh();
  const tickTimes: number[] = [];
  const fullTimes: number[] = [];
  const tickFloorTimes: number[] = [];
  for (let i = 0; i < 21; i++) {
    fs.appendFileSync(liveMetrics, `{"step":${i},"loss":${1 / (i + 1)}}\n`);
    t = performance.now();
    const tick = index.refreshLive();
    const [fresh] = index.runsByIds(tick.live);
    tickTimes.push(performance.now() - t);
    if (tick.live.length !== 1 || fresh?.metrics.find((m) => m.key === 'loss')?.count !== i + 1) throw new Error(`the live tick saw ${JSON.stringify(fresh?.metrics)}`);
    t = performance.now();
    index.refresh();
    index.query(null, []);
    fullTimes.push(performance.now() - t);
    t = performance.now();
    fs.statSync(path.join(liveDir, 'run.json'));
    fs.statSync(liveMetrics);
    fs.statSync(runsRoot);
    tickFloorTimes.push(performance.now() - t);
  }
  const tickMs = median(tickTimes);
  const fullMs = median(fullTimes);

  const queries = mixedQueries(100).map((q) => ({ ...q, ast: parseQuery(q.where), keys: parseSort(q.sort) }));
  const times: number[] = [];
  let matched = 0;
  for (const q of queries) {
    t = performance.now();
    const result = index.query(q.ast, q.keys, 100);
    times.push(performance.now() - t);
    matched += result.length;
  }
  index.close();
  // The peak of a process that holds the index alone: this one also wrote the runs and ran the floors.
  const memory = spawnSync(process.execPath, [__filename, '--index-memory', store], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const peak = Number(memory.stdout.trim());
  if (memory.status !== 0 || !Number.isFinite(peak)) throw new Error(`the index memory probe failed: ${memory.stdout}`);
  rows.push({ figure: `index cold build, ${n / 1000}k runs (index ${sizeMb.toFixed(0)} MB)`, measured: `${(coldMs / 1000).toFixed(1)} s`, floor: `${(parseFloor / 1000).toFixed(1)} s read+parse run.json`, ratio: `${(coldMs / parseFloor).toFixed(1)}×`, target: '≤ 4× floor', ok: coldMs <= 4 * parseFloor });
  rows.push({ figure: `index warm open + refresh, nothing changed (median of 3)`, measured: `${warmMs.toFixed(0)} ms`, floor: `${statFloor.toFixed(0)} ms stat folders+read file`, ratio: `${(warmMs / statFloor).toFixed(1)}×`, target: '≤ 2× floor', ok: warmMs <= 2 * statFloor });
  rows.push({ figure: `live tick, ${n / 1000}k runs, one running: its files read and its row fetched (median of 21)`, measured: `${tickMs.toFixed(2)} ms`, floor: `${median(tickFloorTimes).toFixed(2)} ms 3 stats (its run.json, its metrics, the runs folder); the full refresh + query it replaced: ${fullMs.toFixed(0)} ms`, ratio: '-', target: '≤ 20 ms (the host\'s budget per second)', ok: tickMs <= 20 });
  rows.push({ figure: `query p50 / p95, 100 mixed queries with sort, limit 100 (${(matched / 100).toFixed(0)} rows avg)`, measured: `${pct(times, 50).toFixed(1)} / ${pct(times, 95).toFixed(1)} ms`, floor: 'none: a JS filter over parsed records does other work (no index, no sort by SQL) and is no lower bound', ratio: '-', target: 'p95 ≤ 30 ms', ok: pct(times, 95) <= 30 });
  rows.push({ figure: `peak memory of a process holding the index alone (cold build, open, 100 queries)`, measured: `${peak.toFixed(0)} MB`, floor: 'none: sql.js holds the whole database in memory', ratio: '-', target: '≤ 400 MB', ok: peak <= 400 });
  fs.rmSync(store, { recursive: true, force: true });
}

/**
 * Plain ways to read every line of the metric files and JSON.parse it. The
 * floor is the fastest of them in the same run: a whole-file read and split,
 * and a chunked read into one reused buffer (as the scanner reads) with each
 * line sliced as latin1 (the files are ASCII), which allocates no big string.
 */
const FLOOR_READERS: Record<string, (file: string) => number> = {
  'readFileSync + split': (file) => {
    let lines = 0;
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      if (line) {
        JSON.parse(line);
        lines++;
      }
    }
    return lines;
  },
  'chunked reads, latin1 lines': (file) => {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.allocUnsafe(8 << 20);
    let lines = 0;
    let kept = 0;
    try {
      for (;;) {
        const n = fs.readSync(fd, buf, kept, buf.length - kept, null);
        const end = kept + n;
        let start = 0;
        for (let nl = buf.indexOf(10, start); nl >= 0 && nl < end; nl = buf.indexOf(10, start)) {
          if (nl > start) {
            JSON.parse(buf.toString('latin1', start, nl));
            lines++;
          }
          start = nl + 1;
        }
        if (n === 0) break;
        kept = end - start;
        buf.copy(buf, 0, start, end);
      }
    } finally {
      fs.closeSync(fd);
    }
    return lines;
  },
};

/** A metrics file of `count` lines, written in 4 MB pieces: the bench's big series are never held whole. */
function writeMetricLines(file: string, count: number, line: (i: number) => string): void {
  const fd = fs.openSync(file, 'w');
  let text = '';
  for (let i = 0; i < count; i++) {
    text += line(i);
    if (text.length > 1 << 22) {
      fs.writeSync(fd, text);
      text = '';
    }
  }
  fs.writeSync(fd, text);
  fs.closeSync(fd);
}

function readParseFloor(files: string[], expectLines: number): [number, string] {
  let best: [number, string] = [Infinity, ''];
  for (const [name, reader] of Object.entries(FLOOR_READERS)) {
    const t = performance.now();
    let lines = 0;
    for (const file of files) lines += reader(file);
    const ms = performance.now() - t;
    if (lines !== expectLines) throw new Error(`floor "${name}" read ${lines} lines, expected ${expectLines}`);
    if (ms < best[0]) best = [ms, name];
  }
  return best;
}

async function benchSeries(): Promise<void> {
  const runs = 20;
  const points = 1_000_000;
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-series-'));
  const random = rng(5);
  const ids: string[] = [];
  log(`writing ${runs} runs × ${points.toLocaleString('en')} points of one metric…`);
  for (let r = 0; r < runs; r++) {
    const record = makeRecord(random);
    const dir = writeRecord(store, record);
    ids.push(record.id);
    writeMetricLines(path.join(dir, 'metrics.jsonl'), points, (i) => {
      const spike = i % 99_991 === 0 ? 1000 : 0;
      return `{"step":${i},"t":${(1.7e9 + i * 0.05).toFixed(2)},"loss":${(1 / (1 + i / 1000) + ((i * 7919) % 1000) / 1e5 + spike).toPrecision(10)}}\n`;
    });
  }
  const files = ids.map((id) => path.join(store, 'runs', id, 'metrics.jsonl'));
  // The floor runs before and after the cold read and the faster is kept: neither finds all the caches warm for it alone.
  const [floorBefore, floorName] = readParseFloor(files, runs * points);
  let t = performance.now();
  const cold = readSeries(store, ids, { metric: 'loss', x: 'step', buckets: 1000 });
  const coldMs = performance.now() - t;
  const spikes = cold.every((s) => s.kind === 'buckets' && s.buckets.filter((b) => b.max > 999).length === 11);
  if (!spikes) throw new Error('a spike was lost in bucketing');
  const [floorAfter] = readParseFloor(files, runs * points);
  const floor = Math.min(floorBefore, floorAfter);

  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    readSeries(store, ids, { metric: 'loss', x: 'step', buckets: 1000 });
    warm.push(performance.now() - t);
  }
  const warmMs = median(warm);
  t = performance.now();
  readSeries(store, ids, { metric: 'loss', x: 'step', buckets: 1000, range: [400_000, 410_000] });
  const zoomMs = performance.now() - t;
  // The peak of a process that only reads the series (cold, then warm): this one also wrote the files and ran the floors.
  const memory = spawnSync(process.execPath, [__filename, '--series-memory', store, ...ids], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const peak = Number(memory.stdout.trim());
  if (memory.status !== 0 || !Number.isFinite(peak)) throw new Error(`the series memory probe failed: ${memory.stdout}`);
  rows.push({ figure: `series cold: ${runs} runs × 1M points → 1,000 buckets each`, measured: `${(coldMs / 1000).toFixed(1)} s`, floor: `${(floor / 1000).toFixed(1)} s read + JSON.parse every line (${floorName}, the fastest of ${Object.keys(FLOOR_READERS).length})`, ratio: `${(coldMs / floor).toFixed(2)}×`, target: '≤ floor', ok: coldMs <= floor });
  rows.push({ figure: `series warm from the cache, same request (median of 5)`, measured: `${warmMs.toFixed(0)} ms`, floor: 'none: no plain way reads 20M points in less than the cold floor', ratio: '-', target: '≤ 100 ms for all 20', ok: warmMs <= 100 });
  rows.push({ figure: `series zoom to 10k steps of each run, from the cache`, measured: `${zoomMs.toFixed(0)} ms`, floor: 'none: the cache is the fastest reader there is', ratio: '-', target: '≤ warm request', ok: zoomMs <= Math.max(warmMs, 100) });
  rows.push({ figure: `peak memory of a process reading the series alone (cold, its cache built, then warm)`, measured: `${peak.toFixed(0)} MB`, floor: 'none: the floor holds one chunk at a time', ratio: '-', target: '≤ 300 MB', ok: peak <= 300 });
  fs.rmSync(store, { recursive: true, force: true });
}

function printTable(): void {
  const header = ['figure', 'measured', 'floor (same run)', 'vs floor', 'target', 'ok'];
  const cells = rows.map((r) => [r.figure, r.measured, r.floor, r.ratio, r.target, r.ok ? 'yes' : 'NO']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
  console.log(`\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}, ${execFileSync('git', ['--version'], { encoding: 'utf8' }).trim()}`);
}

/**
 * A reproduction checks the original's data through a link in its temporary worktree. With the
 * hashes the recording left, that check is a walk and a stat per file: the floor is that walk.
 */
function benchDataCheck(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-hash-'));
  try {
    const data = path.join(dir, 'workspace', 'data');
    const files = 2000;
    const chunk = Buffer.alloc(100 * 1024, 7);
    for (let i = 0; i < files; i++) {
      const sub = path.join(data, `shard-${String(i % 20).padStart(2, '0')}`);
      fs.mkdirSync(sub, { recursive: true });
      chunk.writeUInt32LE(i, 0);
      fs.writeFileSync(path.join(sub, `part-${i}.bin`), chunk);
    }
    const cacheFile = path.join(dir, 'hashes.json');
    let start = performance.now();
    const recording = new HashCache(cacheFile);
    const recorded = hashPath('data', path.join(dir, 'workspace'), recording);
    const fullHash = performance.now() - start;
    recording.save();
    const checks: number[] = [];
    const floors: number[] = [];
    for (let round = 0; round < 3; round++) {
      const worktree = path.join(dir, `worktree-${round}`);
      fs.mkdirSync(worktree);
      fs.symlinkSync(data, path.join(worktree, 'data'));
      // Each round the floor, then the check: three rounds, so each finds the page cache as warm as the other.
      start = performance.now();
      let statted = 0;
      const walk = (folder: string) => {
        for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
          const full = path.join(folder, entry.name);
          const stat = fs.statSync(full);
          if (stat.isDirectory()) walk(full);
          else statted++;
        }
      };
      walk(path.join(worktree, 'data'));
      floors.push(performance.now() - start);
      if (statted !== files) throw new Error(`the floor saw ${statted} of ${files} files`);
      start = performance.now();
      const checked = hashPath('data', worktree, new HashCache(cacheFile));
      checks.push(performance.now() - start);
      if (checked.sha256 !== recorded.sha256) throw new Error('the data check disagrees with the recording');
    }
    const check = median(checks);
    const floor = Math.min(...floors);
    rows.push({
      figure: `reproduce's data check: ${files.toLocaleString('en')} files (${Math.round((files * chunk.length) / 1e6)} MB) through a link in a new worktree, after the recording hashed them (median of 3; hashing them anew: ${Math.round(fullHash)} ms)`,
      measured: `${check.toFixed(0)} ms`,
      floor: `${floor.toFixed(0)} ms walk + stat of every file`,
      ratio: `${(check / floor).toFixed(1)}×`,
      target: '≤ 2× floor',
      ok: check <= 2 * floor,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A reproduction's report compares every step of both runs. Two runs × 5 metrics × 1M steps: the
 * report, in a process of its own (its peak memory), against read + JSON.parse of both files.
 */
async function benchReport(): Promise<void> {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-report-'));
  try {
    const steps = 1_000_000;
    const random = rng(3);
    const ids: string[] = [];
    log(`writing 2 runs × 5 metrics × ${steps.toLocaleString('en')} steps…`);
    for (let r = 0; r < 2; r++) {
      const record = { ...makeRecord(random), status: 'finished' as const, git: null, data: [], env: null, seed: null };
      const dir = writeRecord(store, record);
      ids.push(record.id);
      writeMetricLines(path.join(dir, 'metrics.jsonl'), steps, (i) => `{"step":${i},"loss":${(1 / (i + 1) + r * 1e-12).toPrecision(12)},"acc":${(i / steps).toPrecision(8)},"val_loss":${(2 / (i + 2)).toPrecision(10)},"lr":0.001,"grad_norm":${(1 + (i % 7) / 10).toFixed(2)}}\n`);
    }
    const files = ids.map((id) => path.join(store, 'runs', id, 'metrics.jsonl'));
    const [floorBefore, floorName] = readParseFloor(files, 2 * steps);
    const probe = spawnSync(process.execPath, [__filename, '--report-memory', store, ...ids], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const [ms, peak] = probe.stdout.trim().split(' ').map(Number);
    if (probe.status !== 0 || !Number.isFinite(ms) || !Number.isFinite(peak)) throw new Error(`the report probe failed: ${probe.stdout}`);
    const [floorAfter] = readParseFloor(files, 2 * steps);
    const floor = Math.min(floorBefore, floorAfter);
    rows.push({ figure: `reproduction report: 2 runs × 5 metrics × 1M steps compared step by step`, measured: `${(ms! / 1000).toFixed(1)} s`, floor: `${(floor / 1000).toFixed(1)} s read + JSON.parse every line (${floorName})`, ratio: `${(ms! / floor).toFixed(2)}×`, target: '≤ 2× floor', ok: ms! <= 2 * floor });
    rows.push({ figure: `peak memory of a process making that report`, measured: `${peak!.toFixed(0)} MB`, floor: 'none: the floor holds one chunk at a time; 10M points take 160 MB as numbers', ratio: '-', target: '≤ 400 MB', ok: peak! <= 400 });
  } finally {
    fs.rmSync(store, { recursive: true, force: true });
  }
}

/** `--report-memory STORE ORIGINAL REPRODUCTION`: the report of two runs in a process of its own; prints its ms and peak RSS in MB. */
async function reportMemoryProbe(store: string, ids: string[]): Promise<void> {
  const [original, reproduction] = ids.map((id) => parseRunRecord(fs.readFileSync(path.join(store, 'runs', id, 'run.json'), 'utf8'), id));
  const start = performance.now();
  const report = await buildReport(store, store, original!, reproduction!);
  const ms = performance.now() - start;
  if (report.metrics.length !== 5 || report.metrics.some((m) => m.stepsCompared !== 1_000_000)) throw new Error('the report did not compare every step');
  console.log(`${ms.toFixed(0)} ${peakRssMb().toFixed(1)}`);
}

const SECTIONS: Record<string, () => Promise<void> | void> = {
  report: benchReport,
  hash: benchDataCheck,
  capture: benchCapture,
  stdout: benchStdoutMetrics,
  python: benchPythonHelper,
  init: benchInitStart,
  index: benchIndex,
  series: benchSeries,
  import: async () => {
    rows.push(...(await benchImport()));
  },
  share: async () => {
    rows.push(...(await benchShare()));
  },
  code: async () => {
    rows.push(...(await benchCode()));
  },
};

/**
 * Each section runs in a process of its own, so that one's memory and warm
 * caches do not colour another's figures: `node bench.js` runs them all,
 * `node bench.js index` one.
 */
/** `--index-memory STORE`: a cold build, an open and the 100 queries, in a process of their own; prints the peak RSS in MB. */
async function indexMemoryProbe(store: string): Promise<void> {
  fs.rmSync(path.join(store, 'index.sqlite'), { force: true });
  const cold = await RunIndex.open(store);
  cold.refresh();
  cold.save();
  cold.close();
  const index = await RunIndex.open(store);
  index.refresh();
  for (const q of mixedQueries(100)) index.query(parseQuery(q.where), parseSort(q.sort), 100);
  index.close();
  console.log(peakRssMb().toFixed(1));
}

/** `--series-memory STORE ID…`: the series read cold (its cache dropped first) and warm, in a process of its own; prints the peak RSS in MB. */
function seriesMemoryProbe(store: string, ids: string[]): void {
  fs.rmSync(path.join(store, 'cache', 'series'), { recursive: true, force: true });
  readSeries(store, ids, { metric: 'loss', x: 'step', buckets: 1000 });
  readSeries(store, ids, { metric: 'loss', x: 'step', buckets: 1000 });
  console.log(peakRssMb().toFixed(1));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--index-memory') return indexMemoryProbe(process.argv[3]!);
  if (process.argv[2] === '--report-memory') return reportMemoryProbe(process.argv[3]!, process.argv.slice(4));
  if (process.argv[2] === '--series-memory') return seriesMemoryProbe(process.argv[3]!, process.argv.slice(4));
  const only = process.argv[2];
  if (only && process.argv[3] === '--rows') {
    await SECTIONS[only]!();
    console.log('ROWS ' + JSON.stringify(rows));
    return;
  }
  const names = only ? only.split(',') : [...Object.keys(SECTIONS), 'panels'];
  for (const name of names) {
    // The panels are measured in Chromium through code-server (scripts/e2e-setup.sh installs them).
    const args = name === 'panels' ? [path.join(PROJECT, 'bench', 'panels.mjs'), '--rows'] : [__filename, name, '--rows'];
    if (!SECTIONS[name] && name !== 'panels') throw new Error(`no bench section "${name}"; sections: ${Object.keys(SECTIONS).join(', ')}, panels`);
    const child = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const line = child.stdout.split('\n').find((l) => l.startsWith('ROWS '));
    if (child.status !== 0 || !line) throw new Error(`bench section ${name} failed (exit ${child.status})\n${child.stdout}`);
    rows.push(...(JSON.parse(line.slice(5)) as Row[]));
  }
  printTable();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
