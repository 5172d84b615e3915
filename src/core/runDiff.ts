import type { SimpleGit } from 'simple-git';
import { gitAt, runGit, splitNul } from './git/gitClient';
import type { HashedPath, MetricSummary, RunRecord } from './runRecord';

export interface ValueChange<T> {
  key: string;
  a: T | undefined;
  b: T | undefined;
}

export interface RunDiff {
  a: string;
  b: string;
  params: ValueChange<unknown>[];
  metrics: { key: string; a: MetricSummary | undefined; b: MetricSummary | undefined }[];
  packages: ValueChange<string>[];
  python: ValueChange<string> | null;
  /** Declared data whose hash differs; `files`, the files inside a folder that differ, when both runs listed them. */
  data: (ValueChange<string | null> & { files?: string[] })[];
  /** Files that differ between the two snapshots; null when either run has no snapshot. */
  files: { path: string; status: string; from?: string }[] | null;
  filesError: string | null;
}

function changedKeys<T>(a: Record<string, T>, b: Record<string, T>, same: (x: T, y: T) => boolean): ValueChange<T>[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys
    .filter((k) => !(k in a && k in b && same(a[k]!, b[k]!)))
    .map((key) => ({ key, a: a[key], b: b[key] }));
}

function byPath(list: HashedPath[]): Record<string, string | null> {
  return Object.fromEntries(list.map((d) => [d.path, d.sha256]));
}

function differingEntries(a: HashedPath | undefined, b: HashedPath | undefined): string[] | undefined {
  if (!a?.entries || !b?.entries) return undefined;
  const before = new Map(a.entries.map((e) => [e.path, e.sha256]));
  const after = new Map(b.entries.map((e) => [e.path, e.sha256]));
  return [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
}

/** What differs between two runs: params, metric summaries, packages, data and code. */
export async function diffRuns(a: RunRecord, b: RunRecord, git?: SimpleGit): Promise<RunDiff> {
  const metricKeys = [...new Set([...Object.keys(a.metricsSummary?.metrics ?? {}), ...Object.keys(b.metricsSummary?.metrics ?? {})])].sort();
  const pyA = a.env?.python;
  const pyB = b.env?.python;
  const diff: RunDiff = {
    a: a.id,
    b: b.id,
    params: changedKeys(a.params, b.params, (x, y) => Object.is(x, y)),
    metrics: metricKeys.map((key) => ({ key, a: a.metricsSummary?.metrics[key], b: b.metricsSummary?.metrics[key] })),
    packages: changedKeys(pyA?.packages ?? {}, pyB?.packages ?? {}, (x, y) => x === y),
    python: pyA?.version !== pyB?.version ? { key: 'python', a: pyA?.version, b: pyB?.version } : null,
    data: changedKeys(byPath(a.data), byPath(b.data), (x, y) => x === y).map((change) => {
      const files = differingEntries(a.data.find((d) => d.path === change.key), b.data.find((d) => d.path === change.key));
      return files ? { ...change, files } : change;
    }),
    files: null,
    filesError: null,
  };
  if (!a.git || !b.git) {
    diff.filesError = `no code snapshot for ${!a.git ? a.id : b.id}`;
    return diff;
  }
  try {
    const out = await runGit(git ?? gitAt(b.git.root), ['diff', '--name-status', '-z', '-M', a.git.snapshot, b.git.snapshot]);
    const fields = splitNul(out);
    diff.files = [];
    for (let i = 0; i < fields.length; ) {
      const status = fields[i++]!;
      const from = status.startsWith('R') || status.startsWith('C') ? fields[i++] : undefined;
      diff.files.push(from === undefined ? { path: fields[i++]!, status: status[0]! } : { path: fields[i++]!, status: status[0]!, from });
    }
  } catch (err) {
    diff.filesError = `cannot compare snapshots: ${(err as Error).message}`;
  }
  return diff;
}
