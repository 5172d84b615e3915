import { isBetter, type MetricGoal } from './metricGoal';
import { LineInterner, unchangedLines } from './lineDiff';

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
  /** How many runs' snapshots hold this line as it is (unchanged by the diff from their version to now). */
  runs: number;
  /** The first of them to start. */
  first: AnnotatedRun;
  /** The best of them by the primary metric; null when none has it. */
  best: AnnotatedRun | null;
  /** The versions that hold it, as indexes into `versions`. */
  versions: number[];
}

interface VersionSummary {
  lines: Int32Array;
  first: AnnotatedRun;
  best: AnnotatedRun | null;
  runs: number;
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
  private readonly interner = new LineInterner();
  private readonly summaries: VersionSummary[];
  private last: { text: string; annotations: (LineAnnotation | null)[] } | null = null;

  constructor(
    readonly versions: readonly FileVersion[],
    private readonly goal: MetricGoal,
  ) {
    this.summaries = versions
      .filter((v) => v.runs.length > 0)
      .map((v) => {
        let first = v.runs[0]!;
        let best: AnnotatedRun | null = null;
        for (const run of v.runs) {
          if ((run.startedMs ?? Infinity) < (first.startedMs ?? Infinity)) first = run;
          if (run.metric !== null && (best === null || isBetter(run.metric, best.metric!, goal))) best = run;
        }
        return { lines: this.interner.lines(v.text), first, best, runs: v.runs.length };
      });
  }

  annotate(text: string): (LineAnnotation | null)[] {
    if (this.last?.text === text) return this.last.annotations;
    const now = this.interner.lines(text);
    const annotations: (LineAnnotation | null)[] = new Array<LineAnnotation | null>(now.length).fill(null);
    this.summaries.forEach((version, index) => {
      const kept = unchangedLines(version.lines, now);
      for (let line = 0; line < now.length; line++) {
        if (!kept[line]) continue;
        const at = annotations[line];
        if (!at) {
          annotations[line] = { runs: version.runs, first: version.first, best: version.best, versions: [index] };
          continue;
        }
        at.runs += version.runs;
        at.versions.push(index);
        if ((version.first.startedMs ?? Infinity) < (at.first.startedMs ?? Infinity)) at.first = version.first;
        if (version.best && (at.best === null || isBetter(version.best.metric!, at.best.metric!, this.goal))) at.best = version.best;
      }
    });
    this.last = { text, annotations };
    return annotations;
  }

  /** The runs that hold a line, newest first, from an annotation's versions. */
  runsOf(annotation: LineAnnotation): AnnotatedRun[] {
    const versions = this.versions.filter((v) => v.runs.length > 0);
    return annotation.versions.flatMap((i) => versions[i]!.runs).sort((a, b) => (b.startedMs ?? 0) - (a.startedMs ?? 0));
  }
}
