import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChangedFile, GitInfo, SkippedFile, SubmoduleState } from '../runRecord';
import { execGit, splitNul } from './gitClient';
import { excludeFromGit, locateRepository, type RepositoryLocation } from './repository';
import { stripUrlCredentials } from './remoteUrl';
import { holdsTokenShape } from '../secrets';

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const SNAPSHOT_IDENTITY = {
  GIT_AUTHOR_NAME: 'RunLens',
  GIT_AUTHOR_EMAIL: 'runlens@localhost',
  GIT_COMMITTER_NAME: 'RunLens',
  GIT_COMMITTER_EMAIL: 'runlens@localhost',
};

export interface SnapshotLimits {
  /** An untracked file larger than this is left out of the snapshot, with the reason. */
  maxUntrackedFileBytes: number;
  /** Untracked files beyond this total are left out, so a stray data folder cannot bloat the repo. */
  maxUntrackedTotalBytes: number;
}

export const DEFAULT_SNAPSHOT_LIMITS: SnapshotLimits = {
  maxUntrackedFileBytes: 5 * 1024 * 1024,
  maxUntrackedTotalBytes: 100 * 1024 * 1024,
};

export interface SnapshotRequest {
  /** Any folder inside the work tree. */
  cwd: string;
  runId: string;
  /** The folder holding run records; excluded from git when it lies inside the repository. */
  storeDir?: string;
  message?: string;
  limits?: Partial<SnapshotLimits>;
  /** Keep untracked secret-looking files (`.env`, keys, credentials) in the snapshot; by default they are left out. */
  includeSecretFiles?: boolean;
}

export function snapshotRef(runId: string): string {
  return `refs/runlens/runs/${runId}`;
}

/**
 * Records the work tree exactly as it is (committed, staged, unstaged and
 * untracked files) as a commit pinned under refs/runlens/runs/<id>.
 *
 * All staging happens in a copy of the index, so the user's index, work
 * tree, HEAD and branches are left as they were (DESIGN.md section 2).
 */
export async function captureSnapshot(request: SnapshotRequest): Promise<GitInfo> {
  const limits = { ...DEFAULT_SNAPSHOT_LIMITS, ...request.limits };
  const repo = await locateRepository(request.cwd);
  if (request.storeDir) excludeFromGit(repo, request.storeDir);
  const git = (args: string[]) => execGit(repo.root, args);
  const notes: string[] = [];

  const [head, branch, remote, untrackedOut] = await Promise.all([
    git(['rev-parse', '-q', '--verify', 'HEAD^{commit}']).then((s) => s.trim() || null),
    git(['symbolic-ref', '-q', '--short', 'HEAD']).then((s) => s.trim() || null),
    readRemote(repo),
    git(['ls-files', '--others', '--exclude-standard', '-z']),
  ]);
  if (!head) notes.push('the repository has no commit yet: the snapshot has no parent');
  if (!branch) notes.push(head ? 'HEAD is detached' : 'no branch yet');

  const staged = await stageWorkTree(repo, limits, untrackedOut, request.includeSecretFiles ?? false);
  try {
    const { tree, untracked, skipped, staging } = staged;
    const [changesOut, submodules] = await Promise.all([
      staging(['diff-tree', '-r', '-z', '-M', '--name-status', head ?? EMPTY_TREE, tree]),
      readSubmodules(repo, tree, staging),
    ]);
    for (const sub of submodules) {
      if (sub.dirty) skipped.push({ path: sub.path, reason: 'submodule has uncommitted changes; only its checked-out commit is captured' });
    }
    const untrackedPaths = new Set(untracked.map((f) => f.path));
    const changes = parseNameStatus(changesOut, repo.root, untrackedPaths);

    const message = request.message ?? `runlens snapshot of run ${request.runId}`;
    const snapshot = (await staging(['commit-tree', tree, ...(head ? ['-p', head] : []), '-m', message])).trim();
    const ref = snapshotRef(request.runId);
    await git(['update-ref', ref, snapshot]);

    return {
      root: repo.root,
      head,
      branch,
      remote,
      dirty: changes.length > 0 || skipped.length > 0,
      snapshot,
      tree,
      ref,
      changes,
      skipped,
      submodules,
      notes,
    };
  } finally {
    staged.dispose();
  }
}

