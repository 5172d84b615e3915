import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppendOnlyFile } from '../atomicFile';
import { HashCache, hashPath, hashPathInterruptibly, HashingStopped } from '../dataHash';
import { captureEnvironment } from './environment';
import { captureSnapshot, type SnapshotLimits } from '../git/snapshot';
import { GitUnavailableError } from '../git/gitClient';
import { ATTACHED_FILE, LogFollower } from '../import/attach';
import { formatMetricRecord, parseOutputLine } from '../metrics/metricLine';
import { summarizeMetricsFile } from '../metrics/metricsFile';
import { DisplayLines } from './outputLines';
import {
  ConfigError,
  findSeed,
  flattenParams,
  isPythonCommand,
  isPythonInterpreter,
  loadConfigFile,
  paramsFromArgv,
  scriptArguments,
  type ParamValue,
} from '../params';
import { userName } from '../identity';
import { newRunId } from '../runId';
import { RUN_RECORD_VERSION, type HashedPath, type RunRecord, type RunStatus } from '../runRecord';
import { safeText } from '../safeText';
import { redactArgv, redactOutputLine, redactParams } from '../secrets';
import { lastSignOfLife, resolveStoreDir, runDir, writeRunRecord } from '../store';

export interface RecordOptions {
  command: string[];
  cwd: string;
  name?: string;
  /** `--param k=v`, already parsed, in the order given. */
  params?: [string, ParamValue][];
  /** Params handed to `runlens.init(params=…, config={…})`, nested already flattened; source `init`. */
  initParams?: Record<string, ParamValue>;
  configFiles?: string[];
  data?: string[];
  artifacts?: string[];
  tags?: string[];
  /** The environment the command gets (plus RUNLENS_* variables). Defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  storeDir?: string;
  snapshotLimits?: Partial<SnapshotLimits>;
  /** Where the command's output is passed through live. */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  stdin?: 'inherit' | 'ignore';
  /** Folder holding the runlens Python package (python/), put on PYTHONPATH so `import runlens` works under `runlens run`. */
  pythonHelperDir?: string;
  /** Told once the run folder and run.json exist, before the command starts. */
  onStarted?: (record: RunRecord, dir: string) => void;
  /** The run this one re-runs (runlens reproduce). */
  reproduces?: string;
  /** Put untracked secret-looking files (`.env`, keys) into the snapshot too. */
  includeSecretFiles?: boolean;
  /**
   * The command reads from and is interrupted through the same terminal as the caller (the CLI in a
   * terminal): it stays in the caller's process group, and a terminal's Ctrl-C reaches it directly.
   */
  sharesTerminal?: boolean;
  /** Told, once each, of what could not be written (a full disk): the run goes on. */
  onProblem?: (message: string) => void;
  /**
   * Attach the logs the command writes in formats RunLens imports (MLflow, TensorBoard, Lightning,
   * dvclive, Keras, Hugging Face) under its working folder, followed live. On unless false.
   */
  attachLogs?: boolean;
  /**
   * Record a process that is already running (`runlens.init()` in a script or a notebook) instead
   * of starting `command`: `command` is then what that process runs, for the record and its argv
   * params, and `ended` says how it ended. Everything else is as for a command RunLens starts.
   */
  external?: ExternalProcess;
}

/** A process RunLens did not start, recorded from the inside: it says itself how it ends. */
export interface ExternalProcess {
  /** The interpreter running it, asked for its version and packages. */
  python: string | null;
  /** Resolves once the process said how it ended, or was seen to be gone. */
  ended: Promise<ExternalEnd>;
}

export interface ExternalEnd {
  status: Exclude<RunStatus, 'running'>;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** What the run's problems say about its end (an uncaught exception, a process gone without a word). */
  problem?: string;
}

export interface RecordResult {
  record: RunRecord;
  /** Why run.json could not be saved at the end, when it could not. */
  unsaved?: string;
  /** The command's exit code, or 128 + signal number when a signal ended it (shell convention). */
  exitCode: number;
}

