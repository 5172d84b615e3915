import type { RegistryEvent } from '../registry/events';
import { REGISTRY_DIR, REGISTRY_FILE } from './layout';
import { lsTree, readBlobs } from './objects';

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

