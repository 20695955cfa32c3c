/**
 * Reads: every question a front end asks of the product's state, answered once as a view (views.ts).
 * The HTTP API and the CLI call these; access checks stay with the front end that knows the caller
 * (api/access.ts), these functions only confine a read to a subtree when told to.
 */
import type { Kysely, Transaction } from 'kysely';
import { withRolloutAsOf } from '../db/as-of';
import { eventOfRow } from '../db/audit';
import type { Database } from '../db/database';
import { countEscalations, getRollout, getRolloutUnit, isOverdue, listEscalations, listRolloutUnits, listRollouts, rolloutProgress, unitCounts, unitSteps, type EscalationFilter } from '../db/queries';
import { DomainError } from '../domain/errors';
import { committeesAbove } from '../domain/escalation';
import type { Lang } from '../domain/time';
import { describeActor, describeEvent, eventTitle } from '../domain/wording';
import {
  escalationView,
  instant,
  instantOrNull,
  offsetOf,
  rolloutView,
  unitSummaryView,
  type Escalation,
  type Overview,
  type PageOf,
  type Paging,
  type Rollout,
  type TimelineEntry,
  type UnitDetail,
  type UnitSummary,
} from './views';

type Db = Kysely<Database> | Transaction<Database>;

/** The rollout's row, or "no rollout" naming the ID (404 / exit code 2). */
export async function requireRollout(db: Db, rolloutId: string) {
  const r = await getRollout(db, rolloutId);
  if (!r) throw DomainError.notFound('rolloutId', `no rollout "${rolloutId}" (see: trienkhai rollout list)`);
  return r;
}

/** A unit of a rollout with the codes of its ancestors (what access checks need); "not part of it" otherwise. */
export async function requireRolloutUnit(db: Db, rolloutId: string, unitCode: string) {
  const u = await getRolloutUnit(db, rolloutId, unitCode);
  if (!u) {
    await requireRollout(db, rolloutId);
    throw DomainError.notFound('unitCode', `unit "${unitCode}" is not part of rollout ${rolloutId} (or has not been enrolled yet)`);
  }
  const ancestors = (u.ancestors as Array<{ code: string; name: string; level?: string; standingCommittee?: boolean }>) ?? [];
  return { row: u, target: { code: u.unit_code, ancestors: ancestors.map((a) => a.code) }, ancestors };
}

/** Rollouts, newest first; `takingPart`: only those this unit takes part in (a scoped token). */
export async function rolloutsPage(db: Db, opts: { takingPart?: string }, paging: Paging): Promise<PageOf<Rollout>> {
  let all = await listRollouts(db);
  if (opts.takingPart) {
    const mine = new Set((await db.selectFrom('rollout_units').select('rollout_id').where('unit_code', '=', opts.takingPart).execute()).map((r) => r.rollout_id));
    all = all.filter((r) => mine.has(r.rollout_id));
  }
  const start = offsetOf(paging);
  return { items: all.slice(start, start + paging.pageSize).map(rolloutView), ...paging, total: all.length };
}

/** Where a whole rollout stands now: counts, and progress per level and step. */
export async function rolloutOverview(db: Db, rolloutId: string, now = new Date()): Promise<Overview> {
  const r = await requireRollout(db, rolloutId);
  return { rollout: rolloutView(r), counts: await unitCounts(db, rolloutId), progress: await rolloutProgress(db, rolloutId, now), asOf: instant(now) };
}

/** The rollout as it stood at `at`, folded from the events up to it (the audit record, not the read model). */
export async function rolloutOverviewAsOf(db: Kysely<Database>, rolloutId: string, at: Date): Promise<Overview> {
  return asOf(db, rolloutId, at, (trx) => rolloutOverview(trx, rolloutId, at));
}

/**
 * Any read of one rollout as it stood at `at`: `read` runs on the read model folded from the events up
 * to that instant (the audit record, not the live read model).
 */
export async function asOf<T>(db: Kysely<Database>, rolloutId: string, at: Date, read: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  await requireRollout(db, rolloutId);
  return withRolloutAsOf(db, rolloutId, at, async (trx) => {
    if (!(await getRollout(trx, rolloutId))) throw DomainError.notFound('at', `rollout ${rolloutId} had not started by ${instant(at)}`);
    return read(trx);
  });
}

