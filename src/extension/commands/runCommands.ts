import * as vscode from 'vscode';
import { QuerySyntaxError } from '../../core/query/ast';
import { parseQuery } from '../../core/query/parse';
import { deleteRun } from '../../core/store';
import type { WorkspaceRuns } from '../workspaceRuns';
import { runFromTarget, type CommandTarget } from './targets';

const LAST_COMMAND = 'runlens.lastTrainingCommand';
const TERMINAL_NAME = 'RunLens';


/**
 * Run Training…: asks for (and remembers) a command and records it with
 * `runlens run` in an integrated terminal, where the user can see and stop it.
 */
export async function runTraining(ws: WorkspaceRuns, state: vscode.Memento, command?: string): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('RunLens does not start runs in an untrusted workspace. Trust the workspace to record training runs.');
    return undefined;
  }
  const suggestion = state.get<string>(LAST_COMMAND) ?? vscode.workspace.getConfiguration('runlens', ws.folder.uri).get<string>('pythonCommand') ?? 'python train.py';
  const typed =
    command ??
    (await vscode.window.showInputBox({
      title: 'RunLens: Run Training',
      prompt: 'The command to record, as you would type it (it runs in a terminal through `runlens run --`)',
      value: suggestion,
      validateInput: (v) => (v.trim() ? undefined : 'Type the training command, for example: python train.py --lr 0.01'),
    }));
  if (!typed?.trim()) return undefined;
  await state.update(LAST_COMMAND, typed.trim());
  return recordInTerminal(ws, typed.trim());
}

/** `runlens run -- COMMAND` in the RunLens terminal, where the user sees the output and can stop it. */
export function recordInTerminal(ws: WorkspaceRuns, command: string): string {
  const terminal = vscode.window.terminals.find((t) => t.name === TERMINAL_NAME && t.exitStatus === undefined) ?? vscode.window.createTerminal({ name: TERMINAL_NAME, cwd: ws.folder.uri });
  terminal.show(true);
  const line = `runlens run -- ${command}`;
  terminal.sendText(line);
  return line;
}

/** Filter Runs…: the query language of `runlens ls --where`, checked as it is typed. */
export async function filterRuns(ws: WorkspaceRuns, view: vscode.TreeView<unknown>, text?: string): Promise<string | undefined> {
  const query =
    text ??
    (await vscode.window.showInputBox({
      title: 'RunLens: Filter Runs',
      prompt: 'e.g. metrics.acc > 0.9 and params.lr < 0.01 and branch = "main" · status = failed · name ~ "resnet" · age < 7d · tag = sweep',
      value: ws.filter.text,
      validateInput: (v) => {
        try {
          parseQuery(v);
          return undefined;
        } catch (err) {
          return err instanceof QuerySyntaxError ? err.message : String(err);
        }
      },
    }));
  if (query === undefined) return undefined;
  ws.filter = { text: query.trim(), expr: parseQuery(query) };
  await vscode.commands.executeCommand('setContext', 'runlens.hasFilter', ws.filter.expr !== null);
  view.description = ws.filter.text ? `filter: ${ws.filter.text}` : undefined;
  await ws.refresh();
  return ws.filter.text;
}

/**
 * Delete Run…: its folder and its snapshot ref, always after asking. The command is public (a
 * hover's command link, a webview or another extension can run it), so nothing it is passed can
 * skip the question.
 */
export async function deleteRunCommand(ws: WorkspaceRuns, target: CommandTarget): Promise<boolean> {
  const run = await runFromTarget(ws, target, 'Delete which run?');
  if (!run) return false;
  if (run.status === 'running') {
    void vscode.window.showWarningMessage(`RunLens: run "${run.name}" is still running; stop it before deleting it.`);
    return false;
  }
  const used = [...ws.registry.models().values()].flatMap((m) => m.versions.filter((v) => v.runId === run.id).map((v) => `${m.name} v${v.version}`));
  const answer = await vscode.window.showWarningMessage(
    `Delete run "${run.name}"?`,
    {
      modal: true,
      detail: `This removes ${ws.describe()}/runs/${run.id} and its snapshot ref.${used.length ? ` It is registered as ${used.join(', ')}; those versions will point at a missing run.` : ''}`,
    },
    'Delete',
  );
  if (answer !== 'Delete') return false;
  try {
    await deleteRun(ws.storeDir, run);
  } catch (err) {
    // The folder is gone but the ref stayed: say so, rather than claim the ref went too.
    void vscode.window.showWarningMessage(`RunLens: ${(err as Error).message}`);
  }
  await ws.refresh();
  return true;
}

export async function copyRunId(ws: WorkspaceRuns, target: CommandTarget): Promise<string | undefined> {
  const run = await runFromTarget(ws, target, 'Copy the id of which run?');
  if (!run) return undefined;
  await vscode.env.clipboard.writeText(run.id);
  vscode.window.setStatusBarMessage(`RunLens: copied ${run.id}`, 3000);
  return run.id;
}

