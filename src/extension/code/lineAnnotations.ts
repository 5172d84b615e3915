import * as vscode from 'vscode';
import { readTextBlobs, versionsOfFile } from '../../core/code/fileVersions';
import { FileLineRuns, type AnnotatedRun, type LineAnnotation } from '../../core/code/lineRuns';
import { metricGoal } from '../../core/code/metricGoal';
import type { IndexedRun } from '../../core/index/runIndex';
import { visibleBidi } from '../../core/safeText';
import { formatAge, formatNumber } from '../format';
import type { WorkspaceRuns } from '../workspaceRuns';
import { commandLink, markdownText, metricSettings, pathInRepository } from './codeSettings';

/** Runs a line's hover lists; the rest are counted. */
const HOVER_RUNS = 10;
/** Files kept annotated (their versions read and interned) at once. */
const CACHED_FILES = 20;
const DEBOUNCE_MS = 150;

interface FileRuns {
  generation: number;
  metric: string | null;
  lines: FileLineRuns;
}

/**
 * GitLens-style annotations of the runs on each line: which runs' snapshots
 * hold the line as it is now, the first of them and the best by the primary
 * metric, at the end of the current line (or every line). The versions of a
 * file are read once per change of the runs (one `cat-file` for all of them),
 * and every edit diffs them against the text again, so an annotation moves
 * with its line. Toggled by *Toggle Run Annotations* and `runlens.annotations.enabled`.
 */
