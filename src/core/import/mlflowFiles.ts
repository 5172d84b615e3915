import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunStatus } from '../runRecord';
import { emptyRun, newSeries, SourceFormatError, type FoundSource, type ImportProblem, type ImportedRun, type RunHandle, type SeriesColumns } from './types';
import { entriesInside, filesUnder, isDirInside, isFileInside, parseNumber, parseToolYaml, readTextFile, typedParam } from './sourceFiles';

/**
 * MLflow's file store (`mlruns/`): `<experiment>/meta.yaml`, and per run
 * `<experiment>/<run>/meta.yaml` with `params/`, `tags/` and `metrics/`, one
 * file per key (keys with `/` are folders). MLflow 3 keeps logged models in
 * `<experiment>/models/m-*` and may write every metric line twice. Deleted
 * experiments sit in `.trash/`. A run folder without meta.yaml holds
 * artifacts only.
 */

/** MLflow's RunStatus enum as the file store writes it. */
const STATUS_BY_NUMBER: Record<number, RunStatus> = { 1: 'running', 2: 'running', 3: 'finished', 4: 'failed', 5: 'killed' };

export function mlflowStatus(value: unknown): RunStatus {
  if (typeof value === 'number') return STATUS_BY_NUMBER[value] ?? 'finished';
  const text = String(value ?? '').toUpperCase();
  return ({ RUNNING: 'running', SCHEDULED: 'running', FINISHED: 'finished', FAILED: 'failed', KILLED: 'killed' } as Record<string, RunStatus>)[text] ?? 'finished';
}

export function looksLikeMlruns(root: string, dir: string, forced = false): boolean {
  if (forced || path.basename(dir) === 'mlruns') return true;
  // A renamed store: experiment folders whose meta.yaml names an artifact location.
  for (const entry of entriesInside(root, dir).slice(0, 50)) {
    const meta = path.join(dir, entry.name, 'meta.yaml');
    if (!isFileInside(root, meta)) continue;
    try {
      if (/^artifact_location:/m.test(readTextFile(meta, 1 << 16)) && /^experiment_id:/m.test(readTextFile(meta, 1 << 16))) return true;
    } catch {
      // not one
    }
  }
  return false;
}

function readMeta(file: string): Record<string, unknown> {
  const value = parseToolYaml(readTextFile(file, 1 << 20));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SourceFormatError('meta.yaml does not hold a mapping');
  return value as Record<string, unknown>;
}

interface LoggedModel {
  id: string;
  name: string | null;
  status: unknown;
  dir: string;
  files: string[];
}

export function mlflowFileStore(root: string, store: string): FoundSource {
  return {
    kind: 'mlflow',
    path: store,
    async runs(problems: ImportProblem[]): Promise<RunHandle[]> {
      const handles: RunHandle[] = [];
      const experimentDirs: { dir: string; trashed: boolean }[] = [];
      for (const entry of entriesInside(root, store)) {
        const dir = path.join(store, entry.name);
        if (!isDirInside(root, dir)) continue;
        if (entry.name === '.trash') {
          for (const trashed of entriesInside(root, dir)) if (isDirInside(root, path.join(dir, trashed.name))) experimentDirs.push({ dir: path.join(dir, trashed.name), trashed: true });
        } else if (!entry.name.startsWith('.')) {
          experimentDirs.push({ dir, trashed: false });
        }
      }
      for (const { dir, trashed } of experimentDirs) {
        const metaFile = path.join(dir, 'meta.yaml');
        if (!isFileInside(root, metaFile)) continue; // not an experiment folder
        let experiment: Record<string, unknown>;
        try {
          experiment = readMeta(metaFile);
        } catch (err) {
          problems.push({ path: metaFile, reason: (err as Error).message });
          continue;
        }
        const experimentName = typeof experiment.name === 'string' ? experiment.name : path.basename(dir);
        const experimentDeleted = trashed || experiment.lifecycle_stage === 'deleted';
        const models = loggedModels(root, dir, problems);
        let artifactOnly = 0;
        for (const entry of entriesInside(root, dir)) {
          const runDir = path.join(dir, entry.name);
          if (entry.name === 'models' || entry.name === 'datasets' || !(entry.isDirectory() || isDirInside(root, runDir))) continue;
          // One listing of the run folder tells which of its parts are plain files and folders: a no-change
          // re-import of a big store is mostly these lookups (bench).
          const parts = new Map(entriesInside(root, runDir, entry.isDirectory()).map((part) => [part.name, part]));
          const meta = parts.get('meta.yaml');
          if (!meta || !(meta.isFile() || isFileInside(root, path.join(runDir, 'meta.yaml')))) {
            artifactOnly++;
            continue;
          }
          const attached = models.get(entry.name) ?? [];
          const files = [path.join(runDir, 'meta.yaml')];
          for (const sub of ['params', 'tags', 'metrics', 'inputs']) {
            const part = parts.get(sub);
            if (!part || part.isFile()) continue;
            for (const file of filesUnder(root, path.join(runDir, sub), 16, '', part.isDirectory())) files.push(path.join(runDir, sub, file));
          }
          handles.push({
            originalId: entry.name,
            files: [...files, ...attached.flatMap((m) => m.files)],
            load: async () => loadRun(root, runDir, entry.name, experimentName, experimentDeleted, attached),
          });
        }
        if (artifactOnly > 0) problems.push({ path: dir, reason: `${artifactOnly} folder(s) without meta.yaml hold artifacts, not runs; skipped` });
      }
      return handles;
    },
  };
}

