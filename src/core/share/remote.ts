import { execFile } from 'node:child_process';
import { execGit } from '../git/gitClient';
import { SHARE_REF, trackingRef } from './layout';

/** Sharing cannot go ahead as asked (no remote, a remote that refuses): said in one line, nothing changed. */
export class ShareError extends Error {}

/**
 * The remote to share with: the one named, else the current branch's
 * upstream remote, else `origin`. A path or URL may be given instead of a
 * name.
 */
export async function resolveRemote(root: string, given?: string): Promise<string> {
  // Asked together: each git start costs a few ms, and push and pull start here.
  const [remoteList, branchName, upstreams] = await Promise.all([
    execGit(root, ['remote']),
    given ? Promise.resolve('') : execGit(root, ['symbolic-ref', '-q', '--short', 'HEAD']),
    given ? Promise.resolve('') : execGit(root, ['config', '--get-regexp', '^branch\\..*\\.remote$']),
  ]);
  const remotes = remoteList.split('\n').filter(Boolean);
  if (given) {
    if (remotes.includes(given) || /[:/\\]/.test(given)) return given;
    throw new ShareError(`no remote "${given}" in this repository (remotes: ${remotes.join(', ') || 'none'})`);
  }
  const branch = branchName.trim();
  if (branch) {
    // git prints the section and key in lower case and the branch as it is.
    const key = `branch.${branch}.remote `;
    const line = upstreams.split('\n').find((l) => l.startsWith(key));
    const upstream = line?.slice(key.length).trim();
    if (upstream && upstream !== '.' && remotes.includes(upstream)) return upstream;
  }
  if (remotes.includes('origin')) return 'origin';
  if (remotes.length === 1) return remotes[0]!;
  throw new ShareError(remotes.length === 0 ? 'this repository has no remote: add one (git remote add origin URL) or name one: runlens push PATH-OR-URL' : `no upstream and no origin: name the remote (${remotes.join(', ')})`);
}

/**
 * Fetches the remote's share commit into this repository's tracking ref and
 * returns it, or null when the remote shares nothing yet. Only
 * `refs/runlens/share/runs` is asked for (protocol v2 filters the ref
 * advertisement of a fetch), and only that tracking ref moves.
 */
export async function fetchShare(root: string, remote: string): Promise<string | null> {
  const tracking = trackingRef(remote);
  try {
    await execGit(root, ['-c', 'protocol.version=2', 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--no-auto-gc', remote, `+${SHARE_REF}:${tracking}`]);
  } catch (err) {
    const message = (err as Error).message;
    if (/couldn't find remote ref|no such ref|not our ref/i.test(message)) return null;
    throw new ShareError(`could not fetch from ${remote}: ${message.split('\n').find((l) => l.trim())?.replace(/^fatal: /, '') ?? message}`);
  }
  const sha = (await execGit(root, ['rev-parse', '-q', '--verify', `${tracking}^{commit}`])).trim();
  return sha || null;
}

/** Pushes `commit` as the remote's share ref if it is still `expected` there; false when someone pushed first. */
export async function pushShare(root: string, remote: string, commit: string, expected: string | null): Promise<boolean> {
  const lease = `--force-with-lease=${SHARE_REF}:${expected ?? ''}`;
  const { code, stdout, stderr } = await gitOutputs(root, ['push', '--no-verify', '--porcelain', lease, remote, `${commit}:${SHARE_REF}`]);
  if (code === 0) return true;
  // --porcelain says per ref what happened on stdout: "!<TAB>src:dst<TAB>[rejected] (stale info)".
  const refLine = stdout.split('\n').find((l) => l.startsWith('!'));
  if (refLine && /stale info|fetch first|non-fast-forward|failed to update ref|cannot lock|incorrect old value|failed to lock/i.test(refLine)) return false;
  const reason = refLine?.split('\t').pop() ?? stderr.split('\n').find((l) => l.trim() && !l.startsWith('To '))?.replace(/^(fatal|error): /, '') ?? `git push exited ${code}`;
  throw new ShareError(`could not push to ${remote}: ${reason.trim()}`);
}

function gitOutputs(root: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