const SIGNAL_NUMBERS: Record<string, number> = os.constants.signals as unknown as Record<string, number>;
const MAX_MALFORMED_SAMPLES = 5;
/** Where runlens.init() inside a run of `runlens run` writes what it declared (python/runlens/_run.py). */
export const INIT_FILE = 'init.jsonl';

/**
 * Records one run of a command (DESIGN.md sections 1 to 3). The caller owns
 * process signals and hands them over with `interrupt`, so this stays usable
 * from the CLI, tests, and any other host.
 */
export class RunRecorder {
  private child: ChildProcess | null = null;
  private interruptedBy: NodeJS.Signals | null = null;

  constructor(private readonly options: RecordOptions) {
    if (options.command.length === 0) throw new Error('no command to run');
  }

  /**
   * Ends the run because the user asked. SIGINT from a terminal already
   * reached the command (it shares our process group), so it is forwarded
   * only when `forward` says the command could not have seen it.
   */
  interrupt(signal: NodeJS.Signals, forward: boolean): void {
    this.interruptedBy ??= signal;
    if (forward && this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(signal);
    }
  }

  async run(): Promise<RecordResult> {
    const opts = this.options;
    const cwd = path.resolve(opts.cwd);
    const baseEnv = opts.env ?? process.env;
    const { params, sources, configFiles } = collectParams(opts, cwd);
    // A typo in --data must not give a "finished" run without its data lineage.
    for (const p of opts.data ?? []) {
      if (!fs.existsSync(path.resolve(cwd, p))) throw new ConfigError(`cannot read data ${p}: no such file or folder`);
    }

    const storeDir = opts.storeDir ?? (await resolveStoreDir(cwd, baseEnv));
    const id = newRunId();
    const dir = runDir(storeDir, id);
    // What is recorded of the command: secrets redacted. The command itself runs as given.
    const command = redactArgv(opts.command);

    const record: RunRecord = {
      version: RUN_RECORD_VERSION,
      id,
      name: opts.name?.trim() || defaultRunName(command, id),
      command,
      cwd,
      cwdInRepo: null,
      startedAt: new Date().toISOString(),
      endedAt: null,
      status: 'running',
      exitCode: null,
      signal: null,
      pid: process.pid,
      host: os.hostname(),
      user: userName(),
      tags: opts.tags ?? [],
      git: null,
      gitError: null,
      params: redactParams(params),
      paramSources: sources,
      configFiles: [],
      env: null,
      data: [],
      artifacts: [],
      seed: findSeed(params, sources),
      metricsSummary: null,
      problems: [],
      ...(opts.reproduces ? { reproduces: opts.reproduces } : {}),
    };
    const save = () => this.tryWrite(record, 'run.json', () => writeRunRecord(storeDir, record));
    this.tryWrite(record, 'the run folder', () => fs.mkdirSync(dir, { recursive: true }));
    save();

    const snapshotting = this.interruptedBy
      ? Promise.resolve()
      : captureSnapshot({ cwd, runId: id, storeDir, message: snapshotMessage(record), limits: opts.snapshotLimits, includeSecretFiles: opts.includeSecretFiles }).then(
          (git) => {
            record.git = git;
            record.cwdInRepo = path.relative(git.root, cwd).split(path.sep).join('/');
          },
          (err: Error) => {
            record.gitError = err instanceof GitUnavailableError ? err.message : `no code snapshot: ${err.message}`;
          },
        );
    // What logs of other tools are already there: only what the command adds or grows is attached.
    // The walk is started once the snapshot waits on its first git command, so the two overlap.
    const follower = opts.attachLogs === false || this.interruptedBy ? null : new LogFollower(cwd, path.join(dir, ATTACHED_FILE));
    const baseline = follower?.baseline();
    await snapshotting;
    const cache = new HashCache(path.join(storeDir, 'cache', 'hashes.json'));
    const stopped = () => this.interruptedBy !== null;
    try {
      for (const f of configFiles) record.configFiles.push(await hashPathInterruptibly(f, cwd, cache, stopped));
      for (const p of opts.data ?? []) record.data.push(await hashPathInterruptibly(p, cwd, cache, stopped));
    } catch (err) {
      if (!(err instanceof HashingStopped)) throw err;
      record.problems.push(`interrupted while hashing the declared data; the command did not start`);
    }
    for (const d of record.data) {
      if (d.kind === 'missing') record.problems.push(`data ${d.path} is missing: ${d.error ?? ''}`.trim());
      if (d.kind === 'special') record.problems.push(`data ${d.path} is ${d.error ?? 'not a regular file'}`);
    }
    await baseline;
    save();
    opts.onStarted?.(record, dir);

    const outcome: Outcome = this.interruptedBy
      ? { code: null, signal: this.interruptedBy, spawnError: null }
      : opts.external
        ? await this.watch(record, storeDir, dir, baseEnv, opts.external, follower)
        : await this.execute(record, storeDir, dir, baseEnv, follower);
    if (follower) attachLogs(record, follower);

    record.endedAt = outcome.status === 'crashed' ? (lastSignOfLife(dir) ?? new Date().toISOString()) : new Date().toISOString();
    record.signal = outcome.signal;
    record.exitCode = outcome.code ?? (outcome.signal ? 128 + (SIGNAL_NUMBERS[outcome.signal] ?? 0) : outcome.status === 'crashed' ? null : 1);
    record.status = outcome.status ?? finalStatus(outcome.code, outcome.signal, this.interruptedBy, outcome.spawnError);
    if (outcome.problem) record.problems.push(outcome.problem);
    if (outcome.spawnError) {
      record.exitCode = 127;
      record.problems.push(`could not start ${opts.command[0]}: ${outcome.spawnError}`);
    }
    record.artifacts = (opts.artifacts ?? []).map((p) => markStale(hashPath(p, cwd, cache), cwd, Date.parse(record.startedAt)));
    for (const a of record.artifacts) {
      if (a.kind === 'missing') record.problems.push(`artifact ${a.path} was not written`);
      else if (a.stale) record.problems.push(`artifact ${a.path} was not written by this run (last modified before it started)`);
    }
    mergeRunParams(record, dir);
    mergeInitDeclarations(record, dir, cwd, cache, Boolean(opts.name?.trim()));
    this.tryWrite(record, 'the hash cache', () => cache.save());
    const saved = save();
    return { record, exitCode: record.exitCode ?? 1, ...(saved ? {} : { unsaved: this.writeFailures.get('run.json') }) };
  }

