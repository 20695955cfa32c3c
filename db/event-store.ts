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
import { sql, type Kysely, type Transaction } from 'kysely';
import type { AnyNewEvent, EventPayload, EventType } from '../domain/events';
import { eventId } from '../domain/ids';
import type { Database, EventRow } from './database';
import { contentHash, usTextOfIso } from './links';
import { projectAll } from './projection';
import { kickSequencer } from './sequencer';

export class EventConflictError extends Error {
  override readonly name = 'EventConflict';
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

/**
 * Appends hold this advisory lock shared; a read-model rebuild holds it exclusively. So a rebuild waits
 * for appends in flight, and appends wait for the rebuild instead of projecting onto rows it is about
 * to replace (which would lose their effect on the read model). Taken first, so it cannot deadlock.
 */
export const READ_MODEL_LOCK = 0x7472_6b68; // "trkh"

/** Append events (already validated with `parseNewEvent`) and update the read model, in one transaction; then ask the sequencer to link them. */
export async function appendEvents(db: Kysely<Database>, events: AnyNewEvent[], opts: AppendOptions = {}): Promise<AppendResult> {
  if (events.length === 0) return { appended: 0, duplicates: 0 };
  const result = await db.transaction().execute((trx) => appendInTransaction(trx, events, opts));
  if (result.appended > 0) kickSequencer(db);
  return result;
}

/**
 * The same, inside a caller's transaction (e.g. a hierarchy import that writes other tables too). The
 * caller kicks the sequencer after its commit (`kickSequencer`), or leaves the rows to the sweep.
 *
 * No lock the deployment shares (but READ_MODEL_LOCK, shared): one statement takes that lock, inserts
 * the events and reads back the IDs recorded before and the events each stream's first new one must
 * follow; then the events are projected; then the `afterAppend` hooks run. Their chain link is written
 * after the commit by the sequencer (db/sequencer.ts).
 */
export async function appendInTransaction(trx: Transaction<Database>, events: AnyNewEvent[], opts: AppendOptions = {}): Promise<AppendResult> {
  let duplicates = 0;
  const hashOf = new Map<string, string>();
  const batch: Array<{ e: AnyNewEvent; hash: string }> = [];
  for (const e of events) {
    const hash = contentHash(e);
    const seen = hashOf.get(e.eventId);
    if (seen !== undefined) {
      if (seen !== hash) throw conflict(e.eventId);
      duplicates += 1;
      continue;
    }
    hashOf.set(e.eventId, hash);
    batch.push({ e, hash });
  }
  if (batch.length === 0) return { appended: 0, duplicates };
  // Within the batch, each stream's events must follow each other; its first must follow what is recorded.
  const first = new Map<string, AnyNewEvent>();
  const last = new Map<string, number>();
  for (const { e } of batch) {
    const before = last.get(e.streamId);
    if (before !== undefined && e.streamSeq !== before + 1) throw outOfSequence(e, before);
    if (before === undefined) first.set(e.streamId, e);
    last.set(e.streamId, e.streamSeq);
  }
  const follows = [...first.values()].filter((e) => e.streamSeq > 1);
  const col = <T>(f: (x: { e: AnyNewEvent; hash: string }) => T): T[] => batch.map(f);
  const { rows } = await sql<{ inserted: string[]; recorded: Array<[string, string]>; previous: string[] }>`
    with l as (select pg_advisory_xact_lock_shared(${READ_MODEL_LOCK}) as locked),
    ins as (
      insert into events (event_id, stream_id, stream_seq, type, rollout_id, unit_code, actor, occurred_at, payload, content_hash, hash_version)
      select i.event_id, i.stream_id, i.stream_seq, i.type, i.rollout_id, i.unit_code, i.actor, i.occurred_at, i.payload::jsonb, i.content_hash, 2
        from unnest(${col((x) => x.e.eventId)}::text[], ${col((x) => x.e.streamId)}::text[], ${col((x) => x.e.streamSeq)}::int[], ${col((x) => x.e.type)}::text[],
                    ${col((x) => x.e.rolloutId)}::text[], ${col((x) => x.e.unitCode)}::text[], ${col((x) => x.e.actor)}::text[],
                    ${col((x) => usTextOfIso(x.e.occurredAt))}::timestamptz[], ${col((x) => JSON.stringify(x.e.payload))}::text[], ${col((x) => x.hash)}::text[])
             with ordinality as i(event_id, stream_id, stream_seq, type, rollout_id, unit_code, actor, occurred_at, payload, content_hash, n)
             cross join l -- the lock, before the first row (the batch is never empty)
       order by i.n
      on conflict (event_id) do nothing
      returning event_id)
    select (select coalesce(json_agg(event_id), '[]') from ins) as inserted,
           (select coalesce(json_agg(json_build_array(e.event_id, e.content_hash)), '[]') from events e where e.event_id = any(${col((x) => x.e.eventId)}::text[])) as recorded,
           (select coalesce(json_agg(e.stream_id), '[]') from events e
              join unnest(${follows.map((e) => e.streamId)}::text[], ${follows.map((e) => e.streamSeq - 1)}::int[]) as p(stream_id, seq)
                on e.stream_id = p.stream_id and e.stream_seq = p.seq) as previous`
    .execute(trx)
    .catch((err: unknown) => {
      throw sequenceClash(err, batch);
    });
  const r = rows[0]!;
  const inserted = new Set(r.inserted);
  const recorded = new Map(r.recorded);
  const fresh: Array<{ e: AnyNewEvent; hash: string }> = [];
  for (const x of batch) {
    if (inserted.has(x.e.eventId)) {
      fresh.push(x);
      continue;
    }
    // Recorded before (or by an append that committed while this one waited for it).
    const stored = recorded.get(x.e.eventId) ?? (await trx.selectFrom('events').select('content_hash').where('event_id', '=', x.e.eventId).executeTakeFirst())?.content_hash;
    if (stored !== x.hash) throw conflict(x.e.eventId);
    duplicates += 1;
  }
  const found = new Set(r.previous);
  for (const e of follows) {
    // A duplicate's stream was checked when it was first recorded.
    if (!found.has(e.streamId) && inserted.has(e.eventId)) {
      const r = await trx
        .selectFrom('events')
        .select(sql<number>`coalesce(max(stream_seq), 0)::int`.as('head'))
        .where('stream_id', '=', e.streamId)
        .where('stream_seq', '<', e.streamSeq)
        .executeTakeFirstOrThrow();
      throw outOfSequence(e, r.head);
    }
  }
  if (fresh.length === 0) return { appended: 0, duplicates };
  await projectAll(
    trx,
    fresh.map((x) => x.e),
  );
  // E.g. notifications, in the same transaction as the events that cause them (only fresh ones: a
  // duplicate's were written when it was first recorded; rebuilds and as-of folds only project).
  if (opts.afterAppend) for (const { e } of fresh) await opts.afterAppend(trx, e);
  return { appended: fresh.length, duplicates };
}

const conflict = (id: string): EventConflictError => new EventConflictError(`event ${id} was already recorded with different content; the audit record is never overwritten`);

const outOfSequence = (e: AnyNewEvent, head: number): Error =>
  new Error(`stream ${e.streamId} is at sequence ${head}; event ${e.eventId} has sequence ${e.streamSeq} (retry after the earlier events are recorded)`);

/** Another event already holds a stream position one of these claims (the unique constraint said so): named, and retryable like a gap. */
function sequenceClash(err: unknown, batch: ReadonlyArray<{ e: AnyNewEvent }>): unknown {
  const pg = err as { code?: string; constraint?: string; detail?: string };
  if (pg.code !== '23505' || pg.constraint !== 'events_stream_seq_unique') return err;
  const m = /\(stream_id, stream_seq\)=\((.*), (\d+)\)/.exec(pg.detail ?? '');
  const e = m ? batch.find((x) => x.e.streamId === m[1] && x.e.streamSeq === Number(m[2]))?.e : undefined;
  const out = new Error(
    `${e ? `event ${e.eventId}` : 'an event'}: another event is already recorded at ${m ? `sequence ${m[2]} of stream ${m[1]}` : 'its stream position'} (events_stream_seq_unique)`,
  );
  Object.assign(out, { code: pg.code, constraint: pg.constraint });
  return out;
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
  const seq = await db.transaction().execute((trx) => appendNextInTransaction(trx, e));
  kickSequencer(db);
  return seq;
}
