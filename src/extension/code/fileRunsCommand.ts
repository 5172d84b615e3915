import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { versionsOfFile } from '../../core/code/fileVersions';
import type { IndexedRun } from '../../core/index/runIndex';
import { visibleBidi } from '../../core/safeText';
import { objectFormatOf, objectId } from '../../core/share/objects';
import { formatAge, formatNumber } from '../format';
import { runFileUri } from '../runFileSystem';
import type { WorkspaceRuns } from '../workspaceRuns';
import { pathInRepository } from './codeSettings';

export interface FileRunsAnswer {
  file: string;
  blob: string;
  /** Runs whose snapshot holds the file exactly as it is now. */
  same: IndexedRun[];
  /** Runs that had another version of it, by version (newest run first). */
  others: { blob: string; runs: IndexedRun[] }[];
}

/** The file's content now: the editor's text when it is open (saved or not), else the file on disk. */
function currentBytes(uri: vscode.Uri): Buffer | null {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return Buffer.from(open.getText(), 'utf8');
  try {
    return fs.readFileSync(uri.fsPath);
  } catch {
    return null;
  }
}

/** Which runs used this file: the runs whose snapshot has its exact content (by blob id), and the runs with other versions of it. */
export async function runsOfFile(ws: WorkspaceRuns, uri: vscode.Uri): Promise<FileRunsAnswer | null> {
  const file = pathInRepository(ws, uri);
  const bytes = currentBytes(uri);
  if (!file || !ws.repoRoot || !bytes) return null;
  const blob = objectId(await objectFormatOf(ws.repoRoot), 'blob', bytes);
  const runs = (await ws.withIndex((index) => index.query(null))).filter((r): r is IndexedRun & { snapshot: string } => Boolean(r.snapshot));
  const { byBlob } = await versionsOfFile(ws.repoRoot, runs, file);
  const others = [...byBlob].filter(([b]) => b !== blob).map(([b, held]) => ({ blob: b, runs: held }));
  return { file, blob, same: byBlob.get(blob) ?? [], others };
}

type RunItem = vscode.QuickPickItem & { run?: IndexedRun; group?: IndexedRun[] };

function runItem(run: IndexedRun, version: string): RunItem {
  const metric = run.metrics[0];
  return {
    label: visibleBidi(run.name),
    description: [run.status, metric ? `${metric.key} ${formatNumber(metric.last)}` : '', formatAge(run.startedAt)].filter(Boolean).join(' · '),
    detail: `${run.id} · ${version}`,
    run,
  };
}

/**
 * *Which Runs Used This File?*: a quick pick of the runs whose snapshot holds
 * the file as it is now, then those with other versions; a run picked goes on
 * to Show Run, a diff of the file with the run's version, or Compare of the
 * runs that share that version.
 */
export async function showRunsOfFile(ws: WorkspaceRuns, extensionCompare: (ids: string[]) => unknown, target?: vscode.Uri): Promise<FileRunsAnswer | null> {
  const uri = target instanceof vscode.Uri ? target : vscode.window.activeTextEditor?.document.uri;
  if (!uri || uri.scheme !== 'file') {
    void vscode.window.showInformationMessage('RunLens: open or select a file of the repository first.');
    return null;
  }
  const answer = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'RunLens: finding the runs of this file' }, () => runsOfFile(ws, uri));
  if (!answer) {
    void vscode.window.showInformationMessage(`RunLens: ${path.basename(uri.fsPath)} is not in the repository, so no run's snapshot holds it.`);
    return null;
  }
  const items: RunItem[] = [];
  items.push({ label: `Exactly as it is now (${answer.same.length})`, kind: vscode.QuickPickItemKind.Separator });
  if (answer.same.length > 1) items.push({ label: `$(split-horizontal) Compare these ${answer.same.length} runs`, group: answer.same });
  for (const run of answer.same) items.push(runItem(run, 'this version'));
  answer.others.forEach((other, i) => {
    items.push({ label: `Another version (${other.blob.slice(0, 8)}, ${other.runs.length} run${other.runs.length === 1 ? '' : 's'})`, kind: vscode.QuickPickItemKind.Separator });
    if (i === 0 && other.runs.length > 1) items.push({ label: `$(split-horizontal) Compare these ${other.runs.length} runs`, group: other.runs });
    for (const run of other.runs) items.push(runItem(run, `version ${other.blob.slice(0, 8)}`));
  });
  if (answer.same.length === 0 && answer.others.length === 0) {
    void vscode.window.showInformationMessage(`RunLens: no run's snapshot holds ${answer.file}.`);
    return answer;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: `Runs that used ${answer.file}`,
    placeHolder: `${answer.same.length} with this exact content, ${answer.others.reduce((n, o) => n + o.runs.length, 0)} with other versions`,
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!picked) return answer;
  if (picked.group) {
    await extensionCompare(picked.group.map((r) => r.id));
    return answer;
  }
  if (!picked.run) return answer;
  const run = picked.run;
  const action = await vscode.window.showQuickPick(
    [
      { label: '$(beaker) Show Run', id: 'show' },
      { label: `$(diff) Diff ${path.basename(answer.file)} with This Run's Version`, id: 'diff' },
    ],
    { placeHolder: `Run "${visibleBidi(run.name)}"` },
  );
  if (action?.id === 'show') await vscode.commands.executeCommand('runlens.showRun', run.id);
  if (action?.id === 'diff') await diffFileWithRun(ws, run.id, answer.file);
  return answer;
}

/** The file as it was in a run, beside the file now. */
export async function diffFileWithRun(ws: WorkspaceRuns, runId: unknown, file: unknown): Promise<void> {
  if (typeof runId !== 'string' || typeof file !== 'string' || !ws.repoRoot) return;
  const name = (() => {
    try {
      return visibleBidi(ws.record(runId).name);
    } catch {
      return runId;
    }
  })();
  const now = vscode.Uri.file(path.join(ws.repoRoot, ...file.split('/')));
  await vscode.commands.executeCommand('vscode.diff', runFileUri(ws.repoRoot, runId, file), now, `${file} (${name} ↔ now)`);
}
