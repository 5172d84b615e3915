/** The shape of `run.json`: the truth about one run. See DESIGN.md section 1. */

export const RUN_RECORD_VERSION = 1;

export type RunStatus = 'running' | 'finished' | 'failed' | 'killed' | 'crashed';

export interface ChangedFile {
  path: string;
  /** A added, M modified, D deleted, R renamed, T type changed (as `git diff --name-status`). */
  status: string;
  from?: string;
  /** Size in the working tree; absent for deleted files. */
  size?: number;
  untracked?: boolean;
}

export interface SkippedFile {
  path: string;
  size?: number;
  reason: string;
}

export interface SubmoduleState {
  path: string;
  commit: string | null;
  dirty: boolean;
}

export interface GitInfo {
  root: string;
  head: string | null;
  branch: string | null;
  remote: string | null;
  dirty: boolean;
  snapshot: string;
  tree: string;
  ref: string;
  changes: ChangedFile[];
  skipped: SkippedFile[];
  submodules: SubmoduleState[];
  notes: string[];
}

export interface HashedPath {
  /** As given on the command line. */
  path: string;
  /** `special`: a device, FIFO or socket, which is recorded but never read. */
  kind: 'file' | 'dir' | 'missing' | 'special';
  size: number;
  files: number;
  sha256: string | null;
  /** Per-file hashes of a folder, kept while the folder is small enough to list. */
  entries?: { path: string; size: number; sha256: string }[];
  error?: string;
  /** What a folder's hash left out: files that are not regular (devices, FIFOs), links in a loop or pointing nowhere. */
  notes?: string[];
  /** For an artifact: last modified before the run started, so the run did not write it. */
  stale?: boolean;
}

export interface PythonInfo {
  executable: string;
  version: string;
  implementation: string;
  packages: Record<string, string>;
  /** Packages installed from a folder or a version-control URL (PEP 610), by name: where from, credentials stripped. */
  origins?: Record<string, string>;
}

export interface EnvironmentInfo {
  os: { platform: string; release: string; type: string; arch: string };
  cpu: { model: string; cores: number };
  memoryBytes: number;
  node: string;
  python: PythonInfo | null;
  gpus: { name: string; memoryMiB: number | null; driver: string | null }[];
  variables: Record<string, string>;
  notes: string[];
}

export interface MetricSummary {
  last: number;
  min: number;
  max: number;
  count: number;
  /** How many values were NaN; they are kept in the file, never counted as 0. */
  nan: number;
  lastStep: number;
}

export interface MetricsSummary {
  /** Number of metric lines read. */
  lines: number;
  lastStep: number | null;
  metrics: Record<string, MetricSummary>;
  /** Lines that could not be read as metrics: stdout lines that looked like metrics, and bad lines in metrics.jsonl. */
  malformed: number;
  malformedSamples: { source: string; line: number; text: string; reason: string }[];
}

export interface SeedInfo {
  value: number | string;
  source: string;
}

export interface RunRecord {
  version: number;
  id: string;
  name: string;
  command: string[];
  /** Absolute working directory, and the same relative to the repository root when there is one. */
  cwd: string;
  cwdInRepo: string | null;
  startedAt: string;
  endedAt: string | null;
  status: RunStatus;
  exitCode: number | null;
  signal: string | null;
  pid: number;
  host: string;
  user: string;
  tags: string[];
  git: GitInfo | null;
  gitError: string | null;
  params: Record<string, unknown>;
  /** Where each param came from: `cli`, `argv`, `config:<path>` or `run`. */
  paramSources: Record<string, string>;
  configFiles: HashedPath[];
  env: EnvironmentInfo | null;
  data: HashedPath[];
  artifacts: HashedPath[];
  seed: SeedInfo | null;
  metricsSummary: MetricsSummary | null;
  /** Problems met while recording, in words a person can act on. */
  problems: string[];
  reproduces?: string;
  /** Present on runs imported from another tool's logs: where they came from. */
  source?: RunSource;
  /** Logs of other tools the command wrote under its working folder, whose points joined the run's metrics. */
  attachedLogs?: { kind: string; path: string; id: string; points: number }[];
}

/** Where an imported run came from. The source files stay the truth; a later import refreshes the record. */
export interface RunSource {
  /** One of the importers' kinds: `mlflow`, `mlflow-sqlite`, `tensorboard`, `lightning`, `dvclive`, `keras`, `huggingface`. */
  kind: string;
  /** The store, relative to the repository root when it is inside it (its identity), else absolute. */
  path: string;
  /** The run's id in its source (MLflow's run id, a version folder, an event file). */
  id: string;
  experiment: string | null;
  importedAt: string;
  /** Sizes and mtimes of the files the run was read from: a re-import reads it again only when this changes. */
  signature: string;
  /** Deleted in its source (MLflow's lifecycle stage) but still on disk. */
  deletedAtSource: boolean;
  /** Gone from its source at the last import: kept here, never dropped silently. */
  missing: boolean;
  /** The source's own tags, key to value (MLflow's `mlflow.*` tags among them). */
  tags: Record<string, string>;
  /** What the source holds that was counted, not imported, and what was skipped. */
  notes: string[];
  /** Source-specific facts kept as they are: logged models, datasets, artifact location. */
  extra: Record<string, unknown>;
}
