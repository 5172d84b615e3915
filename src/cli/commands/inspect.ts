import * as fs from 'node:fs';
import * as path from 'node:path';
import { SOURCE_NAMES } from '../../core/import/types';
import { INDEX_FILE, RunIndex, type IndexedRun } from '../../core/index/runIndex';
import { QuerySyntaxError } from '../../core/query/ast';
import { parseQuery, parseSort } from '../../core/query/parse';
import { diffRuns } from '../../core/runDiff';
import { reportVerdict } from '../../core/reproduce/report';
import type { RunRecord } from '../../core/runRecord';
import { pulledFrom } from '../../core/share/pull';
import { listRuns, readRunRecord, resolveRun, resolveStoreDir, RunLookupError, type RunListing } from '../../core/store';
import { expectPositionals, flag, parseArgs, single, UsageError } from '../args';
import { formatAge, formatDuration, formatNumber, safeText, table, truncate } from '../terminalText';

async function loadRuns(): Promise<RunListing> {
  const listing = listRuns(await resolveStoreDir(process.cwd()));
  for (const bad of listing.unreadable) {
    process.stderr.write(`runlens: run folder ${safeText(bad.dir)} cannot be read (${safeText(bad.reason)}); it is left as it is\n`);
  }
  return listing;
}

export function lookup(runs: RunRecord[], query: string): RunRecord {
  try {
    return resolveRun(runs, query);
  } catch (err) {
    if (err instanceof RunLookupError) throw new UsageError(err.message);
    throw err;
  }
}

export const LS_USAGE = "runlens ls [--where QUERY] [--sort [-]FIELD,…] [--limit N] [--json]";

/** Query errors point at the spot, like a compiler would. */
function parseOrExplain<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof QuerySyntaxError) throw new UsageError(`${err.message}\n${err.pointer()}`);
    throw err;
  }
}

function indexedCommit(run: IndexedRun): string {
  if (!run.snapshot) return '-';
  return (run.head ?? run.snapshot).slice(0, 8) + (run.dirty ? '*' : '');
}

export async function lsCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, [{ name: 'json' }, { name: 'limit', value: true }, { name: 'where', value: true }, { name: 'sort', value: true }]);
  expectPositionals(parsed, [], LS_USAGE);
  const limitText = single(parsed, 'limit');
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new UsageError(`--limit expects a whole number, got "${limitText}"`);
  const where = parseOrExplain(() => parseQuery(single(parsed, 'where') ?? ''));
  const sort = parseOrExplain(() => parseSort(single(parsed, 'sort') ?? '-started'));

  const storeDir = await resolveStoreDir(process.cwd());
  const index = await RunIndex.open(storeDir);
  try {
    if (index.opened.rebuilt && fs.existsSync(path.join(storeDir, INDEX_FILE))) {
      process.stderr.write(`runlens: ${index.opened.rebuilt}; rebuilding it from the run files\n`);
    }
    const report = index.refresh();
    for (const bad of report.unreadable) {
      process.stderr.write(`runlens: run folder ${safeText(bad.dir)} cannot be read (${safeText(bad.reason)}); it is left as it is\n`);
    }
    const runs = index.query(where, sort, limit);
    if (fs.existsSync(path.join(storeDir, 'runs'))) {
      // The index is a cache: when it cannot be saved (a full disk, a read-only store), the answer still stands.
      try {
        index.save();
      } catch (err) {
        process.stderr.write(`runlens: the index was not saved (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); answered from the run files\n`);
      }
    }
    if (flag(parsed, 'json')) {
      const records = runs.map((r) => readRunRecord(storeDir, r.id));
      process.stdout.write(JSON.stringify(records, null, 2) + '\n');
      return 0;
    }
    if (runs.length === 0) {
      process.stdout.write(where ? 'No run matches.\n' : 'No runs recorded here yet. Record one with: runlens run -- python train.py\n');
      return 0;
    }
    const rows = runs.map((r) => [
      r.id.slice(0, 12),
      truncate(safeText(r.name), 32),
      r.status,
      r.startedAt ? formatAge(r.startedAt) : '-',
      r.startedAt ? formatDuration(r.startedAt, r.endedAt) : '-',
      truncate(r.branch ?? (r.snapshot ? '(detached)' : '-'), 20),
      indexedCommit(r),
      r.metrics.slice(0, 3).map((m) => `${m.key}=${formatNumber(m.last)}`).join(' '),
    ]);
    process.stdout.write(table(['ID', 'NAME', 'STATUS', 'STARTED', 'DURATION', 'BRANCH', 'COMMIT', 'METRICS'], rows) + '\n');
    return 0;
  } finally {
    index.close();
  }
}

