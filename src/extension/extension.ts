import * as path from 'node:path';
import * as vscode from 'vscode';
import { visibleBidi } from '../core/safeText';
import { deleteRun } from '../core/store';
import { compareRuns, compareWithWorkspace, openCommit, openFileAtRun } from './commands/codeCommands';
import { importRunsCommand } from './commands/importCommand';
import { recordFile, TrainingScriptLenses } from './commands/recordFile';
import { exportVersionCommand, registerModel, rollbackAlias, setAlias, showAliasHistory } from './commands/modelCommands';
import { reproduceRunCommand } from './commands/reproduceCommand';
import { copyRunId, deleteRunCommand, filterRuns, runTraining } from './commands/runCommands';
import { pullOnFocus, pullTeamRuns, pushTeamRuns } from './commands/shareCommands';
import { runFromTarget, type CommandTarget } from './commands/targets';
import { diffFileWithRun, showRunsOfFile } from './code/fileRunsCommand';
import { LineAnnotations } from './code/lineAnnotations';
import { PARAM_HOVER_SELECTOR, ParamHovers } from './code/paramHover';
import { ScriptRunsLenses } from './code/runsLens';
import { DOC_SCHEME, RunLensDocuments } from './documents';
import { HOST_LOAD_ENV, logHostLoad, markHostMoment } from './hostLoad';
import { ImportOffer } from './importOffer';
import { ModelsTree, type ModelsNode } from './modelsTree';
import { COMPARE_VIEW_TYPE, ComparePanel } from './panels/comparePanel';
import { TABLE_VIEW_TYPE, TablePanel } from './panels/tablePanel';
import { RUN_SCHEME, RunFileSystem } from './runFileSystem';
import { RunsTree, type RunsNode } from './runsTree';
import { RunLensLog } from './log';
import { RunningStatus } from './statusBar';
import { cliEnvironment, RunLensTaskProvider, TASK_TYPE } from './tasks';
import { WorkspaceRuns } from './workspaceRuns';

/** What tests (and other extensions) can reach. */
export interface RunLensApi {
  workspace: WorkspaceRuns;
  comparePanels: () => ComparePanel[];
  runsTree: RunsTree;
  modelsTree: ModelsTree;
  status: RunningStatus;
  /** The run annotations of the active editor, as last drawn. */
  lineAnnotations: LineAnnotations;
  /** Deletes a run without asking: for callers that asked already (and the tests), never reachable from a command. */
  deleteRun: (id: string) => Promise<void>;
}

/**
 * Activation stays cheap: it finds the repository (one git call) and wires the
 * views; the index is opened on the first refresh. Errors surface as a message
 * rather than a silently empty sidebar.
 */
