import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../atomicFile';
import { execGitInput } from '../git/gitClient';
import { locateRepository } from '../git/repository';
import { formatMetricValue } from '../metrics/metricLine';
import { findSeed } from '../params';
import { importedRunId, importedRunSuffix, STORE_MARK_CHARS, storeMark } from '../runId';
import { RUN_RECORD_VERSION, type GitInfo, type MetricsSummary, type RunRecord, type RunSource } from '../runRecord';
import { redactParams } from '../secrets';
import { seriesCacheDir } from '../series/series';
import { parseRunRecord, runDir, runsDir, serializeRunRecord, writeRunRecord } from '../store';
import { ATTACHED_FILE } from './attach';
import { detectSources } from './detect';
import { signatureOf } from './sourceFiles';
import type { FoundSource, ImportedRun, ImportProblem, RunHandle, SourceKind } from './types';

export interface ImportOptions {
  /** Read every source as this kind instead of detecting it. */
  kind?: SourceKind;
  /** List what would be imported; write nothing. */
  dryRun?: boolean;
  onProgress?: (message: string) => void;
}

export interface SourceSummary {
  kind: SourceKind;
  path: string;
  runs: number;
  added: number;
  updated: number;
  unchanged: number;
  /** Runs imported before that the source no longer has: marked missing, kept. */
  missing: number;
  metrics: number;
  points: number;
  skipped: ImportProblem[];
  /** Run ids in RunLens, in the order the source listed them. */
  runIds: string[];
}

export interface ImportSummary {
  sources: SourceSummary[];
  /** Paths where nothing importable was found, or that could not be read. */
  problems: ImportProblem[];
}

const MAX_SKIPPED_SHOWN = 200;

/** Imports every run found under `paths` into the store. Idempotent: a second import of unchanged sources writes nothing. */
export async function importRuns(storeDir: string, paths: string[], options: ImportOptions = {}): Promise<ImportSummary> {
  const summary: ImportSummary = { sources: [], problems: [] };
  const repoRoot = path.dirname(storeDir);
  const existing = existingImportedRuns(storeDir);
  const attached = attachedToRecordedRuns(storeDir);
  for (const given of paths) {
    const root = path.resolve(given);
    if (!fs.existsSync(root)) {
      summary.problems.push({ path: given, reason: 'no such file or folder' });
      continue;
    }
    const sources = await detectSources(root, options.kind);
    if (sources.length === 0) {
      summary.problems.push({ path: given, reason: options.kind ? `no ${options.kind} runs found` : 'no MLflow, TensorBoard, Lightning, dvclive, Keras or Hugging Face logs found' });
      continue;
    }
    for (const source of sources) {
      try {
        summary.sources.push(await importSource(storeDir, repoRoot, source, existing, attached, options));
      } finally {
        source.close?.();
      }
    }
  }
  return summary;
}

/** Sources under `root` with runs not imported yet, and how many: what the editor offers to import. */
export async function pendingImports(storeDir: string, root: string): Promise<{ kind: SourceKind; path: string; runs: number }[]> {
  const sources = await detectSources(root);
  if (!sources.length) return [];
  const existing = existingImportedRuns(storeDir);
  // A read of every run's folder (100,000 runs: a second of the extension host at start): only
  // when a source has runs not imported, which may be logs attached to recorded runs.
  let attached: Set<string> | null = null;
  const repoRoot = path.dirname(storeDir);
  const pending: { kind: SourceKind; path: string; runs: number }[] = [];
  for (const source of sources) {
    try {
      const identity = storeIdentity(repoRoot, source.kind, source.path);
      const handles = (await source.runs([])).filter((h) => !existing.has(importedRunSuffix(identity, h.originalId)));
      if (handles.length) attached ??= attachedToRecordedRuns(storeDir);
      const missing = handles.filter((h) => !attached!.has(`${source.kind}\0${source.path}\0${h.originalId}`)).length;
      if (missing > 0) pending.push({ kind: source.kind, path: identity.slice(source.kind.length + 1), runs: missing });
    } finally {
      source.close?.();
    }
  }
  return pending;
}

