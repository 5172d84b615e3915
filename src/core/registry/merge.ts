import { createHash, randomBytes } from 'node:crypto';
import type { RegistryEvent } from './events';

/**
 * Registry logs of two clones merge as a union of events by id, in time
 * order: both people's alias moves stay in the audit log and the later one
 * wins. An event written before events had ids is named by its content.
 */
export function eventId(event: RegistryEvent): string {
  return event.id ?? `h${createHash('sha256').update(JSON.stringify(event)).digest('hex').slice(0, 24)}`;
}

export function newEventId(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

/** Every event of `a` and `b` once, ordered by time (then id, so both clones agree on the order). */
export function unionEvents(a: RegistryEvent[], b: RegistryEvent[]): RegistryEvent[] {
  const byId = new Map<string, RegistryEvent>();
  for (const event of [...a, ...b]) if (!byId.has(eventId(event))) byId.set(eventId(event), event);
  return [...byId.values()].sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : eventId(x) < eventId(y) ? -1 : eventId(x) > eventId(y) ? 1 : 0));
}

export function eventLines(events: RegistryEvent[]): string {
  return events.map((e) => JSON.stringify(e) + '\n').join('');
}
