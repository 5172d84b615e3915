import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunIndex, type IndexedRun } from '../core/index/runIndex';
import type { Expr, SortKey } from '../core/query/ast';
import { Registry } from '../core/registry/registry';
import type { RunRecord } from '../core/runRecord';
import { readRunRecord, resolveStoreDir, runsDir, STORE_FOLDER } from '../core/store';
import { locateRepository } from '../core/git/repository';
import type { RunLensLog } from './log';

const LIVE_POLL_MS = 1000;
const SAVE_DELAY_MS = 5000;

/**
 * The runs of one workspace folder, as the views see them: the sql.js index
 * kept fresh from the run folders (a watcher, and a poll every second while a
 * run is live, so a new metric line shows within a second), and the registry.
 */
/** How often the runs folder is looked at for new runs, besides the watcher. */
const STORE_LOOK_MS = 2000;

export class WorkspaceRuns implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private index: RunIndex | null = null;
  private opening: Promise<RunIndex> | null = null;
  private poll: NodeJS.Timeout | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | null = null;
  /** Whether the refresh in flight is a live tick (which looks at live runs only). */
  private refreshingLive = false;
  private current: IndexedRun[] = [];
  private disposed = false;
  /** Moves whenever a refresh found runs added, changed or removed: what caches of run facts are keyed by. */
  generation = 0;
  /** Where background failures go; set by the extension. */
  log: RunLensLog | null = null;
  filter: { text: string; expr: Expr | null } = { text: '', expr: null };

  private constructor(
    readonly folder: vscode.WorkspaceFolder,
    readonly storeDir: string,
    readonly repoRoot: string | null,
  ) {
    this.watchStore();
  }

  /**
   * A watcher on the store's runs and registry, and a look every two seconds at the runs folder's
   * mtime, which a new run folder moves. The look is what makes a new run show up for sure: a
   * watcher based on a folder that does not exist yet never fires (a workspace before its first
   * run), and a watcher made once the store appeared was seen to miss a run's folder in code-server.
   * One stat every two seconds.
   */
  private watchStore(): void {
    const soon = () => this.scheduleRefresh();
    let watching = false;
    const watch = () => {
      const inFolder = path.relative(this.folder.uri.fsPath, this.storeDir);
      const insideFolder = Boolean(inFolder) && !inFolder.startsWith('..') && !path.isAbsolute(inFolder);
      const pattern = insideFolder
        ? new vscode.RelativePattern(this.folder, `${inFolder.split(path.sep).join('/')}/{runs/**,registry/**}`)
        : new vscode.RelativePattern(vscode.Uri.file(this.storeDir), '{runs/**,registry/**}');
      const watcher = vscode.workspace.createFileSystemWatcher(pattern);
      this.disposables.push(watcher, watcher.onDidCreate(soon), watcher.onDidChange(soon), watcher.onDidDelete(soon));
      watching = true;
    };
    let seen: number | null = null;
    const look = () => {
      if (this.disposed) return;
      let mtime: number;
      try {
        mtime = fs.statSync(runsDir(this.storeDir)).mtimeMs;
      } catch {
        return; // no store yet
      }
      if (!watching) watch();
      if (seen !== null && mtime !== seen) soon();
      if (seen === null && !this.current.length) soon();
      seen = mtime;
    };
    look();
    const timer = setInterval(look, STORE_LOOK_MS);
    this.disposables.push({ dispose: () => clearInterval(timer) });
  }

  static async create(folder: vscode.WorkspaceFolder): Promise<WorkspaceRuns> {
    const configured = vscode.workspace.getConfiguration('runlens', folder.uri).get<string>('storeFolder')?.trim();
    const env = configured ? { ...process.env, RUNLENS_DIR: path.resolve(folder.uri.fsPath, configured) } : process.env;
    const storeDir = await resolveStoreDir(folder.uri.fsPath, env);
    const repoRoot = await locateRepository(folder.uri.fsPath).then(
      (r) => r.root,
      () => null,
    );
    return new WorkspaceRuns(folder, storeDir, repoRoot);
  }

  get registry(): Registry {
    return new Registry(this.storeDir);
  }

  hasRunsFolder(): boolean {
    return fs.existsSync(runsDir(this.storeDir));
  }

  private async openIndex(): Promise<RunIndex> {
    this.opening ??= RunIndex.open(this.storeDir).then((index) => {
      this.index = index;
      if (index.opened.rebuilt && fs.existsSync(path.join(this.storeDir, 'index.sqlite'))) {
        void vscode.window.showWarningMessage(`RunLens: ${index.opened.rebuilt}; it was rebuilt from the run files.`);
      }
      return index;
    });
    return this.opening;
  }

  /** Runs matching the filter, newest first, as last refreshed. */
  runs(): IndexedRun[] {
    return this.current;
  }

  running(): IndexedRun[] {
    return this.current.filter((r) => r.status === 'running');
  }

  async refresh(): Promise<void> {
    if (this.refreshing && !this.refreshingLive) return this.refreshing;
    // A live tick in flight looks at live runs only: a full refresh asked meanwhile follows it.
    const next: Promise<void> = (this.refreshing ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.doRefresh(false))
      .finally(() => {
        if (this.refreshing === next) this.refreshing = null;
      });
    this.refreshing = next;
    this.refreshingLive = false;
    return next;
  }

  /** A live run's tick: its own files only, unless the runs folder changed (see RunIndex.refreshLive). Any refresh in flight covers it. */
  private async refreshLive(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    const next: Promise<void> = this.doRefresh(true).finally(() => {
      if (this.refreshing === next) this.refreshing = null;
    });
    this.refreshing = next;
    this.refreshingLive = true;
    return next;
  }

  private async doRefresh(liveOnly: boolean): Promise<void> {
    if (this.disposed) return;
    const index = await this.openIndex();
    if (this.disposed) return;
    const report = liveOnly ? index.refreshLive() : { ...index.refresh(), live: [] };
    for (const bad of report.unreadable) this.log?.info(`run folder ${bad.dir} cannot be read (${bad.reason}); it is left as it is`);
    if (report.live.length && !report.added && !report.removed && this.filter.expr === null) {
      // Only the live runs can have changed, and with no filter none leaves or joins the list: they are
      // replaced where they stand, rather than every run queried again each second.
      const fresh = new Map(index.runsByIds(report.live).map((r) => [r.id, r]));
      this.current = this.current.map((r) => fresh.get(r.id) ?? r);
    } else {
      this.current = index.query(this.filter.expr, []);
    }
    if (report.added || report.updated || report.removed) {
      this.generation++;
      this.scheduleSave();
    }
    this.updateLivePoll();
    this.changed.fire();
  }

  private scheduleRefresh(): void {
    setTimeout(() => this.backgroundRefresh(), 100);
  }

  /** A refresh nobody awaits (a file changed, a live run's tick): its failure goes to the log, and never after dispose. */
  private backgroundRefresh(liveTick = false): void {
    if (this.disposed) return;
    (liveTick ? this.refreshLive() : this.refresh()).catch((err: unknown) => {
      if (!this.disposed) this.log?.error('refreshing the runs failed', err);
    });
  }

  private updateLivePoll(): void {
    const live = this.current.some((r) => r.status === 'running');
    if (live && !this.poll) {
      this.poll = setInterval(() => this.backgroundRefresh(true), LIVE_POLL_MS);
    } else if (!live && this.poll) {
      clearInterval(this.poll);
      this.poll = undefined;
    }
  }

  private scheduleSave(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      if (this.disposed) return;
      try {
        this.save();
      } catch (err) {
        this.log?.error('the run index could not be saved (it is a cache: nothing is lost)', err);
      }
    }, SAVE_DELAY_MS);
  }

  save(): void {
    if (this.index && this.hasRunsFolder()) this.index.save();
  }

  /** Runs for the table: any query and sort, not the view's filter. The index is as fresh as the views' last refresh. */
  async table(where: Expr | null, sort: SortKey[], paramKeys: string[], limit?: number): Promise<{ runs: IndexedRun[]; params: Map<string, Record<string, string | null>> }> {
    if (!this.index) await this.refresh();
    const index = await this.openIndex();
    const runs = index.query(where, sort, limit);
    return { runs, params: index.paramValues(runs.map((r) => r.id), paramKeys) };
  }

  /** Work on the index as fresh as the views' last refresh: the queries of lenses and hovers. */
  async withIndex<T>(work: (index: RunIndex) => T): Promise<T> {
    if (!this.index) await this.refresh();
    return work(await this.openIndex());
  }

  async keyNames(): Promise<{ params: string[]; metrics: string[] }> {
    return (await this.openIndex()).keyNames();
  }

  record(id: string): RunRecord {
    return readRunRecord(this.storeDir, id);
  }

  /** The folder that holds `.runlens`, for messages. */
  describe(): string {
    return path.relative(this.folder.uri.fsPath, this.storeDir) || STORE_FOLDER;
  }

  dispose(): void {
    this.disposed = true;
    clearInterval(this.poll);
    clearTimeout(this.saveTimer);
    try {
      this.save();
    } catch (err) {
      this.log?.info(`the run index could not be saved on close: ${(err as Error).message}`);
    }
    this.index?.close();
    for (const d of this.disposables) d.dispose();
  }
}
