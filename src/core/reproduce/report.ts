import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../atomicFile';
import { execGit, splitNul } from '../git/gitClient';
import { MetricLineScanner } from '../series/scanner';
import { GrowableFloat64 } from '../series/growable';
import { readWholeLines } from '../wholeLines';
import type { RunRecord, SeedInfo } from '../runRecord';
import { runDir } from '../store';
import { DEFAULT_TOLERANCE, type MetricAgreement, type ReproductionReport, type Tolerance } from './reportTypes';

export * from './reportTypes';

export const REPORT_FILE = 'reproduction.json';
const READ_CHUNK = 8 * 1024 * 1024;

/** A path declared relative to the run's folder, as a path in the repository (posix, no trailing slash). */
export function pathInRepo(cwdInRepo: string | null, declared: string): string {
  return path.posix.normalize(path.posix.join(cwdInRepo ?? '', declared.split(path.sep).join('/'))).replace(/\/$/, '');
}

export function agree(a: number, b: number, tolerance: Tolerance): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true; // ±Infinity included
  return Math.abs(a - b) <= tolerance.absolute + tolerance.relative * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * One metric's values in file order, then by step with the last value logged for a step winning
 * (as on a chart). Two typed arrays: 16 bytes a point, where a Map of steps took several times
 * that, and a report of two runs of a million steps held both whole.
 */
class StepColumn {
  private readonly logged = { steps: new GrowableFloat64(256), values: new GrowableFloat64(256) };
  private inOrder = true;
  steps: Float64Array<ArrayBufferLike> = new Float64Array(0);
  values: Float64Array<ArrayBufferLike> = new Float64Array(0);
  length = 0;

  private lastStep = -Infinity;

  push(step: number, value: number): void {
    if (step < this.lastStep) this.inOrder = false;
    this.lastStep = step;
    this.logged.steps.push(step);
    this.logged.values.push(value);
  }

  /** Sorted by step, one value per step: the last one logged. */
  byStep(): this {
    let steps = this.logged.steps.view();
    let values = this.logged.values.view();
    if (!this.inOrder) {
      // Rare (a script that logs steps out of order): sorted by step, then by when it was logged.
      const order = Array.from({ length: steps.length }, (_, i) => i).sort((a, b) => steps[a]! - steps[b]! || a - b);
      const [s, v] = [steps, values];
      steps = Float64Array.from(order, (i) => s[i]!);
      values = Float64Array.from(order, (i) => v[i]!);
    }
    let kept = 0;
    for (let i = 0; i < steps.length; i++) {
      if (kept > 0 && steps[kept - 1] === steps[i]) kept--;
      steps[kept] = steps[i]!;
      values[kept++] = values[i]!;
    }
    this.steps = steps;
    this.values = values;
    this.length = kept;
    return this;
  }
}

/** Each metric's values by step (see StepColumn), read by the series' scanner: no object per line. */
function stepValues(storeDir: string, runId: string): Map<string, StepColumn> {
  const out = new Map<string, StepColumn>();
  const file = path.join(runDir(storeDir, runId), 'metrics.jsonl');
  if (!fs.existsSync(file)) return out;
  // Lines mostly name the same metrics in turn: the last one's column is looked at first.
  let lastKey: string | null = null;
  let last: StepColumn | null = null;
  const scanner = new MetricLineScanner((key, step, _t, value) => {
    let column = key === lastKey ? last : out.get(key);
    if (!column) out.set(key, (column = new StepColumn()));
    lastKey = key;
    last = column;
    column.push(step, value);
  });
  readWholeLines(file, 0, (text) => scanner.scan(text), undefined, READ_CHUNK);
  for (const column of out.values()) column.byStep();
  return out;
}

