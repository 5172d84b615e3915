import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-multi-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import { formatNumber } from '../../src/core/format';
import { custom, el } from '../compare/dom';
import { makeAxis, type Axis } from './axis';
import { fieldKey, type PlotFieldRef, type PlotRuns } from './types';

export type PlotMode = 'scatter' | 'parallel';

export interface PlotChoices {
  mode: PlotMode;
  x: PlotFieldRef | null;
  y: PlotFieldRef | null;
  color: PlotFieldRef | null;
  logX: boolean;
  logY: boolean;
  axes: PlotFieldRef[];
}

export interface PlotCallbacks {
  /** The fields the plot needs changed: the host is asked for their values. */
  fieldsChanged(fields: PlotFieldRef[]): void;
  /** A point was clicked. */
  open(runId: string): void;
  /** A box selection or brushes chose these runs; null when the brushes were cleared. */
  select(runIds: Set<string> | null, by: 'box' | 'brush'): void;
}

const HEIGHT = 320;
const MARGIN = { left: 64, right: 20, top: 14, bottom: 40 };
const PARALLEL_MARGIN = { left: 40, right: 40, top: 28, bottom: 24 };
/**
 * How many lines a brush frame draws before it leaves the rest to the next
 * frames. A count, not a time: a canvas records strokes at once and paints
 * them when the frame is shown, so a clock read while stroking sees little of
 * the cost. About 1,200 polylines of 8 points paint in 10 ms on a 2-core
 * machine without a GPU (bench).
 */
const LINES_PER_FRAME = 1200;

function themeVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** Two theme colours and the way between them, for a numeric colour field. */
function gradient(): (t: number) => string {
  const parse = (colour: string, fallback: [number, number, number]): [number, number, number] => {
    const hex = /^#([0-9a-f]{6})/i.exec(colour);
    if (!hex) return fallback;
    const n = parseInt(hex[1]!, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  };
  const from = parse(themeVar('--vscode-charts-blue', '#3794ff'), [55, 148, 255]);
  const to = parse(themeVar('--vscode-charts-orange', '#d18616'), [209, 134, 22]);
  return (t) => {
    const c = from.map((f, i) => Math.round(f + (to[i]! - f) * Math.min(1, Math.max(0, t))));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  };
}

function palette(): string[] {
  return ['blue', 'orange', 'green', 'purple', 'red', 'yellow'].map((n, i) => themeVar(`--vscode-charts-${n}`, `hsl(${i * 60}, 60%, 55%)`));
}

/**
 * The cross-run plots of the Runs table and Compare, on canvas, in the
 * theme's colours, over any number of runs:
 * - a scatter of any param or metric against another, coloured by a third,
 *   with log axes; hovering names a run, a click opens it, a drag selects the
 *   runs in its box;
 * - parallel coordinates of chosen params and metrics, text params as ordered
 *   categories; a drag along an axis brushes it, and the runs inside every
 *   brush are the selection.
 */
export class CrossRunPlots {
  readonly root: HTMLElement;
  private readonly canvas = el('canvas', { class: 'plot-canvas', id: 'plot-canvas' });
  private readonly overlay = el('canvas', { class: 'plot-overlay' });
  private readonly tooltip = el('div', { class: 'plot-tooltip', hidden: true });
  private readonly controls = el('div', { class: 'plot-controls' });
  private readonly note = el('span', { class: 'plot-note' });
  private data: PlotRuns = { ids: [], names: [], fields: [] };
  private available: PlotFieldRef[] = [];
  /** Screen positions of the scatter's points (NaN when not drawn), for hovering and boxes. */
  private points = { x: new Float64Array(0), y: new Float64Array(0) };
  /** Parallel coordinates: each axis's brush, [from, to] in 0..1 from the bottom. */
  private brushes = new Map<string, [number, number]>();
  private background: HTMLCanvasElement | null = null;
  /** The parallel coordinates' axes and labels, drawn once per layout. */
  private axesLayer: HTMLCanvasElement | null = null;
  /** Theme colours a brush frame needs, read once per full paint (reading them is a style recalculation). */
  private colours = { focus: '#007fd4', faint: '#888', lerp: (t: number) => String(t) };
  private drag: { x0: number; y0: number; x1: number; y1: number; axis: string | null } | null = null;
  private frame = 0;
  /** The progressive drawing of lines under way; a new paint drops the old one. */
  private lineJob = 0;
  /** Which axes the user picked: the others may move to a field whose values differ. */
  private readonly chosen = { x: false, y: false };

  constructor(
    private choices: PlotChoices,
    private readonly callbacks: PlotCallbacks,
  ) {
    const stage = el('div', { class: 'plot-stage' }, this.canvas, this.overlay, this.tooltip);
    this.root = el('div', { class: 'plots', id: 'plots' }, this.controls, stage, this.note);
    this.overlay.addEventListener('mousemove', (e) => this.onMove(e));
    this.overlay.addEventListener('mousedown', (e) => this.onDown(e));
    window.addEventListener('mouseup', (e) => this.onUp(e));
    this.overlay.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    new ResizeObserver(() => this.draw()).observe(stage);
    // Colours come from the theme: redraw when it changes.
    new MutationObserver(() => {
      this.background = null;
      this.draw();
    }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  get state(): PlotChoices {
    return this.choices;
  }

  /** The fields that can go on axes (the union of the runs' params and metrics). */
  setAvailable(fields: PlotFieldRef[]): void {
    this.available = fields;
    const has = (f: PlotFieldRef | null) => f !== null && fields.some((a) => a.kind === f.kind && a.name === f.name);
    const params = fields.filter((f) => f.kind === 'param');
    const metrics = fields.filter((f) => f.kind === 'metric');
    if (!has(this.choices.x)) this.choices.x = params[0] ?? metrics[1] ?? null;
    if (!has(this.choices.y)) this.choices.y = metrics[0] ?? params[1] ?? null;
    if (this.choices.color && !has(this.choices.color)) this.choices.color = null;
    this.choices.axes = this.choices.axes.filter(has);
    if (this.choices.axes.length === 0) this.choices.axes = [...params.slice(0, 5), ...metrics.slice(0, 3)];
    this.renderControls();
  }

  /** The fields the current plot draws. */
  wanted(): PlotFieldRef[] {
    const c = this.choices;
    const fields = c.mode === 'scatter' ? [c.x, c.y, c.color] : c.axes;
    const seen = new Set<string>();
    return fields.filter((f): f is PlotFieldRef => f !== null && !seen.has(fieldKey(f)) && Boolean(seen.add(fieldKey(f))));
  }

  setData(data: PlotRuns): void {
    this.data = data;
    this.background = null;
    this.axesLayer = null;
    // Given every field (Compare), an axis nobody picked goes to a field whose values differ between the runs.
    const varies = (f: PlotRuns['fields'][number]) => new Set(f.values.map(String)).size > 1;
    const moved = { x: false, y: false };
    for (const [axis, kind] of [['x', 'param'], ['y', 'metric']] as const) {
      const current = this.field(this.choices[axis]);
      if (this.chosen[axis] || (current && varies(current))) continue;
      const better = data.fields.find((f) => f.kind === kind && varies(f) && f.values.some((v) => typeof v === 'number')) ?? data.fields.find((f) => f.kind === kind && varies(f));
      if (better) {
        this.choices[axis] = { kind: better.kind, name: better.name };
        moved[axis] = true;
      }
    }
    if (moved.x || moved.y) this.renderControls();
    this.draw();
  }

  private field(ref: PlotFieldRef | null) {
    return ref ? this.data.fields.find((f) => f.kind === ref.kind && f.name === ref.name) ?? null : null;
  }

  private renderControls(): void {
    const option = (f: PlotFieldRef, chosen: PlotFieldRef | null) =>
      custom('vscode-option', { value: fieldKey(f), selected: chosen !== null && fieldKey(chosen) === fieldKey(f) }, fieldKey(f));
    const select = (id: string, chosen: PlotFieldRef | null, none: boolean, set: (f: PlotFieldRef | null) => void) => {
      const s = custom('vscode-single-select', { id, 'aria-label': id }, ...(none ? [custom('vscode-option', { value: '', selected: chosen === null }, 'none')] : []), ...this.available.map((f) => option(f, chosen)));
      s.addEventListener('change', () => {
        const value = (s as unknown as { value: string }).value;
        set(this.available.find((f) => fieldKey(f) === value) ?? null);
        this.changed();
      });
      return s;
    };
    const mode = custom('vscode-single-select', { id: 'plot-mode', 'aria-label': 'plot' }, custom('vscode-option', { value: 'scatter', selected: this.choices.mode === 'scatter' }, 'Scatter'), custom('vscode-option', { value: 'parallel', selected: this.choices.mode === 'parallel' }, 'Parallel coordinates'));
    mode.addEventListener('change', () => {
      this.choices.mode = (mode as unknown as { value: PlotMode }).value;
      this.brushes.clear();
      this.callbacks.select(null, 'brush');
      this.renderControls();
      this.changed();
    });
    const checkbox = (label: string, checked: boolean, set: (v: boolean) => void) => {
      const box = custom('vscode-checkbox', { label, checked });
      box.addEventListener('change', () => {
        set((box as HTMLInputElement).checked);
        this.draw();
      });
      return box;
    };
    if (this.choices.mode === 'scatter') {
      const pick = (...children: Node[]) => el('span', { class: 'plot-pick' }, ...children);
      this.controls.replaceChildren(
        mode,
        pick(el('span', {}, 'x'), select('plot-x', this.choices.x, false, (f) => ((this.choices.x = f), (this.chosen.x = true))), checkbox('log', this.choices.logX, (v) => (this.choices.logX = v))),
        pick(el('span', {}, 'y'), select('plot-y', this.choices.y, false, (f) => ((this.choices.y = f), (this.chosen.y = true))), checkbox('log', this.choices.logY, (v) => (this.choices.logY = v))),
        pick(el('span', {}, 'colour'), select('plot-color', this.choices.color, true, (f) => (this.choices.color = f))),
        el('span', { class: 'hint' }, 'drag to select runs, click a point to open it'),
      );
    } else {
      const axes = custom('vscode-multi-select', { id: 'plot-axes', 'aria-label': 'axes' }, ...this.available.map((f) => custom('vscode-option', { value: fieldKey(f), selected: this.choices.axes.some((a) => fieldKey(a) === fieldKey(f)) }, fieldKey(f))));
      axes.addEventListener('change', () => {
        const chosen = new Set((axes as unknown as { value: string[] }).value);
        this.choices.axes = this.available.filter((f) => chosen.has(fieldKey(f)));
        for (const key of [...this.brushes.keys()]) if (!chosen.has(key)) this.brushes.delete(key);
        this.changed();
      });
      this.controls.replaceChildren(mode, el('span', {}, 'axes'), axes, el('span', { class: 'hint' }, 'drag along an axis to brush it; click an axis to clear its brush'));
    }
  }

  private changed(): void {
    this.background = null;
    this.axesLayer = null;
    this.callbacks.fieldsChanged(this.wanted());
    this.draw();
  }

  /** The size for the paint under way: read once, since reading a width makes the page lay itself out. */
  private sized: { width: number; height: number; ratio: number } | null = null;

  private size(): { width: number; height: number; ratio: number } {
    if (this.sized) return this.sized;
    const width = Math.max(200, this.canvas.parentElement?.clientWidth ?? 600);
    return { width, height: HEIGHT, ratio: window.devicePixelRatio || 1 };
  }

  private prepare(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
    const { width, height, ratio } = this.size();
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    return ctx;
  }

  draw(): void {
    if (!this.root.isConnected) return;
    const start = performance.now();
    this.sized = null;
    this.sized = this.size();
    if (!this.drag?.axis) {
      this.colours = { focus: themeVar('--vscode-focusBorder', '#007fd4'), faint: themeVar('--vscode-disabledForeground', '#888'), lerp: gradient() };
      this.axesLayer = null;
    }
    if (this.choices.mode === 'scatter') this.drawScatter();
    else this.drawParallel();
    this.drawOverlay();
    // The bench times the pixels, not the commands: reading one back makes the canvas draw what was asked.
    if (document.body.dataset.measurePaint) this.canvas.getContext('2d')!.getImageData(0, 0, 1, 1);
    this.sized = null;
    const ms = performance.now() - start;
    this.recordFrame(ms);
    this.canvas.dataset.paintMs = ms.toFixed(1);
    this.canvas.dataset.paints = String(Number(this.canvas.dataset.paints ?? 0) + 1);
    performance.mark('runlens-plot-painted');
  }

  /** Each frame's drawing time, for the bench (only when it asks). */
  private recordFrame(ms: number): void {
    if (!document.body.dataset.measurePaint) return;
    const frames = ((window as unknown as { runlensPlotFrames?: number[] }).runlensPlotFrames ??= []);
    frames.push(ms);
  }

  // --- scatter ---------------------------------------------------------------------------------

  private drawScatter(): void {
    const ctx = this.prepare(this.canvas);
    const { width, height } = this.size();
    const x = this.field(this.choices.x);
    const y = this.field(this.choices.y);
    const n = this.data.ids.length;
    this.points = { x: new Float64Array(n).fill(NaN), y: new Float64Array(n).fill(NaN) };
    if (!x || !y) {
      // Until the values of newly chosen fields arrive (or with nothing to plot).
      this.canvas.dataset.points = '0';
      this.note.textContent = this.available.length ? (this.choices.x && this.choices.y ? 'Reading the values…' : 'Choose two fields.') : 'No params or metrics to plot.';
      return;
    }
    const xAxis = makeAxis(x.values, this.choices.logX);
    const yAxis = makeAxis(y.values, this.choices.logY);
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = height - MARGIN.top - MARGIN.bottom;
    const fg = themeVar('--vscode-foreground', '#ccc');
    const grid = themeVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
    ctx.font = `11px ${themeVar('--vscode-font-family', 'sans-serif')}`;
    ctx.strokeStyle = grid;
    ctx.fillStyle = fg;
    ctx.lineWidth = 1;
    for (const t of xAxis.ticks()) {
      const px = MARGIN.left + t.at * plotW;
      ctx.beginPath();
      ctx.moveTo(px, MARGIN.top);
      ctx.lineTo(px, MARGIN.top + plotH);
      ctx.stroke();
      ctx.textAlign = 'center';
      ctx.fillText(t.label, px, MARGIN.top + plotH + 14);
    }
    for (const t of yAxis.ticks()) {
      const py = MARGIN.top + (1 - t.at) * plotH;
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, py);
      ctx.lineTo(MARGIN.left + plotW, py);
      ctx.stroke();
      ctx.textAlign = 'right';
      ctx.fillText(t.label, MARGIN.left - 6, py + 4);
    }
    ctx.textAlign = 'center';
    ctx.fillText(`${fieldKey(this.choices.x!)}${this.choices.logX ? ' (log)' : ''}`, MARGIN.left + plotW / 2, height - 6);
    ctx.save();
    ctx.translate(12, MARGIN.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(`${fieldKey(this.choices.y!)}${this.choices.logY ? ' (log)' : ''}`, 0, 0);
    ctx.restore();
    const colourOf = this.colourOf();
    let drawn = 0;
    // Points of one colour in one path: ten thousand arcs in a handful of fills.
    const byColour = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const px = xAxis.position(x.values[i]!);
      const py = yAxis.position(y.values[i]!);
      if (Number.isNaN(px) || Number.isNaN(py)) continue;
      this.points.x[i] = MARGIN.left + px * plotW;
      this.points.y[i] = MARGIN.top + (1 - py) * plotH;
      const colour = colourOf(i);
      (byColour.get(colour) ?? byColour.set(colour, []).get(colour)!).push(i);
      drawn++;
    }
    ctx.globalAlpha = n > 2000 ? 0.6 : 0.85;
    for (const [colour, indexes] of byColour) {
      ctx.fillStyle = colour;
      ctx.beginPath();
      for (const i of indexes) {
        ctx.moveTo(this.points.x[i]! + 3, this.points.y[i]!);
        ctx.arc(this.points.x[i]!, this.points.y[i]!, 3, 0, Math.PI * 2);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    this.canvas.dataset.points = String(drawn);
    this.note.textContent = `${drawn.toLocaleString()} of ${n.toLocaleString()} runs drawn${drawn < n ? ' (the others lack a value, or it cannot go on a log axis)' : ''}`;
  }

  /** Each run's colour: by the colour field (a gradient for numbers, the palette for categories), else the first chart colour. */
  private colourOf(): (i: number) => string {
    const field = this.field(this.choices.color);
    const plain = themeVar('--vscode-charts-blue', '#3794ff');
    if (!field) return () => plain;
    const axis = makeAxis(field.values);
    const missing = themeVar('--vscode-disabledForeground', '#888');
    if (axis.kind === 'number') {
      const lerp = gradient();
      return (i) => {
        const p = axis.position(field.values[i]!);
        return Number.isNaN(p) ? missing : lerp(p);
      };
    }
    const colours = palette();
    const categories = [...new Set(field.values.map(String))].sort();
    return (i) => (field.values[i] === null ? missing : colours[categories.indexOf(String(field.values[i])) % colours.length]!);
  }

  private nearest(mx: number, my: number): number {
    let best = -1;
    let bestD = 36; // within 6 px
    for (let i = 0; i < this.points.x.length; i++) {
      const dx = this.points.x[i]! - mx;
      const dy = this.points.y[i]! - my;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  // --- parallel coordinates ------------------------------------------------------------------------

  private axesLayout(): { key: string; x: number; axis: Axis; ticks: { at: number; label: string }[]; values: (number | string | null)[] }[] {
    const { width } = this.size();
    const fields = this.choices.axes.map((a) => this.field(a)).filter((f): f is NonNullable<typeof f> => f !== null);
    const span = width - PARALLEL_MARGIN.left - PARALLEL_MARGIN.right;
    return fields.map((f, i) => {
      const axis = makeAxis(f.values);
      return { key: f.key, x: PARALLEL_MARGIN.left + (fields.length === 1 ? span / 2 : (i / (fields.length - 1)) * span), axis, ticks: axis.ticks(), values: f.values };
    });
  }

  /**
   * The axes and every run's position on each, kept while the data, the axes
   * and the width stay: a brush frame only tests positions and draws.
   */
  private parallelCache: { data: PlotRuns; axes: string; width: number; layout: ReturnType<CrossRunPlots['axesLayout']>; ys: Float64Array[] } | null = null;

  private parallelLayout(): { layout: ReturnType<CrossRunPlots['axesLayout']>; ys: Float64Array[] } {
    const axes = this.choices.axes.map(fieldKey).join('\n');
    const width = this.size().width;
    const cached = this.parallelCache;
    if (cached && cached.data === this.data && cached.axes === axes && cached.width === width) return cached;
    const layout = this.axesLayout();
    const ys = layout.map((a) => Float64Array.from(a.values, (v) => a.axis.position(v)));
    this.parallelCache = { data: this.data, axes, width, layout, ys };
    return this.parallelCache;
  }

  /** Which runs are inside every brush (all when there is none). */
  private brushed(): Uint8Array {
    const { layout, ys } = this.parallelLayout();
    const n = this.data.ids.length;
    const inside = new Uint8Array(n).fill(1);
    layout.forEach((a, axis) => {
      const brush = this.brushes.get(a.key);
      if (!brush) return;
      const at = ys[axis]!;
      for (let i = 0; i < n; i++) {
        if (!inside[i]) continue;
        const p = at[i]!;
        if (!(p >= brush[0] && p <= brush[1])) inside[i] = 0;
      }
    });
    return inside;
  }

  private drawParallel(): void {
    const ctx = this.prepare(this.canvas);
    const { height } = this.size();
    const { layout, ys } = this.parallelLayout();
    const n = this.data.ids.length;
    if (layout.length < 2) {
      this.canvas.dataset.lines = '0';
      this.note.textContent = 'Choose two or more axes.';
      return;
    }
    const top = PARALLEL_MARGIN.top;
    const plotH = height - PARALLEL_MARGIN.top - PARALLEL_MARGIN.bottom;
    const yOf = (axis: number, i: number) => top + (1 - ys[axis]![i]!) * plotH;
    const inside = this.brushed();
    const anyBrush = this.brushes.size > 0;
    const polyline = (target: CanvasRenderingContext2D, i: number) => {
      let pen = false;
      for (let a = 0; a < layout.length; a++) {
        const p = ys[a]![i]!;
        if (Number.isNaN(p)) {
          pen = false;
          continue;
        }
        const y = yOf(a, i);
        if (pen) target.lineTo(layout[a]!.x, y);
        else target.moveTo(layout[a]!.x, y);
        pen = true;
      }
    };
    // Every line, faint, drawn once per data and layout: a brush frame draws only the lines inside.
    if (!this.background || this.background.width !== this.canvas.width) {
      this.background = document.createElement('canvas');
      const bg = this.prepare(this.background);
      bg.strokeStyle = themeVar('--vscode-disabledForeground', '#888');
      bg.globalAlpha = n > 2000 ? 0.12 : 0.3;
      bg.lineWidth = 1;
      bg.beginPath();
      for (let i = 0; i < n; i++) polyline(bg, i);
      bg.stroke();
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (anyBrush) ctx.drawImage(this.background, 0, 0);
    ctx.setTransform(this.size().ratio, 0, 0, this.size().ratio, 0, 0);
    // The lines inside the brushes, coloured by the last axis; in a few colour bands, each one path.
    const last = ys[ys.length - 1]!;
    const lerp = this.colours.lerp;
    const bands = 8;
    const byBand: number[][] = Array.from({ length: bands + 1 }, () => []);
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (!inside[i]) continue;
      count++;
      byBand[Number.isNaN(last[i]!) ? bands : Math.min(bands - 1, Math.floor(last[i]! * bands))]!.push(i);
    }
    const alpha = count > 2000 ? 0.35 : 0.8;
    const ratio = this.size().ratio;
    const queue = byBand.flatMap((indexes, band) => (indexes.length ? [{ colour: band === bands ? this.colours.faint : lerp((band + 0.5) / bands), indexes, from: 0 }] : []));
    // While a brush is dragged, a frame draws what fits in its budget and the next frames draw the rest:
    // the brush follows the mouse at any number of runs, and the picture completes a few frames later.
    const job = ++this.lineJob;
    const perFrame = this.drag?.axis ? LINES_PER_FRAME : Infinity;
    const drawSome = () => {
      if (job !== this.lineJob) return;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 1;
      ctx.globalAlpha = alpha;
      let drawn = 0;
      while (queue.length && drawn < perFrame) {
        const part = queue[0]!;
        const to = Math.min(part.indexes.length, part.from + perFrame - drawn);
        ctx.strokeStyle = part.colour;
        ctx.beginPath();
        for (let k = part.from; k < to; k++) polyline(ctx, part.indexes[k]!);
        ctx.stroke();
        drawn += to - part.from;
        part.from = to;
        if (to === part.indexes.length) queue.shift();
      }
      ctx.globalAlpha = 1;
      if (queue.length) {
        requestAnimationFrame(() => {
          // A newer paint took over: nothing drawn, nothing to time.
          if (job !== this.lineJob) return;
          const t0 = performance.now();
          drawSome();
          if (document.body.dataset.measurePaint) this.canvas.getContext('2d')!.getImageData(0, 0, 1, 1);
          this.recordFrame(performance.now() - t0);
        });
      }
    };
    drawSome();
    this.canvas.dataset.lines = String(n);
    this.canvas.dataset.axes = layout.map((a) => a.key).join(',');
    this.canvas.dataset.brushed = String(anyBrush ? count : n);
    const note = anyBrush ? `${count.toLocaleString()} of ${n.toLocaleString()} runs inside the brushes` : `${n.toLocaleString()} runs`;
    if (this.note.textContent !== note) this.note.textContent = note;
  }

  // --- interaction ---------------------------------------------------------------------------------

  private local(e: MouseEvent): { x: number; y: number } {
    const rect = this.overlay.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top };
  }

  private axisAt(x: number): string | null {
    if (this.choices.mode !== 'parallel') return null;
    const hit = this.parallelLayout().layout.find((a) => Math.abs(a.x - x) <= 12);
    return hit?.key ?? null;
  }

  private onDown(e: MouseEvent): void {
    const { x, y } = this.local(e);
    this.drag = { x0: x, y0: y, x1: x, y1: y, axis: this.axisAt(x) };
    e.preventDefault();
  }

  private onMove(e: MouseEvent): void {
    const { x, y } = this.local(e);
    if (this.drag) {
      this.drag.x1 = x;
      this.drag.y1 = y;
      if (this.drag.axis) this.setBrushFromDrag();
      cancelAnimationFrame(this.frame);
      this.frame = requestAnimationFrame(() => (this.drag?.axis ? this.draw() : this.drawOverlay()));
      return;
    }
    if (this.choices.mode !== 'scatter') return;
    const i = this.nearest(x, y);
    if (i < 0) {
      this.tooltip.hidden = true;
      return;
    }
    const xf = this.field(this.choices.x);
    const yf = this.field(this.choices.y);
    const show = (v: number | string | null | undefined) => (typeof v === 'number' ? formatNumber(v) : (v ?? '—'));
    this.tooltip.textContent = `${this.data.names[i]} · ${fieldKey(this.choices.x!)} ${show(xf?.values[i])} · ${fieldKey(this.choices.y!)} ${show(yf?.values[i])}`;
    this.tooltip.dataset.runId = this.data.ids[i]!;
    this.tooltip.style.left = `${Math.min(x + 12, this.size().width - 260)}px`;
    this.tooltip.style.top = `${y + 12}px`;
    this.tooltip.hidden = false;
  }

  private setBrushFromDrag(): void {
    const drag = this.drag!;
    const plotH = HEIGHT - PARALLEL_MARGIN.top - PARALLEL_MARGIN.bottom;
    const at = (y: number) => Math.min(1, Math.max(0, 1 - (y - PARALLEL_MARGIN.top) / plotH));
    const [lo, hi] = [at(Math.max(drag.y0, drag.y1)), at(Math.min(drag.y0, drag.y1))];
    if (Math.abs(drag.y1 - drag.y0) >= 3) this.brushes.set(drag.axis!, [lo, hi]);
  }

  private onUp(e: MouseEvent): void {
    const drag = this.drag;
    if (!drag) return;
    this.drag = null;
    const moved = Math.abs(drag.x1 - drag.x0) + Math.abs(drag.y1 - drag.y0) >= 4;
    if (this.choices.mode === 'parallel') {
      if (!drag.axis) return;
      if (!moved) this.brushes.delete(drag.axis);
      this.draw();
      const inside = this.brushed();
      this.callbacks.select(this.brushes.size ? new Set(this.data.ids.filter((_, i) => inside[i])) : null, 'brush');
      return;
    }
    this.drawOverlay();
    if (!moved) {
      const { x, y } = this.local(e);
      const i = this.nearest(x, y);
      if (i >= 0) this.callbacks.open(this.data.ids[i]!);
      return;
    }
    const [x0, x1] = [Math.min(drag.x0, drag.x1), Math.max(drag.x0, drag.x1)];
    const [y0, y1] = [Math.min(drag.y0, drag.y1), Math.max(drag.y0, drag.y1)];
    const chosen = new Set<string>();
    for (let i = 0; i < this.points.x.length; i++) {
      const px = this.points.x[i]!;
      const py = this.points.y[i]!;
      if (px >= x0 && px <= x1 && py >= y0 && py <= y1) chosen.add(this.data.ids[i]!);
    }
    this.callbacks.select(chosen, 'box');
  }

  /** The parallel coordinates' axes, names and ticks (drawn once per layout) and brushes, over the lines. */
  private drawAxes(ctx: CanvasRenderingContext2D): void {
    const { layout } = this.parallelLayout();
    if (layout.length < 2) return;
    const top = PARALLEL_MARGIN.top;
    const plotH = HEIGHT - PARALLEL_MARGIN.top - PARALLEL_MARGIN.bottom;
    const anyBrush = this.brushes.size > 0;
    // Axes, their names and ticks, drawn once per layout; then the brushes.
    if (!this.axesLayer || this.axesLayer.width !== this.canvas.width) {
      this.axesLayer = document.createElement('canvas');
      const ax = this.prepare(this.axesLayer);
      const fg = themeVar('--vscode-foreground', '#ccc');
      ax.font = `11px ${themeVar('--vscode-font-family', 'sans-serif')}`;
      ax.strokeStyle = fg;
      ax.fillStyle = fg;
      for (const a of layout) {
        ax.beginPath();
        ax.moveTo(a.x, top);
        ax.lineTo(a.x, top + plotH);
        ax.stroke();
        ax.textAlign = a === layout[0] ? 'left' : a === layout[layout.length - 1] ? 'right' : 'center';
        ax.fillText(a.key.replace(/^(params|metrics)\./, ''), a.x, top - 10);
        ax.textAlign = 'left';
        for (const t of a.ticks) ax.fillText(t.label, a.x + 4, top + (1 - t.at) * plotH + 4);
      }
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.axesLayer, 0, 0);
    ctx.setTransform(this.size().ratio, 0, 0, this.size().ratio, 0, 0);
    if (anyBrush) {
      ctx.fillStyle = this.colours.focus;
      ctx.globalAlpha = 0.3;
      for (const a of layout) {
        const brush = this.brushes.get(a.key);
        if (brush) ctx.fillRect(a.x - 8, top + (1 - brush[1]) * plotH, 16, (brush[1] - brush[0]) * plotH);
      }
      ctx.globalAlpha = 1;
    }
  }

  private drawOverlay(): void {
    const ctx = this.prepare(this.overlay);
    if (this.choices.mode === 'parallel') {
      this.drawAxes(ctx);
      return;
    }
    const drag = this.drag;
    if (!drag || drag.axis || this.choices.mode !== 'scatter') return;
    ctx.strokeStyle = themeVar('--vscode-focusBorder', '#007fd4');
    ctx.fillStyle = themeVar('--vscode-focusBorder', '#007fd4');
    ctx.globalAlpha = 0.15;
    ctx.fillRect(Math.min(drag.x0, drag.x1), Math.min(drag.y0, drag.y1), Math.abs(drag.x1 - drag.x0), Math.abs(drag.y1 - drag.y0));
    ctx.globalAlpha = 1;
    ctx.strokeRect(Math.min(drag.x0, drag.x1), Math.min(drag.y0, drag.y1), Math.abs(drag.x1 - drag.x0), Math.abs(drag.y1 - drag.y0));
  }
}
