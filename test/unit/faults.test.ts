// The small size of every `npm run faults` case (test/faults/cases.ts): each count must be zero.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { concurrencyCase, corruptionCase, importFuzzCase, killCase, queryFuzzCase, secretsCase, SMALL } from '../faults/cases';

describe('faults, small size (npm run faults runs them full size)', () => {
  test('recorder SIGKILLs at random moments: every run readable, no metric line that reached stdout.log lost, no temp folder left, git and the user index intact', async () => {
    const k = await killCase(SMALL);
    assert.deepEqual({ unreadable: k.unreadableRuns, lost: k.lostMetricLines, temp: k.tempFoldersLeft, fsck: k.fsckProblems, index: k.userIndexChanged }, { unreadable: 0, lost: 0, temp: 0, fsck: 0, index: 0 });
  });

  test('concurrent runs while readers read: no point lost, no reader failure', async () => {
    const c = await concurrencyCase(SMALL);
    assert.equal(c.lost, 0);
    assert.equal(c.readerFailures, 0);
  });

  test('every file RunLens reads, corrupted, under every command: no stack trace, no user file changed, the other run still listed', () => {
    const x = corruptionCase(SMALL);
    assert.ok(x.cases > 100, `${x.cases} cases`);
    assert.deepEqual({ traces: x.stackTraces, changed: x.userFilesChanged, missing: x.otherRunsMissing }, { traces: 0, changed: 0, missing: 0 }, x.examples.join('\n'));
  });

  test('generated and mutated queries: no crash, none slow', async () => {
    const q = await queryFuzzCase(SMALL);
    assert.equal(q.crashes, 0, q.examples.join('\n'));
    assert.equal(q.overOneSecond, 0);
  });

  test('mutated logs of every import kind: no crash, none slow', async () => {
    const f = await importFuzzCase(SMALL);
    assert.equal(f.inputs, 7 * SMALL.importInputs);
    assert.equal(f.crashes, 0, f.examples.join('\n'));
    assert.equal(f.overOneSecond, 0);
  });

  test('planted secrets: none in any file RunLens wrote, the index, or a snapshot', () => {
    const s = secretsCase();
    assert.deepEqual(s.leaks, []);
  });
});
