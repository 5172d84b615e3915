import * as vscode from 'vscode';
import { pullRuns } from '../../core/share/pull';
import { pushRuns } from '../../core/share/push';
import type { WorkspaceRuns } from '../workspaceRuns';

function trusted(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`RunLens does not ${what} in an untrusted workspace: it runs git against the remote. Trust the workspace first.`);
  return false;
}

/**
 * Pull Team Runs: the remote's shared runs and registry events, with a
 * progress notification; `quiet` (a pull on window focus) says only what it
 * brought, in the status bar.
 */
export async function pullTeamRuns(ws: WorkspaceRuns, quiet = false): Promise<number | undefined> {
  if (!trusted('pull runs')) return undefined;
  try {
    const result = await vscode.window.withProgress(
      { location: quiet ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification, title: 'RunLens: pulling team runs' },
      (progress) => pullRuns(ws.folder.uri.fsPath, ws.storeDir, { onProgress: (message) => progress.report({ message }) }),
    );
    await ws.refresh();
    const text = result.commit === null ? `${result.remote} shares no runs yet` : `${result.runs.length} run(s) and ${result.registryEvents} registry event(s) pulled from ${result.remote}`;
    if (quiet) {
      if (result.runs.length + result.registryEvents > 0) vscode.window.setStatusBarMessage(`RunLens: ${text}`, 10_000);
    } else {
      void vscode.window.showInformationMessage(`RunLens: ${text}${result.problems.length ? `; ${result.problems.length} could not be taken in (see the RunLens log)` : ''}`);
    }
    for (const problem of result.problems) ws.log?.info(`pull: run ${problem.id}: ${problem.reason}`);
    return result.runs.length;
  } catch (err) {
    if (!quiet) void vscode.window.showErrorMessage(`RunLens: ${(err as Error).message.split('\n')[0]}`);
    else ws.log?.info(`pull on focus: ${(err as Error).message}`);
    return undefined;
  }
}

/** Push Runs: this clone's ended runs (not tagged private) and registry events, with progress. */
export async function pushTeamRuns(ws: WorkspaceRuns): Promise<number | undefined> {
  if (!trusted('push runs')) return undefined;
  const privateTags = vscode.workspace.getConfiguration('runlens', ws.folder.uri).get<string[]>('share.privateTags', ['private']);
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'RunLens: pushing runs' }, (progress) =>
      pushRuns(ws.folder.uri.fsPath, ws.storeDir, { privateTags, onProgress: (message) => progress.report({ message }) }),
    );
    const kept = result.kept.length ? `; ${result.kept.length} kept local (${[...new Set(result.kept.map((k) => k.reason))].slice(0, 2).join('; ')})` : '';
    void vscode.window.showInformationMessage(
      result.runs.length + result.registryEvents === 0 ? `RunLens: ${result.remote} has every run already${kept}` : `RunLens: ${result.runs.length} run(s) and ${result.registryEvents} registry event(s) pushed to ${result.remote}${kept}`,
    );
    return result.runs.length;
  } catch (err) {
    void vscode.window.showErrorMessage(`RunLens: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/** Pulls when the window gets focus, at most every `runlens.share.pullOnFocusMinutes` minutes (0: never). */
export function pullOnFocus(ws: WorkspaceRuns): vscode.Disposable {
  let last = 0;
  return vscode.window.onDidChangeWindowState((state) => {
    const minutes = vscode.workspace.getConfiguration('runlens', ws.folder.uri).get<number>('share.pullOnFocusMinutes', 0);
    if (!state.focused || !(minutes > 0) || Date.now() - last < minutes * 60_000) return;
    last = Date.now();
    void pullTeamRuns(ws, true);
  });
}
