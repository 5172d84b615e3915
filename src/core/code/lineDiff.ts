/**
 * Which line of `a` each line of `b` is, where a shortest edit script (Myers'
 * O(ND) diff, as git's default) keeps it: `match[j]` is its line in `a`, or
 * -1 for a line of `b` the diff adds. Lines are compared as numbers (see
 * `LineInterner`). Past `maxEdits` edits, which only files that have little in
 * common reach, the lines kept are those of the common prefix and suffix and
 * the longest run of lines that occur once in each (patience diff's anchors):
 * a cheaper, still order-keeping answer.
 */
export function matchLines(a: Int32Array, b: Int32Array, maxEdits = 1000, into?: Int32Array): Int32Array {
  const match = into ? into.fill(-1) : new Int32Array(b.length).fill(-1);
  matchRange(a, b, 0, a.length, 0, b.length, maxEdits, match);
  return match;
}

function matchRange(a: Int32Array, b: Int32Array, a0: number, a1: number, b0: number, b1: number, maxEdits: number, match: Int32Array): void {
  let start = 0;
  const shorter = Math.min(a1 - a0, b1 - b0);
  while (start < shorter && a[a0 + start] === b[b0 + start]) {
    match[b0 + start] = a0 + start;
    start++;
  }
  let endA = a1;
  let endB = b1;
  while (endA > a0 + start && endB > b0 + start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
    match[endB] = endA;
  }
  if (a0 + start === endA || b0 + start === endB) return;
  if (!myers(a, b, a0 + start, endA, b0 + start, endB, maxEdits, match)) patience(a, b, a0 + start, endA, b0 + start, endB, match);
}

/** Which lines of `b` are unchanged from `a` (1) or added (0): `matchLines`, as flags. */
export function unchangedLines(a: Int32Array, b: Int32Array, maxEdits = 1000): Uint8Array {
  const match = matchLines(a, b, maxEdits);
  const kept = new Uint8Array(b.length);
  for (let j = 0; j < b.length; j++) kept[j] = match[j]! >= 0 ? 1 : 0;
  return kept;
}

/**
 * The match of `a` with `now` after `now` was edited, from the match with the
 * text before (`before`, of `beforeLength` lines): the lines of the common
 * prefix and suffix of the two texts keep their match (shifted), and only the
 * lines between the last kept line before the edit and the first kept line
 * after it are diffed again. What `git blame` shows of a file being edited,
 * at the cost of the edit's size instead of the file's.
 */
export function rematchAfterEdit(a: Int32Array, before: Int32Array, now: Int32Array, prefix: number, suffix: number, maxEdits = 1000, into?: Int32Array): Int32Array {
  const match = into ? into.fill(-1) : new Int32Array(now.length).fill(-1);
  const shift = now.length - before.length;
  let lastBefore = -1; // the last line of the prefix that is kept, in now
  for (let j = 0; j < prefix; j++) {
    match[j] = before[j]!;
    if (before[j]! >= 0) lastBefore = j;
  }
  let firstAfter = now.length; // the first line of the suffix that is kept, in now
  for (let j = now.length - suffix; j < now.length; j++) {
    match[j] = before[j - shift]!;
    if (before[j - shift]! >= 0 && firstAfter === now.length) firstAfter = j;
  }
  const a0 = lastBefore >= 0 ? match[lastBefore]! + 1 : 0;
  const a1 = firstAfter < now.length ? match[firstAfter]! : a.length;
  matchRange(a, now, a0, a1, lastBefore + 1, firstAfter, maxEdits, match);
  return match;
}

/** Scratch space for the diff, kept between calls: a thousand diffs allocate nothing. */
let frontier = new Int32Array(0);
let trace = new Int32Array(0);

