import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execGit, execGitInput, execGitInputBuffer, splitNul } from '../git/gitClient';

/**
 * Git objects for sharing, without an index and without a git process per
 * object: object ids are computed here the way git computes them, trees and
 * blobs are read back through one `cat-file --batch`, and a share commit is
 * written by one `git fast-import`, which builds on the remote's tree and
 * writes a single pack. Writing 1,000 runs as loose objects through
 * hash-object and mktree took most of a push (bench).
 */

export type ObjectFormat = 'sha1' | 'sha256';

export interface TreeLine {
  mode: string;
  type: string;
  sha: string;
  path: string;
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `ls-tree -z` of `treeish` (and the paths given, in chunks that fit a command line). */
export async function lsTree(root: string, treeish: string, paths: string[] = [], flags: string[] = []): Promise<TreeLine[]> {
  const out: TreeLine[] = [];
  for (const part of paths.length === 0 ? [[]] : chunk(paths, 500)) {
    const text = await execGit(root, ['ls-tree', '-z', ...flags, treeish, '--', ...part]);
    for (const line of splitNul(text)) {
      const tab = line.indexOf('\t');
      const [mode, type, sha] = line.slice(0, tab).split(' ') as [string, string, string];
      out.push({ mode, type, sha, path: line.slice(tab + 1) });
    }
  }
  return out;
}

export async function objectFormatOf(root: string): Promise<ObjectFormat> {
  const format = (await execGit(root, ['rev-parse', '--show-object-format'])).trim();
  return format === 'sha256' ? 'sha256' : 'sha1';
}

/** The id git gives an object of `type` with `body`. */
export function objectId(format: ObjectFormat, type: string, body: Uint8Array): string {
  return createHash(format).update(`${type} ${body.length}\0`).update(body).digest('hex');
}

/** The id of a file's blob, read in chunks (a metrics file may be big). */
export function fileBlobId(format: ObjectFormat, file: string): { id: string; size: number } {
  const size = fs.statSync(file).size;
  const hash = createHash(format).update(`blob ${size}\0`);
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let read = 0;
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, read)) > 0; read += n) hash.update(buf.subarray(0, n));
    if (read !== size) throw new Error(`${file} changed while it was read`);
  } finally {
    fs.closeSync(fd);
  }
  return { id: hash.digest('hex'), size };
}

/** The id of a tree of plain files (a run's folder): entries sorted by name, as git sorts them. */
export function flatTreeId(format: ObjectFormat, files: { name: string; id: string }[]): string {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const body = Buffer.concat(sorted.flatMap((f) => [Buffer.from(`100644 ${f.name}\0`), Buffer.from(f.id, 'hex')]));
  return objectId(format, 'tree', body);
}

/** Tree objects by spec (`<commit>:runs/ab`), parsed; a spec that names nothing is absent from the map. */
export interface TreeEntry {
  mode: string;
  name: string;
  id: string;
}

export async function readTrees(root: string, specs: string[], format: ObjectFormat): Promise<Map<string, TreeEntry[] & { id?: string }>> {
  const out = new Map<string, TreeEntry[] & { id?: string }>();
  const idBytes = format === 'sha1' ? 20 : 32;
  for (const part of chunk([...new Set(specs)], 5000)) {
    const data = await execGitInputBuffer(root, ['cat-file', '--batch'], part.join('\n') + '\n');
    let pos = 0;
    for (const spec of part) {
      const eol = data.indexOf(10, pos);
      const header = data.subarray(pos, eol).toString('utf8');
      pos = eol + 1;
      const [treeId, type, sizeText] = header.split(' ');
      if (type === 'missing' || type === 'ambiguous' || sizeText === undefined) continue;
      const size = Number(sizeText);
      if (type === 'tree') {
        const entries: TreeEntry[] & { id?: string } = [];
        entries.id = treeId;
        for (let p = pos; p < pos + size; ) {
          const space = data.indexOf(32, p);
          const nul = data.indexOf(0, space);
          entries.push({ mode: data.subarray(p, space).toString('utf8'), name: data.subarray(space + 1, nul).toString('utf8'), id: data.subarray(nul + 1, nul + 1 + idBytes).toString('hex') });
          p = nul + 1 + idBytes;
        }
        out.set(spec, entries);
      }
      pos += size + 1;
    }
  }
  return out;
}

/** Blob contents by sha, from one `cat-file --batch`. */
export async function readBlobs(root: string, shas: string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const part of chunk([...new Set(shas)], 5000)) {
    const data = await execGitInputBuffer(root, ['cat-file', '--batch'], part.join('\n') + '\n');
    let pos = 0;
    while (pos < data.length) {
      const eol = data.indexOf(10, pos);
      const [sha, type, sizeText] = data.subarray(pos, eol).toString('utf8').split(' ') as [string, string, string];
      if (type === 'missing') {
        pos = eol + 1;
        continue;
      }
      const size = Number(sizeText);
      out.set(sha, data.subarray(eol + 1, eol + 1 + size));
      pos = eol + 1 + size + 1;
    }
  }
  return out;
}

