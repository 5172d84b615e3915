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

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** The JSON number grammar, -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?, over text[start, end), without a regex. */
function isJsonNumber(text: string, start: number, end: number): boolean {
  let i = start;
  if (text.charCodeAt(i) === 0x2d) i++;
  const first = text.charCodeAt(i);
  if (first === 0x30) i++;
  else if (first >= 0x31 && first <= 0x39) {
    i++;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
  } else return false;
  if (i < end && text.charCodeAt(i) === 0x2e) {
    i++;
    if (!(i < end && isDigit(text.charCodeAt(i)))) return false;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (i < end && (e === 0x65 || e === 0x45)) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 0x2b || sign === 0x2d) i++;
    if (!(i < end && isDigit(text.charCodeAt(i)))) return false;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
  }
  return i === end;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * Pulls numbers out of metric lines without building objects, which makes a
 * cold read of a million-line file cheaper than JSON.parse of every line. Any
 * line it is not sure about (escapes, nesting, odd spacing) goes to the exact
 * parser, so both read the same values.
 */
export class MetricLineScanner {
  private previousStep: number;
  private readonly recentKeys: (string | undefined)[] = [];

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
      // Lines repeat their keys: reuse the string seen last time at this place instead of slicing a new one.
      const slot = keys.length + (hasStep ? 1 : 0) + (hasT ? 1 : 0);
      let key = this.recentKeys[slot];
      if (key === undefined || key.length !== keyEnd - i - 1 || !text.startsWith(key, i + 1)) {
        key = text.slice(i + 1, keyEnd);
        if (key.includes('\\')) return false;
        this.recentKeys[slot] = key;
      }
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
        // Only what JSON (or Python's bare NaN/Infinity) allows: `+raw` alone would take "0x1f" or " 1".
        if (isJsonNumber(text, v, valueEnd)) value = +text.slice(v, valueEnd);
        else {
          const raw = text.slice(v, valueEnd);
          if (raw === 'NaN') value = NaN;
          else if (raw === 'Infinity' || raw === '-Infinity') value = +raw;
          else return false;
        }
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
