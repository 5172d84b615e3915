import * as os from 'node:os';

/** Who runs RunLens: the account's name, else $USER (a container's uid may have no passwd entry). */
export function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** `user@host`, as runs and registry events name who made them. */
export function userAtHost(): string {
  return `${userName()}@${os.hostname()}`;
}
