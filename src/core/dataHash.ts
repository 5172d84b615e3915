import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from './atomicFile';
import type { HashedPath } from './runRecord';

const READ_CHUNK = 4 * 1024 * 1024;
/** A folder with more files than this is recorded by its total hash only. */
const MAX_LISTED_ENTRIES = 1000;
const CACHE_VERSION = 2;

interface CacheEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * Remembers file hashes by the file itself (its device and inode), size and mtime, so re-hashing
 * an unchanged 10 GB folder costs a stat per file, whatever path reaches it. A reproduction sees
 * the original's data through a link in a temporary worktree: keyed by path, as before, every
 * reproduction hashed all of it again. It is only a cache: losing it (or a concurrent run
 * overwriting it) costs time, never correctness.
 */
export class HashCache {
  private entries = new Map<string, CacheEntry>();
  private changed = false;

  constructor(private readonly file: string | null) {
    if (!file) return;
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; entries: Record<string, CacheEntry> };
      // Version 1 was keyed by path: it is dropped, and costs one hashing again.
      if (parsed.version === CACHE_VERSION) this.entries = new Map(Object.entries(parsed.entries));
    } catch {
      // missing or unreadable: start empty
    }
  }

  /** A file's identity: its device and inode, or its path where the file system has no inodes. */
  private static keyOf(file: string, stat: fs.Stats): string {
    return stat.ino > 0 ? `${stat.dev}:${stat.ino}` : path.resolve(file);
  }

  lookup(file: string, stat: fs.Stats): string | null {
    const entry = this.entries.get(HashCache.keyOf(file, stat));
    return entry && entry.size === stat.size && entry.mtimeMs === stat.mtimeMs ? entry.sha256 : null;
  }

  remember(file: string, stat: fs.Stats, sha256: string): void {
    this.entries.set(HashCache.keyOf(file, stat), { size: stat.size, mtimeMs: stat.mtimeMs, sha256 });
    this.changed = true;
  }

  save(): void {
    if (!this.file || !this.changed) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeJsonAtomic(this.file, { version: CACHE_VERSION, entries: Object.fromEntries(this.entries) });
    this.changed = false;
  }
}

/**
 * Hashing is written as steps: it yields after every chunk it reads, so the
 * recorder can run it interruptibly (a signal ends the run within a chunk),
 * and everyone else runs it straight through.
 */
type Steps<T> = Generator<void, T, void>;

function* hashFile(file: string): Steps<string> {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(READ_CHUNK);
  try {
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, READ_CHUNK, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      yield;
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function* cachedHash(file: string, stat: fs.Stats, cache: HashCache): Steps<string> {
  const known = cache.lookup(file, stat);
  if (known) return known;
  const sha = yield* hashFile(file);
  cache.remember(file, stat, sha);
  return sha;
}

function describeSpecial(stat: fs.Stats): string {
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

interface ListedFile {
  rel: string;
  abs: string;
  stat: fs.Stats;
}

/**
 * The regular files under `root`, links followed to what they point at (a
 * Hugging Face cache or a DVC checkout is made of links), each folder entered
 * once: a link back to a folder being walked is noted, not followed.
 */
function listFiles(root: string, notes: string[]): ListedFile[] {
  const out: ListedFile[] = [];
  const walking = new Set<string>();
  const walk = (abs: string, rel: string) => {
    const real = fs.realpathSync(abs);
    if (walking.has(real)) {
      notes.push(`${rel || '.'}: a link back to a folder above it; not followed again`);
      return;
    }
    walking.add(real);
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      const childAbs = path.join(abs, entry.name);
      let stat: fs.Stats;
      try {
        stat = entry.isSymbolicLink() ? fs.statSync(childAbs) : fs.lstatSync(childAbs);
      } catch (err) {
        notes.push(`${childRel}: ${entry.isSymbolicLink() ? 'a link to nothing' : 'unreadable'} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        continue;
      }
      if (stat.isDirectory()) walk(childAbs, childRel);
      else if (stat.isFile()) out.push({ rel: childRel, abs: childAbs, stat });
      else notes.push(`${childRel}: ${describeSpecial(stat)}, not read`);
    }
    walking.delete(real);
  };
  walk(root, '');
  // Byte order of the UTF-8 names, so the folder hash is the same on every machine.
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.rel), Buffer.from(b.rel)));
}

function* hashPathSteps(given: string, cwd: string, cache: HashCache): Steps<HashedPath> {
  const abs = path.resolve(cwd, given);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch (err) {
    return { path: given, kind: 'missing', size: 0, files: 0, sha256: null, error: (err as Error).message };
  }
  if (!stat.isDirectory() && !stat.isFile()) {
    // /dev/zero or a FIFO would never end (or block); such a path is recorded as what it is.
    return { path: given, kind: 'special', size: 0, files: 0, sha256: null, error: `${describeSpecial(stat)}: not hashed` };
  }
  try {
    if (stat.isFile()) {
      return { path: given, kind: 'file', size: stat.size, files: 1, sha256: yield* cachedHash(abs, stat, cache) };
    }
    const notes: string[] = [];
    const files = listFiles(abs, notes);
    const summary = createHash('sha256');
    const entries: NonNullable<HashedPath['entries']> = [];
    let size = 0;
    for (const file of files) {
      const sha = yield* cachedHash(file.abs, file.stat, cache);
      summary.update(`${sha}  ${file.rel}\n`);
      size += file.stat.size;
      if (files.length <= MAX_LISTED_ENTRIES) entries.push({ path: file.rel, size: file.stat.size, sha256: sha });
      yield;
    }
    const hashed: HashedPath = { path: given, kind: 'dir', size, files: files.length, sha256: summary.digest('hex') };
    if (files.length <= MAX_LISTED_ENTRIES) hashed.entries = entries;
    if (notes.length > 0) hashed.notes = notes.slice(0, 20);
    return hashed;
  } catch (err) {
    return { path: given, kind: 'missing', size: 0, files: 0, sha256: null, error: (err as Error).message };
  }
}

/**
 * Content hash of a file or a folder. A folder's hash is the sha256 of the
 * lines `<sha256>  <relative path>` in byte order of the paths, which is
 * what `find -L . -type f | sort | xargs sha256sum` prints, so anyone can check
 * it. Links count as what they point at.
 */
export function hashPath(given: string, cwd: string, cache: HashCache): HashedPath {
  const steps = hashPathSteps(given, cwd, cache);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Hashing stopped because the run was interrupted. */
export class HashingStopped extends Error {}

/**
 * `hashPath` that lets the event loop run between chunks, so signals are
 * handled while a large folder is hashed; throws HashingStopped as soon as
 * `stopped()` says so.
 */
export async function hashPathInterruptibly(given: string, cwd: string, cache: HashCache, stopped: () => boolean): Promise<HashedPath> {
  const steps = hashPathSteps(given, cwd, cache);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (stopped()) {
      steps.return(undefined as never);
      throw new HashingStopped('interrupted while hashing data');
    }
  }
}
