import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../atomicFile';
import { execGit, splitNul } from '../git/gitClient';
import { lsTree } from './objects';
import { safeRemoteName } from './layout';

/**
 * What this clone knows of a remote's shared runs, so that a push or pull
 * with nothing new looks at nothing it has seen: the remote's share commit
 * last seen and the tree of each run in it, the local state of each run last
 * pushed, and the tree of each run last pulled. A cache: lost or corrupt, it
 * is rebuilt from the remote's commit (one full listing) and the next push
 * hashes what it sends again.
 */
export interface Ledger {
  version: 1;
  /** The remote's share commit that `remoteRuns` describes. */
  remoteCommit: string | null;
  /** Run id → its tree in the remote's share commit. */
  remoteRuns: Record<string, string>;
  /** Run id → the local files' signature when that state was pushed. */
  pushed: Record<string, string>;
  /** Run id → the tree it was pulled from. */
  pulled: Record<string, string>;
  /** The last share commit pulled from. */
  pulledCommit: string | null;
}

export function ledgerFile(storeDir: string, remote: string): string {
  return path.join(storeDir, 'share', `${safeRemoteName(remote)}.json`);
}

export function readLedger(storeDir: string, remote: string): Ledger {
  try {
    const value = JSON.parse(fs.readFileSync(ledgerFile(storeDir, remote), 'utf8')) as Partial<Ledger>;
    if (value.version === 1 && typeof value.remoteRuns === 'object' && typeof value.pushed === 'object' && typeof value.pulled === 'object') {
      return { version: 1, remoteCommit: value.remoteCommit ?? null, remoteRuns: value.remoteRuns ?? {}, pushed: value.pushed ?? {}, pulled: value.pulled ?? {}, pulledCommit: value.pulledCommit ?? null };
    }
  } catch {
    // none yet, or unreadable: rebuilt
  }
  return { version: 1, remoteCommit: null, remoteRuns: {}, pushed: {}, pulled: {}, pulledCommit: null };
}

export function saveLedger(storeDir: string, remote: string, ledger: Ledger): void {
  fs.mkdirSync(path.join(storeDir, 'share'), { recursive: true });
  writeFileAtomic(ledgerFile(storeDir, remote), JSON.stringify(ledger) + '\n', false);
}

/** Run id → tree of every run in `commit`, listed whole (the first time) or from what changed since `known`. */
export async function updateRemoteRuns(root: string, ledger: Ledger, commit: string | null): Promise<string[]> {
  if (commit === ledger.remoteCommit) return [];
  if (commit === null) {
    ledger.remoteRuns = {};
    ledger.remoteCommit = null;
    return [];
  }
  let changedShards: string[] | null = null;
  if (ledger.remoteCommit) {
    try {
      const diff = await execGit(root, ['diff-tree', '-r', '-z', '--name-only', '--no-commit-id', ledger.remoteCommit, commit, '--', 'runs/']);
      changedShards = [...new Set(splitNul(diff).map((p) => p.split('/').slice(0, 2).join('/') + '/'))];
    } catch {
      changedShards = null; // the old commit is gone: list everything
    }
  }
  const changed: string[] = [];
  if (changedShards === null) {
    ledger.remoteRuns = {};
    for (const line of await lsTree(root, commit, ['runs/'], ['-r', '-d'])) {
      const parts = line.path.split('/');
      if (parts.length === 3) {
        ledger.remoteRuns[parts[2]!] = line.sha;
        changed.push(parts[2]!);
      }
    }
  } else if (changedShards.length > 0) {
    const shards = new Set(changedShards.map((s) => s.split('/')[1]!));
    const before = new Map<string, string>();
    for (const [id, sha] of Object.entries(ledger.remoteRuns)) {
      if (!shards.has(id.slice(-2))) continue;
      before.set(id, sha);
      delete ledger.remoteRuns[id];
    }
    for (const line of await lsTree(root, commit, changedShards)) {
      const id = line.path.split('/')[2];
      if (!id || line.type !== 'tree') continue;
      if (before.get(id) !== line.sha) changed.push(id);
      ledger.remoteRuns[id] = line.sha;
    }
  }
  ledger.remoteCommit = commit;
  return changed;
}
