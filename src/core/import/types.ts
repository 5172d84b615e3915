import type { RunStatus } from '../runRecord';

/** The formats RunLens reads runs from. Each has one importer in this folder. */
export const SOURCE_KINDS = ['mlflow', 'mlflow-sqlite', 'tensorboard', 'lightning', 'dvclive', 'keras', 'huggingface'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** What each kind is called where people read it: the tree, the panels, the CLI. */
export const SOURCE_NAMES: Record<string, string> = {
  mlflow: 'MLflow',
  'mlflow-sqlite': 'MLflow (SQLite)',
  tensorboard: 'TensorBoard',
  lightning: 'Lightning',
  dvclive: 'dvclive',
  keras: 'Keras',
  huggingface: 'Hugging Face',
};

/** One metric of an imported run, as columns. `t` is seconds since the epoch, NaN when the source has no time. */
export interface SeriesColumns {
  step: number[];
  t: number[];
  value: number[];
}

export function newSeries(): SeriesColumns {
  return { step: [], t: [], value: [] };
}

/** A run as its source tells it, before it becomes a RunLens run record. */
export interface ImportedRun {
  originalId: string;
  experiment: string | null;
  name: string;
  status: RunStatus;
  /** Milliseconds since the epoch, null when the source does not say. */
  startedAt: number | null;
  endedAt: number | null;
  params: Record<string, unknown>;
  tags: Record<string, string>;
  user: string | null;
  /** The commit the source says the run's code was at (MLflow's `mlflow.source.git.commit`). */
  gitCommit: string | null;
  /** Deleted at the source but still on disk (MLflow's `lifecycle_stage: deleted`, `.trash/`). */
  deletedAtSource: boolean;
  metrics: Map<string, SeriesColumns>;
  /** What the source holds that is counted, not imported (histograms, images), and what was skipped and why. */
  notes: string[];
  /** Source-specific facts kept in the record as they are: logged models, datasets, artifact location. */
  extra: Record<string, unknown>;
}

export function emptyRun(originalId: string, name: string): ImportedRun {
  return {
    originalId,
    experiment: null,
    name,
    status: 'finished',
    startedAt: null,
    endedAt: null,
    params: {},
    tags: {},
    user: null,
    gitCommit: null,
    deletedAtSource: false,
    metrics: new Map(),
    notes: [],
    extra: {},
  };
}

/**
 * A run found in a source, not read yet. `files` are every file its reading
 * depends on: their sizes and mtimes decide whether a re-import reads it again.
 */
export interface RunHandle {
  originalId: string;
  files: string[];
  load(): Promise<ImportedRun>;
}

/** A store of runs found on disk: an `mlruns/` folder, an `mlflow.db`, a `lightning_logs/version_N` folder… */
export interface FoundSource {
  kind: SourceKind;
  /** Absolute path of the store: its identity, with each run's original id. */
  path: string;
  /** Runs in the source; a file that cannot be parsed is reported in `problems`, and the rest is still listed. */
  runs(problems: ImportProblem[]): Promise<RunHandle[]>;
  /** Frees what reading held (an open database). */
  close?(): void;
}

/** What an import could not read, with the path and the reason. */
export interface ImportProblem {
  path: string;
  reason: string;
}

/** Raised for input that cannot be read; the message names what is wrong, the path is given beside it. */
export class SourceFormatError extends Error {}
