import type { PlotFieldRef, PlotRuns } from '../plots/types';

/**
 * The Runs table's messages, shared by host and webview. The webview speaks
 * first (`ready`); each query carries an id that its answer repeats, so a slow
 * answer to an old query never overwrites a newer one.
 */
export interface TableColumn {
  kind: 'attr' | 'param' | 'metric';
  key: string;
}

export interface TableRow {
  id: string;
  /** One cell per column, already text; numbers keep their value for sorting display. */
  cells: (string | number | null)[];
  status: string;
}

export type TableHostMessage =
  /**
   * A query's answer. The page holds the order of every matching run (ids only) and the rows it has
   * been sent; it asks for the rows that scroll into view (`rowsFor`), so 100,000 runs never cross
   * at once. A big answer comes twice: the first screenful at once (`order: null`, `complete: false`),
   * then the order of every run with the same first rows.
   */
  /** `query` is what was answered: the page's own, or the one the host kept for a table restored after a reload. */
  | { type: 'rows'; requestId: number; query: TableState; columns: TableColumn[]; rows: TableRow[]; order: string[] | null; available: { params: string[]; metrics: string[] }; total: number; complete: boolean }
  /**
   * The same query answered again after runs changed: the rows the page was sent that changed (and
   * any that appeared), and the new order of ids when it moved (null when not).
   */
  | { type: 'patch'; requestId: number; changed: TableRow[]; order: string[] | null; total: number }
  /** The rows a `rowsFor` asked for (those of runs gone since are left out). */
  | { type: 'rowData'; requestId: number; rows: TableRow[] }
  | { type: 'error'; requestId: number; message: string }
  /** The host asks for a query (a lens opened the table on a script's runs): the page runs it as if typed. */
  | { type: 'filter'; where: string }
  /** The values the plots asked for, for every run the query matches (no cap), in the table's default order. */
  | { type: 'plotData'; requestId: number; data: PlotRuns };

export type TableWebviewMessage =
  | { type: 'ready' }
  | { type: 'query'; requestId: number; where: string; sort: string; columns: TableColumn[] | null }
  /** The rows of these runs, for the query `requestId` answered: those scrolled into view. */
  | { type: 'rowsFor'; requestId: number; ids: string[] }
  | { type: 'compare'; runIds: string[] }
  | { type: 'open'; runId: string }
  /** The plots' fields, over the runs `where` matches: the same index query as the rows. */
  | { type: 'plot'; requestId: number; where: string; fields: PlotFieldRef[] };

export interface TableState {
  where: string;
  sort: string;
  columns: TableColumn[] | null;
}
