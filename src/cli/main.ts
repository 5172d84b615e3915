import { GitUnavailableError } from '../core/git/gitClient';
import { UsageError } from './args';
declare const RUNLENS_VERSION: string;

type Command = (args: string[]) => Promise<number>;

/**
 * Each command's module is loaded when that command runs: the bundle's
 * modules are then initialised on demand, so `runlens push` does not first
 * set up the importers, the series cache and sql.js (bench: CLI start).
 */
const COMMANDS: Record<string, () => Promise<{ command: Command; usage: string[] }>> = {
  run: async () => import('./commands/run.js').then((m) => ({ command: m.runCommand, usage: [m.RUN_USAGE] })),
  ls: async () => import('./commands/inspect.js').then((m) => ({ command: m.lsCommand, usage: [m.LS_USAGE, m.SHOW_USAGE, m.DIFF_USAGE] })),
  show: async () => import('./commands/inspect.js').then((m) => ({ command: m.showCommand, usage: [] })),
  diff: async () => import('./commands/inspect.js').then((m) => ({ command: m.diffCommand, usage: [] })),
  reproduce: async () => import('./commands/reproduce.js').then((m) => ({ command: m.reproduceCommand, usage: [m.REPRODUCE_USAGE] })),
  series: async () => import('./commands/series.js').then((m) => ({ command: m.seriesCommand, usage: [m.SERIES_USAGE] })),
  model: async () => import('./commands/model.js').then((m) => ({ command: m.modelCommand, usage: [m.MODEL_USAGE] })),
  import: async () => import('./commands/import.js').then((m) => ({ command: m.importCommand, usage: [m.IMPORT_USAGE] })),
  push: async () => import('./commands/share.js').then((m) => ({ command: m.pushCommand, usage: [m.PUSH_USAGE, m.PULL_USAGE] })),
  pull: async () => import('./commands/share.js').then((m) => ({ command: m.pullCommand, usage: [] })),
  begin: async () => import('./commands/begin.js').then((m) => ({ command: m.beginCommand, usage: [m.BEGIN_USAGE] })),
};

async function help(): Promise<string> {
  const usages = (await Promise.all(Object.values(COMMANDS).map((load) => load()))).flatMap((c) => c.usage);
  return `runlens: experiment lineage for training runs

usage:
${usages.map((u) => `  ${u}\n`).join('')}
Runs are kept under .runlens/ at the root of the git repository (or $RUNLENS_DIR).
A run's exact code is kept as a commit under refs/runlens/runs/<id>.
`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(await help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${typeof RUNLENS_VERSION === 'string' ? RUNLENS_VERSION : 'dev'}\n`);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) throw new UsageError(`unknown command "${name}"; try: runlens help`);
  if (rest[0] === '--help' || rest[0] === '-h') {
    process.stdout.write(await help());
    return 0;
  }
  return (await load()).command(rest);
}

// A reader that stops early (`runlens ls --json | head -c 100`) closes the pipe: that ends the output, not the program with a trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

/** An error as one line: what failed, on which file when known. RUNLENS_DEBUG=1 adds the stack. */
function oneLine(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as NodeJS.ErrnoException;
  const first = (e.message.split('\n')[0] ?? '').trim();
  const text = e.code && e.path && !first.includes(e.path) ? `${first} (${e.path})` : first;
  // A TypeError and its kin are RunLens's own bug, not bad input: said as such, so it gets reported.
  const bug = err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError;
  const line = bug ? `internal error: ${text} (RUNLENS_DEBUG=1 shows where; please report it)` : text;
  return process.env.RUNLENS_DEBUG === '1' && e.stack ? `${line}\n${e.stack}` : line;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`runlens: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof GitUnavailableError) {
      process.stderr.write(`runlens: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`runlens: ${oneLine(err)}\n`);
      process.exitCode = 1;
    }
  },
);
