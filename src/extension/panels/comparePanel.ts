import * as path from 'node:path';
import { visibleBidi } from '../../core/safeText';
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import type { CodeRow, CompareState, HostMessage, RunDetail, WebviewMessage } from '../../../webview/compare/protocol';
import { buildComparison } from '../../core/compare';
import { execGit, splitNul } from '../../core/git/gitClient';
import { readSnapshotFile } from '../../core/git/snapshotFiles';
import type { MetricsSummary, RunRecord } from '../../core/runRecord';
import { readReport, type ReproductionReport } from '../../core/reproduce/report';
import { runDir } from '../../core/store';
import { materializeImportedSeries } from '../../core/import/importRuns';
import { SeriesPool } from '../../core/series/seriesPool';
import { runFileUri } from '../runFileSystem';
import type { RunsChange, WorkspaceRuns } from '../workspaceRuns';
import { panelOptions, panelPage } from './webviewPage';

export const COMPARE_VIEW_TYPE = 'runlens.compare';

/**
 * Compare Runs: any number of runs side by side, beside the code. The host
 * does the heavy lifting (the comparison, bucketing series to the chart's
 * width) and sends data by postMessage only; the page renders it as text.
 */
export class ComparePanel implements vscode.Disposable {
  private static readonly open = new Set<ComparePanel>();
  /** Series are read on worker threads shared by all panels; they stop after a while without work. */
  private static pool: SeriesPool | undefined;

  private static seriesPool(extensionUri: vscode.Uri): SeriesPool {
    return (ComparePanel.pool ??= new SeriesPool(vscode.Uri.joinPath(extensionUri, 'dist', 'seriesWorker.js').fsPath));
  }

  /** For deactivation: stops the workers. */
  static disposeAll(): void {
    for (const panel of [...ComparePanel.open]) panel.dispose();
    ComparePanel.pool?.dispose();
    ComparePanel.pool = undefined;
  }
  private readonly disposables: vscode.Disposable[] = [];
  private records: RunRecord[] = [];

