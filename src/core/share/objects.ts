import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execGit, execGitInput, execGitInputBuffer, splitNul } from '../git/gitClient';

/**
 * Git objects for sharing, written without an index: blobs through
 * `hash-object --stdin-paths`, trees through `mktree --batch`, read back
 * through `ls-tree` and `cat-file --batch`. Each call is one git process for
 * any number of objects.
 */

export const SHARE_IDENTITY = {
  GIT_AUTHOR_NAME: 'RunLens',
  GIT_AUTHOR_EMAIL: 'runlens@localhost',
  GIT_COMMITTER_NAME: 'RunLens',
  GIT_COMMITTER_EMAIL: 'runlens@localhost',
};

export interface TreeLine {
  mode: string;
  type: string;
  sha: string;
  path: string;
}

/** `ls-tree -z` of `treeish` (and the paths given, in chunks that fit a command line). */
export async function lsTree(root: string, treeish: string, paths: string[] = [], flags: string[] = []): Promise<TreeLine[]> {
  const out: TreeLine[] = [];
  const chunks = paths.length === 0 ? [[]] : chunk(paths, 500);
  for (const part of chunks) {
    const text = await execGit(root, ['ls-tree', '-z', ...flags, treeish, '--', ...part]);
    for (const line of splitNul(text)) {
      const tab = line.indexOf('\t');
      const [mode, type, sha] = line.slice(0, tab).split(' ') as [string, string, string];
      out.push({ mode, type, sha, path: line.slice(tab + 1) });
    }
  }
  return out;
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Writes files as blobs; their shas in the same order. */
export async function writeBlobs(root: string, files: string[]): Promise<string[]> {
  if (files.length === 0) return [];
  const shas = (await execGitInput(root, ['hash-object', '-w', '--no-filters', '--stdin-paths'], files.join('\n') + '\n')).trim().split('\n');
  if (shas.length !== files.length) throw new Error(`git hash-object wrote ${shas.length} of ${files.length} blobs`);
  return shas;
}

export async function writeBlob(root: string, content: string | Uint8Array): Promise<string> {
  return (await execGitInputBuffer(root, ['hash-object', '-w', '--no-filters', '--stdin'], content)).toString('utf8').trim();
}

/** Trees from entries (name → "mode type sha"), all in one `mktree --batch`. */
export async function writeTrees(root: string, trees: Map<string, string>[]): Promise<string[]> {
  if (trees.length === 0) return [];
  const input = trees.map((entries) => [...entries].map(([name, entry]) => `${entry}\t${name}\n`).join('') + '\n').join('');
  const shas = (await execGitInput(root, ['mktree', '--batch', '--missing'], input)).trim().split('\n').filter(Boolean);
  if (shas.length !== trees.length) throw new Error(`git mktree wrote ${shas.length} of ${trees.length} trees`);
  return shas;
}

/** Blob contents by sha, from one `cat-file --batch`. */
export async function readBlobs(root: string, shas: string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const unique = [...new Set(shas)];
  for (const part of chunk(unique, 5000)) {
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
 * Commits whose parents are the given snapshots, sixteen to a commit, each on
 * the one before: written as objects through one `hash-object`, their ids
 * computed here the way git does (SHA-1 or SHA-256, as the repository uses).
 */
export async function writeCarriers(root: string, snapshots: string[], per: number, objectFormat: 'sha1' | 'sha256', when: number): Promise<string | null> {
  let previous: string | null = null;
  const objects: string[] = [];
  const emptyTree = objectFormat === 'sha1' ? '4b825dc642cb6eb9a060e54bf8d69288fbee4904' : '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321';
  for (const part of chunk(snapshots, per)) {
    const parents: string[] = [...(previous ? [previous] : []), ...part];
    const stamp = `${Math.floor(when / 1000)} +0000`;
    const body: string = `tree ${emptyTree}\n${parents.map((p) => `parent ${p}\n`).join('')}author RunLens <runlens@localhost> ${stamp}\ncommitter RunLens <runlens@localhost> ${stamp}\n\nrunlens: snapshots of shared runs\n`;
    const bytes: Buffer = Buffer.from(body, 'utf8');
    previous = createHash(objectFormat).update(`commit ${bytes.length}\0`).update(bytes).digest('hex');
    objects.push(body);
  }
  if (objects.length === 0) return null;
  const written = await writeObjects(root, 'commit', objects);
  if (written[written.length - 1] !== previous) throw new Error('a carrier commit was written under another id than computed');
  return previous;
}

async function writeObjects(root: string, type: string, bodies: string[]): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-objects-'));
  try {
    const files = bodies.map((body, i) => {
      const file = path.join(dir, String(i));
      fs.writeFileSync(file, body);
      return file;
    });
    return (await execGitInput(root, ['hash-object', '-w', '-t', type, '--stdin-paths'], files.join('\n') + '\n')).trim().split('\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function objectFormatOf(root: string): Promise<'sha1' | 'sha256'> {
  const format = (await execGit(root, ['rev-parse', '--show-object-format'])).trim();
  return format === 'sha256' ? 'sha256' : 'sha1';
}
