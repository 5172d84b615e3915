import { parseToml } from '../toml';
import { isMap, isPair, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';

/** The param a position in a file names, as the recorder flattens it (`optimizer.lr`, `layers.0`), and its value there. */
export interface KeyAtPosition {
  key: string;
  /** The value in the file now, when it is a scalar (null otherwise, or for YAML's null). */
  value: unknown;
  /** Where the key's name is, as offsets in the text. */
  start: number;
  end: number;
}

const MAX_CONFIG_CHARS = 2_000_000;

/**
 * The config key under `offset` in a YAML or JSON file (JSON is read as the
 * YAML it is), found in the parsed document's ranges. Hovering a key or its
 * scalar value both name it. Null when the offset is on no key, or the file
 * does not parse.
 */
export function yamlKeyAt(text: string, offset: number): KeyAtPosition | null {
  if (text.length > MAX_CONFIG_CHARS) return null;
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0) return null;
  const within = (node: unknown) => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range && offset >= range[0] && offset <= range[1] ? range : null;
  };
  let node: unknown = doc.contents;
  const path: string[] = [];
  for (let depth = 0; depth < 64 && node; depth++) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (within(p.key) || within(p.value) || containsOffset(p.value as YamlNode | null, offset)));
      if (!pair) return null;
      const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const keyRange = within(pair.key);
      const value = pair.value;
      // A key over a mapping or a list names no one param.
      if (keyRange && value !== null && !isScalar(value)) return null;
      if (keyRange || (isScalar(value) && within(value))) {
        const at = (pair.key as { range?: [number, number, number] }).range ?? [offset, offset, offset];
        return { key: [...path, name].join('.'), value: isScalar(value) ? value.value : null, start: at[0], end: at[1] };
      }
      path.push(name);
      node = value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => containsOffset(item as YamlNode, offset));
      if (index < 0) return null;
      path.push(String(index));
      node = node.items[index];
      if (isScalar(node)) {
        const range = node.range ?? [offset, offset, offset];
        return { key: path.join('.'), value: node.value, start: range[0], end: range[1] };
      }
    } else {
      return null;
    }
  }
  return null;
}

function containsOffset(node: YamlNode | null | undefined, offset: number): boolean {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return Boolean(range && offset >= range[0] && offset <= range[2]);
}

/** A TOML key (bare, quoted or dotted) and what follows: `lr = 0.01`, `"a.b" = 1`, `optim.lr = 1`. */
const TOML_KEY_LINE = /^(\s*)((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)\s*=/;
const TOML_TABLE = /^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?/;

function tomlKeyParts(text: string): string[] {
  const parts: string[] = [];
  const part = /\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\s*(?:\.|$)/gy;
  for (let m; (m = part.exec(text)) && m[0]; ) parts.push(m[1] ?? (m[2] !== undefined ? JSON.parse(`"${m[2]}"`) as string : m[3]!));
  return parts;
}

/**
 * The TOML key on the line at `offset`: table headers (`[optimizer]`,
 * `[[layers]]`, counted so that the second `[[layers]]` is `layers.1`)
 * prefix the line's own key. The value is taken from the parsed file.
 */
export function tomlKeyAt(text: string, offset: number): KeyAtPosition | null {
  if (text.length > MAX_CONFIG_CHARS) return null;
  let parsed: unknown;
  try {
    parsed = parseToml(text);
  } catch {
    return null;
  }
  let table: string[] = [];
  const arrays = new Map<string, number>();
  let lineStart = 0;
  for (const line of text.split('\n')) {
    const lineEnd = lineStart + line.length;
    const header = TOML_TABLE.exec(line);
    if (header && !TOML_KEY_LINE.test(line)) {
      const parts = tomlKeyParts(header[2]!);
      if (header[1] === '[[') {
        const name = parts.join('.');
        const n = (arrays.get(name) ?? -1) + 1;
        arrays.set(name, n);
        table = [...parts, String(n)];
      } else {
        table = parts;
      }
    } else if (offset >= lineStart && offset <= lineEnd) {
      const key = TOML_KEY_LINE.exec(line);
      if (!key) return null;
      const path = [...table, ...tomlKeyParts(key[2]!)];
      let value: unknown = parsed;
      for (const p of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[p] : undefined;
      const start = lineStart + key[1]!.length;
      return { key: path.join('.'), value: value !== null && typeof value === 'object' && !(value instanceof Date) ? null : value instanceof Date ? value.toISOString() : value, start, end: start + key[2]!.length };
    }
    if (offset < lineStart) break;
    lineStart = lineEnd + 1;
  }
  return null;
}

/** `parser.add_argument("--lr", "-l", type=float, default=0.01)`: the flag's param name and the default's text. */
const ADD_ARGUMENT = /\badd_argument\s*\(\s*(?:(['"])-[A-Za-z]\1\s*,\s*)?(['"])--([A-Za-z_][\w.-]*)\2/;

/**
 * The param an `add_argument("--lr", …)` line defines, as the recorder names
 * it from the command line (`--batch-size` is `batch_size`), with its
 * default when the line gives a literal one.
 */
export function argparseKeyAt(line: string): { key: string; flag: string; default: unknown; start: number; end: number } | null {
  const match = ADD_ARGUMENT.exec(line);
  if (!match) return null;
  const flag = match[3]!;
  const start = match.index + match[0].lastIndexOf('--');
  const defaultMatch = /\bdefault\s*=\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|True|False|None|(['"])((?:(?!\2)[^\\]|\\.)*)\2)/.exec(line);
  let value: unknown;
  if (defaultMatch) {
    const text = defaultMatch[1]!;
    value = defaultMatch[2] ? defaultMatch[3] : text === 'True' ? true : text === 'False' ? false : text === 'None' ? null : Number(text);
  }
  return { key: flag.replace(/-/g, '_'), flag: `--${flag}`, default: value, start, end: start + flag.length + 2 };
}
