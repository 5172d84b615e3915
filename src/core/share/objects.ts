import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execGit, execGitInput, execGitInputBuffer, splitNul } from '../git/gitClient';
import { SNAPSHOTS_PER_CARRIER } from './layout';

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

export interface TreeEntry {
  mode: string;
  name: string;
  id: string;
}

/** Tree objects by spec (`<commit>:runs/ab`), parsed; a spec that names nothing is absent from the map. With `onlyNames`, only the entries so named. */
export async function readTrees(root: string, specs: string[], format: ObjectFormat, onlyNames?: ReadonlySet<string>): Promise<Map<string, TreeEntry[] & { id?: string }>> {
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
          const name = data.toString('utf8', space + 1, nul);
          // With 600 shard trees of 100 runs each and a few runs wanted, the strings of the rest were most of the read.
          if (!onlyNames || onlyNames.has(name)) entries.push({ mode: data.toString('utf8', p, space), name, id: data.toString('hex', nul + 1, nul + 1 + idBytes) });
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

const NEWLINE = Buffer.from('\n');

export interface ShareFile {
  /** Path in the share tree. */
  path: string;
  /** Where its bytes are read from, or the bytes themselves. */
  from: string | Buffer;
}

/**
 * One share commit through `git fast-import`: `base`'s tree with `files`
 * put in. The snapshots to carry go in the same stream as "carrier"
 * commits, `SNAPSHOTS_PER_CARRIER` snapshots the parents of each, each on
 * the one before and the last a parent of the share commit, so that every
 * snapshot is reachable from it without a ref of its own. Files are
 * streamed one by one; nothing is held whole but the file being sent.
 * Returns the commit's id.
 */
export async function writeShareCommit(root: string, base: string | null, snapshots: string[], files: ShareFile[], message: string, when: number): Promise<string> {
  const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const ref = `refs/runlens/share-build/${tag}`;
  const carrierRef = `${ref}-carriers`;
  const marksDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-share-marks-'));
  const marks = path.join(marksDir, 'marks');
  // glibc gave fast-import's freed delta buffers back to the kernel and faulted them in again: 10,000 brk
  // calls, 40% of a 1,000-run write. Heap kept in 16 MB steps: 340 → 193 ms (bench). Other C libraries ignore it.
  const env = { ...process.env, MALLOC_TOP_PAD_: process.env.MALLOC_TOP_PAD_ ?? String(16 << 20) };
  // zlib's fastest level: 41% of fast-import's time was zlib at the default level; run files are JSON
  // text, which level 1 still shrinks several times (push of 1,000 runs: 1.90× to 1.76-1.84× git push).
  const child = spawn('git', ['-c', 'pack.compression=1', 'fast-import', '--quiet', '--done', `--export-marks=${marks}`], { cwd: root, env, stdio: ['pipe', 'ignore', 'pipe'] });
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
  const committer = `committer RunLens <runlens@localhost> ${Math.floor(when / 1000)} +0000\n`;
  const SHARE_MARK = ':1';
  try {
    await write('feature done\n');
    // Carriers: marks :2, :3, … Each has the empty tree (deleteall) whatever its first parent's tree.
    let carrier: string | null = null;
    const carrierMessage = 'runlens: snapshots of shared runs\n';
    for (const [i, part] of chunk(snapshots, SNAPSHOTS_PER_CARRIER).entries()) {
      const parents = [...(carrier ? [carrier] : []), ...part];
      const mark = `:${i + 2}`;
      await write(`commit ${carrierRef}\nmark ${mark}\n${committer}data ${carrierMessage.length}\n${carrierMessage}from ${parents[0]}\n${parents.slice(1).map((p) => `merge ${p}\n`).join('')}deleteall\n\n`);
      carrier = mark;
    }
    const msg = Buffer.from(message, 'utf8');
    await write(`commit ${ref}\nmark ${SHARE_MARK}\n${committer}data ${msg.length}\n`);
    await write(Buffer.concat([msg, Buffer.from('\n')]));
    const first = base ?? carrier;
    if (first) await write(`from ${first}\n`);
    if (base && carrier) await write(`merge ${carrier}\n`);
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
    fs.rmSync(marksDir, { recursive: true, force: true });
    throw err;
  }
  try {
    const code = await closed;
    if (code !== 0) throw new Error(`git fast-import failed: ${stderr.trim().split('\n').pop() ?? `exit ${code}`}`);
    const commit = fs.readFileSync(marks, 'utf8').split('\n').find((l) => l.startsWith(`${SHARE_MARK} `))?.slice(SHARE_MARK.length + 1).trim();
    if (!commit) throw new Error('git fast-import wrote no share commit');
    return commit;
  } finally {
    // fast-import cannot commit without a branch: the build refs go as soon as it is done, in one call.
    await execGitInput(root, ['update-ref', '--stdin'], `delete ${ref}\n${snapshots.length ? `delete ${carrierRef}\n` : ''}`).catch(() => undefined);
    fs.rmSync(marksDir, { recursive: true, force: true });
  }
}
