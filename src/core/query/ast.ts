/** The query language shared by `runlens ls --where` and the editor's filter box. */

export type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>=' | '~' | '!~';

/** Run attributes that are columns, not params or metrics. */
export const ATTRIBUTES = ['id', 'name', 'status', 'branch', 'commit', 'host', 'user', 'command', 'started', 'ended', 'age', 'duration', 'exit', 'dirty', 'tag', 'source', 'experiment', 'script'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

export type Field =
  | { kind: 'metric'; key: string }
  | { kind: 'param'; key: string }
  | { kind: 'attr'; name: Attribute };

export type Value =
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' }
  | { kind: 'duration'; seconds: number };

export type Expr =
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'not'; expr: Expr }
  | { kind: 'cmp'; field: Field; op: Comparison; value: Value; pos: number };

export interface SortKey {
  field: Field;
  descending: boolean;
}

export class QuerySyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly position: number,
    readonly query: string,
  ) {
    super(`${reason} at position ${position + 1}`);
  }

  /** The query with a caret under the problem, for terminals. */
  pointer(): string {
    // A long query is shown as the 80 characters around the problem, one line, so the caret still points.
    const from = Math.max(0, Math.min(this.position - 40, this.query.length - 80));
    const shown = this.query.slice(from, from + 80).replace(/[\r\n\t]/g, ' ');
    const before = from > 0 ? '…' : '';
    const after = from + 80 < this.query.length ? '…' : '';
    return `  ${before}${shown}${after}\n  ${' '.repeat(this.position - from + before.length)}^`;
  }
}
