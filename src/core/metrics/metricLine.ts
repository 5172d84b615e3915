/**
 * One metric line is a flat JSON object: `{"step": 3, "t": 1700000000.1, "loss": 0.25}`.
 *
 * JSON has no NaN or Infinity, yet training produces them and they matter
 * (a loss going NaN is the story of the run). Python's json writes them as
 * bare `NaN`/`Infinity` tokens; we accept those on input and store them as the
 * strings "NaN", "Infinity", "-Infinity" so that every file stays valid JSON.
 * `step` and `t` are reserved: the step (when absent, the previous step + 1)
 * and wall time in seconds since the epoch.
 */

export const PREFIX = 'runlens:';

export type MetricValues = Record<string, number>;

export interface MetricRecord {
  step: number | null;
  t: number | null;
  values: MetricValues;
}

export type ParseResult =
  | { kind: 'metrics'; record: MetricRecord; verbatim: boolean }
  | { kind: 'not-metrics' }
  | { kind: 'malformed'; reason: string };

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** Parses a line the command printed: a metrics line, a malformed one, or ordinary output. */
export function parseOutputLine(line: string): ParseResult {
  let text = line.trim();
  let prefixed = false;
  if (text.startsWith(PREFIX)) {
    prefixed = true;
    text = text.slice(PREFIX.length).trim();
  } else if (!(text.startsWith('{') && text.endsWith('}'))) {
    // `{"step": 2, "loss": 0.4` is a metrics line cut short (a writer killed mid-line), not prose.
    if (/^\{\s*"[^"]*"\s*:/.test(text)) return { kind: 'malformed', reason: 'an unfinished JSON object (the line was cut short)' };
    return { kind: 'not-metrics' };
  }
  const result = parseMetricObject(text);
  if (result.kind === 'not-metrics' && prefixed) return { kind: 'malformed', reason: 'no numeric values after "runlens:"' };
  return result;
}

/** Parses one line of metrics.jsonl (or of $RUNLENS_METRICS_FILE). */
export function parseMetricObject(text: string): ParseResult {
  let parsed: unknown;
  let verbatim = true;
  try {
    parsed = JSON.parse(text);
  } catch {
    try {
      parsed = JSON.parse(quoteNonFinite(text));
      verbatim = false;
    } catch (err) {
      const hint = /^\{\s*'/.test(text) ? ' (single quotes: print json.dumps(d), not the dict)' : '';
      return { kind: 'malformed', reason: `not valid JSON${hint}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { kind: 'malformed', reason: 'not a JSON object' };
  }
  const values: MetricValues = {};
  let step: number | null = null;
  let t: number | null = null;
  let count = 0;
  for (const [key, raw] of Object.entries(parsed as Record<string, unknown>)) {
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? NON_FINITE[raw] : undefined;
    if (value === undefined) {
      verbatim = false; // a text or nested field: stored lines keep only the numbers
      continue;
    }
    if (typeof raw === 'string') verbatim = false;
    if (key === 'step') step = value;
    else if (key === 't') t = value;
    else {
      values[key] = value;
      count++;
    }
  }
  if (count === 0) return { kind: 'not-metrics' };
  return { kind: 'metrics', record: { step, t, values }, verbatim };
}

/** Turns bare NaN/Infinity tokens outside strings into strings JSON.parse accepts. */
function quoteNonFinite(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (token) => (token.startsWith('"') ? token : `"${token}"`));
}

export function formatMetricValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? '"NaN"' : value > 0 ? '"Infinity"' : '"-Infinity"';
}

/** The stored form of a record: one line of valid JSON, `step` and `t` first when known. */
export function formatMetricRecord(record: MetricRecord): string {
  const parts: string[] = [];
  if (record.step !== null) parts.push(`"step":${formatMetricValue(record.step)}`);
  if (record.t !== null) parts.push(`"t":${formatMetricValue(record.t)}`);
  for (const [key, value] of Object.entries(record.values)) parts.push(`${JSON.stringify(key)}:${formatMetricValue(value)}`);
  return `{${parts.join(',')}}`;
}
