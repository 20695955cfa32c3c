/**
 * The state of one unit's rollout and the pure rules that change it. Kept apart from the workflow
 * body so that the rules (what opens a step, what a report must satisfy, what a timer does) can be
 * read — and unit tested — without Temporal.
 *
 * Everything here is deterministic: `now` is always passed in (workflow time).
 */
import { escalationId as buildEscalationId, parseEscalationId, stepKey } from '../domain/ids';
import { DomainError } from '../domain/errors';
import { occurrenceDeadline, resolveDeadline, stepTimeline, type TimelineEntry } from '../domain/deadlines';
import { committeesAbove, escalationRecipients, mayExtend } from '../domain/escalation';
import { parseDocumentNumber } from '../domain/documents';
import type { AncestorRef, DocumentFacts, UnitSnapshot } from '../domain/events';
import type { Plan, PlanStep, StepKind } from '../domain/plan';
import { acceptedDocumentTypes, cascadeKindOf, occurrenceCount, stepAppliesTo, studyTarget } from '../domain/plan-rules';
import type { ExtendDeadline, StepReport } from '../domain/reports';
import { pinnedHolidays, type PinnedCalendar } from '../domain/calendar';
import { vietnamHolidayCalendar } from '../domain/holidays';
import { formatLocal, formatLocalDate, localDateOf, parseDeadlineText, type HolidayCalendar } from '../domain/time';

/** What a unit workflow needs to know about itself, loaded once by an activity and carried across continue-as-new. */
export interface UnitContext {
  rolloutId: string;
  unit: UnitSnapshot;
  /** Nearest first. */
  ancestors: AncestorRef[];
  plan: Plan;
  rolloutStartedAt: number;
  childCount: number;
  /**
   * The holiday calendar working-day deadlines count on, pinned at enrolment (the newest version of
   * the default calendar) and replaced by a `recalendar` change. Absent in states recorded before
   * calendars were data: those units keep the legacy compiled-in set (`vietnamHolidayCalendar`).
   */
  calendar?: PinnedCalendar;
}

/** The working-day calendar of a unit under `plan`: its pinned calendar, else the legacy set, plus the plan's own days off. */
export function holidaysOf(ctx: Pick<UnitContext, 'calendar'>, plan: Pick<Plan, 'holidays'>): HolidayCalendar {
  return ctx.calendar ? pinnedHolidays(ctx.calendar, plan.holidays) : vietnamHolidayCalendar(plan.holidays);
}

export type StepStatus = 'waiting' | 'open' | 'done';

/** One step instance of this unit: a plan step, or one occurrence of a recurring step. */
export interface StepInstance {
  key: string;
  stepId: string;
  kind: StepKind;
  occurrence: number;
  status: StepStatus;
  /** Instant the deadline falls at (overdue strictly after), or null while unknown. */
  dueAt: number | null;
  /** How many entries of `stepTimeline(step, dueAt)` have been handled; reset by an extension. */
  timersDone: number;
  missed: boolean;
  openEscalations: string[];
  /** Open escalations the committee has acknowledged (absent in states recorded before acknowledgements existed). */
  acknowledged?: string[];
  attended: number;
  completedAt: number | null;
  lateByMs: number | null;
  /** The document a step was completed with (issue plan, review). */
  documentDate: string | null;
  /**
   * True once a committee extended this instance's deadline (absent in states recorded before plan
   * amendments existed, and cleared when an amendment sets the deadline from the plan's rule again):
   * an amendment that moves the deadline keeps the extension unless told to override it.
   */
  extended?: boolean;
}

export { stepKey };

/** The step instances of a unit at enrolment. */
export function instancesFor(plan: Plan, level: string): StepInstance[] {
  const out: StepInstance[] = [];
  for (const step of plan.steps) {
    if (!stepAppliesTo(step, level)) continue;
    const n = occurrenceCount(step);
    for (let k = 0; k < n; k++) {
      out.push({
        key: stepKey(step.id, k, step.schedule !== undefined),
        stepId: step.id,
        kind: step.kind,
        occurrence: k,
        status: 'waiting',
        dueAt: null,
        timersDone: 0,
        missed: false,
        openEscalations: [],
        attended: 0,
        completedAt: null,
        lateByMs: null,
        documentDate: null,
      });
    }
  }
  return out;
}

