/**
 * Applying an amended plan to ONE running unit (issue 10, the `amend` change of domain/changes.ts):
 * the pure rule, kept apart from the unit workflow so that a preview can run it for every unit of a
 * rollout without changing anything, and so that it can be unit tested without Temporal.
 *
 * What an amendment does to a unit's step instances, by the plan diff (domain/plan-diff.ts):
 *
 * - **Added**: a step that now applies to the unit's level (a new step, or one whose `levels` now
 *   include it) gets its instances, waiting, with deadlines resolved by the new plan's rules (a
 *   cascade deadline only once the parent has completed the step it is relative to). Opening them is
 *   left to the workflow's `openReady`, as at enrolment.
 * - **Removed**: a step that no longer applies (removed from the plan, or its `levels` no longer
 *   include the level) loses its instances — only if none of them has been started: each must be
 *   waiting, or open with nobody attended yet (any other report completes the step). Otherwise the
 *   whole amendment is refused for this unit, naming the step and the unit.
 * - **Moved**: a changed deadline rule (or a change of the plan's own holidays, for a working-day
 *   rule) recomputes the deadline of every instance not done, occurrences of a recurring step
 *   included. An instance a committee extended keeps its extension when `keepExtensions` (the
 *   default of the change) and the extension is later than what the new rule gives; a rule that now
 *   gives a later deadline than the extension wins, since the extension is no longer needed.
 * - **Retimed**: changed reminders or escalation (tiers, interval) re-derive how many timers of an
 *   instance are already handled, so that nothing that already fired fires again.
 * - **Done** instances never change.
 *
 * Timers after a change (`timersDone`): a deadline moved to the future is treated like an extension
 * (the step is no longer missed, its open escalations are resolved, reminders already past are
 * skipped). Otherwise an entry of the new timeline counts as handled when the same entry (the
 * reminder with that offset, the deadline, the escalation of that tier) was handled before, or when
 * it is a reminder whose time has passed. A deadline or escalation tier that never fired still fires
 * even if its new time is past: an amendment that moves a deadline into the past makes the step
 * overdue, and a shorter escalation interval sends the tier it now calls for.
 *
 * Known limit: an instance's state does not record the time it spent with its clock suspended, so a
 * deadline recomputed from a changed rule does not include an earlier suspension's shift.
 *
 * Pure and deterministic (workflow code): `now` is workflow time; nothing passed in is mutated.
 */
import { stepTimeline, type TimelineEntry } from '../../domain/deadlines';
import { DomainError, type DomainIssue } from '../../domain/errors';
import type { Plan, PlanStep, StepKind } from '../../domain/plan';
import { diffPlans, fieldChange, type PlanDiff } from '../../domain/plan-diff';
import type { HolidayCalendar } from '../../domain/time';
import { instancesFor, planStep, resolveDueDates, type StepInstance, type StepStatus, type UnitContext } from '../unit-state';

/** What the caller knows besides the unit's state. */
export interface AmendmentOptions {
  /** Keep a unit's own extension of a deadline the amendment moves (true), or set the deadline by the new rule (false). */
  keepExtensions: boolean;
  /** Workflow time. */
  now: number;
  /** When the parent unit completed its steps of each kind (what cascade deadlines are anchored on). */
  parentCompleted: Partial<Record<StepKind, number>>;
  /** The calendar working-day deadlines are counted on, built with the NEW plan's holidays. */
  holidays: HolidayCalendar;
}

/** A step instance the amendment added to the unit (the shape of the PlanAmended event's `added`, with an instant). */
export interface AddedInstance {
  key: string;
  stepId: string;
  kind: StepKind;
  occurrence: number;
  status: Exclude<StepStatus, 'done'>;
  dueAt: number | null;
}

/** A deadline the amendment moved (instants; the workflow formats them for the event). */
export interface MovedInstance {
  key: string;
  previousDueAt: number | null;
  newDueAt: number | null;
}

