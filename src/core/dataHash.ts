import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from './atomicFile';
import type { HashedPath } from './runRecord';

const READ_CHUNK = 4 * 1024 * 1024;
/** A folder with more files than this is recorded by its total hash only. */
const MAX_LISTED_ENTRIES = 1000;

interface CacheEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * Remembers file hashes by absolute path, size and mtime, so re-hashing an
 * unchanged 10 GB folder costs a stat per file. It is only a cache: losing
 * it (or a concurrent run overwriting it) costs time, never correctness.
 */
export class HashCache {
  private entries = new Map<string, CacheEntry>();
  private changed = false;

  constructor(private readonly file: string | null) {
    if (!file) return;
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; entries: Record<string, CacheEntry> };
      if (parsed.version === 1) this.entries = new Map(Object.entries(parsed.entries));
    } catch {
      // missing or unreadable: start empty
    }
  }

  lookup(file: string, stat: fs.Stats): string | null {
    const entry = this.entries.get(file);
    return entry && entry.size === stat.size && entry.mtimeMs === stat.mtimeMs ? entry.sha256 : null;
  }

  remember(file: string, stat: fs.Stats, sha256: string): void {
    this.entries.set(file, { size: stat.size, mtimeMs: stat.mtimeMs, sha256 });
    this.changed = true;
  }

  save(): void {
    if (!this.file || !this.changed) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeJsonAtomic(this.file, { version: 1, entries: Object.fromEntries(this.entries) });
    this.changed = false;
  }
}

function hashFile(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(READ_CHUNK);
  try {
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, READ_CHUNK, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function cachedHash(file: string, stat: fs.Stats, cache: HashCache): string {
  const known = cache.lookup(file, stat);
  if (known) return known;
  const sha = hashFile(file);
  cache.remember(file, stat, sha);
  return sha;
}

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  walk('');
  // Byte order of the UTF-8 names, so the folder hash is the same on every machine.
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * Content hash of a file or a folder. A folder's hash is the sha256 of the
 * lines `<sha256>  <relative path>` in byte order of the paths, which is
 * what `find . -type f | sort | xargs sha256sum` prints, so anyone can check it.
 */
export function hashPath(given: string, cwd: string, cache: HashCache): HashedPath {
  const abs = path.resolve(cwd, given);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch (err) {
    return { path: given, kind: 'missing', size: 0, files: 0, sha256: null, error: (err as Error).message };
  }
  try {
    if (!stat.isDirectory()) {
      return { path: given, kind: 'file', size: stat.size, files: 1, sha256: cachedHash(abs, stat, cache) };
    }
    const files = listFiles(abs);
    const summary = createHash('sha256');
    const entries: NonNullable<HashedPath['entries']> = [];
    let size = 0;
    for (const rel of files) {
      const fileStat = fs.statSync(path.join(abs, rel));
      const sha = cachedHash(path.join(abs, rel), fileStat, cache);
      summary.update(`${sha}  ${rel}\n`);
      size += fileStat.size;
      if (files.length <= MAX_LISTED_ENTRIES) entries.push({ path: rel, size: fileStat.size, sha256: sha });
    }
    const hashed: HashedPath = { path: given, kind: 'dir', size, files: files.length, sha256: summary.digest('hex') };
    if (files.length <= MAX_LISTED_ENTRIES) hashed.entries = entries;
    return hashed;
  } catch (err) {
    return { path: given, kind: 'missing', size: 0, files: 0, sha256: null, error: (err as Error).message };
  }
}
