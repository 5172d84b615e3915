import * as path from 'node:path';
import * as vscode from 'vscode';
import { listSnapshotDir, readSnapshotFile, statSnapshotPath } from '../core/git/snapshotFiles';
import { execGit } from '../core/git/gitClient';
import { isRunId } from '../core/runId';
import type { WorkspaceRuns } from './workspaceRuns';

export const RUN_SCHEME = 'runlens';

/**
 * `runlens:<repository path>/<file>?<run id or commit sha>`: a file as it was in
 * that run's snapshot, or in a commit. The path is the file's own, as the git
 * extension does it, so a diff against the workspace reads as a change, not a rename.
 */
export function runFileUri(root: string, revision: string, file: string): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_SCHEME, path: path.posix.join(vscode.Uri.file(root).path, file), query: revision });
}

function parse(uri: vscode.Uri, root: string): { revision: string; file: string } {
  const rootPath = vscode.Uri.file(root).path;
  const file = uri.path === rootPath ? '' : uri.path.startsWith(rootPath + '/') ? uri.path.slice(rootPath.length + 1) : uri.path.replace(/^\//, '');
  return { revision: uri.query, file };
}

/**
 * Serves the code of any run, read-only, straight from its snapshot commit,
 * so it can be opened, searched and diffed like files. Commits never change,
 * so what was read once is kept.
 */
export class RunFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;
  private readonly cache = new Map<string, Uint8Array>();

  constructor(private readonly workspace: () => WorkspaceRuns | undefined) {}

  private resolve(uri: vscode.Uri): { root: string; commit: string; file: string } {
    const ws = this.workspace();
    if (!ws?.repoRoot) throw vscode.FileSystemError.Unavailable('RunLens: this workspace is not a git repository');
    const { revision, file } = parse(uri, ws.repoRoot);
    if (isRunId(revision)) {
      let record;
      try {
        record = ws.record(revision);
      } catch {
        throw vscode.FileSystemError.FileNotFound(`RunLens: no run ${revision}`);
      }
      if (!record.git) throw vscode.FileSystemError.FileNotFound(`RunLens: run ${revision} has no code snapshot (${record.gitError ?? 'not recorded'})`);
      return { root: ws.repoRoot, commit: record.git.snapshot, file };
    }
    if (!/^[0-9a-f]{4,64}$/.test(revision)) throw vscode.FileSystemError.FileNotFound(uri);
    return { root: ws.repoRoot, commit: revision, file };
  }

  dispose(): void {
    this.emitter.dispose();
  }

  /**
   * A git failure as the editor should show it: a path the snapshot does not have is "not found";
   * anything else (the snapshot commit gone, git failing) is said with its cause.
   */
  private async failure(uri: vscode.Uri, root: string, commit: string, err: unknown): Promise<vscode.FileSystemError> {
    const present = await execGit(root, ['cat-file', '-e', `${commit}^{commit}`]).then(() => true, () => false);
    if (present && /does not exist|exists on disk, but not in|Not a valid object name|not a tree object/i.test(String((err as Error).message))) {
      return vscode.FileSystemError.FileNotFound(uri);
    }
    const reason = present ? (err as Error).message.split('\n')[0] : `the snapshot commit ${commit.slice(0, 12)} is not in this repository (garbage-collected, or never fetched)`;
    return vscode.FileSystemError.Unavailable(`RunLens: ${reason}`);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { root, commit, file } = this.resolve(uri);
    let entry;
    try {
      entry = await statSnapshotPath(root, commit, file);
    } catch (err) {
      throw await this.failure(uri, root, commit, err);
    }
    if (!entry) throw vscode.FileSystemError.FileNotFound(uri);
    return { type: entry.kind === 'dir' ? vscode.FileType.Directory : vscode.FileType.File, ctime: 0, mtime: 0, size: entry.size, permissions: vscode.FilePermission.Readonly };
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const { root, commit, file } = this.resolve(uri);
    const entries = await listSnapshotDir(root, commit, file).catch(async (err: unknown) => {
      throw await this.failure(uri, root, commit, err);
    });
    return entries.map((e) => [e.name, e.kind === 'dir' ? vscode.FileType.Directory : vscode.FileType.File]);
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { root, commit, file } = this.resolve(uri);
    const key = `${commit}:${file}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const bytes = await readSnapshotFile(root, commit, file).catch(async (err: unknown) => {
      throw await this.failure(uri, root, commit, err);
    });
    if (this.cache.size > 200) this.cache.clear();
    this.cache.set(key, bytes);
    return bytes;
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  writeFile(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
}
