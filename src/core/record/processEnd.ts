import * as os from 'node:os';
import { processIsAlive } from '../store';
import type { ExternalEnd } from './recorder';

/**
 * How a process recorded from the inside (`runlens.init()`) ended, as it says
 * itself: one JSON line on the pipe it keeps open to the recorder,
 *
 *   {"end": "finished"}
 *   {"end": "failed", "exitCode": 1, "error": "Traceback …"}
 *   {"end": "killed", "signal": "SIGINT"}
 *
 * A process that dies without a word (SIGKILL, a segfault, the OOM killer)
 * closes the pipe without a line, or, when a forked child keeps the pipe open,
 * is simply gone: either way the run is crashed. `isAlive` is asked every
 * `pollMs` so that a dead process is seen even while the pipe stays open.
 */
export interface ProcessEndOptions {
  lines: AsyncIterable<string>;
  pid: number;
  pollMs?: number;
  isAlive?: (pid: number) => boolean;
}

export interface SaidEnd extends ExternalEnd {
  /** The traceback of an uncaught exception, as the process printed it. */
  traceback?: string;
}

const SIGNALS = new Set(Object.keys(os.constants.signals));

/** The end a line says, or null when the line is not an end. */
export function parseEndLine(line: string): SaidEnd | null {
  let said: { end?: unknown; exitCode?: unknown; signal?: unknown; error?: unknown };
  try {
    said = JSON.parse(line) as typeof said;
  } catch {
    return null;
  }
  if (said === null || typeof said !== 'object') return null;
  const exitCode = typeof said.exitCode === 'number' && Number.isInteger(said.exitCode) ? said.exitCode : null;
  const signal = typeof said.signal === 'string' && SIGNALS.has(said.signal) ? (said.signal as NodeJS.Signals) : null;
  const error = typeof said.error === 'string' && said.error.trim() ? said.error : undefined;
  switch (said.end) {
    case 'finished':
      return { status: 'finished', exitCode: exitCode ?? 0, signal: null };
    case 'failed': {
      const last = error?.trim().split('\n').pop()?.slice(0, 300);
      return { status: 'failed', exitCode: exitCode ?? 1, signal: null, problem: last ? `uncaught ${last}` : 'failed', ...(error ? { traceback: error } : {}) };
    }
    case 'killed':
      return { status: 'killed', exitCode: exitCode, signal: signal ?? 'SIGTERM' };
    default:
      return null;
  }
}

export function waitForProcessEnd(options: ProcessEndOptions): Promise<SaidEnd> {
  const isAlive = options.isAlive ?? processIsAlive;
  const gone: SaidEnd = { status: 'crashed', exitCode: null, signal: null, problem: 'the process ended without saying how (killed with SIGKILL, out of memory, or a crash of the interpreter)' };
  return new Promise<SaidEnd>((resolve) => {
    let done = false;
    const finish = (end: SaidEnd) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      resolve(end);
    };
    const timer = setInterval(() => {
      if (!isAlive(options.pid)) finish(gone);
    }, options.pollMs ?? 1000);
    void (async () => {
      try {
        for await (const line of options.lines) {
          const end = parseEndLine(line);
          if (end) return finish(end);
        }
      } catch {
        // a broken pipe is a closed one
      }
      finish(gone);
    })();
  });
}