/** Which of `shas` name commits this repository has. */
export async function existingCommits(root: string, shas: string[]): Promise<Set<string>> {
  const have = new Set<string>();
  if (shas.length === 0) return have;
  const text = await execGitInput(root, ['cat-file', '--batch-check'], shas.join('\n') + '\n');
  for (const line of text.split('\n')) {
    const [sha, type] = line.split(' ');
    if (sha && type === 'commit') have.add(sha);
  }
  return have;
}

/**
 * Commits whose parents are the given snapshots, `per` to a commit, each on
 * the one before, so that every snapshot is reachable from the last one
 * without a ref of its own. Written through one `hash-object`.
 */
export async function writeCarriers(root: string, snapshots: string[], per: number, format: ObjectFormat, when: number): Promise<string | null> {
  let previous: string | null = null;
  const bodies: string[] = [];
  const emptyTree = objectId(format, 'tree', new Uint8Array(0));
  const stamp = `${Math.floor(when / 1000)} +0000`;
  for (const part of chunk(snapshots, per)) {
    const parents: string[] = [...(previous ? [previous] : []), ...part];
    const body: string = `tree ${emptyTree}\n${parents.map((p) => `parent ${p}\n`).join('')}author RunLens <runlens@localhost> ${stamp}\ncommitter RunLens <runlens@localhost> ${stamp}\n\nrunlens: snapshots of shared runs\n`;
    previous = objectId(format, 'commit', Buffer.from(body, 'utf8'));
    bodies.push(body);
  }
  if (bodies.length === 0) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-carriers-'));
  try {
    const files = bodies.map((body, i) => {
      const file = path.join(dir, String(i));
      fs.writeFileSync(file, body);
      return file;
    });
    const written = (await execGitInput(root, ['hash-object', '-w', '-t', 'commit', '--stdin-paths'], files.join('\n') + '\n')).trim().split('\n');
    if (written[written.length - 1] !== previous) throw new Error('a carrier commit was written under another id than computed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return previous;
}

const NEWLINE = Buffer.from('\n');

export interface ShareFile {
  /** Path in the share tree. */
  path: string;
  /** Where its bytes are read from, or the bytes themselves. */
  from: string | Buffer;
}

/**
 * One share commit through `git fast-import`: `base`'s tree with `files`
 * put in, parents `base` and `extraParent`. Files are streamed one by one;
 * nothing is held whole but the file being sent. Returns the commit's id.
 */
export async function writeShareCommit(root: string, base: string | null, extraParent: string | null, files: ShareFile[], message: string, when: number): Promise<string> {
  const ref = `refs/runlens/share-build/${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: root, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let broken: Error | null = null;
  child.stdin.on('error', (err) => (broken = err));
  // Each write waits for room in the pipe, or for the pipe to break (fast-import gone).
  const write = (chunkData: string | Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (broken) return reject(broken);
      if (child.stdin.write(chunkData)) return resolve();
      const onError = (err: Error) => {
        child.stdin.off('drain', onDrain);
        reject(err);
      };
      const onDrain = () => {
        child.stdin.off('error', onError);
        resolve();
      };
      child.stdin.once('drain', onDrain);
      child.stdin.once('error', onError);
    });
  try {
    const msg = Buffer.from(message, 'utf8');
    await write(`feature done\ncommit ${ref}\ncommitter RunLens <runlens@localhost> ${Math.floor(when / 1000)} +0000\ndata ${msg.length}\n`);
    await write(Buffer.concat([msg, Buffer.from('\n')]));
    const first = base ?? extraParent;
    if (first) await write(`from ${first}\n`);
    if (base && extraParent) await write(`merge ${extraParent}\n`);
    // Small files go out in batches of about a megabyte: a write (and a wait) per file was half the time.
    let batch: Buffer[] = [];
    let batched = 0;
    const flush = async () => {
      if (batch.length) await write(Buffer.concat(batch));
      batch = [];
      batched = 0;
    };
    for (const file of files) {
      const content = typeof file.from === 'string' ? fs.readFileSync(file.from) : file.from;
      batch.push(Buffer.from(`M 100644 inline ${file.path}\ndata ${content.length}\n`), content, NEWLINE);
      batched += content.length;
      if (batched >= 1 << 20) await flush();
    }
    await flush();
    await write('done\n');
    child.stdin.end();
  } catch (err) {
    child.kill();
    throw err;
  }
  const code = await closed;
  if (code !== 0) throw new Error(`git fast-import failed: ${stderr.trim().split('\n').pop() ?? `exit ${code}`}`);
  const commit = (await execGit(root, ['rev-parse', ref])).trim();
  await execGit(root, ['update-ref', '-d', ref]);
  return commit;
}