export async function activate(context: vscode.ExtensionContext): Promise<RunLensApi | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return undefined;
  markHostMoment('activate');
  let ws: WorkspaceRuns;
  try {
    ws = await WorkspaceRuns.create(folder);
  } catch (err) {
    void vscode.window.showErrorMessage(`RunLens could not start: ${(err as Error).message}`);
    throw err;
  }
  const log = new RunLensLog();
  ws.log = log;
  const runsTree = new RunsTree(ws);
  const modelsTree = new ModelsTree(ws);
  const status = new RunningStatus(ws);
  const runsView = vscode.window.createTreeView('runlens.runs', { treeDataProvider: runsTree, canSelectMany: true, showCollapseAll: true });
  const modelsView = vscode.window.createTreeView('runlens.models', { treeDataProvider: modelsTree, showCollapseAll: true });
  markHostMoment('views registered');
  const firstRuns = ws.onDidChange(() => {
    if (!ws.runs().length) return;
    markHostMoment('runs listed');
    firstRuns.dispose();
  });

  // The runlens CLI in every integrated terminal, run by the editor's own runtime.
  const env = context.environmentVariableCollection;
  env.description = 'Puts the `runlens` command on PATH';
  env.prepend('PATH', path.join(context.extensionPath, 'terminal-bin') + path.delimiter);
  for (const [name, value] of Object.entries(cliEnvironment(context.extensionPath))) env.replace(name, value);
  const lenses = new TrainingScriptLenses(ws, context.workspaceState);
  const runLenses = new ScriptRunsLenses(ws);
  const lineAnnotations = new LineAnnotations(ws);

  const command = (id: string, run: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, run as (...args: unknown[]) => unknown);
  const runFileSystem = new RunFileSystem(() => ws);
  context.subscriptions.push(
    log,
    ws,
    runsTree,
    modelsTree,
    runFileSystem,
    { dispose: () => ComparePanel.disposeAll() },
    status,
    runsView,
    modelsView,
    firstRuns,
    ws.onDidChange((change) => {
      runsTree.refresh(false, change);
      // A live run's tick changes no version: the Models view reads the registry again on the other refreshes.
      if (!change.tick) modelsTree.refresh();
      status.update();
    }),
    vscode.workspace.registerFileSystemProvider(RUN_SCHEME, runFileSystem, { isReadonly: true, isCaseSensitive: true }),
    vscode.workspace.registerTextDocumentContentProvider(DOC_SCHEME, new RunLensDocuments(() => ws)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('runlens.runs')) runsTree.refresh(true);
    }),
    command('runlens.refresh', () => ws.refresh()),
    command('runlens.showMoreRuns', (node: RunsNode) => runsTree.showMore(node)),
    command('runlens.importRuns', (uri?: vscode.Uri, uris?: vscode.Uri[]) => importRunsCommand(ws, uris && uris.length ? uris : uri instanceof vscode.Uri ? [uri] : undefined)),
    command('runlens.runTraining', (cmd?: string) => runTraining(ws, context.workspaceState, typeof cmd === 'string' ? cmd : undefined)),
    lenses,
    vscode.languages.registerCodeLensProvider({ language: 'python', scheme: 'file' }, lenses),
    runLenses,
    vscode.languages.registerCodeLensProvider([{ scheme: 'file', language: 'python' }, { scheme: 'file', language: 'shellscript' }], runLenses),
    vscode.languages.registerHoverProvider(PARAM_HOVER_SELECTOR, new ParamHovers(ws)),
    lineAnnotations,
    command('runlens.toggleLineAnnotations', () => lineAnnotations.toggle()),
    command('runlens.runsOfFile', (uri?: vscode.Uri) => showRunsOfFile(ws, (ids) => ComparePanel.show(context.extensionUri, ws, ids), uri)),
    command('runlens.diffFileWithRun', (runId: unknown, file: unknown) => diffFileWithRun(ws, runId, file)),
    vscode.tasks.registerTaskProvider(TASK_TYPE, new RunLensTaskProvider(context.extensionPath)),
    command('runlens.pullRuns', () => pullTeamRuns(ws)),
    command('runlens.pushRuns', () => pushTeamRuns(ws)),
    pullOnFocus(ws),
    command('runlens.recordFile', (uri?: vscode.Uri) => recordFile(ws, context.workspaceState, uri, false).finally(() => lenses.refresh())),
    command('runlens.recordFileWithArguments', (uri?: vscode.Uri) => recordFile(ws, context.workspaceState, uri, true).finally(() => lenses.refresh())),
    command('runlens.filterRuns', (text?: string) => filterRuns(ws, runsView, typeof text === 'string' ? text : undefined)),
    command('runlens.clearFilter', () => filterRuns(ws, runsView, '')),
    command('runlens.openFileAtRun', (t: CommandTarget) => openFileAtRun(ws, t)),
    command('runlens.compareWithWorkspace', (t: CommandTarget) => compareWithWorkspace(ws, t)),
    command('runlens.compareRuns', (t: CommandTarget, selection?: RunsNode[]) => compareRuns(ws, t, selection)),
    command('runlens.reproduceRun', (t: CommandTarget) => reproduceRunCommand(ws, context.extensionUri, t)),
    command('runlens.showRun', async (t: CommandTarget) => {
      const run = await runFromTarget(ws, t, 'Show which run?');
      return run ? ComparePanel.show(context.extensionUri, ws, [run.id]) : undefined;
    }),
    command('runlens.showTable', (filter?: { where?: unknown }) =>
      TablePanel.show(context.extensionUri, ws, context.workspaceState, filter && typeof filter.where === 'string' ? filter.where : undefined),
    ),
    vscode.window.registerWebviewPanelSerializer(TABLE_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => {
        TablePanel.revive(panel, context.extensionUri, ws, context.workspaceState);
      },
    }),
    // The title-bar button passes nothing: it compares what is selected in the view.
    command('runlens.compareRunsPanel', (t?: CommandTarget | string[], selection?: RunsNode[]) =>
      openComparePanel(context.extensionUri, ws, t, selection ?? (t === undefined ? [...runsView.selection] : undefined)),
    ),
    vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: { runIds?: string[] } | undefined) => {
        ComparePanel.revive(panel, context.extensionUri, ws, state?.runIds ? { runIds: state.runIds } : undefined);
      },
    }),
    command('runlens.openCommit', (t: CommandTarget) => openCommit(ws, t)),
    command('runlens.copyRunId', (t: CommandTarget) => copyRunId(ws, t)),
    command('runlens.deleteRun', (t: CommandTarget) => deleteRunCommand(ws, t)),
    command('runlens.registerModel', (t: CommandTarget, choices?: { model?: string; artifact?: string }) => registerModel(ws, t, choices && typeof choices === 'object' && !('kind' in choices) ? choices : {})),
    command('runlens.setAlias', (node: ModelsNode, alias?: string) => setAlias(ws, node as Extract<ModelsNode, { kind: 'version' }>, typeof alias === 'string' ? alias : undefined)),
    command('runlens.rollbackAlias', (node: ModelsNode, alias?: string) => rollbackAlias(ws, node, typeof alias === 'string' ? alias : undefined)),
    command('runlens.showAliasHistory', (node: ModelsNode) => showAliasHistory(ws, node)),
    command('runlens.exportVersion', (node?: ModelsNode, into?: vscode.Uri) => exportVersionCommand(ws, node, into instanceof vscode.Uri ? into : undefined)),
    command('runlens.openCliDocs', () => vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.joinPath(context.extensionUri, 'README.md'))),
  );
  const hostLoadFile = process.env[HOST_LOAD_ENV];
  if (hostLoadFile) context.subscriptions.push(logHostLoad(hostLoadFile));
  const imports = new ImportOffer(ws, context.workspaceState);
  context.subscriptions.push(imports);
  imports.start();
  await vscode.commands.executeCommand('setContext', 'runlens.hasFilter', false);
  void ws.refresh().catch((err: Error) => void vscode.window.showErrorMessage(`RunLens could not read the runs in ${ws.describe()}: ${err.message}`));
  const deleteWithoutAsking = async (id: string) => {
    await deleteRun(ws.storeDir, ws.record(id));
    await ws.refresh();
  };
  return { workspace: ws, runsTree, modelsTree, status, lineAnnotations, comparePanels: () => ComparePanel.panels(), deleteRun: deleteWithoutAsking };
}

