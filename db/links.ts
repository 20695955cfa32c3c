/**
 * How the audit record hashes: each event's content hash, and the links of the hash chain over the
 * whole log. Pure functions, shared by the store, the sequencer that links appended events
 * (db/sequencer.ts), verification (db/chain.ts), checkpoints and export bundles.
 */
import { createHash } from 'node:crypto';
import type { RawBuilder } from 'kysely';
import { sql } from 'kysely';
import type { AnyNewEvent } from '../domain/events';

/** Canonical JSON: keys sorted at every depth, so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The hash of an event's content (everything the workflow decided; not the recording time). */
export function contentHash(e: AnyNewEvent): string {
  const { eventId, streamId, streamSeq, type, rolloutId, unitCode, actor, occurredAt, payload } = e;
  const content = { eventId, streamId, streamSeq, type, rolloutId, unitCode, actor, occurredAt: new Date(occurredAt).toISOString(), payload };
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** The genesis value the first event's prev_hash holds. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * One link of the hash chain, version 1 (rows recorded before migration 0010): sha256(prev ":" seq ":"
 * contentHash), hex. The migration that chained older rows computes the same in SQL.
 */
export function chainHash(prev: string, seq: number, content: string): string {
  return createHash('sha256').update(`${prev}:${seq}:${content}`).digest('hex');
}

/**
 * One link of the hash chain, version 2 (every row recorded since migration 0010): also the two
 * timestamps, as `usText` writes them — sha256(prev ":" seq ":" contentHash ":" occurredAt ":"
 * recordedAt), hex. So every stored column an auditor or the timeline reads is covered: the content
 * hash covers what the workflow decided, the link covers its position and both times, at the
 * microseconds PostgreSQL stores. Computable in SQL the same way (see the test).
 *
 * Why a version per row rather than re-chaining older rows: re-chaining would rewrite the recorded
 * hashes and so void every signed checkpoint already handed to auditors; version-1 rows keep verifying
 * exactly as before (their recorded_at is not covered, as it never was), and a version can only go up
 * along the chain (a version-1 row after a version-2 row is reported).
 */
export function recordHash(prev: string, seq: number, content: string, occurredAt: string, recordedAt: string): string {
  return createHash('sha256').update(`${prev}:${seq}:${content}:${occurredAt}:${recordedAt}`).digest('hex');
}

/** A timestamptz as UTC text with six decimals (`2027-08-01T00:01:00.123456Z`): how version-2 links hash times. */
export function usText(expr: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`to_char(${expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** The same text for an ISO instant (millisecond precision, as JavaScript has it). */
export function usTextOfIso(iso: string | Date): string {
  return new Date(iso).toISOString().replace(/Z$/, '000Z');
}
