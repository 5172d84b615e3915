// `npm run faults`: every fault case at full size, as a table. Not a test: the small size of each
// case runs in `npm test` (test/unit/faults.test.ts) and asserts the zeros.
// `npm run faults -- import tensorboard,mlflow` runs only the import fuzz, for those kinds.
import type { SourceKind } from '../../src/core/import/types';
import { concurrencyCase, corruptionCase, FULL, importFuzzCase, killCase, machine, queryFuzzCase, secretsCase } from './cases';

async function main(): Promise<void> {
  const rows: [string, string, boolean][] = [];
  const row = (name: string, result: string, ok: boolean) => {
    rows.push([name, result, ok]);
    console.error(`[faults] ${ok ? 'ok' : 'FAIL'} ${name}: ${result}`);
  };
  const [only, kinds] = process.argv.slice(2);
  const importFuzz = async () => {
    const f = await importFuzzCase(FULL, 11, kinds ? (kinds.split(',') as SourceKind[]) : undefined);
    row(`import fuzz: ${f.inputs} mutated inputs (${Object.entries(f.perKind).map(([k, n]) => `${n} ${k}`).join(', ')})`, `${f.crashes} crashes, ${f.overOneSecond} over 1 s (slowest ${f.slowestMs.toFixed(0)} ms)${f.examples.length ? `; e.g. ${f.examples.join(' | ')}` : ''}`, f.crashes + f.overOneSecond === 0);
  };
  if (only === 'import') {
    await importFuzz();
    printRows(rows);
    return;
  }
  const k = await killCase(FULL);
  row(`recorder SIGKILL at ${k.kills} random moments (alone and with its process group)`,
    `${k.unreadableRuns} unreadable runs, ${k.lostMetricLines} lost metric lines that reached stdout.log, ${k.tempFoldersLeft} temp folders left after the next run, git fsck ${k.fsckProblems ? `${k.fsckProblems} problem(s)` : 'clean'}, user's index ${k.userIndexChanged ? 'CHANGED' : 'byte-identical'}`,
    k.unreadableRuns + k.lostMetricLines + k.tempFoldersLeft + k.fsckProblems + k.userIndexChanged === 0);
  const c = await concurrencyCase(FULL);
  row(`${c.runs} concurrent runs × ${c.points / c.runs} points while ls, series and the index read`, `${c.lost} lost of ${c.points}, ${c.readerFailures} reader failures`, c.lost + c.readerFailures === 0);
  const x = corruptionCase(FULL);
  row('corruption corpus: every file RunLens reads × every command', `${x.cases} cases: ${x.stackTraces} stack traces, ${x.userFilesChanged} user files changed, ${x.otherRunsMissing} times another run was not listed${x.examples.length ? `; e.g. ${x.examples.join(' | ')}` : ''}`, x.stackTraces + x.userFilesChanged + x.otherRunsMissing === 0);
  const q = await queryFuzzCase(FULL);
  row(`query fuzz: ${q.queries} generated and mutated queries`, `${q.crashes} crashes, ${q.overOneSecond} over 1 s (slowest ${q.slowestMs.toFixed(0)} ms)${q.examples.length ? `; e.g. ${q.examples.join(' | ')}` : ''}`, q.crashes + q.overOneSecond === 0);
  await importFuzz();
  const s = secretsCase();
  row(`planted-secrets corpus (${s.planted} secrets)`, `${s.leaked} secret values found in files RunLens wrote, the index, or snapshot commits and trees${s.leaks.length ? `: ${s.leaks.join(', ')}` : ''}`, s.leaked === 0);

  printRows(rows);
}

function printRows(rows: [string, string, boolean][]): void {
  console.log(`\nnpm run faults, ${new Date().toISOString()}, ${machine()}\n`);
  console.log('| case | result | |');
  console.log('|---|---|---|');
  for (const [name, result, ok] of rows) console.log(`| ${name} | ${result} | ${ok ? 'ok' : '**FAIL**'} |`);
  process.exitCode = rows.every(([, , ok]) => ok) ? 0 : 1;
}

void main();