/** MLflow 3's logged models, by the run that logged them. They are not runs: each is attached to its run. */
function loggedModels(root: string, experimentDir: string, problems: ImportProblem[]): Map<string, LoggedModel[]> {
  const byRun = new Map<string, LoggedModel[]>();
  const modelsDir = path.join(experimentDir, 'models');
  for (const entry of entriesInside(root, modelsDir)) {
    const dir = path.join(modelsDir, entry.name);
    const metaFile = path.join(dir, 'meta.yaml');
    if (!isFileInside(root, metaFile)) continue;
    try {
      const meta = readMeta(metaFile);
      const runId = typeof meta.source_run_id === 'string' ? meta.source_run_id : null;
      if (!runId) continue;
      const files = [metaFile, ...filesUnder(root, path.join(dir, 'metrics')).map((f) => path.join(dir, 'metrics', f))];
      const list = byRun.get(runId) ?? [];
      list.push({ id: String(meta.model_id ?? entry.name), name: typeof meta.name === 'string' ? meta.name : null, status: meta.status, dir, files });
      byRun.set(runId, list);
    } catch (err) {
      problems.push({ path: metaFile, reason: (err as Error).message });
    }
  }
  return byRun;
}

/** The text of one param or tag file: what was logged, as it was logged. */
function keyFiles(root: string, dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const rel of filesUnder(root, dir)) out.set(rel, readTextFile(path.join(dir, rel), 1 << 20));
  return out;
}

async function loadRun(root: string, runDir: string, folderId: string, experiment: string, experimentDeleted: boolean, models: LoggedModel[]): Promise<ImportedRun> {
  const meta = readMeta(path.join(runDir, 'meta.yaml'));
  const runId = String(meta.run_id ?? meta.run_uuid ?? folderId);
  const tags = keyFiles(root, path.join(runDir, 'tags'));
  const run = emptyRun(runId, '');
  run.experiment = experiment;
  const metaName = typeof meta.run_name === 'string' && meta.run_name ? meta.run_name : typeof meta.name === 'string' && meta.name ? meta.name : '';
  run.name = metaName || tags.get('mlflow.runName') || runId.slice(0, 8);
  run.status = mlflowStatus(meta.status);
  run.startedAt = typeof meta.start_time === 'number' ? meta.start_time : null;
  run.endedAt = typeof meta.end_time === 'number' ? meta.end_time : null;
  run.user = typeof meta.user_id === 'string' && meta.user_id ? meta.user_id : (tags.get('mlflow.user') ?? null);
  run.deletedAtSource = experimentDeleted || meta.lifecycle_stage === 'deleted';
  run.tags = Object.fromEntries(tags);
  run.gitCommit = tags.get('mlflow.source.git.commit')?.trim() || null;
  for (const [key, value] of keyFiles(root, path.join(runDir, 'params'))) run.params[key] = typedParam(value);
  if (typeof meta.artifact_uri === 'string') run.extra.artifactUri = meta.artifact_uri;
  for (const rel of filesUnder(root, path.join(runDir, 'metrics'))) {
    const { malformed, ...series } = readMetricFile(path.join(runDir, 'metrics', rel), 3);
    run.metrics.set(rel, series);
    if (malformed > 0) run.notes.push(`metrics/${rel}: ${malformed} line(s) that are not "<timestamp> <value> [<step>]" skipped`);
  }
  const inputs = filesUnder(root, path.join(runDir, 'inputs'));
  if (inputs.length > 0) run.extra.inputs = inputs;
  if (models.length > 0) {
    run.extra.loggedModels = models.map((m) => {
      const metrics: Record<string, number> = {};
      for (const rel of filesUnder(root, path.join(m.dir, 'metrics'))) {
        const series = readMetricFile(path.join(m.dir, 'metrics', rel), 4);
        if (series.value.length > 0) metrics[rel] = series.value[series.value.length - 1]!;
      }
      return { id: m.id, name: m.name, status: m.status, metrics };
    });
  }
  return run;
}

interface MetricLines {
  steps: number[];
  times: number[];
  values: number[];
  malformed: number;
  sorted: boolean;
}

