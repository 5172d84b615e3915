import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { formatMetricRecord, parseMetricObject, parseOutputLine } from '../../src/core/metrics/metricLine';
import { readMetricsFile, summarizeMetricsFile } from '../../src/core/metrics/metricsFile';
import { tempDir } from '../helpers/repo';

describe('metric lines', () => {
  test('a JSON object of numbers on stdout is a metrics line; ordinary output is not', () => {
    const r = parseOutputLine('  {"loss": 0.5, "step": 3}  ');
    assert.equal(r.kind, 'metrics');
    assert.deepEqual(r.kind === 'metrics' && r.record, { step: 3, t: null, values: { loss: 0.5 } });
    assert.equal(parseOutputLine('Epoch 1/10').kind, 'not-metrics');
    assert.equal(parseOutputLine('{"event": "start"}').kind, 'not-metrics');
    assert.equal(parseOutputLine('{').kind, 'not-metrics');
  });

  test('the runlens: prefix marks a line that must be metrics', () => {
    const r = parseOutputLine('runlens: {"acc": 1}');
    assert.equal(r.kind, 'metrics');
    assert.equal(parseOutputLine('runlens: hello').kind, 'malformed');
    assert.equal(parseOutputLine('runlens: {"name": "x"}').kind, 'malformed');
  });

  test('text fields are dropped, numbers kept', () => {
    const r = parseOutputLine('{"split": "val", "loss": 2, "nested": {"a": 1}}');
    assert.ok(r.kind === 'metrics');
    assert.deepEqual(r.record.values, { loss: 2 });
    assert.equal(r.verbatim, false);
  });

  test('Python\'s bare NaN and Infinity tokens and our stored strings both read as numbers', () => {
    for (const text of ['{"a": NaN, "b": Infinity, "c": -Infinity}', '{"a": "NaN", "b": "Infinity", "c": "-Infinity"}']) {
      const r = parseMetricObject(text);
      assert.ok(r.kind === 'metrics', text);
      assert.ok(Number.isNaN(r.record.values.a));
      assert.equal(r.record.values.b, Infinity);
      assert.equal(r.record.values.c, -Infinity);
    }
    const inString = parseMetricObject('{"label NaN Infinity": 1}');
    assert.ok(inString.kind === 'metrics');
    assert.deepEqual(Object.keys(inString.record.values), ['label NaN Infinity']);
  });

  test('the stored form round-trips every value, and stays valid JSON', () => {
    const record = { step: 4, t: 1700000000.5, values: { loss: NaN, up: Infinity, down: -Infinity, tiny: 5e-324, 'we"ird\n': -0.25 } };
    const line = formatMetricRecord(record);
    JSON.parse(line);
    const back = parseMetricObject(line);
    assert.ok(back.kind === 'metrics');
    assert.equal(back.record.step, 4);
    assert.equal(back.record.t, 1700000000.5);
    assert.ok(Number.isNaN(back.record.values.loss));
    assert.equal(back.record.values.up, Infinity);
    assert.equal(back.record.values.down, -Infinity);
    assert.equal(back.record.values.tiny, 5e-324);
    assert.equal(back.record.values['we"ird\n'], -0.25);
  });

  test('a dict printed instead of JSON is explained', () => {
    const r = parseOutputLine("{'loss': 1}");
    assert.ok(r.kind === 'malformed');
    assert.match(r.reason, /single quotes/);
  });
});

describe('metrics.jsonl reader', () => {
  function fileWith(content: string): string {
    const file = path.join(tempDir(), 'metrics.jsonl');
    fs.writeFileSync(file, content);
    return file;
  }

  test('a line without a step is the previous step + 1, starting at 0', () => {
    const steps: number[] = [];
    readMetricsFile(fileWith('{"a":1}\n{"a":2}\n{"step":10,"a":3}\n{"a":4}\n'), (r) => steps.push(r.step));
    assert.deepEqual(steps, [0, 1, 10, 11]);
  });

  test('a torn last line is reported as torn, the rest read', () => {
    const problems: string[] = [];
    const values: number[] = [];
    readMetricsFile(fileWith('{"a":1}\nnot json\n{"a":2}\n{"a":'), (r) => values.push(r.values.a!), (p) => problems.push(`${p.line}:${p.reason}`));
    assert.deepEqual(values, [1, 2]);
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^2:not valid JSON/);
    assert.match(problems[1]!, /^4:torn last line/);
  });

  test('lines split across read chunks are read whole', () => {
    const line = `{"loss":0.5,"pad":${'1'.repeat(100)}}\n`;
    const count = Math.ceil((3 * 1024 * 1024) / line.length);
    const summary = summarizeMetricsFile(fileWith(line.repeat(count)));
    assert.equal(summary.lines, count);
    assert.equal(summary.malformed, 0);
  });

  test('summary: min and max ignore NaN, count it, and stay NaN when every value is NaN', () => {
    const s = summarizeMetricsFile(fileWith('{"a":3,"b":"NaN"}\n{"a":"NaN","b":"NaN"}\n{"a":1}\n{"a":"Infinity"}\n'));
    assert.equal(s.metrics.a!.min, 1);
    assert.equal(s.metrics.a!.max, Infinity);
    assert.equal(s.metrics.a!.last, Infinity);
    assert.equal(s.metrics.a!.nan, 1);
    assert.ok(Number.isNaN(s.metrics.b!.min) && Number.isNaN(s.metrics.b!.max));
    assert.equal(s.lastStep, 3);
  });

  test('a missing file is an empty series, not an error', () => {
    assert.equal(summarizeMetricsFile(path.join(tempDir(), 'none.jsonl')).lines, 0);
  });
});
