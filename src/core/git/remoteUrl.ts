/**
 * Removes credentials from URLs wherever they appear in a text:
 * `https://user:token@host/x` and `https://token@host/x` both become
 * `https://host/x`. A plain SSH login (`ssh://git@host/x`, `git@host:org/x`)
 * names a user, not a secret, and is kept.
 */
export function stripUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi, (whole, scheme: string, userinfo: string) =>
    /^(ssh|git\+ssh|ssh\+git):\/\/$/i.test(scheme) && !userinfo.includes(':') ? whole : scheme,
  );
}
