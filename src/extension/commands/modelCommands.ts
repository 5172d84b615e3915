import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExportRefused, exportVersion } from '../../core/registry/exportVersion';
import type { AliasSetEvent, RegisterEvent } from '../../core/registry/events';
import { RegistryError } from '../../core/registry/registry';
import { historyDocUri } from '../documents';
import type { ModelsNode } from '../modelsTree';
import type { WorkspaceRuns } from '../workspaceRuns';
import { runFromTarget, type CommandTarget } from './targets';

function explain(err: unknown): undefined {
  void vscode.window.showErrorMessage(`RunLens: ${err instanceof RegistryError ? err.message : String(err)}`);
  return undefined;
}

export interface RegisterChoices {
  model?: string;
  artifact?: string;
}

/** Register Model Version…: a finished run's artifact becomes the next version of a model. */
export async function registerModel(ws: WorkspaceRuns, target: CommandTarget, choices: RegisterChoices = {}): Promise<RegisterEvent | undefined> {
  const run = await runFromTarget(ws, target, 'Register the model of which run?');
  if (!run) return undefined;
  let artifact = choices.artifact;
  const recorded = run.artifacts.filter((a) => a.kind !== 'missing' && !a.stale);
  if (!artifact && recorded.length > 1) {
    artifact = (await vscode.window.showQuickPick(recorded.map((a) => ({ label: a.path, description: `sha256 ${a.sha256?.slice(0, 12)}… · ${a.size} bytes` })), { placeHolder: 'Which artifact is the model?' }))?.label;
    if (!artifact) return undefined;
  } else if (!artifact && recorded.length === 0) {
    artifact = await vscode.window.showInputBox({ title: 'RunLens: Register Model Version', prompt: `Run "${run.name}" declared no artifact. The model file, relative to ${run.cwd}:` });
    if (!artifact) return undefined;
  }
  let model = choices.model;
  if (!model) {
    const existing = [...ws.registry.models().values()];
    const NEW = '$(add) New model…';
    const picked = existing.length
      ? (await vscode.window.showQuickPick([...existing.map((m) => ({ label: m.name, description: `${m.versions.length} versions` })), { label: NEW, description: '' }], { placeHolder: 'A version of which model?' }))?.label
      : NEW;
    if (!picked) return undefined;
    model = picked === NEW ? await vscode.window.showInputBox({ title: 'RunLens: New Model', prompt: 'The model name (letters, digits, . _ - /)' }) : picked;
    if (!model) return undefined;
  }
  try {
    const event = ws.registry.register(model, run, artifact);
    void vscode.window.showInformationMessage(`RunLens: registered ${model} v${event.version} from run "${run.name}".`);
    await ws.refresh();
    return event;
  } catch (err) {
    return explain(err);
  }
}

type VersionNode = Extract<ModelsNode, { kind: 'version' }>;

/** Set Alias…: production, staging or any name; moving an alias away from a version says so. */
export async function setAlias(ws: WorkspaceRuns, node: VersionNode | undefined, alias?: string): Promise<AliasSetEvent | undefined> {
  if (node?.kind !== 'version') return explain('choose a model version in the Models view');
  const model = ws.registry.models().get(node.model);
  if (!alias) {
    const OTHER = 'Other…';
    const items = [...new Set(['production', 'staging', ...Object.keys(model?.aliases ?? {})])].map((a) => ({
      label: a,
      description: model?.aliases[a] !== undefined ? `now v${model.aliases[a]}` : 'not set',
    }));
    const picked = (await vscode.window.showQuickPick([...items, { label: OTHER, description: '' }], { placeHolder: `Point which alias at ${node.model} v${node.version.version}?` }))?.label;
    alias = picked === OTHER ? await vscode.window.showInputBox({ prompt: 'Alias name (letters, digits, . _ -)' }) : picked;
    if (!alias) return undefined;
  }
  try {
    const event = ws.registry.setAlias(node.model, alias, node.version.version);
    void vscode.window.showInformationMessage(
      event.previous === null ? `RunLens: ${alias} → ${node.model} v${event.version}.` : `RunLens: ${alias} moved from ${node.model} v${event.previous} to v${event.version}.`,
    );
    await ws.refresh();
    return event;
  } catch (err) {
    return explain(err);
  }
}

/** Roll Back Alias…: to the version it pointed at before its last move. */
export async function rollbackAlias(ws: WorkspaceRuns, node: ModelsNode | undefined, alias?: string): Promise<AliasSetEvent | undefined> {
  const name = node?.kind === 'model' ? node.model.name : node?.kind === 'version' || node?.kind === 'detail' ? node.model : undefined;
  if (!name) return explain('choose a model in the Models view');
  const model = ws.registry.models().get(name);
  const aliases = Object.keys(model?.aliases ?? {});
  if (!alias) {
    if (aliases.length === 0) return explain(`${name} has no alias to roll back`);
    alias = aliases.length === 1 ? aliases[0] : (await vscode.window.showQuickPick(aliases.map((a) => ({ label: a, description: `now v${model!.aliases[a]}` })), { placeHolder: 'Roll back which alias?' }))?.label;
    if (!alias) return undefined;
  }
  try {
    const event = ws.registry.rollback(name, alias);
    void vscode.window.showInformationMessage(`RunLens: rolled ${alias} of ${name} back from v${event.previous} to v${event.version}.`);
    await ws.refresh();
    return event;
  } catch (err) {
    return explain(err);
  }
}

/** Show Alias History: the audit log, who moved which alias from which version to which, and when. */
export async function showAliasHistory(ws: WorkspaceRuns, node: ModelsNode | undefined): Promise<vscode.Uri | undefined> {
  const name = node?.kind === 'model' ? node.model.name : node?.kind === 'version' ? node.model : [...ws.registry.models().keys()][0];
  if (!name) return explain('no model is registered yet');
  const uri = historyDocUri(name);
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
  return uri;
}


/**
 * Export Version…: the version with everything it depends on, into a folder
 * the user picks (a new folder in it, named after the version), with
 * progress; then the exported folder can open in a new window.
 */
export async function exportVersionCommand(ws: WorkspaceRuns, node: ModelsNode | undefined, into?: vscode.Uri): Promise<string | undefined> {
  if (node?.kind !== 'version') {
    void vscode.window.showInformationMessage('RunLens: choose a model version in the Models view to export it.');
    return undefined;
  }
  const spec = `${node.model}/${node.version.version}`;
  const parent =
    into ??
    (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Export Here', title: `RunLens: Export ${node.model} v${node.version.version} into…` }))?.[0];
  if (!parent) return undefined;
  const to = path.join(parent.fsPath, `${node.model.replace(/[\\/]/g, '-')}-v${node.version.version}`);
  try {
    const { dir, manifest } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `RunLens: exporting ${node.model} v${node.version.version}…` },
      () => exportVersion(ws.storeDir, spec, { to }, ws.repoRoot),
    );
    const OPEN = 'Open in New Window';
    void vscode.window
      .showInformationMessage(`RunLens: exported ${manifest.model} v${manifest.version} to ${dir} (artifact, code, requirements.txt, Dockerfile, MANIFEST.json).`, OPEN)
      .then((choice) => (choice === OPEN && dir ? vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(dir), { forceNewWindow: true }) : undefined));
    return dir ?? undefined;
  } catch (err) {
    void vscode.window.showErrorMessage(`RunLens: ${err instanceof ExportRefused || err instanceof RegistryError ? err.message : String(err)}`);
    return undefined;
  }
}
