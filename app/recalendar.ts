/**
 * A new calendar for a running rollout (issue 10, `recalendar`): which deadlines would move, per
 * running unit, and the change one unit's workflow takes. The preview runs the same pure rule as the
 * unit workflow (workflows/changes/recalendar.ts) on the read model and the plan, so what it shows is
 * what applying does (up to a unit's state moving between the preview and the change). Applying to
 * every unit is a batch (the lead's batch workflow sends `recalendarChange` to each).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database';
import { pinCalendar, type PinnedCalendar } from '../domain/calendar';
import type { UnitChangeInput } from '../domain/changes';
import { DomainError } from '../domain/errors';
import { Plan, type StepKind } from '../domain/plan';
import { evaluateRecalendar } from '../workflows/changes/recalendar';
import type { StepInstance, UnitContext } from '../workflows/unit-state';
import { calendarVersion, latestCalendar } from '../db/calendars';
import { instantOrNull } from './views';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Text } from '../domain/text';
import { OFFICIAL_VIETNAM_CALENDAR_ID as DEFAULT_CALENDAR } from '../domain/calendar';
import { getBatch } from '../db/batches';
import { DecisionEnvelope, confirmFingerprint } from '../domain/batches';
import { createBatch, type BatchStarted } from './batches';
import { newRequestId, type Deps } from './commands';

/** The pinned form of a stored (or built-in) calendar version: the newest unless `version`. */
export async function pinnedCalendarVersion(db: Kysely<Database>, calendarId: string, version?: number): Promise<PinnedCalendar> {
  const v = version === undefined ? await latestCalendar(db, calendarId) : await calendarVersion(db, calendarId, version);
  if (!v) throw DomainError.notFound('calendar', `no calendar "${calendarId}"${version === undefined ? '' : ` version ${version}`}`);
  return pinCalendar(v.calendar);
}

/** The `recalendar` change for one unit (send it with changeUnit, or from a batch). */
export function recalendarChange(calendar: PinnedCalendar, decision: { requestId: string; decidedBy: string; reason: string; batchId?: string }): UnitChangeInput {
  return { op: 'recalendar', ...decision, calendar };
}

export interface RecalendarPreview {
  rolloutId: string;
  calendar: { id: string; version: number };
  units: Array<{ unitCode: string; moved: Array<{ key: string; previousDueAt: string; newDueAt: string }>; keptExtensions: string[] }>;
  /** Running units with nothing to move. */
  unchanged: number;
}

/**
 * Which deadlines of each running unit of a rollout would move under `calendar`. Nothing changes.
 * @throws DomainError (`not_found`) for an unknown rollout
 */
