import * as fs from 'node:fs';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import type * as vscode from 'vscode';

/** Where `npm run bench` asks the extension host to say how busy it is (see bench/panels.mjs). */
export const HOST_LOAD_ENV = 'RUNLENS_BENCH_HOST_LOAD';

/**
 * Once a second, one JSON line of how busy the extension host's thread was during that second:
 * `busyMs`, the time its event loop was not idle (event-loop utilization), and `delayP99Ms`, the
 * 99th percentile of how late a timer fired (event-loop delay). Off unless the bench sets the
 * variable; the host is shared, so the bench also measures it with no run live, as its floor.
 */
export function logHostLoad(file: string): vscode.Disposable {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    const line = { at: Date.now(), busyMs: Math.round((delta.active / (delta.idle + delta.active || 1)) * 1000 * 10) / 10, delayP99Ms: Math.round(delay.percentile(99) / 1e5) / 10 };
    delay.reset();
    try {
      fs.appendFileSync(file, JSON.stringify(line) + '\n');
    } catch {
      // The bench's file went away: nothing to tell.
    }
  }, 1000);
  return {
    dispose: () => {
      clearInterval(timer);
      delay.disable();
    },
  };
}

/**
 * A moment of the extension's start, for the bench: one line `{ at, mark }` in the same file, so
 * the bench can time activation on the host's clock and the first rows against the page's.
 */
export function markHostMoment(mark: string): void {
  const file = process.env[HOST_LOAD_ENV];
  if (!file) return;
  try {
    fs.appendFileSync(file, JSON.stringify({ at: Date.now(), hostMs: performance.now(), mark }) + '\n');
  } catch {
    // The bench's file went away: nothing to tell.
  }
}
