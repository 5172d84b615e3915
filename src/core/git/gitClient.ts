import { simpleGit, type SimpleGit } from 'simple-git';

/** Thrown when git itself cannot be run, as opposed to git refusing a command. */
export class GitUnavailableError extends Error {}

export function gitAt(dir: string, env?: Record<string, string>): SimpleGit {
  const git = simpleGit({ baseDir: dir, binary: process.env.RUNLENS_GIT ?? 'git', maxConcurrentProcesses: 4 });
  return env ? git.env({ ...(process.env as Record<string, string>), ...env }) : git;
}

/** Runs a git command, turning "git is not installed" into a message a person can act on. */
export async function runGit(git: SimpleGit, args: string[]): Promise<string> {
  try {
    return await git.raw(args);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/ENOENT/.test(message) && /spawn/.test(message)) {
      throw new GitUnavailableError('git is not installed or not on PATH (set RUNLENS_GIT to its path)');
    }
    throw new Error(message.trim().replace(/^fatal: /, ''));
  }
}

/** Splits the output of a `-z` command into its NUL-terminated fields. */
export function splitNul(output: string): string[] {
  const parts = output.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
