import { locateRepository } from '../../core/git/repository';
import { ExportRefused, exportVersion } from '../../core/registry/exportVersion';
import { RegistryError, Registry } from '../../core/registry/registry';
import type { RegistryEvent } from '../../core/registry/events';
import { listRuns, resolveStoreDir } from '../../core/store';
import { expectPositionals, flag, parseArgs, single, UsageError } from '../args';
import { formatAge, formatNumber, safeText, table } from '../terminalText';
import { lookup } from './inspect';

export const MODEL_USAGE = [
  'runlens model register <run> --name MODEL [--artifact PATH] [--force]',
  'runlens model alias <model> <alias> <version> | --remove',
  'runlens model rollback <model> <alias>',
  'runlens model history <model> [--alias A] [--json]',
  'runlens model ls [--json]',
  'runlens model export <model>@<alias>|<model>/<version> [--to DIR | --tar FILE] [--json]',
].join('\n  ');

function versionNumber(text: string): number {
  const n = Number(text.replace(/^v/i, ''));
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`"${text}" is not a version number (1, 2, … or v1, v2, …)`);
  return n;
}

function describeEvent(e: RegistryEvent): string {
  const when = `${e.at} (${formatAge(e.at)})`;
  if (e.type === 'register') return `${when}  ${safeText(e.who)} registered v${e.version} from run ${e.runId}`;
  if (e.type === 'alias-set') {
    return e.previous === null
      ? `${when}  ${safeText(e.who)} set ${safeText(e.alias)} → v${e.version}`
      : `${when}  ${safeText(e.who)} moved ${safeText(e.alias)} v${e.previous} → v${e.version}`;
  }
  if (e.type === 'export') return `${when}  ${safeText(e.who)} exported v${e.version} to ${safeText(e.to)}`;
  return `${when}  ${safeText(e.who)} removed ${safeText(e.alias)} (was v${e.previous})`;
}

export async function modelCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const registry = new Registry(await resolveStoreDir(process.cwd()));
  const say = (text: string) => process.stdout.write(text + '\n');
  const warnProblems = () => {
    for (const p of registry.read().problems) process.stderr.write(`runlens: ${p}\n`);
  };
  try {
    switch (sub) {
      case 'export': {
        const parsed = parseArgs(rest, [{ name: 'to', value: true }, { name: 'tar', value: true }, { name: 'json' }]);
        const [spec] = expectPositionals(parsed, ['a version (MODEL@ALIAS or MODEL/VERSION)'], 'runlens model export <model>@<alias>|<model>/<version> [--to DIR | --tar FILE]');
        if (single(parsed, 'to') && single(parsed, 'tar')) throw new UsageError('give --to DIR or --tar FILE, not both');
        const repoRoot = await locateRepository(process.cwd()).then((r) => r.root, () => null);
        try {
          const { dir, manifest, tar } = await exportVersion(registry.storeDir, spec!, { to: single(parsed, 'to'), tar: single(parsed, 'tar') }, repoRoot);
          if (flag(parsed, 'json')) say(JSON.stringify({ dir, tar, manifest }));
          else say(`exported ${safeText(manifest.model)} v${manifest.version} (run ${manifest.runId}, artifact sha256 ${manifest.artifact.sha256.slice(0, 12)}…) to ${safeText(tar ?? dir ?? '')}`);
          return 0;
        } catch (err) {
          if (err instanceof ExportRefused) {
            process.stderr.write(`runlens: ${err.message}\n`);
            return 1;
          }
          throw err;
        }
      }
      case 'register': {
        const parsed = parseArgs(rest, [{ name: 'name', value: true }, { name: 'artifact', value: true }, { name: 'force' }]);
        const [query] = expectPositionals(parsed, ['a run'], 'runlens model register <run> --name MODEL [--artifact PATH] [--force]');
        const name = single(parsed, 'name');
        if (!name) throw new UsageError('--name MODEL is required: the model this run becomes a version of');
        const run = lookup(listRuns(registry.storeDir).runs, query!);
        const event = registry.register(name, run, single(parsed, 'artifact'), flag(parsed, 'force'));
        say(`registered ${safeText(name)} v${event.version} from run ${run.id} "${safeText(run.name)}" (${safeText(event.artifact.path)}, sha256 ${event.artifact.sha256?.slice(0, 12)}…)`);
        return 0;
      }
      case 'alias': {
        const parsed = parseArgs(rest, [{ name: 'remove' }]);
        if (flag(parsed, 'remove')) {
          const [model, alias] = expectPositionals(parsed, ['a model', 'an alias'], 'runlens model alias <model> <alias> --remove');
          registry.removeAlias(model!, alias!);
          say(`removed ${safeText(alias!)} from ${safeText(model!)}`);
          return 0;
        }
        const [model, alias, version] = expectPositionals(parsed, ['a model', 'an alias', 'a version'], 'runlens model alias <model> <alias> <version>');
        const event = registry.setAlias(model!, alias!, versionNumber(version!));
        say(event.previous === null ? `${safeText(alias!)} → ${safeText(model!)} v${event.version}` : `moved ${safeText(alias!)} of ${safeText(model!)} from v${event.previous} to v${event.version}`);
        return 0;
      }
      case 'rollback': {
        const parsed = parseArgs(rest, []);
        const [model, alias] = expectPositionals(parsed, ['a model', 'an alias'], 'runlens model rollback <model> <alias>');
        const event = registry.rollback(model!, alias!);
        say(`rolled ${safeText(alias!)} of ${safeText(model!)} back from v${event.previous} to v${event.version}`);
        return 0;
      }
      case 'history': {
        const parsed = parseArgs(rest, [{ name: 'alias', value: true }, { name: 'json' }]);
        const [model] = expectPositionals(parsed, ['a model'], 'runlens model history <model> [--alias A] [--json]');
        registry.model(model!);
        warnProblems();
        const alias = single(parsed, 'alias');
        const events = alias ? registry.history(model!, alias) : registry.read().events.filter((e) => e.model === model);
        if (flag(parsed, 'json')) say(JSON.stringify(events, null, 2));
        else say(events.length ? events.map(describeEvent).join('\n') : `no alias has been set on ${safeText(model!)} yet`);
        return 0;
      }
      case 'ls': {
        const parsed = parseArgs(rest, [{ name: 'json' }]);
        expectPositionals(parsed, [], 'runlens model ls [--json]');
        warnProblems();
        const models = [...registry.models().values()];
        if (flag(parsed, 'json')) {
          say(JSON.stringify(models, null, 2));
          return 0;
        }
        if (models.length === 0) {
          say('No model registered yet. Register a run\'s artifact with: runlens model register <run> --name MODEL');
          return 0;
        }
        const rows = models.flatMap((m) =>
          m.versions
            .slice()
            .reverse()
            .map((v) => [m.name, `v${v.version}`, v.aliases.join(', '), v.runId.slice(0, 12), Object.entries(v.metrics).slice(0, 3).map(([k, x]) => `${k}=${formatNumber(x)}`).join(' '), formatAge(v.at)]),
        );
        say(table(['MODEL', 'VERSION', 'ALIASES', 'RUN', 'METRICS', 'REGISTERED'], rows));
        return 0;
      }
      default:
        throw new UsageError(`${sub ? `unknown model command "${sub}"` : 'name a model command'}\nusage:\n  ${MODEL_USAGE}`);
    }
  } catch (err) {
    if (err instanceof RegistryError) throw new UsageError(err.message);
    throw err;
  }
}
