/**
 * The Compare panel's messages, imported by both the extension host and the
 * webview. The webview speaks first (`ready`); requests carry an id that the
 * answer repeats. Numbers cross as numbers: postMessage's structured clone
 * keeps NaN and ±Infinity, which JSON would lose.
 */
import type { Comparison } from '../../src/core/compare';

export type XAxis = 'step' | 'time' | 'relative';

export interface CodeRow {
  file: string;
  /** Per run: the file's status against the first run ('' when the same). */
  status: string[];
}

export interface ChartBucket {
  x: number;
  min: number;
  max: number;
  last: number;
}

export interface ChartSeries {
  runId: string;
  /** Exact points when few, otherwise buckets that keep min, max and last. */
  points: { x: number; y: number }[] | null;
  buckets: ChartBucket[] | null;
}

export type HostMessage =
  | { type: 'init'; comparison: Comparison; code: CodeRow[] | null; codeNote: string | null }
  | { type: 'series'; requestId: number; metric: string; x: XAxis; series: ChartSeries[] }
  | { type: 'error'; requestId: number | null; message: string };

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'requestSeries'; requestId: number; metric: string; x: XAxis; buckets: number; range: [number, number] | null }
  | { type: 'openCode'; runId: string }
  | { type: 'openParamSource'; runId: string; key: string }
  | { type: 'openFileDiff'; file: string; leftRunId: string; rightRunId: string };

/** What the webview keeps through a reload (VS Code's setState / the serializer). */
export interface CompareState {
  runIds: string[];
}
