import * as fs from 'node:fs';
import * as path from 'node:path';
import { execGit } from './gitClient';

export interface RepositoryLocation {
  root: string;
  gitDir: string;
  indexFile: string;
  excludeFile: string;
}

/** Finds the repository holding `dir`, or explains why there is none. */
export async function locateRepository(dir: string): Promise<RepositoryLocation> {
  const out = await execGit(dir, [
    'rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-path', 'index', '--git-path', 'info/exclude',
  ]);
  const [root, gitDir, indexFile, excludeFile] = out.split('\n');
  if (!root || !gitDir || !indexFile || !excludeFile) throw new Error(`not inside a git work tree: ${dir}`);
  return {
    root,
    gitDir,
    indexFile: path.resolve(dir, indexFile),
    excludeFile: path.resolve(dir, excludeFile),
  };
}

/**
 * Makes git ignore the runs folder without touching the user's .gitignore, so
 * run records never show in `git status` nor enter a snapshot.
 */
export function excludeFromGit(repo: RepositoryLocation, folder: string): void {
  const relative = path.relative(repo.root, folder);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return;
  const pattern = '/' + relative.split(path.sep).join('/') + '/';
  let current = '';
  try {
    current = fs.readFileSync(repo.excludeFile, 'utf8');
  } catch {
    fs.mkdirSync(path.dirname(repo.excludeFile), { recursive: true });
  }
  if (current.split(/\r?\n/).some((line) => line.trim() === pattern)) return;
  const prefix = current === '' || current.endsWith('\n') ? '' : '\n';
  fs.appendFileSync(repo.excludeFile, `${prefix}# RunLens run records\n${pattern}\n`);
}
