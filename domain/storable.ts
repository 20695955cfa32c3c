/**
 * What PostgreSQL can store, checked before anything is recorded. An event that passes the schema can
 * still be refused by the database for good (retrying sends the same bytes): text and jsonb cannot hold
 * U+0000 ("invalid byte sequence", "\u0000 cannot be converted to text"), and a lone UTF-16 surrogate
 * has no UTF-8 form (text columns would silently store U+FFFD, so the recorded event would no longer
 * match its content hash; jsonb refuses it). The unit workflow checks each new event with
 * `checkNewEvent` before changing its state, and the append activity checks again, so such an event is
 * refused with a clear error instead of being retried forever.
 *
 * Pure: imported by workflow code, so no Node built-ins.
 */
import { DomainError, joinPath, type DomainIssue } from './errors';
import { EventPayloads, NewEventEnvelope, type AnyNewEvent } from './events';
import { unstorableByPostgres } from './text';

/** Every string (keys included) in a JSON-like value that PostgreSQL cannot store, with its path. */
export function unstorableIssues(value: unknown, path: ReadonlyArray<PropertyKey> = [], prefix = ''): DomainIssue[] {
  const out: DomainIssue[] = [];
  const walk = (v: unknown, at: PropertyKey[], depth: number): void => {
    if (depth > 64) return;
    if (typeof v === 'string') {
      const why = unstorableByPostgres(v);
      if (why) out.push({ path: joinPath(prefix, at), message: why });
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...at, i], depth + 1));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const why = unstorableByPostgres(k);
        if (why) out.push({ path: joinPath(prefix, at), message: `a key ${why}` });
        walk(x, [...at, k], depth + 1);
      }
    }
  };
  walk(value, [...path], 0);
  return out;
}

/**
 * An event as the store will see it: the schema of its type (`parseNewEvent`) and text PostgreSQL can
 * store. Throws a DomainError naming each bad field (`payload.title`, `actor`).
 */
export function checkNewEvent(input: unknown): AnyNewEvent {
  const env = NewEventEnvelope.safeParse(input);
  if (!env.success) throw DomainError.fromZod('event', env.error);
  const payload = EventPayloads[env.data.type].safeParse(env.data.payload);
  if (!payload.success) throw DomainError.fromZod('event.payload', payload.error);
  const event = { ...env.data, payload: payload.data } as AnyNewEvent;
  const bad = unstorableIssues(event, [], 'event');
  if (bad.length) throw new DomainError(bad);
  return event;
}
