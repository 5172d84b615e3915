// Faults and hostile input against the real CLI, real git and real processes: secrets, kills,
// signals, odd data paths, hostile queries, broken records. Each test fails when its fix is undone.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { RunRecord } from '../../src/core/runRecord';
import { newRunId } from '../../src/core/runId';
import { everythingWritten } from '../faults/cases';
import { CLI, exited, git, makeRepo, runCli, runIds, TEST_ENV, tempDir, waitFor, write } from '../helpers/repo';

const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function listed(repo: string): RunRecord[] {
  const ls = runCli(['ls', '--json'], repo);
  assert.equal(ls.code, 0, ls.stderr);
  return JSON.parse(ls.stdout) as RunRecord[];
}

describe('secrets never reach a file, the index or git', () => {
  test('secrets as flags, params, config keys and environment values are redacted everywhere; ordinary params are kept', () => {
    const repo = makeRepo({
      'train.py': 'print("ok")\n',
      // Tracked, so the config's own text is the user's committed file; what is checked is what RunLens derives from it.
      'conf.yaml': 'db_password: cfgPlanted77\napi:\n  token: cfgTok55planted\nlr: 0.1\npad_token: "[PAD]"\nmax_tokens: 512\n',
    });
    const ghToken = `ghp_${'Q'.repeat(36)}`;
    const result = runCli(
      ['run', '--config', 'conf.yaml', '--param', 'password=paramPlanted99', '--param', 'batch=64', '--',
        PYTHON, 'train.py', '--password', 'hunter2planted', '--api-key=cliKEY14planted', '--lr', '0.01', '--hf_token', `hf_${'Z'.repeat(34)}`],
      repo,
      {
        GH_PAT: ghToken,
        AZURE_STORAGE_CONNECTION_STRING: 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=azPlantedKey0123456789==;EndpointSuffix=core.windows.net',
        DATABASE_URL: 'postgres://ml:urlPlantedPw@db.example.invalid/runs',
        TRAIN_OPTS: 'mode=fast password=valPlanted42',
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(runCli(['ls'], repo).code, 0);
    const written = everythingWritten(repo);
    for (const secret of ['cfgPlanted77', 'cfgTok55planted', 'paramPlanted99', 'hunter2planted', 'cliKEY14planted', ghToken, 'Z'.repeat(34), 'azPlantedKey0123456789', 'urlPlantedPw', 'valPlanted42']) {
      // The committed config file itself is the user's, in the snapshot tree; nothing else may hold its values.
      const outsideConfig = written.split('db_password: cfgPlanted77\napi:\n  token: cfgTok55planted').join('');
      assert.ok(!outsideConfig.includes(secret), `${secret} was written somewhere`);
    }
    const [record] = listed(repo);
    assert.equal(record!.params.lr, 0.01);
    assert.equal(record!.params.batch, 64);
    assert.equal(record!.params.pad_token, '[PAD]');
    assert.equal(record!.params.max_tokens, 512);
    assert.equal(record!.params.db_password, '<redacted>');
    assert.deepEqual(record!.command.slice(2), ['--password', '<redacted>', '--api-key=<redacted>', '--lr', '0.01', '--hf_token', '<redacted>']);
    assert.match(record!.env!.variables.AZURE_STORAGE_CONNECTION_STRING!, /<redacted>/);
    assert.match(record!.env!.variables.TRAIN_OPTS!, /^mode=fast password=<redacted>$/);
  });

  test('untracked secret files stay out of the snapshot, listed with the reason; a flag keeps them', () => {
    const repo = makeRepo();
    write(repo, '.env', 'WANDB_API_KEY=abc\n');
    write(repo, 'keys/id_rsa', '-----BEGIN OPENSSH PRIVATE KEY-----\nxyz\n-----END OPENSSH PRIVATE KEY-----\n');
    write(repo, 'credentials.json', '{}\n');
    write(repo, 'notes.txt', `token ${'ghp_'}${'a'.repeat(36)}\n`);
    write(repo, '.env.example', 'WANDB_API_KEY=\n');
    write(repo, 'model.py', 'layers = 3\n');
    const run = runCli(['run', '--', 'true'], repo);
    assert.equal(run.code, 0, run.stderr);
    const [record] = listed(repo);
    const files = git(repo, 'ls-tree', '-r', '--name-only', record!.git!.snapshot).split('\n').filter(Boolean).sort();
    assert.deepEqual(files, ['.env.example', 'README.md', 'model.py', 'train.py']);
    const skipped = Object.fromEntries(record!.git!.skipped.map((s) => [s.path, s.reason]));
    for (const f of ['.env', 'keys/id_rsa', 'credentials.json']) assert.match(skipped[f] ?? '', /secret-looking file/, f);
    assert.match(skipped['notes.txt'] ?? '', /looks like a secret/);
    const kept = runCli(['run', '--include-secret-files', '--', 'true'], repo);
    assert.equal(kept.code, 0, kept.stderr);
    const second = listed(repo)[0]!;
    const keptFiles = git(repo, 'ls-tree', '-r', '--name-only', second.git!.snapshot);
    for (const f of ['.env', 'keys/id_rsa', 'credentials.json', 'notes.txt']) assert.ok(keptFiles.includes(f), f);
  });
});

describe('a run given secrets on its command line', () => {
  test('is not reproduced with "<redacted>" in their place: reproduce refuses and says what to do', () => {
    const repo = makeRepo({ 'train.py': 'import sys\nprint(len(sys.argv))\n' });
    assert.equal(runCli(['run', '--name', 'with-secret', '--', PYTHON, 'train.py', '--password', 'hunter2'], repo).code, 0);
    const r = runCli(['reproduce', 'with-secret'], repo);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /secrets on its command line .*never recorded; pass them through the environment/);
    assert.equal(runIds(repo).length, 1, 'nothing was run');
  });
});

describe('no run disappears', () => {
  test('a run killed before its run.json was in place is listed and shown as crashed, with what is known', () => {
    const repo = makeRepo();
    const runs = path.join(repo, '.runlens', 'runs');
    const empty = newRunId(Date.now() - 5000);
    fs.mkdirSync(path.join(runs, empty), { recursive: true });
    const torn = newRunId(Date.now() - 4000);
    write(runs, `${torn}/.run.json.999999.1.tmp`, '{"version":1,"id":"');
    const whole = newRunId(Date.now() - 3000);
    const record = { version: 1, id: whole, name: 'was-starting', command: ['python', 'train.py'], cwd: repo, startedAt: new Date().toISOString(), endedAt: null, status: 'running', pid: 999999, host: os.hostname(), problems: [] };
    write(runs, `${whole}/.run.json.999999.2.tmp`, JSON.stringify(record));
    const ls = runCli(['ls', '--json'], repo);
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal(ls.stderr, '', 'no warning on every ls');
    const byId = new Map((JSON.parse(ls.stdout) as RunRecord[]).map((r) => [r.id, r]));
    for (const id of [empty, torn, whole]) assert.equal(byId.get(id)?.status, 'crashed', id);
    assert.equal(byId.get(whole)!.name, 'was-starting');
    assert.match(byId.get(empty)!.problems.join(' '), /never written/);
    const show = runCli(['show', torn], repo);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /crashed/);
  });

  test('a crashed run ends at its last sign of life and keeps its metrics in show', async () => {
    const repo = makeRepo();
    const child = spawn(process.execPath, [CLI, 'run', '--', 'sh', '-c', 'echo \'{"loss": 2}\'; exec sleep 30'], { cwd: repo, env: TEST_ENV, stdio: 'ignore' });
    await waitFor(() => {
      const id = runIds(repo)[0];
      const file = id && path.join(repo, '.runlens', 'runs', id, 'metrics.jsonl');
      return Boolean(file && fs.existsSync(file) && fs.statSync(file).size > 0);
    }, 15_000, 'the first metric line');
    const done = exited(child);
    child.kill('SIGKILL');
    await done;
    spawnSync('pkill', ['-f', 'exec sleep 30']);
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    const show = JSON.parse(runCli(['show', '--json', runIds(repo)[0]!], repo).stdout) as RunRecord;
    assert.equal(show.status, 'crashed');
    assert.ok(show.endedAt && Date.parse(show.endedAt) <= killedAt, `ended at ${show.endedAt}, before the kill at ${new Date(killedAt).toISOString()}`);
    assert.equal(show.metricsSummary?.metrics.loss?.last, 2);
    const [fromLs] = listed(repo);
    assert.equal(fromLs!.endedAt, show.endedAt, 'ls and show agree, and the end does not move');
  });
});

