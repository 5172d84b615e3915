import * as path from 'node:path';
import { ConfigError, parseParamAssignment } from '../../core/params';
import { RunRecorder } from '../../core/record/recorder';
import { formatDuration, formatNumber, safeText } from '../terminalText';
import { all, parseArgs, single, UsageError, type OptionSpec } from '../args';

export const RUN_USAGE = 'runlens run [--name N] [--param k=v]… [--config FILE]… [--data PATH]… [--artifact PATH]… [--tag T]… [--include-secret-files] [--no-attach-logs] [--] <command> [args…]';

export const RUN_SPECS: OptionSpec[] = [
  { name: 'name', value: true },
  { name: 'param', value: true, repeatable: true },
  { name: 'config', value: true, repeatable: true },
  { name: 'data', value: true, repeatable: true },
  { name: 'artifact', value: true, repeatable: true },
  { name: 'tag', value: true, repeatable: true },
  { name: 'max-untracked-size', value: true },
  { name: 'quiet' },
  { name: 'include-secret-files' },
  { name: 'no-attach-logs' },
];

export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`--max-untracked-size expects a size like 5MB, got "${text}"`);
  const unit = (match[2] ?? 'b')[0]!.toLowerCase();
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Math.round(Number(match[1]) * factor);
}

export async function runCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, RUN_SPECS, true);
  const command = parsed.positionals;
  if (command.length === 0) throw new UsageError(`no command to record\nusage: ${RUN_USAGE}`);
  let params;
  try {
    params = all(parsed, 'param').map(parseParamAssignment);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const maxSize = single(parsed, 'max-untracked-size');
  const quiet = parsed.options.has('quiet');
  const say = (text: string) => {
    if (!quiet) process.stderr.write(`runlens: ${text}\n`);
  };

  let problemsShown = 0;
  let writeProblemSaid = false;
  let recorder: RunRecorder;
  // A terminal's Ctrl-C reaches the whole foreground process group, the command included;
  // forwarding it again would interrupt the command's own clean-up (a checkpoint save).
  const interactive = Boolean(process.stdin.isTTY);
  try {
    recorder = new RunRecorder({
      command,
      cwd: process.cwd(),
      name: single(parsed, 'name'),
      params,
      configFiles: all(parsed, 'config'),
      data: all(parsed, 'data'),
      artifacts: all(parsed, 'artifact'),
      tags: all(parsed, 'tag'),
      snapshotLimits: maxSize ? { maxUntrackedFileBytes: parseSize(maxSize) } : undefined,
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: 'inherit',
      sharesTerminal: interactive,
      includeSecretFiles: parsed.options.has('include-secret-files'),
      attachLogs: !parsed.options.has('no-attach-logs'),
      // One line for a full disk, not one per file: the rest is in the run's problems.
      onProblem: (message) => {
        if (!writeProblemSaid) say(`${message}; the command goes on`);
        writeProblemSaid = true;
      },
      pythonHelperDir: path.join(__dirname, '..', 'python'),
      onStarted: (record, dir) => {
        say(`recording run ${record.id} "${safeText(record.name)}" in ${path.relative(process.cwd(), dir) || dir}`);
        if (record.gitError) say(record.gitError);
        else if (record.git?.skipped.length) say(`left out of the snapshot: ${record.git.skipped.map((s) => `${safeText(s.path)} (${s.reason})`).join(', ')}`);
        for (const problem of record.problems) if (!problem.startsWith('could not write ')) say(problem);
        problemsShown = record.problems.length;
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  const onSignal = (signal: NodeJS.Signals) => recorder.interrupt(signal, signal !== 'SIGINT' || !interactive);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  let result;
  try {
    result = await recorder.run();
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal);
  }
  const { record } = result;
  const metrics = Object.entries(record.metricsSummary?.metrics ?? {})
    .slice(0, 4)
    .map(([k, m]) => `${safeText(k)} ${formatNumber(m.last)}`)
    .join(' · ');
  say(
    `run ${record.id} "${safeText(record.name)}" ${record.status} in ${formatDuration(record.startedAt, record.endedAt)}` +
      ` (exit ${record.exitCode})${metrics ? ` · ${metrics}` : ''}`,
  );
  for (const problem of record.problems.slice(problemsShown)) if (!problem.startsWith('could not write ')) say(problem);
  if (result.unsaved && !writeProblemSaid) say(`${result.unsaved}; the command's exit code is kept`);
  return result.exitCode;
}
