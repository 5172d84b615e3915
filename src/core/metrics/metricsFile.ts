import type { MetricSummary, MetricsSummary } from '../runRecord';
import { readWholeLines } from '../wholeLines';
import { parseMetricObject, type MetricRecord } from './metricLine';

const MAX_SAMPLES = 5;

export interface MetricsReadProblem {
  line: number;
  text: string;
  reason: string;
}

export interface ReadPosition {
  /** Byte offset just past the last complete line read. */
  offset: number;
  /** Lines consumed so far, for line numbers in problems. */
  line: number;
  /** The step of the last line read (-1 before any). */
  step: number;
}

export const START_OF_FILE: ReadPosition = { offset: 0, line: 0, step: -1 };

/**
 * Streams a metrics.jsonl file from `from`, calling `onRecord` for each good
 * line with its step resolved (a line without one is the previous step + 1,
 * starting at 0). A bad line is reported and skipped. An unterminated last
 * line is left unread when `tailMayGrow` (a live run is still writing it) and
 * otherwise reported as torn, which is what a killed writer leaves.
 */
export function readMetricsFile(
  file: string,
  onRecord: (record: MetricRecord & { step: number }) => void,
  onProblem: (problem: MetricsReadProblem) => void = () => {},
  from: ReadPosition = START_OF_FILE,
  tailMayGrow = false,
): ReadPosition {
  let { line, step } = from;
  const handle = (text: string) => {
    line++;
    if (text.trim() === '') return;
    const result = parseMetricObject(text);
    if (result.kind === 'metrics') {
      step = result.record.step ?? step + 1;
      onRecord({ ...result.record, step });
    } else {
      onProblem({ line, text: text.slice(0, 200), reason: result.kind === 'malformed' ? result.reason : 'no numeric values' });
    }
  };
  const { offset, tail } = readWholeLines(file, from.offset, (text) => {
    const lines = text.split('\n');
    lines.pop(); // the text ends with a newline
    for (const l of lines) handle(l);
  });
  if (!tailMayGrow && tail.trim() !== '') {
    onProblem({ line: line + 1, text: tail.slice(0, 200), reason: 'torn last line (the writer stopped mid-line)' });
  }
  return { offset, line, step };
}

/** Last, min and max of every metric, built up line by line; it can resume where it stopped. */
export class MetricsAccumulator {
  readonly summary: MetricsSummary;
  position: ReadPosition;

  constructor(summary?: MetricsSummary, position: ReadPosition = START_OF_FILE) {
    this.summary = summary ?? { lines: 0, lastStep: null, metrics: {}, malformed: 0, malformedSamples: [] };
    this.position = position;
  }

  /** Reads what the file gained since the last call. */
  readFrom(file: string, source = 'metrics.jsonl', tailMayGrow = false): this {
    const s = this.summary;
    this.position = readMetricsFile(
      file,
      (record) => {
        s.lines++;
        s.lastStep = record.step;
        for (const [key, value] of Object.entries(record.values)) {
          let m: MetricSummary | undefined = s.metrics[key];
          if (!m) m = s.metrics[key] = { last: value, min: NaN, max: NaN, count: 0, nan: 0, lastStep: record.step };
          m.last = value;
          m.lastStep = record.step;
          m.count++;
          if (Number.isNaN(value)) m.nan++;
          else {
            // NaN min/max means "no number yet": every value NaN leaves them NaN.
            if (!(value >= m.min)) m.min = value;
            if (!(value <= m.max)) m.max = value;
          }
        }
      },
      (problem) => {
        s.malformed++;
        if (s.malformedSamples.length < MAX_SAMPLES) s.malformedSamples.push({ source, ...problem });
      },
      this.position,
      tailMayGrow,
    );
    return this;
  }
}

/** Last, min and max of every metric of a finished run, ignoring NaN for min and max but counting it. */
export function summarizeMetricsFile(file: string, source = 'metrics.jsonl'): MetricsSummary {
  return new MetricsAccumulator().readFrom(file, source).summary;
}
