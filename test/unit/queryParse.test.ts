import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QuerySyntaxError } from '../../src/core/query/ast';
import { parseQuery, parseSort } from '../../src/core/query/parse';

function syntaxError(query: string): QuerySyntaxError {
  try {
    parseQuery(query);
  } catch (err) {
    assert.ok(err instanceof QuerySyntaxError, `${query}: ${String(err)}`);
    return err;
  }
  assert.fail(`"${query}" parsed`);
}

describe('query language', () => {
  test('and binds tighter than or; not and parentheses work', () => {
    assert.deepEqual(parseQuery('status = failed or name ~ "a" and not tag = x'), {
      kind: 'or',
      left: { kind: 'cmp', field: { kind: 'attr', name: 'status' }, op: '=', value: { kind: 'string', value: 'failed' }, pos: 0 },
      right: {
        kind: 'and',
        left: { kind: 'cmp', field: { kind: 'attr', name: 'name' }, op: '~', value: { kind: 'string', value: 'a' }, pos: 19 },
        right: { kind: 'not', expr: { kind: 'cmp', field: { kind: 'attr', name: 'tag' }, op: '=', value: { kind: 'string', value: 'x' }, pos: 38 } },
      },
    });
  });

  test('dotted and quoted keys, durations, dates and every literal', () => {
    const q = parseQuery("params.model.depth >= 4 and metrics.`val/loss` < 1e-3 and age < 7d and started >= '2026-11-01' and dirty = false and params.note = null");
    assert.ok(q);
    const text = JSON.stringify(q);
    assert.match(text, /"key":"model.depth"/);
    assert.match(text, /"key":"val\/loss"/);
    assert.match(text, /"seconds":604800/);
    assert.match(text, /"value":0.001/);
    assert.equal(parseQuery('   '), null);
  });

  test('a syntax error names the position and what was expected', () => {
    const cases: [string, number, RegExp][] = [
      ['metrics.acc >', 13, /expected a value after ">", found the end of the query/],
      ['metrics.acc 0.9', 12, /expected a comparison .* after metrics.acc, found 0\.9/],
      ['params.lr < 0.01 and', 20, /expected a field such as metrics\.acc/],
      ['status = failed stray', 16, /expected "and", "or" or the end of the query, found "stray"/],
      ['(status = failed', 16, /expected "\)" to close the "\(" at position 1/],
      ['name = "unterminated', 7, /unterminated string/],
      ['accuracy > 0.9', 0, /unknown field "accuracy": expected metrics\.<name>, params\.<name>/],
      ['metrics.acc > "high"', 14, /a metric compares with a number/],
      ['name ~ "(["', 7, /invalid pattern/],
      ['age < "yesterday"', 6, /age compares with a duration/],
      ['started > "not a date"', 10, /is not a date/],
      ['name > "a"', 5, /name cannot be ordered/],
      ['metrics. > 1', 8, /expected a metric name after "metrics\."/],
      ['status & failed', 7, /unexpected "&"/],
    ];
    for (const [query, position, message] of cases) {
      const err = syntaxError(query);
      assert.match(err.message, message, query);
      assert.equal(err.position, position, `${query}: ${err.message}`);
      assert.match(err.message, new RegExp(`at position ${position + 1}$`));
      assert.equal(err.pointer().split('\n')[1]!.indexOf('^'), position + 2);
    }
  });

  test('sort keys: several, descending with a dash; unknown fields refused', () => {
    assert.deepEqual(parseSort('-metrics.acc, name'), [
      { field: { kind: 'metric', key: 'acc' }, descending: true },
      { field: { kind: 'attr', name: 'name' }, descending: false },
    ]);
    assert.throws(() => parseSort('-bogus'), /unknown field "bogus"/);
    assert.throws(() => parseSort('tag'), /cannot sort by tag/);
  });
});
