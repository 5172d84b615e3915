import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlias, isCollection, isScalar, parseDocument, visit, type Document } from 'yaml';
import type { ParamValue } from '../params';

/**
 * Reading other tools' files safely: nothing here follows a path out of the
 * folder being imported, and nothing reads an unbounded file into memory by
 * accident. Symlinks are followed only when they resolve inside the root.
 */

/**
 * The entries of a folder, links kept only when they resolve inside `root`;
 * an unreadable folder has none, and so has a folder that is itself a link
 * out of `root`. A folder reached through plain entries from `root` is inside
 * by construction, so only links cost a realpath.
 */
export function entriesInside(root: string, dir: string, reachedByEntries = false): fs.Dirent[] {
  if (!reachedByEntries) {
    try {
      if (fs.lstatSync(dir).isSymbolicLink() && !resolvesInside(root, dir)) return [];
    } catch {
      return [];
    }
  }
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((entry) => !entry.isSymbolicLink() || resolvesInside(root, path.join(dir, entry.name)));
}

const realRoots = new Map<string, string>();

export function resolvesInside(root: string, file: string): boolean {
  try {
    const real = fs.realpathSync(file);
    let realRoot = realRoots.get(root);
    if (realRoot === undefined) realRoots.set(root, (realRoot = fs.realpathSync(root)));
    return real === realRoot || real.startsWith(realRoot + path.sep);
  } catch {
    return false;
  }
}

export function isDirInside(root: string, dir: string): boolean {
  try {
    const stat = fs.lstatSync(dir);
    if (stat.isDirectory()) return true;
    return stat.isSymbolicLink() && resolvesInside(root, dir) && fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

export function isFileInside(root: string, file: string): boolean {
  try {
    const stat = fs.lstatSync(file);
    if (stat.isFile()) return true;
    return stat.isSymbolicLink() && resolvesInside(root, file) && fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Text files a source describes itself with (meta.yaml, hparams.yaml) are small; a bigger one is refused, not read. */
export const MAX_TEXT_BYTES = 16 * 1024 * 1024;

export function readTextFile(file: string, maxBytes = MAX_TEXT_BYTES): string {
  const size = fs.statSync(file).size;
  if (size > maxBytes) throw new Error(`${size} bytes, more than the ${maxBytes} a file of this kind is read up to`);
  return fs.readFileSync(file, 'utf8');
}

/**
 * Every file under `dir` (inside `root`), as paths relative to `dir` with `/`;
 * no deeper than `maxDepth`. `reachedByEntries` says the caller found `dir`
 * as a plain folder entry, so it needs no link check of its own.
 */
export function filesUnder(root: string, dir: string, maxDepth = 16, prefix = '', reachedByEntries = false): string[] {
  const out: string[] = [];
  if (maxDepth < 0) return out;
  // Below the first folder, every folder was reached through plain entries or checked links.
  for (const entry of entriesInside(root, dir, reachedByEntries || prefix !== '')) {
    const full = path.join(dir, entry.name);
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    // entriesInside kept only links that resolve inside root: their target's type decides.
    const isDir = entry.isSymbolicLink() ? isDirInside(root, full) : entry.isDirectory();
    const isFile = !isDir && (entry.isSymbolicLink() ? isFileInside(root, full) : entry.isFile());
    if (isDir) out.push(...filesUnder(root, full, maxDepth - 1, rel));
    else if (isFile) out.push(rel);
  }
  return out;
}

const FOREIGN_TAG = /^tag:yaml\.org,2002:(python\/|binary$)|^!/;
const MAX_YAML_ALIASES = 10_000;

/**
 * YAML written by Python tools (Lightning's hparams.yaml) holds
 * `!!python/object:…`, `!!python/object/apply:numpy…` and `!!binary` values,
 * with anchors and aliases. Such a value is kept as its tag text; it never
 * fails the file. Aliases are bounded, so a "billion laughs" file is refused.
 */
export function parseToolYaml(text: string): unknown {
  const doc: Document = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0) throw new Error(`not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) return undefined;
      const tag = (isScalar(node) || isCollection(node)) && node.tag;
      if (tag && FOREIGN_TAG.test(tag)) {
        const text = doc.createNode(tag.replace('tag:yaml.org,2002:', '!!'));
        // `&id001 !!python/object…` is referred to later as `*id001`: the text keeps the anchor.
        text.anchor = (node as { anchor?: string }).anchor;
        return text;
      }
      return undefined;
    },
  });
  return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
}

/** Params from a nested object: `a.b.c` keys, bounded in depth and count so a 700 KB hparams.yaml stays a list of params. */
export function flattenBounded(value: unknown, limits = { depth: 32, count: 2000 }): { params: Record<string, ParamValue>; dropped: number } {
  const params: Record<string, ParamValue> = {};
  let count = 0;
  let dropped = 0;
  const walk = (v: unknown, prefix: string, depth: number) => {
    if (v !== null && typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array)) {
      if (depth >= limits.depth) {
        put(prefix, '{…}');
        return;
      }
      const entries = Array.isArray(v) ? v.map((c, i) => [String(i), c] as const) : Object.entries(v as Record<string, unknown>);
      if (entries.length === 0 && prefix) put(prefix, Array.isArray(v) ? '[]' : '{}');
      for (const [key, child] of entries) walk(child, prefix ? `${prefix}.${key}` : key, depth + 1);
    } else if (prefix) {
      put(prefix, scalar(v));
    }
  };
  const put = (key: string, v: ParamValue) => {
    if (count >= limits.count) {
      dropped++;
      return;
    }
    count++;
    params[key] = v;
  };
  walk(value, '', 0);
  return { params, dropped };
}

function scalar(value: unknown): ParamValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return String(value);
}

/** A number as a tool wrote it in text: `nan`, `inf`, `-Infinity` included; null when it is not one. */
export function parseNumber(text: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  const n = Number(t);
  if (!Number.isNaN(n)) return n;
  const lower = t.toLowerCase();
  if (lower === 'nan' || lower === '-nan') return NaN;
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return null;
}

/** Text params as the tool wrote them, typed the way `--param` values are. */
export function typedParam(text: string): ParamValue {
  const n = parseNumber(text);
  if (n !== null && Number.isFinite(n)) return n;
  if (text === 'True' || text === 'true') return true;
  if (text === 'False' || text === 'false') return false;
  if (text === 'None') return null;
  return text;
}

/** The sizes and mtimes of the files a run is read from: when it is unchanged, so is the run. */
export function signatureOf(files: string[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) {
    try {
      const stat = fs.statSync(file);
      hash.update(`${file}\0${stat.size}\0${stat.mtimeMs}\n`);
    } catch {
      hash.update(`${file}\0gone\n`);
    }
  }
  return hash.digest('base64url').slice(0, 27);
}
