import * as path from 'node:path';
import { csvRows, firstLine } from './csvRows';
import { emptyRun, newSeries, type FoundSource, type ImportedRun, type RunHandle } from './types';
import { parseNumber } from './sourceFiles';

/**
 * Keras's CSVLogger (`training.log`, or any `*.csv` whose first column is
 * `epoch`). In append mode each session starts again at epoch 0 below the
 * last: each session is its own run, in file order, never merged by epoch.
 */

/** A name a CSVLogger file may have: `training.log`, or any `.csv` or `.log`. */
export function isKerasName(name: string, forced = false): boolean {
  return forced || name === 'training.log' || /\.(csv|log)$/i.test(name);
}

export function isKerasLog(file: string, forced = false): boolean {
  if (!isKerasName(path.basename(file), forced)) return false;
  try {
    const header = firstLine(file).split(/[,;\t]/).map((h) => h.trim().replace(/^"|"$/g, ''));
    return header[0] === 'epoch' && header.length > 1 && !header.includes('step') && !header.includes('created_at');
  } catch {
    return false;
  }
}

function delimiterOf(file: string): string {
  const line = firstLine(file);
  return line.includes('\t') ? '\t' : line.includes(';') && !line.includes(',') ? ';' : ',';
}

export function kerasSource(file: string): FoundSource {
  return {
    kind: 'keras',
    path: file,
    async runs(): Promise<RunHandle[]> {
      const sessions: ImportedRun[] = [];
      let header: string[] = [];
      let current: ImportedRun | null = null;
      let lastEpoch = Infinity;
      let bad = 0;
      for await (const item of csvRows(file, delimiterOf(file))) {
        if ('header' in item) {
          header = item.header;
          continue;
        }
        if ('bad' in item) {
          bad++;
          continue;
        }
        const row = item.row;
        if (row[0]!.trim() === 'epoch') continue; // a header written again by a new session
        const epoch = parseNumber(row[0]!);
        if (epoch === null || !Number.isFinite(epoch)) {
          bad++;
          continue;
        }
        if (!current || epoch <= lastEpoch) {
          current = emptyRun(`session-${sessions.length + 1}`, '');
          sessions.push(current);
        }
        lastEpoch = epoch;
        for (let c = 1; c < header.length; c++) {
          const value = parseNumber(row[c]!);
          if (value === null) continue;
          let series = current.metrics.get(header[c]!);
          if (!series) current.metrics.set(header[c]!, (series = newSeries()));
          series.step.push(epoch);
          series.t.push(NaN);
          series.value.push(value);
        }
      }
      const base = path.basename(path.dirname(file)) + '/' + path.basename(file);
      return sessions.map((session, i) => {
        session.name = sessions.length > 1 ? `${base} (session ${i + 1} of ${sessions.length})` : base;
        session.experiment = path.basename(path.dirname(file));
        if (bad > 0) session.notes.push(`${path.basename(file)}: ${bad} row(s) that could not be read skipped`);
        return { originalId: session.originalId, files: [file], load: async () => session };
      });
    },
  };
}
