import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { HashCache, hashPath } from '../../src/core/dataHash';
import { isRunId, newRunId, runIdTime } from '../../src/core/runId';
import type { RunRecord } from '../../src/core/runRecord';
import { listRuns, readRunRecord, resolveRun, runDir, serializeRunRecord, withLiveStatus, writeRunRecord } from '../../src/core/store';
import { safeText } from '../../src/cli/terminalText';
import { tempDir, write } from '../helpers/repo';

function fakeRun(id: string, name: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    version: 1, id, name, command: ['x'], cwd: '/', cwdInRepo: null, startedAt: new Date(runIdTime(id)).toISOString(), endedAt: null,
    status: 'finished', exitCode: 0, signal: null, pid: 1, host: 'h', user: 'u', tags: [], git: null, gitError: 'none',
    params: {}, paramSources: {}, configFiles: [], env: null, data: [], artifacts: [], seed: null, metricsSummary: null, problems: [], ...over,
  };
}

describe('run ids', () => {
  test('sort by time, are unique, and are safe as folder and ref names', () => {
    const a = newRunId(1_700_000_000_000);
    const b = newRunId(1_700_000_000_001);
    assert.ok(a < b);
    assert.ok(isRunId(a));
    assert.equal(runIdTime(a), 1_700_000_000_000);
    const many = new Set(Array.from({ length: 10_000 }, () => newRunId(5)));
    assert.equal(many.size, 10_000);
    assert.match(a, /^[0-9a-z]{26}$/);
  });
});

describe('store', () => {
  test('a run is found by id, unique prefix or unique name; ambiguity lists the candidates', () => {
    const runs = [fakeRun('01aaaaaaaaaaaaaaaaaaaaaaaa', 'resnet'), fakeRun('01aaaaaaaabbbbbbbbbbbbbbbb', 'vit'), fakeRun('01cccccccccccccccccccccccc', 'vit')];
    assert.equal(resolveRun(runs, '01cc').id, runs[2]!.id);
    assert.equal(resolveRun(runs, 'resnet').id, runs[0]!.id);
    assert.equal(resolveRun(runs, '01AAAAAAAAB').id, runs[1]!.id, 'case-insensitive');
    assert.throws(() => resolveRun(runs, '01aaaaaaaa'), /matches 2 runs[\s\S]*resnet[\s\S]*vit/);
    assert.throws(() => resolveRun(runs, 'vit'), /matches 2 runs/);
    assert.throws(() => resolveRun(runs, 'zzz'), /no run matches "zzz"/);
  });

  test('a run folder that cannot be read is reported and left in place; one whose run.json was never written reads as crashed', () => {
    const store = tempDir();
    const good = fakeRun(newRunId(), 'good');
    fs.mkdirSync(runDir(store, good.id), { recursive: true });
    writeRunRecord(store, good);
    const broken = newRunId();
    write(store, `runs/${broken}/run.json`, '{"id": "trunc');
    const empty = newRunId();
    fs.mkdirSync(runDir(store, empty));
    const listing = listRuns(store);
    assert.deepEqual(listing.runs.map((r) => r.id).sort(), [good.id, empty].sort());
    const startedEmpty = listing.runs.find((r) => r.id === empty)!;
    assert.equal(startedEmpty.status, 'crashed');
    assert.match(startedEmpty.problems.join('\n'), /run\.json was never written/);
    assert.deepEqual(listing.unreadable.map((u) => u.id), [broken]);
    assert.match(listing.unreadable[0]!.reason, /run\.json is not valid JSON.*truncated/);
    assert.ok(fs.existsSync(runDir(store, broken)) && fs.existsSync(runDir(store, empty)), 'nothing deleted');
  });

  test('a running run whose recorder is gone reads as crashed; one on another host is left running', () => {
    const dead = spawnAndReap();
    assert.equal(withLiveStatus(fakeRun(newRunId(), 'x', { status: 'running', pid: dead, host: os.hostname() })).status, 'crashed');
    assert.equal(withLiveStatus(fakeRun(newRunId(), 'x', { status: 'running', pid: process.pid, host: os.hostname() })).status, 'running');
    assert.equal(withLiveStatus(fakeRun(newRunId(), 'x', { status: 'running', pid: dead, host: 'elsewhere' })).status, 'running');
  });

  test('non-finite summary numbers survive run.json', () => {
    const store = tempDir();
    const run = fakeRun(newRunId(), 'nan', {
      metricsSummary: { lines: 1, lastStep: 0, malformed: 0, malformedSamples: [], metrics: { loss: { last: NaN, min: -Infinity, max: Infinity, count: 1, nan: 1, lastStep: 0 } } },
    });
    fs.mkdirSync(runDir(store, run.id), { recursive: true });
    writeRunRecord(store, run);
    JSON.parse(serializeRunRecord(run));
    const back = readRunRecord(store, run.id).metricsSummary!.metrics.loss!;
    assert.ok(Number.isNaN(back.last));
    assert.equal(back.min, -Infinity);
    assert.equal(back.max, Infinity);
  });
});

