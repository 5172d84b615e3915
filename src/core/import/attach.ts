import * as path from 'node:path';
import { writeJsonAtomic } from '../atomicFile';
import { formatMetricValue } from '../metrics/metricLine';
import type { ParamValue } from '../params';
import { detectSources } from './detect';
import { signatureOf } from './sourceFiles';
import type { ImportedRun, RunHandle, SourceKind } from './types';

/** The file in a run's folder that lists the logs attached to it, with absolute store paths. */
export const ATTACHED_FILE = 'attached.json';

/** A log another tool wrote during a recorded run, attached to it. */
export interface AttachedLog {
  kind: SourceKind;
  /** The store or file, relative to the run's working folder. */
  path: string;
  /** The run's id in that log (an MLflow run id, a version folder, an event file). */
  id: string;
  points: number;
}

const MIN_INTERVAL_MS = 2000;
/** A walk of the working folder may take at most this share of the time between walks. */
const WALK_SHARE = 0.1;

/**
 * Follows the logs a recorded command writes in any format RunLens imports
 * (an MLflow run, a Lightning version folder, an event file, a dvclive folder,
 * a trainer_state.json) under its working folder. What was there before the
 * command started and did not change is left alone; what appeared or grew is
 * attached: its new points are appended to the run's metrics as they arrive,
 * so the run's charts move while it trains. The working folder is walked
 * every few seconds, less often when a walk is slow, so a big repository
 * costs the command at most a tenth of the recorder's time.
 */
export class LogFollower {
  private readonly before = new Map<string, string>();
  private readonly seen = new Map<string, string>();
  private readonly sent = new Map<string, Map<string, number>>();
  private readonly logs = new Map<string, AttachedLog>();
  private readonly params: Record<string, { value: ParamValue | unknown; kind: SourceKind }> = {};
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  readonly problems: string[] = [];

  /** Where new points go: the run's metrics file, once it is open. */
  append: (lines: string) => void = () => {};

  /**
   * `markerFile` (the run's attached.json) lists what was attached as it is attached, so an import
   * of the same folder leaves those logs to the run they belong to instead of adding them twice.
   */
  constructor(
    private readonly cwd: string,
    private readonly markerFile?: string,
  ) {}

  private key(kind: SourceKind, sourcePath: string, id: string): string {
    return `${kind}\0${sourcePath}\0${id}`;
  }

  private async handles(): Promise<{ kind: SourceKind; path: string; handle: RunHandle }[]> {
    const out: { kind: SourceKind; path: string; handle: RunHandle }[] = [];
    for (const source of await detectSources(this.cwd)) {
      try {
        for (const handle of await source.runs([])) out.push({ kind: source.kind, path: source.path, handle });
      } finally {
        source.close?.();
      }
    }
    return out;
  }

  /** What is there before the command starts: left alone unless it changes. */
  async baseline(): Promise<void> {
    try {
      for (const { kind, path: p, handle } of await this.handles()) this.before.set(this.key(kind, p, handle.originalId), signatureOf(handle.files));
    } catch (err) {
      this.problems.push(`logs in the working folder could not be listed: ${(err as Error).message}`);
    }
  }

  start(): void {
    const schedule = (delay: number) => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        const started = performance.now();
        this.polling = this.poll().finally(() => {
          this.polling = null;
          schedule(Math.max(MIN_INTERVAL_MS, (performance.now() - started) / WALK_SHARE));
        });
      }, delay);
      this.timer.unref?.();
    };
    schedule(MIN_INTERVAL_MS);
  }

  /** Stops following, after one last look: what the command wrote just before it ended is attached too. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    await this.poll();
  }

  private async poll(): Promise<void> {
    let found: { kind: SourceKind; path: string; handle: RunHandle }[];
    try {
      found = await this.handles();
    } catch {
      return;
    }
    for (const { kind, path: sourcePath, handle } of found) {
      const key = this.key(kind, sourcePath, handle.originalId);
      const signature = signatureOf(handle.files);
      if (this.before.get(key) === signature || this.seen.get(key) === signature) continue;
      this.seen.set(key, signature);
      let run: ImportedRun;
      try {
        run = await handle.load();
      } catch (err) {
        this.problems.push(`${kind} ${path.relative(this.cwd, sourcePath)}: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      this.take(key, kind, sourcePath, run);
    }
  }

  /** Appends the points of `run` not sent yet, metric by metric, in order. */
  private take(key: string, kind: SourceKind, sourcePath: string, run: ImportedRun): void {
    const sent = this.sent.get(key) ?? new Map<string, number>();
    this.sent.set(key, sent);
    const now = Date.now() / 1000;
    let lines = '';
    let added = 0;
    for (const [metric, series] of run.metrics) {
      const from = sent.get(metric) ?? 0;
      const keyText = JSON.stringify(metric);
      for (let i = from; i < series.value.length; i++) {
        // A log without wall times (a CSV) gets the moment its line was seen.
        const t = Number.isFinite(series.t[i]!) ? series.t[i]! : now;
        lines += `{"step":${formatMetricValue(series.step[i]!)},"t":${t},${keyText}:${formatMetricValue(series.value[i]!)}}\n`;
        added++;
      }
      sent.set(metric, Math.max(from, series.value.length));
    }
    if (lines) this.append(lines);
    const known = this.logs.get(key);
    const log = known ?? { kind, path: path.relative(this.cwd, sourcePath).split(path.sep).join('/') || '.', id: run.originalId, points: 0 };
    log.points += added;
    this.logs.set(key, log);
    if (!known && this.markerFile) {
      const marker = this.markerFile;
      const entries = [...this.logs.keys()].map((k) => {
        const [kindPart, sourcePart, idPart] = k.split('\0');
        return { kind: kindPart, path: sourcePart, id: idPart };
      });
      try {
        writeJsonAtomic(marker, entries);
      } catch (err) {
        this.problems.push(`${path.basename(marker)} could not be written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    for (const [name, value] of Object.entries(run.params)) if (!(name in this.params)) this.params[name] = { value, kind };
  }

  attached(): AttachedLog[] {
    return [...this.logs.values()];
  }

  /** Params the attached logs gave (hparams.yaml, MLflow params), each with the kind of log it came from. */
  attachedParams(): Record<string, { value: unknown; kind: SourceKind }> {
    return this.params;
  }
}
