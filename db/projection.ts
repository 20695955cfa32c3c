/**
 * The read model is a pure function of the event log: each event updates it here, in the same
 * transaction as its append. Nothing else writes these tables, so they can be dropped and re-projected
 * from the events at any time.
 */
import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { AnyNewEvent } from '../domain/events';
import type { Database } from './database';

export async function project(trx: Transaction<Database>, e: AnyNewEvent): Promise<void> {
  const at = e.occurredAt;
  const rid = e.rolloutId ?? '';
  const unit = e.unitCode ?? '';
  const step = (key: string) => trx.updateTable('unit_steps').where('rollout_id', '=', rid).where('unit_code', '=', unit).where('step_key', '=', key);
  const report = (key: string, details: unknown) =>
    step(key)
      .set({ last_report_at: at, last_report: JSON.stringify(details) })
      .execute();
  /** Move a step's progress counters (rollout_progress) by the given deltas. */
  const count = async (key: string, delta: CounterDelta): Promise<void> => {
    const row = await trx
      .selectFrom('unit_steps as s')
      .innerJoin('rollout_units as u', (j) => j.onRef('u.rollout_id', '=', 's.rollout_id').onRef('u.unit_code', '=', 's.unit_code'))
      .select(['u.level', 'u.depth', 's.step_id', 's.kind'])
      .where('s.rollout_id', '=', rid)
      .where('s.unit_code', '=', unit)
      .where('s.step_key', '=', key)
      .executeTakeFirst();
    if (!row) return;
    await bumpProgress(trx, [{ rolloutId: rid, level: row.level, stepId: row.step_id, kind: row.kind, depth: row.depth, slot: slotOf(unit), ...delta }]);
  };
  /** Escalations leave the inbox: the step was completed, its deadline extended, or the rollout cancelled. */
  const resolve = async (ids: string[], resolution: 'completed' | 'extended' | 'cancelled' | 'amended' | 'merged' | 'dissolved', lateByMs?: number): Promise<void> => {
    if (ids.length === 0) return;
    await trx
      .updateTable('escalations')
      .set({ status: 'resolved', resolution, resolved_at: at, resolved_by: e.actor, ...(lateByMs !== undefined ? { late_by_ms: String(lateByMs) } : {}) })
      .where('escalation_id', 'in', ids)
      .execute();
  };
  const statusOf = async (key: string) =>
    (await trx.selectFrom('unit_steps').select('status').where('rollout_id', '=', rid).where('unit_code', '=', unit).where('step_key', '=', key).executeTakeFirst())?.status;

  /** A unit's step instances enter the read model (at enrolment, or added by an amendment), counted in the progress. */
  const insertSteps = async (
    u: { code: string; level: string; members: number; depth: number },
    steps: ReadonlyArray<{ key: string; stepId: string; kind: string; occurrence: number; status: 'waiting' | 'open'; dueAt: string | null }>,
  ): Promise<void> => {
    if (steps.length === 0) return;
    await trx
      .insertInto('unit_steps')
      .values(
        steps.map((s) => ({
          rollout_id: rid,
          unit_code: u.code,
          step_key: s.key,
          step_id: s.stepId,
          kind: s.kind,
          occurrence: s.occurrence,
          status: s.status,
          due_at: s.dueAt,
          original_due_at: s.dueAt,
          opened_at: s.status === 'open' ? at : null,
          completed_at: null,
          late_by_ms: null,
          document_text: null,
          document_date: null,
          last_report_at: null,
          last_report: null,
        })),
      )
      .execute();
    await bumpProgress(
      trx,
      steps.map((st) => ({
        rolloutId: rid,
        level: u.level,
        stepId: st.stepId,
        kind: st.kind,
        depth: u.depth,
        slot: slotOf(u.code),
        units: 1,
        members: u.members,
        waiting: st.status === 'waiting' ? 1 : 0,
        open: st.status === 'open' ? 1 : 0,
      })),
    );
  };

  switch (e.type) {
    case 'HierarchyImported':
      return;
    case 'RolloutStarted': {
      const p = e.payload;
      await trx
        .insertInto('rollouts')
        .values({
          rollout_id: p.rolloutId,
          resolution_text: p.resolution.document.text,
          resolution_date: p.resolution.document.date,
          resolution_title: p.resolution.title,
          plan_id: p.planId,
          plan: JSON.stringify(p.plan),
          root_unit: p.rootUnit,
          hierarchy_version: p.hierarchyVersion,
          units: p.units ?? null,
          requested_by: p.requestedBy,
          status: 'running',
          started_at: at,
          completed_at: null,
        })
        .execute();
      return;
    }
    case 'UnitEnrolled': {
      const p = e.payload;
      await trx
        .insertInto('rollout_units')
        .values({
          rollout_id: rid,
          unit_code: p.unit.code,
          name: p.unit.name,
          level: p.unit.level,
          parent_code: p.unit.parent,
          members: p.unit.members,
          standing_committee: p.unit.standingCommittee,
          depth: p.ancestors.length,
          ancestors: JSON.stringify(p.ancestors),
          children: p.children,
          status: 'active',
          enrolled_at: at,
          completed_at: null,
        })
        .execute();
      await insertSteps({ level: p.unit.level, members: p.unit.members, depth: p.ancestors.length, code: p.unit.code }, p.steps);
      return;
    }
    case 'StepOpened': {
      const p = e.payload;
      if ((await statusOf(p.key)) === 'waiting') await count(p.key, { waiting: -1, open: 1 });
      await step(p.key).set({ status: 'open', opened_at: at }).execute();
      if (p.dueAt) await step(p.key).set({ due_at: p.dueAt }).where('due_at', 'is', null).execute();
      if (p.dueAt) await step(p.key).set({ original_due_at: p.dueAt }).where('original_due_at', 'is', null).execute();
      return;
    }
    case 'DeadlineScheduled':
      await step(e.payload.key).set({ due_at: e.payload.dueAt, original_due_at: e.payload.dueAt }).execute();
      return;
    case 'ReminderSent':
      await step(e.payload.key)
        .set((eb) => ({ reminders_sent: eb('reminders_sent', '+', 1) }))
        .execute();
      return;
    case 'DeadlineMissed':
      // The deadline may have become known only now (cascade): record it with the miss.
      await step(e.payload.key).set({ missed: true, due_at: e.payload.dueAt }).execute();
      return;
    case 'Escalated': {
      const p = e.payload;
      await trx
        .insertInto('escalations')
        .values({
          escalation_id: p.escalationId,
          rollout_id: rid,
          unit_code: unit,
          step_key: p.key,
          tier: p.tier,
          recipient_code: p.recipient.code,
          recipient_name: p.recipient.name,
          self: p.self,
          due_at: p.dueAt,
          opened_at: at,
          status: 'open',
          resolution: null,
          resolved_at: null,
          resolved_by: null,
          late_by_ms: null,
        })
        .execute();
      return;
    }
    case 'DeadlineExtended': {
      const p = e.payload;
      await step(p.key)
        .set((eb) => ({ due_at: p.newDueAt, missed: false, extensions: eb('extensions', '+', 1) }))
        .execute();
      await resolve(p.resolvedEscalations, 'extended');
      return;
    }
    case 'EscalationAcknowledged':
      await trx.updateTable('escalations').set({ acknowledged_at: at, acknowledged_by: e.actor, acknowledgement_note: e.payload.note }).where('escalation_id', '=', e.payload.escalationId).execute();
      return;
    case 'EscalationDirected':
      await trx
        .updateTable('escalations')
        .set((eb) => ({ directives: eb('directives', '+', 1), last_directive: e.payload.directive, last_directed_at: at, respond_by: e.payload.respondBy }))
        .where('escalation_id', '=', e.payload.escalationId)
        .execute();
      return;
    case 'StudySessionReported':
      await count(e.payload.key, { attended: e.payload.attended });
      await step(e.payload.key)
        .set({ attended: e.payload.totalAttended, last_report_at: at, last_report: JSON.stringify(e.payload) })
        .execute();
      return;
    case 'PlanDrafted':
    case 'InspectionRecorded':
      await report(e.payload.key, e.payload);
      return;
    case 'PeriodicReportSubmitted':
      // A report with its number is a document issued, counted like a plan's.
      if (e.payload.document) {
        await step(e.payload.key)
          .set({ document_text: e.payload.document.text, document_date: e.payload.document.date, last_report_at: at, last_report: JSON.stringify(e.payload) })
          .execute();
      } else await report(e.payload.key, e.payload);
      return;
    case 'PlanIssued':
    case 'ReviewSubmitted':
      await step(e.payload.key)
        .set({ document_text: e.payload.document.text, document_date: e.payload.document.date, last_report_at: at, last_report: JSON.stringify(e.payload) })
        .execute();
      return;
    case 'StepCompleted': {
      const p = e.payload;
      const before = await statusOf(p.key);
      if (before && before !== 'done') await count(p.key, { [before]: -1, done: 1, done_late: p.lateByMs > 0 ? 1 : 0 });
      await step(p.key)
        .set({ status: 'done', completed_at: at, late_by_ms: String(p.lateByMs) })
        .execute();
      await resolve(p.resolvedEscalations, 'completed', p.lateByMs);
      return;
    }
    case 'UnitCompleted':
      await trx.updateTable('rollout_units').set({ status: 'completed', completed_at: at }).where('rollout_id', '=', rid).where('unit_code', '=', unit).execute();
      return;
    case 'UnitCancelled':
    case 'UnitMerged':
    case 'UnitDissolved': {
      const p = e.payload;
      const how = e.type === 'UnitCancelled' ? 'cancelled' : e.type === 'UnitMerged' ? 'merged' : 'dissolved';
      // Steps left open are closed without completion; they no longer count as open, waiting or overdue.
      for (const key of p.openSteps) {
        const before = await statusOf(key);
        if (before === 'open' || before === 'waiting') await count(key, { [before]: -1 });
        await step(key).set({ status: 'cancelled' }).execute();
      }
      // A merged unit's open escalations pass to its successor (StepsInherited takes them up again).
      await resolve(e.type === 'UnitMerged' ? e.payload.passedEscalations : (p as { resolvedEscalations: string[] }).resolvedEscalations, how);
      await trx.updateTable('rollout_units').set({ status: how, completed_at: at }).where('rollout_id', '=', rid).where('unit_code', '=', unit).execute();
      return;
    }
    case 'UnitReshaped': {
      const p = e.payload;
      const before = await trx.selectFrom('rollout_units').select(['members']).where('rollout_id', '=', rid).where('unit_code', '=', unit).executeTakeFirst();
      if (!before) return;
      await trx
        .updateTable('rollout_units')
        .set({
          name: p.unit.name,
          level: p.unit.level,
          parent_code: p.unit.parent,
          members: p.unit.members,
          standing_committee: p.unit.standingCommittee,
          ancestors: JSON.stringify(p.ancestors),
          depth: p.ancestors.length,
        })
        .where('rollout_id', '=', rid)
        .where('unit_code', '=', unit)
        .execute();
      const delta = p.unit.members - before.members;
      if (delta)
        for (const s of await trx.selectFrom('unit_steps').select('step_key').where('rollout_id', '=', rid).where('unit_code', '=', unit).execute()) await count(s.step_key, { members: delta });
      for (const r of p.rerouted) await trx.updateTable('escalations').set({ recipient_code: r.to.code, recipient_name: r.to.name }).where('escalation_id', '=', r.escalationId).execute();
      return;
    }
    case 'StepsInherited': {
      const p = e.payload;
      for (const st of p.steps) {
        if (!st.attended) continue;
        await step(st.key)
          .set((eb) => ({ attended: eb('attended', '+', st.attended) }))
          .execute();
        await count(st.key, { attended: st.attended });
      }
      // The predecessor's open escalations are the successor's now, addressed to its committees.
      const keyOf = new Map(p.steps.flatMap((st) => st.escalations.map((id) => [id, st.key] as const)));
      for (const r of p.rerouted)
        await trx
          .updateTable('escalations')
          .set({
            unit_code: unit,
            step_key: keyOf.get(r.escalationId) ?? '',
            recipient_code: r.to.code,
            recipient_name: r.to.name,
            status: 'open',
            resolution: null,
            resolved_at: null,
            resolved_by: null,
          })
          .where('escalation_id', '=', r.escalationId)
          .execute();
      return;
    }
    case 'ChildAdopted':
      await trx
        .updateTable('rollout_units')
        .set((eb) => ({ children: eb('children', '+', 1) }))
        .where('rollout_id', '=', rid)
        .where('unit_code', '=', unit)
        .execute();
      return;
    case 'ChildReleased':
      await trx
        .updateTable('rollout_units')
        .set((eb) => ({ children: eb('children', '-', 1) }))
        .where('rollout_id', '=', rid)
        .where('unit_code', '=', unit)
        .execute();
      return;
    case 'RolloutHierarchyChanged':
      await trx.updateTable('rollouts').set({ hierarchy_version: e.payload.toVersion }).where('rollout_id', '=', rid).execute();
      return;
    case 'RolloutAmended':
      await trx
        .updateTable('rollouts')
        .set({ plan: JSON.stringify(e.payload.plan), plan_version: e.payload.toVersion, plan_hash: e.payload.planHash })
        .where('rollout_id', '=', rid)
        .execute();
      return;
    case 'RolloutCancelled':
      await trx.updateTable('rollouts').set({ status: 'cancelled', completed_at: at }).where('rollout_id', '=', rid).execute();
      return;
    case 'RolloutCompleted':
      await trx.updateTable('rollouts').set({ status: 'completed', completed_at: at }).where('rollout_id', '=', rid).execute();
      return;

    // ---- living rollouts (issue 10) ----------------------------------------------------------
    case 'ClockSuspended':
      // Deadlines move only when the clock resumes (ClockResumed); until then the unit is marked.
      await trx.updateTable('rollout_units').set({ suspended_at: at }).where('rollout_id', '=', rid).where('unit_code', '=', unit).execute();
      return;
    case 'ClockResumed':
      for (const m of e.payload.moved) await step(m.key).set({ due_at: m.newDueAt }).execute();
      await trx.updateTable('rollout_units').set({ suspended_at: null }).where('rollout_id', '=', rid).where('unit_code', '=', unit).execute();
      return;

    // Recorded for the audit record and the timeline; their read-model effects come with the
    // operations that record them (plan amendment, calendars, hierarchy changes, batches).
    case 'PlanAmended': {
      const p = e.payload;
      const u = await trx.selectFrom('rollout_units').select(['level', 'members', 'depth']).where('rollout_id', '=', rid).where('unit_code', '=', unit).executeTakeFirst();
      if (!u) return;
      for (const key of p.removed) {
        const before = await statusOf(key);
        await count(key, { units: -1, members: -u.members, ...(before === 'open' || before === 'waiting' || before === 'done' ? { [before]: -1 } : {}) });
        await trx.deleteFrom('unit_steps').where('rollout_id', '=', rid).where('unit_code', '=', unit).where('step_key', '=', key).execute();
      }
      await insertSteps({ code: unit, level: u.level, members: u.members, depth: u.depth }, p.added);
      for (const m of p.moved) await step(m.key).set({ due_at: m.newDueAt }).execute();
      await resolve(p.resolvedEscalations, 'amended');
      return;
    }
    case 'DeadlineReprojected':
      await step(e.payload.key).set({ due_at: e.payload.newDueAt }).execute();
      await resolve(e.payload.resolvedEscalations ?? [], 'amended');
      return;
    case 'HierarchyChanged':
    case 'CalendarImported':
    case 'BatchStarted':
    case 'BatchCompleted':
      return;
  }
}

