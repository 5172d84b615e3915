/** Whether a metric is better high (accuracy) or low (loss). */
export type MetricGoal = 'max' | 'min';

/** Names of metrics that are better low: losses, errors, distances, perplexity, time. */
const LOWER_IS_BETTER = /(^|[^a-z])(loss|err|error|errors|mse|mae|rmse|mape|nll|perplexity|ppl|wer|cer|fid|cost|regret|latency|time|duration|seconds|distance|divergence|kl)($|[^a-z])|loss$|error$/i;

/**
 * The goal of a metric: the setting's answer for it when it has one
 * (`runlens.metrics.goals`, by name), else what its name says
 * (`val_loss`, `test/error`, `rmse` are better low; the rest high).
 */
export function metricGoal(key: string, overrides: Readonly<Record<string, string>> = {}): MetricGoal {
  const set = overrides[key];
  if (set === 'min' || set === 'max') return set;
  return LOWER_IS_BETTER.test(key) ? 'min' : 'max';
}

/** Whether `a` is a better value than `b` for that goal; NaN is never better. */
export function isBetter(a: number, b: number, goal: MetricGoal): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return goal === 'max' ? a > b : a < b;
}
