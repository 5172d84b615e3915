/**
 * A metric value for people: integers as they are, four or five significant
 * digits otherwise, exponents for the very small and very large, and NaN and
 * infinities named (as `infinity` spells them: "∞" in the editor, "inf" in a terminal).
 */
export function formatNumber(value: number | null, infinity = '∞', digits = 4): string {
  if (value === null) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? infinity : `-${infinity}`;
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(3) : String(Number(value.toPrecision(digits)));
}
