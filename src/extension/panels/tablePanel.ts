import * as vscode from 'vscode';
import type { TableColumn, TableHostMessage, TableRow, TableState, TableWebviewMessage } from '../../../webview/table/protocol';
import { fieldKey, type PlotField } from '../../../webview/plots/types';
import { SOURCE_NAMES } from '../../core/import/types';
import { visibleBidi } from '../../core/safeText';
import { QuerySyntaxError, type Attribute, type SortKey } from '../../core/query/ast';
import { parseQuery, parseSort } from '../../core/query/parse';
import type { IndexedRun } from '../../core/index/runIndex';
import type { RunsChange, WorkspaceRuns } from '../workspaceRuns';
import { panelOptions, panelPage } from './webviewPage';
import { ComparePanel } from './comparePanel';

export const TABLE_VIEW_TYPE = 'runlens.table';
/** The last query answered, for a table restored after a reload (workspace state). */
const LAST_QUERY = 'runlens.table.lastQuery';
/** Rows sent ahead of the rest: more than a tall window shows. */
const FIRST_SCREEN = 100;
/** The most rows one `rowsFor` is answered with: a few screens; the page asks for what it shows. */
const MAX_ROWS_ASKED = 1000;

/**
 * Attributes a run has from its start: a live run's tick cannot move it in an order by these alone.
 * (Its name, tags and params can still change when it ends, and its metrics and status as it runs.)
 */
const FIXED_WHILE_LIVE = new Set<Attribute>(['id', 'started', 'age', 'branch', 'commit', 'host', 'user', 'command', 'dirty', 'source', 'experiment', 'script']);

function orderFixedWhileLive(sort: SortKey[]): boolean {
  return sort.every((key) => key.field.kind === 'attr' && FIXED_WHILE_LIVE.has(key.field.name));
}

const ATTRIBUTE_COLUMNS: TableColumn[] = ['name', 'status', 'started', 'branch', 'commit'].map((key) => ({ kind: 'attr', key }));

function attribute(run: IndexedRun, key: string): string | null {
  switch (key) {
    case 'name':
      return run.name;
    case 'status':
      return run.status;
    case 'started':
      return run.startedAt ? run.startedAt.replace('T', ' ').slice(0, 19) : null;
    case 'branch':
      return run.branch;
    case 'commit':
      return run.head ? run.head.slice(0, 8) + (run.dirty ? '*' : '') : null;
    case 'user':
      return run.user || run.host ? `${run.user ?? '?'}@${run.host ?? '?'}` : null;
    case 'source':
      return run.source ? `${SOURCE_NAMES[run.source.kind] ?? run.source.kind}${run.source.experiment ? ` · ${run.source.experiment}` : ''}` : 'RunLens';
    default:
      return null;
  }
}

/**
 * The Runs table: every run as a row, chosen params and metrics as columns,
 * sorted and filtered by the index with the query language. The page renders
 * only the rows in view, so ten thousand runs scroll like ten.
 */
export class TablePanel implements vscode.Disposable {
  private static current: TablePanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private lastQuery: Extract<TableWebviewMessage, { type: 'query' }> | null = null;
  /**
   * What the page was sent, so a refresh of the same query sends only what changed: the order of
   * every run it matches, the rows sent (as their JSON), and the order as a set, made when a tick asks.
   */
  private shown: { requestId: number; shape: string; rows: Map<string, string>; order: string[]; members?: Set<string> | null } | null = null;

  /** The table, opened or revealed; with `where`, filtered by that query (a lens on a script opens its runs). */
  static show(extensionUri: vscode.Uri, ws: WorkspaceRuns, memento: vscode.Memento, where?: string): TablePanel {
    if (TablePanel.current) {
      TablePanel.current.panel.reveal();
      if (where !== undefined) TablePanel.current.post({ type: 'filter', where });
      return TablePanel.current;
    }
    const panel = vscode.window.createWebviewPanel(TABLE_VIEW_TYPE, 'Runs Table', vscode.ViewColumn.Beside, panelOptions(extensionUri));
    return new TablePanel(panel, extensionUri, ws, memento, where !== undefined ? { where, sort: '-started', columns: null } : null);
  }

