import * as path from 'node:path';
import * as fs from 'node:fs';
import { dvcliveLayout, dvcliveSource } from './dvclive';
import { huggingFaceSource, isCheckpointFolder, trainerStates } from './huggingface';
import { isKerasLog, isKerasName, kerasSource } from './keras';
import { isLightningVersion, lightningSource } from './lightning';
import { looksLikeMlruns, mlflowFileStore } from './mlflowFiles';
import { isMlflowDb, isSqliteFile, mlflowSqliteSource } from './mlflowSqlite';
import { EVENT_FILE, tensorboardSource } from './tensorboard';
import { entriesInside, isDirInside, isFileInside } from './sourceFiles';
import type { FoundSource, SourceKind } from './types';

/** Folders that never hold training logs of interest, or hold RunLens's own. */
const NEVER_ENTER = new Set(['.git', 'node_modules', '.runlens', '__pycache__', '.venv', 'venv', '.tox', '.mypy_cache', 'site-packages']);
const MAX_DEPTH = 12;
const MAX_FOLDERS = 200_000;

/**
 * Finds every source of runs under `root` (a folder or one file), never
 * following a link out of it. With `only`, just that kind is looked for, and
 * its test is looser (an `mlruns` folder by another name, any CSV whose first
 * column is `epoch`).
 */
export async function detectSources(root: string, only?: SourceKind): Promise<FoundSource[]> {
  const found: FoundSource[] = [];
  const wants = (kind: SourceKind) => !only || only === kind;
  const stat = fs.statSync(root);
  if (stat.isFile()) {
    const dir = path.dirname(root);
    const name = path.basename(root);
    if (wants('tensorboard') && EVENT_FILE.test(name)) found.push(tensorboardSource(dir, dir, name));
    else if (wants('huggingface') && name === 'trainer_state.json') found.push(huggingFaceSource(dir, isCheckpointFolder(dir) ? path.dirname(dir) : dir));
    else if (wants('mlflow-sqlite') && (await isMlflowDb(root))) found.push(mlflowSqliteSource(root));
    else if (wants('keras') && isKerasLog(root, only === 'keras')) found.push(kerasSource(root));
    return found;
  }
  let folders = 0;
  // The walk asks the folder entries what they are and checks only links: it runs before every
  // recorded command (attached logs) and in big work trees a stat per file was most of it (bench).
  const walk = async (dir: string, depth: number, reachedByEntries = false): Promise<void> => {
    if (++folders > MAX_FOLDERS || depth > MAX_DEPTH) return;
    const entries = entriesInside(root, dir, reachedByEntries);
    const skip = new Set<string>();
    // A database's mlruns/ beside it holds its artifacts, never a second store.
    let databaseHere = false;
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (!/\.(db|sqlite3?)$/i.test(entry.name) || !isFileInside(root, file) || !isSqliteFile(file)) continue;
      if (await isMlflowDb(file)) {
        databaseHere = true;
        if (wants('mlflow-sqlite')) found.push(mlflowSqliteSource(file));
      }
    }
    if (databaseHere) skip.add('mlruns');
    const mlrunsHere = path.basename(dir) === 'mlruns' || (only === 'mlflow' && depth === 0);
    if (wants('mlflow') && mlrunsHere && looksLikeMlruns(root, dir, only === 'mlflow')) {
      found.push(mlflowFileStore(root, dir));
      return;
    }
    const names = new Set(entries.map((e) => e.name));
    if (wants('tensorboard') && entries.some((e) => EVENT_FILE.test(e.name) && isFileInside(root, path.join(dir, e.name)))) found.push(tensorboardSource(root, dir));
    else if (wants('lightning') && isLightningVersion(root, dir)) found.push(lightningSource(root, dir));
    const mayHoldTrainerState = names.has('trainer_state.json') || [...names].some((name) => isCheckpointFolder(name));
    if (wants('huggingface') && mayHoldTrainerState && !isCheckpointFolder(dir) && trainerStates(root, dir).length > 0) {
      found.push(huggingFaceSource(root, dir));
      for (const name of names) if (isCheckpointFolder(path.join(dir, name))) skip.add(name);
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (skip.has(entry.name) || NEVER_ENTER.has(entry.name)) continue;
      const link = entry.isSymbolicLink();
      if (link ? isDirInside(root, full) : entry.isDirectory()) {
        const layout = wants('dvclive') ? dvcliveLayout(root, full) : null;
        if (layout) {
          found.push(dvcliveSource(root, layout));
          continue;
        }
        await walk(full, depth + 1, !link);
      } else if (wants('keras') && !names.has('hparams.yaml') && entry.name !== 'metrics.csv' && isKerasName(entry.name, only === 'keras') && (link ? isFileInside(root, full) : entry.isFile()) && isKerasLog(full, only === 'keras')) {
        found.push(kerasSource(full));
      }
    }
  };
  const rootLayout = wants('dvclive') ? dvcliveLayout(root, root) : null;
  if (rootLayout) found.push(dvcliveSource(root, rootLayout));
  else await walk(root, 0);
  return found;
}
