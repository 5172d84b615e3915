import * as vscode from 'vscode';
import { argparseKeyAt, tomlKeyAt, yamlKeyAt } from '../../core/code/configKeys';
import { scriptIs } from '../../core/code/scriptRuns';
import { indexText, paramEqualsQuery, paramStats, type ParamStats } from '../../core/code/paramValues';
import { formatNumber } from '../format';
import type { WorkspaceRuns } from '../workspaceRuns';
import { commandLink, markdownText, metricSettings, pathInRepository } from './codeSettings';

/** The hovers' languages: config files and training scripts. */
export const PARAM_HOVER_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', language: 'yaml' },
  { scheme: 'file', language: 'json' },
  { scheme: 'file', language: 'jsonc' },
  { scheme: 'file', language: 'toml' },
  { scheme: 'file', pattern: '**/*.toml' },
  { scheme: 'file', language: 'python' },
];

const ENABLED_COMMANDS = ['runlens.filterRuns', 'runlens.showRun'];

/**
 * Over a key of a config file that runs loaded, or an `add_argument("--lr", …)`
 * line of a script that ran: the values the param took across those runs,
 * each with its count and best run by the primary metric, best first; a link
 * filters the Runs view to one value, and the value in the file now is marked
 * when no run tried it yet.
 */
export class ParamHovers implements vscode.HoverProvider {
  constructor(private readonly ws: WorkspaceRuns) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    if (!vscode.workspace.getConfiguration('runlens', document.uri).get<boolean>('hovers.params', true)) return undefined;
    const file = pathInRepository(this.ws, document.uri);
    if (!file) return undefined;
    const found = this.keyAt(document, position);
    if (!found) return undefined;
    const scope = found.kind === 'flag' ? { script: file } : { configFile: file };
    const { primary, goals } = metricSettings(this.ws);
    const stats = await this.ws.withIndex((index) => {
      if (index.countInScope(scope) === 0) return null;
      const metric = primary || index.query('script' in scope ? scriptIs(file) : null, [], 1)[0]?.metrics[0]?.key || null;
      return paramStats(index, found.key, scope, metric, goals);
    });
    if (!stats) return undefined;
    return new vscode.Hover(this.render(stats, found, file), found.range);
  }

  private keyAt(document: vscode.TextDocument, position: vscode.Position): { kind: 'config' | 'flag'; key: string; value: unknown; range: vscode.Range; flag?: string } | undefined {
    if (document.languageId === 'python') {
      const line = document.lineAt(position.line).text;
      const flag = argparseKeyAt(line);
      if (!flag) return undefined;
      return { kind: 'flag', key: flag.key, value: flag.default, flag: flag.flag, range: new vscode.Range(position.line, flag.start, position.line, flag.end) };
    }
    const text = document.getText();
    const offset = document.offsetAt(position);
    const isToml = document.languageId === 'toml' || document.uri.path.toLowerCase().endsWith('.toml');
    const key = isToml ? tomlKeyAt(text, offset) : yamlKeyAt(text, offset);
    if (!key) return undefined;
    return { kind: 'config', key: key.key, value: key.value, range: new vscode.Range(document.positionAt(key.start), document.positionAt(key.end)) };
  }

  private render(stats: ParamStats, found: { kind: 'config' | 'flag'; key: string; value: unknown; flag?: string }, file: string): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: ENABLED_COMMANDS };
    const tried = stats.rows.reduce((n, r) => n + r.runs, 0);
    const metric = stats.metric ? `${markdownText(stats.metric.key)} (${stats.metric.goal === 'max' ? 'higher' : 'lower'} is better)` : 'no metric';
    md.appendMarkdown(`**RunLens** · **${markdownText(found.key)}** across ${tried + stats.without} run${tried + stats.without === 1 ? '' : 's'} of ${markdownText(file)}, by ${metric}\n\n`);
    const here = found.value === undefined ? undefined : indexText(found.value);
    if (stats.rows.length > 0) {
      md.appendMarkdown(`| value | runs | best ${stats.metric ? markdownText(stats.metric.key) : ''} | best run |\n|---|---:|---:|---|\n`);
      for (const row of stats.rows) {
        const value = row.value === null ? 'null' : markdownText(row.value);
        const filter = commandLink(value, 'runlens.filterRuns', [paramEqualsQuery(found.key, row.value)], 'Filter the Runs view to this value');
        const mark = row.value === here ? ' ← here' : '';
        const best = row.best ? `${formatNumber(row.best.metric)}${row.best.id === stats.best?.id ? ' ★' : ''}` : '—';
        const run = row.best ? commandLink(markdownText(row.best.name), 'runlens.showRun', [row.best.id], 'Show this run') : '';
        md.appendMarkdown(`| ${filter}${mark} | ${row.runs} | ${best} | ${run} |\n`);
      }
      md.appendMarkdown('\n');
      if (stats.more > 0) md.appendMarkdown(`…and ${stats.more} more value${stats.more === 1 ? '' : 's'}\n\n`);
    }
    if (stats.without > 0) {
      md.appendMarkdown(`${stats.without} run${stats.without === 1 ? '' : 's'} without it${found.kind === 'flag' ? ` (${markdownText(found.flag ?? '')} not given: the default)` : ''}\n\n`);
    }
    if (here !== undefined && !stats.tried.has(here) && !(found.kind === 'flag' && stats.without > 0)) {
      md.appendMarkdown(`${markdownText(String(here))} here: **untried** — no run used this value yet\n\n`);
    }
    if (stats.rows.length === 0 && stats.without === 0) md.appendMarkdown('No run had this param.\n\n');
    return md;
  }
}
