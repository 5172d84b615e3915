import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isTrainingScript } from './commands/recordFile';
import { shellQuote } from './commands/shellQuote';

export const TASK_TYPE = 'runlens';

/** A `runlens` task in tasks.json: the command to record and how (package.json `taskDefinitions`). */
export interface RunLensTaskDefinition extends vscode.TaskDefinition {
  type: typeof TASK_TYPE;
  command: string;
  name?: string;
  params?: Record<string, string | number | boolean>;
  config?: string[];
  data?: string[];
  artifacts?: string[];
  tags?: string[];
}

/**
 * Tasks that record their command with `runlens run`: those tasks.json
 * declares (`"type": "runlens"`), and one per training script at the
 * workspace root. They run through the CLI the extension ships, with the
 * editor's own runtime, so nothing needs to be on PATH.
 */
export class RunLensTaskProvider implements vscode.TaskProvider {
  constructor(private readonly extensionPath: string) {}

  async provideTasks(): Promise<vscode.Task[]> {
    const tasks: vscode.Task[] = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      let names: string[];
      try {
        names = (await fs.promises.readdir(folder.uri.fsPath)).filter((n) => n.endsWith('.py')).sort();
      } catch {
        continue;
      }
      const python = vscode.workspace.getConfiguration('runlens', folder.uri).get<string>('pythonInterpreter') || 'python3';
      for (const name of names.slice(0, 50)) {
        let text: string;
        try {
          text = await fs.promises.readFile(path.join(folder.uri.fsPath, name), 'utf8');
        } catch {
          continue;
        }
        if (!isTrainingScript(text)) continue;
        const definition: RunLensTaskDefinition = { type: TASK_TYPE, command: `${shellQuote(python)} ${shellQuote(name)}` };
        tasks.push(this.task(definition, folder, `record ${name}`));
      }
    }
    return tasks;
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const definition = task.definition as RunLensTaskDefinition;
    if (typeof definition.command !== 'string' || !definition.command.trim()) return undefined;
    const scope = task.scope && typeof task.scope === 'object' ? task.scope : vscode.TaskScope.Workspace;
    return this.task(definition, scope, task.name);
  }

  private task(definition: RunLensTaskDefinition, scope: vscode.WorkspaceFolder | vscode.TaskScope.Workspace, name: string): vscode.Task {
    const cli = path.join(this.extensionPath, 'terminal-bin', 'runlens');
    // No problem matcher: training output holds no compiler errors to scan for.
    const task = new vscode.Task(definition, scope, name, TASK_TYPE, new vscode.ShellExecution(commandLine(cli, definition), { env: cliEnvironment(this.extensionPath) }), []);
    task.detail = `runlens run -- ${definition.command}`;
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated };
    return task;
  }
}

/** The variables a terminal needs for the shipped CLI and for runlens.init() to find it. */
export function cliEnvironment(extensionPath: string): Record<string, string> {
  return { RUNLENS_NODE: process.execPath, RUNLENS_CLI: path.join(extensionPath, 'terminal-bin', 'runlens') };
}

/** `runlens run [--name …] [--param k=v]… -- COMMAND`: the options quoted, the command as the user wrote it. */
export function commandLine(cli: string, definition: RunLensTaskDefinition): string {
  const words = [shellQuote(cli), 'run'];
  if (definition.name) words.push('--name', shellQuote(definition.name));
  for (const [key, value] of Object.entries(definition.params ?? {})) words.push('--param', shellQuote(`${key}=${String(value)}`));
  for (const [flag, items] of [['--config', definition.config], ['--data', definition.data], ['--artifact', definition.artifacts], ['--tag', definition.tags]] as const) {
    for (const item of items ?? []) if (typeof item === 'string') words.push(flag, shellQuote(item));
  }
  return `${words.join(' ')} -- ${definition.command.trim()}`;
}