export function planStep(plan: Plan, stepId: string): PlanStep {
  const s = plan.steps.find((p) => p.id === stepId);
  if (!s) throw new Error(`plan has no step ${stepId}`);
  return s;
}

/**
 * Fill in deadlines that have become computable (absolute and start-relative ones at once; the
 * cascade ones when the parent completes).
 */
export function resolveDueDates(ctx: UnitContext, steps: StepInstance[], parentCompleted: Partial<Record<StepKind, number>>, holidays: HolidayCalendar): void {
  const isRoot = ctx.ancestors.length === 0;
  for (const inst of steps) {
    if (inst.dueAt !== null) continue;
    const step = planStep(ctx.plan, inst.stepId);
    // The root has no parent: a rule relative to the parent's step is anchored on the rollout start.
    const anchors = {
      rolloutStartedAt: ctx.rolloutStartedAt,
      parentCompletedAt: isRoot ? allKinds(ctx.rolloutStartedAt) : parentCompleted,
      holidays,
    };
    const first = resolveDeadline(step.deadline, anchors);
    if (first !== undefined) inst.dueAt = occurrenceDeadline(step, first, inst.occurrence);
  }
}

function allKinds(at: number): Partial<Record<StepKind, number>> {
  return { studyConference: at, draftPlan: at, issuePlan: at, supervise: at, periodicReport: at, review: at };
}

/** Why a step instance cannot be reported yet, or undefined when it is open. */
export function blockedReason(ctx: UnitContext, steps: StepInstance[], inst: StepInstance, parentCompleted: Partial<Record<StepKind, number>>, now: number): string | undefined {
  const step = planStep(ctx.plan, inst.stepId);
  const cascade = cascadeKindOf(step);
  const parent = ctx.ancestors[0];
  if (cascade && parent && parentCompleted[cascade] === undefined) {
    return `step "${inst.key}" opens when the parent unit ${parent.code} (${parent.name}) has completed its ${cascade} step (the cascade); it has not yet`;
  }
  for (const r of step.requires) {
    const pending = steps.filter((s) => s.stepId === r && s.status !== 'done');
    if (pending.length) return `step "${inst.key}" requires step "${r}" to be completed first`;
  }
  if (inst.occurrence > 0) {
    const prev = steps.find((s) => s.stepId === inst.stepId && s.occurrence === inst.occurrence - 1);
    // Each reporting period opens when the previous one's deadline has passed, not before.
    if (prev && (prev.dueAt === null || now <= prev.dueAt)) {
      return prev.dueAt === null
        ? `occurrence ${inst.occurrence + 1} of step "${inst.stepId}" opens after the previous period's deadline, which is not set yet`
        : `occurrence ${inst.occurrence + 1} of step "${inst.stepId}" opens after ${formatLocal(new Date(prev.dueAt))} (the previous period's deadline)`;
    }
  }
  return undefined;
}

/** Open every waiting instance whose conditions now hold; returns the ones opened, with why. */
export function openReady(
  ctx: UnitContext,
  steps: StepInstance[],
  parentCompleted: Partial<Record<StepKind, number>>,
  now: number,
): Array<{ inst: StepInstance; reason: 'parentCompleted' | 'requirementsMet' | 'schedule' }> {
  const opened: Array<{ inst: StepInstance; reason: 'parentCompleted' | 'requirementsMet' | 'schedule' }> = [];
  let changed = true;
  while (changed) {
    changed = false;
    for (const inst of steps) {
      if (inst.status !== 'waiting') continue;
      if (blockedReason(ctx, steps, inst, parentCompleted, now) !== undefined) continue;
      inst.status = 'open';
      const step = planStep(ctx.plan, inst.stepId);
      opened.push({ inst, reason: inst.occurrence > 0 ? 'schedule' : cascadeKindOf(step) && ctx.ancestors.length ? 'parentCompleted' : 'requirementsMet' });
      changed = true;
    }
  }
  return opened;
}

