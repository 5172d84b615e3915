import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunLensApi } from '../../../src/extension/extension';
import type { ModelsNode } from '../../../src/extension/modelsTree';
import type { RunsNode } from '../../../src/extension/runsTree';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function tabLabels(): string[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
}

suite('RunLens in a real VS Code', () => {
  let api: RunLensApi;
  const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const runId = (name: string) => {
    const run = api.workspace.runs().find((r) => r.name === name);
    assert.ok(run, `no run named ${name} among ${api.workspace.runs().map((r) => r.name).join(', ')}`);
    return run.id;
  };

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<RunLensApi>('runlens.runlens');
    assert.ok(ext, 'the extension is installed');
    api = (await ext.activate())!;
    assert.ok(api, 'activation returned the API');
    await api.workspace.refresh();
  });

  test('the Runs view lists the recorded runs under their branch, with status and primary metric', async () => {
    const groups = api.runsTree.getChildren() as RunsNode[];
    assert.deepEqual(groups.map((g) => g.kind === 'group' && g.label), ['main']);
    const runs = api.runsTree.getChildren(groups[0]) as RunsNode[];
    const items = runs.map((n) => api.runsTree.getTreeItem(n));
    assert.deepEqual(items.map((i) => i.label), ['too-hot', 'bias-prior-wip', 'faster-lr', 'baseline']);
    assert.match(String(items[1]!.description), /^loss 0\.29\d* · /);
    assert.equal((items[0]!.iconPath as vscode.ThemeIcon).id, 'error');
    assert.equal((items[3]!.iconPath as vscode.ThemeIcon).id, 'pass');
    assert.equal(items[1]!.tooltip, undefined, 'the tooltip is built on hover, not for every row');
    const resolved = await api.runsTree.resolveTreeItem(items[1]!, runs[1]!);
    const tooltip = (resolved.tooltip as vscode.MarkdownString).value.replace(/&nbsp;/g, ' ');
    assert.match(tooltip, /with uncommitted changes on main/);
    assert.match(tooltip, /\| lr \| 0\.05 \|/);
    const sections = api.runsTree.getChildren(runs[1]) as RunsNode[];
    assert.deepEqual(sections.map((s) => s.kind === 'section' && s.section), ['code', 'params', 'metrics']);
    const files = api.runsTree.getChildren(sections[0]) as RunsNode[];
    assert.deepEqual(files.map((f) => f.kind === 'file' && `${f.status} ${f.path}`).sort(), ['A NOTES.md', 'M train.py']);
  });

  test('a group longer than runlens.runs.pageSize lists a page of runs and a Show More row, which brings the next page', async () => {
    const config = vscode.workspace.getConfiguration('runlens');
    await config.update('runs.pageSize', 3, vscode.ConfigurationTarget.Workspace);
    try {
      await until('the page size to apply', () => vscode.workspace.getConfiguration('runlens').get('runs.pageSize') === 3);
      const [group] = api.runsTree.getChildren() as RunsNode[];
      const page = api.runsTree.getChildren(group) as RunsNode[];
      assert.deepEqual(page.map((n) => n.kind), ['run', 'run', 'run', 'more']);
      const more = api.runsTree.getTreeItem(page[3]!);
      assert.equal(more.label, 'Show 1 More');
      assert.equal(more.description, '3 of 4 shown; filter to narrow them');
      assert.equal(more.command?.command, 'runlens.showMoreRuns');
      await vscode.commands.executeCommand(more.command!.command, ...(more.command!.arguments ?? []));
      const grown = api.runsTree.getChildren(group) as RunsNode[];
      assert.deepEqual(grown.map((n) => n.kind === 'run' && n.run.name), ['too-hot', 'bias-prior-wip', 'faster-lr', 'baseline'], 'every run of the group, no Show More left');
    } finally {
      await config.update('runs.pageSize', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('a refresh asked while another is in flight sees what changed after that one read the store', async () => {
    const id = runId('faster-lr');
    const folder = path.join(api.workspace.storeDir, 'runs', id);
    const aside = path.join(api.workspace.storeDir, `aside-${id}`);
    fs.renameSync(folder, aside);
    try {
      await api.workspace.refresh();
      assert.ok(!api.workspace.run(id), 'the run moved aside is gone');
      // The run comes back while a refresh is reporting what it read: a pull writing as a watcher's refresh runs.
      let asked: Promise<void> | undefined;
      const listening = api.workspace.onDidChange(() => {
        if (asked) return;
        fs.renameSync(aside, folder);
        asked = api.workspace.refresh();
      });
      try {
        await api.workspace.refresh();
        await until('the change listener to ask', () => asked !== undefined);
        await asked;
      } finally {
        listening.dispose();
      }
      assert.ok(api.workspace.run(id), 'the refresh asked after the run came back lists it');
    } finally {
      if (fs.existsSync(aside)) fs.renameSync(aside, folder);
      await api.workspace.refresh();
    }
  });

  test('the Models view shows versions with their aliases, run, commit and artifact', () => {
    const [model] = api.modelsTree.getChildren() as ModelsNode[];
    const modelItem = api.modelsTree.getTreeItem(model!);
    assert.equal(modelItem.label, 'logistic');
    assert.match(String(modelItem.description), /3 versions · (production v2 · staging v3|staging v3 · production v2)/);
    const versions = api.modelsTree.getChildren(model) as ModelsNode[];
    const labels = versions.map((v) => api.modelsTree.getTreeItem(v));
    assert.deepEqual(labels.map((l) => l.label), ['v3', 'v2', 'v1']);
    assert.match(String(labels[0]!.description), /^● staging · /);
    assert.match(String(labels[1]!.description), /^● production · /);
    const details = (api.modelsTree.getChildren(versions[1]) as ModelsNode[]).map((d) => api.modelsTree.getTreeItem(d).label);
    assert.deepEqual(details.map((d) => String(d).split(' ')[0]), ['Run:', 'Commit', 'Artifact']);
    assert.equal(details[0], 'Run: faster-lr');
  });

  test('runlens: serves any file as it was in a run, untracked ones too, read-only', async () => {
    const uri = (id: string, file: string) => vscode.Uri.from({ scheme: 'runlens', path: path.posix.join(vscode.Uri.file(root).path, file), query: id });
    const wip = Buffer.from(await vscode.workspace.fs.readFile(uri(runId('bias-prior-wip'), 'train.py'))).toString();
    const base = Buffer.from(await vscode.workspace.fs.readFile(uri(runId('baseline'), 'train.py'))).toString();
    assert.match(wip, /bias prior \(uncommitted\)/);
    assert.doesNotMatch(base, /bias prior/);
    assert.match(Buffer.from(await vscode.workspace.fs.readFile(uri(runId('bias-prior-wip'), 'NOTES.md'))).toString(), /untracked/);
    const entries = (await vscode.workspace.fs.readDirectory(uri(runId('bias-prior-wip'), ''))).map(([n]) => n).sort();
    assert.deepEqual(entries, ['.gitignore', 'NOTES.md', 'config.json', 'train.py']);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri(runId('baseline'), 'train.py'), Buffer.from('x'))), /NoPermissions|read-?only/i);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(uri(runId('baseline'), 'NOTES.md'))), /EntryNotFound|FileNotFound|not found/i);
  });

  test('Open File at Run opens the picked file as it was', async () => {
    // The picker lists the snapshot's files; the second is picked, whichever it is, and must open as it was.
    const pending = vscode.commands.executeCommand<vscode.Uri>('runlens.openFileAtRun', runId('bias-prior-wip'));
    await sleep(800);
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const opened = await pending;
    assert.ok(opened, 'a file was opened');
    assert.equal(opened.scheme, 'runlens');
    await until('the editor', () => vscode.window.activeTextEditor?.document.uri.toString() === opened.toString());
    const rel = path.posix.relative(vscode.Uri.file(api.workspace.repoRoot!).path, opened.path);
    const { execFileSync } = await import('node:child_process');
    const snapshot = api.workspace.record(runId('bias-prior-wip')).git!.snapshot;
    const expected = execFileSync('git', ['show', `${snapshot}:${rel}`], { cwd: root, encoding: 'utf8' });
    assert.equal(vscode.window.activeTextEditor!.document.getText(), expected, `${opened.toString()} shows the file as it was in the run`);
  });

  test('Compare Run with Workspace opens every difference, untracked files included, in a multi-file diff', async () => {
    fs.writeFileSync(path.join(root, 'scratch.py'), 'print("new in the workspace")\n');
    const changes = await vscode.commands.executeCommand<[vscode.Uri, vscode.Uri | undefined, vscode.Uri | undefined][]>('runlens.compareWithWorkspace', runId('baseline'));
    const byFile = new Map(changes.map(([u, before, after]) => [path.basename(u.fsPath), [before?.scheme, after?.scheme]]));
    assert.deepEqual(byFile.get('train.py'), ['runlens', 'file']);
    const train = changes.find(([u]) => u.path.endsWith('/train.py'))!;
    assert.equal(train[1]!.path, train[2]!.path, 'the run\'s side has the file\'s own path');
    assert.deepEqual(byFile.get('NOTES.md'), [undefined, 'file']);
    assert.deepEqual(byFile.get('scratch.py'), [undefined, 'file']);
    await until('the multi-file diff tab', () => tabLabels().some((l) => l.startsWith('baseline ↔ Workspace')));
    fs.rmSync(path.join(root, 'scratch.py'));
  });

  test('Compare Two Runs\' Code diffs two selected runs', async () => {
    const runs = api.workspace.runs();
    const pick = (name: string): RunsNode => ({ kind: 'run', run: runs.find((r) => r.name === name)! });
    const changes = await vscode.commands.executeCommand<[vscode.Uri, vscode.Uri | undefined, vscode.Uri | undefined][]>('runlens.compareRuns', pick('faster-lr'), [pick('faster-lr'), pick('bias-prior-wip')]);
    assert.deepEqual(changes.map(([u]) => u.path.split('/').pop()).sort(), ['NOTES.md', 'train.py']);
    assert.ok(changes.every(([u, b, a]) => (!b || b.path === u.path) && a!.path === u.path), 'same path on both sides: a change, not a rename');
    assert.ok(changes.every(([, b, a]) => (b?.scheme ?? 'runlens') === 'runlens' && a?.scheme === 'runlens'));
    await until('the two-run diff tab', () => tabLabels().some((l) => l.startsWith('faster-lr ↔ bias-prior-wip')));
  });

  test('Open Commit shows the run\'s base commit with its message and author', async () => {
    const uri = await vscode.commands.executeCommand<vscode.Uri>('runlens.openCommit', runId('baseline'));
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.match(doc.getText(), /Demo: logistic model on a CSV/);
    assert.match(doc.getText(), /Author: RunLens Demo/);
  });

  test('Compare Runs opens a panel beside the code for any number of runs, and it survives being reopened', async () => {
    const ids = ['baseline', 'faster-lr', 'bias-prior-wip'].map(runId);
    const panel = await vscode.commands.executeCommand<{ panel: vscode.WebviewPanel; runIds: string[] }>('runlens.compareRunsPanel', ids);
    assert.deepEqual(panel.runIds, ids);
    // What the workbench receives when the palette runs the command: the ids, not the panel and the runs it reaches.
    assert.deepEqual(JSON.parse(JSON.stringify(panel)), { runIds: ids });
    await until('the compare tab', () => tabLabels().includes('Compare: baseline, faster-lr, bias-prior-wip'));
    assert.equal(panel.panel.viewColumn, vscode.ViewColumn.Two, 'beside the active editor');
    assert.ok(api.comparePanels().includes(panel as never));
    panel.panel.dispose();
    assert.ok(!api.comparePanels().includes(panel as never), 'disposed panels are forgotten');
    const many = await vscode.commands.executeCommand<{ panel: vscode.WebviewPanel }>('runlens.compareRunsPanel', api.workspace.runs().map((r) => r.id));
    await until('the many-runs tab', () => tabLabels().includes(`Compare ${api.workspace.runs().length} runs`));
    many.panel.dispose();
    const table = await vscode.commands.executeCommand<{ panel: vscode.WebviewPanel }>('runlens.showTable');
    assert.deepEqual(JSON.parse(JSON.stringify(table)), { view: 'runlens.table' }, 'Runs Table answers as little');
    table.panel.dispose();
  });

  test('Copy Run Id puts the id on the clipboard', async () => {
    await vscode.env.clipboard.writeText('something else');
    await vscode.commands.executeCommand<string>('runlens.copyRunId', runId('faster-lr'));
    assert.equal(await vscode.env.clipboard.readText(), runId('faster-lr'));
  });

  test('Filter Runs uses the query language; clearing it brings every run back', async () => {
    await vscode.commands.executeCommand('runlens.filterRuns', 'status = failed or metrics.acc > 0.855');
    assert.deepEqual(api.workspace.runs().map((r) => r.name).sort(), ['bias-prior-wip', 'too-hot']);
    await vscode.commands.executeCommand('runlens.clearFilter');
    assert.equal(api.workspace.runs().length, 5, 'the four demo runs and the reproduction of baseline');
  });

  test('register a version, move an alias (it says from which version), roll it back, read the history', async () => {
    const registered = await vscode.commands.executeCommand<{ version: number }>('runlens.registerModel', runId('bias-prior-wip'), { model: 'logistic-wip' });
    assert.equal(registered.version, 1);
    const models = api.modelsTree.getChildren() as ModelsNode[];
    const logistic = models.find((m) => m.kind === 'model' && m.model.name === 'logistic')!;
    const v3 = (api.modelsTree.getChildren(logistic) as ModelsNode[]).find((v) => v.kind === 'version' && v.version.version === 3)!;
    const moved = await vscode.commands.executeCommand<{ previous: number; version: number }>('runlens.setAlias', v3, 'production');
    assert.deepEqual([moved.previous, moved.version], [2, 3]);
    const back = await vscode.commands.executeCommand<{ previous: number; version: number }>('runlens.rollbackAlias', logistic, 'production');
    assert.deepEqual([back.previous, back.version], [3, 2]);
    const uri = await vscode.commands.executeCommand<vscode.Uri>('runlens.showAliasHistory', logistic);
    const text = (await vscode.workspace.openTextDocument(uri)).getText();
    assert.match(text, /\| production \| \(new\) \| v1 \|/);
    assert.match(text, /\| production \| v2 \| v3 \|\n.*\| production \| v3 \| v2 \|/);
  });

  test('Run Training records the command in a terminal where `runlens` is on PATH, and the view follows it live', async () => {
    fs.writeFileSync(
      path.join(root, 'slow_train.py'),
      'import json, time\nfor step in range(12):\n    print(json.dumps({"step": step, "loss": 1 / (step + 1)}), flush=True)\n    time.sleep(0.4)\n',
    );
    const before = new Set(api.workspace.runs().map((r) => r.id));
    // What each refresh said changed, and what the views redrew for it (they redraw within the same event).
    const seen: string[] = [];
    const watching = [
      api.runsTree.onDidChangeTreeData((nodes) => seen.push(nodes === undefined ? 'tree:all' : `tree:${(Array.isArray(nodes) ? nodes : [nodes]).map((n) => (n.kind === 'run' ? n.run.id : n.kind)).join(',')}`)),
      api.modelsTree.onDidChangeTreeData(() => seen.push('models')),
      api.workspace.onDidChange((change) => seen.push(change.tick && change.runs ? `live:${change.runs.join(',')}` : 'full')),
    ];
    const line = await vscode.commands.executeCommand<string>('runlens.runTraining', 'python3 slow_train.py');
    assert.equal(line, 'runlens run -- python3 slow_train.py');
    const live = await until('a running run', () => api.workspace.runs().find((r) => !before.has(r.id) && r.status === 'running'), 30_000);
    const firstCount = await until('a first metric', () => api.workspace.runs().find((r) => r.id === live.id)?.metrics[0]?.count);
    await until('a later metric, live', () => (api.workspace.runs().find((r) => r.id === live.id)?.metrics[0]?.count ?? 0) > firstCount, 30_000);
    assert.match(api.status.text, /1 running · loss/);
    const done = await until('the run to finish', () => api.workspace.runs().find((r) => r.id === live.id && r.status === 'finished'), 30_000);
    assert.equal(done.metrics[0]!.count, 12);
    for (const w of watching) w.dispose();
    // The view's listeners run before this test's: a refresh's redraws come just before its own entry.
    const ticks = seen.flatMap((entry, i) => (entry === `live:${live.id}` ? [i] : []));
    assert.ok(ticks.length >= 2, `the live run's ticks named it alone (${seen.join(' ')})`);
    for (const i of ticks) {
      let previous = i - 1;
      while (previous >= 0 && seen[previous] !== 'full' && !seen[previous]!.startsWith('live:')) previous--;
      const redrawn = seen.slice(previous + 1, i);
      assert.ok(redrawn.every((e) => e === `tree:${live.id}`), `a live tick redraws the live run's row and nothing else, not the Models view (${redrawn.join(' ')} in ${seen.join(' ')})`);
    }
    fs.rmSync(path.join(root, 'slow_train.py'));
  });

  test('Reproduce Run re-runs a run from its snapshot in a terminal, files the reproduction under it, and opens the report in Compare', async () => {
    const { execFileSync } = await import('node:child_process');
    const gitState = () => ['status --porcelain --untracked-files=all', 'rev-parse HEAD', 'worktree list', 'for-each-ref refs/heads'].map((args) => execFileSync('git', args.split(' '), { cwd: root, encoding: 'utf8' })).join('\n');
    const before = gitState();
    const original = runId('faster-lr');
    const result = await vscode.commands.executeCommand<{ report: { verdict: string; causes: unknown[] }; record: { id: string; reproduces?: string } }>('runlens.reproduceRun', original);
    assert.ok(result, 'the command returned its result');
    assert.equal(result.report.verdict, 'reproduced', JSON.stringify(result.report.causes));
    assert.equal(result.record.reproduces, original);
    assert.ok(vscode.window.terminals.some((t) => t.name === 'RunLens: reproduce faster-lr'), 'the run was shown in its own terminal');
    assert.equal(gitState(), before, 'the working tree, HEAD, branches and worktrees are as they were');

    const panel = await until('Compare with the two runs', () => api.comparePanels().find((p) => p.runIds.length === 2 && p.runIds[0] === original && p.runIds[1] === result.record.id));
    assert.equal(panel.panel.title, 'Compare: faster-lr, faster-lr (reproduction)');

    await api.workspace.refresh();
    api.runsTree.refresh(true);
    const [group] = api.runsTree.getChildren() as RunsNode[];
    const top = (api.runsTree.getChildren(group) as RunsNode[]).map((n) => api.runsTree.getTreeItem(n).label);
    assert.ok(!top.includes('faster-lr (reproduction)'), `a reproduction is not listed beside its original (${top.join(', ')})`);
    const originalNode = (api.runsTree.getChildren(group) as RunsNode[]).find((n) => n.kind === 'run' && n.run.id === original)!;
    const lineage = (api.runsTree.getChildren(originalNode) as RunsNode[]).find((n) => n.kind === 'section' && n.section === 'reproductions');
    assert.ok(lineage, 'the original has a Reproductions section');
    const reproductions = (api.runsTree.getChildren(lineage) as RunsNode[]).map((n) => api.runsTree.getTreeItem(n));
    assert.deepEqual(reproductions.map((i) => i.label), ['faster-lr (reproduction)']);
    assert.match(String(reproductions[0]!.description), /^reproduced · loss /);
  });

  test('Delete Run removes its folder and its snapshot ref', async () => {
    const id = runId('too-hot');
    const record = api.workspace.record(id);
    await api.deleteRun(id);
    assert.ok(!fs.existsSync(path.join(api.workspace.storeDir, 'runs', id)));
    const { execFileSync } = await import('node:child_process');
    assert.equal(execFileSync('git', ['for-each-ref', record.git!.ref], { cwd: root, encoding: 'utf8' }), '');
    assert.ok(!api.workspace.runs().some((r) => r.id === id));
  });

  test('the public Delete Run command cannot skip its confirmation, whatever it is passed', async () => {
    const id = runId('faster-lr');
    // The test workbench refuses modal dialogs: the command reaching its question shows as that refusal.
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand<boolean>('runlens.deleteRun', id, undefined, true)), /refused to show dialog.*Delete run/s);
    assert.ok(fs.existsSync(path.join(api.workspace.storeDir, 'runs', id)), 'the run is still there');
  });
});
