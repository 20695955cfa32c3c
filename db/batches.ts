/**
 * Batches in the database: which running units a filter matches (from the read model), the batch and
 * its items as confirmed (recorded with BatchStarted in one transaction), the items worked through,
 * and BatchCompleted once every unit has answered. See domain/batches.ts.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { BatchFilter, BatchItemStatus } from '../domain/batches';
import type { AncestorRef } from '../domain/events';
import { eventId, streams } from '../domain/ids';
import type { Database } from './database';
import { appendInTransaction } from './event-store';
import { canonicalJson } from './links';
import { overdueSql } from './queries';

export interface MatchedUnit {
  code: string;
  name: string;
  level: string;
  standingCommittee: boolean;
  ancestors: AncestorRef[];
  suspended: boolean;
  /** The filtered step's deadline (its first pending occurrence), when the filter names a step. */
  dueAt: Date | null;
}

/** `u` is `within` or under it (by the ancestors recorded when it enrolled). */
const underUnit = (within: string) => sql<boolean>`(u.unit_code = ${within} or u.ancestors @> ${JSON.stringify([{ code: within }])}::jsonb)`;

/**
 * The running units of a rollout the filter matches (within `scope`, if given), shallowest first. Completed and cancelled units
 * are never matched: nothing can change for them.
 */
export async function matchBatchUnits(db: Kysely<Database>, rolloutId: string, f: BatchFilter, now: Date, scope?: string): Promise<MatchedUnit[]> {
  const stepCond = (s: string) => (f.step !== undefined ? sql<boolean>`${sql.ref(`${s}.step_id`)} = ${f.step}` : sql<boolean>`true`);
  const status = f.status;
  let q = db.selectFrom('rollout_units as u').where('u.rollout_id', '=', rolloutId).where('u.status', '=', 'active');
  if (f.within !== undefined) q = q.where(underUnit(f.within));
  // A scoped requester (a committee) never sees units outside its subtree, not even as a count.
  if (scope !== undefined) q = q.where(underUnit(scope));
  if (f.level !== undefined) q = q.where('u.level', '=', f.level);
  if (f.codes !== undefined) q = q.where('u.unit_code', 'in', f.codes);
  if (status === 'suspended') q = q.where('u.suspended_at', 'is not', null);
  if (status === 'escalated')
    q = q.where(
      sql<boolean>`exists (select 1 from escalations e join unit_steps s on s.rollout_id = e.rollout_id and s.unit_code = e.unit_code and s.step_key = e.step_key
        where e.rollout_id = u.rollout_id and e.unit_code = u.unit_code and e.status = 'open' and ${stepCond('s')})`,
    );
  const pending =
    status === 'overdue'
      ? overdueSql('s', now)
      : status === 'open' || status === 'waiting'
        ? sql<boolean>`s.status = ${status}`
        : f.step !== undefined && status !== 'escalated'
          ? sql<boolean>`s.status in ('waiting', 'open')`
          : undefined;
  if (pending) q = q.where(sql<boolean>`exists (select 1 from unit_steps s where s.rollout_id = u.rollout_id and s.unit_code = u.unit_code and ${stepCond('s')} and ${pending})`);
  const rows = await q
    .select(['u.unit_code', 'u.name', 'u.level', 'u.standing_committee', 'u.ancestors', 'u.suspended_at'])
    .select(
      f.step !== undefined
        ? sql<Date | null>`(select s.due_at from unit_steps s where s.rollout_id = u.rollout_id and s.unit_code = u.unit_code and s.step_id = ${f.step}
            order by (s.status in ('waiting', 'open')) desc, s.occurrence limit 1)`.as('due_at')
        : sql<Date | null>`null::timestamptz`.as('due_at'),
    )
    .orderBy('u.depth')
    .orderBy('u.unit_code')
    .execute();
  return rows.map((r) => ({
    code: r.unit_code,
    name: r.name,
    level: r.level,
    standingCommittee: r.standing_committee,
    ancestors: r.ancestors as AncestorRef[],
    suspended: r.suspended_at !== null,
    dueAt: r.due_at === null ? null : new Date(r.due_at),
  }));
}

/** The units of a rollout among `codes` (to name the ones a filter's list gets wrong). */
export async function unitsOfRollout(db: Kysely<Database>, rolloutId: string, codes: string[]): Promise<Map<string, { status: string }>> {
  if (!codes.length) return new Map();
  const rows = await db.selectFrom('rollout_units').select(['unit_code', 'status']).where('rollout_id', '=', rolloutId).where('unit_code', 'in', codes).execute();
  return new Map(rows.map((r) => [r.unit_code, { status: r.status }]));
}

/** What a confirmation must match: the action as decided and exactly the units it reaches. */
export function batchFingerprint(parts: { action: unknown; committee: string | null; codes: string[] }): string {
  return createHash('sha256')
    .update(canonicalJson({ action: parts.action, committee: parts.committee, codes: [...parts.codes].sort() }))
    .digest('hex');
}

export interface NewBatch {
  batchId: string;
  rolloutId: string;
  action: string;
  params: Record<string, unknown>;
  filter: Record<string, unknown>;
  committee: string | null;
  decidedBy: string;
  reason: string;
  fingerprint: string;
  codes: string[];
  /** Each unit's own change, in the order of `codes` (a batch whose units get different changes). */
  inputs?: Array<Record<string, unknown>>;
}