/** The timer entries of an instance still to be handled. */
export function pendingTimers(ctx: UnitContext, inst: StepInstance): TimelineEntry[] {
  if (inst.status === 'done' || inst.dueAt === null) return [];
  return stepTimeline(planStep(ctx.plan, inst.stepId), inst.dueAt).slice(inst.timersDone);
}

/**
 * The earliest instant this unit must wake up at, or undefined when nothing is pending: the next
 * reminder, deadline or escalation of any step, or the opening of the next reporting period.
 */
export function nextTimerAt(ctx: UnitContext, steps: StepInstance[], now: number): number | undefined {
  let next: number | undefined;
  const consider = (at: number | undefined): void => {
    if (at !== undefined && (next === undefined || at < next)) next = at;
  };
  for (const inst of steps) {
    consider(pendingTimers(ctx, inst)[0]?.at);
    if (inst.status === 'waiting' && inst.occurrence > 0) {
      const prev = steps.find((s) => s.stepId === inst.stepId && s.occurrence === inst.occurrence - 1);
      // Only future openings: a period past its opening time that still waits is blocked by something else.
      if (prev?.dueAt != null && prev.dueAt + 1 > now) consider(prev.dueAt + 1);
    }
  }
  return next;
}

export function escalationId(ctx: UnitContext, inst: StepInstance, tier: number): string {
  return buildEscalationId({ rolloutId: ctx.rolloutId, unitCode: ctx.unit.code, stepKey: inst.key, dueAt: inst.dueAt ?? 0, tier });
}

export { escalationRecipients };

/** Pick the instance a report or extension is about: the named occurrence, else the oldest not done. */
export function selectInstance(ctx: UnitContext, steps: StepInstance[], stepId: string, occurrence: number | undefined): StepInstance {
  const mine = steps.filter((s) => s.stepId === stepId);
  if (mine.length === 0) {
    const exists = ctx.plan.steps.some((s) => s.id === stepId);
    const list = [...new Set(steps.map((s) => s.stepId))].join(', ');
    throw new DomainError([
      {
        path: 'stepId',
        message: exists
          ? `step "${stepId}" does not apply to unit ${ctx.unit.code} at level "${ctx.unit.level}" (its steps: ${list})`
          : `the plan has no step "${stepId}" (this unit's steps: ${list})`,
      },
    ]);
  }
  if (occurrence !== undefined) {
    const inst = mine.find((s) => s.occurrence === occurrence);
    if (!inst) throw new DomainError([{ path: 'occurrence', message: `step "${stepId}" has occurrences 0..${mine.length - 1}, not ${occurrence}` }]);
    return inst;
  }
  return mine.find((s) => s.status !== 'done') ?? mine[mine.length - 1]!;
}

/** The document a step is completed with, if its type is one the step accepts. */
function acceptedDocument(step: PlanStep, text: string, date: string): DocumentFacts {
  const doc = toFacts(text, date);
  const accepted = acceptedDocumentTypes(step);
  if (!accepted.includes(doc.type)) {
    throw new DomainError([{ path: 'documentNumber', message: `${doc.text} is a ${doc.type} document; step "${step.id}" accepts ${accepted.join(', ')}` }]);
  }
  return doc;
}

function toFacts(text: string, date: string): DocumentFacts {
  const d = parseDocumentNumber(text);
  return { text: d.text, issuer: d.issuer, type: d.type, number: d.number, date };
}

/** The outcome of applying a valid report: what to record, and whether the step is now done. */
export interface ReportEffect {
  inst: StepInstance;
  event:
    | { type: 'StudySessionReported'; payload: { sessionDate: string; attended: number; makeup: boolean; totalAttended: number; members: number } }
    | { type: 'PlanDrafted'; payload: { draftedBy: string; title: string; submittedOn: string } }
    | { type: 'PlanIssued'; payload: { document: DocumentFacts; title: string } }
    | { type: 'PeriodicReportSubmitted'; payload: { period: string; indicators: Record<string, number>; submittedOn: string; document: DocumentFacts | null } }
    | { type: 'InspectionRecorded'; payload: { inspectedOn: string; inspector: string; findings: string } }
    | { type: 'ReviewSubmitted'; payload: { review: 'midterm' | 'final'; document: DocumentFacts; summary: string } };
  completes: boolean;
  documentDate: string | null;
}

