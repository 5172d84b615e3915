/**
 * `npm run bench`: every figure beside its floor, measured in the same run on
 * this machine. Budgets live here, never in timed tests.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { captureSnapshot } from '../src/core/git/snapshot';
import { RunRecorder } from '../src/core/recorder';
import { newRunId } from '../src/core/runId';

interface Row {
  figure: string;
  measured: string;
  floor: string;
  ratio: string;
  target: string;
  ok: boolean;
}

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

/** The same git plumbing captureSnapshot runs, as raw git commands one after the other. */
function rawCapture(repo: string, id: string): void {
  git(repo, ['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-path', 'index', '--git-path', 'info/exclude']);
  const head = git(repo, ['rev-parse', '-q', '--verify', 'HEAD^{commit}']).trim();
  git(repo, ['symbolic-ref', '-q', '--short', 'HEAD']);
  spawnSync('git', ['config', '--get-regexp', '^remote\\..*\\.url$'], { cwd: repo, env: ENV });
  const untracked = git(repo, ['ls-files', '--others', '--exclude-standard', '-z']);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-bench-index-'));
  const index = path.join(tmp, 'index');
  fs.copyFileSync(path.join(repo, '.git', 'index'), index);
  const env = { ...ENV, GIT_INDEX_FILE: index, GIT_LITERAL_PATHSPECS: '1' };
  git(repo, ['add', '-u'], env);
  fs.writeFileSync(path.join(tmp, 'list'), untracked);
  git(repo, ['add', `--pathspec-from-file=${path.join(tmp, 'list')}`, '--pathspec-file-nul'], env);
  const tree = git(repo, ['write-tree'], env).trim();
  git(repo, ['diff-tree', '-r', '-z', '-M', '--name-status', head, tree], env);
  const sha = git(repo, ['commit-tree', tree, '-p', head, '-m', 'raw'], env).trim();
  git(repo, ['update-ref', `refs/runlens/bench-raw/${id}`, sha]);
  fs.rmSync(tmp, { recursive: true, force: true });
}

async function benchCapture(): Promise<void> {
  log('making a repository of 20,000 tracked files (200 modified, 50 untracked)…');
  const repo = makeBigRepo(20_000, 200, 50);
  const ours: number[] = [];
  const floor: number[] = [];
  rawCapture(repo, 'warmup');
  await captureSnapshot({ cwd: repo, runId: newRunId(), storeDir: path.join(repo, '.runlens') });
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    rawCapture(repo, String(i));
    floor.push(performance.now() - t);
    t = performance.now();
    const info = await captureSnapshot({ cwd: repo, runId: newRunId(), storeDir: path.join(repo, '.runlens') });
    ours.push(performance.now() - t);
    if (info.changes.length !== 250) throw new Error(`expected 250 changed files, got ${info.changes.length}`);
  }
  const m = median(ours);
  const f = median(floor);
  rows.push({ figure: 'snapshot capture, 20k tracked / 200 modified / 50 untracked (median of 5)', measured: `${m.toFixed(0)} ms`, floor: `${f.toFixed(0)} ms raw git`, ratio: `${(m / f).toFixed(2)}×`, target: '≤ 1.5× floor', ok: m <= 1.5 * f });
  fs.rmSync(repo, { recursive: true, force: true });
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
  log(`logging ${n.toLocaleString('en')} steps through runlens.py…`);
  const ours = run(helperScript);
  const floor = run(floorScript);
  const written = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').length - 1;
  if (written !== n) throw new Error(`runlens.py wrote ${written} lines, expected ${n}`);
  const rate = n / ours;
  const floorRate = n / floor;
  rows.push({ figure: `runlens.py log() calls (${n / 1e6}M steps, 2 metrics each)`, measured: `${fmtRate(rate)} lines/s`, floor: `${fmtRate(floorRate)} lines/s json.dumps + write`, ratio: `${(floorRate / rate).toFixed(2)}× floor time`, target: '≥ 200k lines/s', ok: rate >= 200_000 });
  fs.rmSync(dir, { recursive: true, force: true });
}

function fmtRate(rate: number): string {
  return rate >= 1e6 ? `${(rate / 1e6).toFixed(2)}M` : `${(rate / 1e3).toFixed(0)}k`;
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

async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'capture') await benchCapture();
  if (!only || only === 'stdout') await benchStdoutMetrics();
  if (!only || only === 'python') benchPythonHelper();
  printTable();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
