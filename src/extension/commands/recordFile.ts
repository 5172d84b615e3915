import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WorkspaceRuns } from '../workspaceRuns';
import { recordInTerminal } from './runCommands';
import { shellQuote } from './shellQuote';

/** The arguments each script was last recorded with, by its path in the workspace (workspace state). */
const FILE_ARGUMENTS = 'runlens.fileArguments';

/** A Python training script: a `__main__` block, or an import of runlens. */
const MAIN_GUARD = /^if\s+__name__\s*==\s*(['"])__main__\1\s*:/m;
const IMPORTS_RUNLENS = /^\s*(?:import\s+runlens\b|from\s+runlens\s+import\b)/m;

export function isTrainingScript(text: string): boolean {
  return MAIN_GUARD.test(text) || IMPORTS_RUNLENS.test(text);
}

function rememberedArguments(state: vscode.Memento, key: string): string | undefined {
  return state.get<Record<string, string>>(FILE_ARGUMENTS, {})[key];
}

function fileKey(ws: WorkspaceRuns, uri: vscode.Uri): string {
  return path.relative(ws.folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
}

/**
 * Record Run of This File: saves the script (the snapshot takes what is on
 * disk), asks for its arguments the first time (or when `askArguments`), and
 * records `python FILE ARGS` in the RunLens terminal. The interpreter is
 * `runlens.pythonInterpreter`.
 */
export async function recordFile(ws: WorkspaceRuns, state: vscode.Memento, target: vscode.Uri | undefined, askArguments: boolean): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('RunLens does not start runs in an untrusted workspace. Trust the workspace to record training runs.');
    return undefined;
  }
  const uri = target instanceof vscode.Uri ? target : vscode.window.activeTextEditor?.document.uri;
  if (!uri || uri.scheme !== 'file') {
    void vscode.window.showInformationMessage('RunLens: open the Python script to record first.');
    return undefined;
  }
  const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (document?.isDirty) await document.save();
  const key = fileKey(ws, uri);
  let args = rememberedArguments(state, key);
  if (args === undefined || askArguments) {
    args = await vscode.window.showInputBox({
      title: `RunLens: Record Run of ${path.basename(uri.fsPath)}`,
      prompt: 'Arguments for the script, as you would type them (empty for none); remembered for this file',
      value: args ?? '',
      placeHolder: '--lr 0.01 --epochs 10',
    });
    if (args === undefined) return undefined;
    await state.update(FILE_ARGUMENTS, { ...state.get<Record<string, string>>(FILE_ARGUMENTS, {}), [key]: args.trim() });
  }
  const python = vscode.workspace.getConfiguration('runlens', ws.folder.uri).get<string>('pythonInterpreter') || 'python3';
  const script = key.startsWith('..') || path.isAbsolute(key) ? uri.fsPath : key;
  return recordInTerminal(ws, [shellQuote(python), shellQuote(script), args.trim()].filter(Boolean).join(' '));
}

/** "Record Run" and the remembered arguments above a training script's `__main__` block (or its first line). */
export class TrainingScriptLenses implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(
    private readonly ws: WorkspaceRuns,
    private readonly state: vscode.Memento,
  ) {}

  /** The remembered arguments changed: the lenses show the new ones. */
  refresh(): void {
    this.changed.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.getConfiguration('runlens', document.uri).get<boolean>('codeLens.recordRun', true)) return [];
    const text = document.getText();
    if (!isTrainingScript(text)) return [];
    const match = MAIN_GUARD.exec(text);
    const line = match ? document.positionAt(match.index).line : 0;
    const range = new vscode.Range(line, 0, line, 0);
    const args = rememberedArguments(this.state, fileKey(this.ws, document.uri));
    return [
      new vscode.CodeLens(range, { title: '$(record) Record Run', tooltip: 'Record a run of this script with runlens run', command: 'runlens.recordFile', arguments: [document.uri] }),
      new vscode.CodeLens(range, {
        title: args ? `args: ${args.length > 60 ? `${args.slice(0, 57)}…` : args}` : 'args…',
        tooltip: 'Change the arguments this script is recorded with',
        command: 'runlens.recordFileWithArguments',
        arguments: [document.uri],
      }),
    ];
  }

  dispose(): void {
    this.changed.dispose();
  }
}
