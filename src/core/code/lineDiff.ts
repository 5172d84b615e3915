/**
 * Which lines of `b` are unchanged from `a`: the lines a shortest edit script
 * (Myers' O(ND) diff, as git's default) keeps. Lines are compared as numbers
 * (see `LineInterner`). Past `maxEdits` edits, which only files that have
 * little in common reach, the lines kept are those of the common prefix and
 * suffix and the longest run of lines that occur once in each (patience
 * diff's anchors): a cheaper, still order-keeping answer.
 */
export function unchangedLines(a: ArrayLike<number>, b: ArrayLike<number>, maxEdits = 1000): Uint8Array {
  const kept = new Uint8Array(b.length);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) kept[start++] = 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) kept[--endB] = (endA--, 1);
  if (start === endA || start === endB) return kept;
  if (!myers(a, b, start, endA, start, endB, maxEdits, kept)) patience(a, b, start, endA, start, endB, kept);
  return kept;
}

function myers(a: ArrayLike<number>, b: ArrayLike<number>, a0: number, a1: number, b0: number, b1: number, maxEdits: number, kept: Uint8Array): boolean {
  const n = a1 - a0;
  const m = b1 - b0;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    // The state before step d, for k in [-d, d] (index k + d).
    trace.push(v.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[a0 + x] === b[b0 + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        backtrack(trace, d, n, m, b0, kept, a, b, a0);
        return true;
      }
    }
  }
  return false;
}

function backtrack(trace: Int32Array[], last: number, n: number, m: number, b0: number, kept: Uint8Array, a: ArrayLike<number>, b: ArrayLike<number>, a0: number): void {
  let x = n;
  let y = m;
  for (let d = last; d > 0; d--) {
    const before = trace[d]!;
    const at = (k: number) => before[k + d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    // The snake after the edit: equal lines, walked back to where the edit ended.
    const edgeX = prevK === k + 1 ? prevX : prevX + 1;
    const edgeY = prevK === k + 1 ? prevY + 1 : prevY;
    while (x > edgeX && y > edgeY) {
      x--;
      y--;
      kept[b0 + y] = 1;
    }
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0 && a[a0 + x - 1] === b[b0 + y - 1]) {
    x--;
    y--;
    kept[b0 + y] = 1;
  }
}

/** Lines that occur once in each side, the longest sequence of them in the same order on both. */
function patience(a: ArrayLike<number>, b: ArrayLike<number>, a0: number, a1: number, b0: number, b1: number, kept: Uint8Array): void {
  const countA = new Map<number, number>();
  const where = new Map<number, number>();
  for (let i = a0; i < a1; i++) {
    countA.set(a[i]!, (countA.get(a[i]!) ?? 0) + 1);
    where.set(a[i]!, i);
  }
  const countB = new Map<number, number>();
  for (let j = b0; j < b1; j++) countB.set(b[j]!, (countB.get(b[j]!) ?? 0) + 1);
  // Pairs (i in a, j in b) in b's order; the longest increasing run of i is the answer.
  const pairs: [number, number][] = [];
  for (let j = b0; j < b1; j++) if (countB.get(b[j]!) === 1 && countA.get(b[j]!) === 1) pairs.push([where.get(b[j]!)!, j]);
  const tails: number[] = [];
  const previous = new Int32Array(pairs.length).fill(-1);
  for (let p = 0; p < pairs.length; p++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]!]![0] < pairs[p]![0]) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) previous[p] = tails[lo - 1]!;
    tails[lo] = p;
  }
  for (let p = tails.length ? tails[tails.length - 1]! : -1; p >= 0; p = previous[p]!) kept[pairs[p]![1]] = 1;
}

/** Gives each distinct line a number, so that lines compare as integers. One interner per file and its versions. */
export class LineInterner {
  private readonly ids = new Map<string, number>();

  lines(text: string): Int32Array {
    const lines = text.split('\n');
    const out = new Int32Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
      let id = this.ids.get(line);
      if (id === undefined) this.ids.set(line, (id = this.ids.size));
      out[i] = id;
    }
    return out;
  }
}