describe('content hashes', () => {
  /**
   * `rel` written and `hashed` (the file or a folder holding it) hashed into a saved cache, then
   * the file's bytes changed with its size and mtime kept: only a cache hit gives the first hash.
   */
  function hashedThenChangedUnseen(rel: string, hashed = rel) {
    const dir = tempDir();
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const cacheFile = path.join(dir, 'cache.json');
    const mtime = new Date(1_700_000_000_000);
    fs.writeFileSync(file, 'aaaa');
    fs.utimesSync(file, mtime, mtime);
    const cache = new HashCache(cacheFile);
    const first = hashPath(hashed, dir, cache);
    cache.save();
    fs.writeFileSync(file, 'bbbb');
    fs.utimesSync(file, mtime, mtime);
    return { dir, file, cacheFile, mtime, first };
  }

  test('the cache is used while path, size and mtime match, and refreshed when they change', () => {
    const { dir, file, cacheFile, mtime, first } = hashedThenChangedUnseen('data.bin');
    assert.equal(hashPath('data.bin', dir, new HashCache(cacheFile)).sha256, first.sha256, 'served from the cache');
    fs.utimesSync(file, mtime, new Date(mtime.getTime() + 5000));
    const fresh = hashPath('data.bin', dir, new HashCache(cacheFile));
    assert.equal(fresh.sha256, createHash('sha256').update('bbbb').digest('hex'), 'mtime changed: re-hashed');
  });

  test('the cache knows a file by itself, not its path: data reached through a link (as a reproduction does) is not hashed again', () => {
    const { dir, cacheFile, first } = hashedThenChangedUnseen('data/train.bin', 'data');
    const worktree = path.join(dir, 'worktree');
    fs.mkdirSync(worktree);
    fs.symlinkSync(path.join(dir, 'data'), path.join(worktree, 'data'));
    const throughLink = hashPath('data', worktree, new HashCache(cacheFile));
    assert.equal(throughLink.sha256, first.sha256, 'the folder through a link in another place: served from the cache');
    assert.equal(throughLink.entries?.[0]?.path, 'train.bin');
  });

  test('a missing path is recorded as missing with the reason', () => {
    const h = hashPath('nope.csv', tempDir(), new HashCache(null));
    assert.equal(h.kind, 'missing');
    assert.match(h.error!, /ENOENT/);
  });
});

describe('terminal safety', () => {
  test('escape sequences in run-provided text are shown, not executed', () => {
    assert.equal(safeText('evil\u001b[2J\u001b]0;pwned\u0007name'), 'evil\\x1b[2J\\x1b]0;pwned\\x07name');
    assert.equal(safeText('<img src=x onerror=alert(1)>'), '<img src=x onerror=alert(1)>');
  });
});

/** The pid of a process that has exited and been reaped. */
function spawnAndReap(): number {
  return spawnSync('true').pid!;
}
