/** One row of `npm run bench`: a figure beside its floor, measured in the same run. */
export interface BenchRow {
  figure: string;
  measured: string;
  floor: string;
  ratio: string;
  target: string;
  ok: boolean;
}
