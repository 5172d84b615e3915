import * as vscode from 'vscode';
import { visibleBidi } from '../core/safeText';
import { formatNumber, primaryMetric } from './format';
import type { WorkspaceRuns } from './workspaceRuns';

/** While runs are running: how many, and the newest one's primary metric. A click shows them. */
export class RunningStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('runlens.running', vscode.StatusBarAlignment.Left, 50);

  constructor(private readonly ws: WorkspaceRuns) {
    this.item.name = 'RunLens: running runs';
    this.item.command = 'workbench.view.extension.runlens';
  }

  update(): void {
    const running = this.ws.running();
    if (running.length === 0) {
      this.item.hide();
      return;
    }
    const newest = running[0]!;
    const preferred = vscode.workspace.getConfiguration('runlens', this.ws.folder.uri).get<string>('runs.primaryMetric') ?? '';
    const metric = primaryMetric(newest, preferred);
    this.item.text = `$(pulse) ${running.length} running${metric ? ` · ${metric.key} ${formatNumber(metric.value)}` : ''}`;
    this.item.tooltip = `RunLens: ${running.map((r) => visibleBidi(r.name)).join(', ')} running. Click to show the runs.`;
    this.item.show();
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.item.dispose();
  }
}
