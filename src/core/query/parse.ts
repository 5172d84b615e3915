import { compilePattern } from './pattern';
import { ATTRIBUTES, QuerySyntaxError, type Attribute, type Comparison, type Expr, type Field, type SortKey, type Value } from './ast';

type Token =
  | { kind: 'word'; text: string; pos: number; quoted: boolean }
  | { kind: 'string'; text: string; pos: number }
  | { kind: 'number'; value: number; pos: number; text: string }
  | { kind: 'duration'; seconds: number; pos: number; text: string }
  | { kind: 'op'; text: Comparison; pos: number }
  | { kind: 'paren'; text: '(' | ')'; pos: number }
  | { kind: 'end'; pos: number };

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (reason: string, pos = i): never => {
    throw new QuerySyntaxError(reason, pos, query);
  };
  while (i < query.length) {
    const ch = query[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      tokens.push({ kind: 'paren', text: ch, pos: i++ });
    } else if (ch === '"' || ch === "'") {
      const start = i++;
      let text = '';
      while (i < query.length && query[i] !== ch) {
        if (query[i] === '\\' && i + 1 < query.length) i++;
        text += query[i++];
      }
      if (i >= query.length) fail(`unterminated string (missing ${ch})`, start);
      i++;
      tokens.push({ kind: 'string', text, pos: start });
    } else if ('=!<>~'.includes(ch)) {
      const two = query.slice(i, i + 2);
      const op = ['!=', '<=', '>=', '!~', '=='].includes(two) ? two : ch;
      if (op === '!') fail('expected != or !~');
      tokens.push({ kind: 'op', text: (op === '==' ? '=' : op) as Comparison, pos: i });
      i += op.length;
    } else if (/[-+0-9.]/.test(ch) && /^[-+]?(\d|\.\d)/.test(query.slice(i))) {
      const match = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?([smhdw](?![\w.]))?/.exec(query.slice(i))!;
      const unit = match[3];
      const numberText = unit ? match[0].slice(0, -1) : match[0];
      if (unit) tokens.push({ kind: 'duration', seconds: Number(numberText) * DURATION_UNITS[unit]!, pos: i, text: match[0] });
      else tokens.push({ kind: 'number', value: Number(numberText), pos: i, text: match[0] });
      i += match[0].length;
      if (i < query.length && /[\w.]/.test(query[i]!)) fail(`unexpected "${query[i]}" after the number ${match[0]}`);
    } else if (ch === '`') {
      const start = i++;
      const end = query.indexOf('`', i);
      if (end < 0) fail('unterminated `quoted name`', start);
      tokens.push({ kind: 'word', text: query.slice(i, end), pos: start, quoted: true });
      i = end + 1;
    } else if (/[\w.\-/]/.test(ch)) {
      const start = i;
      while (i < query.length && /[\w.\-/:`]/.test(query[i]!)) {
        if (query[i] === '`') {
          const end = query.indexOf('`', i + 1);
          if (end < 0) fail('unterminated `quoted name`', i);
          i = end + 1;
        } else i++;
      }
      tokens.push({ kind: 'word', text: query.slice(start, i), pos: start, quoted: false });
    } else {
      fail(`unexpected "${ch}"`);
    }
  }
  tokens.push({ kind: 'end', pos: query.length });
  return tokens;
}