describe('the command sees one interrupt, and the recorder waits for it', () => {
  test('one SIGINT to the process group reaches a script once; its KeyboardInterrupt handler saves the checkpoint', async () => {
    const repo = makeRepo({
      'train.py': [
        'import time',
        'try:',
        '    print("ready", flush=True)',
        '    time.sleep(60)',
        'except KeyboardInterrupt:',
        '    print("interrupted", flush=True)',
        '    time.sleep(1.0)',
        '    open("checkpoint.pt", "w").write("saved")',
        '    print("checkpoint saved", flush=True)',
        '',
      ].join('\n'),
    });
    // As a shell starts a job: the recorder leads a process group of its own.
    const child = spawn(process.execPath, [CLI, 'run', '--', PYTHON, 'train.py'], { cwd: repo, env: TEST_ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const done = exited(child);
    await waitFor(() => {
      const id = runIds(repo)[0];
      const log = id && path.join(repo, '.runlens', 'runs', id, 'stdout.log');
      return Boolean(log && fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('ready'));
    }, 20_000, 'the script to start');
    process.kill(-child.pid!, 'SIGINT');
    const result = await done;
    assert.equal(fs.readFileSync(path.join(repo, 'checkpoint.pt'), 'utf8'), 'saved', result.stdout + result.stderr);
    assert.equal(result.stdout.split('interrupted').length - 1, 1);
    assert.equal(listed(repo)[0]!.status, 'killed');
  });

  test('a signal while declared data is hashed ends the run as killed, and the command never starts', async () => {
    const repo = makeRepo();
    // A terabyte of holes: hashing it would take many minutes, so only an interrupt ends this run in time.
    const big = path.join(repo, 'huge.bin');
    fs.closeSync(fs.openSync(big, 'w'));
    fs.truncateSync(big, 1024 ** 4);
    write(repo, '.gitignore', 'huge.bin\n');
    const child = spawn(process.execPath, [CLI, 'run', '--data', 'huge.bin', '--', 'touch', 'started'], { cwd: repo, env: TEST_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = exited(child);
    await waitFor(() => runIds(repo).length === 1 && fs.existsSync(path.join(repo, '.runlens', 'runs', runIds(repo)[0]!, 'run.json')), 15_000, 'the run to start');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const result = await Promise.race([done, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
    if (result === null) child.kill('SIGKILL');
    assert.ok(result, 'the recorder ended after the signal');
    assert.ok(!fs.existsSync(path.join(repo, 'started')), 'the command did not start');
    const [record] = listed(repo);
    assert.equal(record!.status, 'killed');
    assert.match(record!.problems.join(' '), /interrupted while hashing/);
  });
});

describe('odd data paths', () => {
  test('a device or a FIFO as --data is recorded as what it is and never read; a missing one refuses the run', async () => {
    const repo = makeRepo();
    execFileSync('mkfifo', [path.join(repo, 'pipe')]);
    const run = spawnSync(process.execPath, [CLI, 'run', '--data', '/dev/zero', '--data', 'pipe', '--', 'true'], { cwd: repo, env: TEST_ENV, encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    const [record] = listed(repo);
    assert.deepEqual(record!.data.map((d) => [d.path, d.kind]), [['/dev/zero', 'special'], ['pipe', 'special']]);
    assert.match(record!.problems.join(' '), /a character device: not hashed/);
    const missing = runCli(['run', '--data', 'no-such-data', '--', 'true'], repo);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read data no-such-data/);
    assert.equal(runIds(repo).length, 1, 'no run recorded for the typo');
  });

  test('a data folder of links is hashed by what they point at, with a loop guard; diff sees a changed target', () => {
    const repo = makeRepo();
    const blobs = tempDir('runlens-blobs-');
    write(blobs, 'a.bin', 'first');
    write(repo, 'data/shard-0', 'plain');
    fs.symlinkSync(path.join(blobs, 'a.bin'), path.join(repo, 'data', 'shard-1'));
    fs.symlinkSync(path.join(repo, 'data'), path.join(repo, 'data', 'loop'));
    write(repo, '.gitignore', 'data/\n');
    assert.equal(runCli(['run', '--name', 'before', '--data', 'data', '--', 'true'], repo).code, 0);
    write(blobs, 'a.bin', 'second');
    assert.equal(runCli(['run', '--name', 'after', '--data', 'data', '--', 'true'], repo).code, 0);
    const [after, before] = listed(repo);
    assert.equal(before!.data[0]!.files, 2, 'the link counts as its target');
    assert.ok(before!.data[0]!.notes?.some((n) => /loop.*link back/.test(n)), JSON.stringify(before!.data[0]!.notes));
    assert.notEqual(before!.data[0]!.sha256, after!.data[0]!.sha256);
    const diff = runCli(['diff', 'before', 'after'], repo);
    assert.match(diff.stdout, /data/);
    assert.match(diff.stdout, /shard-1/);
  });
});

describe('hostile queries and broken files give one clear line', () => {
  test('a backtracking pattern matches in linear time; huge and deep queries are refused with a message', () => {
    const repo = makeRepo();
    assert.equal(runCli(['run', '--name', `${'A'.repeat(60)}C`, '--', 'true'], repo).code, 0);
    // Backtracking takes 2^60 steps on this name: a run that ends at all ends by matching in linear time.
    const slow = spawnSync(process.execPath, [CLI, 'ls', '--where', 'name ~ "(A+)+B"'], { cwd: repo, env: TEST_ENV, encoding: 'utf8', timeout: 60_000 });
    assert.equal(slow.status, 0, slow.stderr || 'timed out');
    assert.match(slow.stdout, /No run matches/);
    for (const [query, reason] of [
      ['not '.repeat(1000) + 'exit = 1', /nests too deep/],
      [Array(1000).fill('exit = 1').join(' or '), /too long|too many comparisons/],
      [Array(300).fill('exit=1').join(' or '), /too many comparisons/],
      ['('.repeat(5000) + 'exit = 1' + ')'.repeat(5000), /nests too deep|too long/],
      ['('.repeat(100) + 'exit = 1' + ')'.repeat(100), /nests too deep/],
      ['name ~ "(?=x)"', /invalid pattern/],
    ] as const) {
      const r = runCli(['ls', '--where', query], repo);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, reason);
      assert.ok(r.stderr.split('\n').every((l) => l.length < 200), 'the message fits a terminal line');
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  test('a wrongly typed or truncated run.json is named; the other runs are still listed; a closed pipe is no crash', () => {
    const repo = makeRepo();
    assert.equal(runCli(['run', '--name', 'good', '--', 'true'], repo).code, 0);
    const runs = path.join(repo, '.runlens', 'runs');
    const typed = newRunId();
    write(runs, `${typed}/run.json`, JSON.stringify({ id: typed, startedAt: new Date().toISOString(), status: 'finished', name: 42, params: 5, command: 'python', tags: 'x' }));
    const truncated = newRunId();
    write(runs, `${truncated}/run.json`, '{"id": "' + truncated + '", "start');
    const ls = runCli(['ls', '--json'], repo);
    assert.equal(ls.code, 0, ls.stderr);
    const names = (JSON.parse(ls.stdout) as RunRecord[]).map((r) => r.id);
    assert.ok(names.includes(typed) && names.length === 2, JSON.stringify(names));
    assert.match(ls.stderr, new RegExp(`${truncated}.*not valid JSON`));
    // Enough output to fill a pipe, so `head` closes it while ls still writes.
    const [good] = listed(repo);
    for (let i = 0; i < 200; i++) {
      const id = newRunId(Date.now() - 10_000 - i);
      write(runs, `${id}/run.json`, JSON.stringify({ ...good, id, name: `filler-${i}-${'x'.repeat(400)}` }));
    }
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" ls --json | head -c 100 >/dev/null`], { cwd: repo, env: TEST_ENV, encoding: 'utf8' });
    assert.doesNotMatch(piped.stderr, /EPIPE|\n\s+at /, 'no EPIPE trace');
  });

  test('a config nested 5,000 deep is refused in one line, before anything is recorded', () => {
    const repo = makeRepo();
    write(repo, 'deep.json', '{"a":'.repeat(5000) + '1' + '}'.repeat(5000));
    const r = runCli(['run', '--config', 'deep.json', '--', 'true'], repo);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^runlens: config deep\.json nests deeper than 64 levels\n$/);
    assert.equal(runIds(repo).length, 0);
  });

  test('bidi controls in a name are shown visibly, in the terminal and in the snapshot commit message', () => {
    const repo = makeRepo();
    const name = 'report\u202Egnp.exe';
    assert.equal(runCli(['run', '--name', name, '--', 'true'], repo).code, 0);
    const ls = runCli(['ls'], repo);
    assert.ok(!ls.stdout.includes('\u202E'));
    assert.match(ls.stdout, /report\\u202egnp\.exe/);
    const message = git(repo, 'log', '-1', '--format=%B', listed(repo)[0]!.git!.ref);
    assert.ok(!message.includes('\u202E') && message.includes('\\u202e'), message);
    // Two runs with one name: the "matches 2 runs" message lists them, escapes made visible.
    const hostile = 'twin\u001b[31mred';
    assert.equal(runCli(['run', '--name', hostile, '--', 'true'], repo).code, 0);
    assert.equal(runCli(['run', '--name', hostile, '--', 'true'], repo).code, 0);
    const ambiguous = runCli(['show', hostile], repo);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /matches 2 runs/);
    assert.ok(!ambiguous.stderr.includes('\u001b'), JSON.stringify(ambiguous.stderr));
  });
});

describe('output the recorder keeps', () => {
  test('a progress bar redrawn 100,000 times with \\r is one line of the log, its last state; metrics around it are kept', () => {
    const repo = makeRepo({
      'train.py': [
        'import sys',
        'print(\'{"step": 0, "loss": 1.0}\', flush=True)',
        'for i in range(100000):',
        '    sys.stderr.write("\\r%6d/100000 [%s]" % (i + 1, "#" * (i // 5000)))',
        'sys.stderr.write("\\n")',
        'print(\'{"step": 1, "loss": 0.5}\', flush=True)',
        '',
      ].join('\n'),
    });
    const r = runCli(['run', '--quiet', '--', PYTHON, 'train.py'], repo);
    assert.equal(r.code, 0, r.stderr);
    const id = runIds(repo)[0]!;
    const log = fs.readFileSync(path.join(repo, '.runlens', 'runs', id, 'stdout.log'), 'utf8');
    assert.ok(log.length < 1000, `stdout.log is ${log.length} bytes`);
    assert.equal(log.split('\n').filter((l) => l.includes('/100000')).length, 1);
    assert.match(log, /100000\/100000 \[#{19}\]/);
    assert.equal(listed(repo)[0]!.metricsSummary!.metrics.loss!.last, 0.5);
  });
});

describe('a full disk', () => {
  const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
  test('the command runs to its own exit code; one clear line, no stack trace; readers still answer', { skip: canMount ? false : 'needs root to mount a small tmpfs' }, () => {
    const repo = makeRepo();
    const store = tempDir('runlens-full-');
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', store]);
    assert.equal(mounted.status, 0, `mount failed: ${mounted.stderr}`);
    try {
      const script = 'import json\nfor s in range(60000): print(json.dumps({"step": s, "loss": 1 / (s + 1), "pad": "x" * 20}))\nraise SystemExit(3)\n';
      write(repo, 'fill.py', script);
      const r = runCli(['run', '--', PYTHON, 'fill.py'], repo, { RUNLENS_DIR: store });
      assert.equal(r.code, 3, r.stderr);
      const lines = r.stderr.split('\n').filter((l) => l.includes('could not write') || l.includes('no space'));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /no space left/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      const ls = runCli(['ls'], repo, { RUNLENS_DIR: store });
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /fill-/);
      // The series cache cannot be written either: the answer comes all the same.
      const id = fs.readdirSync(path.join(store, 'runs'))[0]!;
      const series = runCli(['series', id, '--metric', 'loss', '--buckets', '10'], repo, { RUNLENS_DIR: store });
      assert.equal(series.code, 0, series.stderr);
      assert.match(series.stdout, /loss/);
    } finally {
      spawnSync('umount', [store]);
    }
  });

  test('a read-only store: the command still runs to its exit code, with one line saying the run is not saved', { skip: canMount ? false : 'needs root to mount a read-only tmpfs' }, () => {
    const repo = makeRepo();
    const store = tempDir('runlens-ro-');
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', store]);
    assert.equal(mounted.status, 0, `mount failed: ${mounted.stderr}`);
    try {
      const r = runCli(['run', '--', 'sh', '-c', 'echo trained; exit 4'], repo, { RUNLENS_DIR: store });
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stdout, /trained/);
      const lines = r.stderr.split('\n').filter((l) => /read-only|EROFS/.test(l));
      assert.equal(lines.length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      const ls = runCli(['ls'], repo, { RUNLENS_DIR: store });
      assert.equal(ls.code, 0, ls.stderr);
    } finally {
      spawnSync('umount', [store]);
    }
  });
});

describe('caches checked against the files themselves', () => {
  test('the index sees a run.json rewritten in place, and the series cache a metrics.jsonl rewritten to the same size', () => {
    const repo = makeRepo();
    assert.equal(runCli(['run', '--name', 'before', '--', 'sh', '-c', 'echo \'{"step": 0, "loss": 0.25}\'; echo \'{"step": 1, "loss": 0.50}\''], repo).code, 0);
    const id = runIds(repo)[0]!;
    const dir = path.join(repo, '.runlens', 'runs', id);
    const file = path.join(dir, 'run.json');
    // Old enough that the index trusts what it saw (outside its racily-clean window).
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    const oneHourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(file, twoHoursAgo, twoHoursAgo);
    fs.utimesSync(dir, twoHoursAgo, twoHoursAgo);
    assert.equal(listed(repo)[0]!.name, 'before');
    // Rewritten in place, as an editor or a script would: the folder's mtime stays.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"name": "before"', '"name": "after!"'));
    fs.utimesSync(file, oneHourAgo, oneHourAgo);
    fs.utimesSync(dir, twoHoursAgo, twoHoursAgo);
    const ls = runCli(['ls'], repo);
    assert.match(ls.stdout, /after!/);
    const series = () => JSON.parse(runCli(['series', id, '--metric', 'loss', '--json'], repo).stdout) as { runs: { points?: { y: number }[]; buckets?: { last: number }[] }[] };
    const first = JSON.stringify(series());
    const metrics = path.join(dir, 'metrics.jsonl');
    const text = fs.readFileSync(metrics, 'utf8');
    const changed = text.replace('0.25', '0.75').replace('0.50', '0.99');
    assert.equal(changed.length, text.length);
    fs.writeFileSync(metrics, changed);
    const second = JSON.stringify(series());
    assert.notEqual(second, first);
    assert.match(second, /0\.99/);
  });

  test('a metrics line cut short on stdout is counted as malformed', () => {
    const repo = makeRepo();
    const r = runCli(['run', '--', 'sh', '-c', 'echo \'{"step": 1, "loss": 0.5}\'; echo \'{"step": 2, "loss": 0.4\'; echo \'{"step": 3, "loss": 0.3}\''], repo);
    assert.equal(r.code, 0, r.stderr);
    const [record] = listed(repo);
    assert.equal(record!.metricsSummary!.malformed, 1);
    assert.match(record!.problems.join(' '), /unfinished JSON object/);
  });

  test('a registry line missing fields is named and skipped; a repeated line lists its version once', () => {
    const repo = makeRepo();
    write(repo, 'model.bin', 'weights');
    assert.equal(runCli(['run', '--name', 'trained', '--artifact', 'model.bin', '--', 'touch', 'model.bin'], repo).code, 0);
    const reg = runCli(['model', 'register', 'trained', '--name', 'clf'], repo);
    assert.equal(reg.code, 0, reg.stderr);
    const events = path.join(repo, '.runlens', 'registry', 'events.jsonl');
    const line = fs.readFileSync(events, 'utf8').trim();
    fs.appendFileSync(events, `${line}\n{"type": "alias-set", "model": "clf"}\n`);
    const ls = runCli(['model', 'ls'], repo);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stderr, /line 3 .*alias-set event without .*alias/);
    assert.doesNotMatch(ls.stderr, /\n\s+at /);
    assert.equal((ls.stdout.match(/\bv1\b/g) ?? []).length, 1, ls.stdout);
  });
});
