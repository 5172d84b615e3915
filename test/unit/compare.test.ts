import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildComparison } from '../../src/core/compare';
import { metricGoal } from '../../src/core/code/metricGoal';
import type { RunRecord } from '../../src/core/runRecord';
import { makeRecord, rng } from '../helpers/runFactory';

function run(overrides: Partial<RunRecord>): RunRecord {
  return { ...makeRecord(rng(1)), ...overrides };
}

const summary = (metrics: Record<string, number>) => ({
  lines: 1, lastStep: 0, malformed: 0, malformedSamples: [],
  metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, { last: v, min: v, max: v, count: 1, nan: Number.isNaN(v) ? 1 : 0, lastStep: 0 }])),
});

describe('comparing runs', () => {
  test('params: the union of keys, absent ones null, differing ones marked', () => {
    const c = buildComparison([
      run({ id: 'a', params: { lr: 0.1, opt: 'adam', 'model.depth': 4 } }),
      run({ id: 'b', params: { lr: 0.01, opt: 'adam' } }),
      run({ id: 'c', params: { lr: 0.1, opt: 'adam', 'model.depth': 4, amp: true } }),
    ]);
    const byKey = Object.fromEntries(c.params.map((p) => [p.key, p]));
    assert.deepEqual(byKey.lr!.values, ['0.1', '0.01', '0.1']);
    assert.equal(byKey.lr!.differs, true);
    assert.equal(byKey.opt!.differs, false);
    assert.deepEqual(byKey['model.depth']!.values, ['4', null, '4']);
    assert.equal(byKey['model.depth']!.differs, true);
    assert.deepEqual(byKey.amp!.values, [null, null, 'true']);
  });

  test('metrics: the best run by direction, NaN never best, missing values null', () => {
    const c = buildComparison([
      run({ id: 'a', metricsSummary: summary({ val_loss: 0.3, acc: 0.9 }) }),
      run({ id: 'b', metricsSummary: summary({ val_loss: NaN, acc: 0.95 }) }),
      run({ id: 'c', metricsSummary: summary({ val_loss: 0.2 }) }),
    ]);
    const byKey = Object.fromEntries(c.metrics.map((m) => [m.key, m]));
    assert.equal(byKey.val_loss!.goal, 'min');
    assert.equal(byKey.val_loss!.best, 2);
    assert.equal(byKey.acc!.goal, 'max');
    assert.equal(byKey.acc!.best, 1);
    assert.deepEqual(byKey.acc!.last, [0.9, 0.95, null]);
    assert.equal(metricGoal('train/perplexity'), 'min');
    assert.equal(metricGoal('f1'), 'max');
  });

  test('fifty runs compare as easily as two: no cap', () => {
    const random = rng(3);
    const records = Array.from({ length: 50 }, () => makeRecord(random));
    const c = buildComparison(records);
    assert.equal(c.runs.length, 50);
    assert.ok(c.params.every((p) => p.values.length === 50));
  });
});
