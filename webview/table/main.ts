import '@vscode-elements/elements/dist/vscode-button/index.js';
import { visibleBidi } from '../../src/core/safeText';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-multi-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import { custom, el, formatNumber } from '../compare/dom';
import { CrossRunPlots, type PlotChoices } from '../plots/crossRunPlots';
import type { PlotFieldRef } from '../plots/types';
import type { TableColumn, TableHostMessage, TableRow, TableState, TableWebviewMessage } from './protocol';

declare function acquireVsCodeApi(): { postMessage(message: TableWebviewMessage): void; getState(): TableState | undefined; setState(state: TableState): void };

const vscode = acquireVsCodeApi();
const post = (message: TableWebviewMessage) => vscode.postMessage(message);
const ROW_HEIGHT = 24;
const OVERSCAN = 10;

const state: TableState = vscode.getState() ?? { where: '', sort: '-started', columns: null };
let columns: TableColumn[] = [];
/**
 * The order of every run of the answer (ids); `rows` are the ids shown: all of them, or those inside
 * the plot's brushes. The rows themselves come as they scroll into view: `byId` holds those sent.
 */
let order: string[] = [];
let rows: string[] = [];
const byId = new Map<string, TableRow>();
/** Ids asked for with `rowsFor` and not answered yet, for the query `latestRequest`; and those to ask next. */
const asked = new Set<string>();
const toAsk = new Set<string>();
let askTimer: ReturnType<typeof setTimeout> | undefined;
let brushFilter: Set<string> | null = null;
let available: { params: string[]; metrics: string[] } = { params: [], metrics: [] };
const selected = new Set<string>();
let anchor: number | null = null;
let latestRequest = 0;
/** The query whose rows `byId` holds: the complete answer after a first screen keeps them. */
let answered = 0;
let firstPaint = true;

const root = document.getElementById('root')!;
const status = el('span', { class: 'count' });
const error = el('pre', { class: 'error', hidden: true });
const whereField = custom('vscode-textfield', { placeholder: 'Filter: metrics.acc > 0.9 and params.lr < 0.01 and status = finished', id: 'where' }) as HTMLElement & { value: string };
// A property, not the attribute: the text field reads its value only from the property.
whereField.value = state.where;
const compareButton = custom('vscode-button', { id: 'compare', disabled: true }, 'Compare selected');
const plotButton = custom('vscode-button', { id: 'plot-toggle', secondary: true }, 'Plots');
const columnPicker = custom('vscode-multi-select', { id: 'columns', 'aria-label': 'Columns' }) as HTMLElement & { value: string[] };
const header = el('div', { class: 'row header', role: 'row' });
const spacer = el('div', { class: 'spacer' });
const windowEl = el('div', { class: 'window', role: 'rowgroup' });
const scroller = el('div', { class: 'scroller', id: 'scroller' }, spacer, windowEl);

const plotSlot = el('div', { class: 'plot-slot' });
root.replaceChildren(el('div', { class: 'toolbar' }, whereField, columnPicker, compareButton, plotButton, status), error, plotSlot, el('div', { class: 'table', role: 'table' }, header, scroller));

/**
 * The cross-run plots over every run the query matches. Their values come
 * from the host for the fields they draw; a box in the scatter selects runs,
 * brushes in the parallel coordinates filter the rows and select them, and
 * Compare selected follows.
 */
let plotRequest = 0;
let plotTimer: ReturnType<typeof setTimeout> | undefined;
const plots = new CrossRunPlots({ mode: 'scatter', x: null, y: null, color: null, logX: false, logY: false, axes: [] } satisfies PlotChoices, {
  fieldsChanged: () => requestPlot(),
  open: (runId) => post({ type: 'open', runId }),
  select: (ids, by) => {
    if (by === 'brush') {
      brushFilter = ids;
      applyBrush();
    }
    selected.clear();
    for (const id of ids ?? []) selected.add(id);
    selectionChanged();
    renderWindow();
  },
});

function requestPlot(): void {
  if (!plots.root.isConnected) return;
  clearTimeout(plotTimer);
  plotTimer = setTimeout(() => post({ type: 'plot', requestId: ++plotRequest, where: state.where, fields: plots.wanted() }), 50);
}

function availableFields(): PlotFieldRef[] {
  return [...available.params.map((name) => ({ kind: 'param' as const, name })), ...available.metrics.map((name) => ({ kind: 'metric' as const, name }))];
}

plotButton.addEventListener('click', () => {
  if (plots.root.isConnected) {
    plotSlot.replaceChildren();
    brushFilter = null;
    applyBrush();
    return;
  }
  plotSlot.replaceChildren(plots.root);
  plots.setAvailable(availableFields());
  requestPlot();
});

function applyBrush(): void {
  rows = brushFilter ? order.filter((id) => brushFilter!.has(id)) : order;
  invalidateRows(true);
  showRows(rows.length, true);
}

function quote(key: string): string {
  return /^[A-Za-z_][\w./-]*$/.test(key) ? key : `\`${key}\``;
}