function compareMetrics(storeDir: string, original: RunRecord, reproduction: RunRecord, tolerance: Tolerance): MetricAgreement[] {
  const a = stepValues(storeDir, original.id);
  const b = stepValues(storeDir, reproduction.id);
  const keys = [...new Set([...a.keys(), ...b.keys(), ...Object.keys(original.metricsSummary?.metrics ?? {})])].sort();
  const none = new StepColumn();
  return keys.map((key) => {
    const sa = a.get(key) ?? none;
    const sb = b.get(key) ?? none;
    let compared = 0;
    let missing = 0;
    let maxDiff: number | null = null;
    let firstDivergent: number | null = null;
    // Both in step order: one walk over the two, a step logged by only one run counted as missing.
    let i = 0;
    let j = 0;
    while (i < sa.length || j < sb.length) {
      const stepA = i < sa.length ? sa.steps[i]! : Infinity;
      const stepB = j < sb.length ? sb.steps[j]! : Infinity;
      if (stepA !== stepB) {
        missing++;
        firstDivergent ??= Math.min(stepA, stepB);
        if (stepA < stepB) i++;
        else j++;
        continue;
      }
      const va = sa.values[i++]!;
      const vb = sb.values[j++]!;
      compared++;
      const diff = Number.isNaN(va) && Number.isNaN(vb) ? 0 : Number.isNaN(va) || Number.isNaN(vb) ? Infinity : va === vb ? 0 : Math.abs(va - vb);
      maxDiff = Math.max(maxDiff ?? 0, diff);
      if (!agree(va, vb, tolerance)) firstDivergent ??= stepA;
    }
    const originalFinal = original.metricsSummary?.metrics[key]?.last ?? null;
    const reproductionFinal = reproduction.metricsSummary?.metrics[key]?.last ?? null;
    const finalsAgree = originalFinal !== null && reproductionFinal !== null ? agree(originalFinal, reproductionFinal, tolerance) : originalFinal === reproductionFinal;
    return { key, originalFinal, reproductionFinal, maxStepDifference: maxDiff, stepsCompared: compared, stepsMissing: missing, firstDivergentStep: firstDivergent, within: finalsAgree && firstDivergent === null };
  });
}

/** Files whose content differs between the two snapshots; declared data is compared by hash instead. */
async function compareCode(original: RunRecord, reproduction: RunRecord, repoRoot: string): Promise<ReproductionReport['code']> {
  if (!original.git || !reproduction.git) return null;
  if (original.git.tree === reproduction.git.tree) return { same: true, files: [] };
  const fields = splitNul(await execGit(repoRoot, ['diff-tree', '-r', '-z', '--no-renames', '--name-status', original.git.tree, reproduction.git.tree]));
  const dataPaths = original.data
    .filter((d) => !path.isAbsolute(d.path))
    .map((d) => pathInRepo(original.cwdInRepo, d.path));
  const files: { path: string; status: string }[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const file = fields[i + 1]!;
    if (dataPaths.some((d) => file === d || file.startsWith(`${d}/`))) continue;
    files.push({ path: file, status: fields[i]! });
  }
  return { same: files.length === 0, files };
}

function describeSeed(seed: SeedInfo | null): string {
  return seed ? `${seed.value} (from ${seed.source})` : 'none recorded';
}