/**
 * Check a (schema-valid) report against the unit's state and say what it does. Throws DomainError
 * with a precise message when the report must be rejected; changes nothing.
 */
export function evaluateReport(
  ctx: UnitContext,
  steps: StepInstance[],
  parentCompleted: Partial<Record<StepKind, number>>,
  parentDocumentDate: Partial<Record<StepKind, string>>,
  report: StepReport,
  now: number,
): ReportEffect {
  if (report.unitCode !== ctx.unit.code) {
    throw new DomainError([{ path: 'unitCode', message: `unit ${report.unitCode} cannot report for unit ${ctx.unit.code}: a unit may report only for its own steps` }]);
  }
  const inst = selectInstance(ctx, steps, report.stepId, report.occurrence);
  const step = planStep(ctx.plan, inst.stepId);
  if (step.kind !== report.kind) {
    throw new DomainError([{ path: 'kind', message: `step "${step.id}" is a ${step.kind} step; this report is a ${report.kind} report` }]);
  }
  if (inst.status === 'done') {
    throw new DomainError([{ path: 'stepId', message: `step "${inst.key}" was already completed on ${formatLocal(new Date(inst.completedAt ?? now))}` }]);
  }
  const blocked = blockedReason(ctx, steps, inst, parentCompleted, now);
  if (blocked) throw new DomainError([{ path: 'stepId', message: blocked }]);
  const today = localDateOf(now);
  const notFuture = (field: string, date: string): void => {
    if (date > today) throw new DomainError([{ path: field, message: `${formatLocalDate(date)} is in the future (today is ${formatLocalDate(today)})` }]);
  };
  switch (report.kind) {
    case 'studyConference': {
      notFuture('sessionDate', report.sessionDate);
      const members = ctx.unit.members;
      const remaining = members - inst.attended;
      if (report.attended > remaining) {
        throw new DomainError([
          { path: 'attended', message: `${report.attended} attendees is more than the ${remaining} members who have not yet studied (${inst.attended} of ${members} already attended)` },
        ]);
      }
      const total = inst.attended + report.attended;
      return {
        inst,
        event: { type: 'StudySessionReported', payload: { sessionDate: report.sessionDate, attended: report.attended, makeup: report.makeup, totalAttended: total, members } },
        completes: members === 0 || total / members >= studyTarget(step) - 1e-9,
        documentDate: null,
      };
    }
    case 'draftPlan':
      notFuture('submittedOn', report.submittedOn);
      return { inst, event: { type: 'PlanDrafted', payload: { draftedBy: report.draftedBy, title: report.title, submittedOn: report.submittedOn } }, completes: true, documentDate: null };
    case 'issuePlan': {
      notFuture('issuedOn', report.issuedOn);
      const doc = acceptedDocument(step, report.documentNumber, report.issuedOn);
      const cascade = cascadeKindOf(step);
      const parentDate = cascade ? parentDocumentDate[cascade] : undefined;
      if (parentDate && report.issuedOn < parentDate) {
        throw new DomainError([
          { path: 'issuedOn', message: `${formatLocalDate(report.issuedOn)} is before the parent unit's plan (${formatLocalDate(parentDate)}); a plan is built on its parent's` },
        ]);
      }
      return { inst, event: { type: 'PlanIssued', payload: { document: doc, title: report.title } }, completes: true, documentDate: report.issuedOn };
    }
    case 'periodicReport': {
      notFuture('submittedOn', report.submittedOn);
      const doc = report.documentNumber ? toFacts(report.documentNumber, report.documentDate ?? report.submittedOn) : null;
      return {
        inst,
        event: { type: 'PeriodicReportSubmitted', payload: { period: report.period, indicators: report.indicators, submittedOn: report.submittedOn, document: doc } },
        completes: true,
        documentDate: null,
      };
    }
    case 'supervise':
      notFuture('inspectedOn', report.inspectedOn);
      return { inst, event: { type: 'InspectionRecorded', payload: { inspectedOn: report.inspectedOn, inspector: report.inspector, findings: report.findings } }, completes: true, documentDate: null };
    case 'review': {
      notFuture('issuedOn', report.issuedOn);
      const doc = acceptedDocument(step, report.documentNumber, report.issuedOn);
      return { inst, event: { type: 'ReviewSubmitted', payload: { review: report.review, document: doc, summary: report.summary } }, completes: true, documentDate: report.issuedOn };
    }
  }
}

