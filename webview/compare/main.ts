import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type uPlot from 'uplot';
import type { Comparison } from '../../src/core/compare';
import { alignSeries, makeChart, type ChartOptions } from './charts';
import { custom, el, formatNumber } from './dom';
import { CrossRunPlots } from '../plots/crossRunPlots';
import type { PlotField, PlotRuns } from '../plots/types';
import type { ReproductionReport } from '../../src/core/reproduce/reportTypes';
import type { CodeRow, CompareState, HostMessage, RunDetail, WebviewMessage, XAxis } from './protocol';

declare function acquireVsCodeApi(): { postMessage(message: WebviewMessage): void; getState(): CompareState | undefined; setState(state: CompareState): void };

const vscode = acquireVsCodeApi();
const post = (message: WebviewMessage) => vscode.postMessage(message);
const root = document.getElementById('root')!;

let comparison: Comparison | null = null;
let code: { rows: CodeRow[] | null; note: string | null } = { rows: null, note: null };
let onlyDiffering = true;
const chartOptions: ChartOptions = { x: 'step', log: false, ema: 0 };
const charts = new Map<string, { chart: uPlot | null; host: HTMLElement; note: HTMLElement; range: [number, number] | null }>();
let nextRequest = 1;
const pending = new Map<number, string>();

function section(title: string, id: string, content: Node, open = true): HTMLElement {
  const box = custom('vscode-collapsible', { title, open, id }, content);
  return box;
}

function header(c: Comparison): HTMLElement {
  const table = el('table', { class: 'runs' });
  const row = el('tr');
  for (const run of c.runs) {
    const commit = run.commit ? el('a', { href: '#', class: 'commit', title: 'Open the code of this run' }, `${run.commit.slice(0, 8)}${run.dirty ? '*' : ''}`) : el('span', {}, 'no git');
    commit.addEventListener('click', (e) => {
      e.preventDefault();
      post({ type: 'openCode', runId: run.id });
    });
    row.append(
      el(
        'th',
        { class: `run status-${run.status}` },
        el('div', { class: 'name' }, run.name),
        el('div', { class: 'meta' }, `${run.status} · ${run.source ? `imported from ${run.source}` : (run.branch ?? '(no branch)')} · `, commit, ` · ${age(run.startedAt)}`),
        el('div', { class: 'meta author' }, `by ${run.author}`),
      ),
    );
  }
  table.append(row);
  return table;
}

function age(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  return s < 3600 ? `${Math.floor(s / 60)}m ago` : s < 86400 ? `${Math.floor(s / 3600)}h ago` : `${Math.floor(s / 86400)}d ago`;
}

function paramsTable(c: Comparison): HTMLElement {
  const wrap = el('div');
  if (c.runs.length === 1) onlyDiffering = false; // one run: every param is the point
  const toggle = custom('vscode-checkbox', { label: 'Only what differs', checked: onlyDiffering });
  toggle.addEventListener('change', () => {
    onlyDiffering = (toggle as HTMLInputElement).checked;
    wrap.replaceChildren(toggle, table());
  });
  const table = () => {
    const t = el('table', { class: 'grid params' });
    t.append(el('tr', {}, el('th', {}, 'param'), ...c.runs.map((r) => el('th', {}, r.name))));
    for (const p of c.params) {
      if (onlyDiffering && !p.differs) continue;
      const tr = el('tr', { class: p.differs ? 'differs' : undefined, 'data-key': p.key }, el('td', { class: 'key' }, p.key));
      p.values.forEach((v, i) => {
        const source = p.sources[i];
        const cell = el('td', { class: v === null ? 'absent' : undefined, title: source ?? undefined }, v ?? '—');
        if (source?.startsWith('config:')) {
          cell.classList.add('link');
          cell.addEventListener('click', () => post({ type: 'openParamSource', runId: c.runs[i]!.id, key: p.key }));
        }
        tr.append(cell);
      });
      t.append(tr);
    }
    const empty = c.params.length === 0 ? 'No params recorded.' : 'Every param is the same in these runs.';
    if (t.rows.length === 1) t.append(el('tr', {}, el('td', { colspan: String(c.runs.length + 1), class: 'absent' }, empty)));
    return t;
  };
  wrap.append(toggle, table());
  return wrap;
}

