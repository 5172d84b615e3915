import { safeText } from '../../core/safeText';
import { pullRuns } from '../../core/share/pull';
import { pushRuns } from '../../core/share/push';
import { resolveStoreDir } from '../../core/store';
import { all, flag, parseArgs, UsageError } from '../args';

export const PUSH_USAGE = 'runlens push [REMOTE] [--dry-run] [--private-tag T]… [--json]';
export const PULL_USAGE = 'runlens pull [REMOTE] [--json]';

function remoteOf(positionals: string[], usage: string): string | undefined {
  if (positionals.length > 1) throw new UsageError(`one remote at most\nusage: ${usage}`);
  return positionals[0];
}

/** `runlens push`: this clone's ended runs and registry events to the remote's refs/runlens/share/runs. */
export async function pushCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, [{ name: 'dry-run' }, { name: 'json' }, { name: 'private-tag', value: true, repeatable: true }]);
  const dryRun = flag(parsed, 'dry-run');
  const quietProgress = flag(parsed, 'json');
  const result = await pushRuns(process.cwd(), await resolveStoreDir(process.cwd()), {
    remote: remoteOf(parsed.positionals, PUSH_USAGE),
    dryRun,
    privateTags: all(parsed, 'private-tag'),
    onProgress: quietProgress ? undefined : (m) => process.stderr.write(`runlens: ${safeText(m)}\n`),
  });
  if (flag(parsed, 'json')) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return 0;
  }
  for (const run of result.runs) process.stdout.write(`${dryRun ? 'would push' : 'pushed'} ${run.id} ${safeText(run.name)}\n`);
  for (const kept of result.kept) process.stdout.write(`kept local ${kept.id} ${safeText(kept.name)}: ${safeText(kept.reason)}\n`);
  const what = `${result.runs.length} run(s) and ${result.registryEvents} registry event(s)`;
  process.stdout.write(
    dryRun ? `${what} would go to ${safeText(result.remote)}; nothing was sent (--dry-run)\n` : result.runs.length + result.registryEvents === 0 ? `${safeText(result.remote)} has everything already\n` : `${what} pushed to ${safeText(result.remote)}\n`,
  );
  return 0;
}

/** `runlens pull`: teammates' shared runs and registry events from the remote, read-only here. */
export async function pullCommand(args: string[]): Promise<number> {
  const parsed = parseArgs(args, [{ name: 'json' }]);
  const result = await pullRuns(process.cwd(), await resolveStoreDir(process.cwd()), {
    remote: remoteOf(parsed.positionals, PULL_USAGE),
    onProgress: flag(parsed, 'json') ? undefined : (m) => process.stderr.write(`runlens: ${safeText(m)}\n`),
  });
  if (flag(parsed, 'json')) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return 0;
  }
  for (const run of result.runs) process.stdout.write(`pulled ${run.id} ${safeText(run.name)} (${safeText(run.user)}@${safeText(run.host)})\n`);
  for (const problem of result.problems) process.stderr.write(`runlens: run ${problem.id} from ${safeText(result.remote)} was not taken in: ${safeText(problem.reason)}\n`);
  process.stdout.write(result.commit === null ? `${safeText(result.remote)} shares no runs yet\n` : `${result.runs.length} run(s) and ${result.registryEvents} registry event(s) pulled from ${safeText(result.remote)}\n`);
  return 0;
}
