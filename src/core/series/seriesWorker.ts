/**
 * A worker thread that reads and buckets series (see seriesPool.ts), so the
 * extension host's own thread stays free to answer the editor and to deliver
 * the charts that are already done.
 */
import { parentPort } from 'node:worker_threads';
import { readSeriesColumns, seriesExtent, type RunSeriesColumns } from './series';
import type { WorkerReply, WorkerTask } from './seriesPool';

function buffersOf(series: RunSeriesColumns[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const s of series) {
    for (const value of Object.values(s)) if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) buffers.add(value.buffer);
  }
  return [...buffers];
}

parentPort?.on('message', (task: WorkerTask) => {
  try {
    if (task.op === 'extent') {
      const reply: WorkerReply = { id: task.id, op: 'extent', extent: seriesExtent(task.storeDir, task.runIds, task.metric, task.x) };
      parentPort!.postMessage(reply);
    } else {
      const series = readSeriesColumns(task.storeDir, task.runIds, task.request);
      const reply: WorkerReply = { id: task.id, op: 'series', series };
      parentPort!.postMessage(reply, buffersOf(series));
    }
  } catch (err) {
    const reply: WorkerReply = { id: task.id, op: 'error', message: err instanceof Error ? err.message : String(err) };
    parentPort!.postMessage(reply);
  }
});
