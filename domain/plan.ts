/**
 * Plans are data: a plan lists the steps every unit of a rollout must carry out, which levels each
 * step applies to, its deadline rule, reminders and escalation policy. The rollout pins the plan it
 * started with (it is part of the RolloutStarted event).
 *
 * Deadline arithmetic itself lives in `deadlines.ts` (rules → instants) and `time.ts` (the calendar).
 */
import { LevelCode, UnitCode } from './codes';
import { Text } from './text';
import { z } from 'zod';
import { DomainError } from './errors';
import { LocalDate, MAX_DURATION_YEARS, approximateDays, parseDeadlineText, parseDuration, type Duration } from './time';
import { DOCUMENT_TYPES } from './documents';

/** The kinds of step the brief names (bước triển khai). */
export const StepKind = z.enum(['studyConference', 'draftPlan', 'issuePlan', 'supervise', 'periodicReport', 'review']);
export type StepKind = z.infer<typeof StepKind>;

const StepId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'a step id is lowercase letters, digits and dashes, e.g. "issue-province"')
  .max(40);

const DurationText = z.string().superRefine((text, ctx) => {
  try {
    parseDuration(text);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
  }
});

const DeadlineText = z.string().superRefine((text, ctx) => {
  try {
    parseDeadlineText(text);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
  }
});

/**
 * How far after an anchor a relative deadline falls. Exactly one of:
 * - `after`: an ISO-8601 duration. Date-only durations (P30D, P1M) end at the end of that local day
 *   ("30 days after the province issues its plan"); durations with a time part (PT5M) are exact,
 *   which is what demos and tests use.
 * - `workingDays`: the end of the n-th working day after the anchor (weekends and holidays skipped).
 */
const RelativeOffset = {
  after: DurationText.optional(),
  workingDays: z.number().int().min(1).max(366).optional(),
};

function exactlyOneOffset(rule: { after?: string | undefined; workingDays?: number | undefined }, ctx: z.RefinementCtx): void {
  const n = Number(rule.after !== undefined) + Number(rule.workingDays !== undefined);
  if (n !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of "after" (an ISO duration such as "P30D") or "workingDays"' });
}

/** A deadline rule: absolute, relative to the rollout's start, or relative to the parent unit completing a step (the cascade). */
export const DeadlineRule = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('absolute'), at: DeadlineText }),
  z.strictObject({ kind: z.literal('afterStart'), ...RelativeOffset }).superRefine(exactlyOneOffset),
  z.strictObject({ kind: z.literal('afterParentStep'), stepKind: StepKind, ...RelativeOffset }).superRefine(exactlyOneOffset),
]);
export type DeadlineRule = z.infer<typeof DeadlineRule>;

/** Escalation policy: tier 1 goes out when the deadline passes, each later tier `interval` after the previous one. */
export const EscalationPolicy = z.strictObject({
  tiers: z.number().int().min(1).max(5).default(2),
  interval: DurationText.default('P7D'),
});
export type EscalationPolicy = z.infer<typeof EscalationPolicy>;

/** Recurring steps (periodic reports, supervision, reviews): occurrence k is due `k × every` after the first deadline. */
export const Schedule = z
  .strictObject({
    every: DurationText,
    count: z.number().int().min(1).max(100),
  })
  .superRefine((sch, ctx) => {
    // Every occurrence must fall within the longest span a plan may use.
    try {
      const d = parseDuration(sch.every);
      if (approximateDays(d) * sch.count > MAX_DURATION_YEARS * 366)
        ctx.addIssue({ code: 'custom', path: ['count'], message: `${sch.count} occurrences every ${sch.every} run past ${MAX_DURATION_YEARS} years (the longest span a plan may use)` });
    } catch {
      // `every` itself is reported by its own check.
    }
  });
export type Schedule = z.infer<typeof Schedule>;

export const PlanStep = z.strictObject({
  id: StepId,
  kind: StepKind,
  title: Text({ max: 500 }),
  /** Levels this step applies to; omitted means every level. */
  levels: z.array(LevelCode).min(1).optional(),
  /** Steps of the same unit that must be done before this one can be reported (steps that do not apply to the unit's level are ignored). */
  requires: z.array(StepId).default([]),
  /**
   * The cascade: the step opens only when the parent unit has completed its step(s) of this kind
   * (a lower level builds its plan on its parent's). A root unit has no parent: it is open at start.
   * Defaults to the deadline rule's stepKind for `afterParentStep` deadlines.
   */
  opensAfterParent: StepKind.optional(),
  deadline: DeadlineRule,
  /** Reminders before the deadline, as ISO durations (P7D = a week before). */
  reminders: z.array(DurationText).default(['P7D', 'P1D']),
  escalation: EscalationPolicy.default({ tiers: 2, interval: 'P7D' }),
  /** Study conferences: the share of members who must have attended (1 = 100%). */
  target: z.number().gt(0).max(1).optional(),
  /** Document types accepted when the step is completed by issuing a document. */
  documentTypes: z.array(z.string()).optional(),
  schedule: Schedule.optional(),
});
export type PlanStep = z.infer<typeof PlanStep>;

