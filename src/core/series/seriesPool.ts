import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RunSeriesColumns, SeriesRequest, XAxis } from './series';

export type WorkerTask =
  | { id: number; op: 'extent'; storeDir: string; runIds: string[]; metric: string; x: XAxis }
  | { id: number; op: 'series'; storeDir: string; runIds: string[]; request: SeriesRequest };

export type WorkerReply =
  | { id: number; op: 'extent'; extent: [number, number] | null }
  | { id: number; op: 'series'; series: RunSeriesColumns[] }
  | { id: number; op: 'error'; message: string };

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (reply: WorkerReply) => void; reject: (err: Error) => void }>;
}

/**
 * Series reading and bucketing on worker threads. A request for many runs is
 * split into one slice of runs per worker, so the slices are read in
 * parallel; results come back as transferred typed arrays, not copies.
 * Workers start on first use and stop after a while without work.
 */
export class SeriesPool {
  private slots: Slot[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly workerFile: string,
    private readonly size = Math.max(1, Math.min(4, os.availableParallelism())),
    private readonly idleMs = 30_000,
  ) {}

  /** Starts the workers ahead of the first request, so their start-up overlaps with something else. */
  warm(): void {
    for (let i = 0; i < this.size; i++) this.slot(i);
    this.armIdleTimer();
  }

  /** The x range that covers `metric` in every run (each run's cache brought up to date, in parallel). */
  async extent(storeDir: string, runIds: string[], metric: string, x: XAxis): Promise<[number, number] | null> {
    const replies = await this.fanOut(runIds, (id, slice) => ({ id, op: 'extent', storeDir, runIds: slice, metric, x }));
    let lo = Infinity;
    let hi = -Infinity;
    for (const reply of replies) {
      if (reply.op !== 'extent' || !reply.extent) continue;
      lo = Math.min(lo, reply.extent[0]);
      hi = Math.max(hi, reply.extent[1]);
    }
    return lo <= hi ? [lo, hi] : null;
  }

  /** readSeriesColumns for all runs, in their order. */
  async series(storeDir: string, runIds: string[], request: SeriesRequest): Promise<RunSeriesColumns[]> {
    const replies = await this.fanOut(runIds, (id, slice) => ({ id, op: 'series', storeDir, runIds: slice, request }));
    return replies.flatMap((reply) => (reply.op === 'series' ? reply.series : []));
  }

  private async fanOut(runIds: string[], task: (id: number, slice: string[]) => WorkerTask): Promise<WorkerReply[]> {
    if (runIds.length === 0) return [];
    const parts = Math.min(this.size, runIds.length);
    const per = Math.ceil(runIds.length / parts);
    const slices: string[][] = [];
    for (let i = 0; i < runIds.length; i += per) slices.push(runIds.slice(i, i + per));
    const replies = await Promise.all(slices.map((slice, i) => this.send(this.slot(i), task(this.nextId++, slice))));
    for (const reply of replies) if (reply.op === 'error') throw new Error(reply.message);
    return replies;
  }

  private slot(i: number): Slot {
    while (this.slots.length <= i) {
      const slot: Slot = { worker: new Worker(this.workerFile), pending: new Map() };
      slot.worker.unref();
      slot.worker.on('message', (reply: WorkerReply) => {
        slot.pending.get(reply.id)?.resolve(reply);
        slot.pending.delete(reply.id);
        this.armIdleTimer();
      });
      // A worker that dies takes only its own requests with it; the next request starts a new one.
      const fail = (err: Error) => {
        for (const p of slot.pending.values()) p.reject(err);
        slot.pending.clear();
        this.slots = this.slots.filter((s) => s !== slot);
      };
      slot.worker.on('error', fail);
      slot.worker.on('exit', (code) => fail(new Error(`series worker stopped (exit code ${code})`)));
      this.slots.push(slot);
    }
    return this.slots[i]!;
  }

  private send(slot: Slot, task: WorkerTask): Promise<WorkerReply> {
    clearTimeout(this.idleTimer);
    return new Promise((resolve, reject) => {
      slot.pending.set(task.id, { resolve, reject });
      slot.worker.postMessage(task);
    });
  }

  private armIdleTimer(): void {
    if (this.slots.some((s) => s.pending.size > 0)) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.dispose(), this.idleMs);
    this.idleTimer.unref();
  }

  dispose(): void {
    clearTimeout(this.idleTimer);
    const slots = this.slots;
    this.slots = [];
    for (const slot of slots) void slot.worker.terminate();
  }
}
