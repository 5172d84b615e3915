import * as fs from 'node:fs';
import * as path from 'node:path';
import { serializeRunRecord } from '../../src/core/store';
import { newRunId } from '../../src/core/runId';
import type { RunRecord, RunStatus } from '../../src/core/runRecord';

/** A small deterministic random source, so a failing case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

export const BRANCHES = ['main', 'dev', 'exp/lr-sweep', 'naïve-branch', null] as const;
export const STATUSES: RunStatus[] = ['finished', 'finished', 'failed', 'killed', 'running'];
export const TAGS = ['sweep', 'baseline', 'gpu', 'ablation'];
export const OPTIMIZERS = ['adam', 'sgd', 'adamw', 'Lion'];

/**
 * A plausible run record: params of every type, metric summaries with NaN and
 * infinities, some runs without git or without metrics.
 */
export function makeRecord(random: () => number, options: { startedMs?: number; params?: number; metrics?: number; host?: string } = {}): RunRecord {
  const startedMs = options.startedMs ?? Date.UTC(2026, 9, 1) + Math.floor(random() * 50 * 86400_000);
  const id = newRunId(startedMs);
  const status = pick(random, STATUSES);
  const params: Record<string, unknown> = {
    lr: pick(random, [0.1, 0.01, 0.001, 0.0003, 3e-5]),
    batch: pick(random, [16, 32, 64, 128]),
    optimizer: pick(random, OPTIMIZERS),
    amp: random() < 0.5,
    'model.depth': Math.floor(random() * 10),
  };
  if (random() < 0.3) params.note = null;
  if (random() < 0.2) params.weird = pick(random, ['0.01', 'true', 'Infinity', 'ßtraße']);
  for (let i = 0; i < (options.params ?? 0); i++) params[`extra.p${i}`] = random() < 0.7 ? Math.round(random() * 1000) / 10 : `v${Math.floor(random() * 20)}`;
  const metrics: NonNullable<RunRecord['metricsSummary']>['metrics'] = {};
  const metricNames = ['acc', 'loss', 'val_loss', ...Array.from({ length: options.metrics ?? 0 }, (_, i) => `m${i}`)];
  for (const key of metricNames) {
    if (random() < 0.15) continue;
    const r = random();
    const last = r < 0.05 ? NaN : r < 0.08 ? Infinity : Math.round(random() * 1e4) / 1e4;
    const lo = Math.round(random() * 1e4) / 1e4;
    metrics[key] = { last, min: Math.min(lo, Number.isFinite(last) ? last : lo), max: Math.max(lo, Number.isFinite(last) ? last : lo, 1), count: 1 + Math.floor(random() * 100), nan: Number.isNaN(last) ? 1 : 0, lastStep: 99 };
  }
  const hasGit = random() < 0.9;
  const head = hasGit ? Array.from({ length: 40 }, () => pick(random, [...'0123456789abcdef'])).join('') : null;
  const ended = status === 'running' ? null : new Date(startedMs + Math.floor(random() * 7200_000)).toISOString();
  return {
    version: 1,
    id,
    name: `${pick(random, ['resnet', 'vit', 'bert', 'mlp'])}-${Math.floor(random() * 1000)}`,
    command: ['python', 'train.py'],
    cwd: '/work',
    cwdInRepo: '',
    startedAt: new Date(startedMs).toISOString(),
    endedAt: ended,
    status,
    exitCode: status === 'finished' ? 0 : status === 'failed' ? 1 : status === 'killed' ? 130 : null,
    signal: null,
    // Running runs belong to another host, so their status is taken as written.
    pid: 1,
    host: options.host ?? 'elsewhere',
    user: 'ml',
    tags: TAGS.filter(() => random() < 0.25),
    git: head
      ? { root: '/work', head, branch: pick(random, BRANCHES), remote: null, dirty: random() < 0.4, snapshot: head.split('').reverse().join(''), tree: head, ref: `refs/runlens/runs/${id}`, changes: [], skipped: [], submodules: [], notes: [] }
      : null,
    gitError: head ? null : 'no code snapshot: not a git repository',
    params,
    paramSources: {},
    configFiles: [],
    env: null,
    data: [],
    artifacts: [],
    seed: null,
    metricsSummary: status === 'running' ? null : { lines: 100, lastStep: 99, metrics, malformed: 0, malformedSamples: [] },
    problems: [],
  };
}

export function writeRecord(storeDir: string, record: RunRecord): string {
  const dir = path.join(storeDir, 'runs', record.id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.json'), serializeRunRecord(record));
  return dir;
}
