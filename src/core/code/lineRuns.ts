import { isBetter, type MetricGoal } from './metricGoal';
import { LineInterner, matchLines, rematchAfterEdit } from './lineDiff';

/** A run as a line annotation names it. */
export interface AnnotatedRun {
  id: string;
  name: string;
  startedMs: number | null;
  /** The primary metric's last value; null when it has none. */
  metric: number | null;
}

/** One version of the file (a blob) and the runs whose snapshots hold it. */
export interface FileVersion {
  blob: string;
  text: string;
  runs: AnnotatedRun[];
}

/** What one line of the file, as it is now, has to do with the runs. */
export interface LineAnnotation {
  /** The line, from 0. */
  line: number;
  /** How many runs' snapshots hold this line as it is (unchanged by the diff from their version to now). */
  runs: number;
  /** The first of them to start. */
  first: AnnotatedRun;
  /** The best of them by the primary metric; null when none has it. */
  best: AnnotatedRun | null;
}

interface VersionSummary {
  blob: string;
  text: string;
  /** Interned on the first annotation, lined up with that text. */
  lines: Int32Array | null;
  first: AnnotatedRun;
  firstMs: number;
  best: AnnotatedRun | null;
  runs: AnnotatedRun[];
}

/**
 * Line annotations for one file: for each line of its current text, the runs
 * whose snapshot holds that line unchanged. A line is held when the diff from
 * the run's version of the file to the text now keeps it, as `git blame` would
 * follow it, so a line moves with the edits around it. Versions are diffed,
 * not runs: a thousand runs of ten versions cost ten diffs. The answer for the
 * last text is kept, so asking again for the same text is free.
 */
export class FileLineRuns {
  private readonly interner: LineInterner;
  private readonly versions: VersionSummary[];
  private last: { text: string; lines: Int32Array; annotations: (LineAnnotation | null)[]; matches: Int32Array[] } | null = null;

  /**
   * `previous`: the annotations of the same file before the runs changed. The
   * versions it had read are not read again, so a live run's every refresh
   * costs the runs' blob lookup and a diff, not the interning of every version.
   */
  constructor(
    versions: readonly FileVersion[],
    private readonly goal: MetricGoal,
    previous?: FileLineRuns,
  ) {
    this.interner = previous?.interner ?? new LineInterner();
    const known = new Map(previous?.versions.map((v) => [v.blob, v.lines]));
    this.versions = versions
      .filter((v) => v.runs.length > 0)
      .map((v) => {
        let first = v.runs[0]!;
        let best: AnnotatedRun | null = null;
        for (const run of v.runs) {
          if ((run.startedMs ?? Infinity) < (first.startedMs ?? Infinity)) first = run;
          if (run.metric !== null && (best === null || isBetter(run.metric, best.metric!, goal))) best = run;
        }
        return { blob: v.blob, text: v.text, lines: known.get(v.blob) ?? null, first, firstMs: first.startedMs ?? Infinity, best, runs: v.runs };
      });
  }

  /**
   * Each version is diffed with the text; the lines it keeps add its runs to
   * those lines' counts, and its first and best run compete for theirs. The
   * per-line work is on typed arrays: a thousand versions of a thousand lines
   * are a million steps of a few instructions. After an edit (the text shares
   * a prefix and a suffix with the last one), each version's match is carried
   * over and only the edited part is diffed again.
   */
  annotate(text: string): (LineAnnotation | null)[] {
    if (this.last?.text === text) return this.last.annotations;
    const previous = this.last;
    const now = previous === null ? this.interner.setReference(text) : this.interner.lines(text);
    if (previous === null) for (const version of this.versions) version.lines ??= this.interner.lines(version.text);
    const n = now.length;
    let prefix = 0;
    let suffix = 0;
    if (previous) {
      const old = previous.lines;
      const shorter = Math.min(old.length, n);
      while (prefix < shorter && old[prefix] === now[prefix]) prefix++;
      while (suffix < shorter - prefix && old[old.length - 1 - suffix] === now[n - 1 - suffix]) suffix++;
    }
    const counts = new Int32Array(n);
    const firstOf = new Int32Array(n).fill(-1);
    const firstMs = new Float64Array(n).fill(Infinity);
    const bestOf = new Int32Array(n).fill(-1);
    const matches: Int32Array[] = [];
    this.versions.forEach((version, index) => {
      const held = previous ? rematchAfterEdit(version.lines!, previous.matches[index]!, now, prefix, suffix) : matchLines(version.lines!, now);
      matches.push(held);
      const runs = version.runs.length;
      const since = version.firstMs;
      const best = version.best;
      for (let line = 0; line < n; line++) {
        if (held[line]! < 0) continue;
        counts[line] = counts[line]! + runs;
        if (firstOf[line]! < 0 || since < firstMs[line]!) {
          firstOf[line] = index;
          firstMs[line] = since;
        }
        if (best && (bestOf[line]! < 0 || isBetter(best.metric!, this.versions[bestOf[line]!]!.best!.metric!, this.goal))) bestOf[line] = index;
      }
    });
    const annotations: (LineAnnotation | null)[] = new Array<LineAnnotation | null>(n).fill(null);
    for (let line = 0; line < n; line++) {
      if (counts[line] === 0) continue;
      annotations[line] = { line, runs: counts[line]!, first: this.versions[firstOf[line]!]!.first, best: bestOf[line]! >= 0 ? this.versions[bestOf[line]!]!.best : null };
    }
    this.last = { text, lines: now, annotations, matches };
    return annotations;
  }

  /** The versions' texts, by blob: what a rebuild need not read again. */
  texts(): Map<string, string> {
    return new Map(this.versions.map((v) => [v.blob, v.text]));
  }

  /** The runs that hold a line of the last text annotated, newest first. */
  runsOf(annotation: LineAnnotation): AnnotatedRun[] {
    const matches = this.last?.matches ?? [];
    return this.versions.flatMap((v, i) => ((matches[i]?.[annotation.line] ?? -1) >= 0 ? v.runs : [])).sort((a, b) => (b.startedMs ?? 0) - (a.startedMs ?? 0));
  }
}
