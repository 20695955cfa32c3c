/**
 * Deadline arithmetic, in one place: from a plan step's rule to instants, and from a deadline to the
 * timeline of reminders, the deadline itself and the escalation tiers. Pure and deterministic: the
 * unit workflow calls these with workflow time.
 *
 * All calendar reasoning is in Asia/Ho_Chi_Minh (see time.ts). "Within August 2022" is the end of
 * 31 Aug 2022 local time; a relative deadline of whole days ends at the end of that local day.
 */
import { addDuration, addWorkingDays, endOfLocalDay, isDateOnlyDuration, localDateOf, parseDeadlineText, parseDuration, subtractDuration } from './time';
import { type HolidayCalendar } from './time';
import { type DeadlineRule, type PlanStep, type StepKind } from './plan';

/** What a relative deadline can be anchored on. */
export interface DeadlineAnchors {
  /** When the rollout started (workflow time of the rollout workflow). */
  rolloutStartedAt: number;
  /** When the parent unit completed its step(s) of each kind; the root uses the rollout start. */
  parentCompletedAt: Partial<Record<StepKind, number>>;
  holidays: HolidayCalendar;
}

function applyOffset(anchor: number, rule: { after?: string | undefined; workingDays?: number | undefined }, holidays: HolidayCalendar): number {
  if (rule.workingDays !== undefined) {
    return endOfLocalDay(addWorkingDays(localDateOf(anchor), rule.workingDays, holidays)).getTime();
  }
  const d = parseDuration(rule.after ?? 'P0D');
  if (isDateOnlyDuration(d)) {
    // "30 days after" ends at the end of that local day, not at the anchor's wall-clock time.
    return endOfLocalDay(localDateOf(addDuration(new Date(anchor), d))).getTime();
  }
  return addDuration(new Date(anchor), d).getTime();
}

/**
 * The instant a rule's deadline falls at (overdue strictly after it), or undefined while the anchor
 * is not known yet (the parent has not completed the step the rule is relative to).
 */
export function resolveDeadline(rule: DeadlineRule, anchors: DeadlineAnchors): number | undefined {
  switch (rule.kind) {
    case 'absolute':
      return parseDeadlineText(rule.at).at.getTime();
    case 'afterStart':
      return applyOffset(anchors.rolloutStartedAt, rule, anchors.holidays);
    case 'afterParentStep': {
      const anchor = anchors.parentCompletedAt[rule.stepKind];
      return anchor === undefined ? undefined : applyOffset(anchor, rule, anchors.holidays);
    }
  }
}

/** Deadline of occurrence k (0-based) of a recurring step, given occurrence 0's deadline. */
export function occurrenceDeadline(step: PlanStep, firstDueAt: number, k: number): number {
  if (!step.schedule || k === 0) return firstDueAt;
  const every = parseDuration(step.schedule.every);
  let at = new Date(firstDueAt);
  for (let i = 0; i < k; i++) at = addDuration(at, every);
  return at.getTime();
}

/** One thing that happens to an unfinished step at a point in time. */
export type TimelineEntry = { at: number; action: 'remind'; index: number; offset: string } | { at: number; action: 'deadline' } | { at: number; action: 'escalate'; tier: number };

/**
 * The timers of one step instance around its deadline, in time order: reminders before it, the
 * deadline itself (overdue strictly after `dueAt`, so it fires 1 ms later), escalation tier 1 at the
 * same moment and each later tier one interval after the previous.
 */
export function stepTimeline(step: Pick<PlanStep, 'reminders' | 'escalation'>, dueAt: number): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  step.reminders.forEach((offset, index) => {
    entries.push({ at: subtractDuration(new Date(dueAt), parseDuration(offset)).getTime(), action: 'remind', index, offset });
  });
  const overdueAt = dueAt + 1;
  entries.push({ at: overdueAt, action: 'deadline' });
  const interval = parseDuration(step.escalation.interval);
  let at = new Date(overdueAt);
  for (let tier = 1; tier <= step.escalation.tiers; tier++) {
    entries.push({ at: at.getTime(), action: 'escalate', tier });
    at = addDuration(at, interval);
  }
  // Stable order: by time, reminders before the deadline before escalations at equal instants.
  const rank = { remind: 0, deadline: 1, escalate: 2 } as const;
  return entries.sort((a, b) => a.at - b.at || rank[a.action] - rank[b.action]);
}
