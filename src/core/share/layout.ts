import { createHash } from 'node:crypto';

/**
 * How runs travel through a git remote (the reasons and the measurements are
 * in the README's "Sharing runs" section and the bench):
 *
 * - one ref, `refs/runlens/share/runs`, whatever the number of runs: a push
 *   receives the remote's whole ref advertisement, so a ref per run would
 *   make every push cost grow with the team's runs;
 * - its commit's tree holds every shared run at `runs/<last 2 id chars>/<id>/`
 *   (run.json, metrics, params, …) and the registry's events at
 *   `registry/events.jsonl`; sharding by the random end of the id keeps each
 *   tree that a push rewrites near 100 entries at 100,000 runs;
 * - the runs' snapshot commits are parents of "carrier" commits (16 each)
 *   under the share commit, so they travel with it and stay reachable on the
 *   remote without a ref each.
 */
export const SHARE_REF = 'refs/runlens/share/runs';
/** Where the remote's share commit is kept here after a fetch, per remote. */
export function trackingRef(remote: string): string {
  return `refs/runlens/share-remotes/${safeRemoteName(remote)}`;
}

/** A remote's name as a ref and file name part: a configured name as it is, a URL or path as a readable hash. */
export function safeRemoteName(remote: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(remote) && !remote.includes('..')) return remote;
  return `url-${remote.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(-40)}-${createHash('sha256').update(remote).digest('hex').slice(0, 10)}`;
}

export function shardOf(id: string): string {
  return id.slice(-2);
}

export function runTreePath(id: string): string {
  return `runs/${shardOf(id)}/${id}`;
}

export const REGISTRY_DIR = 'registry';
export const REGISTRY_FILE = 'events.jsonl';

/** What of a run folder is shared: the record and what the panels show; never caches or temp files. */
export const SHARED_FILES = ['run.json', 'metrics.jsonl', 'params.jsonl', 'init.jsonl', 'attached.json', 'traceback.txt', 'notebook-cells.py', 'reproduction.json'];
/** The output log goes as its tail: enough to see how a run ended. */
export const STDOUT_FILE = 'stdout.log';
export const STDOUT_TAIL_BYTES = 256 * 1024;
/** A run folder holding this file came from a teammate: read-only here, never pushed again. */
export const PULLED_MARKER = 'pulled-from.json';
/** Runs with one of these tags stay local. */
export const DEFAULT_PRIVATE_TAGS = ['private'];
/** Snapshot commits per carrier commit. */
export const SNAPSHOTS_PER_CARRIER = 16;