/** What an amendment does to one unit. */
export interface AmendmentEffect {
  /** The unit's context with the new plan (the input context is unchanged). */
  ctx: UnitContext;
  /** The new plan, as in `ctx.plan`. */
  plan: Plan;
  /** The unit's new step instances, in the new plan's order (fresh objects: the input list is unchanged). */
  steps: StepInstance[];
  added: AddedInstance[];
  /** Keys of the instances removed. */
  removed: string[];
  moved: MovedInstance[];
  /** Keys of instances whose reminders or escalation changed without their deadline moving. */
  retimed: string[];
  /** Keys of instances whose own extension was kept over the amended rule. */
  keptExtensions: string[];
  /**
   * Escalations that no longer stand: those of a removed instance, and those of an instance whose
   * deadline moved to the future (as an extension resolves them). The workflow resolves them.
   */
  resolvedEscalations: string[];
  /** The plan diff the effect was derived from (the same for every unit). */
  diff: PlanDiff;
  /**
   * False when the amendment changes nothing about this unit's steps (it concerns other levels,
   * or only the plan's title): the workflow adopts the plan and records nothing. True when anything
   * above is non-empty or any field of one of the unit's steps changed (a title, a requirement).
   */
  changed: boolean;
}

/** Has anyone started on this instance? (Waiting, or open with nobody attended yet, is not started.) */
export function instanceStarted(inst: StepInstance): boolean {
  if (inst.status === 'done') return true;
  return inst.attended > 0 || inst.completedAt !== null || inst.documentDate !== null;
}

/**
 * What applying `newPlan` does to one unit, without applying it.
 *
 * @throws DomainError (`invalid`) when the plan diff itself is refused (a step's kind or schedule changed)
 * @throws DomainError (`conflict`) when the amendment would remove a step the unit has started, naming the step and the unit
 */
export function evaluateAmendment(ctx: UnitContext, steps: ReadonlyArray<StepInstance>, newPlan: Plan, opts: AmendmentOptions): AmendmentEffect {
  const diff = diffPlans(ctx.plan, newPlan);
  const next: UnitContext = { ...ctx, plan: newPlan };
  const changedSteps = new Map(diff.changed.map((c) => [c.stepId, c]));
  const wanted = instancesFor(newPlan, ctx.unit.level);
  const wantedKeys = new Set(wanted.map((w) => w.key));
  const existing = new Map(steps.map((s) => [s.key, s]));

  const removed: string[] = [];
  const resolvedEscalations: string[] = [];
  const refusals: DomainIssue[] = [];
  for (const inst of steps) {
    if (wantedKeys.has(inst.key)) continue;
    if (instanceStarted(inst)) {
      refusals.push({
        path: removalPath(newPlan, inst.stepId),
        message: `step ${inst.key} has been started by unit ${ctx.unit.code} (${ctx.unit.name}): ${startedHow(inst)}; it cannot be removed`,
      });
    } else {
      removed.push(inst.key);
      resolvedEscalations.push(...inst.openEscalations);
    }
  }
  if (refusals.length) throw new DomainError(refusals, 'conflict');

  const added: AddedInstance[] = [];
  const moved: MovedInstance[] = [];
  const retimed: string[] = [];
  const keptExtensions: string[] = [];
  let touched = false;
  const out: StepInstance[] = [];
  for (const fresh of wanted) {
    const old = existing.get(fresh.key);
    const newStep = planStep(newPlan, fresh.stepId);
    if (!old) {
      const inst = { ...fresh };
      inst.dueAt = ruleDueAt(next, inst, opts);
      if (inst.dueAt !== null) inst.timersDone = handledPrefix(newStep, inst.dueAt, new Set(), opts.now);
      out.push(inst);
      added.push({ key: inst.key, stepId: inst.stepId, kind: inst.kind, occurrence: inst.occurrence, status: 'waiting', dueAt: inst.dueAt });
      continue;
    }
    const inst = copyInstance(old);
    out.push(inst);
    const change = changedSteps.get(inst.stepId);
    if (change) touched = true;
    if (inst.status === 'done') continue;
    const oldStep = planStep(ctx.plan, inst.stepId);
    const ruleChanged = fieldChange(change, 'deadline') !== undefined || (diff.holidays !== undefined && newStep.deadline.kind !== 'absolute' && newStep.deadline.workingDays !== undefined);
    const timelineChanged = fieldChange(change, 'reminders') !== undefined || fieldChange(change, 'escalation') !== undefined;

    let newDueAt = inst.dueAt;
    if (ruleChanged) {
      const byRule = ruleDueAt(next, inst, opts);
      const keep = inst.extended === true && opts.keepExtensions && inst.dueAt !== null && (byRule === null || byRule < inst.dueAt);
      if (keep) {
        if (byRule !== inst.dueAt) keptExtensions.push(inst.key);
      } else {
        newDueAt = byRule;
      }
    }
    if (newDueAt !== inst.dueAt) {
      moved.push({ key: inst.key, previousDueAt: inst.dueAt, newDueAt });
      const handled = handledEntries(oldStep, inst);
      inst.dueAt = newDueAt;
      delete inst.extended;
      if (newDueAt === null || newDueAt > opts.now) {
        // As an extension does: the step is no longer overdue and its escalations no longer stand.
        inst.missed = false;
        resolvedEscalations.push(...inst.openEscalations);
        inst.openEscalations = [];
        if (inst.acknowledged) inst.acknowledged = [];
        inst.timersDone = newDueAt === null ? 0 : handledPrefix(newStep, newDueAt, new Set(), opts.now);
      } else {
        inst.timersDone = handledPrefix(newStep, newDueAt, handled, opts.now);
      }
    } else if (timelineChanged && inst.dueAt !== null) {
      inst.timersDone = handledPrefix(newStep, inst.dueAt, handledEntries(oldStep, inst), opts.now);
      retimed.push(inst.key);
    }
  }
  const changed = touched || added.length > 0 || removed.length > 0 || moved.length > 0 || retimed.length > 0 || keptExtensions.length > 0;
  return { ctx: next, plan: newPlan, steps: out, added, removed, moved, retimed, keptExtensions, resolvedEscalations, diff, changed };
}

