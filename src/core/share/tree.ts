import { execGit, splitNul } from '../git/gitClient';
import type { RegistryEvent } from '../registry/events';
import { REGISTRY_DIR, REGISTRY_FILE, shardOf } from './layout';
import { lsTree, readBlobs, readTrees, type ObjectFormat, type TreeEntry } from './objects';

/** The registry events a share commit holds; a line this version cannot read is left out of the merge. */
export async function readRemoteEvents(root: string, commit: string): Promise<{ events: RegistryEvent[]; blob: string | null }> {
  const [entry] = await lsTree(root, commit, [`${REGISTRY_DIR}/${REGISTRY_FILE}`]);
  if (!entry) return { events: [], blob: null };
  const text = (await readBlobs(root, [entry.sha])).get(entry.sha)?.toString('utf8') ?? '';
  const events: RegistryEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as RegistryEvent);
    } catch {
      // a line this version cannot read stays in the remote's blob only
    }
  }
  return { events, blob: entry.sha };
}

/**
 * The remote's tree of each of `ids` it holds: its runs tree read once for the shards' ids, then
 * only the shards of `ids`, all by id through one `cat-file --batch` each. A lookup by path
 * (`<commit>:runs/ab/<id>`) resolves the path from the commit every time: 120 ms per 500 runs (bench).
 */
export async function remoteRunTrees(root: string, head: string, ids: string[], format: ObjectFormat): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (ids.length === 0) return out;
  const runsTree = (await readTrees(root, [`${head}:runs`], format)).get(`${head}:runs`);
  if (!runsTree) return out;
  const shardIds = new Map(runsTree.map((e) => [e.name, e.id]));
  const wanted = [...new Set(ids.map(shardOf))].filter((s) => shardIds.has(s));
  const want = new Set(ids);
  const shards = await readTrees(root, wanted.map((s) => shardIds.get(s)!), format, want);
  for (const entries of shards.values()) for (const e of entries) out.set(e.name, e.id);
  return out;
}

/** A run of the remote's share tree: its tree id, and its files when the listing gave them all. */
export interface RemoteRun {
  tree: string;
  /** Every file of the run, or null when only some were listed (a run changed, not new): read its tree. */
  files: TreeEntry[] | null;
}

/**
 * The runs that differ between two share commits, from one `git diff-tree -r -t`: each changed
 * run's new tree id and, for a run that is new, its files with their blob ids, so that a pull
 * of new runs reads no tree at all. Runs the newer commit no longer holds are left out. The
 * shard trees and run trees were read through `cat-file` before: 100 ms of a 1,000-run pull (bench).
 */
export async function changedRuns(root: string, from: string, to: string): Promise<Map<string, RemoteRun>> {
  const out = new Map<string, RemoteRun>();
  const added = new Set<string>();
  const files = new Map<string, TreeEntry[]>();
  const parts = splitNul(await execGit(root, ['diff-tree', '-r', '-t', '-z', '--no-commit-id', '--no-renames', from, to, '--', 'runs/']));
  for (let i = 0; i + 1 < parts.length; i += 2) {
    // `:<old mode> <new mode> <old id> <new id> <status>`, then the path.
    const [, mode, , id, status] = parts[i]!.slice(1).split(' ') as [string, string, string, string, string];
    const segments = parts[i + 1]!.split('/');
    if (segments[0] !== 'runs' || status === 'D') continue;
    const run = segments[2];
    if (!run) continue;
    if (segments.length === 3 && mode === '040000') {
      out.set(run, { tree: id, files: null });
      if (status === 'A') added.add(run);
    } else if (segments.length === 4) {
      let list = files.get(run);
      if (!list) files.set(run, (list = []));
      list.push({ mode, name: segments[3]!, id });
    }
  }
  for (const run of added) {
    const entry = out.get(run);
    if (entry) entry.files = files.get(run) ?? [];
  }
  return out;
}
