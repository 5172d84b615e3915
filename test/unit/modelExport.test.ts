import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import type { RunRecord } from '../../src/core/runRecord';
import { readRunRecord } from '../../src/core/store';
import { git, makeRepo, PROJECT_ROOT, runCli, runIds, tempDir } from '../helpers/repo';

/** Deterministic: the same flags give the same weights and the same metrics. */
const TRAIN = `import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--seed", type=int, default=3)
a = p.parse_args()
w = 0.0
for step in range(5):
    w += a.lr * (1 - w)
    print(json.dumps({"step": step, "loss": round(1 - w, 6), "acc": round(w, 6)}))
os.makedirs("out", exist_ok=True)
with open("out/model.bin", "wb") as f:
    f.write(("weights %.6f" % w).encode())
`;

const SECRET = 'sk-live-0123456789abcdefSECRET';

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('runlens model export', () => {
  let repo: string;
  let run: RunRecord;

  before(() => {
    repo = makeRepo({ 'train.py': TRAIN, 'lib/util.py': 'X = 1\n', '.gitignore': 'out/\n' });
    fs.writeFileSync(path.join(repo, 'notes.txt'), 'untracked, in the snapshot\n');
    // Secrets in an untracked .env and in the environment: neither may reach an export.
    fs.writeFileSync(path.join(repo, '.env'), `API_TOKEN=${SECRET}\n`);
    const recorded = runCli(['run', '--quiet', '--artifact', 'out/model.bin', '--', 'python3', 'train.py', '--lr', '0.2'], repo, { MY_API_TOKEN: SECRET });
    assert.equal(recorded.code, 0, recorded.stderr);
    run = readRunRecord(path.join(repo, '.runlens'), runIds(repo)[0]!);
    assert.equal(runCli(['model', 'register', run.id, '--name', 'clf'], repo).code, 0);
    assert.equal(runCli(['model', 'alias', 'clf', 'production', '1'], repo).code, 0);
  });

  test('an export holds the artifact, the snapshot as files, pinned requirements, a Dockerfile and a manifest, and the audit log says so', () => {
    const out = path.join(tempDir(), 'export');
    const result = runCli(['model', 'export', 'clf@production', '--to', out, '--json'], repo);
    assert.equal(result.code, 0, result.stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'MANIFEST.json'), 'utf8'));
    assert.equal(manifest.model, 'clf');
    assert.equal(manifest.version, 1);
    assert.deepEqual(manifest.aliases, ['production']);
    assert.equal(manifest.runId, run.id);
    assert.equal(manifest.snapshot, run.git!.snapshot);
    assert.equal(manifest.artifact.sha256, sha256(path.join(repo, 'out', 'model.bin')));
    assert.equal(sha256(path.join(out, manifest.artifact.file)), manifest.artifact.sha256);
    assert.equal(manifest.params.lr, 0.2);
    assert.equal(manifest.metrics.acc, run.metricsSummary!.metrics.acc!.last);
    assert.match(manifest.exportedBy, /@/);
    // The code: exactly the snapshot's files, untracked ones included.
    const files = git(repo, 'ls-tree', '-r', '--name-only', run.git!.snapshot).trim().split('\n').sort();
    assert.ok(files.includes('notes.txt'));
    const listed = (dir: string, base = ''): string[] => fs.readdirSync(path.join(dir, base), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listed(dir, path.join(base, e.name)) : [path.join(base, e.name)]));
    assert.deepEqual(listed(path.join(out, 'code')).sort(), files);
    for (const file of files) assert.equal(fs.readFileSync(path.join(out, 'code', file), 'utf8'), git(repo, 'show', `${run.git!.snapshot}:${file}`), file);
    // Requirements: every package the run had, at its exact version.
    const requirements = fs.readFileSync(path.join(out, 'requirements.txt'), 'utf8');
    const pinned = requirements.split('\n').filter((l) => l && !l.startsWith('#'));
    const packages = run.env!.python!.packages;
    const plain = Object.entries(packages).filter(([name]) => !run.env!.python!.origins?.[name]);
    assert.deepEqual(pinned.sort(), plain.map(([n, v]) => `${n}==${v}`).sort());
    for (const name of Object.keys(run.env!.python!.origins ?? {})) assert.match(requirements, new RegExp(`^# ${name}==.* was installed from `, 'm'));
    // The Dockerfile: the run's interpreter version, the requirements, the run's command.
    const dockerfile = fs.readFileSync(path.join(out, 'Dockerfile'), 'utf8');
    const [major, minor] = run.env!.python!.version.split('.');
    assert.match(dockerfile, new RegExp(`^FROM python:${major}\\.${minor}-slim$`, 'm'));
    assert.match(dockerfile, /^COPY requirements\.txt \/app\/requirements\.txt$/m);
    assert.match(dockerfile, /^RUN pip install --no-cache-dir -r \/app\/requirements\.txt$/m);
    assert.match(dockerfile, /^CMD \["python","train\.py","--lr","0\.2"\]$/m);
    // No secret anywhere in the export.
    const everything = listed(out).map((f) => fs.readFileSync(path.join(out, f), 'latin1')).join('\n');
    assert.ok(!everything.includes(SECRET), 'a secret reached the export');
    assert.ok(!files.includes('.env'), 'the .env stayed out of the snapshot');
    // No container runtime here: the Dockerfile is checked, not built.
    const history = JSON.parse(runCli(['model', 'history', 'clf', '--json'], repo).stdout) as { type: string; to?: string }[];
    assert.ok(history.some((e) => e.type === 'export' && e.to === out), JSON.stringify(history));
  });

  test('a reproduction from the export, in a folder with no repository, says reproduced', () => {
    const out = path.join(tempDir(), 'export');
    assert.equal(runCli(['model', 'export', 'clf/1', '--to', out], repo).code, 0);
    const elsewhere = path.join(tempDir('runlens-no-git-'), 'copied');
    fs.cpSync(out, elsewhere, { recursive: true });
    assert.throws(() => execFileSync('git', ['rev-parse', '--git-dir'], { cwd: elsewhere, stdio: 'pipe' }), 'no repository around the copy');
    const result = runCli(['reproduce', '--from-export', elsewhere, '--json'], elsewhere);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const report = JSON.parse(result.stdout);
    assert.equal(report.verdict, 'reproduced', JSON.stringify(report.causes));
    assert.ok(report.metrics.some((m: { key: string; within: boolean }) => m.key === 'acc' && m.within));
    assert.ok(fs.existsSync(path.join(elsewhere, 'reproductions', 'runs')), 'the reproduction is kept beside the export');
  });

  test('an artifact overwritten since registration is exported from the copy the registry kept; changed there too, the export refuses, naming both hashes, and writes nothing', () => {
    const artifact = path.join(repo, 'out', 'model.bin');
    const before = fs.readFileSync(artifact);
    const registered = sha256(artifact);
    const keptCopy = path.join(repo, '.runlens', 'artifacts', registered, 'model.bin');
    assert.equal(sha256(keptCopy), registered, 'registering kept a copy by its hash');
    fs.writeFileSync(artifact, 'overwritten by a later run');
    try {
      const out = path.join(tempDir(), 'export');
      assert.equal(runCli(['model', 'export', 'clf@production', '--to', out], repo).code, 0);
      assert.equal(sha256(path.join(out, 'model', 'model.bin')), registered, 'the registered model, not the file there now');
      fs.writeFileSync(keptCopy, 'tampered');
      const refused = path.join(tempDir(), 'export');
      const result = runCli(['model', 'export', 'clf@production', '--to', refused], repo);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`${registered} registered, ${sha256(artifact)} now`));
      assert.equal(fs.existsSync(refused), false);
    } finally {
      fs.writeFileSync(artifact, before);
      fs.writeFileSync(keptCopy, before);
    }
  });

  test('a package installed from a folder is recorded with where it came from, and the export lists it as a comment, not a pin', () => {
    // A venv with the runlens package installed by pip from the project's python/ folder (no index).
    const venv = tempDir('runlens-venv-');
    execFileSync('python3', ['-m', 'venv', venv]);
    execFileSync(path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--no-index', '--disable-pip-version-check', '-q', path.join(PROJECT_ROOT, 'python')]);
    const local = makeRepo({ 'train.py': TRAIN, '.gitignore': 'out/\n' });
    const recorded = runCli(['run', '--quiet', '--artifact', 'out/model.bin', '--', path.join(venv, 'bin', 'python'), 'train.py'], local);
    assert.equal(recorded.code, 0, recorded.stderr);
    const record = readRunRecord(path.join(local, '.runlens'), runIds(local)[0]!);
    assert.match(record.env!.python!.origins!.runlens!, /^file:\/\/.*python/);
    assert.equal(runCli(['model', 'register', record.id, '--name', 'local'], local).code, 0);
    const out = path.join(tempDir(), 'export');
    assert.equal(runCli(['model', 'export', 'local/1', '--to', out], local).code, 0);
    const requirements = fs.readFileSync(path.join(out, 'requirements.txt'), 'utf8');
    assert.match(requirements, /^# runlens==\S+ was installed from file:\/\/\S+: install it from there$/m);
    assert.doesNotMatch(requirements, /^runlens==/m);
  });

  test('--tar packs the export, and an unknown alias or version is named', () => {
    const tar = path.join(tempDir(), 'clf.tar.gz');
    assert.equal(runCli(['model', 'export', 'clf/1', '--tar', tar], repo).code, 0);
    const listing = execFileSync('tar', ['-tzf', tar], { encoding: 'utf8' });
    assert.match(listing, /^clf-v1\/MANIFEST\.json$/m);
    assert.match(listing, /^clf-v1\/code\/train\.py$/m);
    const missing = runCli(['model', 'export', 'clf@staging', '--to', path.join(tempDir(), 'x')], repo);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /clf has no alias "staging"/);
  });
});
