import * as os from 'node:os';
import * as vscode from 'vscode';
import { SOURCE_NAMES } from '../core/import/types';
import { visibleBidi } from '../core/safeText';
import type { IndexedRun } from '../core/index/runIndex';
import { reportVerdict } from '../core/reproduce/report';
import { userName } from '../core/identity';
import { pulledFrom } from '../core/share/pull';
import type { RunRecord } from '../core/runRecord';
import { formatAge, formatNumber, primaryMetric } from './format';
import { runFileUri } from './runFileSystem';
import type { RunsChange, WorkspaceRuns } from './workspaceRuns';

/**
 * How many runs a group shows before a "Show more" row, unless the setting says otherwise. VS Code
 * renders every child it is handed: 100,000 at once took seconds and the host's memory.
 */
const DEFAULT_PAGE_SIZE = 200;

export type RunsNode =
  | { kind: 'group'; label: string; runs: IndexedRun[] }
  | { kind: 'more'; group: string | null; shown: number; total: number }
  | { kind: 'run'; run: IndexedRun }
  | { kind: 'section'; run: IndexedRun; section: 'code' | 'params' | 'metrics' | 'reproductions' }
  | { kind: 'file'; run: IndexedRun; path: string; status: string; from?: string; head: string | null }
  | { kind: 'value'; label: string; description: string };

/** What a run's row shows: when it changes, the row is redrawn. */
function signature(run: IndexedRun): string {
  return `${run.name}|${run.status}|${run.exitCode}|${run.metrics.map((m) => `${m.key}=${m.last}/${m.count}`).join(',')}`;
}

/** A table cell cannot hold a line break or a bar, whatever a run called its metric. */
function cell(text: string): string {
  return text.replace(/[|\r\n]+/g, ' ');
}

const STATUS_ICON: Record<string, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  finished: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  killed: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground')),
  crashed: new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')),
};

const GROUP_ICON: Record<string, string> = { day: 'calendar', branch: 'git-branch', source: 'cloud-download', experiment: 'beaker' };

/** The group a run falls in: its branch, day, source (RunLens for recorded runs) or experiment. */
const LOCAL_USER = userName();

function groupKey(run: IndexedRun, groupBy: string): string {
  switch (groupBy) {
    case 'day':
      return (run.startedAt ?? '').slice(0, 10) || 'unknown day';
    case 'source':
      return run.source ? (SOURCE_NAMES[run.source.kind] ?? run.source.kind) : 'RunLens';
    case 'experiment':
      return run.source ? `${SOURCE_NAMES[run.source.kind] ?? run.source.kind}: ${run.source.experiment ?? '(no experiment)'}` : 'recorded by RunLens';
    default:
      return run.branch ?? (run.snapshot ? '(detached HEAD)' : run.source ? `(imported from ${SOURCE_NAMES[run.source.kind] ?? run.source.kind})` : '(no git)');
  }
}

