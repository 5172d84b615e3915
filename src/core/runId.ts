import { createHash, randomBytes } from 'node:crypto';

// Crockford base32, lower case: ids sort by time as plain strings, are safe as
// folder names and git ref components, and never contain i, l, o or u.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

function timeChars(ms: number): string {
  let time = '';
  let t = Math.max(0, Math.floor(ms));
  for (let i = 0; i < TIME_CHARS; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time;
}

function base32(bytes: Uint8Array, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += ALPHABET[bytes[i]! % 32];
  return out;
}

/** A ULID-like id: 10 characters of milliseconds, then 80 random bits. */
export function newRunId(now: number = Date.now()): string {
  return timeChars(now) + base32(randomBytes(RANDOM_CHARS), RANDOM_CHARS);
}

/** The length of the part of an imported run's id that names its source store. */
export const STORE_MARK_CHARS = 6;

/**
 * The id of a run imported from another tool: its start time, then a mark of
 * its store (so one listing of the runs folder finds every run of a store),
 * then a hash of its original id. The same run always gets the same id, so
 * importing again updates it instead of adding it twice.
 */
export function importedRunId(startedMs: number, storeIdentity: string, originalId: string): string {
  return timeChars(startedMs) + importedRunSuffix(storeIdentity, originalId);
}

export function storeMark(storeIdentity: string): string {
  return base32(createHash('sha256').update(storeIdentity).digest(), STORE_MARK_CHARS);
}

export function importedRunSuffix(storeIdentity: string, originalId: string): string {
  const runPart = base32(createHash('sha256').update(storeIdentity).update('\0').update(originalId).digest(), RANDOM_CHARS - STORE_MARK_CHARS);
  return storeMark(storeIdentity) + runPart;
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
