import * as vscode from 'vscode';
import { importRuns } from '../../core/import/importRuns';
import type { WorkspaceRuns } from '../workspaceRuns';

/**
 * Import Runs…: a folder (or log file) picked in a dialog is searched for
 * MLflow, TensorBoard, Lightning, dvclive, Keras and Hugging Face logs, and
 * every run found joins the Runs view. Importing again updates, never adds twice.
 */
export async function importRunsCommand(ws: WorkspaceRuns, given?: vscode.Uri[]): Promise<void> {
  const picked =
    given ??
    (await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: true,
      canSelectMany: true,
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      openLabel: 'Import Runs',
      title: 'Import runs from MLflow, TensorBoard, Lightning, dvclive, Keras or Hugging Face logs',
    }));
  if (!picked || picked.length === 0) return;
  const summary = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'RunLens: importing runs', cancellable: false },
    (progress) => importRuns(ws.storeDir, picked.map((uri) => uri.fsPath), { onProgress: (message) => progress.report({ message }) }),
  );
  await ws.refresh();
  for (const problem of summary.problems) ws.log?.info(`import: ${problem.path}: ${problem.reason}`);
  for (const source of summary.sources) for (const skipped of source.skipped) ws.log?.info(`import ${source.kind} ${source.path}: skipped ${skipped.path}: ${skipped.reason}`);
  if (summary.sources.length === 0) {
    void vscode.window.showWarningMessage(`RunLens found no runs to import: ${summary.problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`);
    return;
  }
  const total = (key: 'added' | 'updated' | 'unchanged') => summary.sources.reduce((n, s) => n + s[key], 0);
  const skipped = summary.sources.reduce((n, s) => n + s.skipped.length, 0);
  const kinds = [...new Set(summary.sources.map((s) => s.kind))].join(', ');
  void vscode.window.showInformationMessage(
    `RunLens imported ${total('added')} new run(s), updated ${total('updated')}, ${total('unchanged')} unchanged (${kinds})${skipped ? `; ${skipped} file(s) skipped, see the RunLens output` : ''}.`,
  );
}
