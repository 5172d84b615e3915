import * as path from 'node:path';
import { csvRows } from './csvRows';
import { emptyRun, newSeries, type FoundSource, type ImportedRun, type RunHandle } from './types';
import { flattenBounded, isFileInside, parseNumber, parseToolYaml, readTextFile, typedParam } from './sourceFiles';

/**
 * PyTorch Lightning's CSVLogger: `<logger>/version_N/metrics.csv` and
 * `hparams.yaml` (the older test-tube layout has `meta_tags.csv` and
 * `meta.experiment`). Rows are sparse, train and val metrics on different rows
 * with empty cells; `epoch`, `step` and `created_at` are axes, in any column
 * order. A version folder may hold only hparams.yaml, or a metrics.csv that
 * is one newline: still a run, with what it has.
 */

const AXES = new Set(['epoch', 'step', 'created_at']);

export function isLightningVersion(root: string, dir: string): boolean {
  return /^version_\d+$/.test(path.basename(dir)) && ['metrics.csv', 'hparams.yaml', 'meta_tags.csv'].some((f) => isFileInside(root, path.join(dir, f)));
}

export function lightningSource(root: string, dir: string): FoundSource {
  return {
    kind: 'lightning',
    path: dir,
    async runs(): Promise<RunHandle[]> {
      const files = ['metrics.csv', 'hparams.yaml', 'meta_tags.csv'].map((f) => path.join(dir, f)).filter((f) => isFileInside(root, f));
      return [{ originalId: path.basename(dir), files, load: () => readVersion(root, dir) }];
    },
  };
}

async function readVersion(root: string, dir: string): Promise<ImportedRun> {
  const run = emptyRun(path.basename(dir), `${path.basename(path.dirname(dir))}/${path.basename(dir)}`);
  run.experiment = path.basename(path.dirname(dir));
  const hparams = path.join(dir, 'hparams.yaml');
  if (isFileInside(root, hparams)) {
    try {
      const { params, dropped } = flattenBounded(parseToolYaml(readTextFile(hparams)));
      Object.assign(run.params, params);
      if (dropped > 0) run.notes.push(`hparams.yaml: ${dropped} more param(s) left out`);
    } catch (err) {
      run.notes.push(`hparams.yaml could not be read: ${(err as Error).message}`);
    }
  }
  const metaTags = path.join(dir, 'meta_tags.csv');
  if (isFileInside(root, metaTags)) {
    for await (const item of csvRows(metaTags)) if ('row' in item && item.row[0]) run.params[item.row[0]] = typedParam(item.row[1] ?? '');
  }
  const metrics = path.join(dir, 'metrics.csv');
  if (!isFileInside(root, metrics)) return run;
  let header: string[] = [];
  let stepColumn = -1;
  let timeColumn = -1;
  let rowIndex = 0;
  let bad = 0;
  for await (const item of csvRows(metrics)) {
    if ('header' in item) {
      header = item.header;
      stepColumn = header.indexOf('step');
      timeColumn = header.indexOf('created_at');
      continue;
    }
    if ('bad' in item) {
      bad++;
      continue;
    }
    const row = item.row;
    const step = stepColumn >= 0 ? parseNumber(row[stepColumn]!) : rowIndex;
    rowIndex++;
    if (step === null || !Number.isFinite(step)) {
      bad++;
      continue;
    }
    const created = timeColumn >= 0 ? parseNumber(row[timeColumn]!) : null;
    const t = created !== null && Number.isFinite(created) ? created : NaN;
    for (let c = 0; c < header.length; c++) {
      const name = header[c]!;
      if (AXES.has(name) || row[c]!.trim() === '') continue;
      const value = parseNumber(row[c]!);
      if (value === null) continue;
      let series = run.metrics.get(name);
      if (!series) run.metrics.set(name, (series = newSeries()));
      series.step.push(step);
      series.t.push(t);
      series.value.push(value);
    }
  }
  if (bad > 0) run.notes.push(`metrics.csv: ${bad} row(s) that could not be read skipped`);
  return run;
}
