import type { Comparison, Expr, Field, SortKey, Value } from './ast';

export type SqlValue = number | string | null;

const ORDERED = new Set<Comparison>(['<', '<=', '>', '>=']);

/** SQLite's column for each attribute. */
const COLUMN: Record<string, string> = {
  id: 'r.id',
  name: 'r.name',
  status: 'r.status',
  branch: 'r.branch',
  host: 'r.host',
  user: 'r.user',
  command: 'r.command',
  started: 'r.started_ms',
  ended: 'r.ended_ms',
  exit: 'r.exit_code',
  dirty: 'r.dirty',
  source: 'r.source_kind',
  experiment: 'r.source_experiment',
  script: 'r.script',
};

/**
 * Compiles a query to a SQL condition over `runs r`. Conditions on params,
 * metrics and tags are `+r.rid IN (…)`: the unary plus keeps SQLite from
 * driving the query from the subquery's rows and sorting them all, so it walks
 * runs in the order asked (newest first by default) and stops at the limit.
 * Every comparison yields 0
 * or 1, never NULL, so `not` means what it says. One rule throughout: a
 * comparison on a value a run does not have (or on NaN) is false, except
 * `= null`. Tags are a set: `tag != x` holds for a run without tag x.
 */
export class SqlCompiler {
  /** Named, so joins, WHERE and ORDER BY can be compiled in any order. */
  readonly bindings: Record<string, SqlValue> = {};
  private count = 0;

  constructor(private readonly now: number = Date.now()) {}

  private bind(value: SqlValue): string {
    const name = `:p${++this.count}`;
    this.bindings[name] = value;
    return name;
  }

  where(expr: Expr | null): string {
    return expr ? this.expr(expr) : '1';
  }

  private expr(e: Expr): string {
    switch (e.kind) {
      case 'and':
        return `(${this.expr(e.left)} AND ${this.expr(e.right)})`;
      case 'or':
        return `(${this.expr(e.left)} OR ${this.expr(e.right)})`;
      case 'not':
        return `(NOT ${this.expr(e.expr)})`;
      case 'cmp':
        return this.comparison(e.field, e.op, e.value);
    }
  }

  private test(column: string, op: Comparison, value: SqlValue): string {
    if (op === '~') return `rl_match(${this.bind(value)}, ${column})`;
    if (op === '!~') return `(${column} IS NOT NULL AND NOT rl_match(${this.bind(value)}, ${column}))`;
    return `${column} ${op === '=' ? '=' : op} ${this.bind(value)}`;
  }

  /** The id of a param or metric name, looked up once per query. */
  private key(name: string): string {
    return `(SELECT kid FROM keys WHERE name = ${this.bind(name)})`;
  }

  private comparison(field: Field, op: Comparison, value: Value): string {
    if (field.kind === 'metric') {
      const present = `+r.rid IN (SELECT rid FROM metrics WHERE kid = ${this.key(field.key)}`;
      if (value.kind === 'null') return op === '=' ? `(NOT ${present}))` : `${present})`;
      // A NaN last is stored as NULL, which no comparison matches; (kid, last) covers this.
      return `${present} AND ${this.test('last', op, numberOf(value))})`;
    }
    if (field.kind === 'param') {
      const present = `+r.rid IN (SELECT rid FROM params WHERE kid = ${this.key(field.key)}`;
      switch (value.kind) {
        case 'null':
          return op === '=' ? `(NOT ${present} AND type <> 'z'))` : `${present} AND type <> 'z')`;
        case 'bool':
          return `${present} AND type = 'b' AND ${this.test('text', op, String(value.value))})`;
        case 'number':
        case 'duration':
          // Only numbers have a num (NaN none), so (kid, num) covers this without reading rows.
          return `${present} AND num IS NOT NULL AND ${this.test('num', op, numberOf(value))})`;
        case 'string':
          if (ORDERED.has(op)) return `${present} AND type = 's' AND ${this.test('text', op, value.value)})`;
          // Numbers keep no text; they are compared as JavaScript prints them.
          return `${present} AND type <> 'z' AND ${this.test("(CASE WHEN type = 'n' THEN rl_number_text(num) ELSE text END)", op, value.value)})`;
      }
    }
    return this.attribute(field.name, op, value);
  }

