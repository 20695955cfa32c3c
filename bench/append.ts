/**
 * The event store against plain PostgreSQL, on the same rows (bench/events.ts: each unit's
 * UnitEnrolled, DeadlineMissed, Escalated):
 * - batched: `appendEvents` of `batchUnits` units' events at a time (with their projection) against
 *   one UNNEST insert of the same rows into a plain table, one batch after another;
 * - single: one event per transaction, `concurrency` at a time (each in-flight slot works through its
 *   own units in stream order) against a single-row INSERT with the same concurrency;
 * - scaling: events/s of 2 appender processes (bench/appender.ts, distinct streams each) against 1.
 * The events are built before the clock starts; each call's figure is events per second.
 */
import { fork } from 'node:child_process';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database';
import { appendEvents } from '../db/event-store';
import type { AnyNewEvent } from '../domain/events';
import { rolloutEvents, treeCodes } from './events';

const chunks = <T>(xs: ReadonlyArray<T>, n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/** The first `n` codes of a tree big enough to hold them. */
export function codesFor(n: number): string[] {
  return treeCodes(Math.ceil(n / 30), 29).slice(0, n);
}

async function rawInsert(db: Kysely<Database>, events: ReadonlyArray<AnyNewEvent>): Promise<void> {
  const col = <T>(f: (e: AnyNewEvent) => T): T[] => events.map(f);
  await sql`
    insert into bench_raw_events (event_id, stream_id, stream_seq, type, rollout_id, unit_code, actor, occurred_at, payload)
    select * from unnest(${col((e) => e.eventId)}::text[], ${col((e) => e.streamId)}::text[], ${col((e) => e.streamSeq)}::int[], ${col((e) => e.type)}::text[],
                         ${col((e) => e.rolloutId)}::text[], ${col((e) => e.unitCode)}::text[], ${col((e) => e.actor)}::text[], ${col((e) => e.occurredAt)}::timestamptz[],
                         ${col((e) => JSON.stringify(e.payload))}::jsonb[])`.execute(db);
}

async function rate(events: number, fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return events / (Number(process.hrtime.bigint() - t0) / 1e9);
}

export type AppendSide = 'trienkhai' | 'raw';

/** Appends retried after a deadlock or serialization failure, as the worker's activity retry would retry them (reported with the figures). */
export const retried = { n: 0 };

/** `appendEvents`, retried on a deadlock (40P01) or serialization failure (40001): concurrent appends to one rollout can meet on its shared rows. */
export async function appendRetrying(db: Kysely<Database>, events: AnyNewEvent[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await appendEvents(db, events);
      return;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if ((code !== '40P01' && code !== '40001') || attempt >= 10) throw e;
      retried.n += 1;
    }
  }
}

/** Batched appends of `units` units' events, one batch at a time. */
export async function batched(db: Kysely<Database>, side: AppendSide, rolloutId: string, units: number, batchUnits: number): Promise<number> {
  const batches = chunks(rolloutEvents(rolloutId, codesFor(units)), batchUnits * 3);
  const n = batches.reduce((s, b) => s + b.length, 0);
  return rate(n, async () => {
    for (const b of batches) await (side === 'trienkhai' ? appendRetrying(db, b) : rawInsert(db, b));
  });
}

/** One event per transaction, `concurrency` in flight; each slot appends its own units' events in stream order. */
export async function single(db: Kysely<Database>, side: AppendSide, rolloutId: string, units: number, concurrency: number): Promise<number> {
  const codes = codesFor(units);
  const slots = Array.from({ length: concurrency }, (_, s) =>
    rolloutEvents(
      rolloutId,
      codes.filter((_, i) => i % concurrency === s),
    ),
  );
  return rate(units * 3, () =>
    Promise.all(
      slots.map(async (events) => {
        for (const e of events) await (side === 'trienkhai' ? appendRetrying(db, [e]) : rawInsert(db, [e]));
      }),
    ),
  );
}

/** What each appender process does (bench/appender.ts). */
export interface AppenderJob {
  url: string;
  rolloutId: string;
  units: number;
  batchUnits: number;
  concurrency: number;
}

/** Start `processes` appenders, let them connect, then time them from one go signal until the last is done: total events per second. */
export async function scaling(job: Omit<AppenderJob, 'rolloutId'>, run: string, processes: number): Promise<number> {
  const children = Array.from({ length: processes }, (_, i) => fork(require.resolve('./appender'), [JSON.stringify({ ...job, rolloutId: `${run}-p${i}` })], { stdio: 'inherit' }));
  const next = (c: (typeof children)[number], what: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      c.once('message', (m: Record<string, unknown>) => (m.error ? reject(new Error(`appender: ${String(m.error)}`)) : resolve(m)));
      c.once('exit', (code) => reject(new Error(`appender exited (${code}) before ${what}`)));
    });
  try {
    await Promise.all(children.map((c) => next(c, 'it was ready')));
    const done = children.map((c) => next(c, 'it was done'));
    const t0 = process.hrtime.bigint();
    for (const c of children) c.send('go');
    const results = await Promise.all(done);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    retried.n += results.reduce((n, r) => n + Number(r.retried), 0);
    return results.reduce((n, r) => n + Number(r.events), 0) / s;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
}