  /** What could not be written, by what: each is said once, in the run's problems. */
  private readonly writeFailures = new Map<string, string>();

  /**
   * A write that may fail (a full disk, a read-only store) without ending the
   * run: the command keeps running and keeps its exit code, the failure goes
   * into the run's problems once, and later writes are tried again.
   */
  private tryWrite(record: RunRecord, what: string, write: () => void): boolean {
    try {
      write();
      return true;
    } catch (err) {
      const code = readOnlyOrCode(err as NodeJS.ErrnoException);
      const reason = code === 'ENOSPC' ? 'no space left on the device (ENOSPC)' : code === 'EROFS' ? 'the store is on a read-only file system (EROFS)' : code === 'EACCES' || code === 'EPERM' ? `no permission to write (${code})` : (err as Error).message;
      if (!this.writeFailures.has(what)) {
        const message = `could not write ${what}: ${reason}`;
        this.writeFailures.set(what, message);
        record.problems.push(message);
        this.options.onProblem?.(message);
      }
      return false;
    }
  }

  /** The metrics file's writer for the recorder's own lines, and the end of it: summarized into the record. */
  private openMetrics(record: RunRecord, dir: string) {
    const metricsFile = path.join(dir, 'metrics.jsonl');
    let opened: AppendOnlyFile | null = null;
    this.tryWrite(record, 'metrics.jsonl', () => (opened = new AppendOnlyFile(metricsFile)));
    const out = opened as AppendOnlyFile | null;
    const malformed = { count: 0, samples: [] as { source: string; line: number; text: string; reason: string }[] };
    return {
      file: metricsFile,
      malformed,
      appendLines: (text: string) => out && this.tryWrite(record, 'metrics.jsonl', () => out.appendLines(text)),
      close: () => {
        out?.close();
        const summary = summarizeMetricsFile(metricsFile);
        summary.malformed += malformed.count;
        summary.malformedSamples = [...malformed.samples, ...summary.malformedSamples].slice(0, MAX_MALFORMED_SAMPLES);
        record.metricsSummary = summary;
        if (summary.malformed > 0) {
          const first = summary.malformedSamples[0];
          record.problems.push(`${summary.malformed} metric line(s) could not be read` + (first ? `; first, ${first.source} line ${first.line}: ${first.reason}` : ''));
        }
      },
    };
  }

