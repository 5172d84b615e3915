import * as path from 'node:path';
import * as vscode from 'vscode';
import { visibleBidi } from '../../core/safeText';
import type { WorkspaceRuns } from '../workspaceRuns';

/** The file of a document as a path in the workspace's repository (forward slashes), or null outside it. */
export function pathInRepository(ws: WorkspaceRuns, uri: vscode.Uri): string | null {
  if (uri.scheme !== 'file' || !ws.repoRoot) return null;
  const rel = path.relative(ws.repoRoot, uri.fsPath);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel.split(path.sep).join('/');
}

/** The metric runs are judged by (`runlens.runs.primaryMetric`; empty means the first one each script logged) and the goals set for metrics. */
export function metricSettings(ws: WorkspaceRuns): { primary: string; goals: Record<string, string> } {
  const config = vscode.workspace.getConfiguration('runlens', ws.folder.uri);
  return { primary: config.get<string>('runs.primaryMetric', '') ?? '', goals: config.get<Record<string, string>>('metrics.goals', {}) ?? {} };
}

/** A run-provided string (a name, a value) as markdown text: never markup, a link or a table break. */
export function markdownText(text: string): string {
  return visibleBidi(text)
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (c) => `\\${c}`);
}

/** A `command:` link with JSON arguments, as trusted markdown wants it. */
export function commandLink(label: string, command: string, args: unknown[], title = ''): string {
  const uri = `command:${command}?${encodeURIComponent(JSON.stringify(args))}`;
  return `[${label}](${uri}${title ? ` "${title.replace(/["\\]/g, '')}"` : ''})`;
}