// ---- progress counters ------------------------------------------------------------------------

/** How many rows each level and step's counters are spread over (migration 0016). */
export const PROGRESS_SLOTS = 16;

/**
 * The slot a unit's counter moves go to: the first hex digit of md5(code), which SQL computes the same
 * way (`('x' || substr(md5(unit_code), 1, 1))::bit(4)::int`, migration 0016). Any slot would keep the
 * sums right (reads add the slots up, and a slot may go negative); a fixed one per unit spreads units
 * that enrol together over the rows, and makes a rebuild give the same rows.
 */
export function slotOf(unitCode: string): number {
  return parseInt(createHash('md5').update(unitCode).digest('hex')[0]!, 16);
}

type Counter = 'units' | 'members' | 'waiting' | 'open' | 'done' | 'done_late' | 'attended';
type CounterDelta = Partial<Record<Counter, number>>;
const COUNTERS: readonly Counter[] = ['units', 'members', 'waiting', 'open', 'done', 'done_late', 'attended'];

interface ProgressMove extends CounterDelta {
  rolloutId: string;
  level: string;
  stepId: string;
  kind: string;
  depth: number;
  slot: number;
}

/** Move progress counters: the moves added up per row, then one upsert for all of them. */
async function bumpProgress(trx: Transaction<Database>, moves: ReadonlyArray<ProgressMove>): Promise<void> {
  const rows = new Map<string, ProgressMove & Record<Counter, number>>();
  for (const m of moves) {
    const k = `${m.rolloutId}\u0000${m.level}\u0000${m.stepId}\u0000${m.slot}`;
    const r = rows.get(k) ?? { ...m, units: 0, members: 0, waiting: 0, open: 0, done: 0, done_late: 0, attended: 0 };
    for (const c of COUNTERS) r[c] += m[c] ?? 0;
    rows.set(k, r);
  }
  const list = [...rows.values()].filter((r) => COUNTERS.some((c) => r[c] !== 0));
  if (list.length === 0) return;
  const col = <T>(f: (r: (typeof list)[number]) => T): T[] => list.map(f);
  await sql`
    insert into rollout_progress as p (rollout_id, level, step_id, kind, depth, slot, units, members, waiting, open, done, done_late, attended)
    select * from unnest(${col((r) => r.rolloutId)}::text[], ${col((r) => r.level)}::text[], ${col((r) => r.stepId)}::text[], ${col((r) => r.kind)}::text[],
                         ${col((r) => r.depth)}::int[], ${col((r) => r.slot)}::smallint[], ${col((r) => r.units)}::int[], ${col((r) => r.members)}::bigint[],
                         ${col((r) => r.waiting)}::int[], ${col((r) => r.open)}::int[], ${col((r) => r.done)}::int[], ${col((r) => r.done_late)}::int[], ${col((r) => r.attended)}::bigint[])
    on conflict (rollout_id, level, step_id, slot) do update set
      units = p.units + excluded.units, members = p.members + excluded.members, waiting = p.waiting + excluded.waiting, open = p.open + excluded.open,
      done = p.done + excluded.done, done_late = p.done_late + excluded.done_late, attended = p.attended + excluded.attended`.execute(trx);
}