  /**
   * A table VS Code restored after a reload. The page restores its own query
   * only if VS Code saved the page's state in time (code-server often had
   * not); the host's copy of the last query wins, and the page adopts it.
   */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, ws: WorkspaceRuns, memento: vscode.Memento): TablePanel {
    panel.webview.options = panelOptions(extensionUri);
    return new TablePanel(panel, extensionUri, ws, memento, memento.get<TableState>(LAST_QUERY) ?? null);
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly ws: WorkspaceRuns,
    private readonly memento: vscode.Memento,
    private restored: TableState | null,
  ) {
    TablePanel.current = this;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'runlens.svg');
    panel.webview.html = this.html();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: TableWebviewMessage) => void this.onMessage(m)),
      panel.onDidDispose(() => this.dispose()),
      // New and finished runs appear without asking, with the same query.
      ws.onDidChange((change) => {
        if (this.lastQuery) void this.answer(this.lastQuery, true, change);
      }),
    );
  }

  private post(message: TableHostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  private html(): string {
    return panelPage(this.panel.webview, this.extensionUri, { title: 'Runs Table', script: 'dist/webview/table.js', styles: ['media/table.css', 'media/plots.css'] });
  }


  private async onMessage(message: TableWebviewMessage): Promise<void> {
    if (message.type === 'ready') return;
    if (message.type === 'compare') {
      if (message.runIds.length > 0) ComparePanel.show(this.extensionUri, this.ws, message.runIds);
      return;
    }
    if (message.type === 'open') {
      ComparePanel.show(this.extensionUri, this.ws, [message.runId]);
      return;
    }
    if (message.type === 'plot') {
      await this.answerPlot(message);
      return;
    }
    if (message.type === 'rowsFor') {
      await this.answerRowsFor(message);
      return;
    }
    await this.answer(message, false);
  }

  /** The query the page's rows answer, and how to make a row of it: what `rowsFor` and a tick need. */
  private answering: { requestId: number; where: ReturnType<typeof parseQuery>; columns: TableColumn[]; paramKeys: string[] } | null = null;

  private rowsOf(columns: TableColumn[], { runs, params }: Awaited<ReturnType<WorkspaceRuns['table']>>): TableRow[] {
    return runs.map((run) => ({
      id: run.id,
      status: run.status,
      cells: columns.map((c) => (c.kind === 'attr' ? attribute(run, c.key) : c.kind === 'metric' ? (run.metrics.find((m) => m.key === c.key)?.last ?? null) : (params.get(run.id)?.[c.key] ?? null))),
    }));
  }

  /**
   * A query, or the same one again after runs changed. The page is sent the order of every
   * matching run and the first screen of rows; it asks for the rest as they scroll into view. At
   * 100,000 runs, making and posting every row held this host for about 2.7 s per open.
   */
  private async answer(asked: Extract<TableWebviewMessage, { type: 'query' }>, refresh: boolean, change: RunsChange = { runs: null, tick: false }): Promise<void> {
    const message = this.restored ? { ...asked, ...this.restored } : asked;
    this.restored = null;
    this.lastQuery = message;
    const query: TableState = { where: message.where, sort: message.sort, columns: message.columns };
    try {
      const where = parseQuery(message.where);
      const sort = message.sort.trim() ? parseSort(message.sort) : [];
      const keys = await this.ws.keyNames();
      const columns = message.columns ?? this.defaultColumns(keys);
      const paramKeys = columns.filter((c) => c.kind === 'param').map((c) => c.key);
      this.answering = { requestId: message.requestId, where, columns, paramKeys };
      const shape = JSON.stringify([columns, keys]);
      const patching = refresh && this.shown?.requestId === message.requestId && this.shown.shape === shape;
      if (patching && change.runs && this.shown) {
        this.patchLiveRuns(change.runs, this.rowsOf(columns, await this.ws.tableAmong(where, change.runs, paramKeys)), sort);
        return;
      }
      if (patching && this.shown) {
        // Anything may have changed: the order again, and the rows the page was sent, made again and compared.
        // Runs that joined it (a new run) come with the patch, so the page need not ask for them.
        const before = this.shown;
        const order = this.ws.orderedIds(where, sort);
        const members = (before.members ??= new Set(before.order));
        const joined = order.filter((id) => !members.has(id) && !before.rows.has(id)).slice(0, MAX_ROWS_ASKED);
        const rows = this.rowsOf(columns, await this.ws.tableAmong(where, [...before.rows.keys(), ...joined], paramKeys));
        const changed = rows.filter((r) => before.rows.get(r.id) !== JSON.stringify(r));
        before.rows = new Map(rows.map((r) => [r.id, JSON.stringify(r)]));
        const moved = order.length !== before.order.length || order.some((id, i) => before.order[i] !== id);
        before.order = order;
        before.members = null;
        if (changed.length > 0 || moved) this.post({ type: 'patch', requestId: message.requestId, changed, order: moved ? order : null, total: order.length });
        return;
      }
      const first = this.rowsOf(columns, await this.ws.table(where, sort, paramKeys, FIRST_SCREEN));
      let order = first.map((r) => r.id);
      if (first.length === FIRST_SCREEN) {
        // Delivered before the order of every run holds the thread: a message posted just before it would wait for it.
        const firstScreen: TableHostMessage = { type: 'rows', requestId: message.requestId, query, columns, rows: first, order: null, available: keys, total: first.length, complete: false };
        await this.panel.webview.postMessage(firstScreen);
        order = this.ws.orderedIds(where, sort);
      }
      this.post({ type: 'rows', requestId: message.requestId, query, columns, rows: first, order, available: keys, total: order.length, complete: true });
      this.shown = { requestId: message.requestId, shape, rows: new Map(first.map((r) => [r.id, JSON.stringify(r)])), order };
      if (!refresh) await this.memento.update(LAST_QUERY, query);
    } catch (err) {
      const text = err instanceof QuerySyntaxError ? `${err.message}\n${err.pointer()}` : (err as Error).message;
      this.post({ type: 'error', requestId: message.requestId, message: text });
    }
  }

  /** The rows the page scrolled to, of the query it shows; an older query's ask is not answered. */
  private async answerRowsFor(message: Extract<TableWebviewMessage, { type: 'rowsFor' }>): Promise<void> {
    const answering = this.answering;
    if (!answering || answering.requestId !== message.requestId || this.shown?.requestId !== message.requestId) return;
    const rows = this.rowsOf(answering.columns, await this.ws.tableAmong(null, message.ids.slice(0, MAX_ROWS_ASKED), answering.paramKeys));
    if (this.answering !== answering || !this.shown) return;
    for (const r of rows) this.shown.rows.set(r.id, JSON.stringify(r));
    this.post({ type: 'rowData', requestId: message.requestId, rows });
  }

  /**
   * A live run's tick: only the named runs can have changed. Their rows are made again and
   * compared with what the page was sent; the query's order is asked again (ids only, no rows)
   * only when a run joined or left it, or the sort is by something a live run changes.
   */
  private patchLiveRuns(ids: readonly string[], matched: TableRow[], sort: SortKey[]): void {
    const shown = this.shown!;
    const where = this.answering!.where;
    const matchedIds = new Set(matched.map((r) => r.id));
    shown.members ??= new Set(shown.order);
    const members = shown.members;
    const joinedOrLeft = ids.some((id) => members.has(id) !== matchedIds.has(id));
    const changed = matched.filter((r) => shown.rows.get(r.id) !== JSON.stringify(r));
    if (!joinedOrLeft && changed.length === 0) return;
    let order: string[] | null = null;
    if (joinedOrLeft || (changed.length > 0 && !orderFixedWhileLive(sort))) {
      const fresh = this.ws.orderedIds(where, sort);
      if (fresh.length !== shown.order.length || fresh.some((id, i) => shown.order[i] !== id)) order = fresh;
    }
    for (const id of ids) if (!matchedIds.has(id)) shown.rows.delete(id);
    for (const r of changed) shown.rows.set(r.id, JSON.stringify(r));
    if (order) {
      shown.order = order;
      shown.members = null;
    }
    this.post({ type: 'patch', requestId: shown.requestId, changed, order, total: shown.order.length });
  }

  /** The plots' values: every run the query matches, one value per field, numbers as numbers. */
  private async answerPlot(message: Extract<TableWebviewMessage, { type: 'plot' }>): Promise<void> {
    try {
      const where = parseQuery(message.where);
      const paramKeys = message.fields.filter((f) => f.kind === 'param').map((f) => f.name);
      const { runs, params } = await this.ws.table(where, [], paramKeys);
      const fields: PlotField[] = message.fields.map((f) => ({
        key: fieldKey(f),
        kind: f.kind,
        name: f.name,
        values: runs.map((run) => {
          if (f.kind === 'metric') return run.metrics.find((m) => m.key === f.name)?.last ?? null;
          const text = params.get(run.id)?.[f.name] ?? null;
          return text !== null && text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
        }),
      }));
      this.post({ type: 'plotData', requestId: message.requestId, data: { ids: runs.map((r) => r.id), names: runs.map((r) => visibleBidi(r.name)), fields } });
    } catch (err) {
      const text = err instanceof QuerySyntaxError ? `${err.message}\n${err.pointer()}` : (err as Error).message;
      this.post({ type: 'error', requestId: message.requestId, message: text });
    }
  }

  /** The default columns as last made: a pass over every run, so made again only when runs or keys changed. */
  private defaults: { generation: number; keys: string; columns: TableColumn[] } | null = null;

  /** Name, status, when, branch, commit; then the first metrics and params by name. */
  private defaultColumns(keys: { params: string[]; metrics: string[] }): TableColumn[] {
    const keysText = JSON.stringify(keys);
    if (this.defaults?.generation !== this.ws.generation || this.defaults.keys !== keysText) {
      this.defaults = { generation: this.ws.generation, keys: keysText, columns: this.makeDefaultColumns(keys) };
    }
    return this.defaults.columns;
  }

  private makeDefaultColumns(keys: { params: string[]; metrics: string[] }): TableColumn[] {
    // Where runs were imported, which tool wrote each one is worth a column; elsewhere it would say RunLens on every row.
    const runs = this.ws.runs();
    const extra: TableColumn[] = [];
    if (runs.some((run) => run.source)) extra.push({ kind: 'attr', key: 'source' });
    // Runs of more than one person or machine (pulled from teammates): who ran each one.
    if (new Set(runs.map((run) => `${run.user}@${run.host}`)).size > 1) extra.push({ kind: 'attr', key: 'user' });
    const attributes = [...ATTRIBUTE_COLUMNS.slice(0, 2), ...extra, ...ATTRIBUTE_COLUMNS.slice(2)];
    return [...attributes, ...keys.metrics.slice(0, 4).map((key) => ({ kind: 'metric' as const, key })), ...keys.params.slice(0, 3).map((key) => ({ kind: 'param' as const, key }))];
  }

  /** What Runs Table answers the workbench: not the panel and the runs it reaches (see ComparePanel.toJSON). */
  toJSON(): { view: string } {
    return { view: TABLE_VIEW_TYPE };
  }

  dispose(): void {
    if (TablePanel.current === this) TablePanel.current = undefined;
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