/** Units of a rollout: one level of the tree (`parent`), or a whole subtree (`within`), optionally only the overdue ones. */
export async function unitsPage(db: Db, rolloutId: string, f: { parent?: string; within?: string; overdueOnly?: boolean }, paging: Paging, now = new Date()): Promise<PageOf<UnitSummary>> {
  const { total, items } = await listRolloutUnits(db, rolloutId, { ...f, now, offset: offsetOf(paging), limit: paging.pageSize });
  return { items: items.map(unitSummaryView), ...paging, total };
}

/** A unit's page: the unit, its ancestors, every step and every escalation about it. */
export async function unitDetail(db: Db, rolloutId: string, unitCode: string, now = new Date()): Promise<UnitDetail> {
  const u = await requireRolloutUnit(db, rolloutId, unitCode);
  const steps = await unitSteps(db, rolloutId, unitCode);
  const escalations = await listEscalations(db, { rolloutId, unitCode, limit: 10_000 });
  const at = now.getTime();
  return {
    rolloutId,
    unit: {
      unitCode: u.row.unit_code,
      name: u.row.name,
      level: u.row.level,
      parent: u.row.parent_code,
      members: u.row.members,
      standingCommittee: u.row.standing_committee,
      children: u.row.children,
      status: u.row.status,
      completedAt: instantOrNull(u.row.completed_at),
      suspendedAt: instantOrNull(u.row.suspended_at),
      ancestors: u.ancestors.map((a) => ({ code: a.code, name: a.name })),
    },
    steps: steps.map((s) => ({
      stepKey: s.step_key,
      stepId: s.step_id,
      kind: s.kind,
      occurrence: s.occurrence,
      status: s.status,
      dueAt: instantOrNull(s.due_at),
      originalDueAt: instantOrNull(s.original_due_at),
      completedAt: instantOrNull(s.completed_at),
      lateByMs: s.late_by_ms === null ? null : Number(s.late_by_ms),
      overdue: isOverdue(s.status, s.due_at, at, u.row.suspended_at !== null),
      attended: s.attended,
      remindersSent: s.reminders_sent,
      extensions: s.extensions,
      document: s.document_text ? { text: s.document_text, date: s.document_date } : null,
    })),
    escalations: escalations.map((e) => escalationView(e, now)),
    extendableBy: committeesAbove(
      { code: u.row.unit_code, name: u.row.name, level: u.row.level, standingCommittee: u.row.standing_committee },
      u.ancestors.map((a) => ({ code: a.code, name: a.name, level: a.level ?? '', standingCommittee: a.standingCommittee === true })),
    ).map((c) => c.code),
  };
}

/** Escalations matching a filter, oldest first (a committee's inbox: `recipient` + `status: 'open'`). */
export async function escalationsPage(db: Db, f: Omit<EscalationFilter, 'limit' | 'offset'>, paging: Paging, now = new Date()): Promise<PageOf<Escalation>> {
  const rows = await listEscalations(db, { ...f, offset: offsetOf(paging), limit: paging.pageSize });
  return { items: rows.map((e) => escalationView(e, now)), ...paging, total: await countEscalations(db, f) };
}

/** A rollout's (or one unit's) story from the audit record, in the order it was recorded; paged. */
export async function timelinePage(db: Db, rolloutId: string, unit: string | undefined, lang: Lang, paging: Paging): Promise<PageOf<TimelineEntry>> {
  await requireRollout(db, rolloutId);
  let q = db.selectFrom('events').where('rollout_id', '=', rolloutId);
  if (unit) q = q.where('unit_code', '=', unit);
  const total = Number((await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
  const rows = await q.selectAll().orderBy('position').offset(offsetOf(paging)).limit(paging.pageSize).execute();
  return {
    items: rows.map((r) => {
      const e = eventOfRow(r);
      return {
        chainSeq: r.chain_seq === null ? null : Number(r.chain_seq),
        occurredAt: instant(r.occurred_at),
        recordedAt: instant(r.recorded_at),
        unit: r.unit_code,
        actor: r.actor,
        by: describeActor(r.actor, lang),
        type: r.type,
        title: eventTitle(e.type, lang),
        text: describeEvent(e, lang),
        eventId: r.event_id,
      };
    }),
    ...paging,
    total,
  };
}