const TEMP_INDEX_PREFIX = 'runlens-index-';

/**
 * A recorder killed while it staged (SIGKILL, a crash) leaves its temporary index folder behind;
 * the next capture removes those whose process is gone. The pid is in the folder's name.
 */
function removeAbandonedIndexes(): void {
  let names: string[];
  try {
    names = fs.readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(TEMP_INDEX_PREFIX)) continue;
    const pid = Number(name.slice(TEMP_INDEX_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue; // still at work
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPERM') continue;
    }
    fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

interface StagedWorkTree {
  tree: string;
  untracked: { path: string; size: number }[];
  skipped: SkippedFile[];
  /** Runs git with the temporary index. */
  staging: (args: string[]) => Promise<string>;
  dispose(): void;
}

/**
 * Writes the work tree as it is (tracked changes and untracked files under the
 * caps) as a tree object, through a copy of the index: the user's index is
 * never touched. `untrackedOut` is `git ls-files --others --exclude-standard -z`.
 */
async function stageWorkTree(repo: RepositoryLocation, limits: SnapshotLimits, untrackedOut?: string, includeSecretFiles = false): Promise<StagedWorkTree> {
  const skipped: SkippedFile[] = [];
  const listed = untrackedOut ?? (await execGit(repo.root, ['ls-files', '--others', '--exclude-standard', '-z']));
  const untracked = pickUntracked(repo.root, splitNul(listed), limits, skipped, includeSecretFiles);
  removeAbandonedIndexes();
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), `${TEMP_INDEX_PREFIX}${process.pid}-`));
  const dispose = () => fs.rmSync(tempDir, { recursive: true, force: true });
  try {
    const tempIndex = path.join(tempDir, 'index');
    if (fs.existsSync(repo.indexFile)) {
      fs.copyFileSync(repo.indexFile, tempIndex);
      // git re-reads the content of entries as new as the index file itself
      // ("racily clean"); a copy with a fresh mtime would make git trust stale
      // stat data and miss an edit made in the same second as the last commit.
      // Rounding down only ever makes more entries count as racy.
      const { atime, mtimeMs } = fs.statSync(repo.indexFile);
      fs.utimesSync(tempIndex, atime, new Date(Math.floor(mtimeMs)));
    }
    const stagingEnv = { ...process.env, GIT_INDEX_FILE: tempIndex, GIT_LITERAL_PATHSPECS: '1', ...SNAPSHOT_IDENTITY };
    const staging = (args: string[]) => execGit(repo.root, args, stagingEnv);
    await staging(['add', '-u']);
    if (untracked.length > 0) {
      const list = path.join(tempDir, 'untracked');
      fs.writeFileSync(list, untracked.map((f) => f.path).join('\0') + '\0');
      await staging(['add', '--pathspec-from-file=' + list, '--pathspec-file-nul']);
    }
    const tree = (await staging(['write-tree'])).trim();
    return { tree, untracked, skipped, staging, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}

/** Files that differ between a run's snapshot and the work tree now, untracked files included. */
export async function diffSnapshotWithWorkTree(cwd: string, snapshot: string, limits: Partial<SnapshotLimits> = {}): Promise<ChangedFile[]> {
  const repo = await locateRepository(cwd);
  const staged = await stageWorkTree(repo, { ...DEFAULT_SNAPSHOT_LIMITS, ...limits });
  try {
    const out = await staged.staging(['diff-tree', '-r', '-z', '-M', '--name-status', snapshot, staged.tree]);
    return parseNameStatus(out, repo.root, new Set(staged.untracked.map((f) => f.path)));
  } finally {
    staged.dispose();
  }
}

async function readRemote(repo: RepositoryLocation): Promise<string | null> {
  const out = await execGit(repo.root, ['config', '--get-regexp', '^remote\\..*\\.url$']);
  const remotes = new Map<string, string>();
  for (const line of out.split('\n')) {
    const match = /^remote\.(.+)\.url (.*)$/.exec(line);
    if (match) remotes.set(match[1]!, match[2]!);
  }
  const url = remotes.get('origin') ?? remotes.values().next().value;
  return url ? stripUrlCredentials(url) : null;
}

function pickUntracked(root: string, paths: string[], limits: SnapshotLimits, skipped: SkippedFile[], includeSecretFiles: boolean): { path: string; size: number }[] {
  const picked: { path: string; size: number }[] = [];
  let total = 0;
  for (const rel of paths) {
    if (rel.endsWith('/')) {
      skipped.push({ path: rel, reason: 'a nested git repository (not a submodule): its files are not captured' });
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(path.join(root, rel));
    } catch {
      continue; // deleted between listing and now: nothing to capture
    }
    const size = stat.size;
    const secret = includeSecretFiles ? null : secretFileReason(root, rel, stat, limits);
    if (secret) {
      skipped.push({ path: rel, size, reason: `${secret}; left out (runlens run --include-secret-files keeps it)` });
    } else if (size > limits.maxUntrackedFileBytes) {
      skipped.push({ path: rel, size, reason: `untracked file larger than the ${formatBytes(limits.maxUntrackedFileBytes)} cap` });
    } else if (total + size > limits.maxUntrackedTotalBytes) {
      skipped.push({ path: rel, size, reason: `untracked files past the ${formatBytes(limits.maxUntrackedTotalBytes)} total cap` });
    } else {
      total += size;
      picked.push({ path: rel, size });
    }
  }
  return picked;
}

/** Names that hold credentials by convention: `.env`, private keys, cloud and package-registry credentials. */
const SECRET_FILE_NAME =
  /^(\.env(\..+)?|.*\.(pem|key|p12|pfx|jks|keystore|ppk|asc|gpg)|id_(rsa|dsa|ecdsa|ed25519)|credentials(\.json|\.csv|\.ya?ml)?|client_secrets?\.json|service[-_]?account.*\.json|\.netrc|\.pgpass|\.npmrc|\.pypirc|\.htpasswd|secrets?\.(json|ya?ml|toml|env)|kubeconfig|.*\.kdbx)$/i;
const SAFE_EXAMPLE = /^\.env\.(example|sample|template|dist|defaults)$/i;

/**
 * Why an untracked file must stay out of the snapshot (a snapshot can be pushed), or null: its name
 * says it holds credentials, or a small text file holds something shaped like a token.
 */
function secretFileReason(root: string, rel: string, stat: fs.Stats, limits: SnapshotLimits): string | null {
  const name = path.posix.basename(rel);
  if (SECRET_FILE_NAME.test(name) && !SAFE_EXAMPLE.test(name) && !name.endsWith('.pub')) return 'a secret-looking file (by its name)';
  if (!stat.isFile() || stat.size > Math.min(limits.maxUntrackedFileBytes, 1024 * 1024)) return null;
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, rel), 'latin1');
  } catch {
    return null;
  }
  return holdsTokenShape(text) ? 'holds what looks like a secret (a token or a private key)' : null;
}