  private attribute(name: string, op: Comparison, value: Value): string {
    if (name === 'tag') {
      const has = (inner: string) => `+r.rid IN (SELECT rid FROM tags WHERE ${inner})`;
      if (value.kind === 'null') return op === '=' ? `(NOT ${has('1')})` : has('1');
      const text = value.kind === 'string' ? value.value : String(valueText(value));
      if (op === '=') return has(`tag = ${this.bind(text)}`);
      if (op === '!=') return `(NOT ${has(`tag = ${this.bind(text)}`)})`;
      if (op === '~') return has(`rl_match(${this.bind(text)}, tag)`);
      return `(NOT ${has(`rl_match(${this.bind(text)}, tag)`)})`;
    }
    if (name === 'commit') {
      if (value.kind === 'null') return op === '=' ? '(r.head IS NULL)' : '(r.head IS NOT NULL)';
      const text = String(valueText(value)).toLowerCase();
      if (op === '~' || op === '!~') return `COALESCE(${this.test('r.head', op, text)}, 0)`;
      const bound = this.bind(text);
      const prefix = `(COALESCE(substr(r.head, 1, length(${bound})) = ${bound}, 0) OR COALESCE(substr(r.snapshot, 1, length(${bound})) = ${bound}, 0))`;
      return op === '=' ? prefix : `(r.head IS NOT NULL AND NOT ${prefix})`;
    }
    if (name === 'age' || name === 'duration') {
      const seconds = numberOf(value);
      const span = name === 'age' ? `((${this.bind(this.now)} - r.started_ms) / 1000.0)` : `((COALESCE(r.ended_ms, ${this.bind(this.now)}) - r.started_ms) / 1000.0)`;
      return `COALESCE(${span} ${op} ${this.bind(seconds)}, 0)`;
    }
    const column = COLUMN[name]!;
    if (value.kind === 'null') return op === '=' ? `(${column} IS NULL)` : `(${column} IS NOT NULL)`;
    let sqlValue: SqlValue;
    if (name === 'started' || name === 'ended') sqlValue = Date.parse(String(valueText(value)));
    else if (name === 'dirty') sqlValue = value.kind === 'bool' && value.value ? 1 : 0;
    else if (name === 'exit') sqlValue = numberOf(value);
    else sqlValue = String(valueText(value));
    return `COALESCE(${this.test(column, op, sqlValue)}, 0)`;
  }

  /**
   * ORDER BY for the sort keys; runs without the value sort last, then newest first. Written as
   * `DESC` / `ASC NULLS LAST` on the column itself, not `column IS NULL` first: an expression first
   * keeps SQLite from walking an index, so the table's first screen of 100,000 runs by start time
   * sorted them all (130 ms) instead of reading 100 rows of runs_started (1 ms).
   */
  orderBy(keys: SortKey[]): { joins: string; order: string } {
    const joins: string[] = [];
    const order: string[] = [];
    const nullsLast = (expr: string, descending: boolean) => (descending ? `${expr} DESC` : `${expr} ASC NULLS LAST`);
    let byStarted = false;
    keys.forEach((key, i) => {
      const dir = key.descending ? 'DESC' : 'ASC';
      const f = key.field;
      if (f.kind === 'metric') {
        joins.push(`LEFT JOIN metrics s${i} ON s${i}.rid = r.rid AND s${i}.kid = ${this.key(f.key)}`);
        order.push(nullsLast(`s${i}.last`, key.descending));
      } else if (f.kind === 'param') {
        joins.push(`LEFT JOIN params s${i} ON s${i}.rid = r.rid AND s${i}.kid = ${this.key(f.key)}`);
        order.push(`(s${i}.num IS NULL AND s${i}.text IS NULL)`, `s${i}.num ${dir}`, `s${i}.text ${dir}`);
      } else if (f.name === 'age') {
        order.push(nullsLast('r.started_ms', !key.descending));
        byStarted ||= i === 0;
      } else if (f.name === 'duration') {
        order.push(`(COALESCE(r.ended_ms, ${this.bind(this.now)}) - r.started_ms) ${dir}`);
      } else if (f.name === 'commit') {
        order.push(nullsLast('r.head', key.descending));
      } else {
        order.push(nullsLast(COLUMN[f.name]!, key.descending));
        byStarted ||= i === 0 && f.name === 'started';
      }
    });
    // Newest first among equals; a sort by start time already has it, and a repeated key would not use the index.
    if (!byStarted) order.push('r.started_ms DESC');
    order.push('r.id DESC');
    return { joins: joins.join(' '), order: order.join(', ') };
  }
}

function numberOf(value: Value): number {
  if (value.kind === 'number') return value.value;
  if (value.kind === 'duration') return value.seconds;
  if (value.kind === 'bool') return value.value ? 1 : 0;
  return NaN;
}

function valueText(value: Value): string | number | boolean | null {
  switch (value.kind) {
    case 'string':
      return value.value;
    case 'number':
      return value.value;
    case 'duration':
      return value.seconds;
    case 'bool':
      return value.value;
    case 'null':
      return null;
  }
}