  /** The environment of the interpreter that runs the training, written into run.json once known. */
  private captureEnvironmentLater(record: RunRecord, storeDir: string, env: NodeJS.ProcessEnv, python: string | null): Promise<void> {
    return captureEnvironment(env, python).then(
      (captured) => {
        record.env = captured;
        if (record.status === 'running') this.tryWrite(record, 'run.json', () => writeRunRecord(storeDir, record));
      },
      (err: Error) => void record.problems.push(`environment not captured: ${err.message}`),
    );
  }

  /**
   * A process that runs already (runlens.init()): it writes its own metrics to metrics.jsonl; the
   * recorder follows its attached logs and waits for the word of how it ended.
   */
  private async watch(record: RunRecord, storeDir: string, dir: string, env: NodeJS.ProcessEnv, external: ExternalProcess, follower: LogFollower | null): Promise<Outcome> {
    const metrics = this.openMetrics(record, dir);
    if (follower) follower.append = (lines) => metrics.appendLines(lines);
    follower?.start();
    const envCapture = this.captureEnvironmentLater(record, storeDir, env, external.python);
    const end = await external.ended;
    await Promise.all([envCapture, (follower ? follower.stop() : Promise.resolve()).catch(() => {})]);
    metrics.close();
    return { code: end.exitCode, signal: end.signal, spawnError: null, status: end.status, problem: end.problem };
  }