function sortKeyOf(c: TableColumn): string {
  return c.kind === 'attr' ? c.key : `${c.kind === 'metric' ? 'metrics' : 'params'}.${quote(c.key)}`;
}

function query(): void {
  latestRequest++;
  state.where = whereField.value ?? '';
  vscode.setState(state);
  post({ type: 'query', requestId: latestRequest, where: state.where, sort: state.sort, columns: state.columns });
}

function cellText(v: string | number | null): string {
  return typeof v === 'number' ? formatNumber(v) : (v ?? '—');
}

function renderHeader(): void {
  const template = columns.map((c) => (c.kind === 'attr' && c.key === 'name' ? 'minmax(12em, 2fr)' : 'minmax(7em, 1fr)')).join(' ');
  document.documentElement.style.setProperty('--columns', template);
  header.replaceChildren(
    ...columns.map((c) => {
      const key = sortKeyOf(c);
      const mark = state.sort === key ? ' ▲' : state.sort === `-${key}` ? ' ▼' : '';
      const cell = el('div', { class: `cell ${c.kind}`, role: 'columnheader', title: `sort by ${key}` }, `${c.kind === 'attr' ? c.key : c.key}${mark}`);
      cell.addEventListener('click', () => {
        state.sort = state.sort === `-${key}` ? key : `-${key}`;
        query();
      });
      return cell;
    }),
  );
}

/**
 * The rows in the DOM, by the index of the run they show. Scrolling keeps a
 * row that stays in view as it is (only rows entering the view get text) and
 * gives the elements of rows leaving it to those entering: a frame touches
 * about as many rows as scrolled past, not every row in view.
 */
const shown = new Map<number, HTMLElement>();
let shownData: string[] | null = null;

function newRow(): HTMLElement {
  return el('div', { class: 'row', role: 'row' }, ...columns.map((c) => el('div', { class: `cell ${c.kind}`, role: 'cell' })));
}

/** A row of the window; one not sent yet shows empty cells until its row comes. Says whether it had its row. */
function fill(row: HTMLElement, id: string, index: number): boolean {
  row.dataset.index = String(index);
  row.dataset.id = id;
  row.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
  const r = byId.get(id);
  const cells = row.children;
  for (let c = 0; c < cells.length; c++) {
    const shown = r ? visibleBidi(cellText(r.cells[c] ?? null)) : '';
    if (cells[c]!.textContent !== shown) cells[c]!.textContent = shown;
  }
  row.toggleAttribute('data-pending', !r);
  return Boolean(r);
}

/** Asks for the rows in view that the page lacks, once per frame's worth of scrolling. */
function askForRows(ids: string[]): void {
  for (const id of ids) toAsk.add(id);
  if (askTimer !== undefined) return;
  askTimer = setTimeout(() => {
    askTimer = undefined;
    const wanted = [...toAsk].filter((id) => !byId.has(id) && !asked.has(id));
    toAsk.clear();
    for (const id of wanted) asked.add(id);
    if (wanted.length) post({ type: 'rowsFor', requestId: latestRequest, ids: wanted });
  }, 16);
}

/** Forgets what the rows show: the runs, their order or the columns changed. */
function invalidateRows(keepElements: boolean): void {
  if (!keepElements) {
    windowEl.replaceChildren();
    shown.clear();
    return;
  }
  shownData = null;
}

/** Only the rows in view (and a few around) are in the DOM. */
function renderWindow(): void {
  const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scroller.scrollTop + scroller.clientHeight) / ROW_HEIGHT) + OVERSCAN);
  const stale = shownData !== rows;
  shownData = rows;
  const free: HTMLElement[] = [];
  for (const [index, row] of shown) {
    if (stale || index < first || index >= last) {
      shown.delete(index);
      free.push(row);
    }
  }
  let reused = 0;
  const missing: string[] = [];
  for (let i = first; i < last; i++) {
    const id = rows[i]!;
    let row = shown.get(i);
    if (!row || (row.hasAttribute('data-pending') && byId.has(id))) {
      row ??= reused < free.length ? free[reused++]! : windowEl.appendChild(newRow());
      shown.set(i, row);
      if (!fill(row, id, i) && !asked.has(id) && !toAsk.has(id)) missing.push(id);
    }
    const className = `row status-${byId.get(id)?.status ?? 'pending'}${selected.has(id) ? ' selected' : ''}`;
    if (row.className !== className) row.className = className;
  }
  if (missing.length) askForRows(missing);
  for (let k = reused; k < free.length; k++) free[k]!.remove();
  // After a new answer, put the DOM in the order shown, for screen readers (scrolling alone leaves it).
  if (stale) {
    const ordered: HTMLElement[] = [];
    for (let i = first; i < last; i++) ordered.push(shown.get(i)!);
    windowEl.append(...ordered);
  }
}

function select(index: number, event: MouseEvent): void {
  const id = rows[index]!;
  if (event.shiftKey && anchor !== null) {
    const [a, b] = [Math.min(anchor, index), Math.max(anchor, index)];
    for (let i = a; i <= b; i++) selected.add(rows[i]!);
  } else if (event.ctrlKey || event.metaKey) {
    if (!selected.delete(id)) selected.add(id);
    anchor = index;
  } else {
    selected.clear();
    selected.add(id);
    anchor = index;
  }
  selectionChanged();
  renderWindow();
}

