import type { Comparison, Expr, Field, SortKey, Value } from '../../src/core/query/ast';
import type { MetricsSummary, RunRecord } from '../../src/core/runRecord';
import { scriptOfRun } from '../../src/core/code/scriptOfRun';

/**
 * The query language evaluated the slow, obvious way over run records: the
 * reference the SQL compilation is tested against. One rule: a comparison on
 * a value the run does not have (or NaN) is false, except `= null`; tags are
 * a set.
 */
export interface ReferenceRun {
  record: RunRecord;
  summary: MetricsSummary | null;
}

function cmp<T extends number | string>(a: T, op: Comparison, b: T): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default:
      throw new Error(`not an ordering: ${op}`);
  }
}

function matchText(text: string | null | undefined, op: Comparison, value: string): boolean {
  if (text === null || text === undefined) return false;
  if (op === '~') return new RegExp(value, 'i').test(text);
  if (op === '!~') return !new RegExp(value, 'i').test(text);
  return cmp(text, op, value);
}

function num(value: Value): number {
  return value.kind === 'number' ? value.value : value.kind === 'duration' ? value.seconds : NaN;
}

export function evaluate(expr: Expr, run: ReferenceRun, now: number): boolean {
  switch (expr.kind) {
    case 'and':
      return evaluate(expr.left, run, now) && evaluate(expr.right, run, now);
    case 'or':
      return evaluate(expr.left, run, now) || evaluate(expr.right, run, now);
    case 'not':
      return !evaluate(expr.expr, run, now);
    case 'cmp':
      return compare(expr.field, expr.op, expr.value, run, now);
  }
}

function compare(field: Field, op: Comparison, value: Value, { record, summary }: ReferenceRun, now: number): boolean {
  if (field.kind === 'metric') {
    const m = summary?.metrics[field.key];
    if (value.kind === 'null') return op === '=' ? !m : Boolean(m);
    return Boolean(m) && !Number.isNaN(m!.last) && cmp(m!.last, op, num(value));
  }
  if (field.kind === 'param') {
    const present = Object.prototype.hasOwnProperty.call(record.params, field.key);
    const v = record.params[field.key];
    if (value.kind === 'null') return op === '=' ? !present || v === null : present && v !== null;
    if (!present || v === null) return false;
    if (value.kind === 'bool') return typeof v === 'boolean' && cmp(v ? 1 : 0, op, value.value ? 1 : 0);
    if (value.kind === 'number' || value.kind === 'duration') return typeof v === 'number' && !Number.isNaN(v) && cmp(v, op, num(value));
    if (op === '<' || op === '<=' || op === '>' || op === '>=') return typeof v === 'string' && cmp(v, op, value.value);
    return matchText(typeof v === 'string' ? v : String(v), op, value.value);
  }
  const git = record.git;
  switch (field.name) {
    case 'tag': {
      const tags = record.tags;
      if (value.kind === 'null') return op === '=' ? tags.length === 0 : tags.length > 0;
      const text = value.kind === 'string' ? value.value : String(num(value));
      if (op === '=') return tags.includes(text);
      if (op === '!=') return !tags.includes(text);
      const any = tags.some((t) => new RegExp(text, 'i').test(t));
      return op === '~' ? any : !any;
    }
    case 'commit': {
      const head = git?.head ?? null;
      if (value.kind === 'null') return op === '=' ? head === null : head !== null;
      const text = (value.kind === 'string' ? value.value : String(num(value))).toLowerCase();
      if (op === '~' || op === '!~') return matchText(head, op, text);
      const prefix = Boolean(head?.startsWith(text)) || Boolean(git?.snapshot?.startsWith(text));
      return op === '=' ? prefix : head !== null && !prefix;
    }
    case 'age':
    case 'duration': {
      const started = Date.parse(record.startedAt);
      const end = field.name === 'age' ? now : record.endedAt ? Date.parse(record.endedAt) : now;
      return Number.isFinite(started) && cmp((end - started) / 1000, op, num(value));
    }
  }
  const column: Record<string, string | number | null> = {
    id: record.id,
    name: record.name,
    status: record.status,
    branch: git?.branch ?? null,
    host: record.host,
    user: record.user,
    command: record.command.join(' '),
    started: Date.parse(record.startedAt),
    ended: record.endedAt ? Date.parse(record.endedAt) : null,
    exit: record.exitCode,
    dirty: git ? (git.dirty ? 1 : 0) : null,
    source: record.source?.kind ?? null,
    experiment: record.source?.experiment ?? null,
    script: scriptOfRun(record),
  };
  const actual = column[field.name] ?? null;
  if (value.kind === 'null') return op === '=' ? actual === null : actual !== null;
  if (actual === null) return false;
  if (field.name === 'started' || field.name === 'ended') return cmp(actual as number, op, Date.parse(value.kind === 'string' ? value.value : ''));
  if (field.name === 'dirty') return cmp(actual as number, op, value.kind === 'bool' && value.value ? 1 : 0);
  if (field.name === 'exit') return cmp(actual as number, op, num(value));
  return matchText(String(actual), op, value.kind === 'string' ? value.value : String(num(value)));
}

/** SQLite's order: missing values last, then NULL before any value ascending. */
export function referenceSort(runs: ReferenceRun[], keys: SortKey[]): ReferenceRun[] {
  const startedOf = (r: ReferenceRun) => Date.parse(r.record.startedAt);
  // Runs without the value sort last, either way.
  const compareNullable = (a: number | string | null, b: number | string | null, desc: boolean): number => {
    if (a === b) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    return (a < b ? -1 : 1) * (desc ? -1 : 1);
  };
  const attribute: Record<string, (r: ReferenceRun) => number | string | null> = {
    name: (r) => r.record.name,
    started: startedOf,
    age: (r) => -startedOf(r),
    commit: (r) => r.record.git?.head ?? null,
    branch: (r) => r.record.git?.branch ?? null,
    status: (r) => r.record.status,
  };
  return [...runs].sort((x, y) => {
    for (const key of keys) {
      const f = key.field;
      if (f.kind === 'metric') {
        const a = x.summary?.metrics[f.key]?.last;
        const b = y.summary?.metrics[f.key]?.last;
        const am = a === undefined || Number.isNaN(a);
        const bm = b === undefined || Number.isNaN(b);
        if (am !== bm) return am ? 1 : -1;
        if (!am && a !== b) return (a! < b! ? -1 : 1) * (key.descending ? -1 : 1);
      } else if (f.kind === 'attr' && attribute[f.name]) {
        const c = compareNullable(attribute[f.name]!(x), attribute[f.name]!(y), key.descending);
        if (c) return c;
      } else {
        throw new Error(`reference sort covers metrics and ${Object.keys(attribute).join(', ')}`);
      }
    }
    return startedOf(y) - startedOf(x) || (y.record.id < x.record.id ? -1 : 1);
  });
}

/** Prints a query so the parser reads it back the same. */
export function printQuery(expr: Expr): string {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return `(${printQuery(expr.left)} ${expr.kind} ${printQuery(expr.right)})`;
    case 'not':
      return `not ${printQuery(expr.expr)}`;
    case 'cmp': {
      const f = expr.field;
      const field = f.kind === 'metric' ? `metrics.${f.key}` : f.kind === 'param' ? `params.${f.key}` : f.name;
      const v = expr.value;
      const value =
        v.kind === 'number' ? String(v.value) : v.kind === 'duration' ? `${v.seconds}s` : v.kind === 'bool' ? String(v.value) : v.kind === 'null' ? 'null' : JSON.stringify(v.value);
      return `${field} ${expr.op} ${value}`;
    }
  }
}