function metricsTable(c: Comparison): HTMLElement {
  const t = el('table', { class: 'grid metrics' });
  t.append(el('tr', {}, el('th', {}, 'metric'), ...c.runs.map((r) => el('th', {}, r.name))));
  for (const m of c.metrics) {
    const tr = el('tr', {}, el('td', { class: 'key', title: `best is the ${m.goal === 'min' ? 'lowest' : 'highest'} last value` }, m.key));
    // "Best" means something only beside another run.
    const best = c.runs.length > 1 ? m.best : null;
    m.last.forEach((v, i) => {
      tr.append(el('td', { class: i === best ? 'best' : v === null ? 'absent' : undefined, title: `min ${formatNumber(m.min[i] ?? null)}, max ${formatNumber(m.max[i] ?? null)}` }, formatNumber(v), i === best ? custom('vscode-badge', { variant: 'counter' }, 'best') : ''));
    });
    t.append(tr);
  }
  return t;
}

function valueTable(rows: { key: string; values: (string | null)[] }[], c: Comparison, empty: string, shorten = false): HTMLElement {
  if (rows.length === 0) return el('p', { class: 'absent' }, empty);
  const t = el('table', { class: 'grid' });
  t.append(el('tr', {}, el('th', {}, ''), ...c.runs.map((r) => el('th', {}, r.name))));
  for (const r of rows) t.append(el('tr', { class: 'differs' }, el('td', { class: 'key' }, r.key), ...r.values.map((v) => el('td', { class: v === null ? 'absent' : undefined, title: v ?? undefined }, v === null ? '—' : shorten ? `${v.slice(0, 12)}…` : v))));
  return t;
}

function codeTable(rows: CodeRow[] | null, note: string | null, c: Comparison): HTMLElement {
  if (!rows) return el('p', { class: 'absent' }, note ?? 'No code snapshots to compare.');
  if (rows.length === 0) return el('p', { class: 'absent' }, 'Every run ran the same code.');
  const t = el('table', { class: 'grid code' });
  t.append(el('tr', {}, el('th', {}, `file (against ${c.runs[0]!.name})`), ...c.runs.map((r) => el('th', {}, r.name))));
  for (const row of rows) {
    const tr = el('tr', {}, el('td', { class: 'key' }, row.file));
    row.status.forEach((s, i) => {
      const cell = el('td', { class: s ? 'link' : 'absent' }, s || '·');
      if (s && i > 0) cell.addEventListener('click', () => post({ type: 'openFileDiff', file: row.file, leftRunId: c.runs[0]!.id, rightRunId: c.runs[i]!.id }));
      tr.append(cell);
    });
    t.append(tr);
  }
  return t;
}

function chartControls(): HTMLElement {
  const xSelect = custom('vscode-single-select', { id: 'x-axis' }, ...(['step', 'time', 'relative'] as XAxis[]).map((x) => custom('vscode-option', { value: x, selected: chartOptions.x === x }, x === 'relative' ? 'relative time' : x === 'time' ? 'wall time' : 'step')));
  xSelect.addEventListener('change', () => {
    chartOptions.x = (xSelect as unknown as { value: XAxis }).value;
    for (const c of charts.values()) c.range = null;
    requestAll();
  });
  const log = custom('vscode-checkbox', { label: 'Log scale', id: 'log-scale' });
  log.addEventListener('change', () => {
    chartOptions.log = (log as HTMLInputElement).checked;
    requestAll();
  });
  const ema = custom('vscode-single-select', { id: 'ema' }, ...[0, 0.6, 0.9, 0.99].map((w) => custom('vscode-option', { value: String(w), selected: w === 0 }, w === 0 ? 'no smoothing' : `EMA ${w}`)));
  ema.addEventListener('change', () => {
    chartOptions.ema = Number((ema as unknown as { value: string }).value);
    requestAll();
  });
  return el('div', { class: 'controls' }, el('span', {}, 'x: '), xSelect, log, el('span', {}, ' smoothing: '), ema, el('span', { class: 'hint' }, ' drag to zoom, double-click to reset'));
}

