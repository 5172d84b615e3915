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

/**
 * What a refresh changed. `runs` names the only runs that can have changed, in place: nothing was
 * added or removed, and none of them joined or left the filtered list. When it is null, anything
 * may have changed. Listeners that redraw per run (the tree's rows, a table's cells, a Compare
 * panel's records) do that much and no more. `tick` says it was the live poll's tick, which looks at
 * runs only: other refreshes (a watcher, a command) may follow a change to the registry too.
 */
export interface RunsChange {
  readonly runs: readonly string[] | null;
  readonly tick: boolean;
}
const SAVE_DELAY_MS = 5000;

/**
 * The runs of one workspace folder, as the views see them: the sql.js index
 * kept fresh from the run folders (a watcher, and a poll every second while a
 * run is live, so a new metric line shows within a second), and the registry.
 */
/** How often the runs folder is looked at for new runs, besides the watcher. */
const STORE_LOOK_MS = 2000;

export class WorkspaceRuns implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsChange>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private index: RunIndex | null = null;
  private opening: Promise<RunIndex> | null = null;
  private poll: NodeJS.Timeout | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private current: IndexedRun[] = [];
  /** The same runs by id, for the views' lookups (a find over 100,000 runs per shown run, every second, would not do). */
  private currentById = new Map<string, IndexedRun>();
  /** Where each run stands in `current`, so a live tick replaces its runs without a pass over the list. */
  private positions = new Map<string, number>();
  /** The running runs of `current`, in its order: the status bar asks every tick. */
  private currentRunning: IndexedRun[] = [];
  /** The filter `current` was queried with: another one (or none yet) needs the whole query. */
  private queriedFilter: Expr | null | undefined = undefined;
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
    const soon = (uri?: vscode.Uri) => this.scheduleRefresh(uri);
    let watching = false;
    const watch = () => {
      const inFolder = path.relative(this.folder.uri.fsPath, this.storeDir);
      const insideFolder = Boolean(inFolder) && !inFolder.startsWith('..') && !path.isAbsolute(inFolder);
      // A run's folder and its run.json, not every file in it: a live run's metrics and output lines
      // would each cross from the watcher to this host, and the live poll reads those files anyway.
      const watched = '{runs/*,runs/*/run.json,registry/**}';
      const pattern = insideFolder
        ? new vscode.RelativePattern(this.folder, `${inFolder.split(path.sep).join('/')}/${watched}`)
        : new vscode.RelativePattern(vscode.Uri.file(this.storeDir), watched);
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
    // One git call for both: each is a process, and activation waits for them (300 ms at a busy start).
    const repoRoot = await locateRepository(folder.uri.fsPath).then(
      (r) => r.root,
      () => null,
    );
    const storeDir = repoRoot && !env.RUNLENS_DIR ? path.join(repoRoot, STORE_FOLDER) : await resolveStoreDir(folder.uri.fsPath, env);
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

  /** A run of the list, by id, as last refreshed; undefined when the filter hides it or it is gone. */
  run(id: string): IndexedRun | undefined {
    return this.currentById.get(id);
  }

  running(): IndexedRun[] {
    return this.currentRunning;
  }

  /**
   * Runs and the registry as they are now. A refresh in flight may have read the store before the
   * caller changed it (a pull, a delete), so one more follows it, shared by everyone who asks meanwhile.
   */
  refresh(): Promise<void> {
    return this.requestRefresh(true, []);
  }

  /** A live run's tick: its own files and `also`'s, unless the runs folder changed (see RunIndex.refreshLive). */
  private refreshLive(also: readonly string[] = []): Promise<void> {
    return this.requestRefresh(false, also);
  }

  /** The refresh in flight, and the one queued behind it, which takes every request made meanwhile. */
  private refreshing: Promise<void> | null = null;
  private queuedRefresh: { full: boolean; also: Set<string>; done: Promise<void> } | null = null;

  private requestRefresh(full: boolean, also: readonly string[]): Promise<void> {
    if (!this.refreshing) return this.startRefresh(full, also);
    // A plain tick asked while anything is in flight or queued is covered by it.
    if (!full && !also.length) return this.queuedRefresh?.done ?? this.refreshing;
    if (this.queuedRefresh) {
      this.queuedRefresh.full ||= full;
      for (const id of also) this.queuedRefresh.also.add(id);
      return this.queuedRefresh.done;
    }
    const queued: { full: boolean; also: Set<string>; done: Promise<void> } = { full, also: new Set(also), done: Promise.resolve() };
    queued.done = this.refreshing
      .catch(() => undefined)
      .then(() => {
        this.queuedRefresh = null;
        return this.startRefresh(queued.full, [...queued.also]);
      });
    this.queuedRefresh = queued;
    return queued.done;
  }

  private startRefresh(full: boolean, also: readonly string[]): Promise<void> {
    const running: Promise<void> = this.doRefresh(!full, also).finally(() => {
      if (this.refreshing === running) this.refreshing = null;
    });
    this.refreshing = running;
    return running;
  }

  private async doRefresh(liveOnly: boolean, also: readonly string[] = []): Promise<void> {
    if (this.disposed) return;
    const index = await this.openIndex();
    if (this.disposed) return;
    if (!liveOnly && this.queriedFilter === undefined && !index.opened.rebuilt) {
      // The first look: the runs as the saved index has them, shown while the refresh below checks
      // every folder (at 100,000 runs that took seconds before the first row). What changed since
      // follows with it, as any refresh's change does.
      this.queryAll(index);
      this.changed.fire({ runs: null, tick: false });
    }
    // A full refresh stats every run folder off the thread (1.5 s of this host at 100,000 runs).
    const report = liveOnly ? index.refreshLive(also) : await index.refreshAsync();
    if (this.disposed) return;
    for (const bad of report.unreadable) this.log?.info(`run folder ${bad.dir} cannot be read (${bad.reason}); it is left as it is`);
    let change: RunsChange = { runs: null, tick: liveOnly };
    // At 100,000 runs the whole query takes about 2 s: it is run only when runs came, went or moved in or out of the filter.
    const inPlace = this.queriedFilter === this.filter.expr && !report.added && !report.removed ? index.queryAmong(this.filter.expr, report.live) : null;
    if (inPlace && report.live.every((id) => this.currentById.has(id) === inPlace.some((r) => r.id === id))) {
      // Only the runs looked at can have changed, and none of them joined or left the filtered list:
      // they are replaced where they stand, rather than every run queried again each second.
      // A new array: a listener may hold the one before. Copying it costs a fraction of a millisecond at 100,000.
      this.current = this.current.slice();
      for (const run of inPlace) {
        this.current[this.positions.get(run.id)!] = run;
        this.currentById.set(run.id, run);
      }
      // Every running run is among those a tick looks at: the others cannot have started running.
      const maybeRunning = new Set([...this.currentRunning.map((r) => r.id), ...inPlace.map((r) => r.id)]);
      this.currentRunning = [...maybeRunning]
        .map((id) => this.currentById.get(id)!)
        .filter((r) => r.status === 'running')
        .sort((a, b) => this.positions.get(a.id)! - this.positions.get(b.id)!);
      change = { runs: report.live, tick: liveOnly };
    } else {
      this.queryAll(index);
    }
    if (report.added || report.updated || report.removed) {
      this.generation++;
      this.scheduleSave();
    }
    this.updateLivePoll();
    this.changed.fire(change);
  }

  /** Every run the filter matches, from the index as it stands, and the lookups made of them. */
  private queryAll(index: RunIndex): void {
    this.queriedFilter = this.filter.expr;
    this.current = index.query(this.filter.expr, []);
    this.currentById = new Map(this.current.map((r) => [r.id, r]));
    this.positions = new Map(this.current.map((r, i) => [r.id, i]));
    this.currentRunning = this.current.filter((r) => r.status === 'running');
  }

  /** Runs whose files a watcher saw change since the last refresh; null once anything else changed. */
  private changedRuns: Set<string> | null = new Set();
  private refreshTimer: NodeJS.Timeout | undefined;

  /**
   * A file changed under the store. A file inside a run's folder (a live run's metrics line, a
   * rewritten run.json) is that run's change alone: the refresh looks at it and the live runs, as
   * a tick does. A run folder made or removed, or the registry, is a refresh of everything.
   */
  private scheduleRefresh(uri?: vscode.Uri): void {
    const parts = uri ? path.relative(this.storeDir, uri.fsPath).split(path.sep) : [];
    // A running run's files change with every line it logs; the live poll looks at it every second anyway.
    if (this.poll && parts.length >= 3 && parts[0] === 'runs' && this.currentById.get(parts[1]!)?.status === 'running') return;
    if (this.changedRuns && parts.length >= 3 && parts[0] === 'runs' && !parts[1]!.startsWith('.')) this.changedRuns.add(parts[1]!);
    else this.changedRuns = null;
    this.refreshTimer ??= setTimeout(() => {
      this.refreshTimer = undefined;
      const runs = this.changedRuns;
      this.changedRuns = new Set();
      this.backgroundRefresh(runs ? [...runs] : undefined);
    }, 100);
  }

  /**
   * A refresh nobody awaits (a file changed, a live run's tick): its failure goes to the log, and
   * never after dispose. With `runs`, a tick that also looks at those runs; without, a full refresh.
   */
  private backgroundRefresh(runs?: string[]): void {
    if (this.disposed) return;
    (runs ? this.refreshLive(runs) : this.refresh()).catch((err: unknown) => {
      if (!this.disposed) this.log?.error('refreshing the runs failed', err);
    });
  }

  private updateLivePoll(): void {
    const live = this.currentRunning.length > 0;
    if (live && !this.poll) {
      this.poll = setInterval(() => this.backgroundRefresh([]), LIVE_POLL_MS);
    } else if (!live && this.poll) {
      clearInterval(this.poll);
      this.poll = undefined;
    }
  }

  private scheduleSave(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      if (this.disposed || !this.index || !this.hasRunsFolder()) return;
      // Written off the thread; only the copy out of sql.js holds it.
      this.index.saveAsync().catch((err: unknown) => this.log?.error('the run index could not be saved (it is a cache: nothing is lost)', err));
    }, SAVE_DELAY_MS);
  }

  /**
   * Saves now, on the thread: at close. A background save still writing may land after it with
   * older bytes; the index keeps each run's file signature, so the next open reads those runs again.
   */
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

  /** The table's rows of a live tick: which of these runs match `where`, with their param values. */
  async tableAmong(where: Expr | null, ids: readonly string[], paramKeys: string[]): Promise<{ runs: IndexedRun[]; params: Map<string, Record<string, string | null>> }> {
    const index = await this.openIndex();
    const runs = index.queryAmong(where, ids);
    return { runs, params: index.paramValues(runs.map((r) => r.id), paramKeys) };
  }

  /** The order of a table's query, ids only; empty before the index is open. */
  orderedIds(where: Expr | null, sort: SortKey[]): string[] {
    return this.index ? this.index.orderedIds(where, sort) : [];
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
