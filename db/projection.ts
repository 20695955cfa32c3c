/**
 * The read model is a pure function of the event log: each event updates it here, in the same
 * transaction as its append. Nothing else writes these tables, so they can be dropped and re-projected
 * from the events at any time.
 */
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
  const count = async (key: string, delta: Partial<Record<'units' | 'members' | 'waiting' | 'open' | 'done' | 'done_late' | 'attended', number>>): Promise<void> => {
    const row = await trx
      .selectFrom('unit_steps as s')
      .innerJoin('rollout_units as u', (j) => j.onRef('u.rollout_id', '=', 's.rollout_id').onRef('u.unit_code', '=', 's.unit_code'))
      .select(['u.level', 's.step_id'])
      .where('s.rollout_id', '=', rid)
      .where('s.unit_code', '=', unit)
      .where('s.step_key', '=', key)
      .executeTakeFirst();
    if (!row) return;
    const set: Record<string, unknown> = {};
    for (const [col, d] of Object.entries(delta)) if (d) set[col] = sql`${sql.ref(col)} + ${d}`;
    if (Object.keys(set).length === 0) return;
    await trx.updateTable('rollout_progress').set(set).where('rollout_id', '=', rid).where('level', '=', row.level).where('step_id', '=', row.step_id).execute();
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
    for (const st of steps) {
      await trx
        .insertInto('rollout_progress')
        .values({
          rollout_id: rid,
          level: u.level,
          step_id: st.stepId,
          kind: st.kind,
          depth: u.depth,
          units: 1,
          waiting: st.status === 'waiting' ? 1 : 0,
          open: st.status === 'open' ? 1 : 0,
          members: u.members,
        })
        .onConflict((oc) =>
          oc.columns(['rollout_id', 'level', 'step_id']).doUpdateSet((eb) => ({
            units: eb('rollout_progress.units', '+', 1),
            waiting: eb('rollout_progress.waiting', '+', st.status === 'waiting' ? 1 : 0),
            open: eb('rollout_progress.open', '+', st.status === 'open' ? 1 : 0),
            members: sql`rollout_progress.members + ${u.members}`,
          })),
        )
        .execute();
    }
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
