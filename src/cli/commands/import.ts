import { importRuns, type SourceSummary } from '../../core/import/importRuns';
import { SOURCE_KINDS, type SourceKind } from '../../core/import/types';
import { safeText } from '../../core/safeText';
import { resolveStoreDir } from '../../core/store';
import { flag, parseArgs, single, UsageError } from '../args';

export const IMPORT_USAGE = `runlens import PATH… [--kind ${SOURCE_KINDS.join('|')}] [--dry-run] [--json]`;

function describe(source: SourceSummary, dryRun: boolean): string {
  const changes = dryRun
    ? `${source.added} new, ${source.updated} to update, ${source.unchanged} unchanged`
    : `${source.added} added, ${source.updated} updated, ${source.unchanged} unchanged${source.missing ? `, ${source.missing} gone from the source (kept, marked missing)` : ''}`;
  const lines = [`${source.kind} ${safeText(source.path)}: ${source.runs} run(s) (${changes}); ${source.metrics} metric(s), ${source.points} point(s) read`];
  for (const skipped of source.skipped) lines.push(`  skipped ${safeText(skipped.path)}: ${safeText(skipped.reason)}`);
  return lines.join('\n');
}

export async function importCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, [{ name: 'kind', value: true }, { name: 'dry-run' }, { name: 'json' }]);
  if (parsed.positionals.length === 0) throw new UsageError(`missing PATH\nusage: ${IMPORT_USAGE}`);
  const kind = single(parsed, 'kind');
  if (kind !== undefined && !(SOURCE_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind expects one of ${SOURCE_KINDS.join(', ')}, got "${safeText(kind)}"`);
  const dryRun = flag(parsed, 'dry-run');
  const storeDir = await resolveStoreDir(process.cwd());
  const summary = await importRuns(storeDir, parsed.positionals, { kind: kind as SourceKind | undefined, dryRun });
  if (flag(parsed, 'json')) {
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  } else {
    for (const source of summary.sources) process.stdout.write(describe(source, dryRun) + '\n');
    if (dryRun && summary.sources.length > 0) process.stdout.write('Nothing was written (--dry-run).\n');
  }
  for (const problem of summary.problems) process.stderr.write(`runlens: ${safeText(problem.path)}: ${safeText(problem.reason)}\n`);
  return summary.sources.length === 0 ? 1 : 0;
}