function selectionChanged(): void {
  compareButton.toggleAttribute('disabled', selected.size === 0);
  compareButton.textContent = selected.size > 1 ? `Compare ${selected.size} runs` : 'Compare selected';
}

windowEl.addEventListener('click', (event) => {
  const row = (event.target as HTMLElement).closest<HTMLElement>('.row');
  if (row?.dataset.index) select(Number(row.dataset.index), event);
});
windowEl.addEventListener('dblclick', (event) => {
  const row = (event.target as HTMLElement).closest<HTMLElement>('.row');
  if (row?.dataset.id) post({ type: 'open', runId: row.dataset.id });
});
// Chromium already delivers one scroll event per frame: render in it, not a frame later.
scroller.addEventListener('scroll', () => renderWindow());
whereField.addEventListener('keydown', (event) => {
  if ((event as KeyboardEvent).key === 'Enter') query();
});
compareButton.addEventListener('click', () => post({ type: 'compare', runIds: order.filter((id) => selected.has(id)) }));
columnPicker.addEventListener('change', () => {
  const chosen = new Set(columnPicker.value);
  state.columns = [...columns.filter((c) => c.kind === 'attr'), ...[...chosen].map((v) => ({ kind: v.startsWith('metric:') ? 'metric' : 'param', key: v.slice(v.indexOf(':') + 1) }) as TableColumn)];
  query();
});
window.addEventListener('resize', () => renderWindow());

function renderPicker(): void {
  const chosen = new Set(columns.filter((c) => c.kind !== 'attr').map((c) => `${c.kind}:${c.key}`));
  columnPicker.replaceChildren(
    ...available.metrics.map((k) => custom('vscode-option', { value: `metric:${k}`, selected: chosen.has(`metric:${k}`) }, `metric: ${k}`)),
    ...available.params.map((k) => custom('vscode-option', { value: `param:${k}`, selected: chosen.has(`param:${k}`) }, `param: ${k}`)),
  );
}

window.addEventListener('message', (event: MessageEvent<TableHostMessage>) => {
  const message = event.data;
  if (message.type === 'filter') {
    whereField.value = message.where;
    query();
    return;
  }
  if (message.type === 'plotData') {
    if (message.requestId === plotRequest) plots.setData(message.data);
    return;
  }
  if (message.requestId !== latestRequest) return; // an answer to an older query
  if (message.type === 'error') {
    error.textContent = message.message;
    error.hidden = false;
    return;
  }
  error.hidden = true;
  if (message.type === 'rowData') {
    for (const r of message.rows) {
      byId.set(r.id, r);
      asked.delete(r.id);
    }
    renderWindow();
    return;
  }
  if (message.type === 'patch') {
    for (const r of message.changed) byId.set(r.id, r);
    // Asked before and not answered (a run gone meanwhile), or asked of an order now moved: asked again if in view.
    asked.clear();
    if (message.order) order = message.order;
    applyBrush();
    requestPlot();
    return;
  }
  if (message.query.where !== state.where || message.query.sort !== state.sort || JSON.stringify(message.query.columns) !== JSON.stringify(state.columns)) {
    Object.assign(state, message.query);
    whereField.value = state.where;
    vscode.setState(state);
  }
  const pickerChanged = JSON.stringify(available) !== JSON.stringify(message.available) || JSON.stringify(columns) !== JSON.stringify(message.columns);
  invalidateRows(JSON.stringify(columns) === JSON.stringify(message.columns));
  columns = message.columns;
  // A new answer (not the rest of the one whose first screen came): rows of the one before may be of other columns or stale.
  if (!message.complete || answered !== message.requestId) {
    byId.clear();
    asked.clear();
    toAsk.clear();
  }
  answered = message.requestId;
  for (const r of message.rows) byId.set(r.id, r);
  order = message.order ?? message.rows.map((r) => r.id);
  rows = brushFilter ? order.filter((id) => brushFilter!.has(id)) : order;
  available = message.available;
  renderHeader();
  if (pickerChanged) {
    renderPicker();
    if (plots.root.isConnected) plots.setAvailable(availableFields());
  }
  showRows(brushFilter ? rows.length : message.total, message.complete);
  if (message.complete) requestPlot();
  if (firstPaint) {
    firstPaint = false;
    requestAnimationFrame(() => {
      performance.mark('runlens-table-first-paint');
      document.body.dataset.firstPaintAt = String(Date.now());
    });
  }
});


function showRows(total: number, complete: boolean): void {
  const present = new Set(rows);
  for (const id of [...selected]) if (!present.has(id)) selected.delete(id);
  spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
  status.textContent = complete ? `${total.toLocaleString()} run${total === 1 ? '' : 's'}` : `first ${total.toLocaleString()} runs, loading the rest…`;
  renderWindow();
}

post({ type: 'ready' });
query();