/** How a store is named in run identities: relative to the repository when inside it, so a moved clone keeps its ids. */
export function storeIdentity(repoRoot: string, kind: SourceKind, sourcePath: string): string {
  const rel = path.relative(repoRoot, sourcePath);
  const shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : sourcePath;
  return `${kind}:${shown}`;
}

/** Logs attached to recorded runs (each run's attached.json): they belong to those runs and are not imported again. */
function attachedToRecordedRuns(storeDir: string): Set<string> {
  const attached = new Set<string>();
  let names: string[] = [];
  try {
    names = fs.readdirSync(runsDir(storeDir));
  } catch {
    return attached;
  }
  for (const name of names) {
    let entries: unknown;
    const file = path.join(runsDir(storeDir), name, ATTACHED_FILE);
    // Most runs attach nothing: a stat, not an exception made per run.
    if (!fs.existsSync(file)) continue;
    try {
      entries = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    if (!Array.isArray(entries)) continue;
    for (const e of entries as { kind?: unknown; path?: unknown; id?: unknown }[]) attached.add(`${String(e.kind)}\0${String(e.path)}\0${String(e.id)}`);
  }
  return attached;
}

/** The runs folder's names by id suffix, read once: finding an imported run costs a map lookup, not a read. */
function existingImportedRuns(storeDir: string): Map<string, string> {
  const bySuffix = new Map<string, string>();
  let names: string[] = [];
  try {
    names = fs.readdirSync(runsDir(storeDir));
  } catch {
    // no runs yet
  }
  for (const name of names) if (name.length === 26) bySuffix.set(name.slice(10), name);
  return bySuffix;
}

/**
 * Whether an imported run's record already holds this signature (and is not
 * marked missing). A no-change re-import asks this of every run, so it looks
 * for the two fields in the text rather than parsing each record (bench).
 */
function isUnchanged(storeDir: string, id: string, signature: string): boolean {
  try {
    const text = fs.readFileSync(path.join(runDir(storeDir, id), 'run.json'), 'utf8');
    // `source` is the record's last field; its own `signature` and `missing` come first in it, before any source tag.
    const source = text.slice(text.lastIndexOf('\n  "source": {'));
    return source.includes(`\n    "signature": "${signature}",\n`) && source.includes('\n    "missing": false,\n');
  } catch {
    return false;
  }
}

function readExisting(storeDir: string, id: string): RunRecord | null {
  try {
    return parseRunRecord(fs.readFileSync(path.join(runDir(storeDir, id), 'run.json'), 'utf8'), id);
  } catch {
    return null;
  }
}

async function importSource(
  storeDir: string,
  repoRoot: string,
  source: FoundSource,
  existing: Map<string, string>,
  attached: Set<string>,
  options: ImportOptions,
): Promise<SourceSummary> {
  const identity = storeIdentity(repoRoot, source.kind, source.path);
  const shownPath = identity.slice(source.kind.length + 1);
  const result: SourceSummary = { kind: source.kind, path: shownPath, runs: 0, added: 0, updated: 0, unchanged: 0, missing: 0, metrics: 0, points: 0, skipped: [], runIds: [] };
  let handles: RunHandle[];
  try {
    handles = await source.runs(result.skipped);
  } catch (err) {
    result.skipped.push({ path: source.path, reason: (err as Error).message });
    return result;
  }
  const own = handles.filter((h) => !attached.has(`${source.kind}\0${source.path}\0${h.originalId}`));
  if (own.length < handles.length) result.skipped.push({ path: source.path, reason: `${handles.length - own.length} run(s) attached to runs recorded with runlens run; left to them` });
  handles = own;
  result.runs = handles.length;
  options.onProgress?.(`${source.kind} ${shownPath}: ${handles.length} run(s)`);
  const seen = new Set<string>();
  const written: RunRecord[] = [];
  for (const handle of handles) {
    const suffix = importedRunSuffix(identity, handle.originalId);
    if (seen.has(suffix)) continue;
    seen.add(suffix);
    const signature = signatureOf(handle.files);
    const knownId = existing.get(suffix);
    if (knownId && isUnchanged(storeDir, knownId, signature)) {
      result.unchanged++;
      result.runIds.push(knownId);
      continue;
    }
    const known = knownId ? readExisting(storeDir, knownId) : null;
    let run: ImportedRun;
    try {
      run = await handle.load();
    } catch (err) {
      result.skipped.push({ path: handle.files[0] ?? source.path, reason: (err as Error).message.split('\n')[0]! });
      continue;
    }
    const record = toRecord(run, source, shownPath, signature, handle, knownId);
    result.metrics += run.metrics.size;
    for (const series of run.metrics.values()) result.points += series.value.length;
    result.runIds.push(record.id);
    if (known) result.updated++;
    else result.added++;
    if (options.dryRun) continue;
    writeImportedRecord(storeDir, record);
    existing.set(suffix, record.id);
    written.push(record);
  }
  if (!options.dryRun) {
    await linkCommits(storeDir, written);
    result.missing = markMissing(storeDir, identity, seen, existing);
  }
  if (result.skipped.length > MAX_SKIPPED_SHOWN) result.skipped.splice(MAX_SKIPPED_SHOWN, Infinity, { path: source.path, reason: `… and ${result.skipped.length - MAX_SKIPPED_SHOWN} more` });
  return result;
}

function summarize(run: ImportedRun): MetricsSummary {
  const summary: MetricsSummary = { lines: 0, lastStep: null, metrics: {}, malformed: 0, malformedSamples: [] };
  for (const [key, series] of run.metrics) {
    const n = series.value.length;
    if (n === 0) continue;
    let min = NaN;
    let max = NaN;
    let nan = 0;
    for (const v of series.value) {
      if (Number.isNaN(v)) nan++;
      else {
        if (!(v >= min)) min = v;
        if (!(v <= max)) max = v;
      }
    }
    const lastStep = series.step[n - 1]!;
    summary.metrics[key] = { last: series.value[n - 1]!, min, max, count: n, nan, lastStep };
    summary.lines += n;
    if (summary.lastStep === null || lastStep > summary.lastStep) summary.lastStep = lastStep;
  }
  return summary;
}

/** JavaScript's Date holds ±8.64e15 ms; a log's time outside it (a corrupt field) is no time at all. */
const MAX_DATE_MS = 8.64e15;

function validTime(ms: number | null | undefined): number | null {
  return typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? ms : null;
}

function lastTime(run: ImportedRun): number | null {
  let latest: number | null = null;
  for (const series of run.metrics.values()) {
    const t = validTime((series.t[series.t.length - 1] ?? NaN) * 1000);
    if (t !== null && (latest === null || t > latest)) latest = t;
  }
  return latest;
}

function firstTime(run: ImportedRun): number | null {
  let earliest: number | null = null;
  for (const series of run.metrics.values()) {
    const t = validTime((series.t[0] ?? NaN) * 1000);
    if (t !== null && (earliest === null || t < earliest)) earliest = t;
  }
  return earliest;
}

function fileTime(files: string[]): number {
  let oldest = Infinity;
  for (const file of files) {
    try {
      oldest = Math.min(oldest, fs.statSync(file).mtimeMs);
    } catch {
      // gone
    }
  }
  return Number.isFinite(oldest) ? oldest : 0;
}

function toRecord(run: ImportedRun, found: FoundSource, shownPath: string, signature: string, handle: RunHandle, knownId: string | undefined): RunRecord {
  const identity = `${found.kind}:${shownPath}`;
  for (const [what, value] of [['start', run.startedAt], ['end', run.endedAt]] as const) {
    if (value !== null && validTime(value) === null) run.notes.push(`the source's ${what} time (${String(value).slice(0, 30)}) is not a time; left out`);
  }
  const started = validTime(run.startedAt) ?? firstTime(run) ?? fileTime(handle.files);
  const id = knownId ?? importedRunId(started, identity, handle.originalId);
  const ended = run.status === 'running' ? null : (validTime(run.endedAt) ?? lastTime(run) ?? started);
  const params = redactParams(run.params);
  const source: RunSource = {
    kind: found.kind,
    path: shownPath,
    id: run.originalId,
    experiment: run.experiment,
    importedAt: new Date().toISOString(),
    signature,
    deletedAtSource: run.deletedAtSource,
    missing: false,
    tags: redactParams(run.tags),
    notes: run.notes,
    extra: run.extra,
  };
  return {
    version: RUN_RECORD_VERSION,
    id,
    name: run.name,
    command: [],
    cwd: found.path,
    cwdInRepo: null,
    startedAt: new Date(started).toISOString(),
    endedAt: ended === null ? null : new Date(Math.max(ended, started)).toISOString(),
    status: run.status,
    exitCode: null,
    signal: null,
    pid: 0,
    host: '',
    user: run.user ?? '',
    tags: [],
    git: null,
    gitError: run.gitCommit ? `imported from ${found.kind}: commit ${run.gitCommit.slice(0, 12)} is not in this repository` : `imported from ${found.kind}, which kept no code snapshot`,
    params,
    paramSources: Object.fromEntries(Object.keys(params).map((key) => [key, `import:${found.kind}`])),
    configFiles: [],
    env: null,
    data: [],
    artifacts: [],
    seed: findSeed(params, {}),
    metricsSummary: summarize(run),
    problems: [],
    source,
    ...(run.gitCommit ? { pendingCommit: run.gitCommit } : {}),
  } as RunRecord;
}

/**
 * An imported run's record. Its points stay in the source: metrics.jsonl is
 * made from the source when a chart first asks (`materializeImportedSeries`),
 * so importing 10,000 runs costs reading them, not copying them. An update
 * drops the old copy and its series cache, so the next chart reads it anew.
 */
function writeImportedRecord(storeDir: string, record: RunRecord): void {
  const dir = runDir(storeDir, record.id);
  fs.mkdirSync(dir, { recursive: true });
  fs.rmSync(path.join(dir, 'metrics.jsonl'), { force: true });
  fs.rmSync(seriesCacheDir(storeDir, record.id), { recursive: true, force: true });
  const { pendingCommit: _pending, ...plain } = record as RunRecord & { pendingCommit?: string };
  // The source stays the truth: what an import writes can be written again, so it is not fsynced.
  writeRunRecord(storeDir, plain, false);
}

/**
 * metrics.jsonl of an imported run, from its source: one line per point, each
 * metric's points together and in order, written beside and renamed over, so
 * a reader never sees half of it.
 */
export function writeImportedSeries(storeDir: string, id: string, run: ImportedRun): void {
  const dir = runDir(storeDir, id);
  const file = path.join(dir, 'metrics.jsonl');
  const tmp = path.join(dir, `.metrics.jsonl.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    let chunk = '';
    for (const [key, series] of run.metrics) {
      const keyText = JSON.stringify(key);
      for (let i = 0; i < series.value.length; i++) {
        const t = series.t[i]!;
        chunk += `{"step":${formatMetricValue(series.step[i]!)},${Number.isFinite(t) ? `"t":${t},` : ''}${keyText}:${formatMetricValue(series.value[i]!)}}\n`;
        if (chunk.length > 1 << 20) {
          fs.writeSync(fd, chunk);
          chunk = '';
        }
      }
    }
    if (chunk) fs.writeSync(fd, chunk);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * Makes sure every imported run among `ids` has its metrics.jsonl, reading
 * it from the source when it has none yet. Recorded runs are left alone. A
 * source that is gone or unreadable leaves the run without points and says
 * why, per run.
 */
export async function materializeImportedSeries(storeDir: string, ids: string[]): Promise<{ id: string; problem: string }[]> {
  const problems: { id: string; problem: string }[] = [];
  for (const id of ids) {
    const dir = runDir(storeDir, id);
    if (fs.existsSync(path.join(dir, 'metrics.jsonl'))) continue;
    const record = readExisting(storeDir, id);
    if (!record?.source) continue;
    try {
      const run = await loadFromSource(record);
      if (!run) {
        problems.push({ id, problem: `run ${record.source.id} is no longer in ${record.source.kind} ${record.source.path}` });
        continue;
      }
      writeImportedSeries(storeDir, id, run);
    } catch (err) {
      problems.push({ id, problem: `${record.source.kind} ${record.source.path}: ${(err as Error).message.split('\n')[0]}` });
    }
  }
  return problems;
}

async function loadFromSource(record: RunRecord): Promise<ImportedRun | null> {
  const source = record.source!;
  const where = record.cwd && path.isAbsolute(record.cwd) ? record.cwd : source.path;
  if (!fs.existsSync(where)) return null;
  for (const found of await detectSources(where, source.kind as SourceKind)) {
    try {
      if (found.path !== where) continue;
      const handle = (await found.runs([])).find((h) => h.originalId === source.id);
      if (handle) return await handle.load();
    } finally {
      found.close?.();
    }
  }
  return null;
}

/**
 * A run whose source names a commit that this repository has (MLflow's
 * `mlflow.source.git.commit`) gets that commit as its snapshot, pinned under
 * refs/runlens/runs/<id> like a recorded run's, so Open Commit and Open File
 * at Run work for it. One `cat-file` and one `update-ref` for all of them.
 */
async function linkCommits(storeDir: string, records: RunRecord[]): Promise<void> {
  const pending = records.filter((r) => (r as RunRecord & { pendingCommit?: string }).pendingCommit);
  if (pending.length === 0) return;
  let root: string;
  try {
    root = (await locateRepository(path.dirname(storeDir))).root;
  } catch {
    return;
  }
  const commits = pending.map((r) => (r as RunRecord & { pendingCommit: string }).pendingCommit.replace(/[^0-9a-fA-F]/g, '').slice(0, 64));
  let answers: string[];
  try {
    answers = (await execGitInput(root, ['cat-file', '--batch-check=%(objectname) %(objecttype)'], commits.map((c) => `${c || 'x'}^{commit}\n`).join(''))).split('\n');
  } catch {
    return;
  }
  const updates: string[] = [];
  const linked: { record: RunRecord; git: GitInfo }[] = [];
  pending.forEach((record, i) => {
    const [sha, type] = (answers[i] ?? '').split(' ');
    if (type !== 'commit' || !sha) return;
    const ref = `refs/runlens/runs/${record.id}`;
    updates.push(`update ${ref} ${sha}\n`);
    linked.push({
      record,
      git: {
        root,
        head: sha,
        branch: null,
        remote: null,
        dirty: false,
        snapshot: sha,
        tree: '',
        ref,
        changes: [],
        skipped: [],
        submodules: [],
        notes: [`the commit ${record.source?.kind ?? 'the source'} tagged the run with; changes that were not committed then are not known`],
      },
    });
  });
  if (updates.length === 0) return;
  await execGitInput(root, ['update-ref', '--stdin'], updates.join(''));
  for (const { record, git } of linked) {
    const { pendingCommit: _pending, ...plain } = record as RunRecord & { pendingCommit?: string };
    writeRunRecord(storeDir, { ...plain, git, gitError: null }, false);
  }
}

/** Runs imported from this store before that it no longer lists: marked missing, with a problem, and kept. */
function markMissing(storeDir: string, identity: string, seen: Set<string>, existing: Map<string, string>): number {
  const mark = storeMark(identity);
  let missing = 0;
  for (const [suffix, id] of existing) {
    if (suffix.slice(0, STORE_MARK_CHARS) !== mark || seen.has(suffix)) continue;
    const record = readExisting(storeDir, id);
    if (!record?.source || `${record.source.kind}:${record.source.path}` !== identity) continue;
    missing++;
    if (record.source.missing) continue;
    const problems = [...record.problems, `gone from ${record.source.kind} ${record.source.path} at the import of ${new Date().toISOString()}; kept here`];
    writeFileAtomic(path.join(runDir(storeDir, id), 'run.json'), serializeRunRecord({ ...record, source: { ...record.source, missing: true }, problems }), false);
  }
  return missing;
}