export const SHOW_USAGE = 'runlens show <id, id prefix or name> [--json]';

export async function showCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, [{ name: 'json' }]);
  const [query] = expectPositionals(parsed, ['a run'], SHOW_USAGE);
  const storeDir = await resolveStoreDir(process.cwd());
  const { runs } = await loadRuns();
  const run = lookup(runs, query!);
  const reproductions = runs
    .filter((r) => r.reproduces === run.id)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
    .map((r) => ({ id: r.id, name: r.name, status: r.status, startedAt: r.startedAt, verdict: reportVerdict(storeDir, r.id) }));
  if (flag(parsed, 'json')) {
    process.stdout.write(JSON.stringify({ ...run, reproductions }, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(describeRun(run));
  const from = pulledFrom(storeDir, run.id);
  if (from) process.stdout.write(section('shared', [`pulled from ${safeText(from)}: a teammate's run, read-only here (runlens pull brings its updates)`]));
  if (run.reproduces) process.stdout.write(section('reproduces', [`${run.reproduces}${runs.find((r) => r.id === run.reproduces) ? ` "${safeText(runs.find((r) => r.id === run.reproduces)!.name)}"` : ' (no longer here)'}: ${safeText(reportVerdict(storeDir, run.id) ?? (run.status === 'running' ? 'running' : 'no report'))}`]));
  process.stdout.write(
    section(
      'reproductions',
      reproductions.map((r) => `${r.id}  ${safeText(r.name)}  ${r.verdict ?? (r.status === 'running' ? 'running' : `no report (${r.status})`)}  ${formatAge(r.startedAt)}`),
    ),
  );
  return 0;
}

function section(title: string, lines: string[]): string {
  const indented = lines.flatMap((l) => l.split('\n')).map((l) => `  ${l}`);
  return indented.length ? `\n${title}\n${indented.join('\n')}\n` : '';
}

function describeRun(run: RunRecord): string {
  const s = safeText;
  let out = `${s(run.name)}  (${run.id})\n`;
  out += `  status    ${run.status}${run.exitCode !== null ? ` (exit ${run.exitCode}${run.signal ? `, ${run.signal}` : ''})` : ''}\n`;
  if (run.command.length) out += `  command   ${s(run.command.join(' '))}\n`;
  out += `  cwd       ${s(run.cwd)}\n`;
  out += `  started   ${run.startedAt} (${formatAge(run.startedAt)}), ran ${formatDuration(run.startedAt, run.endedAt)}\n`;
  if (run.host) out += `  host      ${s(run.user)}@${s(run.host)}\n`;
  else if (run.user) out += `  user      ${s(run.user)}\n`;
  if (run.tags.length) out += `  tags      ${run.tags.map(s).join(', ')}\n`;
  if (run.source) {
    const src = run.source;
    const models = Array.isArray(src.extra.loggedModels) ? (src.extra.loggedModels as { id?: unknown; name?: unknown }[]) : [];
    out += section('imported from', [
      `${SOURCE_NAMES[src.kind] ?? s(src.kind)}  ${s(src.path)}`,
      `run       ${s(src.id)}${src.experiment ? `, experiment ${s(src.experiment)}` : ''}`,
      `imported  ${src.importedAt}${src.missing ? ' (gone from its source since: kept here)' : src.deletedAtSource ? ' (deleted at its source)' : ''}`,
      ...models.map((m) => `model     ${s(m.name ?? '')} (${s(m.id ?? '')})`),
      ...src.notes.map((n) => `note      ${s(n)}`),
    ]);
  }
  if (run.attachedLogs?.length) {
    out += section('attached logs', run.attachedLogs.map((l) => `${SOURCE_NAMES[l.kind] ?? s(l.kind)}  ${s(l.path)}  ${s(l.id)}  (${l.points} point(s))`));
  }
  if (run.git) {
    const g = run.git;
    out += section('code', [
      `branch    ${g.branch ? s(g.branch) : '(detached)'}`,
      `head      ${g.head ?? '(no commit yet)'}`,
      `remote    ${g.remote ? s(g.remote) : '-'}`,
      `snapshot  ${g.snapshot} (${g.ref})${g.dirty ? `, ${g.changes.length} changed file(s)` : ', clean'}`,
      ...g.changes.slice(0, 20).map((c) => `  ${c.status} ${s(c.from ? `${c.from} -> ${c.path}` : c.path)}${c.untracked ? ' (untracked)' : ''}`),
      ...(g.changes.length > 20 ? [`  … and ${g.changes.length - 20} more`] : []),
      ...g.skipped.map((f) => `left out  ${s(f.path)}: ${f.reason}`),
      ...g.notes.map((n) => `note      ${n}`),
    ]);
  } else {
    out += section('code', [run.gitError ?? 'not captured']);
  }
  out += section('params', Object.entries(run.params).map(([k, v]) => `${s(k)} = ${s(v)}${run.paramSources[k] ? `  (${s(run.paramSources[k])})` : ''}`));
  const summary = run.metricsSummary;
  out += section(
    'metrics',
    Object.entries(summary?.metrics ?? {}).map(
      ([k, m]) => `${s(k)}: last ${formatNumber(m.last)}, min ${formatNumber(m.min)}, max ${formatNumber(m.max)} over ${m.count} step(s)${m.nan ? `, ${m.nan} NaN` : ''}`,
    ),
  );
  const hashed = (list: RunRecord['data']) => list.map((d) => `${s(d.path)}  ${d.kind === 'missing' ? 'missing' : `${d.sha256?.slice(0, 16)}…  ${d.files} file(s), ${d.size} bytes`}`);
  out += section('data', hashed(run.data));
  out += section('artifacts', hashed(run.artifacts));
  if (run.env) {
    const e = run.env;
    out += section('environment', [
      `os        ${e.os.type} ${e.os.release} ${e.os.arch}`,
      `cpu       ${s(e.cpu.model)} × ${e.cpu.cores}, ${(e.memoryBytes / 1024 ** 3).toFixed(1)} GiB`,
      `gpus      ${e.gpus.length ? e.gpus.map((g) => s(g.name)).join(', ') : 'none seen'}`,
      ...(e.python ? [`python    ${e.python.version} (${s(e.python.executable)}), ${Object.keys(e.python.packages).length} package(s)`] : []),
    ]);
  }
  if (run.seed) out += section('seed', [`${s(run.seed.value)} (${s(run.seed.source)})`]);
  out += section('problems', run.problems.map(s));
  return out;
}

export const DIFF_USAGE = 'runlens diff <run a> <run b> [--json]';

export async function diffCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, [{ name: 'json' }]);
  const [qa, qb] = expectPositionals(parsed, ['run a', 'run b'], DIFF_USAGE);
  const { runs } = await loadRuns();
  const a = lookup(runs, qa!);
  const b = lookup(runs, qb!);
  const diff = await diffRuns(a, b);
  if (flag(parsed, 'json')) {
    process.stdout.write(JSON.stringify(diff, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n');
    return 0;
  }
  const show = (v: unknown) => (v === undefined ? '(absent)' : safeText(v));
  let out = `a: ${safeText(a.name)} (${a.id})\nb: ${safeText(b.name)} (${b.id})\n`;
  out += section('params that differ', diff.params.length ? [table(['PARAM', 'A', 'B'], diff.params.map((p) => [p.key, show(p.a), show(p.b)]))] : ['(none)']);
  const m = (x: typeof diff.metrics[number]['a']) => (x ? `${formatNumber(x.last)} [${formatNumber(x.min)}, ${formatNumber(x.max)}]` : '(absent)');
  out += section('metrics (last [min, max])', diff.metrics.length ? [table(['METRIC', 'A', 'B'], diff.metrics.map((x) => [x.key, m(x.a), m(x.b)]))] : ['(none)']);
  const envLines = [
    ...(diff.python ? [`python ${show(diff.python.a)} -> ${show(diff.python.b)}`] : []),
    ...diff.packages.map((p) => `${safeText(p.key)} ${show(p.a)} -> ${show(p.b)}`),
  ];
  out += section('packages that differ', envLines.length ? envLines : ['(none)']);
  out += section('data that differs', diff.data.length ? diff.data.map((d) => `${safeText(d.key)} ${show(d.a?.slice(0, 12))} -> ${show(d.b?.slice(0, 12))}${d.files?.length ? ` (${d.files.slice(0, 10).map(safeText).join(', ')}${d.files.length > 10 ? `, and ${d.files.length - 10} more` : ''})` : ''}`) : ['(none)']);
  out += section(
    'files that differ between the snapshots',
    diff.files ? (diff.files.length ? diff.files.map((f) => `${f.status} ${safeText(f.from ? `${f.from} -> ${f.path}` : f.path)}`) : ['(none)']) : [diff.filesError ?? ''],
  );
  process.stdout.write(out);
  return 0;
}
