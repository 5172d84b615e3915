import * as path from 'node:path';
import * as vscode from 'vscode';
import { importRuns, pendingImports } from '../core/import/importRuns';
import { SOURCE_NAMES } from '../core/import/types';
import { importRunsCommand } from './commands/importCommand';
import type { WorkspaceRuns } from './workspaceRuns';

const DECLINED = 'runlens.import.declined';
/** What the watcher looks at: the files each importer reads. */
const WATCHED = '**/{mlruns/**,lightning_logs/**,dvclive/**,dvclive.json,events.out.tfevents.*,trainer_state.json,training.log,*.db}';
const SETTLE_MS = 3000;

/**
 * Runs the workspace already has in other tools' logs. A while after
 * activation (never during it) the workspace is searched once: if it holds
 * runs not imported yet, the Runs view says so (`runlens.importable`) and a
 * notification offers to import them, until the user says not to ask again.
 * With `runlens.import.watch`, those logs are followed: a change to them
 * imports again a few seconds after the writes settle.
 */
export class ImportOffer implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private watcher: vscode.FileSystemWatcher | null = null;
  private pending: NodeJS.Timeout | null = null;
  private importing: Promise<unknown> | null = null;
  private disposed = false;

  constructor(
    private readonly ws: WorkspaceRuns,
    private readonly state: vscode.Memento,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('runlens.import.watch')) this.updateWatcher();
      }),
    );
  }

  start(delayMs = 5000): void {
    const timer = setTimeout(() => void this.offer(), delayMs);
    this.disposables.push({ dispose: () => clearTimeout(timer) });
    this.updateWatcher();
  }

  private async offer(): Promise<void> {
    if (this.disposed) return;
    if (!vscode.workspace.isTrusted) {
      this.ws.log?.info('not looking for logs to import: the workspace is not trusted');
      return;
    }
    let pending: Awaited<ReturnType<typeof pendingImports>>;
    try {
      pending = await pendingImports(this.ws.storeDir, this.ws.folder.uri.fsPath);
    } catch (err) {
      this.ws.log?.error('looking for MLflow, TensorBoard and other logs to import failed', err);
      return;
    }
    const runs = pending.reduce((n, p) => n + p.runs, 0);
    if (runs > 0) this.ws.log?.info(`logs not imported yet: ${pending.map((p) => `${p.kind} ${p.path} (${p.runs} run(s))`).join('; ')}`);
    await vscode.commands.executeCommand('setContext', 'runlens.importable', runs > 0);
    if (runs === 0 || this.disposed || this.state.get<boolean>(DECLINED) || vscode.workspace.getConfiguration('runlens', this.ws.folder.uri).get<boolean>('import.watch')) return;
    const kinds = [...new Set(pending.map((p) => SOURCE_NAMES[p.kind] ?? p.kind))].join(', ');
    const choice = await vscode.window.showInformationMessage(`RunLens found ${runs} run(s) in ${kinds} logs in this workspace. Import them, so they sit beside your recorded runs?`, 'Import', 'Import and Keep Following', "Don't Ask Again");
    if (choice === "Don't Ask Again") await this.state.update(DECLINED, true);
    if (choice === 'Import and Keep Following') await vscode.workspace.getConfiguration('runlens', this.ws.folder.uri).update('import.watch', true, vscode.ConfigurationTarget.Workspace);
    if (choice === 'Import' || choice === 'Import and Keep Following') {
      await importRunsCommand(this.ws, [...new Set(pending.map((p) => p.path))].map((p) => vscode.Uri.file(path.resolve(path.dirname(this.ws.storeDir), p))));
      await vscode.commands.executeCommand('setContext', 'runlens.importable', false);
    }
  }

  private updateWatcher(): void {
    const watch = vscode.workspace.getConfiguration('runlens', this.ws.folder.uri).get<boolean>('import.watch') ?? false;
    if (!watch) {
      this.watcher?.dispose();
      this.watcher = null;
      return;
    }
    if (this.watcher) return;
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(this.ws.folder, WATCHED));
    const changed = (uri: vscode.Uri) => {
      if (uri.fsPath.startsWith(this.ws.storeDir + path.sep)) return;
      if (this.pending) clearTimeout(this.pending);
      this.pending = setTimeout(() => void this.reimport(), SETTLE_MS);
    };
    this.watcher.onDidCreate(changed);
    this.watcher.onDidChange(changed);
    this.watcher.onDidDelete(changed);
    this.scheduleFirstFollow();
  }

  private scheduleFirstFollow(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => void this.reimport(), SETTLE_MS);
  }

  /** One import at a time; a change during one starts the next after it. */
  private async reimport(): Promise<void> {
    if (this.disposed || !vscode.workspace.isTrusted) return;
    if (this.importing) {
      await this.importing;
      return this.reimport();
    }
    this.importing = importRuns(this.ws.storeDir, [this.ws.folder.uri.fsPath])
      .then(async (summary) => {
        const changed = summary.sources.reduce((n, s) => n + s.added + s.updated + s.missing, 0);
        if (changed > 0 && !this.disposed) {
          this.ws.log?.info(`followed logs: ${summary.sources.map((s) => `${s.kind} ${s.path} (${s.added} added, ${s.updated} updated)`).join('; ')}`);
          await this.ws.refresh();
        }
      })
      .catch((err: unknown) => this.ws.log?.error('importing the followed logs failed', err))
      .finally(() => {
        this.importing = null;
      });
    await this.importing;
  }

  dispose(): void {
    this.disposed = true;
    if (this.pending) clearTimeout(this.pending);
    this.watcher?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