  private execute(record: RunRecord, storeDir: string, dir: string, baseEnv: NodeJS.ProcessEnv, follower: LogFollower | null): Promise<Outcome> {
    const opts = this.options;
    const helperDir = opts.pythonHelperDir;
    const env: NodeJS.ProcessEnv = {
      ...baseEnv,
      RUNLENS_RUN_ID: record.id,
      RUNLENS_RUN_DIR: dir,
      RUNLENS_METRICS_FILE: path.join(dir, 'metrics.jsonl'),
      // A pipe makes Python buffer its output; metrics must arrive as they are printed.
      PYTHONUNBUFFERED: '1',
    };
    if (helperDir) env.PYTHONPATH = baseEnv.PYTHONPATH ? `${helperDir}${path.delimiter}${baseEnv.PYTHONPATH}` : helperDir;

    let opened: AppendOnlyFile | null = null;
    this.tryWrite(record, 'stdout.log', () => (opened = new AppendOnlyFile(path.join(dir, 'stdout.log'))));
    const logFile = opened as AppendOnlyFile | null;
    const log = { append: (text: string) => logFile && this.tryWrite(record, 'stdout.log', () => logFile.append(text)), close: () => logFile?.close() };
    const metrics = this.openMetrics(record, dir);
    const malformed = metrics.malformed;
    let stdoutLineNo = 0;
    if (follower) follower.append = (lines) => metrics.appendLines(lines);

    // Metrics go to metrics.jsonl before their lines go to stdout.log: a recorder killed between
    // the two writes may lose a line of the log, never a metric line the log shows.
    // Lines the log keeps are redacted like every other write (a script that prints its token).
    // A metrics line of numbers only can hold no secret, which keeps the hot path free of the scan.
    const takeStdoutLines = (text: string) => {
      const now = Date.now() / 1000;
      let out = '';
      let logText = '';
      let logFrom = 0;
      let start = 0;
      while (start < text.length) {
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        const line = text.slice(start, end);
        const lineStart = start;
        start = end + 1;
        stdoutLineNo++;
        const first = line.charCodeAt(line.search(/\S/));
        let numbersOnly = false;
        if (first === 0x7b /* { */ || first === 0x72 /* r */) {
          const parsed = parseOutputLine(line);
          if (parsed.kind === 'metrics') {
            const { record: m, verbatim } = parsed;
            numbersOnly = verbatim;
            if (verbatim && m.t !== null) out += line.trim() + '\n';
            else if (verbatim && !line.includes('runlens:')) out += `{"t":${now},${line.trim().slice(1)}\n`;
            else out += formatMetricRecord({ ...m, t: m.t ?? now }) + '\n';
          } else if (parsed.kind === 'malformed') {
            malformed.count++;
            if (malformed.samples.length < MAX_MALFORMED_SAMPLES) {
              malformed.samples.push({ source: 'stdout', line: stdoutLineNo, text: line.slice(0, 200), reason: parsed.reason });
            }
          }
        }
        if (numbersOnly) continue;
        const safe = redactOutputLine(line);
        if (safe !== line) {
          logText += text.slice(logFrom, lineStart) + safe;
          logFrom = end;
        }
      }
      metrics.appendLines(out);
      log.append(logFrom === 0 ? text : logText + text.slice(logFrom));
    };

    return new Promise<Outcome>((resolve) => {
      const child = spawn(opts.command[0]!, opts.command.slice(1), {
        cwd: record.cwd,
        env,
        stdio: [opts.stdin ?? 'inherit', 'pipe', 'pipe'],
        // Where the command shares our terminal, it stays in the terminal's foreground process group,
        // which a Ctrl-C reaches once. Anywhere else it gets a process group of its own, so that a
        // signal sent to our group reaches it once, through us, not twice.
        detached: !this.options.sharesTerminal,
      });
      this.child = child;
      if (this.interruptedBy) child.kill(this.interruptedBy);
      follower?.start();

      const python = isPythonInterpreter(opts.command[0]!) ? opts.command[0]! : isPythonCommand(opts.command) ? 'python3' : null;
      const envCapture = this.captureEnvironmentLater(record, storeDir, env, python);

      const stdoutLines = new DisplayLines();
      const stderrLines = new DisplayLines();
      child.stdout!.on('data', (chunk: Buffer) => {
        opts.stdout?.write(chunk);
        const lines = stdoutLines.push(chunk);
        if (lines) takeStdoutLines(lines);
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        opts.stderr?.write(chunk);
        const lines = stderrLines.push(chunk);
        if (lines) log.append(redactOutputLine(lines));
      });

      let settled = false;
      const settle = (code: number | null, signal: NodeJS.Signals | null, spawnError: string | null) => {
        if (settled) return;
        settled = true;
        const restOut = stdoutLines.end();
        if (restOut) takeStdoutLines(restOut);
        const restErr = stderrLines.end();
        if (restErr) log.append(redactOutputLine(restErr));
        log.close();
        // The attached logs get one last look before the metrics file closes.
        const lastLook = follower ? follower.stop() : Promise.resolve();
        void Promise.all([envCapture, lastLook.catch(() => {})]).finally(() => {
          metrics.close();
          resolve({ code, signal, spawnError });
        });
      };
      child.on('error', (err) => settle(null, null, err.message));
      child.on('close', (code, signal) => settle(code, signal, null));
    });
  }
}