export async function previewRecalendar(db: Kysely<Database>, rolloutId: string, calendar: PinnedCalendar): Promise<RecalendarPreview> {
  const rollout = await db.selectFrom('rollouts').selectAll().where('rollout_id', '=', rolloutId).executeTakeFirst();
  if (!rollout) throw DomainError.notFound('rolloutId', `no rollout "${rolloutId}"`);
  // The plan the rollout runs now: the projection keeps rollouts.plan at its latest version (RolloutAmended).
  const plan = Plan.parse(rollout.plan);
  const units = await db.selectFrom('rollout_units').selectAll().where('rollout_id', '=', rolloutId).where('status', '=', 'active').orderBy('unit_code').execute();
  const steps = await db.selectFrom('unit_steps').selectAll().where('rollout_id', '=', rolloutId).execute();
  const stepsOf = new Map<string, typeof steps>();
  for (const s of steps) (stepsOf.get(s.unit_code) ?? stepsOf.set(s.unit_code, []).get(s.unit_code)!).push(s);
  const completedKinds = (code: string | null): Partial<Record<StepKind, number>> => {
    const out: Partial<Record<StepKind, number>> = {};
    if (!code) return out;
    const mine = stepsOf.get(code) ?? [];
    for (const kind of new Set(mine.map((s) => s.kind as StepKind))) {
      const of = mine.filter((s) => s.kind === kind);
      if (of.every((s) => s.status === 'done' && s.completed_at)) out[kind] = Math.max(...of.map((s) => new Date(s.completed_at!).getTime()));
    }
    return out;
  };
  const now = Date.now();
  const out: RecalendarPreview = { rolloutId, calendar: { id: calendar.id, version: calendar.version }, units: [], unchanged: 0 };
  for (const u of units) {
    const ctx: UnitContext = {
      rolloutId,
      unit: { code: u.unit_code, name: u.name, level: u.level, parent: u.parent_code, members: u.members, standingCommittee: u.standing_committee },
      ancestors: u.ancestors,
      plan,
      rolloutStartedAt: new Date(rollout.started_at).getTime(),
      childCount: u.children,
    };
    const instances: StepInstance[] = (stepsOf.get(u.unit_code) ?? [])
      .filter((s) => s.status !== 'cancelled' && plan.steps.some((p) => p.id === s.step_id))
      .map((s) => ({
        key: s.step_key,
        stepId: s.step_id,
        kind: s.kind as StepKind,
        occurrence: s.occurrence,
        status: s.status === 'cancelled' ? 'done' : s.status,
        dueAt: s.due_at ? new Date(s.due_at).getTime() : null,
        timersDone: 0,
        missed: s.missed,
        openEscalations: [],
        attended: s.attended,
        completedAt: s.completed_at ? new Date(s.completed_at).getTime() : null,
        lateByMs: null,
        documentDate: s.document_date,
        ...(s.extensions > 0 ? { extended: true } : {}),
      }));
    const eff = evaluateRecalendar(ctx, instances, calendar, { now, parentCompleted: completedKinds(u.parent_code) });
    if (!eff.changed && eff.keptExtensions.length === 0) {
      out.unchanged += 1;
      continue;
    }
    out.units.push({
      unitCode: u.unit_code,
      moved: eff.moved.map((m) => ({ key: m.key, previousDueAt: instantOrNull(m.previousDueAt)!, newDueAt: instantOrNull(m.newDueAt)! })),
      keptExtensions: eff.keptExtensions,
    });
  }
  return out;
}

export const RecalendarRequest = z.strictObject({
  /** The calendar to apply (default: the official one) and its version (default: its newest). */
  calendarId: Text({ max: 100 }).default(DEFAULT_CALENDAR),
  version: z.number().int().min(1).optional(),
  ...DecisionEnvelope,
});
export type RecalendarRequest = z.input<typeof RecalendarRequest>;

/** The preview of a calendar change for a rollout, with the fingerprint that confirms it. */
export async function previewRollout(db: Kysely<Database>, rolloutId: string, input: RecalendarRequest): Promise<RecalendarPreview & { fingerprint: string }> {
  const parsed = RecalendarRequest.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const calendar = await pinnedCalendarVersion(db, parsed.data.calendarId, parsed.data.version);
  const preview = await previewRecalendar(db, rolloutId, calendar);
  return { ...preview, fingerprint: createHash('sha256').update(JSON.stringify(preview)).digest('hex') };
}

/**
 * Apply a previewed calendar change to every running unit of the rollout (a batch of `recalendar`
 * changes): each unit moves its working-day deadlines (DeadlineReprojected, old and new date, both
 * calendar versions) and counts on the new calendar from then on, also for deadlines not known yet.
 */
export async function applyCalendar(deps: Deps, rolloutId: string, input: RecalendarRequest): Promise<BatchStarted> {
  const parsed = RecalendarRequest.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const req = parsed.data;
  if (req.batchId) {
    const b = await getBatch(deps.db, req.batchId);
    if (b) return { batchId: b.batch_id, rolloutId, units: b.units, alreadyStarted: true };
  }
  const preview = await previewRollout(deps.db, rolloutId, input);
  confirmFingerprint(req.fingerprint, preview.fingerprint, "the rollout's deadlines or the calendar changed");
  const calendar = await pinnedCalendarVersion(deps.db, req.calendarId, req.version);
  const units = await deps.db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', rolloutId).where('status', '=', 'active').orderBy('depth').orderBy('unit_code').execute();
  if (!units.length) throw DomainError.conflict('rolloutId', `rollout ${rolloutId} has no running unit`);
  return createBatch(deps, {
    batchId: req.batchId ?? newRequestId('recalendar'),
    rolloutId,
    action: 'recalendar',
    params: { calendar },
    filter: { all: 'running units' },
    committee: null,
    decidedBy: req.decidedBy,
    reason: req.reason,
    codes: units.map((u) => u.unit_code),
  });
}
