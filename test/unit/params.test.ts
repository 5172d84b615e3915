import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stripUrlCredentials } from '../../src/core/git/remoteUrl';
import { recordableVariables } from '../../src/core/record/environment';
import { ConfigError, flattenParams, loadConfigFile, paramsFromArgv, parseParamAssignment, scriptArguments } from '../../src/core/params';
import { tempDir, write } from '../helpers/repo';
import * as path from 'node:path';

describe('params', () => {
  test('nested config flattens to dotted keys, arrays by index', () => {
    assert.deepEqual(flattenParams({ a: { b: { c: 1 } }, l: [10, { x: true }], e: {}, n: null }), {
      'a.b.c': 1, 'l.0': 10, 'l.1.x': true, e: '{}', n: null,
    });
  });

  test('--param values are typed like YAML scalars', () => {
    assert.deepEqual(parseParamAssignment('lr=1e-3'), ['lr', 0.001]);
    assert.deepEqual(parseParamAssignment('amp=true'), ['amp', true]);
    assert.deepEqual(parseParamAssignment('name=resnet=50'), ['name', 'resnet=50']);
    assert.deepEqual(parseParamAssignment('tag=007x'), ['tag', '007x']);
    assert.throws(() => parseParamAssignment('novalue'), /key=value/);
  });

  test('script flags read the way argparse would', () => {
    assert.deepEqual(paramsFromArgv(['--lr', '0.01', '--amp', '--batch-size=32', '--shift', '-1', 'positional', '--name', 'x']), {
      lr: 0.01, amp: true, batch_size: 32, shift: -1, name: 'x',
    });
  });

  test('the script\'s arguments are found behind the interpreter and its options', () => {
    assert.deepEqual(scriptArguments(['python', '-u', 'train.py', '--lr', '1']), ['--lr', '1']);
    assert.deepEqual(scriptArguments(['python3.11', '-m', 'pkg.train', '--lr', '1']), ['--lr', '1']);
    assert.deepEqual(scriptArguments(['python', '-X', 'dev', 'train.py', '--a']), ['--a']);
    assert.deepEqual(scriptArguments(['./train.sh', '--lr', '1']), ['--lr', '1']);
  });

  test('a config file that cannot be used names the file and the reason', () => {
    const dir = tempDir();
    write(dir, 'bad.yaml', 'a: [1, 2\n');
    write(dir, 'list.yaml', '- 1\n');
    assert.throws(() => loadConfigFile(path.join(dir, 'bad.yaml')), (e: Error) => e instanceof ConfigError && /bad\.yaml/.test(e.message));
    assert.deepEqual(loadConfigFile(path.join(dir, 'list.yaml')), { '0': 1 });
    assert.throws(() => loadConfigFile(path.join(dir, 'missing.yaml')), /cannot read config .*missing\.yaml/);
  });
});

describe('secrets', () => {
  test('credentials are cut out of URLs; SSH logins are kept', () => {
    assert.equal(stripUrlCredentials('https://u:p@host/x.git'), 'https://host/x.git');
    assert.equal(stripUrlCredentials('https://ghp_abc@github.invalid/o/r'), 'https://github.invalid/o/r');
    assert.equal(stripUrlCredentials('ssh://git@host/o/r'), 'ssh://git@host/o/r');
    assert.equal(stripUrlCredentials('ssh://git:pw@host/o/r'), 'ssh://host/o/r');
    assert.equal(stripUrlCredentials('git@host:o/r.git'), 'git@host:o/r.git');
    assert.equal(stripUrlCredentials('a=http://x:y@h1,b=https://z@h2'), 'a=http://h1,b=https://h2');
  });

  test('secret-looking variable names are redacted; terminal noise is left out', () => {
    const vars = recordableVariables({ MY_API_TOKEN: 't', AWS_SECRET_ACCESS_KEY: 's', DB_PASSWORD: 'p', WANDB_API_KEY: 'k', CUDA_VISIBLE_DEVICES: '0', LS_COLORS: 'x', PROXY: 'http://u:pw@proxy:3128' });
    assert.deepEqual(vars, {
      AWS_SECRET_ACCESS_KEY: '<redacted>', CUDA_VISIBLE_DEVICES: '0', DB_PASSWORD: '<redacted>',
      MY_API_TOKEN: '<redacted>', PROXY: 'http://proxy:3128', WANDB_API_KEY: '<redacted>',
    });
  });
});
