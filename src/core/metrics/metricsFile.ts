import * as fs from 'node:fs';
import type { MetricsSummary } from '../runRecord';
import { parseMetricObject, type MetricRecord } from './metricLine';

const CHUNK = 1 << 20;
const MAX_SAMPLES = 5;

export interface MetricsReadProblem {
  line: number;
  text: string;
  reason: string;
}

/**
 * Streams a metrics.jsonl file, calling `onRecord` for each good line with its
 * step resolved (a line without one is the previous step + 1, starting at 0).
 * A bad line is reported and skipped; an unterminated last line is what a
 * killed writer leaves, so it is reported as torn rather than read.
 */
export function readMetricsFile(
  file: string,
  onRecord: (record: MetricRecord & { step: number }) => void,
  onProblem: (problem: MetricsReadProblem) => void = () => {},
): { lines: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: 0 };
    throw err;
  }
  const buffer = Buffer.allocUnsafe(CHUNK);
  let carry = '';
  let lineNo = 0;
  let previousStep = -1;
  const handle = (text: string) => {
    lineNo++;
    if (text.trim() === '') return;
    const result = parseMetricObject(text);
    if (result.kind === 'metrics') {
      const step = result.record.step ?? previousStep + 1;
      previousStep = step;
      onRecord({ ...result.record, step });
    } else {
      onProblem({ line: lineNo, text: text.slice(0, 200), reason: result.kind === 'malformed' ? result.reason : 'no numeric values' });
    }
  };
  try {
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      const text = carry + buffer.toString('utf8', 0, n);
      const lines = text.split('\n');
      carry = lines.pop()!;
      for (const line of lines) handle(line);
    }
  } finally {
    fs.closeSync(fd);
  }
  if (carry.trim() !== '') {
    lineNo++;
    onProblem({ line: lineNo, text: carry.slice(0, 200), reason: 'torn last line (the writer stopped mid-line)' });
  }
  return { lines: lineNo };
}

/** Last, min and max of every metric, ignoring NaN for min and max but counting it. */
export function summarizeMetricsFile(file: string, source = 'metrics.jsonl'): MetricsSummary {
  const summary: MetricsSummary = { lines: 0, lastStep: null, metrics: {}, malformed: 0, malformedSamples: [] };
  readMetricsFile(
    file,
    (record) => {
      summary.lines++;
      summary.lastStep = record.step;
      for (const [key, value] of Object.entries(record.values)) {
        let m = summary.metrics[key];
        if (!m) m = summary.metrics[key] = { last: value, min: Infinity, max: -Infinity, count: 0, nan: 0, lastStep: record.step };
        m.last = value;
        m.lastStep = record.step;
        m.count++;
        if (Number.isNaN(value)) m.nan++;
        else {
          if (value < m.min) m.min = value;
          if (value > m.max) m.max = value;
        }
      }
    },
    (problem) => {
      summary.malformed++;
      if (summary.malformedSamples.length < MAX_SAMPLES) summary.malformedSamples.push({ source, ...problem });
    },
  );
  for (const m of Object.values(summary.metrics)) {
    if (m.nan === m.count) m.min = m.max = NaN; // every value NaN: there is no min or max to show
  }
  return summary;
}