export class LineAnnotations implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { margin: '0 0 0 3em', color: new vscode.ThemeColor('editorCodeLens.foreground'), fontStyle: 'italic' },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedOpen,
  });
  private readonly disposables: vscode.Disposable[] = [this.decoration];
  private readonly files = new Map<string, Promise<FileRuns | null>>();
  private timer: NodeJS.Timeout | undefined;
  /** The text of each line's annotation in the active editor, for the tests. */
  shown: { file: string; lines: Map<number, string> } | null = null;

  constructor(private readonly ws: WorkspaceRuns) {
    const soon = () => this.schedule();
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(soon),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (this.scope() === 'currentLine' && e.textEditor === vscode.window.activeTextEditor) soon();
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document) soon();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('runlens.annotations') || e.affectsConfiguration('runlens.runs.primaryMetric') || e.affectsConfiguration('runlens.metrics.goals')) {
          this.files.clear();
          soon();
        }
      }),
      ws.onDidChange(soon),
    );
    soon();
  }

  private enabled(): boolean {
    return vscode.workspace.getConfiguration('runlens', this.ws.folder.uri).get<boolean>('annotations.enabled', false);
  }

  private scope(): 'currentLine' | 'allLines' {
    return vscode.workspace.getConfiguration('runlens', this.ws.folder.uri).get<string>('annotations.scope') === 'allLines' ? 'allLines' : 'currentLine';
  }

  /** Toggle Run Annotations: flips the setting where it is set (the workspace's when it has one, else the user's). */
  async toggle(): Promise<void> {
    const config = vscode.workspace.getConfiguration('runlens', this.ws.folder.uri);
    const target = config.inspect<boolean>('annotations.enabled')?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await config.update('annotations.enabled', !this.enabled(), target);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update().catch((err: unknown) => this.ws.log?.error('run annotations failed', err)), DEBOUNCE_MS);
  }

  private async update(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    for (const other of vscode.window.visibleTextEditors) if (other !== editor) other.setDecorations(this.decoration, []);
    if (!editor) return;
    const file = this.enabled() ? pathInRepository(this.ws, editor.document.uri) : null;
    const fileRuns = file ? await this.fileRuns(file) : null;
    if (!file || !fileRuns || editor !== vscode.window.activeTextEditor) {
      editor.setDecorations(this.decoration, []);
      this.shown = null;
      return;
    }
    const annotations = fileRuns.lines.annotate(editor.document.getText());
    const wanted = this.scope() === 'allLines' ? annotations.map((_, i) => i) : [...new Set(editor.selections.map((s) => s.active.line))];
    const decorations: vscode.DecorationOptions[] = [];
    const shown = new Map<number, string>();
    for (const line of wanted) {
      const at = annotations[line];
      if (!at || line >= editor.document.lineCount) continue;
      const text = annotationText(at, fileRuns.metric);
      shown.set(line, text);
      const end = editor.document.lineAt(line).range.end;
      decorations.push({ range: new vscode.Range(end, end), hoverMessage: this.hover(at, fileRuns, file), renderOptions: { after: { contentText: text } } });
    }
    editor.setDecorations(this.decoration, decorations);
    this.shown = { file, lines: shown };
  }

  private hover(at: LineAnnotation, fileRuns: FileRuns, file: string): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: ['runlens.diffFileWithRun', 'runlens.showRun'] };
    const runs = fileRuns.lines.runsOf(at);
    md.appendMarkdown(`**RunLens** · this line, as it is now, is in ${runs.length} run${runs.length === 1 ? '' : 's'}${fileRuns.metric ? ` (${markdownText(fileRuns.metric)})` : ''}\n\n`);
    for (const run of runs.slice(0, HOVER_RUNS)) {
      const metric = run.metric !== null ? ` · ${formatNumber(run.metric)}` : '';
      md.appendMarkdown(
        `- ${commandLink(markdownText(run.name), 'runlens.showRun', [run.id], 'Show this run')}${metric} · ${run.startedMs ? formatAge(new Date(run.startedMs).toISOString()) : ''} · ${commandLink('diff', 'runlens.diffFileWithRun', [run.id, file], 'Diff this file with its version in the run')}\n`,
      );
    }
    if (runs.length > HOVER_RUNS) md.appendMarkdown(`\n…and ${runs.length - HOVER_RUNS} more\n`);
    return md;
  }

  private fileRuns(file: string): Promise<FileRuns | null> {
    const cached = this.files.get(file);
    const generation = this.ws.generation;
    return (cached ?? Promise.resolve(null)).then((f) => {
      if (f && f.generation === generation) return f;
      const loading = this.load(file, generation, f ?? undefined);
      this.files.delete(file);
      this.files.set(file, loading);
      while (this.files.size > CACHED_FILES) this.files.delete(this.files.keys().next().value!);
      return loading;
    });
  }

  /** The file's versions at the runs, read from git; those `previous` read already are taken from it. */
  private async load(file: string, generation: number, previous?: FileRuns): Promise<FileRuns | null> {
    const root = this.ws.repoRoot;
    if (!root) return null;
    const { primary, goals } = metricSettings(this.ws);
    const runs = (await this.ws.withIndex((index) => index.query(null))).filter((r): r is IndexedRun & { snapshot: string } => Boolean(r.snapshot));
    const metric = primary || runs.find((r) => r.script === file && r.metrics.length)?.metrics[0]?.key || runs.find((r) => r.metrics.length)?.metrics[0]?.key || null;
    const { byBlob } = await versionsOfFile(root, runs, file);
    if (byBlob.size === 0) return { generation, metric, lines: new FileLineRuns([], 'max') };
    const texts = previous ? previous.lines.texts() : new Map<string, string>();
    for (const [blob, text] of await readTextBlobs(root, [...byBlob.keys()].filter((b) => !texts.has(b)))) texts.set(blob, text);
    const asAnnotated = (r: IndexedRun): AnnotatedRun => {
      const value = metric ? r.metrics.find((m) => m.key === metric)?.last : undefined;
      return { id: r.id, name: visibleBidi(r.name), startedMs: r.startedAt ? Date.parse(r.startedAt) : null, metric: value === undefined || Number.isNaN(value) ? null : value };
    };
    const versions = [...byBlob].filter(([blob]) => texts.has(blob)).map(([blob, held]) => ({ blob, text: texts.get(blob)!, runs: held.map(asAnnotated) }));
    return { generation, metric, lines: new FileLineRuns(versions, metric ? metricGoal(metric, goals) : 'max', previous?.lines) };
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/** `3 runs · since baseline 2d ago · best acc 0.931 (faster-lr)` */
export function annotationText(at: LineAnnotation, metric: string | null): string {
  const parts = [`${at.runs} run${at.runs === 1 ? '' : 's'}`];
  parts.push(`since ${at.first.name}${at.first.startedMs ? ` ${formatAge(new Date(at.first.startedMs).toISOString())}` : ''}`);
  if (at.best && metric) parts.push(`best ${metric} ${formatNumber(at.best.metric!)} (${at.best.name})`);
  return parts.join(' · ');
}
