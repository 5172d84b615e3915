import * as path from 'node:path';
import { csvRows } from './csvRows';
import { emptyRun, newSeries, type FoundSource, type ImportedRun, type RunHandle } from './types';
import { filesUnder, flattenBounded, isDirInside, isFileInside, parseNumber, parseToolYaml, readTextFile } from './sourceFiles';

/**
 * dvclive. The new layout is one folder with `metrics.json` (nested),
 * `params.yaml` (may be empty) and `plots/metrics/**.tsv` with columns `step`
 * and the value; a header holds only the last part of the name, so the full
 * name comes from the path. Older layouts put `dvclive.json` beside the
 * folder, and `<name>.tsv` or `scalars/**.tsv` inside it with
 * `timestamp step value`; their params are the project's `params.yaml` beside
 * it. A metric named `step` can collide with the step column: the value is
 * always the last column. Steps may be floats.
 */

export type DvcliveLayout = { kind: 'new'; dir: string } | { kind: 'old'; dir: string; summary: string };

export function dvcliveLayout(root: string, dir: string): DvcliveLayout | null {
  if (isFileInside(root, path.join(dir, 'metrics.json')) && isDirInside(root, path.join(dir, 'plots', 'metrics'))) return { kind: 'new', dir };
  const summary = `${dir}.json`;
  if (isFileInside(root, summary) && isDirInside(root, dir)) return { kind: 'old', dir, summary };
  return null;
}

function seriesFiles(root: string, layout: DvcliveLayout): { base: string; files: string[] } {
  const base = layout.kind === 'new' ? path.join(layout.dir, 'plots', 'metrics') : isDirInside(root, path.join(layout.dir, 'scalars')) ? path.join(layout.dir, 'scalars') : layout.dir;
  return { base, files: filesUnder(root, base).filter((f) => f.endsWith('.tsv')) };
}

function paramsFile(root: string, layout: DvcliveLayout): string | null {
  const file = layout.kind === 'new' ? path.join(layout.dir, 'params.yaml') : path.join(path.dirname(layout.dir), 'params.yaml');
  return isFileInside(root, file) ? file : null;
}

export function dvcliveSource(root: string, layout: DvcliveLayout): FoundSource {
  return {
    kind: 'dvclive',
    path: layout.dir,
    async runs(): Promise<RunHandle[]> {
      const { base, files } = seriesFiles(root, layout);
      const params = paramsFile(root, layout);
      const summary = layout.kind === 'new' ? path.join(layout.dir, 'metrics.json') : layout.summary;
      return [
        {
          originalId: path.basename(layout.dir),
          files: [summary, ...(params ? [params] : []), ...files.map((f) => path.join(base, f))],
          load: () => readDvclive(layout, base, files, params),
        },
      ];
    },
  };
}

async function readDvclive(layout: DvcliveLayout, base: string, files: string[], params: string | null): Promise<ImportedRun> {
  const parent = path.basename(path.dirname(layout.dir));
  const run = emptyRun(path.basename(layout.dir), `${parent}/${path.basename(layout.dir)}`);
  run.experiment = parent || null;
  if (params) {
    try {
      const { params: flat, dropped } = flattenBounded(parseToolYaml(readTextFile(params)) ?? {});
      Object.assign(run.params, flat);
      if (dropped > 0) run.notes.push(`params.yaml: ${dropped} more param(s) left out`);
    } catch (err) {
      run.notes.push(`params.yaml could not be read: ${(err as Error).message}`);
    }
  }
  for (const rel of files.sort()) {
    const name = rel.slice(0, -'.tsv'.length);
    const series = newSeries();
    let stepColumn = -1;
    let timeColumn = -1;
    let width = 0;
    let bad = 0;
    let row = 0;
    for await (const item of csvRows(path.join(base, rel), '\t')) {
      if ('header' in item) {
        width = item.header.length;
        // The value is the last column; `step` and `timestamp` are looked for before it, so a metric named step stays a metric.
        stepColumn = item.header.slice(0, -1).indexOf('step');
        timeColumn = item.header.slice(0, -1).indexOf('timestamp');
        continue;
      }
      if ('bad' in item) {
        bad++;
        continue;
      }
      const step = stepColumn >= 0 ? parseNumber(item.row[stepColumn]!) : row;
      row++;
      const value = parseNumber(item.row[width - 1]!);
      if (step === null || value === null) {
        bad++;
        continue;
      }
      const ms = timeColumn >= 0 ? parseNumber(item.row[timeColumn]!) : null;
      series.step.push(step);
      series.t.push(ms !== null && Number.isFinite(ms) ? ms / 1000 : NaN);
      series.value.push(value);
    }
    if (series.value.length > 0) run.metrics.set(name, series);
    if (bad > 0) run.notes.push(`${rel}: ${bad} row(s) that could not be read skipped`);
  }
  return run;
}
