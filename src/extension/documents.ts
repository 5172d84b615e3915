import * as vscode from 'vscode';
import { showCommit } from '../core/git/snapshotFiles';
import type { RegistryEvent } from '../core/registry/events';
import type { WorkspaceRuns } from './workspaceRuns';

export const DOC_SCHEME = 'runlens-doc';

/** `runlens-doc:/commit/<sha>.diff` and `runlens-doc:/history/<model>.md`: read-only text RunLens writes. */
export function commitDocUri(sha: string): vscode.Uri {
  return vscode.Uri.from({ scheme: DOC_SCHEME, path: `/commit/${sha}.diff` });
}

export function historyDocUri(model: string): vscode.Uri {
  return vscode.Uri.from({ scheme: DOC_SCHEME, path: `/history/${encodeURIComponent(model)} alias history.md` });
}

/** Run-provided text in a table cell: only what could end the cell or turn into markup is escaped, so dates stay readable. */
function mdText(text: string): string {
  return text.replace(/[\\`*_[\]|<>]/g, '\\$&').replace(/[\r\n]+/g, ' ');
}

export function describeHistory(model: string, events: RegistryEvent[]): string {
  const lines = [`# ${mdText(model)}: alias history`, '', '| when | who | alias | from | to |', '|---|---|---|---|---|'];
  const exports: string[] = [];
  for (const e of events) {
    if (e.type === 'register') continue;
    if (e.type === 'export') {
      exports.push(`| ${mdText(e.at)} | ${mdText(e.who)} | v${e.version} | ${mdText(e.to)} |`);
      continue;
    }
    const to = e.type === 'alias-set' ? `v${e.version}` : '(removed)';
    const from = e.type === 'alias-set' ? (e.previous === null ? '(new)' : `v${e.previous}`) : `v${e.previous}`;
    lines.push(`| ${mdText(e.at)} | ${mdText(e.who)} | ${mdText(e.alias)} | ${from} | ${to} |`);
  }
  if (lines.length === 4) lines.push('| | | no alias has been set yet | | |');
  if (exports.length) lines.push('', '## Exports', '', '| when | who | version | to |', '|---|---|---|---|', ...exports);
  return lines.join('\n') + '\n';
}

export class RunLensDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly workspace: () => WorkspaceRuns | undefined) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const ws = this.workspace();
    const [, kind, rest = ''] = uri.path.split('/');
    if (!ws) return 'RunLens: no workspace folder is open.';
    if (kind === 'commit') {
      if (!ws.repoRoot) return 'RunLens: this workspace is not a git repository.';
      return showCommit(ws.repoRoot, rest.replace(/\.diff$/, ''));
    }
    const model = decodeURIComponent(rest.replace(/ alias history\.md$/, ''));
    return describeHistory(model, ws.registry.read().events.filter((e) => e.model === model));
  }
}