/** Where a refused removal points: the step's `levels` when it is still in the plan, else the step list. */
function removalPath(plan: Plan, stepId: string): string {
  const i = plan.steps.findIndex((s) => s.id === stepId);
  return i >= 0 ? `plan.steps[${i}].levels` : 'plan.steps';
}

function startedHow(inst: StepInstance): string {
  if (inst.status === 'done') return 'it is completed';
  if (inst.attended > 0) return `${inst.attended} members have attended`;
  return 'it has been reported on';
}

function copyInstance(inst: StepInstance): StepInstance {
  const c: StepInstance = { ...inst, openEscalations: [...inst.openEscalations] };
  if (inst.acknowledged) c.acknowledged = [...inst.acknowledged];
  return c;
}

/** The instance's deadline by the (new) plan's rule, or null while its anchor is unknown (the same rule as at enrolment). */
function ruleDueAt(ctx: UnitContext, inst: StepInstance, opts: AmendmentOptions): number | null {
  const probe: StepInstance = { ...inst, dueAt: null };
  resolveDueDates(ctx, [probe], opts.parentCompleted, opts.holidays);
  return probe.dueAt;
}

/** What a timeline entry is, independent of its time: the reminder with that offset, the deadline, an escalation tier. */
function entryId(e: TimelineEntry): string {
  return e.action === 'remind' ? `remind:${e.offset}` : e.action === 'deadline' ? 'deadline' : `escalate:${e.tier}`;
}

/** The entries of the instance's current timeline (under the running plan) that have been handled. */
export function handledEntries(oldStep: PlanStep, inst: StepInstance): Set<string> {
  if (inst.dueAt === null) return new Set();
  return new Set(stepTimeline(oldStep, inst.dueAt).slice(0, inst.timersDone).map(entryId));
}

/**
 * How many leading entries of the new timeline count as handled: those handled before, and
 * reminders whose time has passed. The first deadline or escalation that has not fired, or the
 * first entry still in the future, ends the prefix (timers are handled in order).
 */
export function handledPrefix(step: Pick<PlanStep, 'reminders' | 'escalation'>, dueAt: number, handled: ReadonlySet<string>, now: number): number {
  const timeline = stepTimeline(step, dueAt);
  let n = 0;
  for (const e of timeline) {
    if (handled.has(entryId(e)) || (e.action === 'remind' && e.at <= now)) n++;
    else break;
  }
  return n;
}
