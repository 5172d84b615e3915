import * as vscode from 'vscode';
import { foldEvents, type Model, type ModelVersion } from '../core/registry/events';
import { formatAge, formatNumber } from './format';
import type { WorkspaceRuns } from './workspaceRuns';

export type ModelsNode =
  | { kind: 'model'; model: Model }
  | { kind: 'version'; model: string; version: ModelVersion }
  | { kind: 'detail'; model: string; version: ModelVersion; detail: 'run' | 'commit' | 'artifact' };

/** The Models view: model → versions (aliases as badges) → the version's run, commit and artifact. */
export class ModelsTree implements vscode.TreeDataProvider<ModelsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ModelsNode | undefined>();

  dispose(): void {
    this.changed.dispose();
  }
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly workspace: WorkspaceRuns) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: ModelsNode): ModelsNode[] {
    if (!node) {
      const { events, problems } = this.workspace.registry.read();
      for (const p of problems) console.warn(`RunLens: ${p}`);
      return [...foldEvents(events).values()].map((model) => ({ kind: 'model', model }));
    }
    if (node.kind === 'model') return [...node.model.versions].reverse().map((version) => ({ kind: 'version', model: node.model.name, version }));
    if (node.kind === 'version') {
      const details: ModelsNode[] = [{ kind: 'detail', model: node.model, version: node.version, detail: 'run' }];
      if (node.version.snapshot) details.push({ kind: 'detail', model: node.model, version: node.version, detail: 'commit' });
      details.push({ kind: 'detail', model: node.model, version: node.version, detail: 'artifact' });
      return details;
    }
    return [];
  }

  getTreeItem(node: ModelsNode): vscode.TreeItem {
    if (node.kind === 'model') {
      const item = new vscode.TreeItem(node.model.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `model:${node.model.name}`;
      const aliases = Object.entries(node.model.aliases).map(([a, v]) => `${a} v${v}`);
      item.description = [`${node.model.versions.length} version${node.model.versions.length === 1 ? '' : 's'}`, ...aliases].join(' · ');
      item.iconPath = new vscode.ThemeIcon('package');
      item.contextValue = 'runlens.model';
      return item;
    }
    const v = node.version;
    if (node.kind === 'version') {
      const item = new vscode.TreeItem(`v${v.version}`, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `model:${node.model}:v${v.version}`;
      const metrics = Object.entries(v.metrics).slice(0, 2).map(([k, x]) => `${k} ${formatNumber(x)}`);
      item.description = [...v.aliases.map((a) => `● ${a}`), ...metrics, formatAge(v.at)].join(' · ');
      item.iconPath = new vscode.ThemeIcon(v.aliases.length ? 'tag' : 'versions');
      item.contextValue = 'runlens.version';
      const md = new vscode.MarkdownString();
      md.appendMarkdown(`**`).appendText(`${node.model} v${v.version}`).appendMarkdown(`**\n\n`);
      md.appendText(`registered by ${v.who} ${formatAge(v.at)} from run ${v.runId}\n\n`);
      if (v.aliases.length) md.appendText(`aliases: ${v.aliases.join(', ')}\n\n`);
      md.appendText(`artifact ${v.artifact.path} (sha256 ${v.artifact.sha256 ?? '?'})`);
      item.tooltip = md;
      return item;
    }
    const item = new vscode.TreeItem('', vscode.TreeItemCollapsibleState.None);
    item.id = `model:${node.model}:v${v.version}:${node.detail}`;
    if (node.detail === 'run') {
      let name = v.runId;
      try {
        name = this.workspace.record(v.runId).name;
      } catch {
        name = `${v.runId} (run folder gone)`;
      }
      item.label = `Run: ${name}`;
      item.description = v.runId.slice(0, 12);
      item.iconPath = new vscode.ThemeIcon('beaker');
      item.command = { command: 'runlens.openFileAtRun', title: 'Open File at Run', arguments: [node] };
    } else if (node.detail === 'commit') {
      item.label = `Commit ${v.snapshot!.slice(0, 8)}`;
      item.description = 'snapshot of the code that produced it';
      item.iconPath = new vscode.ThemeIcon('git-commit');
      item.command = { command: 'runlens.openCommit', title: 'Open Commit', arguments: [node] };
    } else {
      item.label = `Artifact ${v.artifact.path}`;
      item.description = `sha256 ${v.artifact.sha256?.slice(0, 12) ?? '?'}…`;
      item.tooltip = `sha256 ${v.artifact.sha256 ?? 'unknown'}, ${v.artifact.size} bytes`;
      item.iconPath = new vscode.ThemeIcon('file-binary');
    }
    return item;
  }
}
