import * as path from 'node:path';
import { emptyRun, newSeries, SourceFormatError, type FoundSource, type ImportedRun, type RunHandle } from './types';
import { entriesInside, flattenBounded, isFileInside, readTextFile } from './sourceFiles';

/**
 * The Hugging Face Trainer's `trainer_state.json`. Its `log_history` holds
 * train and eval rows, each at a `step`. The checkpoints
 * (`checkpoint-*`, `last-checkpoint`) repeat the output folder's state as it
 * was then: the run is imported once, from the newest state, which is the
 * output folder's own when it has one.
 */

const STATE = 'trainer_state.json';
const CHECKPOINT = /^(checkpoint-\d+|last-checkpoint)$/;
/** Fields of a log row that are axes or time, not metrics. */
const NOT_METRICS = new Set(['step', 'epoch']);

/** The state files of an output folder: its own, then its checkpoints', newest step first. */
export function trainerStates(root: string, dir: string): string[] {
  const states: { file: string; order: number }[] = [];
  if (isFileInside(root, path.join(dir, STATE))) states.push({ file: path.join(dir, STATE), order: Infinity });
  for (const entry of entriesInside(root, dir)) {
    if (!CHECKPOINT.test(entry.name)) continue;
    const file = path.join(dir, entry.name, STATE);
    if (isFileInside(root, file)) states.push({ file, order: entry.name === 'last-checkpoint' ? Number.MAX_SAFE_INTEGER : Number(entry.name.slice(11)) });
  }
  return states.sort((a, b) => b.order - a.order).map((s) => s.file);
}

export function isCheckpointFolder(dir: string): boolean {
  return CHECKPOINT.test(path.basename(dir));
}

export function huggingFaceSource(root: string, dir: string): FoundSource {
  return {
    kind: 'huggingface',
    path: dir,
    async runs(): Promise<RunHandle[]> {
      const states = trainerStates(root, dir);
      if (states.length === 0) return [];
      return [{ originalId: path.basename(dir), files: states, load: async () => readState(states, dir) }];
    },
  };
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** Python's json writes NaN and Infinity bare; they are read as the strings RunLens stores them as. */
function parseJsonWithNonFinite(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (token) => (token.startsWith('"') ? token : `"${token}"`)));
  }
}

async function readState(states: string[], dir: string): Promise<ImportedRun> {
  const run = emptyRun(path.basename(dir), path.basename(dir));
  run.experiment = path.basename(path.dirname(dir)) || null;
  let state: Record<string, unknown> | null = null;
  let chosen = '';
  let best = -1;
  // The newest state is the one with the most steps; the output folder's wins a tie.
  for (const file of states) {
    let parsed: unknown;
    try {
      parsed = parseJsonWithNonFinite(readTextFile(file));
    } catch (err) {
      run.notes.push(`${path.relative(dir, file)} could not be read: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    if (!parsed || typeof parsed !== 'object' || !Array.isArray((parsed as { log_history?: unknown }).log_history)) continue;
    const steps = Number((parsed as { global_step?: unknown }).global_step ?? 0);
    if (steps > best) {
      best = steps;
      state = parsed as Record<string, unknown>;
      chosen = file;
    }
  }
  if (!state) throw new SourceFormatError(`${STATE} holds no log_history`);
  if (chosen !== states[0]) run.notes.push(`read from ${path.relative(dir, chosen)}, the newest state`);
  let bad = 0;
  for (const row of state.log_history as unknown[]) {
    if (!row || typeof row !== 'object') {
      bad++;
      continue;
    }
    const fields = row as Record<string, unknown>;
    const step = typeof fields.step === 'number' ? fields.step : null;
    if (step === null) {
      bad++;
      continue;
    }
    for (const [key, value] of Object.entries(fields)) {
      const number = typeof value === 'number' ? value : typeof value === 'string' ? NON_FINITE[value] : undefined;
      if (NOT_METRICS.has(key) || number === undefined) continue;
      let series = run.metrics.get(key);
      if (!series) run.metrics.set(key, (series = newSeries()));
      series.step.push(step);
      series.t.push(NaN);
      series.value.push(number);
    }
  }
  if (bad > 0) run.notes.push(`${bad} log_history row(s) without a step skipped`);
  const scalars = Object.fromEntries(Object.entries(state).filter(([key, value]) => key !== 'log_history' && (value === null || typeof value !== 'object')));
  Object.assign(run.params, flattenBounded(scalars).params);
  const maxSteps = Number(state.max_steps);
  const globalStep = Number(state.global_step);
  if (Number.isFinite(maxSteps) && maxSteps > 0 && globalStep < maxSteps && chosen.includes('checkpoint')) run.notes.push(`stopped at step ${globalStep} of ${maxSteps}`);
  return run;
}