function requestSeries(metric: string): void {
  const entry = charts.get(metric);
  if (!entry) return;
  const requestId = nextRequest++;
  pending.set(requestId, metric);
  // A bucket draws three points (min, max, last): one per two pixel columns keeps about 1.5 points per column (DESIGN.md section 4).
  const buckets = Math.max(100, Math.floor((entry.host.clientWidth || 600) / 2));
  post({ type: 'requestSeries', requestId, metric, x: chartOptions.x, buckets, range: entry.range });
}

function requestAll(): void {
  for (const metric of charts.keys()) requestSeries(metric);
}

function detailSections(d: RunDetail): HTMLElement[] {
  const env = el('table', { class: 'grid' });
  for (const row of d.environment) env.append(el('tr', {}, el('td', { class: 'key' }, row.key), el('td', {}, row.value)));
  const files = el('table', { class: 'grid files' });
  files.append(el('tr', {}, el('th', {}, ''), el('th', {}, 'path'), el('th', {}, 'sha256'), el('th', {}, 'size')));
  for (const f of d.files) {
    files.append(el('tr', {}, el('td', {}, f.kind), el('td', { class: 'key' }, f.path), el('td', { title: f.sha256 ?? undefined }, f.note ?? `${(f.sha256 ?? '').slice(0, 16)}…`), el('td', {}, `${f.size} bytes${f.files > 1 ? `, ${f.files} files` : ''}`)));
  }
  const runId = comparison?.runs[0]?.id;
  const reproduce = d.canReproduce && runId ? custom('vscode-button', { id: 'reproduce', title: 'Re-run this run from its snapshot and report what differs' }, 'Reproduce') : null;
  reproduce?.addEventListener('click', () => post({ type: 'reproduce', runId: runId! }));
  return [
    section('Command', 'command', el('div', {}, el('code', {}, d.command), el('div', { class: 'absent' }, `in ${d.cwd || '.'}`), ...d.problems.map((p) => el('p', { class: 'error' }, p)), reproduce)),
    section('Environment', 'environment', d.environment.length ? env : el('p', { class: 'absent' }, 'Not recorded.'), false),
    section('Data and artifacts', 'files', d.files.length ? files : el('p', { class: 'absent' }, 'None declared.')),
    section('Output (last lines)', 'stdout', el('pre', { class: 'stdout', id: 'stdout' }, d.stdoutTail || '(nothing printed)')),
  ];
}

let reproduction: ReproductionReport | null = null;

/** A run beside its reproduction: the verdict, then each difference named, then the metrics' agreement. */
function reproductionSection(r: ReproductionReport): HTMLElement {
  const verdict = el('p', { class: `verdict ${r.verdict}`, id: 'verdict' }, r.verdict === 'reproduced' ? 'Reproduced' : 'Diverged', el('span', { class: 'tolerance' }, ` within a relative ${r.tolerance.relative} and absolute ${r.tolerance.absolute} tolerance`));
  const causes = r.causes.length
    ? el('ul', { class: 'causes' }, ...r.causes.map((c) => el('li', { 'data-kind': c.kind }, el('span', { class: 'cause-kind' }, c.kind), ` ${c.text}`)))
    : el('p', { class: 'absent' }, 'Nothing differs: same code, data, environment and seed.');
  const t = el('table', { class: 'grid agreement' });
  t.append(el('tr', {}, el('th', {}, 'metric'), el('th', {}, 'original, final'), el('th', {}, 'reproduction, final'), el('th', {}, 'largest step difference'), el('th', {}, 'steps'), el('th', {}, '')));
  for (const m of r.metrics) {
    t.append(
      el(
        'tr',
        { class: m.within ? undefined : 'differs' },
        el('td', { class: 'key' }, m.key),
        el('td', {}, formatNumber(m.originalFinal)),
        el('td', {}, formatNumber(m.reproductionFinal)),
        el('td', {}, m.maxStepDifference === null ? '—' : formatNumber(Number(m.maxStepDifference))),
        el('td', {}, `${m.stepsCompared}${m.stepsMissing ? ` (+${m.stepsMissing} in one run only)` : ''}`),
        el('td', {}, m.within ? 'same' : m.firstDivergentStep !== null ? `differs from step ${m.firstDivergentStep}` : 'differs'),
      ),
    );
  }
  return section('Reproduction', 'reproduction', el('div', {}, verdict, causes, r.metrics.length ? t : el('p', { class: 'absent' }, 'No metrics logged.')));
}

