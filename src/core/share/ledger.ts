import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../atomicFile';
import { safeRemoteName } from './layout';

/**
 * What this clone remembers of sharing with a remote, so that a push or pull
 * with nothing new reads nothing it has seen: each own run's file signature
 * when it was last pushed, and the remote's share commit last pulled (a pull
 * then reads only what changed since, through `git diff-tree`). Small at any
 * number of runs on the remote. A cache: lost or corrupt, the next push hashes
 * its runs again and asks the remote about each, and the next pull lists the
 * remote's runs once.
 */
export interface Ledger {
  version: 2;
  /** Run id → the local files' signature when that state was pushed. */
  pushed: Record<string, string>;
  /** The last share commit pulled from. */
  pulledCommit: string | null;
}

export function ledgerFile(storeDir: string, remote: string): string {
  return path.join(storeDir, 'share', `${safeRemoteName(remote)}.json`);
}

export function readLedger(storeDir: string, remote: string): Ledger {
  try {
    const value = JSON.parse(fs.readFileSync(ledgerFile(storeDir, remote), 'utf8')) as Partial<Ledger>;
    if (value.version === 2 && value.pushed && typeof value.pushed === 'object') return { version: 2, pushed: value.pushed, pulledCommit: typeof value.pulledCommit === 'string' ? value.pulledCommit : null };
  } catch {
    // none yet, or unreadable: rebuilt
  }
  return { version: 2, pushed: {}, pulledCommit: null };
}

export function saveLedger(storeDir: string, remote: string, ledger: Ledger): void {
  fs.mkdirSync(path.join(storeDir, 'share'), { recursive: true });
  writeFileAtomic(ledgerFile(storeDir, remote), JSON.stringify(ledger) + '\n', false);
}
