import type { Bucket } from '../../core/series/bucket';
import { materializeImportedSeries } from '../../core/import/importRuns';
import { readSeries, type XAxis } from '../../core/series/series';
import { listRuns, resolveStoreDir } from '../../core/store';
import { flag, parseArgs, single, UsageError } from '../args';
import { formatNumber, safeText } from '../terminalText';
import { lookup } from './inspect';

export const SERIES_USAGE = 'runlens series <run…> --metric NAME [--buckets N] [--x step|time|relative] [--from X] [--to X] [--json]';

function numberOption(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} expects a number, got "${text}"`);
  return value;
}

/** JSON has no NaN or Infinity: they go out as the strings the run files use. */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? (Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity') : value;
}

export async function seriesCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, [
    { name: 'metric', value: true },
    { name: 'buckets', value: true },
    { name: 'x', value: true },
    { name: 'from', value: true },
    { name: 'to', value: true },
    { name: 'json' },
  ]);
  if (parsed.positionals.length === 0) throw new UsageError(`name at least one run\nusage: ${SERIES_USAGE}`);
  const metric = single(parsed, 'metric');
  if (!metric) throw new UsageError(`--metric is required\nusage: ${SERIES_USAGE}`);
  const buckets = numberOption(single(parsed, 'buckets'), 'buckets', 1000);
  if (!Number.isInteger(buckets) || buckets < 1) throw new UsageError(`--buckets expects a whole number of at least 1`);
  const x = (single(parsed, 'x') ?? 'step') as XAxis;
  if (!['step', 'time', 'relative'].includes(x)) throw new UsageError(`--x is step, time or relative, not "${x}"`);
  const from = single(parsed, 'from');
  const to = single(parsed, 'to');
  const range: [number, number] | undefined =
    from !== undefined || to !== undefined ? [numberOption(from, 'from', -Infinity), numberOption(to, 'to', Infinity)] : undefined;

  const storeDir = await resolveStoreDir(process.cwd());
  const { runs } = listRuns(storeDir);
  const ids = parsed.positionals.map((q) => lookup(runs, q).id);
  for (const { problem } of await materializeImportedSeries(storeDir, ids)) process.stderr.write(`runlens: ${safeText(problem)}\n`);
  const result = readSeries(storeDir, ids, { metric, x, buckets, range });
  if (flag(parsed, 'json')) {
    process.stdout.write(JSON.stringify(result, jsonNumbers) + '\n');
    return 0;
  }
  for (const s of result) {
    const name = runs.find((r) => r.id === s.runId)?.name ?? s.runId;
    process.stdout.write(`${safeText(name)} (${s.runId.slice(0, 12)}): ${s.total} point(s) of ${safeText(metric)}, ${s.inRange} in range`);
    if (s.badLines) process.stdout.write(`, ${s.badLines} unreadable line(s) skipped`);
    if (s.unfinishedBytes) process.stdout.write(`, an unfinished last line (${s.unfinishedBytes} bytes) skipped`);
    process.stdout.write('\n');
    if (s.kind === 'points') {
      for (const p of s.points.slice(0, 20)) process.stdout.write(`  ${formatNumber(p.x)}\t${formatNumber(p.y)}\n`);
      if (s.points.length > 20) process.stdout.write(`  … ${s.points.length - 20} more\n`);
    } else {
      const show = (b: Bucket) => `  [${formatNumber(b.x0)}, ${formatNumber(b.x1)})\tmin ${formatNumber(b.min)}\tmax ${formatNumber(b.max)}\tlast ${formatNumber(b.last)}${b.nan ? `\t${b.nan} NaN` : ''}\n`;
      for (const b of s.buckets.slice(0, 20)) process.stdout.write(show(b));
      if (s.buckets.length > 20) process.stdout.write(`  … ${s.buckets.length - 20} more bucket(s); --json has them all\n`);
    }
  }
  return 0;
}
