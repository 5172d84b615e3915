import { randomBytes } from 'node:crypto';

// Crockford base32, lower case: ids sort by time as plain strings, are safe as
// folder names and git ref components, and never contain i, l, o or u.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

/** A ULID-like id: 10 characters of milliseconds, then 80 random bits. */
export function newRunId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < TIME_CHARS; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(RANDOM_CHARS);
  let random = '';
  for (let i = 0; i < RANDOM_CHARS; i++) random += ALPHABET[bytes[i]! % 32];
  return time + random;
}

export function isRunId(value: string): boolean {
  return /^[0-9a-hjkmnp-tv-z]{26}$/.test(value);
}

/** The moment encoded in an id, for runs whose run.json is unreadable. */
export function runIdTime(id: string): number {
  let t = 0;
  for (const ch of id.slice(0, TIME_CHARS)) t = t * 32 + ALPHABET.indexOf(ch);
  return t;
}
