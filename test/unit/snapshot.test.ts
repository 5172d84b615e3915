import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { captureSnapshot } from '../../src/core/git/snapshot';
import { newRunId } from '../../src/core/runId';
import { git, gitBuffer, makeRepo, tempDir, write } from '../helpers/repo';

function capture(repo: string, limits?: { maxUntrackedFileBytes?: number }) {
  return captureSnapshot({ cwd: repo, runId: newRunId(), storeDir: path.join(repo, '.runlens'), limits });
}

/** The user's side of the repository: index bytes, HEAD, branches, status. */
function userState(repo: string) {
  return {
    index: fs.existsSync(path.join(repo, '.git', 'index')) ? fs.readFileSync(path.join(repo, '.git', 'index')).toString('base64') : null,
    head: fs.readFileSync(path.join(repo, '.git', 'HEAD'), 'utf8'),
    branches: git(repo, 'for-each-ref', 'refs/heads', 'refs/tags'),
    status: git(repo, 'status', '--porcelain=v1', '-z', '--untracked-files=all'),
  };
}

function filesInSnapshot(repo: string, sha: string): string[] {
  return git(repo, 'ls-tree', '-r', '-z', '--name-only', sha).split('\0').filter(Boolean).sort();
}

describe('code snapshot', () => {
  test('a clean tree gives a snapshot whose tree is HEAD\'s, parented on HEAD', async () => {
    const repo = makeRepo();
    const info = await capture(repo);
    assert.equal(info.tree, git(repo, 'rev-parse', 'HEAD^{tree}').trim());
    assert.equal(info.head, git(repo, 'rev-parse', 'HEAD').trim());
    assert.equal(git(repo, 'rev-parse', `${info.snapshot}^`).trim(), info.head);
    assert.equal(info.dirty, false);
    assert.deepEqual(info.changes, []);
    assert.equal(info.branch, 'main');
    assert.equal(git(repo, 'rev-parse', info.ref).trim(), info.snapshot);
  });

  test('staged, unstaged, deleted and renamed files are captured as they are on disk; the user\'s side is untouched', async () => {
    const repo = makeRepo({ 'a.py': 'a = 1\n', 'b.py': 'b = 1\n', 'c.py': 'c = 1\n', 'old name.py': 'x = "rename me"\n' + 'y = 2\n'.repeat(20) });
    write(repo, 'a.py', 'a = 2  # staged\n');
    git(repo, 'add', 'a.py');
    write(repo, 'a.py', 'a = 3  # staged, then edited again\n');
    write(repo, 'b.py', 'b = 2  # unstaged\n');
    fs.rmSync(path.join(repo, 'c.py'));
    git(repo, 'mv', 'old name.py', 'new name.py');
    const before = userState(repo);

    const info = await capture(repo);

    assert.deepEqual(userState(repo), before, 'index, HEAD, branches and status unchanged');
    assert.equal(git(repo, 'show', `${info.snapshot}:a.py`), 'a = 3  # staged, then edited again\n');
    assert.equal(git(repo, 'show', `${info.snapshot}:b.py`), 'b = 2  # unstaged\n');
    assert.deepEqual(filesInSnapshot(repo, info.snapshot), ['a.py', 'b.py', 'new name.py']);
    const byPath = Object.fromEntries(info.changes.map((c) => [c.path, c]));
    assert.equal(byPath['a.py']?.status, 'M');
    assert.equal(byPath['b.py']?.status, 'M');
    assert.equal(byPath['c.py']?.status, 'D');
    assert.equal(byPath['new name.py']?.status, 'R');
    assert.equal(byPath['new name.py']?.from, 'old name.py');
    assert.equal(info.dirty, true);
  });

  test('an edit in the same second as the last commit, with the same size, is still captured', async () => {
    const repo = tempDir();
    git(repo, 'init', '-q', '-b', 'main');
    const file = path.join(repo, 'model.py');
    const second = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000);
    fs.writeFileSync(file, 'depth = 2\n');
    fs.utimesSync(file, second, second);
    git(repo, 'add', 'model.py');
    git(repo, 'commit', '-q', '-m', 'initial');
    fs.writeFileSync(file, 'depth = 4\n');
    // Same size and mtime as the index entry, index written in that second: only
    // git's racily-clean check can tell, and our copy of the index must not defeat it.
    fs.utimesSync(file, second, second);
    fs.utimesSync(path.join(repo, '.git', 'index'), second, second);
    const info = await capture(repo);
    assert.equal(git(repo, 'show', `${info.snapshot}:model.py`), 'depth = 4\n');
    assert.deepEqual(info.changes.map((c) => c.path), ['model.py']);
  });

  test('untracked text and binary files, odd names included, are captured byte for byte; ignored files are not', async () => {
    const repo = makeRepo({ '.gitignore': 'secret.env\nignored/\n', 'train.py': 'pass\n' });
    const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    write(repo, 'weights.bin', binary);
    write(repo, 'notes with spaces.txt', 'hello\n');
    write(repo, 'données/éàü 日本.yaml', 'lr: 0.1\n');
    write(repo, 'secret.env', 'TOKEN=x\n');
    write(repo, 'ignored/big.npy', 'x'.repeat(100));
    const before = userState(repo);

    const info = await capture(repo);

    assert.deepEqual(userState(repo), before);
    assert.deepEqual(gitBuffer(repo, 'cat-file', 'blob', `${info.snapshot}:weights.bin`), binary);
    assert.equal(git(repo, 'show', `${info.snapshot}:notes with spaces.txt`), 'hello\n');
    assert.equal(git(repo, 'show', `${info.snapshot}:données/éàü 日本.yaml`), 'lr: 0.1\n');
    const files = filesInSnapshot(repo, info.snapshot);
    assert.ok(!files.includes('secret.env'), 'gitignored file must not be captured');
    assert.ok(!files.some((f) => f.startsWith('ignored/')));
    const untracked = info.changes.filter((c) => c.untracked).map((c) => c.path).sort();
    assert.deepEqual(untracked, ['donn\u00e9es/\u00e9\u00e0\u00fc \u65e5\u672c.yaml', 'notes with spaces.txt', 'weights.bin']);
    assert.equal(info.changes.find((c) => c.path === 'weights.bin')?.size, 4096);
  });

  test('an untracked file over the size cap is left out, with the reason', async () => {
    const repo = makeRepo();
    write(repo, 'small.txt', 'ok\n');
    write(repo, 'huge.bin', Buffer.alloc(2048, 1));
    const info = await capture(repo, { maxUntrackedFileBytes: 1024 });
    const files = filesInSnapshot(repo, info.snapshot);
    assert.ok(files.includes('small.txt'));
    assert.ok(!files.includes('huge.bin'));
    assert.equal(info.skipped.length, 1);
    assert.equal(info.skipped[0]!.path, 'huge.bin');
    assert.equal(info.skipped[0]!.size, 2048);
    assert.match(info.skipped[0]!.reason, /larger than the 1 KiB cap/);
  });

  test('file names that look like pathspec globs are taken literally', async () => {
    const repo = makeRepo();
    write(repo, 'a*.txt', 'star\n');
    write(repo, 'abc.txt', 'must come along only because it is untracked too\n');
    write(repo, ':(top)odd', 'magic\n');
    const info = await capture(repo);
    assert.deepEqual(filesInSnapshot(repo, info.snapshot), [':(top)odd', 'README.md', 'a*.txt', 'abc.txt', 'train.py']);
  });

  test('the runs folder is excluded through .git/info/exclude, never through .gitignore', async () => {
    const repo = makeRepo();
    write(repo, '.runlens/runs/x/run.json', '{}');
    const info = await capture(repo);
    assert.ok(!filesInSnapshot(repo, info.snapshot).some((f) => f.startsWith('.runlens')));
    assert.match(fs.readFileSync(path.join(repo, '.git', 'info', 'exclude'), 'utf8'), /^\/\.runlens\/$/m);
    assert.equal(git(repo, 'status', '--porcelain'), '');
    await capture(repo);
    assert.equal(fs.readFileSync(path.join(repo, '.git', 'info', 'exclude'), 'utf8').match(/\/\.runlens\//g)?.length, 1, 'added once');
  });

  test('a repository with no commit yet still gets a snapshot, without a parent', async () => {
    const repo = tempDir();
    git(repo, 'init', '-q', '-b', 'main');
    write(repo, 'train.py', 'print(1)\n');
    const info = await capture(repo);
    assert.equal(info.head, null);
    assert.equal(info.branch, 'main');
    assert.match(info.notes.join(' '), /no commit yet/);
    assert.equal(git(repo, 'show', `${info.snapshot}:train.py`), 'print(1)\n');
    assert.equal(git(repo, 'rev-list', '--parents', '-n1', info.snapshot).trim().split(' ').length, 1);
  });

  test('a detached HEAD is recorded with no branch', async () => {
    const repo = makeRepo();
    git(repo, 'checkout', '-q', '--detach');
    const info = await capture(repo);
    assert.equal(info.branch, null);
    assert.match(info.notes.join(' '), /detached/);
    assert.equal(info.head, git(repo, 'rev-parse', 'HEAD').trim());
  });

  test('the remote URL is kept without credentials', async () => {
    const repo = makeRepo();
    git(repo, 'remote', 'add', 'origin', 'https://alice:s3cr3t-t0ken@git.example.com/team/model.git');
    const info = await capture(repo);
    assert.equal(info.remote, 'https://git.example.com/team/model.git');
  });

  test('a submodule is pinned at its commit, and its own uncommitted changes are reported as left out', async () => {
    const inner = makeRepo({ 'lib.py': 'v = 1\n' });
    const repo = makeRepo();
    git(repo, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', inner, 'vendor/lib');
    git(repo, 'commit', '-q', '-m', 'add submodule');
    write(repo, 'vendor/lib/lib.py', 'v = 2\n');
    const info = await capture(repo);
    assert.equal(info.submodules.length, 1);
    assert.equal(info.submodules[0]!.path, 'vendor/lib');
    assert.equal(info.submodules[0]!.commit, git(inner, 'rev-parse', 'HEAD').trim());
    assert.equal(info.submodules[0]!.dirty, true);
    assert.ok(info.skipped.some((s) => s.path === 'vendor/lib' && /submodule/.test(s.reason)));
  });

  test('four captures at once in one repository give four distinct, correct snapshots', async () => {
    const repo = makeRepo();
    write(repo, 'shared.txt', 'same for all\n');
    const before = userState(repo);
    const infos = await Promise.all([0, 1, 2, 3].map(() => capture(repo)));
    assert.equal(new Set(infos.map((i) => i.ref)).size, 4);
    for (const info of infos) assert.equal(git(repo, 'show', `${info.snapshot}:shared.txt`), 'same for all\n');
    assert.deepEqual(userState(repo), before);
  });

  test('outside a repository, capture says why', async () => {
    const dir = tempDir();
    await assert.rejects(() => capture(dir), /not a git repository/);
  });
});
