import { parseMetricObject } from '../metrics/metricLine';

/** Receives every metric value of a line, with the line's resolved step and time (NaN when absent). */
export type PointSink = (metric: string, step: number, t: number, value: number) => void;

const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const SPACE = 0x20;
const BACKSLASH = 0x5c;

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/;
const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/**
 * Pulls numbers out of metric lines without building objects, which makes a
 * cold read of a million-line file cheaper than JSON.parse of every line. Any
 * line it is not sure about (escapes, nesting, odd spacing) goes to the exact
 * parser, so both read the same values.
 */
export class MetricLineScanner {
  private previousStep: number;

  constructor(
    private readonly sink: PointSink,
    previousStep = -1,
    private readonly onBadLine: (line: string) => void = () => {},
  ) {
    this.previousStep = previousStep;
  }

  get lastStep(): number {
    return this.previousStep;
  }

  /** `text` holds whole lines (each ended by "\n"), from `start` to `end`. */
  scan(text: string, start = 0, end = text.length): void {
    let lineStart = start;
    while (lineStart < end) {
      let lineEnd = text.indexOf('\n', lineStart);
      if (lineEnd < 0 || lineEnd > end) lineEnd = end;
      if (lineEnd > lineStart) this.line(text, lineStart, lineEnd);
      lineStart = lineEnd + 1;
    }
  }

  private line(text: string, start: number, end: number): void {
    if (!this.fastLine(text, start, end)) this.slowLine(text.slice(start, end));
  }

  private slowLine(line: string): void {
    if (line.trim() === '') return;
    const result = parseMetricObject(line);
    if (result.kind !== 'metrics') {
      this.onBadLine(line);
      return;
    }
    const step = result.record.step ?? this.previousStep + 1;
    this.previousStep = step;
    const t = result.record.t ?? NaN;
    for (const key in result.record.values) this.sink(key, step, t, result.record.values[key]!);
  }

  /** The common shape `{"k":number,...}` with plain keys; false means "let the exact parser do it". */
  private fastLine(text: string, start: number, end: number): boolean {
    while (end > start && text.charCodeAt(end - 1) <= SPACE) end--;
    if (text.charCodeAt(start) !== OPEN || text.charCodeAt(end - 1) !== CLOSE) return false;
    const keys: string[] = [];
    const values: number[] = [];
    let i = start + 1;
    let step = NaN;
    let t = NaN;
    let hasStep = false;
    let hasT = false;
    for (;;) {
      if (text.charCodeAt(i) !== QUOTE) return end - start === 2; // "{}" is an empty line; anything else, not ours
      const keyEnd = text.indexOf('"', i + 1);
      if (keyEnd < 0 || keyEnd >= end) return false;
      const key = text.slice(i + 1, keyEnd);
      if (key.includes('\\')) return false;
      if (text.charCodeAt(keyEnd + 1) !== COLON) return false;
      const v = keyEnd + 2;
      let valueEnd: number;
      let value: number;
      if (text.charCodeAt(v) === QUOTE) {
        valueEnd = text.indexOf('"', v + 1);
        if (valueEnd < 0 || valueEnd >= end) return false;
        const special = NON_FINITE[text.slice(v + 1, valueEnd)];
        if (special === undefined) return false;
        value = special;
        valueEnd++;
      } else {
        valueEnd = v;
        while (valueEnd < end) {
          const c = text.charCodeAt(valueEnd);
          if (c === COMMA || c === CLOSE) break;
          if (c === OPEN || c === QUOTE || c === BACKSLASH || c === 0x5b /* [ */) return false;
          valueEnd++;
        }
        const raw = text.slice(v, valueEnd);
        // Only what JSON (or Python's bare NaN/Infinity) allows: `+raw` alone would take "0x1f" or " 1".
        if (raw === 'NaN') value = NaN;
        else if (raw === 'Infinity' || raw === '-Infinity' || JSON_NUMBER.test(raw)) value = +raw;
        else return false;
      }
      if (key === 'step') {
        step = value;
        hasStep = true;
      } else if (key === 't') {
        t = value;
        hasT = true;
      } else {
        // A repeated key keeps its first place and its last value, as JSON.parse does.
        const seen = keys.indexOf(key);
        if (seen >= 0) values[seen] = value;
        else {
          keys.push(key);
          values.push(value);
        }
      }
      const next = text.charCodeAt(valueEnd);
      if (next === CLOSE && valueEnd === end - 1) break;
      if (next !== COMMA) return false;
      i = valueEnd + 1;
    }
    if (keys.length === 0) return false;
    const resolvedStep = hasStep ? step : this.previousStep + 1;
    this.previousStep = resolvedStep;
    const time = hasT ? t : NaN;
    for (let k = 0; k < keys.length; k++) this.sink(keys[k]!, resolvedStep, time, values[k]!);
    return true;
  }
}
