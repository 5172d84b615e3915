import * as path from 'node:path';
import { isPythonInterpreter } from '../params';
import type { RunRecord } from '../runRecord';

/**
 * The file a command runs, as typed: `python -u train.py` and `train.py` give
 * `train.py`; `python -m pkg.train` gives `pkg/train.py`; `./train.sh` itself.
 * Null for `python -c …` and commands that run no file of the repository.
 */
export function scriptOfCommand(command: readonly string[]): string | null {
  const first = command[0] ?? '';
  if (!isPythonInterpreter(first)) return /\.(py|ipynb|sh)$/i.test(first) ? first : null;
  for (let i = 1; i < command.length; i++) {
    const arg = command[i]!;
    if (arg === '-m') return command[i + 1] ? `${command[i + 1]!.replace(/\./g, '/')}.py` : null;
    if (arg === '-c') return null;
    if (arg === '-X' || arg === '-W') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return null;
}

/**
 * The script of a run as a path in its repository (`src/train.py`, forward
 * slashes), which is how an open editor finds the runs of its file.
 */
export function scriptOfRun(record: Pick<RunRecord, 'command' | 'cwdInRepo' | 'git'>): string | null {
  const script = Array.isArray(record.command) ? scriptOfCommand(record.command) : null;
  return script ? pathInRepo(record, script) : null;
}

/**
 * A path a run was given (its script, a config file), as a path in its
 * repository: the run's working folder in the repository joins a relative
 * one. Null outside the repository, and for runs without one.
 */
export function pathInRepo(record: Pick<RunRecord, 'cwdInRepo' | 'git'>, file: string): string | null {
  let inRepo: string;
  if (path.isAbsolute(file)) {
    if (!record.git?.root) return null;
    inRepo = path.relative(record.git.root, file).split(path.sep).join('/');
  } else {
    if (typeof record.cwdInRepo !== 'string' || !record.git) return null;
    inRepo = path.posix.normalize(path.posix.join(record.cwdInRepo.split(path.sep).join('/'), file.split(path.sep).join('/')));
  }
  if (!inRepo || inRepo === '.' || inRepo === '..' || inRepo.startsWith('../') || path.posix.isAbsolute(inRepo)) return null;
  return inRepo.replace(/^\.\//, '');
}
