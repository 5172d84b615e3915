import * as path from 'node:path';
import * as vscode from 'vscode';
import { execGit, splitNul } from '../../core/git/gitClient';
import { diffSnapshotWithWorkTree } from '../../core/git/snapshot';
import { listSnapshotFiles } from '../../core/git/snapshotFiles';
import { commitDocUri } from '../documents';
import { runFileUri } from '../runFileSystem';
import type { RunsNode } from '../runsTree';
import type { WorkspaceRuns } from '../workspaceRuns';
import { pickRunId, runFromTarget, withSnapshot, type CommandTarget } from './targets';

type Change = [vscode.Uri, vscode.Uri | undefined, vscode.Uri | undefined];

/** Open File at Run: any file of the run's snapshot, the current editor's file offered first. */
export async function openFileAtRun(ws: WorkspaceRuns, target: CommandTarget): Promise<vscode.Uri | undefined> {
  const run = await runFromTarget(ws, target, 'Open a file as it was in which run?');
  const withGit = run && withSnapshot(run);
  if (!withGit || !ws.repoRoot) return undefined;
  const files = await listSnapshotFiles(ws.repoRoot, withGit.git.snapshot);
  const active = vscode.window.activeTextEditor?.document.uri;
  const current = active?.scheme === 'file' || active?.scheme === 'runlens' ? path.relative(ws.repoRoot, active.scheme === 'file' ? active.fsPath : active.path).split(path.sep).join('/') : undefined;
  const changed = new Set(withGit.git.changes.map((c) => c.path));
  const items = files.map((f) => ({ label: f, description: f === current ? 'current editor' : changed.has(f) ? 'changed in this run' : undefined }));
  items.sort((a, b) => Number(b.label === current) - Number(a.label === current) || Number(changed.has(b.label)) - Number(changed.has(a.label)));
  const picked = await vscode.window.showQuickPick(items, { placeHolder: `A file as it was in run "${run!.name}" (${withGit.git.snapshot.slice(0, 8)})`, matchOnDescription: true });
  if (!picked) return undefined;
  const uri = runFileUri(ws.repoRoot, run!.id, picked.label);
  await vscode.commands.executeCommand('vscode.open', uri, { preview: true });
  return uri;
}

/** Compare Run with Workspace: every file that differs, untracked ones included, in one multi-file diff. */
export async function compareWithWorkspace(ws: WorkspaceRuns, target: CommandTarget): Promise<Change[] | undefined> {
  const run = await runFromTarget(ws, target, 'Compare which run with the workspace?');
  const withGit = run && withSnapshot(run);
  if (!withGit || !ws.repoRoot) return undefined;
  const root = ws.repoRoot;
  const changes = await diffSnapshotWithWorkTree(root, withGit.git.snapshot);
  if (changes.length === 0) {
    void vscode.window.showInformationMessage(`RunLens: the workspace matches the code of run "${run!.name}".`);
    return [];
  }
  const resources: Change[] = changes.map((c) => {
    const workspaceUri = vscode.Uri.file(path.join(root, c.path));
    const before = c.status === 'A' ? undefined : runFileUri(root, run!.id, c.from ?? c.path);
    const after = c.status === 'D' ? undefined : workspaceUri;
    return [workspaceUri, before, after];
  });
  if (resources.length === 1 && resources[0]![1] && resources[0]![2]) {
    await vscode.commands.executeCommand('vscode.diff', resources[0]![1], resources[0]![2], `${changes[0]!.path} (${run!.name} ↔ workspace)`);
  } else {
    await vscode.commands.executeCommand('vscode.changes', `${run!.name} ↔ Workspace`, resources);
  }
  return resources;
}

/** Compare Two Runs' Code: the two selected runs, or this one and one to pick. */
export async function compareRuns(ws: WorkspaceRuns, target: CommandTarget, selection?: RunsNode[]): Promise<Change[] | undefined> {
  const selectedRuns = (selection ?? []).filter((n): n is Extract<RunsNode, { kind: 'run' }> => n.kind === 'run');
  const first = await runFromTarget(ws, selectedRuns.length >= 2 ? selectedRuns[0]!.run.id : target, 'Compare the code of which run…');
  const a = first && withSnapshot(first);
  if (!a || !ws.repoRoot) return undefined;
  const secondId = selectedRuns.length >= 2 ? selectedRuns[1]!.run.id : await pickRunId(ws, `…with which run? (first: ${a.name})`, a.id);
  const second = secondId ? await runFromTarget(ws, secondId) : undefined;
  const b = second && withSnapshot(second);
  if (!b) return undefined;
  // The older run on the left.
  const [left, right] = a.startedAt <= b.startedAt ? [a, b] : [b, a];
  const fields = splitNul(await execGit(ws.repoRoot, ['diff', '--name-status', '-z', '-M', left.git.snapshot, right.git.snapshot]));
  const resources: Change[] = [];
  for (let i = 0; i < fields.length; ) {
    const status = fields[i++]![0]!;
    const from = status === 'R' || status === 'C' ? fields[i++]! : undefined;
    const file = fields[i++]!;
    const root = ws.repoRoot;
    resources.push([runFileUri(root, right.id, file), status === 'A' ? undefined : runFileUri(root, left.id, from ?? file), status === 'D' ? undefined : runFileUri(root, right.id, file)]);
  }
  if (resources.length === 0) {
    void vscode.window.showInformationMessage(`RunLens: runs "${left.name}" and "${right.name}" ran the same code.`);
    return [];
  }
  await vscode.commands.executeCommand('vscode.changes', `${left.name} ↔ ${right.name}`, resources);
  return resources;
}

/** Open Commit: the run's base commit, with its message, author and patch. */
export async function openCommit(ws: WorkspaceRuns, target: CommandTarget): Promise<vscode.Uri | undefined> {
  const run = await runFromTarget(ws, target, 'Open the commit of which run?');
  const withGit = run && withSnapshot(run);
  if (!withGit) return undefined;
  if (!withGit.git.head) {
    void vscode.window.showInformationMessage(`RunLens: run "${run!.name}" ran before the repository's first commit; its snapshot has no parent.`);
    return undefined;
  }
  const uri = commitDocUri(withGit.git.head);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: true });
  return uri;
}