/** How the command ended; a process recorded from the inside says its status itself. */
interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError: string | null;
  status?: RunStatus;
  problem?: string;
}

/** What the follower attached goes into the record: the logs, and their params where the run has none of that name. */
function attachLogs(record: RunRecord, follower: LogFollower): void {
  const logs = follower.attached();
  if (logs.length > 0) record.attachedLogs = logs;
  for (const problem of follower.problems) record.problems.push(`attached logs: ${problem}`);
  const extra: Record<string, unknown> = {};
  for (const [name, { value, kind }] of Object.entries(follower.attachedParams())) {
    if (name in record.params) continue;
    extra[name] = value;
    record.paramSources[name] = `attached:${kind}`;
  }
  Object.assign(record.params, redactParams(extra));
}

/**
 * The errno code that says what is wrong. A recursive mkdir on a read-only file system answers
 * ENOENT for the part it could not make; the nearest folder that exists says EROFS.
 */
function readOnlyOrCode(err: NodeJS.ErrnoException): string | undefined {
  if (err.code !== 'ENOENT' || !err.path) return err.code;
  for (let dir = path.dirname(err.path); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    if (!fs.existsSync(dir)) continue;
    try {
      fs.accessSync(dir, fs.constants.W_OK);
      return err.code;
    } catch (probe) {
      return (probe as NodeJS.ErrnoException).code ?? err.code;
    }
  }
  return err.code;
}

function finalStatus(code: number | null, signal: NodeJS.Signals | null, interruptedBy: NodeJS.Signals | null, spawnError: string | null): RunStatus {
  if (spawnError) return 'failed';
  if (interruptedBy || signal) return 'killed';
  return code === 0 ? 'finished' : 'failed';
}

/** Params by precedence: config files, then the script's own flags, then runlens.init()'s, then `--param`. */
function collectParams(opts: RecordOptions, cwd: string) {
  const params: Record<string, ParamValue> = {};
  const sources: Record<string, string> = {};
  const configFiles = opts.configFiles ?? [];
  for (const file of configFiles) {
    for (const [k, v] of Object.entries(loadConfigFile(file, cwd))) {
      params[k] = v;
      sources[k] = `config:${file}`;
    }
  }
  for (const [k, v] of Object.entries(paramsFromArgv(scriptArguments(opts.command)))) {
    params[k] = v;
    sources[k] = 'argv';
  }
  for (const [k, v] of Object.entries(opts.initParams ?? {})) {
    params[k] = v;
    sources[k] = 'init';
  }
  for (const [k, v] of opts.params ?? []) {
    params[k] = v;
    sources[k] = 'cli';
  }
  return { params, sources, configFiles };
}

/** Params the command reported itself (runlens.params() in Python), appended to params.jsonl. */
function mergeRunParams(record: RunRecord, dir: string): void {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'params.jsonl'), 'utf8');
  } catch {
    return;
  }
  let bad = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      for (const [k, v] of Object.entries(redactParams(flattenParams(JSON.parse(line))))) {
        record.params[k] = v;
        record.paramSources[k] = 'run';
      }
    } catch {
      bad++;
    }
  }
  if (bad) record.problems.push(`${bad} line(s) of params.jsonl could not be read`);
  record.seed = findSeed(record.params, record.paramSources) ?? record.seed;
}

/**
 * What `runlens.init()` declared inside a run that `runlens run` records (init.jsonl, one line per
 * call): a name where the command line gave none, tags, config files, data and artifacts. Data declared this way
 * is hashed when the run ends, not before it starts, and the run's problems say so.
 */
