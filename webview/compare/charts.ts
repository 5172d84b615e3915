import uPlot from 'uplot';
import type { ChartSeries, XAxis } from './protocol';

/** Theme colours for series, then evenly spread hues: any number of runs gets a colour. */
function seriesColor(i: number): string {
  const names = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'];
  if (i < names.length) {
    const v = getComputedStyle(document.body).getPropertyValue(`--vscode-charts-${names[i]}`).trim();
    if (v) return v;
  }
  return `hsl(${(i * 137.508) % 360}, 60%, 55%)`;
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
function pointsOf(s: ChartSeries): { x: number; y: number }[] {
  if (s.points) return s.points;
  const out: { x: number; y: number }[] = [];
  const buckets = s.buckets ?? [];
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    const next = buckets[i + 1]?.x ?? b.x;
    const width = Math.max(0, next - b.x);
    if (Number.isNaN(b.min)) out.push({ x: b.x, y: b.last });
    else {
      out.push({ x: b.x, y: b.min });
      out.push({ x: b.x + width / 3, y: b.max });
      out.push({ x: b.x + (2 * width) / 3, y: b.last });
    }
  }
  return out;
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

/** uPlot data aligned on the union of all runs' x values; NaN and ±Infinity are counted, not drawn. */
export function alignSeries(series: ChartSeries[], options: ChartOptions): { data: uPlot.AlignedData; unplotted: Unplotted[] } {
  const perRun = series.map(pointsOf);
  const xs = [...new Set(perRun.flatMap((pts) => pts.map((p) => p.x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const unplotted: Unplotted[] = [];
  const ys = perRun.map((pts) => {
    const column: (number | null)[] = new Array(xs.length).fill(null);
    const count = { nan: 0, infinite: 0 };
    for (const p of pts) {
      if (Number.isNaN(p.y)) count.nan++;
      else if (!Number.isFinite(p.y)) count.infinite++;
      else if (options.log && p.y <= 0) continue;
      else column[index.get(p.x)!] = p.y;
    }
    unplotted.push(count);
    return smooth(column, options.ema);
  });
  return { data: [xs, ...ys] as uPlot.AlignedData, unplotted };
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
    series: [{ label: options.x }, ...runNames.map((name, i) => ({ label: name, stroke: seriesColor(i), width: 1.5, spanGaps: true, points: { show: false } }))],
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
