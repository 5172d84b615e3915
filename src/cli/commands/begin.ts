import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { ConfigError, flattenParams, parseParamAssignment } from '../../core/params';
import { waitForProcessEnd, type SaidEnd } from '../../core/record/processEnd';
import { RunRecorder, type ExternalEnd } from '../../core/record/recorder';
import { redactOutputLine } from '../../core/secrets';
import { safeText } from '../terminalText';
import { all, parseArgs, single, UsageError, type OptionSpec } from '../args';
import { parseSize, RUN_SPECS } from './run';

export const BEGIN_USAGE =
  'runlens begin --pid PID [--python EXE] [--params-json JSON] [--notebook FILE] [run options…] -- <argv of the process…>   (what runlens.init() calls)';

const SPECS: OptionSpec[] = [...RUN_SPECS, { name: 'pid', value: true }, { name: 'python', value: true }, { name: 'params-json', value: true }, { name: 'notebook', value: true }];

/** The executed cells of a notebook, kept in its run. */
export const NOTEBOOK_CELLS_FILE = 'notebook-cells.py';
/** An uncaught exception's traceback, kept in its run. */
export const TRACEBACK_FILE = 'traceback.txt';

/**
 * `runlens begin`: records a process that is already running, for
 * `runlens.init()` (python/runlens/_run.py). It takes the snapshot, params,
 * data hashes and environment exactly as `runlens run` does, then prints one
 * JSON line, `{"id", "dir", "metricsFile"}`, and the process starts
 * training. The process keeps this command's stdin open and says how it ended
 * on it (see core/record/processEnd.ts), with the cells a notebook executed;
 * a process that dies without a word is recorded as crashed. Once run.json is
 * final, a last line `{"ended": status}` lets the process exit.
 *
 * The process starts this command in a session of its own, so that a Ctrl-C
 * meant for training does not stop the recording of its end.
 */
export async function beginCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, SPECS, true);
  const argv = parsed.positionals;
  const pid = Number(single(parsed, 'pid'));
  if (!Number.isInteger(pid) || pid <= 0) throw new UsageError(`--pid needs the process id of the process to record\nusage: ${BEGIN_USAGE}`);
  if (argv.length === 0) throw new UsageError(`no argv of the process to record\nusage: ${BEGIN_USAGE}`);
  let params;
  let initParams;
  try {
    params = all(parsed, 'param').map(parseParamAssignment);
    const json = single(parsed, 'params-json');
    initParams = json ? flattenParams(JSON.parse(json)) : undefined;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}`);
  }
  const maxSize = single(parsed, 'max-untracked-size');
  const quiet = parsed.options.has('quiet');
  const say = (text: string) => {
    if (!quiet) process.stderr.write(`runlens: ${text}\n`);
  };
  const notebook = single(parsed, 'notebook');

  let runDir: string | null = null;
  let cells: string | null = null;
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  // Lines before the end carry the notebook's cells; the end line may carry them too.
  const said = async function* (): AsyncGenerator<string> {
    for await (const line of lines) {
      const cellsNow = cellsOf(line);
      if (cellsNow !== null) cells = cellsNow;
      yield line;
    }
  };
  let ended!: (end: SaidEnd) => void;
  const endPromise = new Promise<SaidEnd>((resolve) => (ended = resolve));
  const externalEnded: Promise<ExternalEnd> = endPromise.then((end) => {
    if (runDir) {
      if (cells !== null) writeRedacted(path.join(runDir, NOTEBOOK_CELLS_FILE), cells);
      if (end.traceback) {
        writeRedacted(path.join(runDir, TRACEBACK_FILE), end.traceback);
        end.problem = `${end.problem ?? 'failed'} (traceback in ${TRACEBACK_FILE})`;
      }
    }
    return end;
  });

  let recorder: RunRecorder;
  try {
    recorder = new RunRecorder({
      command: argv,
      cwd: process.cwd(),
      name: single(parsed, 'name') ?? (notebook ? path.basename(notebook).replace(/\.ipynb$/i, '') : undefined),
      params,
      initParams,
      configFiles: all(parsed, 'config'),
      data: all(parsed, 'data'),
      artifacts: all(parsed, 'artifact'),
      tags: all(parsed, 'tag'),
      snapshotLimits: maxSize ? { maxUntrackedFileBytes: parseSize(maxSize) } : undefined,
      includeSecretFiles: parsed.options.has('include-secret-files'),
      attachLogs: !parsed.options.has('no-attach-logs'),
      external: { python: single(parsed, 'python') ?? null, ended: externalEnded },
      onProblem: (message) => say(message),
      onStarted: (record, dir) => {
        runDir = dir;
        if (record.gitError) say(record.gitError);
        else if (record.git?.skipped.length) say(`left out of the snapshot: ${record.git.skipped.map((s) => `${safeText(s.path)} (${s.reason})`).join(', ')}`);
        for (const problem of record.problems) if (!problem.startsWith('could not write ')) say(problem);
        process.stdout.write(JSON.stringify({ id: record.id, name: record.name, dir, metricsFile: path.join(dir, 'metrics.jsonl') }) + '\n');
        void waitForProcessEnd({ lines: said(), pid }).then(ended);
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // Stopped itself (a shutdown): the run ends as killed, not as a run that looks alive forever.
  const onSignal = (signal: NodeJS.Signals) => {
    recorder.interrupt(signal, false);
    ended({ status: 'killed', exitCode: null, signal, problem: `the recorder was stopped by ${signal}` });
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  let result;
  try {
    result = await recorder.run();
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: (err as Error).message.split('\n')[0] }) + '\n');
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal);
    lines.close();
  }
  process.stdout.write(JSON.stringify({ ended: result.record.status, id: result.record.id }) + '\n');
  if (result.unsaved) say(result.unsaved);
  return 0;
}

function cellsOf(line: string): string | null {
  try {
    const value = (JSON.parse(line) as { cells?: unknown }).cells;
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** Text the process handed over (cells, a traceback) may hold a token a cell printed: written redacted, line by line. */
function writeRedacted(file: string, text: string): void {
  try {
    fs.writeFileSync(file, text.split('\n').map(redactOutputLine).join('\n'));
  } catch {
    // the run's record is what matters; a full disk is said by the recorder's own writes
  }
}