function parseNameStatus(output: string, root: string, untracked: Set<string>): ChangedFile[] {
  const fields = splitNul(output);
  const changes: ChangedFile[] = [];
  for (let i = 0; i < fields.length; ) {
    const code = fields[i++]!;
    const status = code[0]!;
    let from: string | undefined;
    if (status === 'R' || status === 'C') from = fields[i++];
    const file = fields[i++]!;
    const change: ChangedFile = { path: file, status };
    if (from !== undefined) change.from = from;
    if (status !== 'D') {
      try {
        change.size = fs.lstatSync(path.join(root, file)).size;
      } catch {
        // gone since the snapshot: the snapshot still has it
      }
    }
    if (untracked.has(file)) change.untracked = true;
    changes.push(change);
  }
  return changes;
}

async function readSubmodules(repo: RepositoryLocation, tree: string, git: (args: string[]) => Promise<string>): Promise<SubmoduleState[]> {
  if (!fs.existsSync(path.join(repo.root, '.gitmodules'))) return [];
  const out = await git(['ls-tree', '-r', '-z', tree]);
  const states: SubmoduleState[] = [];
  for (const entry of splitNul(out)) {
    const match = /^160000 commit ([0-9a-f]+)\t(.*)$/s.exec(entry);
    if (!match) continue;
    const subPath = match[2]!;
    let dirty = false;
    try {
      dirty = (await execGit(path.join(repo.root, subPath), ['status', '--porcelain'])).trim() !== '';
    } catch {
      // not checked out: nothing inside can differ
    }
    states.push({ path: subPath, commit: match[1]!, dirty });
  }
  return states;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
