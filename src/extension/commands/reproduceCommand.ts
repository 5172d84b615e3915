import { Writable } from 'node:stream';
import * as vscode from 'vscode';
import { describeReport } from '../../core/reproduce/describeReport';
import { ReproductionRefused, reproduceRun, type ReproduceResult } from '../../core/reproduce/reproduce';
import { DEFAULT_TOLERANCE } from '../../core/reproduce/report';
import { safeText } from '../../core/safeText';
import { ComparePanel } from '../panels/comparePanel';
import type { WorkspaceRuns } from '../workspaceRuns';
import { runFromTarget, type CommandTarget } from './targets';

/**
 * Reproduce Run: the same as `runlens reproduce`, in a terminal of its own
 * (the command's output, then the report), and when it ends the two runs side
 * by side in Compare, with the report on top.
 */
export async function reproduceRunCommand(ws: WorkspaceRuns, extensionUri: vscode.Uri, target: CommandTarget): Promise<ReproduceResult | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('RunLens does not run code in an untrusted workspace. Trust the workspace to reproduce a run.');
    return undefined;
  }
  const run = await runFromTarget(ws, target, 'Reproduce which run?');
  if (!run) return undefined;
  const settings = vscode.workspace.getConfiguration('runlens.reproduce', ws.folder.uri);
  const tolerance = {
    relative: settings.get<number>('relativeTolerance') ?? DEFAULT_TOLERANCE.relative,
    absolute: settings.get<number>('absoluteTolerance') ?? DEFAULT_TOLERANCE.absolute,
  };

  const output = new vscode.EventEmitter<string>();
  // Closing the terminal stops the run; the worktree is removed all the same.
  const abort = new AbortController();
  let opened!: () => void;
  const whenOpen = new Promise<void>((resolve) => (opened = resolve));
  const terminal = vscode.window.createTerminal({
    name: `RunLens: reproduce ${run.name}`,
    iconPath: new vscode.ThemeIcon('debug-rerun'),
    pty: {
      onDidWrite: output.event,
      open: () => opened(),
      close: () => {
        abort.abort();
        output.dispose();
      },
    },
  });
  terminal.show(true);
  await whenOpen;
  const write = (text: string) => output.fire(text.replace(/\r?\n/g, '\r\n'));
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      write(chunk.toString('utf8'));
      done();
    },
  });

  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `RunLens: reproducing ${run.name}` },
      () =>
        reproduceRun({
          storeDir: ws.storeDir,
          runId: run.id,
          signal: abort.signal,
          strict: settings.get<boolean>('strictData') ?? false,
          tolerance,
          stdout: stream,
          stderr: stream,
          pythonHelperDir: vscode.Uri.joinPath(extensionUri, 'python').fsPath,
          say: (text) => write(`runlens: ${safeText(text)}\n`),
        }),
    );
    write(`\n${describeReport(result.report, { original: result.original.name, reproduction: result.record.name })}`);
    await ws.refresh();
    ComparePanel.show(extensionUri, ws, [result.original.id, result.record.id]);
    return result;
  } catch (err) {
    const message = err instanceof ReproductionRefused ? `cannot reproduce: ${err.message}` : (err as Error).message;
    write(`runlens: ${safeText(message)}\n`);
    void vscode.window.showErrorMessage(`RunLens: ${message}`);
    return undefined;
  }
}