/** The Runs view: runs grouped by branch, day, source or experiment (or not at all), newest first, live. */
export class RunsTree implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | RunsNode[] | undefined>();

  dispose(): void {
    this.changed.dispose();
  }
  readonly onDidChangeTreeData = this.changed.event;
  /** One node object per run, kept across refreshes, so a click on a row never meets a node the tree just threw away. */
  private readonly runNodes = new Map<string, Extract<RunsNode, { kind: 'run' }>>();
  private shape = '';
  /** How many runs each group shows (by label; the ungrouped list under ''), grown by Show More. */
  private readonly pages = new Map<string, number>();
  /** The runs that reproduce each run, made once per list of runs rather than searched per row. */
  private reproductions: { of: readonly IndexedRun[]; byOriginal: Map<string, IndexedRun[]> } | null = null;

  constructor(private readonly workspace: WorkspaceRuns) {}

  private pageSize(): number {
    const size = this.setting<number>('runs.pageSize', DEFAULT_PAGE_SIZE);
    return Number.isFinite(size) && size >= 1 ? Math.floor(size) : DEFAULT_PAGE_SIZE;
  }

  /** Show More on a group: the next page of its runs. */
  showMore(node: RunsNode): void {
    if (node.kind !== 'more') return;
    const key = node.group ?? '';
    this.pages.set(key, (this.pages.get(key) ?? this.pageSize()) + this.pageSize());
    this.changed.fire(undefined);
  }

  /** The first page of `runs` (as many as Show More asked for), then a Show More row for the rest. */
  private paged(runs: IndexedRun[], group: string | null): RunsNode[] {
    const limit = this.pages.get(group ?? '') ?? this.pageSize();
    if (runs.length <= limit) return runs.map((run) => this.runNode(run));
    const nodes: RunsNode[] = runs.slice(0, limit).map((run) => this.runNode(run));
    nodes.push({ kind: 'more', group, shown: limit, total: runs.length });
    return nodes;
  }

  private runNode(run: IndexedRun): Extract<RunsNode, { kind: 'run' }> {
    let node = this.runNodes.get(run.id);
    if (!node) this.runNodes.set(run.id, (node = { kind: 'run', run }));
    return node;
  }

  /**
   * Redraws the whole tree only when runs appear, go or move between groups;
   * a live run's new metrics redraw just its row (every second while it runs).
   */
  refresh(force = false, change: RunsChange = { runs: null, tick: false }): void {
    if (!force && change.runs) {
      // A live tick: the same runs in the same groups; only their rows can need a redraw.
      const changed: RunsNode[] = [];
      for (const id of change.runs) {
        const node = this.runNodes.get(id);
        const run = this.workspace.run(id);
        if (!node || !run || node.run === run) continue;
        if (signature(node.run) !== signature(run)) changed.push(node);
        node.run = run;
      }
      if (changed.length) this.changed.fire(changed);
      return;
    }
    const runs = this.workspace.runs();
    const groupBy = this.setting<string>('runs.groupBy', 'branch');
    const shape = `${groupBy}|${runs.map((r) => `${r.id}:${groupKey(r, groupBy)}:${r.reproduces ?? ''}`).join(',')}`;
    const changed: RunsNode[] = [];
    for (const run of runs) {
      const node = this.runNode(run);
      if (node.run !== run && signature(node.run) !== signature(run)) changed.push(node);
      node.run = run;
    }
    if (force || shape !== this.shape) {
      this.shape = shape;
      // A setting changed (the page size, the grouping): every group starts again at its first page.
      if (force) this.pages.clear();
      const present = new Set(runs.map((r) => r.id));
      for (const id of [...this.runNodes.keys()]) if (!present.has(id)) this.runNodes.delete(id);
      this.changed.fire(undefined);
    } else if (changed.length) {
      this.changed.fire(changed);
    }
  }

  private setting<T>(key: string, fallback: T): T {
    return vscode.workspace.getConfiguration('runlens', this.workspace.folder.uri).get<T>(key) ?? fallback;
  }

  /** A reproduction is shown under its original (when that is still here), not beside it. */
  private topLevelRuns(): IndexedRun[] {
    const runs = this.workspace.runs();
    const ids = new Set(runs.map((r) => r.id));
    return runs.filter((r) => !r.reproduces || !ids.has(r.reproduces));
  }

  private reproductionsOf(run: IndexedRun): IndexedRun[] {
    const runs = this.workspace.runs();
    if (this.reproductions?.of !== runs) {
      const byOriginal = new Map<string, IndexedRun[]>();
      for (const r of runs) if (r.reproduces) (byOriginal.get(r.reproduces) ?? byOriginal.set(r.reproduces, []).get(r.reproduces)!).push(r);
      this.reproductions = { of: runs, byOriginal };
    }
    return this.reproductions.byOriginal.get(run.id) ?? [];
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (!node) {
      const runs = this.topLevelRuns();
      const groupBy = this.setting<string>('runs.groupBy', 'branch');
      if (groupBy === 'none') return this.paged(runs, null);
      const groups = new Map<string, IndexedRun[]>();
      for (const run of runs) {
        const key = groupKey(run, groupBy);
        const group = groups.get(key);
        if (group) group.push(run);
        else groups.set(key, [run]);
      }
      return [...groups].map(([label, list]) => ({ kind: 'group', label, runs: list }));
    }
    switch (node.kind) {
      case 'group':
        return this.paged(node.runs, node.label);
      case 'run': {
        const sections: RunsNode[] = [];
        if (node.run.snapshot) sections.push({ kind: 'section', run: node.run, section: 'code' });
        sections.push({ kind: 'section', run: node.run, section: 'params' }, { kind: 'section', run: node.run, section: 'metrics' });
        if (this.reproductionsOf(node.run).length > 0) sections.push({ kind: 'section', run: node.run, section: 'reproductions' });
        return sections;
      }
      case 'section':
        return this.sectionChildren(node.run, node.section);
      default:
        return [];
    }
  }

  private record(run: IndexedRun): RunRecord | null {
    try {
      return this.workspace.record(run.id);
    } catch {
      return null;
    }
  }

  private sectionChildren(run: IndexedRun, section: 'code' | 'params' | 'metrics' | 'reproductions'): RunsNode[] {
    if (section === 'reproductions') return this.reproductionsOf(run).map((r) => this.runNode(r));
    if (section === 'metrics') {
      return run.metrics.map((m) => ({
        kind: 'value',
        label: m.key,
        description: `${formatNumber(m.last)}  (min ${formatNumber(m.min)}, max ${formatNumber(m.max)}, ${m.count} steps${m.nan ? `, ${m.nan} NaN` : ''})`,
      }));
    }
    const record = this.record(run);
    if (!record) return [{ kind: 'value', label: 'run.json cannot be read', description: '' }];
    if (section === 'params') {
      return Object.entries(record.params).map(([key, value]) => ({ kind: 'value', label: key, description: `${JSON.stringify(value)}  ${record.paramSources[key] ?? ''}` }));
    }
    const git = record.git!;
    return git.changes.map((c) => ({ kind: 'file', run, path: c.path, status: c.status, from: c.from, head: git.head }));
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'group': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.label}`;
        item.description = `${node.runs.length} run${node.runs.length === 1 ? '' : 's'}`;
        item.iconPath = new vscode.ThemeIcon(GROUP_ICON[this.setting<string>('runs.groupBy', 'branch')] ?? 'git-branch');
        item.contextValue = 'runlens.group';
        return item;
      }
      case 'run':
        return this.runItem(node.run);
      case 'more': {
        const next = Math.min(this.pageSize(), node.total - node.shown);
        const item = new vscode.TreeItem(`Show ${next.toLocaleString('en')} More`, vscode.TreeItemCollapsibleState.None);
        item.id = `more:${node.group ?? ''}:${node.shown}`;
        item.description = `${node.shown.toLocaleString('en')} of ${node.total.toLocaleString('en')} shown; filter to narrow them`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'runlens.showMoreRuns', title: 'Show More', arguments: [node] };
        item.contextValue = 'runlens.more';
        return item;
      }
      case 'section': {
        const labels = { code: 'Code', params: 'Params', metrics: 'Metrics', reproductions: 'Reproductions' };
        const item = new vscode.TreeItem(labels[node.section], vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `${node.run.id}:${node.section}`;
        if (node.section === 'code') {
          item.description = `${(node.run.head ?? node.run.snapshot ?? '').slice(0, 8)}${node.run.dirty ? ' + uncommitted changes' : ''}`;
          item.iconPath = new vscode.ThemeIcon('git-commit');
        } else if (node.section === 'reproductions') {
          item.iconPath = new vscode.ThemeIcon('debug-rerun');
          item.description = String(this.reproductionsOf(node.run).length);
          item.collapsibleState = vscode.TreeItemCollapsibleState.Expanded;
        } else {
          item.iconPath = new vscode.ThemeIcon(node.section === 'params' ? 'settings' : 'graph-line');
          if (node.section === 'metrics') item.description = String(node.run.metrics.length);
        }
        item.contextValue = `runlens.section.${node.section}`;
        return item;
      }
      case 'file': {
        const item = new vscode.TreeItem(vscode.Uri.file(node.path), vscode.TreeItemCollapsibleState.None);
        item.id = `${node.run.id}:file:${node.path}`;
        item.description = node.from ? `${node.status} ← ${node.from}` : node.status;
        const root = this.workspace.repoRoot ?? '/';
        item.resourceUri = runFileUri(root, node.run.id, node.path);
        const before = node.head && node.status !== 'A' ? runFileUri(root, node.head, node.from ?? node.path) : null;
        item.command =
          node.status === 'D' || !before
            ? { command: 'vscode.open', title: 'Open', arguments: [runFileUri(root, node.status === 'D' && node.head ? node.head : node.run.id, node.path)] }
            : { command: 'vscode.diff', title: 'Diff', arguments: [before, runFileUri(root, node.run.id, node.path), `${node.path} (HEAD ↔ ${node.run.name})`] };
        item.contextValue = 'runlens.changedFile';
        return item;
      }
      case 'value': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.description;
        item.tooltip = `${node.label} = ${node.description}`;
        return item;
      }
    }
  }

  /**
   * The tooltip reads run.json for the params, so it is built on hover, not
   * for every row: with 10,000 runs each redraw would read 10,000 files.
   */
  resolveTreeItem(item: vscode.TreeItem, node: RunsNode): vscode.TreeItem {
    if (node.kind === 'run') item.tooltip = this.tooltip(node.run);
    return item;
  }

  private runItem(run: IndexedRun): vscode.TreeItem {
    const item = new vscode.TreeItem(visibleBidi(run.name), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = run.id;
    const metric = primaryMetric(run, this.setting<string>('runs.primaryMetric', ''));
    // A reproduction says first whether it reproduced (its report, written when it ended).
    const verdict = run.reproduces ? (reportVerdict(this.workspace.storeDir, run.id) ?? (run.status === 'running' ? 'reproducing…' : 'no report')) : '';
    const source = run.source ? (SOURCE_NAMES[run.source.kind] ?? run.source.kind) : '';
    // A teammate's run (pulled, or recorded on another machine) says whose it is.
    const author = run.host && run.user && (run.host !== os.hostname() || run.user !== LOCAL_USER) ? `${run.user}@${run.host}` : '';
    item.description = [verdict, metric ? `${metric.key} ${formatNumber(metric.value)}` : '', source, author, formatAge(run.startedAt)].filter(Boolean).join(' · ');
    item.iconPath = STATUS_ICON[run.status] ?? new vscode.ThemeIcon('circle-outline');
    item.contextValue = `runlens.run.${run.snapshot ? 'git' : 'nogit'}.${run.status}`;
    item.accessibilityInformation = { label: `${visibleBidi(run.name)}, ${run.status}${metric ? `, ${metric.key} ${formatNumber(metric.value)}` : ''}` };
    return item;
  }

  private pulledFrom(run: IndexedRun): string | null {
    return pulledFrom(this.workspace.storeDir, run.id);
  }

  /** Run-provided strings go in with appendText, so they can never become links or markup. */
  private tooltip(run: IndexedRun): vscode.MarkdownString {
    const md = new vscode.MarkdownString();
    md.appendMarkdown('**').appendText(visibleBidi(run.name)).appendMarkdown(`** — ${run.status}`);
    if (run.exitCode !== null) md.appendMarkdown(` (exit ${run.exitCode})`);
    md.appendMarkdown('\n\n');
    if (run.startedAt) md.appendText(`started ${new Date(run.startedAt).toLocaleString()} (${formatAge(run.startedAt)})\n\n`);
    md.appendText(`by ${run.user ?? 'unknown'}@${run.host ?? 'unknown'}${this.pulledFrom(run) ? `, pulled from ${this.pulledFrom(run)}` : ''}\n\n`);
    const imported = run.source ? this.record(run)?.source : undefined;
    if (imported) {
      md.appendText(`imported from ${SOURCE_NAMES[imported.kind] ?? imported.kind} ${imported.path}, run ${imported.id}${imported.experiment ? `, experiment ${imported.experiment}` : ''}`);
      if (imported.missing) md.appendText(' (gone from its source)');
      else if (imported.deletedAtSource) md.appendText(' (deleted at its source)');
      md.appendMarkdown('\n\n');
    }
    if (run.snapshot) {
      md.appendText(`commit ${(run.head ?? 'none').slice(0, 12)}${run.dirty ? ' with uncommitted changes' : ''} on ${run.branch ?? 'a detached HEAD'}\n\n`);
    }
    if (run.metrics.length) {
      md.appendMarkdown('| metric | last | min | max |\n|---|---|---|---|\n');
      for (const m of run.metrics.slice(0, 12)) {
        md.appendMarkdown('| ').appendText(cell(m.key)).appendMarkdown(` | ${formatNumber(m.last)} | ${formatNumber(m.min)} | ${formatNumber(m.max)} |\n`);
      }
      md.appendMarkdown('\n');
    }
    const record = (() => {
      try {
        return this.workspace.record(run.id);
      } catch {
        return null;
      }
    })();
    const params = Object.entries(record?.params ?? {}).slice(0, 15);
    if (params.length) {
      md.appendMarkdown('| param | value |\n|---|---|\n');
      for (const [k, v] of params) md.appendMarkdown('| ').appendText(cell(k)).appendMarkdown(' | ').appendText(cell(JSON.stringify(v))).appendMarkdown(' |\n');
    }
    return md;
  }
}
