import * as vscode from 'vscode';
import { visibleBidi } from '../../core/safeText';
import type { RunRecord } from '../../core/runRecord';
import { formatAge, formatNumber } from '../format';
import type { ModelsNode } from '../modelsTree';
import type { RunsNode } from '../runsTree';
import type { WorkspaceRuns } from '../workspaceRuns';

export type CommandTarget = RunsNode | ModelsNode | string | undefined;

/** The run a command was invoked on: a run item, a model version (its run), an id, or one the user picks. */
export async function runFromTarget(ws: WorkspaceRuns, target: CommandTarget, placeHolder = 'Choose a run'): Promise<RunRecord | undefined> {
  let id: string | undefined;
  if (typeof target === 'string') id = target;
  else if (target?.kind === 'run' || target?.kind === 'file' || target?.kind === 'section') id = target.run.id;
  else if (target?.kind === 'version' || target?.kind === 'detail') id = target.version.runId;
  if (!id) id = await pickRunId(ws, placeHolder);
  if (!id) return undefined;
  try {
    return ws.record(id);
  } catch (err) {
    void vscode.window.showErrorMessage(`RunLens: run ${id} cannot be read (${(err as Error).message}).`);
    return undefined;
  }
}

export async function pickRunId(ws: WorkspaceRuns, placeHolder: string, exclude?: string): Promise<string | undefined> {
  await ws.refresh();
  const items = ws
    .runs()
    .filter((r) => r.id !== exclude)
    .map((r) => ({
      label: visibleBidi(r.name),
      description: [r.status, r.metrics[0] ? `${r.metrics[0].key} ${formatNumber(r.metrics[0].last)}` : '', formatAge(r.startedAt)].filter(Boolean).join(' · '),
      detail: `${r.id}${r.branch ? ` · ${r.branch}` : ''}${r.head ? ` · ${r.head.slice(0, 8)}${r.dirty ? '*' : ''}` : ''}`,
      id: r.id,
    }));
  if (items.length === 0) {
    void vscode.window.showInformationMessage('RunLens: no runs recorded here yet.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true, matchOnDetail: true }))?.id;
}

/** A run with a code snapshot, or a message saying why there is none. */
export function withSnapshot(run: RunRecord): (RunRecord & { git: NonNullable<RunRecord['git']> }) | undefined {
  if (run.git) return run as RunRecord & { git: NonNullable<RunRecord['git']> };
  void vscode.window.showWarningMessage(`RunLens: run "${run.name}" has no code snapshot: ${run.gitError ?? 'it was recorded outside git'}.`);
  return undefined;
}