export const Plan = z
  .strictObject({
    id: UnitCode.describe('the plan id: the same grammar as a unit code'),
    title: Text({ max: 500 }),
    /** Extra non-working days on top of Vietnam's public holidays (for working-day deadlines). */
    holidays: z.array(LocalDate).default([]),
    steps: z.array(PlanStep).min(1),
  })
  .superRefine((plan, ctx) => {
    const ids = new Map<string, number>();
    plan.steps.forEach((s, i) => {
      const prev = ids.get(s.id);
      if (prev !== undefined) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id "${s.id}" (also steps[${prev}])` });
      ids.set(s.id, i);
    });
    plan.steps.forEach((s, i) => {
      s.requires.forEach((r, j) => {
        if (!ids.has(r)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'requires', j], message: `unknown step "${r}" (steps are: ${[...ids.keys()].join(', ')})` });
        if (r === s.id) ctx.addIssue({ code: 'custom', path: ['steps', i, 'requires', j], message: 'a step cannot require itself' });
      });
      if (s.kind === 'studyConference' && s.target === undefined) {
        // Default target is 100%: the brief says every member attends, make-up sessions included.
      }
      if (s.target !== undefined && s.kind !== 'studyConference') ctx.addIssue({ code: 'custom', path: ['steps', i, 'target'], message: 'only study conference steps have an attendance target' });
      if (s.schedule && !['periodicReport', 'supervise', 'review'].includes(s.kind))
        ctx.addIssue({ code: 'custom', path: ['steps', i, 'schedule'], message: 'only periodicReport, supervise and review steps recur' });
      for (const t of s.documentTypes ?? []) {
        if (!(t in DOCUMENT_TYPES))
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'documentTypes'], message: `unknown document type "${t}" (expected one of ${Object.keys(DOCUMENT_TYPES).join(', ')})` });
      }
    });
    const cycle = findRequiresCycle(plan.steps);
    if (cycle) ctx.addIssue({ code: 'custom', path: ['steps'], message: `steps require each other in a cycle: ${cycle.join(' → ')}` });
  });
export type Plan = z.infer<typeof Plan>;
export type PlanInput = z.input<typeof Plan>;

function findRequiresCycle(steps: ReadonlyArray<{ id: string; requires: string[] }>): string[] | undefined {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const r of byId.get(id)?.requires ?? []) {
      const c = visit(r);
      if (c) return c;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const s of steps) {
    const c = visit(s.id);
    if (c) return c;
  }
  return undefined;
}

/** Parse and validate a plan (from a file or API body); throws DomainError naming each bad field. */
export function parsePlan(input: unknown): Plan {
  const r = Plan.safeParse(input);
  if (!r.success) throw DomainError.fromZod('plan', r.error);
  return r.data;
}

export { acceptedDocumentTypes, cascadeKindOf, occurrenceCount, stepAppliesTo, studyTarget } from './plan-rules';
import { cascadeKindOf, stepAppliesTo } from './plan-rules';

/**
 * Check a plan against the levels of the hierarchy it will run on. Every level the plan names must
 * exist, and every cascade must be satisfiable: a step that waits for the parent's step of kind K at
 * level L needs the parents of L-units to have a step of kind K.
 *
 * @param parentLevels for each level, the levels its units' parents have (roots: empty set)
 */
export function validatePlanForHierarchy(plan: Plan, levels: ReadonlyArray<string>, parentLevels: ReadonlyMap<string, ReadonlySet<string>>): void {
  const issues: { path: string; message: string }[] = [];
  const known = new Set(levels);
  plan.steps.forEach((s, i) => {
    for (const l of s.levels ?? []) {
      if (!known.has(l)) issues.push({ path: `plan.steps[${i}].levels`, message: `step "${s.id}" names level "${l}", which the hierarchy does not have (levels: ${levels.join(', ')})` });
    }
  });
  plan.steps.forEach((s, i) => {
    const kind = cascadeKindOf(s);
    if (!kind) return;
    for (const level of s.levels ?? levels) {
      for (const pl of parentLevels.get(level) ?? []) {
        const parentHas = plan.steps.some((p) => p.kind === kind && stepAppliesTo(p, pl));
        if (!parentHas)
          issues.push({
            path: `plan.steps[${i}]`,
            message: `step "${s.id}" waits for the parent's ${kind} step, but units at level "${level}" have parents at level "${pl}" and no ${kind} step applies to "${pl}"`,
          });
      }
    }
  });
  if (!plan.steps.some((s) => levels.some((l) => stepAppliesTo(s, l)))) issues.push({ path: 'plan.steps', message: 'no step applies to any level of the hierarchy' });
  if (issues.length) throw new DomainError(issues);
}

/** Duration text → parsed, for callers that already validated the plan. */
export function planDuration(text: string): Duration {
  return parseDuration(text);
}