/**
 * Scatter and parallel coordinates of the compared runs' params and last
 * metrics, from what the comparison holds; a box or brush offers Compare of
 * the runs it chose. No cap on the runs.
 */
let plots: CrossRunPlots | null = null;

function plotData(c: Comparison): PlotRuns {
  const number = (text: string | null) => (text !== null && text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text);
  const fields: PlotField[] = [
    ...c.params.map((p) => ({ key: `params.${p.key}`, kind: 'param' as const, name: p.key, values: p.values.map(number) })),
    ...c.metrics.map((m) => ({ key: `metrics.${m.key}`, kind: 'metric' as const, name: m.key, values: m.last })),
  ];
  return { ids: c.runs.map((r) => r.id), names: c.runs.map((r) => r.name), fields };
}

function plotsSection(c: Comparison): HTMLElement {
  const chosen = el('div', { class: 'plot-chosen' });
  plots ??= new CrossRunPlots(
    { mode: 'scatter', x: null, y: null, color: null, logX: false, logY: false, axes: [] },
    {
      fieldsChanged: () => undefined,
      open: (runId) => post({ type: 'showRun', runId }),
      select: (ids) => {
        const picked = [...(ids ?? [])];
        chosen.replaceChildren();
        if (picked.length < 1) return;
        const button = custom('vscode-button', { id: 'compare-chosen' }, `Compare these ${picked.length} run${picked.length === 1 ? '' : 's'}`);
        button.addEventListener('click', () => post({ type: 'compareRuns', runIds: picked }));
        chosen.append(button);
      },
    },
  );
  const data = plotData(c);
  const box = el('div', {}, plots.root, chosen);
  // Drawn once the section is in the page: the canvas takes its width from it.
  requestAnimationFrame(() => {
    plots!.setAvailable(data.fields.map((f) => ({ kind: f.kind, name: f.name })));
    plots!.setData(data);
  });
  return section('Across runs', 'across-runs', box);
}

function render(c: Comparison, code: CodeRow[] | null, codeNote: string | null, detail: RunDetail | null): void {
  const chartsBox = el('div', { class: 'charts' });
  // A chart holds window listeners (resize, mouse) until it is destroyed: clearing the map is not enough.
  for (const entry of charts.values()) entry.chart?.destroy();
  charts.clear();
  for (const m of c.metrics) {
    const host = el('div', { class: 'chart', 'data-metric': m.key });
    const note = el('div', { class: 'unplotted' });
    chartsBox.append(el('div', { class: 'chart-card' }, host, note));
    const entry = { chart: null as uPlot | null, host, note, range: null as [number, number] | null };
    // A zoom into an empty range leaves no chart to double-click: the card resets it.
    host.addEventListener('dblclick', () => {
      if (entry.chart || !entry.range) return;
      entry.range = null;
      requestSeries(m.key);
    });
    charts.set(m.key, entry);
  }
  const title = detail ? `Run ${c.runs[0]!.name}` : `Comparing ${c.runs.length} run${c.runs.length === 1 ? '' : 's'}`;
  root.replaceChildren(
    el('h1', {}, title),
    el('div', { id: 'header' }, header(c)),
    ...(reproduction ? [reproductionSection(reproduction)] : []),
    section('Params and config', 'params', paramsTable(c)),
    section('Metrics', 'metrics', el('div', { id: 'metrics-table' }, metricsTable(c))),
    section('Charts', 'charts', el('div', {}, chartControls(), c.metrics.length ? chartsBox : el('p', { class: 'absent' }, 'These runs logged no metrics.'))),
    ...(c.runs.length >= 2 ? [plotsSection(c)] : []),
    ...(detail
      ? detailSections(detail)
      : [
          section('Environment', 'environment', valueTable(c.environment, c, 'Same interpreter and packages.')),
          section('Data', 'data', valueTable(c.data, c, 'Same data (or none declared).', true)),
          section('Code', 'code', codeTable(code, codeNote, c)),
        ]),
  );
  requestAll();
}

