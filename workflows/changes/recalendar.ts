/**
 * A new holiday calendar for ONE running unit (issue 10, the `recalendar` change of domain/changes.ts):
 * the pure rule, kept apart from the unit workflow so that a preview (app/recalendar.ts) can run it
 * for every unit of a rollout without changing anything, and so that it is unit tested without Temporal.
 *
 * - Every instance not done whose deadline is known and whose rule counts working days
 *   (`workingDays` on an `afterStart` / `afterParentStep` rule) gets its deadline computed again
 *   under the new calendar, from the same anchor (the rollout start, the parent's completion).
 * - An instance a committee extended (`extended`) keeps the committee's date: the extension was a
 *   decision about a date, not about a count of working days.
 * - Absolute deadlines and deadlines in calendar days never move; deadlines not known yet will be
 *   computed under the new calendar when their anchor arrives.
 * - Timers are derived again as an amendment does (amend.ts): a deadline moved to the future is no
 *   longer missed and its open escalations are resolved; otherwise nothing handled fires again and
 *   reminders already past are skipped.
 *
 * The unit adopts the new calendar even when no deadline moves (its later deadlines count on it).
 *
 * Pure and deterministic (workflow code): `now` is workflow time; nothing passed in is mutated.
 */
import type { PinnedCalendar } from '../../domain/calendar';
import type { StepKind } from '../../domain/plan';
import { holidaysOf, planStep, resolveDueDates, type StepInstance, type UnitContext } from '../unit-state';
import { handledEntries, handledPrefix, type MovedInstance } from './amend';

/** What the caller knows besides the unit's state. */
export interface RecalendarOptions {
  /** Workflow time. */
  now: number;
  /** When the parent unit completed its steps of each kind (what cascade deadlines are anchored on). */
  parentCompleted: Partial<Record<StepKind, number>>;
}

/** What a new calendar does to one unit. */
export interface RecalendarEffect {
  /** The unit's context with the new calendar (the input context is unchanged). */
  ctx: UnitContext;
  /** The unit's step instances after the change (fresh objects). */
  steps: StepInstance[];
  /** Deadlines that moved, in step order (instants; both known). */
  moved: Array<MovedInstance & { previousDueAt: number; newDueAt: number }>;
  /** Keys of extended instances whose working-day rule would have moved them: they keep the committee's date. */
  keptExtensions: string[];
  /** Escalations that no longer stand (of a deadline moved to the future). */
  resolvedEscalations: string[];
  /** False when no deadline moves. */
  changed: boolean;
}

/** Does this instance's deadline rule count working days? */
export function countsWorkingDays(ctx: UnitContext, inst: Pick<StepInstance, 'stepId'>): boolean {
  const rule = planStep(ctx.plan, inst.stepId).deadline;
  return rule.kind !== 'absolute' && rule.workingDays !== undefined;
}

/**
 * What adopting `calendar` does to one unit, without applying it.
 */
export function evaluateRecalendar(ctx: UnitContext, steps: ReadonlyArray<StepInstance>, calendar: PinnedCalendar, opts: RecalendarOptions): RecalendarEffect {
  const next: UnitContext = { ...ctx, calendar };
  const holidays = holidaysOf(next, next.plan);
  const moved: RecalendarEffect['moved'] = [];
  const keptExtensions: string[] = [];
  const resolvedEscalations: string[] = [];
  const out = steps.map((inst) => {
    const c: StepInstance = { ...inst, openEscalations: [...inst.openEscalations] };
    if (inst.acknowledged) c.acknowledged = [...inst.acknowledged];
    return c;
  });
  for (const inst of out) {
    if (inst.status === 'done' || inst.dueAt === null || !countsWorkingDays(ctx, inst)) continue;
    const probe: StepInstance = { ...inst, dueAt: null };
    resolveDueDates(next, [probe], opts.parentCompleted, holidays);
    const byRule = probe.dueAt;
    if (byRule === null || byRule === inst.dueAt) continue;
    if (inst.extended) {
      keptExtensions.push(inst.key);
      continue;
    }
    const step = planStep(ctx.plan, inst.stepId);
    const handled = handledEntries(step, inst);
    moved.push({ key: inst.key, previousDueAt: inst.dueAt, newDueAt: byRule });
    inst.dueAt = byRule;
    if (byRule > opts.now) {
      // As an extension does: the step is no longer overdue and its escalations no longer stand.
      inst.missed = false;
      resolvedEscalations.push(...inst.openEscalations);
      inst.openEscalations = [];
      if (inst.acknowledged) inst.acknowledged = [];
      inst.timersDone = handledPrefix(step, byRule, new Set(), opts.now);
    } else {
      inst.timersDone = handledPrefix(step, byRule, handled, opts.now);
    }
  }
  return { ctx: next, steps: out, moved, keptExtensions, resolvedEscalations, changed: moved.length > 0 };
}