/**
 * The metric lines of `text` up to `length`. A function of its own with its counts in locals: as a
 * closure over the reader's variables the loop ran slower (bench).
 */
/** The lines of `text` up to `length`, each ended by a newline or by the end. */
function scanMetricLines(text: string, length: number, fields: 3 | 4, acc: MetricLines): void {
  const { steps, times, values } = acc;
  let malformed = 0;
  let sorted = acc.sorted;
  for (let start = 0; start < length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0 || end > length) end = length;
    const lineEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const a = text.indexOf(' ', start);
    const from = start;
    start = end + 1;
    if (lineEnd === from) continue;
    if (a < 0 || a >= lineEnd) {
      malformed++;
      continue;
    }
    let b = text.indexOf(' ', a + 1);
    if (b < 0 || b > lineEnd) b = lineEnd;
    let c = b < lineEnd ? text.indexOf(' ', b + 1) : -1;
    if (c < 0 || c > lineEnd) c = lineEnd;
    if (c < lineEnd && (fields === 3 || (text.indexOf(' ', c + 1) >= 0 && text.indexOf(' ', c + 1) < lineEnd))) {
      malformed++;
      continue;
    }
    const ms = Number(text.slice(from, a));
    const valueText = text.slice(a + 1, b);
    let value = Number(valueText);
    if (Number.isNaN(value)) value = parseNumber(valueText) ?? Number.NaN;
    const step = b < lineEnd ? Number(text.slice(b + 1, c)) : 0;
    if (!Number.isFinite(ms) || !Number.isFinite(step) || (Number.isNaN(value) && parseNumber(valueText) === null) || valueText === '') {
      malformed++;
      continue;
    }
    const n = steps.length;
    if (n > 0 && (step < steps[n - 1]! || (step === steps[n - 1]! && ms < times[n - 1]!))) sorted = false;
    steps.push(step);
    times.push(ms);
    values.push(value);
  }
  acc.malformed += malformed;
  acc.sorted = sorted;
}

/**
 * One metric file: lines `<ms timestamp> <value> [<step>]` (a logged model's
 * have a fourth field, its run id). Points are ordered by step, then time, as
 * MLflow orders them, and a point written twice (MLflow 3 writes every line
 * twice) counts once. Parsed by hand over the text: this loop is most of an
 * import's time (bench: 3× faster than splitting each line).
 */
const METRIC_CHUNK = 1024 * 1024;
/** One read buffer for every metric file (the reading is synchronous): a fresh one per file was a third of an import (bench). */
let metricChunk: Buffer | null = null;

export function readMetricFile(file: string, fields: 3 | 4): SeriesColumns & { malformed: number } {
  const steps: number[] = [];
  const times: number[] = [];
  const values: number[] = [];
  const acc: MetricLines = { steps, times, values, malformed: 0, sorted: true };
  const scan = (text: string, length: number) => scanMetricLines(text, length, fields, acc);
  // Streamed in chunks: a metric logged every step of a long training is tens of MB. Each chunk's
  // lines up to its last newline are read; the unfinished line waits for the next chunk.
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = (metricChunk ??= Buffer.allocUnsafe(METRIC_CHUNK));
    let carry = '';
    // A line longer than a chunk is malformed whatever it holds: it is dropped up to its newline, not kept growing.
    let inLongLine = false;
    for (let pos = 0; ; ) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, pos);
      pos += n;
      if (n === 0) {
        if (!inLongLine) scan(carry, carry.length);
        break;
      }
      let text = carry + chunk.toString('latin1', 0, n);
      if (inLongLine) {
        const newline = text.indexOf('\n');
        if (newline < 0) continue;
        text = text.slice(newline + 1);
        inLongLine = false;
      }
      const lastNewline = text.lastIndexOf('\n');
      scan(text, lastNewline + 1);
      carry = text.slice(lastNewline + 1);
      if (carry.length > METRIC_CHUNK) {
        acc.malformed++;
        carry = '';
        inLongLine = true;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  let order: number[] | null = null;
  if (!acc.sorted) order = steps.map((_, i) => i).sort((i, j) => steps[i]! - steps[j]! || times[i]! - times[j]! || i - j);
  const series = { ...newSeries(), malformed: acc.malformed };
  let lastStep = NaN;
  let lastMs = NaN;
  let lastValue = NaN;
  for (let k = 0; k < steps.length; k++) {
    const i = order ? order[k]! : k;
    const step = steps[i]!;
    const ms = times[i]!;
    const value = values[i]!;
    if (step === lastStep && ms === lastMs && (value === lastValue || (Number.isNaN(value) && Number.isNaN(lastValue)))) continue;
    lastStep = step;
    lastMs = ms;
    lastValue = value;
    series.step.push(step);
    series.t.push(ms / 1000);
    series.value.push(value);
  }
  return series;
}