function myers(a: Int32Array, b: Int32Array, a0: number, a1: number, b0: number, b1: number, maxEdits: number, match: Int32Array): boolean {
  const n = a1 - a0;
  const m = b1 - b0;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  if (frontier.length < 2 * max + 3) frontier = new Int32Array(2 * max + 3);
  const v = frontier;
  v.fill(0, 0, 2 * max + 3);
  for (let d = 0; d <= max; d++) {
    // The state before step d, for k in [-d, d], at trace[d² + k + d]: the steps before it took d² entries.
    const base = d * d;
    if (trace.length < base + 2 * d + 1) {
      const grown = new Int32Array(Math.max(trace.length * 2, base + 2 * d + 1, 4096));
      grown.set(trace);
      trace = grown;
    }
    for (let i = 0, from = offset - d; i <= 2 * d; i++) trace[base + i] = v[from + i]!;
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[a0 + x] === b[b0 + y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        backtrack(d, n, m, b0, match, a, b, a0);
        return true;
      }
    }
  }
  return false;
}

function backtrack(last: number, n: number, m: number, b0: number, match: Int32Array, a: Int32Array, b: Int32Array, a0: number): void {
  let x = n;
  let y = m;
  for (let d = last; d > 0; d--) {
    const base = d * d + d;
    const at = (k: number) => trace[base + k]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    // The snake after the edit: equal lines, walked back to where the edit ended.
    while (x > prevX && y > prevY && (prevK === k + 1 ? y > prevY + 1 : x > prevX + 1)) {
      x--;
      y--;
      match[b0 + y] = a0 + x;
    }
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0 && a[a0 + x - 1] === b[b0 + y - 1]) {
    x--;
    y--;
    match[b0 + y] = a0 + x;
  }
}

/** Lines that occur once in each side, the longest sequence of them in the same order on both. */
function patience(a: Int32Array, b: Int32Array, a0: number, a1: number, b0: number, b1: number, match: Int32Array): void {
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
  for (let p = tails.length ? tails[tails.length - 1]! : -1; p >= 0; p = previous[p]!) match[pairs[p]![1]] = pairs[p]![0];
}

/** In ascending `positions`, the first at or after `expected`, else the last. */
function firstAtOrAfter(positions: number[], expected: number): number {
  let lo = 0;
  let hi = positions.length - 1;
  if (positions[hi]! < expected) return positions[hi]!;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (positions[mid]! < expected) lo = mid + 1;
    else hi = mid;
  }
  return positions[lo]!;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (text.includes('\r')) for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith('\r')) lines[i] = lines[i]!.slice(0, -1);
  return lines;
}

/**
 * Gives each distinct line a number, so that lines compare as integers. One
 * interner per file and its versions. With a reference text (the document
 * now), a version's line is first compared, as a string, with the reference's
 * line where the versions line up, and takes its number when equal: a string
 * comparison instead of a lookup for the lines most versions share, which made
 * reading a thousand versions of a file twice as fast (bench). The numbers are
 * the same either way.
 */
export class LineInterner {
  private readonly ids = new Map<string, number>();
  private reference: { lines: string[]; ids: Int32Array; positions: Map<number, number[]> } | null = null;

  private id(line: string): number {
    let id = this.ids.get(line);
    if (id === undefined) this.ids.set(line, (id = this.ids.size));
    return id;
  }

  /** The text later versions are lined up with. */
  setReference(text: string): Int32Array {
    const lines = splitLines(text);
    const ids = new Int32Array(lines.length);
    const positions = new Map<number, number[]>();
    for (let i = 0; i < lines.length; i++) {
      ids[i] = this.id(lines[i]!);
      (positions.get(ids[i]!) ?? positions.set(ids[i]!, []).get(ids[i]!)!).push(i);
    }
    this.reference = { lines, ids, positions };
    return ids;
  }

  lines(text: string): Int32Array {
    const lines = splitLines(text);
    const out = new Int32Array(lines.length);
    const ref = this.reference;
    let shift = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (ref) {
        const j = i + shift;
        if (j >= 0 && j < ref.lines.length && ref.lines[j] === line) {
          out[i] = ref.ids[j]!;
          continue;
        }
      }
      const id = this.id(line);
      out[i] = id;
      // Lined up again where this line is in the reference: the first place at or after where it was expected, else the last.
      const at = ref?.positions.get(id);
      if (at) {
        const expected = i + shift;
        shift = firstAtOrAfter(at, expected) - i;
      }
    }
    return out;
  }
}
