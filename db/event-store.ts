/**
 * Appending to the audit record. Each append is one transaction: insert the events, then project each
 * into the read model. Rules:
 * - an event ID seen before with the same content is skipped (a retried activity is harmless);
 * - the same ID with different content is an EventConflictError, never an overwrite;
 * - a stream's events must arrive in sequence (1, 2, 3, …); the unique (stream_id, stream_seq)
 *   constraint backs this up under concurrency;
 * - `afterAppend` hooks run in the same transaction for each fresh event (never for a duplicate):
 *   the worker injects the notification outbox (notify/outbox.ts), so a notification exists exactly
 *   when its event does, without the store knowing about notifications.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { AnyNewEvent, EventPayload, EventType } from '../domain/events';
import { eventId } from '../domain/ids';
import type { Database, EventRow } from './database';
import { project } from './projection';

export class EventConflictError extends Error {
  override readonly name = 'EventConflict';
}

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

export interface AppendResult {
  appended: number;
  duplicates: number;
}

/** Work done in the append's transaction for each freshly recorded event (e.g. the notification outbox). */
export type AfterAppend = (trx: Transaction<Database>, e: AnyNewEvent) => Promise<unknown>;

export interface AppendOptions {
  afterAppend?: AfterAppend;
}

/** Append events (already validated with `parseNewEvent`) and update the read model, in one transaction. */
export async function appendEvents(db: Kysely<Database>, events: AnyNewEvent[], opts: AppendOptions = {}): Promise<AppendResult> {
  if (events.length === 0) return { appended: 0, duplicates: 0 };
  return db.transaction().execute((trx) => appendInTransaction(trx, events, opts));
}

/**
 * Appends hold this advisory lock shared; a read-model rebuild holds it exclusively. So a rebuild waits
 * for appends in flight, and appends wait for the rebuild instead of projecting onto rows it is about
 * to replace (which would lose their effect on the read model). Taken first, so it cannot deadlock.
 */
export const READ_MODEL_LOCK = 0x7472_6b68; // "trkh"

