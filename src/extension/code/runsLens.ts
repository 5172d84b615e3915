import * as vscode from 'vscode';
import { summarizeScript, type ScriptSummary } from '../../core/code/scriptRuns';
import { visibleBidi } from '../../core/safeText';
import { formatAge, formatNumber } from '../format';
import type { WorkspaceRuns } from '../workspaceRuns';
import { metricSettings, pathInRepository } from './codeSettings';

/** How many runs *Compare last N* opens. */
const COMPARE_LAST = 5;

/** `12 runs · best acc 0.931 (resnet-a, 2h ago) · last: finished 5m ago` */
export function summaryText(summary: ScriptSummary, now = Date.now()): string {
  const parts = [`${summary.runs} run${summary.runs === 1 ? '' : 's'}`];
  if (summary.best && summary.metric) parts.push(`best ${summary.metric.key} ${formatNumber(summary.best.value)} (${visibleBidi(summary.best.run.name)}, ${formatAge(summary.best.run.startedAt, now)})`);
  const last = summary.recent[0]!;
  parts.push(`last: ${last.status} ${formatAge(last.endedAt ?? last.startedAt, now)}`);
  return parts.join(' · ');
}

/**
 * At the top of a file that recorded runs executed: how many, the best by the
 * primary metric, and the last; a click opens the Runs table on that script's
 * runs. A second lens compares the last five.
 */
export class ScriptRunsLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;
  private seen = -1;

  constructor(private readonly ws: WorkspaceRuns) {
    // Only when runs changed: a live run's tick that changed nothing leaves the lenses alone.
    this.subscription = ws.onDidChange(() => {
      if (ws.generation === this.seen) return;
      this.seen = ws.generation;
      this.changed.fire();
    });
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!vscode.workspace.getConfiguration('runlens', document.uri).get<boolean>('codeLens.runs', true)) return [];
    const script = pathInRepository(this.ws, document.uri);
    if (!script) return [];
    const { primary, goals } = metricSettings(this.ws);
    const summary = await this.ws.withIndex((index) => summarizeScript(index, script, primary, goals, COMPARE_LAST));
    if (!summary) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses = [
      new vscode.CodeLens(top, {
        title: `$(beaker) ${summaryText(summary)}`,
        tooltip: `The runs of ${script}${summary.metric ? `, judged by ${summary.metric.key} (${summary.metric.goal === 'max' ? 'higher' : 'lower'} is better)` : ''}: open them in the Runs table`,
        command: 'runlens.showTable',
        arguments: [{ where: `script = ${JSON.stringify(script)}` }],
      }),
    ];
    if (summary.recent.length >= 2) {
      lenses.push(
        new vscode.CodeLens(top, {
          title: `Compare last ${summary.recent.length}`,
          tooltip: `Compare the ${summary.recent.length} newest runs of ${script}`,
          command: 'runlens.compareRunsPanel',
          arguments: [summary.recent.map((r) => r.id)],
        }),
      );
    }
    return lenses;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