/** What differs between a run and its reproduction, and whether the results agree. */
export async function buildReport(storeDir: string, repoRoot: string, original: RunRecord, reproduction: RunRecord, tolerance: Tolerance = DEFAULT_TOLERANCE): Promise<ReproductionReport> {
  const causes: ReproductionReport['causes'] = [];

  const outcome = { original: original.status, reproduction: reproduction.status, exitCodes: [original.exitCode, reproduction.exitCode] as [number | null, number | null] };
  if (outcome.original !== outcome.reproduction || outcome.exitCodes[0] !== outcome.exitCodes[1]) {
    causes.push({ kind: 'outcome', text: `the original ${outcome.original} (exit ${outcome.exitCodes[0]}), the reproduction ${outcome.reproduction} (exit ${outcome.exitCodes[1]})` });
  }

  const code = await compareCode(original, reproduction, repoRoot);
  if (code && !code.same) causes.push({ kind: 'code', text: `code differs in ${code.files.length} file(s): ${code.files.slice(0, 5).map((f) => `${f.path} (${f.status})`).join(', ')}${code.files.length > 5 ? ', …' : ''}` });

  const data = original.data.map((d) => {
    const now = reproduction.data.find((r) => r.path === d.path);
    return { path: d.path, original: d.sha256, reproduction: now?.sha256 ?? null, same: d.sha256 !== null && d.sha256 === (now?.sha256 ?? null) };
  });
  for (const d of data) {
    if (!d.same) causes.push({ kind: 'data', text: `data ${d.path} differs: recorded ${d.original?.slice(0, 12) ?? 'missing'}, now ${d.reproduction?.slice(0, 12) ?? 'missing'}` });
  }

  const pyA = original.env?.python ?? null;
  const pyB = reproduction.env?.python ?? null;
  const interpreterOf = (p: typeof pyA) => (p ? `${p.implementation} ${p.version}` : null);
  const interpreter = { original: interpreterOf(pyA), reproduction: interpreterOf(pyB), same: interpreterOf(pyA) === interpreterOf(pyB) };
  const names = [...new Set([...Object.keys(pyA?.packages ?? {}), ...Object.keys(pyB?.packages ?? {})])].sort();
  const packages = names
    .map((name) => ({ name, original: pyA?.packages[name] ?? null, reproduction: pyB?.packages[name] ?? null }))
    .filter((p) => p.original !== p.reproduction);
  if (!interpreter.same) causes.push({ kind: 'environment', text: `interpreter differs: ${interpreter.original ?? 'none'} → ${interpreter.reproduction ?? 'none'}` });
  if (packages.length > 0) {
    causes.push({ kind: 'environment', text: `packages differ: ${packages.slice(0, 6).map((p) => `${p.name} ${p.original ?? '(absent)'} → ${p.reproduction ?? '(absent)'}`).join(', ')}${packages.length > 6 ? `, and ${packages.length - 6} more` : ''}` });
  }

  const seed = { original: original.seed, reproduction: reproduction.seed, same: String(original.seed?.value ?? '') === String(reproduction.seed?.value ?? '') && Boolean(original.seed) === Boolean(reproduction.seed) };
  if (!seed.same) causes.push({ kind: 'seed', text: `seed differs: ${describeSeed(seed.original)} → ${describeSeed(seed.reproduction)}` });
  else if (!seed.original) causes.push({ kind: 'seed', text: 'no seed was recorded: a run that draws random numbers cannot be expected to repeat' });

  const metrics = compareMetrics(storeDir, original, reproduction, tolerance);
  for (const m of metrics) {
    if (m.within) continue;
    const finals = `final ${m.originalFinal ?? '—'} → ${m.reproductionFinal ?? '—'}`;
    const steps = m.firstDivergentStep !== null ? `, first differs at step ${m.firstDivergentStep}` : '';
    const missing = m.stepsMissing ? `, ${m.stepsMissing} step(s) logged by only one run` : '';
    causes.push({ kind: 'metrics', text: `${m.key}: ${finals}${steps}${m.maxStepDifference !== null ? `, largest difference ${m.maxStepDifference.toPrecision(3)}` : ''}${missing}` });
  }

  const diverged = causes.some((c) => c.kind === 'outcome' || c.kind === 'metrics');
  // A seed note without any divergence is advice, not a cause of anything.
  const shownCauses = diverged ? causes : causes.filter((c) => !(c.kind === 'seed' && !seed.original));
  return {
    version: 1,
    original: original.id,
    reproduction: reproduction.id,
    verdict: diverged ? 'diverged' : 'reproduced',
    tolerance,
    outcome,
    code,
    data,
    environment: { interpreter, packages },
    seed,
    metrics,
    causes: shownCauses,
  };
}

export function writeReport(storeDir: string, report: ReproductionReport): void {
  writeFileAtomic(path.join(runDir(storeDir, report.reproduction), REPORT_FILE), JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n');
}

/**
 * The report a reproduction wrote when it ended; null when there is none (it is still running, or
 * was killed). A report that is there but cannot be read is an error that names the file.
 */
export function readReport(storeDir: string, reproductionId: string): ReproductionReport | null {
  const file = path.join(runDir(storeDir, reproductionId), REPORT_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message})`);
  }
  if (!report || typeof report !== 'object' || typeof (report as ReproductionReport).verdict !== 'string') throw new Error(`${file} holds no verdict`);
  return report as ReproductionReport;
}

/** A reproduction's verdict for a listing: the verdict, null when there is no report, or what is wrong with the report. */
export function reportVerdict(storeDir: string, reproductionId: string): string | null {
  try {
    return readReport(storeDir, reproductionId)?.verdict ?? null;
  } catch (err) {
    return `unreadable report: ${(err as Error).message}`;
  }
}