/** The same, inside a caller's transaction (e.g. a hierarchy import that writes other tables too). */
export async function appendInTransaction(trx: Transaction<Database>, events: AnyNewEvent[], opts: AppendOptions = {}): Promise<AppendResult> {
  await sql`select pg_advisory_xact_lock_shared(${READ_MODEL_LOCK})`.execute(trx);
  let duplicates = 0;
  const heads = new Map<string, number>();
  const fresh: Array<{ e: AnyNewEvent; hash: string }> = [];
  for (const e of events) {
    const hash = contentHash(e);
    const existing = await trx.selectFrom('events').select(['content_hash']).where('event_id', '=', e.eventId).executeTakeFirst();
    if (existing || fresh.some((f) => f.e.eventId === e.eventId)) {
      const recorded = existing?.content_hash ?? fresh.find((f) => f.e.eventId === e.eventId)?.hash;
      if (recorded !== hash) {
        throw new EventConflictError(`event ${e.eventId} was already recorded with different content; the audit record is never overwritten`);
      }
      duplicates += 1;
      continue;
    }
    const head = heads.get(e.streamId) ?? (await streamHead(trx, e.streamId));
    if (e.streamSeq !== head + 1) {
      throw new Error(`stream ${e.streamId} is at sequence ${head}; event ${e.eventId} has sequence ${e.streamSeq} (retry after the earlier events are recorded)`);
    }
    heads.set(e.streamId, e.streamSeq);
    await project(trx, e);
    fresh.push({ e, hash });
  }
  if (fresh.length === 0) return { appended: 0, duplicates };
  // The chain head is taken last, so appends of different streams wait for each other only for the
  // inserts themselves, not for their projections.
  const chain = await trx.selectFrom('chain_head').select(['seq', 'hash']).forUpdate().executeTakeFirstOrThrow();
  // The recording time is chosen here (the database's clock, under the head's lock, so it never goes
  // back along the chain unless the clock does) rather than by the column default, so that it can be
  // hashed into the link exactly as it will be stored.
  const { rows: clock } = await sql<{ now: string }>`select ${usText(sql`clock_timestamp()`)} as now`.execute(trx);
  const recordedAt = clock[0]!.now;
  let seq = Number(chain.seq);
  let prev = chain.hash;
  const rows = fresh.map(({ e, hash }) => {
    seq += 1;
    // Stored at the millisecond the workflow's clock has, so the text hashed is the value stored.
    const occurredAt = usTextOfIso(e.occurredAt);
    const link = recordHash(prev, seq, hash, occurredAt, recordedAt);
    const row = {
      event_id: e.eventId,
      stream_id: e.streamId,
      stream_seq: e.streamSeq,
      type: e.type,
      rollout_id: e.rolloutId,
      unit_code: e.unitCode,
      actor: e.actor,
      occurred_at: occurredAt,
      recorded_at: recordedAt,
      payload: JSON.stringify(e.payload),
      content_hash: hash,
      chain_seq: String(seq),
      prev_hash: prev,
      hash: link,
      hash_version: 2,
    };
    prev = link;
    return row;
  });
  await trx.insertInto('events').values(rows).execute();
  await trx
    .updateTable('chain_head')
    .set({ seq: String(seq), hash: prev })
    .execute();
  // E.g. notifications, in the same transaction as the events that cause them (only fresh ones: a
  // duplicate's were written when it was first recorded; rebuilds and as-of folds only project).
  if (opts.afterAppend) for (const { e } of fresh) await opts.afterAppend(trx, e);
  return { appended: fresh.length, duplicates };
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

/** Read events back in log order (optionally one rollout's). */
export async function readEvents(db: Kysely<Database>, opts: { rolloutId?: string; afterPosition?: string; limit?: number } = {}): Promise<EventRow[]> {
  let q = db.selectFrom('events').selectAll().orderBy('position');
  if (opts.rolloutId) q = q.where('rollout_id', '=', opts.rolloutId);
  if (opts.afterPosition) q = q.where('position', '>', opts.afterPosition);
  return q.limit(opts.limit ?? 10_000).execute();
}

/** The last sequence number of a stream (0 if it has no event yet): for streams the application appends to. */
export async function streamHead(db: Kysely<Database> | Transaction<Database>, streamId: string): Promise<number> {
  const r = await db
    .selectFrom('events')
    .select(sql<number>`coalesce(max(stream_seq), 0)::int`.as('head'))
    .where('stream_id', '=', streamId)
    .executeTakeFirstOrThrow();
  return r.head;
}

/** An event the application decides itself (an import, a dated change, a rollout-wide decision), not a workflow. */
export interface ApplicationEvent<T extends EventType = EventType> {
  streamId: string;
  type: T;
  rolloutId?: string | null;
  actor: string;
  payload: EventPayload<T>;
}

/** Append it at the next position of its stream, in the caller's transaction; its sequence number. A racing append of the same stream is refused (EventConflict). */
export async function appendNextInTransaction<T extends EventType>(trx: Transaction<Database>, e: ApplicationEvent<T>): Promise<number> {
  const seq = (await streamHead(trx, e.streamId)) + 1;
  const event = {
    eventId: eventId(e.streamId, seq),
    streamId: e.streamId,
    streamSeq: seq,
    type: e.type,
    rolloutId: e.rolloutId ?? null,
    unitCode: null,
    actor: e.actor,
    occurredAt: new Date().toISOString(),
    payload: e.payload,
  };
  await appendInTransaction(trx, [event as AnyNewEvent]);
  return seq;
}

/** The same in a transaction of its own. */
export async function appendNext<T extends EventType>(db: Kysely<Database>, e: ApplicationEvent<T>): Promise<number> {
  return db.transaction().execute((trx) => appendNextInTransaction(trx, e));
}
