/** The reproduction report's shape: plain data, read by the CLI, the extension and the Compare page. */
import type { RunStatus, SeedInfo } from '../runRecord';

/** Two values agree when |a − b| ≤ absolute + relative × max(|a|, |b|) (numpy's isclose, symmetric). */
export interface Tolerance {
  relative: number;
  absolute: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { relative: 1e-6, absolute: 1e-9 };

export type CauseKind = 'outcome' | 'code' | 'data' | 'environment' | 'seed' | 'metrics';

export interface MetricAgreement {
  key: string;
  originalFinal: number | null;
  reproductionFinal: number | null;
  /** Largest |a − b| over the steps both logged; NaN against a number counts as Infinity. */
  maxStepDifference: number | null;
  stepsCompared: number;
  /** Steps only one of the two runs logged. */
  stepsMissing: number;
  /** The first step whose values are not within the tolerance, or that only one run logged. */
  firstDivergentStep: number | null;
  within: boolean;
}

export interface ReproductionReport {
  version: 1;
  original: string;
  reproduction: string;
  /** Reproduced: same outcome and every metric within the tolerance, at every step. */
  verdict: 'reproduced' | 'diverged';
  tolerance: Tolerance;
  outcome: { original: RunStatus; reproduction: RunStatus; exitCodes: [number | null, number | null] };
  code: { same: boolean; files: { path: string; status: string }[] } | null;
  data: { path: string; original: string | null; reproduction: string | null; same: boolean }[];
  environment: {
    interpreter: { original: string | null; reproduction: string | null; same: boolean };
    packages: { name: string; original: string | null; reproduction: string | null }[];
  };
  seed: { original: SeedInfo | null; reproduction: SeedInfo | null; same: boolean };
  metrics: MetricAgreement[];
  /** Each difference found, in words: what differs and how. */
  causes: { kind: CauseKind; text: string }[];
}
