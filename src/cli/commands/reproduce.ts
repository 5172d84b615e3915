import * as path from 'node:path';
import { EXPORT_REPRODUCTIONS, reproduceFromExport } from '../../core/reproduce/fromExport';
import { ReproductionRefused, reproduceRun } from '../../core/reproduce/reproduce';
import { describeReport } from '../../core/reproduce/describeReport';
import { DEFAULT_TOLERANCE, type ReproductionReport, type Tolerance } from '../../core/reproduce/report';
import type { RunRecord } from '../../core/runRecord';
import { listRuns, resolveStoreDir } from '../../core/store';
import { expectPositionals, flag, parseArgs, single, UsageError } from '../args';
import { safeText } from '../terminalText';
import { lookup } from './inspect';

export const REPRODUCE_USAGE = 'runlens reproduce <run> [--in DIR] [--keep] [--strict] [--rtol X] [--atol X] [--json]\n  runlens reproduce --from-export DIR [--rtol X] [--atol X] [--json]';

function tolerance(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`--${name} expects a number ≥ 0, got "${text}"`);
  return value;
}

type Parsed = ReturnType<typeof parseArgs>;

/**
 * What both kinds of reproduction share: the options from the flags, signals
 * that end the command (not this process, so that what it made is cleaned
 * up), the report printed, and the exit code (0 reproduced, 1 diverged, 3
 * refused).
 */
async function reproduceWith(
  parsed: Parsed,
  where: string,
  work: (common: { signal: AbortSignal; tolerance: Tolerance; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; pythonHelperDir: string; say: (text: string) => void; onStarted: (record: RunRecord) => void }) => Promise<{ original: RunRecord; record: RunRecord; report: ReproductionReport; after?: string }>,
): Promise<number> {
  const json = flag(parsed, 'json');
  const quiet = flag(parsed, 'quiet') || json;
  const say = (text: string) => {
    if (!quiet) process.stderr.write(`runlens: ${text}\n`);
  };
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  try {
    const result = await work({
      signal: abort.signal,
      tolerance: { relative: tolerance(single(parsed, 'rtol'), 'rtol', DEFAULT_TOLERANCE.relative), absolute: tolerance(single(parsed, 'atol'), 'atol', DEFAULT_TOLERANCE.absolute) },
      stdout: json ? process.stderr : process.stdout,
      stderr: process.stderr,
      pythonHelperDir: path.join(__dirname, '..', 'python'),
      say,
      onStarted: (record) => say(`recording the reproduction as run ${record.id} "${safeText(record.name)}"${where}`),
    });
    if (json) process.stdout.write(JSON.stringify(result.report, null, 2) + '\n');
    else process.stdout.write(describeReport(result.report, { original: result.original.name, reproduction: result.record.name }));
    if (result.after) say(result.after);
    return result.report.verdict === 'reproduced' ? 0 : 1;
  } catch (err) {
    if (err instanceof ReproductionRefused) {
      process.stderr.write(`runlens: cannot reproduce: ${err.message}\n`);
      return 3;
    }
    throw err;
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal);
  }
}

export async function reproduceCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, [{ name: 'in', value: true }, { name: 'keep' }, { name: 'strict' }, { name: 'rtol', value: true }, { name: 'atol', value: true }, { name: 'json' }, { name: 'quiet' }, { name: 'from-export', value: true }]);
  const fromExport = single(parsed, 'from-export');
  // From an export: its training re-run outside any repository, with the same report.
  if (fromExport) return reproduceWith(parsed, ` in ${path.join(fromExport, EXPORT_REPRODUCTIONS)}`, (common) => reproduceFromExport(fromExport, common));
  const [query] = expectPositionals(parsed, ['a run'], REPRODUCE_USAGE);
  const storeDir = await resolveStoreDir(process.cwd());
  const original = lookup(listRuns(storeDir).runs, query!);
  // The worktree must go even when the user stops the run: signals end the command, not this process.
  return reproduceWith(parsed, '', async (common) => {
    const result = await reproduceRun({ ...common, storeDir, runId: original.id, into: single(parsed, 'in'), keep: flag(parsed, 'keep'), strict: flag(parsed, 'strict') });
    return { ...result, after: result.worktree ? `the worktree is kept in ${result.worktree}; remove it with \`git worktree remove ${result.worktree}\`` : undefined };
  });
}
