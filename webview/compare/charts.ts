import uPlot from 'uplot';
import type { ChartSeries, XAxis } from './protocol';

/**
 * Theme colours for series, then evenly spread hues: any number of runs gets a
 * colour. A theme may give two chart colours the same value (high contrast
 * does): a repeat is replaced, so two runs never share a colour.
 */
function seriesColors(count: number): string[] {
  const names = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'];
  const style = getComputedStyle(document.body);
  const used = new Set<string>();
  return Array.from({ length: count }, (_, i) => {
    const themed = i < names.length ? style.getPropertyValue(`--vscode-charts-${names[i]}`).trim().toLowerCase() : '';
    const colour = themed && !used.has(themed) ? themed : `hsl(${(i * 137.508) % 360}, 60%, 55%)`;
    used.add(colour);
    return colour;
  });
}

function themeVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

export interface ChartOptions {
  x: XAxis;
  log: boolean;
  /** Exponential moving average weight, 0 for none. */
  ema: number;
}

/** Turns buckets into points that keep each bucket's min and max, so spikes survive the reduction. */
function pointsOf(s: ChartSeries): { x: Float64Array; y: Float64Array } {
  if (s.kind === 'points') return { x: s.x, y: s.y };
  const x = new Float64Array(s.bucket.length * 3);
  const y = new Float64Array(s.bucket.length * 3);
  let n = 0;
  for (let i = 0; i < s.bucket.length; i++) {
    const x0 = s.from + s.bucket[i]! * s.width;
    if (Number.isNaN(s.min[i]!)) {
      x[n] = x0;
      y[n++] = s.last[i]!;
    } else {
      // Fixed offsets in the bucket, not each point's own x: runs bucketed over one range then share x values.
      x[n] = x0;
      y[n++] = s.min[i]!;
      x[n] = x0 + s.width / 3;
      y[n++] = s.max[i]!;
      x[n] = x0 + (2 * s.width) / 3;
      y[n++] = s.last[i]!;
    }
  }
  return { x: x.subarray(0, n), y: y.subarray(0, n) };
}

function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let last: number | null = null;
  return values.map((v) => {
    if (v === null) return null;
    last = last === null ? v : last * weight + v * (1 - weight);
    return last;
  });
}

export interface Unplotted {
  nan: number;
  infinite: number;
}

/** The sorted union of every run's x values. */
function unionOfX(perRun: { x: Float64Array }[]): Float64Array {
  const all = new Float64Array(perRun.reduce((n, p) => n + p.x.length, 0));
  let offset = 0;
  for (const p of perRun) {
    all.set(p.x, offset);
    offset += p.x.length;
  }
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[n - 1]) all[n++] = all[i]!;
  return all.subarray(0, n);
}

/** uPlot data aligned on the union of all runs' x values; NaN and ±Infinity are counted, not drawn. */
export function alignSeries(series: ChartSeries[], options: ChartOptions): { data: uPlot.AlignedData; unplotted: Unplotted[] } {
  const perRun = series.map(pointsOf);
  const xs = unionOfX(perRun);
  const index = new Map<number, number>();
  for (let i = 0; i < xs.length; i++) index.set(xs[i]!, i);
  const unplotted: Unplotted[] = [];
  const ys = perRun.map((pts) => {
    const column: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    const count = { nan: 0, infinite: 0 };
    for (let i = 0; i < pts.x.length; i++) {
      const y = pts.y[i]!;
      if (Number.isNaN(y)) count.nan++;
      else if (!Number.isFinite(y)) count.infinite++;
      else if (options.log && y <= 0) continue;
      else column[index.get(pts.x[i]!)!] = y;
    }
    unplotted.push(count);
    return smooth(column, options.ema);
  });
  return { data: [Array.from(xs), ...ys] as uPlot.AlignedData, unplotted };
}

export function makeChart(
  host: HTMLElement,
  metric: string,
  runNames: string[],
  data: uPlot.AlignedData,
  options: ChartOptions,
  onZoom: (range: [number, number] | null) => void,
): uPlot {
  const fg = themeVar('--vscode-foreground', '#ccc');
  const grid = themeVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  const width = Math.max(240, host.clientWidth || 600);
  // Past a few runs, hairlines: a software-rendered canvas (no GPU) strokes them several times faster than wider lines.
  const lineWidth = runNames.length > 8 ? 1 : 1.5;
  const colours = seriesColors(runNames.length);
  const opts: uPlot.Options = {
    title: metric,
    width,
    height: 220,
    scales: { x: { time: options.x === 'time' }, y: { distr: options.log ? 3 : 1 } },
    axes: [
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
      { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
    ],
    legend: { show: runNames.length <= 12 },
    cursor: { drag: { x: true, y: false, setScale: false } },
    series: [{ label: options.x }, ...runNames.map((name, i) => ({ label: name, stroke: colours[i]!, width: lineWidth, spanGaps: true, points: { show: false } }))],
    hooks: {
      setSelect: [
        (u: uPlot) => {
          if (u.select.width < 2) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          onZoom([from, to]);
        },
      ],
    },
  };
  const chart = new uPlot(opts, data, host);
  chart.over.addEventListener('dblclick', () => onZoom(null));
  return chart;
}
