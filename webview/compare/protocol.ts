/**
 * The Compare panel's messages, imported by both the extension host and the
 * webview. The webview speaks first (`ready`); requests carry an id that the
 * answer repeats. Numbers cross as numbers: postMessage's structured clone
 * keeps NaN and ±Infinity, which JSON would lose.
 */
import type { Comparison, ComparedRun, MetricRow } from '../../src/core/compare';
import type { ReproductionReport } from '../../src/core/reproduce/reportTypes';

export type XAxis = 'step' | 'time' | 'relative';

export interface CodeRow {
  file: string;
  /** Per run: the file's status against the first run ('' when the same). */
  status: string[];
}

/**
 * One run's series for a chart, as typed arrays: a webview message carries
 * them as bytes, where arrays of objects would be cloned field by field.
 * Exact points when few, otherwise buckets that keep min, max and last.
 */
export type ChartSeries =
  | { runId: string; kind: 'points'; x: Float64Array; y: Float64Array }
  | {
      runId: string;
      kind: 'buckets';
      /** Bucket k covers [from + bucket[k] × width, + width): every run is bucketed over one range, so x values line up. */
      from: number;
      width: number;
      bucket: Uint32Array;
      min: Float64Array;
      max: Float64Array;
      last: Float64Array;
    };

/** What a panel of one run adds: everything about it, not only what differs. */
export interface RunDetail {
  command: string;
  cwd: string;
  environment: { key: string; value: string }[];
  files: { kind: 'data' | 'artifact'; path: string; sha256: string | null; size: number; files: number; note: string | null }[];
  stdoutTail: string;
  problems: string[];
  /** An ended run with a code snapshot, in a trusted workspace: it can be re-run from here. */
  canReproduce: boolean;
}

export type HostMessage =
  /** `reproduction`: when the two runs are a run and its reproduction, the report of what differs. */
  | { type: 'init'; comparison: Comparison; code: CodeRow[] | null; codeNote: string | null; detail: RunDetail | null; reproduction: ReproductionReport | null }
  /** A live run moved on: new metric rows and statuses; charts ask for their series again. */
  | { type: 'live'; runs: ComparedRun[]; metrics: MetricRow[]; detail: RunDetail | null }
  | { type: 'series'; requestId: number; metric: string; x: XAxis; series: ChartSeries[] }
  | { type: 'error'; requestId: number | null; message: string };

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'requestSeries'; requestId: number; metric: string; x: XAxis; buckets: number; range: [number, number] | null }
  | { type: 'openCode'; runId: string }
  | { type: 'reproduce'; runId: string }
  | { type: 'openParamSource'; runId: string; key: string }
  | { type: 'openFileDiff'; file: string; leftRunId: string; rightRunId: string }
  /** A point of the cross-run plots was clicked. */
  | { type: 'showRun'; runId: string }
  /** The runs a box or brush of the plots chose, in a Compare of their own. */
  | { type: 'compareRuns'; runIds: string[] };

/** What the webview keeps through a reload (VS Code's setState / the serializer). */
export interface CompareState {
  runIds: string[];
}