// ---- many events at once ------------------------------------------------------------------------

/**
 * Event types projected set-based: each touches only its own unit's rows (and progress counters, which
 * add up in any order), so events of these types on different streams commute.
 */
const SET_BASED = new Set(['UnitEnrolled', 'StepOpened', 'DeadlineScheduled', 'DeadlineMissed', 'Escalated', 'ReminderSent', 'StepCompleted']);

/**
 * Project events in order, exactly as `project` one by one would — with a few statements per batch
 * rather than several per event. A run of set-based events is split into waves (the first of each
 * stream's events in the run, then the second, …); a wave holds one event per stream, so its events
 * commute, and each type in it is one set of statements. Any other event is projected alone, in its
 * place.
 */
export async function projectAll(trx: Transaction<Database>, events: ReadonlyArray<AnyNewEvent>): Promise<void> {
  let run: AnyNewEvent[] = [];
  const flush = async (): Promise<void> => {
    if (run.length === 1) await project(trx, run[0]!);
    else if (run.length > 1) {
      const waves: AnyNewEvent[][] = [];
      const nth = new Map<string, number>();
      for (const e of run) {
        const n = nth.get(e.streamId) ?? 0;
        nth.set(e.streamId, n + 1);
        (waves[n] ??= []).push(e);
      }
      for (const wave of waves) {
        const byType = new Map<string, AnyNewEvent[]>();
        for (const e of wave) byType.set(e.type, [...(byType.get(e.type) ?? []), e]);
        for (const [type, list] of byType) await (list.length === 1 ? project(trx, list[0]!) : projectSet(trx, type, list));
      }
    }
    run = [];
  };
  for (const e of events) {
    if (SET_BASED.has(e.type)) run.push(e);
    else {
      await flush();
      await project(trx, e);
    }
  }
  await flush();
}