/** `metrics.val.loss` → metric "val.loss"; backticks quote a key with odd characters. */
function parseField(text: string, pos: number, query: string): Field {
  const unquote = (s: string) => s.replace(/`([^`]*)`/g, '$1');
  const dot = text.indexOf('.');
  const head = (dot < 0 ? text : text.slice(0, dot)).toLowerCase();
  const rest = dot < 0 ? '' : unquote(text.slice(dot + 1));
  if (head === 'metrics' || head === 'metric' || head === 'm') {
    if (!rest) throw new QuerySyntaxError('expected a metric name after "metrics."', pos + text.length, query);
    return { kind: 'metric', key: rest };
  }
  if (head === 'params' || head === 'param' || head === 'p') {
    if (!rest) throw new QuerySyntaxError('expected a param name after "params."', pos + text.length, query);
    return { kind: 'param', key: rest };
  }
  const name = (head === 'tags' ? 'tag' : head) as Attribute;
  if (dot < 0 && (ATTRIBUTES as readonly string[]).includes(name)) return { kind: 'attr', name };
  throw new QuerySyntaxError(`unknown field "${text}": expected metrics.<name>, params.<name>, or one of ${ATTRIBUTES.join(', ')}`, pos, query);
}

class Parser {
  private index = 0;
  /** How deep in parentheses and `not`s the parser is. */
  private depth = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly query: string,
  ) {}

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    return this.tokens[this.index++]!;
  }

  private fail(reason: string, token = this.peek()): never {
    throw new QuerySyntaxError(reason, token.pos, this.query);
  }

  private describe(token: Token): string {
    switch (token.kind) {
      case 'end':
        return 'the end of the query';
      case 'string':
        return `"${token.text}"`;
      case 'number':
      case 'duration':
        return token.text;
      default:
        return `"${token.text}"`;
    }
  }

  private isKeyword(token: Token, word: string): boolean {
    return token.kind === 'word' && !token.quoted && token.text.toLowerCase() === word;
  }

  parseQuery(): Expr {
    const expr = this.parseOr();
    const token = this.peek();
    if (token.kind !== 'end') this.fail(`expected "and", "or" or the end of the query, found ${this.describe(token)}`);
    return expr;
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isKeyword(this.peek(), 'or')) {
      this.next();
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isKeyword(this.peek(), 'and')) {
      this.next();
      left = { kind: 'and', left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isKeyword(this.peek(), 'not')) {
      const token = this.next();
      this.enter(token);
      const expr: Expr = { kind: 'not', expr: this.parseNot() };
      this.depth--;
      return expr;
    }
    return this.parsePrimary();
  }

  private enter(token: Token): void {
    if (++this.depth > QUERY_LIMITS.depth) this.fail(`the query nests too deep (more than ${QUERY_LIMITS.depth} parentheses and "not"s)`, token);
  }

  private parsePrimary(): Expr {
    const token = this.peek();
    if (token.kind === 'paren' && token.text === '(') {
      this.next();
      this.enter(token);
      const inner = this.parseOr();
      this.depth--;
      const close = this.peek();
      if (close.kind !== 'paren' || close.text !== ')') this.fail(`expected ")" to close the "(" at position ${token.pos + 1}, found ${this.describe(close)}`);
      this.next();
      return inner;
    }
    if (token.kind !== 'word') this.fail(`expected a field such as metrics.acc, params.lr or status, found ${this.describe(token)}`);
    this.next();
    const field = parseField(token.text, token.pos, this.query);
    const opToken = this.peek();
    if (opToken.kind !== 'op') this.fail(`expected a comparison (=, !=, <, <=, >, >=, ~, !~) after ${token.text}, found ${this.describe(opToken)}`);
    this.next();
    const value = this.parseValue(opToken.text);
    const cmp: Expr = { kind: 'cmp', field, op: opToken.text, value, pos: token.pos };
    this.check(cmp, opToken);
    return cmp;
  }

  private parseValue(op: Comparison): Value {
    const token = this.next();
    switch (token.kind) {
      case 'number':
        return { kind: 'number', value: token.value };
      case 'duration':
        return { kind: 'duration', seconds: token.seconds };
      case 'string':
        return { kind: 'string', value: token.text };
      case 'word': {
        const lower = token.text.toLowerCase();
        if (!token.quoted && (lower === 'true' || lower === 'false')) return { kind: 'bool', value: lower === 'true' };
        if (!token.quoted && lower === 'null') return { kind: 'null' };
        return { kind: 'string', value: token.text };
      }
      default:
        this.index--;
        return this.fail(`expected a value after "${op}", found ${this.describe(token)}`, token);
    }
  }

  /** Type rules, checked now so a wrong query fails before it runs. */
  private check(cmp: Extract<Expr, { kind: 'cmp' }>, opToken: Token): void {
    const { field, op, value } = cmp;
    const valuePos = this.tokens[this.index - 1]!;
    const ordered = op === '<' || op === '<=' || op === '>' || op === '>=';
    const matches = op === '~' || op === '!~';
    if (value.kind === 'null' && op !== '=' && op !== '!=') this.fail('null can only be compared with = or !=', valuePos);
    if (matches) {
      if (value.kind !== 'string') this.fail(`"${op}" matches text against a pattern; put the pattern in quotes`, valuePos);
      try {
        compilePattern(value.value);
      } catch (err) {
        this.fail(`invalid pattern: ${(err as Error).message}`, valuePos);
      }
    }
    if (field.kind === 'metric' && value.kind !== 'number' && value.kind !== 'null') this.fail('a metric compares with a number', valuePos);
    if (field.kind === 'attr') {
      const name = field.name;
      const numeric = name === 'exit';
      const time = name === 'started' || name === 'ended';
      const span = name === 'age' || name === 'duration';
      if (numeric && value.kind !== 'number' && value.kind !== 'null') this.fail('exit compares with a number', valuePos);
      if (span && value.kind !== 'duration' && value.kind !== 'number') this.fail(`${name} compares with a duration such as 30m, 2h or 7d`, valuePos);
      if (time && value.kind !== 'string' && value.kind !== 'null') this.fail(`${name} compares with a date such as "2026-11-01" or "2026-11-01T12:00"`, valuePos);
      if (time && value.kind === 'string' && Number.isNaN(Date.parse(value.value))) this.fail(`"${value.value}" is not a date such as "2026-11-01"`, valuePos);
      if (name === 'dirty' && value.kind !== 'bool' && value.kind !== 'null') this.fail('dirty compares with true, false or null', valuePos);
      if (ordered && !(numeric || time || span)) this.fail(`${name} cannot be ordered; use =, !=, ~ or !~`, opToken);
      if (!ordered && !matches && span) this.fail(`${name} compares with <, <=, > or >=`, opToken);
    }
    if (field.kind === 'param' && ordered && value.kind !== 'number' && value.kind !== 'string') this.fail(`"${op}" needs a number or a text`, valuePos);
  }
}

/**
 * Bounds on a query, so that no query can exhaust the stack or the index's
 * SQL depth: far above what a person writes or a filter box sends.
 */
export const QUERY_LIMITS = { characters: 10_000, comparisons: 256, depth: 64 };

export function parseQuery(query: string): Expr | null {
  if (query.trim() === '') return null;
  if (query.length > QUERY_LIMITS.characters) {
    throw new QuerySyntaxError(`the query is too long (${query.length} characters; at most ${QUERY_LIMITS.characters})`, QUERY_LIMITS.characters, query);
  }
  const tokens = tokenize(query);
  const comparisons = tokens.filter((t) => t.kind === 'op');
  if (comparisons.length > QUERY_LIMITS.comparisons) {
    throw new QuerySyntaxError(`the query has too many comparisons (${comparisons.length}; at most ${QUERY_LIMITS.comparisons})`, comparisons[QUERY_LIMITS.comparisons]!.pos, query);
  }
  return new Parser(tokens, query).parseQuery();
}

/** `-metrics.acc,name` → sort by acc descending, then name. */
export function parseSort(text: string): SortKey[] {
  const keys: SortKey[] = [];
  let offset = 0;
  for (const part of text.split(',')) {
    const trimmed = part.trim();
    const pos = offset + part.indexOf(trimmed);
    offset += part.length + 1;
    if (!trimmed) throw new QuerySyntaxError('expected a field to sort by', pos, text);
    const descending = trimmed.startsWith('-');
    const name = trimmed.replace(/^[-+]/, '');
    const field = parseField(name, pos + (trimmed.length - name.length), text);
    if (field.kind === 'attr' && field.name === 'tag') throw new QuerySyntaxError('cannot sort by tag', pos, text);
    keys.push({ field, descending });
  }
  return keys;
}
