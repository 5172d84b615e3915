import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXPORT_LAYOUT, MANIFEST_FILE, type ExportManifest } from '../registry/exportVersion';
import type { RunRecord } from '../runRecord';
import { parseRunRecord, runDir } from '../store';
import type { ReproductionReport } from './report';
import { ReproductionRefused, rerunAndReport, type RerunOptions } from './reproduce';

/** Where a reproduction from an export keeps its run and report: beside the export's files. */
export const EXPORT_REPRODUCTIONS = 'reproductions';

export type FromExportOptions = Omit<RerunOptions, 'storeDir'> & { say?: (text: string) => void };

/**
 * `runlens reproduce --from-export DIR`: re-runs a version's training from an
 * export folder, with no repository needed. The code is copied out of `code/`
 * into a temporary folder (the export stays as it was written), the command
 * runs from the run's folder there through the recorder, and the report
 * compares it with the run the export carries (`run/`), as `runlens
 * reproduce` would. The new run and its report are kept in the export's
 * `reproductions/` store.
 */
export async function reproduceFromExport(exportDir: string, options: FromExportOptions = {}): Promise<{ original: RunRecord; record: RunRecord; report: ReproductionReport; exitCode: number; storeDir: string }> {
  const say = options.say ?? (() => {});
  const dir = path.resolve(exportDir);
  let manifest: ExportManifest;
  let original: RunRecord;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as ExportManifest;
  } catch (err) {
    throw new ReproductionRefused(`${dir} is not a RunLens export: ${MANIFEST_FILE} cannot be read (${(err as Error).message.split('\n')[0]})`);
  }
  try {
    original = parseRunRecord(fs.readFileSync(path.join(dir, EXPORT_LAYOUT.run, 'run.json'), 'utf8'), manifest.runId);
  } catch (err) {
    throw new ReproductionRefused(`the export's run record (${EXPORT_LAYOUT.run}/run.json) cannot be read: ${(err as Error).message.split('\n')[0]}`);
  }
  const code = path.join(dir, EXPORT_LAYOUT.code);
  if (!fs.existsSync(code)) throw new ReproductionRefused(`the export has no ${EXPORT_LAYOUT.code}/ folder`);
  const storeDir = path.join(dir, EXPORT_REPRODUCTIONS);
  // The original, as a run of that store: the report reads its series from there.
  const originalDir = runDir(storeDir, original.id);
  fs.mkdirSync(originalDir, { recursive: true });
  for (const file of fs.readdirSync(path.join(dir, EXPORT_LAYOUT.run))) fs.copyFileSync(path.join(dir, EXPORT_LAYOUT.run, file), path.join(originalDir, file));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `runlens-export-reproduce-${original.id.slice(-6)}-`));
  try {
    fs.cpSync(code, work, { recursive: true });
    const cwd = path.join(work, manifest.cwdInRepo || '');
    fs.mkdirSync(cwd, { recursive: true });
    say(`copied the code of ${manifest.model} v${manifest.version} (run ${original.id}) to ${work}`);
    for (const d of original.data) if (!fs.existsSync(path.resolve(cwd, d.path))) say(`warning: data ${d.path} is not in the export; the report will name it`);
    const present = original.data.filter((d) => fs.existsSync(path.resolve(cwd, d.path))).map((d) => d.path);
    const { record, exitCode, report } = await rerunAndReport(original, cwd, work, `${original.name} (reproduction from export)`, present, { ...options, storeDir });
    return { original, record, report, exitCode, storeDir };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
