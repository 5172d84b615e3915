import { safeText } from '../safeText';
import type { ReproductionReport } from './report';

/** The report as a person reads it in a terminal. */
export function describeReport(report: ReproductionReport, names: { original: string; reproduction: string }): string {
  const s = safeText;
  const lines = [
    `${report.verdict === 'reproduced' ? 'REPRODUCED' : 'DIVERGED'}: "${s(names.reproduction)}" (${report.reproduction}) against "${s(names.original)}" (${report.original})`,
    `  tolerance: relative ${report.tolerance.relative}, absolute ${report.tolerance.absolute}`,
  ];
  const metrics = report.metrics.map((m) => `${s(m.key)}: ${m.within ? 'same' : 'differs'} (final ${m.originalFinal ?? '—'} → ${m.reproductionFinal ?? '—'}, ${m.stepsCompared} step(s) compared)`);
  if (metrics.length) lines.push('  metrics', ...metrics.map((m) => `    ${m}`));
  if (report.causes.length) lines.push('  what differs', ...report.causes.map((c) => `    ${c.kind}: ${s(c.text)}`));
  else lines.push('  nothing differs: same code, data, environment and seed');
  return lines.join('\n') + '\n';
}