/** A live run moved on: replace what changed, keep the rest (and the charts' zoom). */
function applyLive(message: Extract<HostMessage, { type: 'live' }>): void {
  if (!comparison) return;
  const known = new Set(comparison.metrics.map((m) => m.key));
  comparison = { ...comparison, runs: message.runs, metrics: message.metrics };
  document.getElementById('header')?.replaceChildren(header(comparison));
  document.getElementById('metrics-table')?.replaceChildren(metricsTable(comparison));
  if (plots?.root.isConnected) plots.setData(plotData(comparison));
  const stdout = document.getElementById('stdout');
  if (stdout && message.detail) stdout.textContent = message.detail.stdoutTail || '(nothing printed)';
  if (message.metrics.some((m) => !known.has(m.key))) {
    render(comparison, code.rows, code.note, message.detail);
    return;
  }
  requestAll();
}

function drawSeries(metric: string, message: Extract<HostMessage, { type: 'series' }>): void {
  const entry = charts.get(metric);
  if (!entry || !comparison) return;
  const names = message.series.map((s) => comparison!.runs.find((r) => r.id === s.runId)?.name ?? s.runId);
  const { data, unplotted } = alignSeries(message.series, chartOptions);
  entry.chart?.destroy();
  entry.chart = null;
  entry.host.replaceChildren();
  if (message.series.every((s) => (s.kind === 'points' ? s.x.length : s.bucket.length) === 0)) {
    entry.host.append(el('p', { class: 'absent' }, `${metric}: no points in these runs' metrics files (only a summary)${entry.range ? ' in this range; double-click to reset' : ''}.`));
    entry.note.textContent = '';
    return;
  }
  entry.chart = makeChart(entry.host, metric, names, data, chartOptions, (range) => {
    entry.range = range;
    requestSeries(metric);
  });
  const notes = unplotted.map((u, i) => (u.nan || u.infinite ? `${names[i]}: ${[u.nan ? `${u.nan} NaN` : '', u.infinite ? `${u.infinite} ±∞` : ''].filter(Boolean).join(', ')} not plotted` : '')).filter(Boolean);
  entry.note.textContent = notes.join(' · ');
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  if (message.type === 'init') {
    comparison = message.comparison;
    vscode.setState({ runIds: message.comparison.runs.map((r) => r.id) });
    code = { rows: message.code, note: message.codeNote };
    reproduction = message.reproduction;
    render(message.comparison, message.code, message.codeNote, message.detail);
  } else if (message.type === 'live') {
    applyLive(message);
  } else if (message.type === 'series') {
    const metric = pending.get(message.requestId);
    pending.delete(message.requestId);
    if (metric) drawSeries(metric, message);
    if (pending.size === 0) {
      // For npm run bench: when every chart asked for has been drawn.
      performance.mark('runlens-compare-painted');
      document.body.dataset.paintedAt = String(Date.now());
    }
  } else if (message.type === 'error') {
    if (message.requestId !== null) pending.delete(message.requestId);
    root.prepend(el('p', { class: 'error' }, message.message));
  }
});

// Charts take their colours from the theme: redraw when it changes.
new MutationObserver(() => requestAll()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(requestAll, 200);
});

post({ type: 'ready' });
