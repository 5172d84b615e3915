import * as vscode from 'vscode';

/**
 * The RunLens output channel: where background failures (a refresh, a save)
 * go with their cause, so nothing fails silently. The first failure of a
 * kind is also shown to the user once; repeats only reach the channel.
 */
export class RunLensLog implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('RunLens', { log: true });
  private readonly shown = new Set<string>();

  info(message: string): void {
    this.channel.info(message);
  }

  /** `what` failed because of `err`: logged always, shown to the user the first time `what` fails. */
  error(what: string, err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    this.channel.error(`${what}: ${reason}`);
    if (this.shown.has(what)) return;
    this.shown.add(what);
    void vscode.window.showWarningMessage(`RunLens: ${what}: ${reason.split('\n')[0]}`, 'Show Log').then((pick) => {
      if (pick) this.channel.show(true);
    });
  }

  dispose(): void {
    this.channel.dispose();
  }
}