/** Check an extension request and compute the new deadline; throws DomainError when it must be refused. */
export function evaluateExtension(ctx: UnitContext, steps: StepInstance[], req: ExtendDeadline, now: number): { inst: StepInstance; newDueAt: number } {
  const inst = selectInstance(ctx, steps, req.stepId, req.occurrence);
  if (!mayExtend(req.committeeCode, ctx.unit, ctx.ancestors)) {
    throw new DomainError([
      {
        path: 'committeeCode',
        message: `${req.committeeCode} is not a standing committee above ${ctx.unit.code}; it may be extended by ${committeesAbove(ctx.unit, ctx.ancestors)
          .map((c) => c.code)
          .join(', ')}`,
      },
    ]);
  }
  if (inst.status === 'done') throw new DomainError([{ path: 'stepId', message: `step "${inst.key}" is already completed; there is no deadline to extend` }]);
  if (inst.dueAt === null) throw new DomainError([{ path: 'stepId', message: `step "${inst.key}" has no deadline yet (it waits for the parent unit)` }]);
  let newDueAt: number;
  try {
    newDueAt = parseDeadlineText(req.until).at.getTime();
  } catch (e) {
    throw new DomainError([{ path: 'until', message: e instanceof Error ? e.message : String(e) }]);
  }
  if (newDueAt <= inst.dueAt) {
    throw new DomainError([{ path: 'until', message: `the new deadline ${formatLocal(new Date(newDueAt))} must be later than the current one, ${formatLocal(new Date(inst.dueAt))}` }]);
  }
  if (newDueAt <= now) {
    throw new DomainError([{ path: 'until', message: `the new deadline ${formatLocal(new Date(newDueAt))} has already passed` }]);
  }
  return { inst, newDueAt };
}

/**
 * A committee acknowledges or directs an escalation: it must be open on this unit and addressed to
 * that committee (the recipient of its tier). An acknowledgement is made once.
 */
export function evaluateEscalationAction(ctx: UnitContext, steps: StepInstance[], req: { escalationId: string; committeeCode: string }, action: 'acknowledge' | 'direct'): { inst: StepInstance } {
  const inst = steps.find((s) => s.openEscalations.includes(req.escalationId));
  if (!inst) throw new DomainError([{ path: 'escalationId', message: `escalation "${req.escalationId}" is not open on ${ctx.unit.code} (resolved already, or unknown)` }]);
  const tier = parseEscalationId(req.escalationId)?.tier ?? NaN;
  const recipient = escalationRecipients(ctx.unit, ctx.ancestors, planStep(ctx.plan, inst.stepId).escalation.tiers)[tier - 1];
  if (!recipient || recipient.code !== req.committeeCode) {
    throw new DomainError([{ path: 'committeeCode', message: `escalation "${req.escalationId}" is addressed to ${recipient?.code ?? 'nobody'}, not ${req.committeeCode}` }]);
  }
  if (action === 'acknowledge' && inst.acknowledged?.includes(req.escalationId)) {
    throw new DomainError([{ path: 'escalationId', message: `escalation "${req.escalationId}" has already been acknowledged` }]);
  }
  return { inst };
}

/** Mark the timers of an instance that are already in the past as handled (after an extension). */
export function skipPastTimers(ctx: UnitContext, inst: StepInstance, now: number): void {
  if (inst.dueAt === null) return;
  const timeline = stepTimeline(planStep(ctx.plan, inst.stepId), inst.dueAt);
  inst.timersDone = timeline.filter((e) => e.at <= now).length;
}

/** All of a unit's steps of a kind are done (what its children's cascade waits for). */
export function kindCompleted(steps: StepInstance[], kind: StepKind): boolean {
  const of = steps.filter((s) => s.kind === kind);
  return of.length > 0 && of.every((s) => s.status === 'done');
}