type Of<T extends AnyNewEvent['type']> = Extract<AnyNewEvent, { type: T }>;

/** One set of statements for events of one type, each on its own stream. */
async function projectSet(trx: Transaction<Database>, type: string, events: ReadonlyArray<AnyNewEvent>): Promise<void> {
  const rid = (e: AnyNewEvent): string => e.rolloutId ?? '';
  const unit = (e: AnyNewEvent): string => e.unitCode ?? '';
  switch (type) {
    case 'UnitEnrolled': {
      const list = events as ReadonlyArray<Of<'UnitEnrolled'>>;
      await trx
        .insertInto('rollout_units')
        .values(
          list.map((e) => ({
            rollout_id: rid(e),
            unit_code: e.payload.unit.code,
            name: e.payload.unit.name,
            level: e.payload.unit.level,
            parent_code: e.payload.unit.parent,
            members: e.payload.unit.members,
            standing_committee: e.payload.unit.standingCommittee,
            depth: e.payload.ancestors.length,
            ancestors: JSON.stringify(e.payload.ancestors),
            children: e.payload.children,
            status: 'active',
            enrolled_at: e.occurredAt,
            completed_at: null,
          })),
        )
        .execute();
      const steps = list.flatMap((e) => e.payload.steps.map((st) => ({ e, st })));
      if (steps.length === 0) return;
      await trx
        .insertInto('unit_steps')
        .values(
          steps.map(({ e, st }) => ({
            rollout_id: rid(e),
            unit_code: e.payload.unit.code,
            step_key: st.key,
            step_id: st.stepId,
            kind: st.kind,
            occurrence: st.occurrence,
            status: st.status,
            due_at: st.dueAt,
            original_due_at: st.dueAt,
            opened_at: st.status === 'open' ? e.occurredAt : null,
            completed_at: null,
            late_by_ms: null,
            document_text: null,
            document_date: null,
            last_report_at: null,
            last_report: null,
          })),
        )
        .execute();
      await bumpProgress(
        trx,
        steps.map(({ e, st }) => ({
          rolloutId: rid(e),
          level: e.payload.unit.level,
          stepId: st.stepId,
          kind: st.kind,
          depth: e.payload.ancestors.length,
          slot: slotOf(e.payload.unit.code),
          units: 1,
          members: e.payload.unit.members,
          waiting: st.status === 'waiting' ? 1 : 0,
          open: st.status === 'open' ? 1 : 0,
        })),
      );
      return;
    }
    case 'StepOpened': {
      const list = events as ReadonlyArray<Of<'StepOpened'>>;
      const before = await stepsOf(
        trx,
        list.map((e) => ({ rid: rid(e), unit: unit(e), key: e.payload.key })),
      );
      await bumpProgress(
        trx,
        before.filter((b) => b.status === 'waiting').map((b) => ({ ...progressRow(b), waiting: -1, open: 1 })),
      );
      await sql`
        update unit_steps s set status = 'open', opened_at = i.at, due_at = coalesce(s.due_at, i.due), original_due_at = coalesce(s.original_due_at, i.due)
          from unnest(${list.map(rid)}::text[], ${list.map(unit)}::text[], ${list.map((e) => e.payload.key)}::text[], ${list.map((e) => e.occurredAt)}::timestamptz[],
                      ${list.map((e) => e.payload.dueAt ?? null)}::timestamptz[]) as i(rid, unit, key, at, due)
         where s.rollout_id = i.rid and s.unit_code = i.unit and s.step_key = i.key`.execute(trx);
      return;
    }
    case 'DeadlineScheduled': {
      const list = events as ReadonlyArray<Of<'DeadlineScheduled'>>;
      await sql`
        update unit_steps s set due_at = i.due, original_due_at = i.due
          from unnest(${list.map(rid)}::text[], ${list.map(unit)}::text[], ${list.map((e) => e.payload.key)}::text[], ${list.map((e) => e.payload.dueAt)}::timestamptz[]) as i(rid, unit, key, due)
         where s.rollout_id = i.rid and s.unit_code = i.unit and s.step_key = i.key`.execute(trx);
      return;
    }
    case 'DeadlineMissed': {
      const list = events as ReadonlyArray<Of<'DeadlineMissed'>>;
      await sql`
        update unit_steps s set missed = true, due_at = i.due
          from unnest(${list.map(rid)}::text[], ${list.map(unit)}::text[], ${list.map((e) => e.payload.key)}::text[], ${list.map((e) => e.payload.dueAt)}::timestamptz[]) as i(rid, unit, key, due)
         where s.rollout_id = i.rid and s.unit_code = i.unit and s.step_key = i.key`.execute(trx);
      return;
    }
    case 'ReminderSent': {
      const list = events as ReadonlyArray<Of<'ReminderSent'>>;
      await sql`
        update unit_steps s set reminders_sent = s.reminders_sent + 1
          from unnest(${list.map(rid)}::text[], ${list.map(unit)}::text[], ${list.map((e) => e.payload.key)}::text[]) as i(rid, unit, key)
         where s.rollout_id = i.rid and s.unit_code = i.unit and s.step_key = i.key`.execute(trx);
      return;
    }
    case 'Escalated': {
      const list = events as ReadonlyArray<Of<'Escalated'>>;
      await trx
        .insertInto('escalations')
        .values(
          list.map((e) => ({
            escalation_id: e.payload.escalationId,
            rollout_id: rid(e),
            unit_code: unit(e),
            step_key: e.payload.key,
            tier: e.payload.tier,
            recipient_code: e.payload.recipient.code,
            recipient_name: e.payload.recipient.name,
            self: e.payload.self,
            due_at: e.payload.dueAt,
            opened_at: e.occurredAt,
            status: 'open',
            resolution: null,
            resolved_at: null,
            resolved_by: null,
            late_by_ms: null,
          })),
        )
        .execute();
      return;
    }
    case 'StepCompleted': {
      const list = events as ReadonlyArray<Of<'StepCompleted'>>;
      const before = await stepsOf(
        trx,
        list.map((e) => ({ rid: rid(e), unit: unit(e), key: e.payload.key })),
      );
      const late = new Map(list.map((e) => [`${rid(e)}\u0000${unit(e)}\u0000${e.payload.key}`, e.payload.lateByMs > 0]));
      await bumpProgress(
        trx,
        before.filter((b) => b.status !== 'done').map((b) => ({ ...progressRow(b), [b.status]: -1, done: 1, done_late: late.get(`${b.rid}\u0000${b.unit}\u0000${b.key}`) ? 1 : 0 })),
      );
      await sql`
        update unit_steps s set status = 'done', completed_at = i.at, late_by_ms = i.late
          from unnest(${list.map(rid)}::text[], ${list.map(unit)}::text[], ${list.map((e) => e.payload.key)}::text[], ${list.map((e) => e.occurredAt)}::timestamptz[],
                      ${list.map((e) => String(e.payload.lateByMs))}::bigint[]) as i(rid, unit, key, at, late)
         where s.rollout_id = i.rid and s.unit_code = i.unit and s.step_key = i.key`.execute(trx);
      const resolved = list.flatMap((e) => e.payload.resolvedEscalations.map((id) => ({ id, e })));
      if (resolved.length)
        await sql`
          update escalations x set status = 'resolved', resolution = 'completed', resolved_at = i.at, resolved_by = i.actor, late_by_ms = i.late
            from unnest(${resolved.map((r) => r.id)}::text[], ${resolved.map((r) => r.e.occurredAt)}::timestamptz[], ${resolved.map((r) => r.e.actor)}::text[],
                        ${resolved.map((r) => String(r.e.payload.lateByMs))}::bigint[]) as i(id, at, actor, late)
           where x.escalation_id = i.id`.execute(trx);
      return;
    }
    default:
      for (const e of events) await project(trx, e);
  }
}

interface StepBefore {
  rid: string;
  unit: string;
  key: string;
  status: string;
  step_id: string;
  kind: string;
  level: string;
  depth: number;
}

/** The steps as they are before a set of events changes them, with what their counters are keyed by. */
async function stepsOf(trx: Transaction<Database>, refs: ReadonlyArray<{ rid: string; unit: string; key: string }>): Promise<StepBefore[]> {
  const { rows } = await sql<StepBefore>`
    select s.rollout_id as rid, s.unit_code as unit, s.step_key as key, s.status, s.step_id, s.kind, u.level, u.depth
      from unnest(${refs.map((r) => r.rid)}::text[], ${refs.map((r) => r.unit)}::text[], ${refs.map((r) => r.key)}::text[]) as i(rid, unit, key)
      join unit_steps s on s.rollout_id = i.rid and s.unit_code = i.unit and s.step_key = i.key
      join rollout_units u on u.rollout_id = s.rollout_id and u.unit_code = s.unit_code`.execute(trx);
  return rows;
}

const progressRow = (b: StepBefore): ProgressMove => ({ rolloutId: b.rid, level: b.level, stepId: b.step_id, kind: b.kind, depth: b.depth, slot: slotOf(b.unit) });
