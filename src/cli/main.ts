import { GitUnavailableError } from '../core/git/gitClient';
import { UsageError } from './args';
import { DIFF_USAGE, diffCommand, LS_USAGE, lsCommand, SHOW_USAGE, showCommand } from './commands/inspect';
import { BEGIN_USAGE, beginCommand } from './commands/begin';
import { IMPORT_USAGE, importCommand } from './commands/import';
import { MODEL_USAGE, modelCommand } from './commands/model';
import { REPRODUCE_USAGE, reproduceCommand } from './commands/reproduce';
import { RUN_USAGE, runCommand } from './commands/run';
import { SERIES_USAGE, seriesCommand } from './commands/series';
import { PULL_USAGE, pullCommand, PUSH_USAGE, pushCommand } from './commands/share';

declare const RUNLENS_VERSION: string;

const HELP = `runlens: experiment lineage for training runs

usage:
  ${RUN_USAGE}
  ${LS_USAGE}
  ${SHOW_USAGE}
  ${DIFF_USAGE}
  ${REPRODUCE_USAGE}
  ${SERIES_USAGE}
  ${MODEL_USAGE}
  ${IMPORT_USAGE}
  ${PUSH_USAGE}
  ${PULL_USAGE}
  ${BEGIN_USAGE}

Runs are kept under .runlens/ at the root of the git repository (or $RUNLENS_DIR).
A run's exact code is kept as a commit under refs/runlens/runs/<id>.
`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: runCommand,
  ls: lsCommand,
  show: showCommand,
  diff: diffCommand,
  reproduce: reproduceCommand,
  series: seriesCommand,
  model: modelCommand,
  import: importCommand,
  begin: beginCommand,
  push: pushCommand,
  pull: pullCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${typeof RUNLENS_VERSION === 'string' ? RUNLENS_VERSION : 'dev'}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command "${name}"; try: runlens help`);
  if (rest[0] === '--help' || rest[0] === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  return command(rest);
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