function mergeInitDeclarations(record: RunRecord, dir: string, cwd: string, cache: HashCache, named: boolean): void {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, INIT_FILE), 'utf8');
  } catch {
    return;
  }
  let bad = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let declared: { name?: unknown; tags?: unknown; data?: unknown; artifacts?: unknown; configFiles?: unknown };
    try {
      declared = JSON.parse(line) as typeof declared;
    } catch {
      bad++;
      continue;
    }
    const texts = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length > 0) : []);
    if (!named && typeof declared.name === 'string' && declared.name.trim()) record.name = declared.name.trim().slice(0, 200);
    for (const tag of texts(declared.tags)) if (!record.tags.includes(tag)) record.tags.push(tag);
    // A config file init() named: its values are params where the command line set none of that name.
    for (const file of texts(declared.configFiles)) {
      if (record.configFiles.some((c) => c.path === file)) continue;
      try {
        for (const [k, v] of Object.entries(redactParams(loadConfigFile(file, cwd)))) {
          if (k in record.params) continue;
          record.params[k] = v;
          record.paramSources[k] = `config:${file}`;
        }
        record.configFiles.push(hashPath(file, cwd, cache));
      } catch (err) {
        record.problems.push(`config ${file} (declared by runlens.init()) could not be read: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    for (const p of texts(declared.data)) {
      if (record.data.some((d) => d.path === p)) continue;
      const hashed = hashPath(p, cwd, cache);
      record.data.push(hashed);
      record.problems.push(hashed.kind === 'missing' ? `data ${p} (declared by runlens.init()) is missing` : `data ${p} was declared by runlens.init() and hashed when the run ended`);
    }
    for (const p of texts(declared.artifacts)) {
      if (record.artifacts.some((a) => a.path === p)) continue;
      const artifact = markStale(hashPath(p, cwd, cache), cwd, Date.parse(record.startedAt));
      record.artifacts.push(artifact);
      if (artifact.kind === 'missing') record.problems.push(`artifact ${p} was not written`);
    }
  }
  if (bad) record.problems.push(`${bad} line(s) of ${INIT_FILE} could not be read`);
}

/** An artifact older than the run was left by someone else; the run must not claim it. */
function markStale(artifact: HashedPath, cwd: string, startedMs: number): HashedPath {
  if (artifact.kind === 'missing') return artifact;
  const newest = (p: string): number => {
    const stat = fs.statSync(p);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return Math.max(stat.mtimeMs, ...fs.readdirSync(p).map((child) => newest(path.join(p, child))));
  };
  // A second of slack: some filesystems keep mtimes in whole seconds.
  return newest(path.resolve(cwd, artifact.path)) < startedMs - 1000 ? { ...artifact, stale: true } : artifact;
}

/** `train-3f2a` for `python train.py`; `python3-c-3f2a` for `python3 -c CODE`, never a fragment of the code. */
function defaultRunName(command: string[], id: string): string {
  const suffix = id.slice(-4);
  const program = path.basename(command[0] ?? 'run');
  if (!isPythonInterpreter(command[0] ?? '')) return `${program.replace(/\.[^.]+$/, '') || 'run'}-${suffix}`;
  for (let i = 1; i < command.length; i++) {
    const arg = command[i]!;
    if (arg === '-c') return `${program}-c-${suffix}`;
    if (arg === '-m') return `${(command[i + 1] ?? 'module').split('.').pop()}-${suffix}`;
    if (arg === '-X' || arg === '-W') i++;
    else if (!arg.startsWith('-')) return `${path.basename(arg).replace(/\.[^.]+$/, '') || 'run'}-${suffix}`;
  }
  return `${program}-${suffix}`;
}

/**
 * The snapshot commit's message. A commit is a write, and `git push` publishes it: the command is
 * the redacted one, and run-provided text has its control and bidi characters made visible.
 */
function snapshotMessage(record: RunRecord): string {
  return `runlens snapshot of run ${record.id}\n\nname: ${safeText(record.name)}\ncommand: ${safeText(JSON.stringify(record.command))}`;
}

