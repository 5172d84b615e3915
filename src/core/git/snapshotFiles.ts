import { execGit, execGitBuffer, splitNul } from './gitClient';

export interface TreeEntry {
  name: string;
  kind: 'file' | 'dir' | 'link' | 'submodule';
  size: number;
}

function kindOf(mode: string, type: string): TreeEntry['kind'] {
  if (type === 'tree') return 'dir';
  if (type === 'commit') return 'submodule';
  return mode === '120000' ? 'link' : 'file';
}

/** The entries of one folder of a commit (`dir` '' is the root). */
export async function listSnapshotDir(root: string, commit: string, dir: string): Promise<TreeEntry[]> {
  const out = await execGit(root, ['ls-tree', '-z', '-l', dir ? `${commit}:${dir}` : commit]);
  return splitNul(out).map((line) => {
    const tab = line.indexOf('\t');
    const [mode, type, , size] = line.slice(0, tab).split(/\s+/);
    return { name: line.slice(tab + 1), kind: kindOf(mode!, type!), size: Number(size) || 0 };
  });
}

/** Every file of a commit, as paths from the repository root. */
export async function listSnapshotFiles(root: string, commit: string): Promise<string[]> {
  return splitNul(await execGit(root, ['ls-tree', '-r', '-z', '--name-only', commit]));
}

/** A file's bytes as they were in a commit: text or binary alike. */
export function readSnapshotFile(root: string, commit: string, file: string): Promise<Buffer> {
  return execGitBuffer(root, ['cat-file', 'blob', `${commit}:${file}`]);
}

/** What a path is in a commit, or null when the commit does not have it. */
export async function statSnapshotPath(root: string, commit: string, file: string): Promise<TreeEntry | null> {
  if (file === '') return { name: '', kind: 'dir', size: 0 };
  const out = await execGit(root, ['ls-tree', '-z', '-l', commit, '--', file]);
  const [line] = splitNul(out);
  if (!line) return null;
  const tab = line.indexOf('\t');
  const [mode, type, , size] = line.slice(0, tab).split(/\s+/);
  return { name: line.slice(tab + 1), kind: kindOf(mode!, type!), size: Number(size) || 0 };
}

export interface CommitInfo {
  sha: string;
  author: string;
  date: string;
  subject: string;
  body: string;
}

export async function readCommit(root: string, commit: string): Promise<CommitInfo> {
  const out = await execGit(root, ['show', '-s', '--format=%H%x00%an <%ae>%x00%aI%x00%s%x00%b', commit]);
  const [sha, author, date, subject, body] = out.split('\0');
  return { sha: sha!, author: author!, date: date!, subject: subject!, body: (body ?? '').trim() };
}

/** The text `git show` gives for a commit: message, author and patch. */
export function showCommit(root: string, commit: string): Promise<string> {
  return execGit(root, ['show', '--stat', '--patch', '--no-color', commit]);
}