/** Store a confirmed batch with its items and record BatchStarted, in one transaction. */
export async function insertBatch(db: Kysely<Database>, b: NewBatch): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('batches')
      .values({
        batch_id: b.batchId,
        rollout_id: b.rolloutId,
        action: b.action,
        params: JSON.stringify(b.params),
        filter: JSON.stringify(b.filter),
        committee: b.committee,
        decided_by: b.decidedBy,
        reason: b.reason,
        fingerprint: b.fingerprint,
        units: b.codes.length,
      })
      .execute();
    for (let i = 0; i < b.codes.length; i += 1000)
      await trx
        .insertInto('batch_items')
        .values(b.codes.slice(i, i + 1000).map((code, k) => ({ batch_id: b.batchId, seq: i + k + 1, unit_code: code, input: b.inputs ? JSON.stringify(b.inputs[i + k]) : null })))
        .execute();
    const stream = streams.batch(b.batchId);
    await appendInTransaction(trx, [
      {
        eventId: eventId(stream, 1),
        streamId: stream,
        streamSeq: 1,
        type: 'BatchStarted',
        rolloutId: b.rolloutId,
        unitCode: null,
        actor: b.decidedBy,
        occurredAt: new Date().toISOString(),
        payload: {
          decidedBy: b.decidedBy,
          reason: b.reason,
          batchId: b.batchId,
          rolloutId: b.rolloutId,
          action: b.action,
          params: b.params,
          committee: b.committee,
          filter: b.filter,
          fingerprint: b.fingerprint,
          units: b.codes.length,
        },
      },
    ]);
  });
}

export async function getBatch(db: Kysely<Database>, batchId: string) {
  return db.selectFrom('batches').selectAll().where('batch_id', '=', batchId).executeTakeFirst();
}

export async function listBatches(db: Kysely<Database>, rolloutId: string, limit: number, offset: number) {
  return db.selectFrom('batches').selectAll().where('rollout_id', '=', rolloutId).orderBy('created_at', 'desc').orderBy('batch_id').limit(limit).offset(offset).execute();
}

/** How many of a batch's items stand at each status. */
export async function batchCounts(db: Kysely<Database>, batchId: string): Promise<Record<BatchItemStatus, number>> {
  const rows = await db
    .selectFrom('batch_items')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('batch_id', '=', batchId)
    .groupBy('status')
    .execute();
  const out: Record<BatchItemStatus, number> = { pending: 0, done: 0, unchanged: 0, refused: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

export async function pendingItems(db: Kysely<Database>, batchId: string, limit: number) {
  return db.selectFrom('batch_items').select(['seq', 'unit_code', 'input']).where('batch_id', '=', batchId).where('status', '=', 'pending').orderBy('seq').limit(limit).execute();
}

export async function batchItems(db: Kysely<Database>, batchId: string, f: { status?: BatchItemStatus; limit: number; offset: number }) {
  let q = db.selectFrom('batch_items').selectAll().where('batch_id', '=', batchId);
  if (f.status) q = q.where('status', '=', f.status);
  return q.orderBy('seq').limit(f.limit).offset(f.offset).execute();
}

export async function settleItem(db: Kysely<Database>, batchId: string, seq: number, outcome: { status: Exclude<BatchItemStatus, 'pending'>; message: string; result?: unknown }): Promise<void> {
  await db
    .updateTable('batch_items')
    .set({ status: outcome.status, message: outcome.message, result: outcome.result === undefined ? null : JSON.stringify(outcome.result), updated_at: new Date() })
    .where('batch_id', '=', batchId)
    .where('seq', '=', seq)
    .execute();
}

/** Every unit has answered: record BatchCompleted (once) and mark the batch completed. */
export async function completeBatch(db: Kysely<Database>, batchId: string, actor: string): Promise<Record<BatchItemStatus, number>> {
  return db.transaction().execute(async (trx) => {
    const b = await trx.selectFrom('batches').select(['rollout_id', 'status']).where('batch_id', '=', batchId).forUpdate().executeTakeFirstOrThrow();
    const counts = await batchCounts(trx, batchId);
    if (b.status === 'completed') return counts;
    const stream = streams.batch(batchId);
    await appendInTransaction(trx, [
      {
        eventId: eventId(stream, 2),
        streamId: stream,
        streamSeq: 2,
        type: 'BatchCompleted',
        rolloutId: b.rollout_id,
        unitCode: null,
        actor,
        occurredAt: new Date().toISOString(),
        payload: { batchId, done: counts.done, unchanged: counts.unchanged, refused: counts.refused },
      },
    ]);
    await trx.updateTable('batches').set({ status: 'completed', completed_at: new Date() }).where('batch_id', '=', batchId).execute();
    return counts;
  });
}

/** The payload of a decision recorded on a stream with this batch ID (a repeated request finds the first). */
export async function recordedDecision(db: Kysely<Database>, streamId: string, type: string, batchId: string): Promise<Record<string, unknown> | undefined> {
  const row = await db
    .selectFrom('events')
    .select('payload')
    .where('stream_id', '=', streamId)
    .where('type', '=', type)
    .where(sql<boolean>`payload->>'batchId' = ${batchId}`)
    .executeTakeFirst();
  return row?.payload as Record<string, unknown> | undefined;
}
