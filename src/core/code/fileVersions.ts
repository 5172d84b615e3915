import { execGitInput } from '../git/gitClient';
import { chunk, readBlobs } from '../share/objects';

/** A run's snapshot, as much as finding its files needs. */
export interface SnapshotOfRun {
  id: string;
  snapshot: string;
}

/**
 * The blob each run's snapshot holds at `file` (a path in the repository),
 * null where the snapshot has no such file: one `git cat-file --batch-check`
 * for any number of runs. Snapshots never change, so callers may keep the
 * answer by snapshot and path.
 */
export async function blobsAtRuns(repoRoot: string, runs: readonly SnapshotOfRun[], file: string): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  // A path with a newline cannot be asked on one line; no run has it, as far as this can tell.
  if (/[\n\r]/.test(file) || runs.length === 0) {
    for (const run of runs) out.set(run.id, null);
    return out;
  }
  for (const part of chunk([...runs], 20_000)) {
    const answer = await execGitInput(repoRoot, ['cat-file', '--batch-check=%(objectname) %(objecttype)'], part.map((r) => `${r.snapshot}:${file}`).join('\n') + '\n');
    const lines = answer.split('\n');
    part.forEach((run, i) => {
      const [id, type] = (lines[i] ?? '').split(' ');
      out.set(run.id, type === 'blob' && id ? id : null);
    });
  }
  return out;
}

/** Versions bigger than this, or holding a NUL byte, are not text worth annotating. */
const MAX_TEXT_BYTES = 4 * 1024 * 1024;

/** The runs grouped by the blob their snapshot holds at `file`, and the runs without one. */
export async function versionsOfFile<R extends SnapshotOfRun>(repoRoot: string, runs: readonly R[], file: string): Promise<{ byBlob: Map<string, R[]>; without: R[] }> {
  const blobs = await blobsAtRuns(repoRoot, runs, file);
  const byBlob = new Map<string, R[]>();
  const without: R[] = [];
  for (const run of runs) {
    const blob = blobs.get(run.id);
    if (!blob) without.push(run);
    else (byBlob.get(blob) ?? byBlob.set(blob, []).get(blob)!).push(run);
  }
  return { byBlob, without };
}

/** The text of each blob, one `cat-file --batch`; binary and oversized blobs are left out. */
export async function readTextBlobs(repoRoot: string, blobs: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [blob, bytes] of await readBlobs(repoRoot, [...blobs])) {
    if (bytes.length > MAX_TEXT_BYTES || bytes.includes(0)) continue;
    out.set(blob, bytes.toString('utf8'));
  }
  return out;
}
