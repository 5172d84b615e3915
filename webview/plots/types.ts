/**
 * What the cross-run plots draw, shared by the Runs table and Compare (and the
 * table's host): one value per run for each field, in the runs' order. Numbers
 * cross as numbers (NaN intact); text is a category.
 */
export interface PlotField {
  /** `params.lr`, `metrics.acc`: as the query language names it. */
  key: string;
  kind: 'param' | 'metric';
  name: string;
  values: (number | string | null)[];
}

export interface PlotRuns {
  ids: string[];
  names: string[];
  fields: PlotField[];
}

/** The field a plot wants, by kind and name. */
export interface PlotFieldRef {
  kind: 'param' | 'metric';
  name: string;
}

export function fieldKey(ref: PlotFieldRef): string {
  return `${ref.kind === 'param' ? 'params' : 'metrics'}.${ref.name}`;
}