  static show(extensionUri: vscode.Uri, ws: WorkspaceRuns, runIds: string[]): ComparePanel {
    const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'Compare Runs', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, panelOptions(extensionUri));
    return new ComparePanel(panel, extensionUri, ws, runIds);
  }

  /** A panel VS Code restored after a reload, with the runs it showed. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, ws: WorkspaceRuns, state: CompareState | undefined): ComparePanel {
    panel.webview.options = panelOptions(extensionUri);
    return new ComparePanel(panel, extensionUri, ws, state?.runIds ?? []);
  }

  static panels(): ComparePanel[] {
    return [...ComparePanel.open];
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly ws: WorkspaceRuns,
    public runIds: string[],
  ) {
    ComparePanel.open.add(this);
    this.records = this.loadRecords();
    panel.title =
      this.records.length === 1 ? `Run: ${visibleBidi(this.records[0]!.name)}` : this.records.length <= 3 ? `Compare: ${this.records.map((r) => visibleBidi(r.name)).join(', ')}` : `Compare ${this.records.length} runs`;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'runlens.svg');
    panel.webview.html = this.html();
    // The workers start while the page loads; its first request then finds them ready.
    ComparePanel.seriesPool(extensionUri).warm();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: WebviewMessage) => void this.onMessage(m).catch((err: Error) => this.post({ type: 'error', requestId: null, message: err.message }))),
      panel.onDidDispose(() => this.dispose()),
      ws.onDidChange((change) => this.followLiveRuns(change)),
    );
  }

  private wasLive = false;

  /**
   * While any shown run is running, each refresh of the workspace (every second
   * then) sends what changed: metric rows, statuses, the stdout tail. The page
   * keeps its tables and zoom and asks for fresh series.
   */
  private followLiveRuns(change: RunsChange): void {
    if (!this.ready) return;
    const live = this.runIds.some((id) => this.ws.run(id)?.status === 'running');
    if (!live && !this.wasLive) return;
    this.wasLive = live;
    // A live tick names the runs that changed: only their run.json files are read again.
    const changed = change.runs ? new Set(change.runs) : null;
    if (changed && !this.runIds.some((id) => changed.has(id))) return;
    this.records = this.loadRecords(changed);
    const comparison = buildComparison(this.withLiveMetrics(this.records));
    this.post({ type: 'live', runs: comparison.runs, metrics: comparison.metrics, detail: this.detail() });
  }

  /** A run still running has no summary in run.json yet: the index follows its metrics file. */
  private withLiveMetrics(records: RunRecord[]): RunRecord[] {
    return records.map((record) => {
      if (record.metricsSummary) return record;
      const indexed = this.ws.run(record.id);
      if (!indexed) return record;
      const summary: MetricsSummary = { lines: 0, lastStep: null, metrics: {}, malformed: 0, malformedSamples: [] };
      for (const m of indexed.metrics) summary.metrics[m.key] = { last: m.last, min: m.min, max: m.max, count: m.count, nan: m.nan, lastStep: m.lastStep ?? 0 };
      return { ...record, status: indexed.status, metricsSummary: summary };
    });
  }

  /** Everything about a single run (the detail view); null when several are compared. */
  private detail(): RunDetail | null {
    if (this.records.length !== 1) return null;
    const r = this.records[0]!;
    let stdoutTail = '';
    try {
      const file = path.join(runDir(this.ws.storeDir, r.id), 'stdout.log');
      const size = fs.statSync(file).size;
      const fd = fs.openSync(file, 'r');
      try {
        const length = Math.min(size, 16 * 1024);
        const buffer = Buffer.alloc(length);
        fs.readSync(fd, buffer, 0, length, size - length);
        stdoutTail = buffer.toString('utf8').split('\n').slice(-60).join('\n');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      stdoutTail = '';
    }
    const env = r.env;
    const environment = env
      ? [
          { key: 'os', value: `${env.os.type} ${env.os.release} ${env.os.arch}` },
          { key: 'cpu', value: `${env.cpu.model} × ${env.cpu.cores}` },
          { key: 'gpus', value: env.gpus.map((g) => g.name).join(', ') || 'none seen' },
          ...(env.python ? [{ key: 'python', value: `${env.python.version} (${env.python.executable})` }, ...Object.entries(env.python.packages).map(([k, v]) => ({ key: k, value: v }))] : []),
        ]
      : [];
    const files = [
      ...r.data.map((d) => ({ kind: 'data' as const, path: d.path, sha256: d.sha256, size: d.size, files: d.files, note: d.kind === 'missing' ? 'missing' : null })),
      ...r.artifacts.map((a) => ({ kind: 'artifact' as const, path: a.path, sha256: a.sha256, size: a.size, files: a.files, note: a.kind === 'missing' ? 'not written' : a.stale ? 'not written by this run' : null })),
    ];
    const canReproduce = Boolean(r.git) && r.status !== 'running' && vscode.workspace.isTrusted;
    return { command: r.command.join(' '), cwd: r.cwdInRepo ?? r.cwd, environment, files, stdoutTail, problems: r.problems, canReproduce };
  }

  private ready = false;

  /** The report, when the two runs shown are a run and its reproduction. */
  private reproductionReport(): ReproductionReport | null {
    if (this.records.length !== 2) return null;
    const [a, b] = this.records as [RunRecord, RunRecord];
    const reproduction = b.reproduces === a.id ? b : a.reproduces === b.id ? a : null;
    if (!reproduction) return null;
    try {
      return readReport(this.ws.storeDir, reproduction.id);
    } catch (err) {
      this.ws.log?.error('a reproduction report could not be read', err);
      return null;
    }
  }

  /** The shown runs' records, read again from their files; with `only`, just those runs' (the rest kept). */
  private loadRecords(only: ReadonlySet<string> | null = null): RunRecord[] {
    const found: RunRecord[] = [];
    const gone: string[] = [];
    const kept = only ? new Map(this.records.map((r) => [r.id, r])) : null;
    for (const id of this.runIds) {
      const known = kept && !only!.has(id) ? kept.get(id) : undefined;
      if (known) {
        found.push(known);
        continue;
      }
      try {
        found.push(this.ws.record(id));
      } catch {
        gone.push(id);
      }
    }
    if (gone.length > 0) {
      // Said once: the panel forgets the runs that are gone, so a live refresh does not say it again every second.
      this.runIds = this.runIds.filter((id) => !gone.includes(id));
      void vscode.window.showWarningMessage(`RunLens: ${gone.length === 1 ? `run ${gone[0]} is` : `${gone.length} runs are`} gone; left out of the comparison.`);
    }
    return found;
  }

  private post(message: HostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  private html(): string {
    return panelPage(this.panel.webview, this.extensionUri, { title: 'Compare Runs', script: 'dist/webview/compare.js', styles: ['dist/webview/uPlot.min.css', 'media/compare.css', 'media/plots.css'] });
  }


  private async onMessage(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready': {
        const { code, note } = await this.codeRows();
        this.ready = true;
        this.post({ type: 'init', comparison: buildComparison(this.withLiveMetrics(this.records)), code, codeNote: note, detail: this.detail(), reproduction: this.reproductionReport() });
        return;
      }
      case 'requestSeries': {
        const ids = this.records.map((r) => r.id);
        const request = { metric: message.metric, x: message.x, buckets: message.buckets, range: message.range ?? undefined };
        const pool = ComparePanel.seriesPool(this.extensionUri);
        // An imported run's points are read from its source the first time a chart needs them.
        for (const { problem } of await materializeImportedSeries(this.ws.storeDir, ids)) this.ws.log?.info(problem);
        // One x range for every run, so all runs share bucket edges and line up on the chart.
        const range = message.range ?? (await pool.extent(this.ws.storeDir, ids, message.metric, message.x)) ?? undefined;
        const result = await pool.series(this.ws.storeDir, ids, { ...request, range });
        this.post({
          type: 'series',
          requestId: message.requestId,
          metric: message.metric,
          x: message.x,
          series: result.map((s) =>
            s.kind === 'points'
              ? { runId: s.runId, kind: 'points', x: s.xs, y: s.ys }
              : { runId: s.runId, kind: 'buckets', from: s.range[0], width: s.width, bucket: s.bucket, min: s.min, max: s.max, last: s.last },
          ),
        });
        return;
      }
      case 'openCode':
        await vscode.commands.executeCommand('runlens.openFileAtRun', message.runId);
        return;
      case 'reproduce':
        // The command checks workspace trust itself: a page's request does not pass through the command's enablement.
        await vscode.commands.executeCommand('runlens.reproduceRun', message.runId);
        return;
      case 'openFileDiff': {
        if (!this.ws.repoRoot) return;
        const left = this.records.find((r) => r.id === message.leftRunId);
        const right = this.records.find((r) => r.id === message.rightRunId);
        await vscode.commands.executeCommand('vscode.diff', runFileUri(this.ws.repoRoot, message.leftRunId, message.file), runFileUri(this.ws.repoRoot, message.rightRunId, message.file), `${message.file} (${left?.name} ↔ ${right?.name})`);
        return;
      }
      case 'openParamSource':
        await this.openParamSource(message.runId, message.key);
        return;
      case 'showRun':
        // Only runs of this comparison: a page asks about what it shows.
        if (this.records.some((r) => r.id === message.runId)) ComparePanel.show(this.extensionUri, this.ws, [message.runId]);
        return;
      case 'compareRuns': {
        const ids = message.runIds.filter((id) => this.records.some((r) => r.id === id));
        if (ids.length) ComparePanel.show(this.extensionUri, this.ws, ids);
        return;
      }
    }
  }

  /** Files that differ between the first run's snapshot and each other run's. */
  private async codeRows(): Promise<{ code: CodeRow[] | null; note: string | null }> {
    const root = this.ws.repoRoot;
    const base = this.records[0];
    if (!root || !base?.git) return { code: null, note: 'The first run has no code snapshot to compare against.' };
    const rows = new Map<string, string[]>();
    for (let i = 1; i < this.records.length; i++) {
      const other = this.records[i]!;
      if (!other.git) continue;
      const fields = splitNul(await execGit(root, ['diff', '--name-status', '-z', '--no-renames', base.git.snapshot, other.git.snapshot]));
      for (let f = 0; f + 1 < fields.length; f += 2) {
        const file = fields[f + 1]!;
        if (!rows.has(file)) rows.set(file, new Array<string>(this.records.length).fill(''));
        rows.get(file)![i] = fields[f]!;
      }
    }
    return { code: [...rows].sort(([a], [b]) => a.localeCompare(b)).map(([file, status]) => ({ file, status })), note: null };
  }

  /** A param that came from a config file opens that file, as it was in the run, at the line that sets it. */
  private async openParamSource(runId: string, key: string): Promise<void> {
    const record = this.records.find((r) => r.id === runId);
    const source = record?.paramSources[key];
    if (!record?.git || !source?.startsWith('config:') || !this.ws.repoRoot) return;
    const file = path.relative(this.ws.repoRoot, path.resolve(record.cwd, source.slice('config:'.length))).split(path.sep).join('/');
    const uri = runFileUri(this.ws.repoRoot, runId, file);
    const text = (await readSnapshotFile(this.ws.repoRoot, record.git.snapshot, file).catch(() => Buffer.alloc(0))).toString('utf8');
    const leaf = key.split('.').filter((part) => !/^\d+$/.test(part)).pop() ?? key;
    const escaped = leaf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const line = text.split('\n').findIndex((l) => new RegExp(`^\\s*["']?${escaped}["']?\\s*[:=]`).test(l));
    const position = new vscode.Position(Math.max(0, line), 0);
    await vscode.window.showTextDocument(uri, { selection: new vscode.Range(position, position), viewColumn: vscode.ViewColumn.One });
  }

  /**
   * What a command that opened the panel answers the workbench (Compare Runs returns the panel).
   * The workbench serializes a command's result; without this it walked the panel into the
   * workspace's list of runs: 2.2 s of the extension host at 100,000 runs.
   */
  toJSON(): { runIds: string[] } {
    return { runIds: this.runIds };
  }

  dispose(): void {
    ComparePanel.open.delete(this);
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
