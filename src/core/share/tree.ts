import type { RegistryEvent } from '../registry/events';
import { REGISTRY_DIR, REGISTRY_FILE, shardOf } from './layout';
import { lsTree, readBlobs, writeBlob, writeTrees } from './objects';

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
 * The new share tree: the remote's, with the given runs' trees put in their
 * shards and the registry replaced. Only the trees on the way from the root
 * to each changed run are written again.
 */
export async function buildTree(root: string, base: string | null, runs: [string, string][], registryText: string | null): Promise<string> {
  const byShard = new Map<string, [string, string][]>();
  for (const [id, tree] of runs) {
    const shard = shardOf(id);
    if (!byShard.has(shard)) byShard.set(shard, []);
    byShard.get(shard)!.push([id, tree]);
  }
  const shards = [...byShard.keys()];
  const existing = new Map<string, Map<string, string>>(shards.map((s) => [s, new Map()]));
  if (base && shards.length) {
    for (const line of await lsTree(root, base, shards.map((s) => `runs/${s}/`))) {
      const [, shard, id] = line.path.split('/');
      existing.get(shard!)?.set(id!, `${line.mode} ${line.type} ${line.sha}`);
    }
  }
  for (const [shard, entries] of byShard) for (const [id, tree] of entries) existing.get(shard)!.set(id, `040000 tree ${tree}`);
  const shardTrees = await writeTrees(root, shards.map((s) => existing.get(s)!));
  const runsEntries = new Map<string, string>();
  const rootEntries = new Map<string, string>();
  if (base) {
    for (const line of await lsTree(root, base)) rootEntries.set(line.path, `${line.mode} ${line.type} ${line.sha}`);
    if (rootEntries.has('runs')) for (const line of await lsTree(root, `${base}:runs`)) runsEntries.set(line.path, `${line.mode} ${line.type} ${line.sha}`);
  }
  shards.forEach((s, i) => runsEntries.set(s, `040000 tree ${shardTrees[i]}`));
  const [runsTree] = await writeTrees(root, [runsEntries]);
  rootEntries.set('runs', `040000 tree ${runsTree}`);
  if (registryText !== null) {
    const blob = await writeBlob(root, registryText);
    const [registryTree] = await writeTrees(root, [new Map([[REGISTRY_FILE, `100644 blob ${blob}`]])]);
    rootEntries.set(REGISTRY_DIR, `040000 tree ${registryTree}`);
  }
  const [tree] = await writeTrees(root, [rootEntries]);
  return tree!;
}