/** Compare Runs: the selected runs, the ids given, or as many as the user picks; no cap. */
async function openComparePanel(extensionUri: vscode.Uri, ws: WorkspaceRuns, target?: CommandTarget | string[], selection?: RunsNode[]): Promise<ComparePanel | undefined> {
  let ids: string[] = [];
  if (Array.isArray(target)) ids = target;
  else if (selection && (selection.length > 1 || selection[0]?.kind === 'group')) {
    ids = [...new Set(selection.flatMap((n) => (n.kind === 'run' ? [n.run.id] : n.kind === 'group' ? n.runs.map((r) => r.id) : [])))];
  }
  else if (target && typeof target === 'object' && target.kind === 'group') ids = target.runs.map((r) => r.id);
  if (ids.length < 2) {
    await ws.refresh();
    const picked = await vscode.window.showQuickPick(
      ws.runs().map((r) => ({ label: visibleBidi(r.name), description: `${r.status} · ${r.id.slice(0, 12)}`, id: r.id, picked: ids.includes(r.id) })),
      { canPickMany: true, placeHolder: 'Compare which runs? (any number)' },
    );
    if (!picked || picked.length === 0) return undefined;
    ids = picked.map((p) => p.id);
  }
  return ComparePanel.show(extensionUri, ws, ids);
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions; the index is saved by WorkspaceRuns.dispose.
}
