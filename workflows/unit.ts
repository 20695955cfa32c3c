/**
 * unitWorkflow — one unit's part in a rollout, for as long as the rollout lasts (years).
 *
 * Lifecycle:
 * 1. Enrol: load the unit, its ancestors and the pinned plan (activity), compute its step instances
 *    and the deadlines known so far, record UnitEnrolled.
 * 2. Fan out: start the unit's children as child workflows, mirroring the hierarchy. More than
 *    MAX_CHILDREN_PER_PARENT children go through fan-out batches (fanoutWorkflow) so that no parent
 *    has more than 1,000 children and each history stays far below 10,000 events.
 * 3. Run: a single timer loop sleeps until the next reminder, deadline or escalation of any open
 *    step, or until a report, extension or parent signal changes the state.
 *    - reportStep (Update, with validator): bad input is rejected before anything is recorded;
 *      a report ID seen before (even in an earlier run) returns the first answer and records nothing.
 *    - extendDeadline (Update, with validator): a standing committee above the unit moves a deadline;
 *      open escalations are resolved and every timer of the step is reset.
 *    - parentStepCompleted (signal): the cascade; opens steps waiting on the parent.
 *    When all of a step kind is done, children are told (the cascade continues down).
 * 4. Finish when all steps are done and all children have finished; tell the parent unit.
 *
 * Continue-as-new: when the server suggests it, when the history passes HISTORY_BUDGET events, and
 * after each closed occurrence of a recurring supervision step (so a ten-year supervision is a chain
 * of short runs). The whole state — including seen report IDs — is carried in the input.
 *
 * Events are appended in order by one flusher (one activity at a time), numbered by this workflow,
 * so the per-stream sequence is gap-free and a retried append is idempotent.
 */
import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  setHandler,
  startChild,
  workflowInfo,
  ActivityFailure,
  ApplicationFailure,
  log,
  sleep,
} from '@temporalio/workflow';
import { RetryState, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { reads, store } from './activities';
import { DomainError } from '../domain/errors';
import { checkNewEvent, unstorableIssues } from '../domain/storable';
import type { EventPayload, EventType, NewEvent } from '../domain/events';
import { eventId, streams } from '../domain/ids';
import { reportSchemas, type EscalationActionResult, type ExtendResult, type ReportResult } from '../domain/reports';
import { changeSchemas, type UnitChange, type UnitChangeResult, type UnitEnding } from '../domain/changes';
import { evaluateChange, type Suspension } from './unit-changes';
import type { StepKind } from '../domain/plan';
import { cascadeKindOf } from '../domain/plan-rules';
import { toLocalIso } from '../domain/time';
import { fanoutWorkflow } from './fanout';
import { HISTORY_BUDGET, signalAll, signalIfRunning } from './children';
import {
  MAX_CHILDREN_PER_PARENT,
  acknowledgeEscalationUpdate,
  cancelUnitSignal,
  changeUnitUpdate,
  childCompletedSignal,
  directEscalationUpdate,
  closeFanoutSignal,
  extendDeadlineUpdate,
  fanoutWorkflowId,
  parentStepCompletedSignal,
  reportStepUpdate,
  unitStatusQuery,
  unitWorkflowId,
  type ParentStepCompleted,
} from './definitions';
import {
  escalationId,
  escalationRecipients,
  evaluateEscalationAction,
  evaluateExtension,
  evaluateReport,
  holidaysOf,
  instancesFor,
  kindCompleted,
  nextTimerAt,
  openReady,
  pendingTimers,
  planStep,
  resolveDueDates,
  skipPastTimers,
  type StepInstance,
  type UnitContext,
} from './unit-state';

/** Report/extension IDs remembered for deduplication (carried across continue-as-new). */
const SEEN_LIMIT = 1000;
/** Children started concurrently per workflow task. */
const START_BATCH = 100;
/** Children listed per activity call. */
const LIST_PAGE = 500;

export interface UnitWorkflowInput {
  rolloutId: string;
  unitCode: string;
  /** Parent steps already completed when this unit was started (children started after the cascade). */
  parentCompleted?: Partial<Record<StepKind, ParentStepCompleted>>;
  /** Fan-out width, for tests and benchmarks; never above MAX_CHILDREN_PER_PARENT. */
  maxChildren?: number;
  /** Set only by continue-as-new. */
  state?: UnitState;
}

/** The fan-out width actually used: the input's, capped at Temporal's guidance of 1,000 children. */
export function fanoutLimit(requested: number | undefined): number {
  return Math.max(1, Math.min(MAX_CHILDREN_PER_PARENT, requested ?? MAX_CHILDREN_PER_PARENT));
}

type Answer = ReportResult | ExtendResult | EscalationActionResult | UnitChangeResult;

export interface UnitState {
  ctx: UnitContext;
  seq: number;
  steps: StepInstance[];
  parentCompleted: Partial<Record<StepKind, ParentStepCompleted>>;
  children: {
    codes: string[];
    total: number;
    started: number;
    batches: number;
    cascadeSent: Partial<Record<StepKind, number>>;
    /** Children that joined by a hierarchy change (adoptChild), outside the listed ones and the fan-out batches. */
    adopted?: string[];
    /** Adopted children still to be started (new units) or told what this unit has announced (moved in). */
    pendingAdoptions?: Array<{ code: string; start: boolean }>;
  };
  completedChildren: string[];
  /** Late steps reported by finished children for their subtrees. */
  childrenLateSteps?: number;
  /** Answers to reports, extensions and escalation actions already processed, by request ID (oldest first). */
  seen: Array<[string, Answer]>;
  /** What this unit has announced to its children (the cascade), by step kind. */
  announced: Partial<Record<StepKind, ParentStepCompleted>>;
  continuedAsNew: number;
  done: boolean;
  /** Set when the rollout is cancelled: the unit records it, tells its children and stops. */
  cancelled?: { reason: string };
  /** The deadline clock is stopped (ClockSuspended): no timer fires until it resumes. */
  suspended?: Suspension;
  /** The unit's record ended by a decision (cancelled alone; later merged, dissolved): it tells its parent and stops. */
  ending?: UnitEnding;
}

export interface UnitWorkflowResult {
  unitCode: string;
  /** Late steps of this unit and its whole subtree. */
  lateSteps: number;
  /** The rollout was cancelled before this unit finished. */
  cancelled?: boolean;
}

export async function unitWorkflow(input: UnitWorkflowInput): Promise<UnitWorkflowResult> {
  const streamId = streams.unit(input.rolloutId, input.unitCode);
  let state: UnitState;
  const outbox: NewEvent[] = [];
  let flushedSeq = input.state?.seq ?? 0;
  let dirty = false;
  let wantsContinue = false;

  const emit = <T extends EventType>(type: T, payload: EventPayload<T>, actor = 'system'): number => {
    state.seq += 1;
    outbox.push({
      eventId: eventId(streamId, state.seq),
      streamId,
      streamSeq: state.seq,
      type,
      rolloutId: input.rolloutId,
      unitCode: input.unitCode,
      actor,
      occurredAt: new Date().toISOString(),
      payload,
    } as NewEvent);
    return state.seq;
  };

  if (input.state) {
    state = input.state;
  } else {
    const ctx = await reads.loadUnitContext({ rolloutId: input.rolloutId, unitCode: input.unitCode });
    state = {
      ctx,
      seq: 0,
      steps: instancesFor(ctx.plan, ctx.unit.level),
      parentCompleted: { ...(input.parentCompleted ?? {}) },
      children: { codes: [], total: ctx.childCount, started: 0, batches: 0, cascadeSent: {} },
      completedChildren: [],
      seen: [],
      announced: {},
      continuedAsNew: 0,
      done: false,
    };
  }
  const ctx = state.ctx;
  /** The working-day calendar: the pinned calendar (else the legacy set) and the plan's own days off (again after an amendment or a recalendar). */
  let holidays = holidaysOf(ctx, ctx.plan);
  const parentTimes = (): Partial<Record<StepKind, number>> => {
    const out: Partial<Record<StepKind, number>> = {};
    for (const [k, v] of Object.entries(state.parentCompleted)) out[k as StepKind] = v.completedAt;
    return out;
  };
  const parentDocDates = (): Partial<Record<StepKind, string>> => {
    const out: Partial<Record<StepKind, string>> = {};
    for (const [k, v] of Object.entries(state.parentCompleted)) if (v.documentDate) out[k as StepKind] = v.documentDate;
    return out;
  };
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

  // ---- the flusher: appends events in order, one activity at a time --------------------------
  //
  // Every group of state changes (an update, a signal, a pass of the timer loop) starts with mark(),
  // which keeps the steps and seen answers as they were at that sequence number. If the store refuses
  // a batch for good (a non-retryable failure: nothing of it was recorded), the state goes back to the
  // snapshot at the last recorded event, every unrecorded event is dropped, the updates waiting on them
  // fail with a clear error, and the timer loop derives again what it had derived since. So the
  // workflow's state is always what the audit record says, and the next good report is taken.
  let flushing = false;
  interface Snapshot {
    seq: number;
    steps: string;
    seen: Array<[string, Answer]>;
    suspended?: Suspension | undefined;
    ending?: UnitEnding | undefined;
    /** The plan as it was (an amendment replaces the object, never edits it). */
    plan: UnitContext['plan'];
    /** The calendar as it was (a recalendar replaces the object, never edits it). */
    calendar: UnitContext['calendar'];
    /** The unit's place in the hierarchy (a reshape replaces both, never edits them). */
    shape: { unit: UnitContext['unit']; ancestors: UnitContext['ancestors'] };
    /** Children adopted or waited for (completed children only grow: their count is enough). */
    children: { adopted?: string[] | undefined; pending?: Array<{ code: string; start: boolean }> | undefined; total: number; completed: number };
  }
  const snapshots: Snapshot[] = [];
  const mark = (): void => {
    if (snapshots.length && snapshots[snapshots.length - 1]!.seq === state.seq) snapshots.pop();
    snapshots.push({
      seq: state.seq,
      steps: JSON.stringify(state.steps),
      seen: state.seen.slice(),
      suspended: state.suspended,
      ending: state.ending,
      plan: ctx.plan,
      calendar: ctx.calendar,
      shape: { unit: ctx.unit, ancestors: ctx.ancestors },
      children: { adopted: state.children.adopted?.slice(), pending: state.children.pendingAdoptions?.slice(), total: state.children.total, completed: state.completedChildren.length },
    });
  };
  /** Bumped at each rollback; a waiter of an earlier epoch learns whether its events were dropped. */
  let epoch = 0;
  const rollbacks: Array<{ epoch: number; from: number; failure: ApplicationFailure }> = [];
  const permanent = (e: unknown): boolean =>
    e instanceof ActivityFailure && (e.retryState === RetryState.NON_RETRYABLE_FAILURE || (e.cause instanceof ApplicationFailure && e.cause.nonRetryable === true));
  const rollback = (from: number, e: ActivityFailure): void => {
    const snap = snapshots.find((x) => x.seq === from - 1);
    // Only events emitted outside a marked group (enrolment, completion, cancellation) lack one.
    if (!snap) throw new Error(`the audit record refused event ${streamId}#${from} and there is no state to go back to: ${e.cause?.message ?? e.message}`);
    const cause = e.cause?.message ?? e.message;
    log.error('the audit record refused events; rolling back to the recorded state', { from, dropped: outbox.length, cause });
    rollbacks.push({
      epoch,
      from,
      failure: ApplicationFailure.create({
        type: 'NotRecorded',
        message: `the audit record refused this change (${cause}); nothing was recorded`,
        nonRetryable: true,
        details: [[{ path: '', message: `the audit record refused this change (${cause}); nothing was recorded` }]],
      }),
    });
    epoch += 1;
    outbox.splice(0, outbox.length);
    state.seq = snap.seq;
    state.steps = JSON.parse(snap.steps) as StepInstance[];
    state.seen = snap.seen.slice();
    if (snap.suspended) state.suspended = snap.suspended;
    else delete state.suspended;
    if (snap.ending) state.ending = snap.ending;
    else delete state.ending;
    ctx.unit = snap.shape.unit;
    ctx.ancestors = snap.shape.ancestors;
    const kids = snap.children;
    if (kids.adopted) state.children.adopted = kids.adopted.slice();
    else delete state.children.adopted;
    if (kids.pending) state.children.pendingAdoptions = kids.pending.slice();
    else delete state.children.pendingAdoptions;
    state.children.total = kids.total;
    state.completedChildren.splice(kids.completed);
    if (ctx.plan !== snap.plan || ctx.calendar !== snap.calendar) {
      ctx.plan = snap.plan;
      if (snap.calendar) ctx.calendar = snap.calendar;
      else delete ctx.calendar;
      holidays = holidaysOf(ctx, ctx.plan);
    }
    snapshots.splice(snapshots.indexOf(snap) + 1);
    // Deadlines learnt from a parent signal whose events were dropped: the signal is not lost.
    const unknown = state.steps.filter((x) => x.dueAt === null);
    resolveDueDates(ctx, state.steps, parentTimes(), holidays);
    for (const inst of unknown) {
      if (inst.dueAt !== null) emit('DeadlineScheduled', { key: inst.key, dueAt: new Date(inst.dueAt).toISOString(), basis: 'parent completed (scheduled again after a refused append)' });
    }
    dirty = true;
  };
  const flushLoop = async (): Promise<void> => {
    for (;;) {
      await condition(() => outbox.length > 0);
      flushing = true;
      const batch = outbox.slice(0, 200);
      try {
        await store.appendEvents({ events: batch });
        outbox.splice(0, batch.length);
        flushedSeq = batch[batch.length - 1]!.streamSeq;
        while (snapshots.length > 1 && snapshots[0]!.seq < flushedSeq) snapshots.shift();
      } catch (e) {
        if (permanent(e)) rollback(batch[0]!.streamSeq, e as ActivityFailure);
        else if (e instanceof ActivityFailure) {
          // Retries exhausted on a failure that may pass (the database down for long): keep the events
          // (the audit record must get them) and try again on a durable timer.
          log.warn('appending events keeps failing; trying again in a minute', { from: batch[0]!.streamSeq, cause: e.cause?.message ?? e.message });
          await sleep('1 minute');
        } else throw e;
      } finally {
        flushing = false;
      }
    }
  };
  void flushLoop();
  const recorded = async (seq: number): Promise<void> => {
    const mine = epoch;
    await condition(() => epoch !== mine || flushedSeq >= seq);
    if (epoch === mine) return;
    const r = rollbacks.find((x) => x.epoch === mine);
    if (r && seq >= r.from) throw r.failure;
  };
  /** True once event `seq` is recorded; false if it was dropped by a rollback. */
  const recordedOrRolledBack = async (seq: number): Promise<boolean> => {
    try {
      await recorded(seq);
      return true;
    } catch (e) {
      if (rollbacks.some((r) => r.failure === e)) return false;
      throw e;
    }
  };

  // ---- enrolment --------------------------------------------------------------------------------
  if (!input.state) {
    resolveDueDates(ctx, state.steps, parentTimes(), holidays);
    const now = Date.now();
    const opened = openReady(ctx, state.steps, parentTimes(), now);
    emit('UnitEnrolled', {
      unit: ctx.unit,
      ancestors: ctx.ancestors,
      steps: state.steps.map((s) => ({ key: s.key, stepId: s.stepId, kind: s.kind, occurrence: s.occurrence, status: s.status === 'done' ? 'open' : s.status, dueAt: iso(s.dueAt) })),
      children: ctx.childCount,
    });
    void opened; // enrolment lists the initial status of every step; no separate StepOpened events
    // A unit with no members has nobody to study: its study steps are met at enrolment.
    if (ctx.unit.members === 0) {
      for (const inst of state.steps) if (inst.kind === 'studyConference' && inst.status === 'open') completeStep(inst, now, null, 'system');
    }
  }

  // ---- handlers -----------------------------------------------------------------------------------
  const remember = (id: string, result: Answer): void => {
    state.seen.push([id, result]);
    if (state.seen.length > SEEN_LIMIT) state.seen.splice(0, state.seen.length - SEEN_LIMIT);
  };
  const previous = (id: string): Answer | undefined => state.seen.find(([k]) => k === id)?.[1];
  /** Remember a request's answer (for resends), wake the timer loop, and answer once its events are recorded. */
  const answered = async <R extends Answer>(id: string, result: R, last: number): Promise<R> => {
    remember(id, result);
    dirty = true;
    await recorded(last);
    return result;
  };

  const refuseIfCancelled = (): void => {
    if (state.ending)
      throw new DomainError([{ path: 'unitCode', message: `unit ${ctx.unit.code} is no longer followed in rollout ${ctx.rolloutId} (${state.ending}); nothing more is recorded for it` }]);
    if (state.cancelled)
      throw new DomainError([{ path: 'rolloutId', message: `rollout ${ctx.rolloutId} has been cancelled (${state.cancelled.reason}); nothing more is recorded for ${ctx.unit.code}` }]);
  };
  const asFailure = (e: unknown): never => {
    if (e instanceof DomainError) throw ApplicationFailure.create({ type: 'InvalidReport', message: e.message, nonRetryable: true, details: [e.issues] });
    throw e;
  };
  /**
   * The engine's own defence, before any state changes (in the validator, and again in the handler,
   * which also runs when no validator did): the request's text must be storable by PostgreSQL, and the
   * event it causes must pass the store's schema. A request that would fail to append is refused here
   * rather than wedging the flusher.
   */
  const checkStorable = (what: string, req: unknown): void => {
    const bad = unstorableIssues(req, [], what);
    if (bad.length) throw new DomainError(bad);
  };
  const checkCandidate = <T extends EventType>(type: T, payload: EventPayload<T>, actor: string): void => {
    const seq = state.seq + 1;
    checkNewEvent({ eventId: eventId(streamId, seq), streamId, streamSeq: seq, type, rolloutId: input.rolloutId, unitCode: input.unitCode, actor, occurredAt: new Date().toISOString(), payload });
  };
  const reportActor = (r: { unitCode: string; reportedBy?: string | undefined }): string => `unit:${r.unitCode}${r.reportedBy ? `/${r.reportedBy}` : ''}`;
  const committeeActor = (r: { committeeCode: string; decidedBy?: string | undefined }): string => `committee:${r.committeeCode}${r.decidedBy ? `/${r.decidedBy}` : ''}`;

  setHandler(
    reportStepUpdate,
    async (raw) => {
      const report = reportSchemas().StepReport.parse(raw);
      const before = previous(report.reportId);
      if (before) return { ...(before as ReportResult), duplicate: true };
      const now = Date.now();
      const effect = evaluateReport(ctx, state.steps, parentTimes(), parentDocDates(), report, now);
      const inst = effect.inst;
      const actor = reportActor(report);
      try {
        checkStorable('report', report);
        checkCandidate(effect.event.type, { key: inst.key, reportId: report.reportId, ...effect.event.payload } as never, actor);
      } catch (e) {
        asFailure(e);
      }
      mark();
      if (effect.event.type === 'StudySessionReported') inst.attended = effect.event.payload.totalAttended;
      let last = emit(effect.event.type, { key: inst.key, reportId: report.reportId, ...effect.event.payload } as never, actor);
      if (effect.completes) last = completeStep(inst, now, effect.documentDate, actor);
      const result: ReportResult = {
        reportId: report.reportId,
        duplicate: false,
        stepKey: inst.key,
        status: inst.status === 'done' ? 'done' : 'open',
        ...(inst.kind === 'studyConference' ? { coverage: ctx.unit.members ? inst.attended / ctx.unit.members : 1 } : {}),
        ...(inst.lateByMs !== null ? { lateByMs: inst.lateByMs } : {}),
      };
      return answered(report.reportId, result, last);
    },
    {
      validator: (raw) => {
        try {
          refuseIfCancelled();
          const parsed = reportSchemas().StepReport.safeParse(raw);
          if (!parsed.success) throw DomainError.fromZod('report', parsed.error);
          if (previous(parsed.data.reportId)) return;
          checkStorable('report', parsed.data);
          const effect = evaluateReport(ctx, state.steps, parentTimes(), parentDocDates(), parsed.data, Date.now());
          checkCandidate(effect.event.type, { key: effect.inst.key, reportId: parsed.data.reportId, ...effect.event.payload } as never, reportActor(parsed.data));
        } catch (e) {
          asFailure(e);
        }
      },
    },
  );

  setHandler(
    extendDeadlineUpdate,
    async (raw) => {
      const req = reportSchemas().ExtendDeadline.parse(raw);
      const before = previous(req.requestId);
      if (before) return { ...(before as ExtendResult), duplicate: true };
      const now = Date.now();
      const { inst, newDueAt } = evaluateExtension(ctx, state.steps, req, now);
      const previousDueAt = inst.dueAt!;
      const resolved = inst.openEscalations;
      try {
        checkStorable('extension', req);
        checkCandidate('DeadlineExtended', extensionPayload(inst.key, previousDueAt, newDueAt, req, resolved), committeeActor(req));
      } catch (e) {
        asFailure(e);
      }
      mark();
      inst.dueAt = newDueAt;
      inst.extended = true;
      inst.missed = false;
      inst.openEscalations = [];
      if (inst.acknowledged) inst.acknowledged = [];
      skipPastTimers(ctx, inst, now);
      const last = emit('DeadlineExtended', extensionPayload(inst.key, previousDueAt, newDueAt, req, resolved), committeeActor(req));
      const result: ExtendResult = {
        requestId: req.requestId,
        duplicate: false,
        stepKey: inst.key,
        previousDueAt: toLocalIso(new Date(previousDueAt)),
        newDueAt: toLocalIso(new Date(newDueAt)),
        resolvedEscalations: resolved,
      };
      return answered(req.requestId, result, last);
    },
    {
      validator: (raw) => {
        try {
          refuseIfCancelled();
          const parsed = reportSchemas().ExtendDeadline.safeParse(raw);
          if (!parsed.success) throw DomainError.fromZod('extension', parsed.error);
          if (previous(parsed.data.requestId)) return;
          checkStorable('extension', parsed.data);
          const { inst, newDueAt } = evaluateExtension(ctx, state.steps, parsed.data, Date.now());
          checkCandidate('DeadlineExtended', extensionPayload(inst.key, inst.dueAt!, newDueAt, parsed.data, inst.openEscalations), committeeActor(parsed.data));
        } catch (e) {
          asFailure(e);
        }
      },
    },
  );

  // The committee an escalation is addressed to acknowledges it or directs the unit; the escalation
  // stays open either way (only completion or an extension resolves it).
  for (const action of ['acknowledge', 'direct'] as const) {
    const schema = () => (action === 'acknowledge' ? reportSchemas().AcknowledgeEscalation : reportSchemas().DirectEscalation);
    type EscalationRequest = { escalationId: string; committeeCode: string; note?: string; directive?: string; respondBy?: string; batchId?: string };
    const escalationPayload = (key: string, req: EscalationRequest) => {
      const batch = req.batchId ? { batchId: req.batchId } : {};
      return action === 'acknowledge'
        ? { type: 'EscalationAcknowledged' as const, payload: { key, escalationId: req.escalationId, by: req.committeeCode, note: req.note ?? null, ...batch } }
        : { type: 'EscalationDirected' as const, payload: { key, escalationId: req.escalationId, by: req.committeeCode, directive: req.directive!, respondBy: req.respondBy ?? null, ...batch } };
    };
    const checkEscalationCandidate = (key: string, req: EscalationRequest, actor: string): void => {
      const ev = escalationPayload(key, req);
      checkCandidate(ev.type, ev.payload as never, actor);
    };
    setHandler(
      action === 'acknowledge' ? acknowledgeEscalationUpdate : directEscalationUpdate,
      async (raw: unknown) => {
        const req = schema().parse(raw) as EscalationRequest & { requestId: string; decidedBy?: string };
        const before = previous(req.requestId);
        if (before) return { ...(before as EscalationActionResult), duplicate: true };
        const { inst } = evaluateEscalationAction(ctx, state.steps, req, action);
        const actor = committeeActor(req);
        try {
          checkStorable(action === 'acknowledge' ? 'acknowledgement' : 'directive', req);
          checkEscalationCandidate(inst.key, req, actor);
        } catch (e) {
          asFailure(e);
        }
        mark();
        if (action === 'acknowledge') (inst.acknowledged ??= []).push(req.escalationId);
        const ev = escalationPayload(inst.key, req);
        const last = emit(ev.type, ev.payload as never, actor);
        const result: EscalationActionResult = {
          requestId: req.requestId,
          duplicate: false,
          escalationId: req.escalationId,
          stepKey: inst.key,
          action: action === 'acknowledge' ? 'acknowledged' : 'directed',
          at: toLocalIso(new Date()),
        };
        return answered(req.requestId, result, last);
      },
      {
        validator: (raw: unknown) => {
          try {
            refuseIfCancelled();
            const parsed = schema().safeParse(raw);
            if (!parsed.success) throw DomainError.fromZod(action === 'acknowledge' ? 'acknowledgement' : 'directive', parsed.error);
            if (previous(parsed.data.requestId)) return;
            checkStorable(action === 'acknowledge' ? 'acknowledgement' : 'directive', parsed.data);
            const { inst } = evaluateEscalationAction(ctx, state.steps, parsed.data, action);
            checkEscalationCandidate(inst.key, parsed.data as never, committeeActor(parsed.data));
          } catch (e) {
            asFailure(e);
          }
        },
      },
    );
  }

  // Changes beyond reports (domain/changes.ts): suspend/resume the clock, stop following the unit, …
  const changeActor = (req: UnitChange): string => (/^(user|committee|unit|system)(:|$)/.test(req.decidedBy) ? req.decidedBy : `user:${req.decidedBy}`);
  const changeCandidates = (req: UnitChange, now: number) => {
    const effect = evaluateChange(state, req, now, {
      parentCompleted: parentTimes(),
      calendarFor: (plan) => holidaysOf(ctx, plan),
      children: { known: [...state.children.codes, ...(state.children.adopted ?? [])], completed: state.completedChildren },
    });
    checkStorable('change', req);
    for (const ev of effect.events) checkCandidate(ev.type, ev.payload as never, changeActor(req));
    return effect;
  };
  setHandler(
    changeUnitUpdate,
    async (raw) => {
      const req = changeSchemas().UnitChange.parse(raw);
      const before = previous(req.requestId);
      if (before) return { ...(before as UnitChangeResult), duplicate: true };
      const now = Date.now();
      let effect: ReturnType<typeof evaluateChange>;
      try {
        effect = changeCandidates(req, now);
      } catch (e) {
        return asFailure(e);
      }
      mark();
      const planBefore = ctx.plan;
      const calendarBefore = ctx.calendar;
      let last = state.seq;
      for (const ev of effect.events) last = emit(ev.type, ev.payload as never, changeActor(req));
      effect.apply(state);
      if (ctx.plan !== planBefore || ctx.calendar !== calendarBefore) holidays = holidaysOf(ctx, ctx.plan);
      for (const key of effect.completes ?? []) {
        const inst = state.steps.find((x) => x.key === key && x.status !== 'done');
        if (inst) last = completeStep(inst, now, null, changeActor(req));
      }
      const adopt = effect.children?.adopt;
      if (adopt) {
        (state.children.adopted ??= []).push(adopt.code);
        (state.children.pendingAdoptions ??= []).push(adopt);
        state.children.total += 1;
      }
      const release = effect.children?.release;
      if (release && !state.completedChildren.includes(release)) state.completedChildren.push(release);
      const result: UnitChangeResult = {
        requestId: req.requestId,
        duplicate: false,
        unitCode: ctx.unit.code,
        op: req.op,
        changed: effect.changed,
        summary: effect.summary,
        ...(effect.handover ? { handover: effect.handover } : {}),
        ...(effect.moved
          ? {
              moved: effect.moved.map((m) => ({
                key: m.key,
                previousDueAt: m.previousDueAt === null ? null : toLocalIso(new Date(m.previousDueAt)),
                newDueAt: m.newDueAt === null ? null : toLocalIso(new Date(m.newDueAt)),
              })),
            }
          : {}),
        at: toLocalIso(new Date(now)),
      };
      return answered(req.requestId, result, last);
    },
    {
      validator: (raw) => {
        try {
          if (state.cancelled) refuseIfCancelled();
          const parsed = changeSchemas().UnitChange.safeParse(raw);
          if (!parsed.success) throw DomainError.fromZod('change', parsed.error);
          if (previous(parsed.data.requestId)) return;
          changeCandidates(parsed.data, Date.now());
        } catch (e) {
          asFailure(e);
        }
      },
    },
  );

  setHandler(cancelUnitSignal, ({ reason }) => {
    state.cancelled ??= { reason };
    dirty = true;
  });

  setHandler(parentStepCompletedSignal, (sig) => {
    if (state.parentCompleted[sig.kind]) return; // duplicate delivery (e.g. from a fan-out batch retry)
    mark();
    state.parentCompleted[sig.kind] = sig;
    const unknown = state.steps.filter((s) => s.dueAt === null);
    resolveDueDates(ctx, state.steps, parentTimes(), holidays);
    for (const inst of unknown) {
      if (inst.dueAt !== null) emit('DeadlineScheduled', { key: inst.key, dueAt: new Date(inst.dueAt).toISOString(), basis: `${sig.parentCode} completed ${sig.kind}` });
    }
    dirty = true;
  });

  setHandler(childCompletedSignal, ({ unitCode, subtreeLateSteps }) => {
    if (!state.completedChildren.includes(unitCode)) {
      state.completedChildren.push(unitCode);
      state.childrenLateSteps = (state.childrenLateSteps ?? 0) + (subtreeLateSteps ?? 0);
    }
    dirty = true;
  });

  setHandler(unitStatusQuery, () => ({
    unitCode: ctx.unit.code,
    steps: state.steps.map((s) => ({ key: s.key, status: s.status, dueAt: s.dueAt === null ? null : toLocalIso(new Date(s.dueAt)), openEscalations: s.openEscalations.length })),
    childrenStarted: state.children.started,
    childrenTotal: state.children.total,
    childrenCompleted: state.completedChildren.length,
    run: { historyLength: workflowInfo().historyLength, continuedAsNew: state.continuedAsNew },
  }));

  // ---- state changes shared by handlers and timers -------------------------------------------------
  function extensionPayload(
    key: string,
    previousDueAt: number,
    newDueAt: number,
    req: { committeeCode: string; reason: string; decision?: string | undefined; batchId?: string | undefined },
    resolved: string[],
  ): EventPayload<'DeadlineExtended'> {
    return {
      key,
      previousDueAt: new Date(previousDueAt).toISOString(),
      newDueAt: new Date(newDueAt).toISOString(),
      decidedBy: req.committeeCode,
      reason: req.reason,
      decision: req.decision ?? null,
      resolvedEscalations: resolved,
      ...(req.batchId ? { batchId: req.batchId } : {}),
    };
  }

  function completeStep(inst: StepInstance, now: number, documentDate: string | null, actor: string): number {
    inst.status = 'done';
    inst.completedAt = now;
    inst.documentDate = documentDate;
    inst.lateByMs = inst.dueAt !== null && now > inst.dueAt ? now - inst.dueAt : 0;
    const resolved = inst.openEscalations;
    inst.openEscalations = [];
    if (inst.acknowledged) inst.acknowledged = [];
    const seq = emit('StepCompleted', { key: inst.key, dueAt: iso(inst.dueAt), lateByMs: inst.lateByMs, resolvedEscalations: resolved }, actor);
    // Supervision runs for years: start each new reporting period in a fresh run.
    if (inst.occurrence > 0 || planStep(ctx.plan, inst.stepId).schedule) wantsContinue = true;
    return seq;
  }

  function runTimers(now: number): void {
    if (state.suspended) return; // the clock is stopped: nothing fires until it resumes
    for (const inst of state.steps) {
      const step = planStep(ctx.plan, inst.stepId);
      for (const entry of pendingTimers(ctx, inst)) {
        if (entry.at > now) break;
        inst.timersDone += 1;
        const dueAt = inst.dueAt!;
        if (entry.action === 'remind') {
          // A reminder that is only handled after the deadline has passed would be noise.
          if (now <= dueAt) emit('ReminderSent', { key: inst.key, dueAt: new Date(dueAt).toISOString(), offset: entry.offset, recipient: ctx.unit.code });
        } else if (entry.action === 'deadline') {
          inst.missed = true;
          emit('DeadlineMissed', { key: inst.key, dueAt: new Date(dueAt).toISOString(), waitingForParent: inst.status === 'waiting' });
        } else {
          const recipient = escalationRecipients(ctx.unit, ctx.ancestors, step.escalation.tiers)[entry.tier - 1];
          if (!recipient) continue; // nobody higher up: the top committee already knows
          const id = escalationId(ctx, inst, entry.tier);
          inst.openEscalations.push(id);
          emit('Escalated', {
            key: inst.key,
            escalationId: id,
            tier: entry.tier,
            recipient: { code: recipient.code, name: recipient.name, level: recipient.level, standingCommittee: recipient.standingCommittee },
            self: recipient.self,
            dueAt: new Date(dueAt).toISOString(),
          });
          if (entry.tier === step.escalation.tiers && step.schedule) wantsContinue = true;
        }
      }
    }
  }

  function openSteps(now: number): void {
    for (const { inst, reason } of openReady(ctx, state.steps, parentTimes(), now)) {
      emit('StepOpened', { key: inst.key, dueAt: iso(inst.dueAt), reason });
    }
  }

  // ---- fan-out: start children (CAN-safe: progress is in state) -----------------------------------
  const maxChildren = fanoutLimit(input.maxChildren);
  const batched = state.children.total > maxChildren;
  const childInput = (code: string): UnitWorkflowInput => ({
    rolloutId: ctx.rolloutId,
    unitCode: code,
    parentCompleted: { ...state.announced },
    ...(input.maxChildren ? { maxChildren: input.maxChildren } : {}),
  });

  /** Start a child; one that already exists (a repeated start, or a start replayed after reset) is fine. */
  async function startOnce(start: () => Promise<unknown>): Promise<void> {
    try {
      await start();
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) return;
      throw e;
    }
  }

  async function startChildren(): Promise<void> {
    if (batched) {
      const batches = Math.ceil(state.children.total / maxChildren);
      while (state.children.batches < batches && !state.cancelled) {
        const b = state.children.batches;
        await startOnce(() =>
          startChild(fanoutWorkflow, {
            workflowId: fanoutWorkflowId(ctx.rolloutId, ctx.unit.code, b),
            args: [
              {
                rolloutId: ctx.rolloutId,
                ownerCode: ctx.unit.code,
                offset: b * maxChildren,
                limit: maxChildren,
                parentCompleted: { ...state.announced },
                ...(input.maxChildren ? { maxChildren: input.maxChildren } : {}),
              },
            ],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          }),
        );
        state.children.batches += 1;
      }
      if (!state.cancelled) state.children.started = state.children.total;
      return;
    }
    while (state.children.codes.length < state.children.total) {
      const page = await reads.listChildren({ rolloutId: ctx.rolloutId, unitCode: ctx.unit.code, offset: state.children.codes.length, limit: LIST_PAGE });
      if (page.codes.length === 0) break;
      state.children.codes.push(...page.codes);
    }
    state.children.total = state.children.codes.length;
    while (state.children.started < state.children.total && !state.cancelled) {
      const slice = state.children.codes.slice(state.children.started, state.children.started + START_BATCH);
      await Promise.all(
        slice.map((code) =>
          startOnce(() =>
            startChild(unitWorkflow, {
              workflowId: unitWorkflowId(ctx.rolloutId, code),
              args: [childInput(code)],
              parentClosePolicy: ParentClosePolicy.ABANDON,
              workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            }),
          ),
        ),
      );
      state.children.started += slice.length;
      // Kinds completed while this slice was starting were passed in its input.
      for (const kind of Object.keys(state.announced) as StepKind[]) state.children.cascadeSent[kind] = state.children.started;
    }
  }

  /** Only the step kinds some step waits for on its parent are announced down the tree. */
  const cascadeKinds = [...new Set(ctx.plan.steps.map(cascadeKindOf).filter((k): k is StepKind => k !== undefined))];

  /** The workflows that reach the children started so far: the fan-out batches, or the children themselves. */
  const startedChildren = (): string[] =>
    batched
      ? Array.from({ length: state.children.batches }, (_, b) => fanoutWorkflowId(ctx.rolloutId, ctx.unit.code, b))
      : state.children.codes.slice(0, state.children.started).map((c) => unitWorkflowId(ctx.rolloutId, c));

  /** Announce newly completed kinds to children already started (later ones get them in their input). */
  async function cascade(): Promise<void> {
    for (const kind of cascadeKinds) {
      if (state.announced[kind] || !kindCompleted(state.steps, kind)) continue;
      const inst = state.steps.filter((s) => s.kind === kind);
      const completedAt = Math.max(...inst.map((s) => s.completedAt ?? 0));
      const documentDate = inst.map((s) => s.documentDate).find((d) => d !== null) ?? undefined;
      const sig: ParentStepCompleted = { kind, parentCode: ctx.unit.code, completedAt, ...(documentDate ? { documentDate } : {}) };
      // Children started from now on receive it in their input; those already started get a signal.
      state.announced[kind] = sig;
      const from = state.children.cascadeSent[kind] ?? 0;
      await signalAll(startedChildren().slice(from), parentStepCompletedSignal, [sig], (n) => (state.children.cascadeSent[kind] = from + n));
      // Adopted children (a child ignores a kind it has heard already).
      await signalAll(adoptedChildren(), parentStepCompletedSignal, [sig], () => undefined);
    }
  }

  const adoptedChildren = (): string[] => (state.children.adopted ?? []).filter((c) => !(state.children.pendingAdoptions ?? []).some((p) => p.code === c)).map((c) => unitWorkflowId(ctx.rolloutId, c));

  /** Children that joined by a hierarchy change: start the new ones; tell those moved in what this unit has announced. */
  async function adoptPending(): Promise<void> {
    const pending = state.children.pendingAdoptions ?? [];
    while (pending.length && !state.cancelled) {
      const { code, start } = pending[0]!;
      const id = unitWorkflowId(ctx.rolloutId, code);
      if (start)
        await startOnce(() =>
          startChild(unitWorkflow, { workflowId: id, args: [childInput(code)], parentClosePolicy: ParentClosePolicy.ABANDON, workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE }),
        );
      else for (const sig of Object.values(state.announced)) await signalIfRunning(id, () => getExternalWorkflowHandle(id).signal(parentStepCompletedSignal, sig));
      pending.shift();
    }
    if (!pending.length) delete state.children.pendingAdoptions;
  }
  await startChildren();

  // ---- the timer loop ---------------------------------------------------------------------------------
  // The finish is recorded before anything else happens; if the audit record refuses it (or an event
  // just before it), the state is rolled back and the unit carries on from what is recorded.
  for (;;) {
    for (;;) {
      dirty = false;
      if (state.cancelled || state.ending) break;
      const now = Date.now();
      mark();
      runTimers(now);
      openSteps(now);
      await cascade();
      await adoptPending();
      const ownDone = state.steps.every((s) => s.status === 'done');
      if (ownDone && state.completedChildren.length >= state.children.total) break;
      const info = workflowInfo();
      if ((wantsContinue || info.continueAsNewSuggested || info.historyLength > HISTORY_BUDGET) && !dirty) {
        await condition(() => outbox.length === 0 && !flushing && allHandlersFinished());
        if (!dirty) {
          state.continuedAsNew += 1;
          await continueAsNew<typeof unitWorkflow>({ rolloutId: input.rolloutId, unitCode: input.unitCode, state, ...(input.maxChildren ? { maxChildren: input.maxChildren } : {}) });
        }
      }
      const next = state.suspended ? undefined : nextTimerAt(ctx, state.steps, Date.now());
      if (next === undefined) await condition(() => dirty);
      else await condition(() => dirty, Math.max(1, next - Date.now()));
    }

    if (state.cancelled || state.ending) break;
    mark();
    if (await recordedOrRolledBack(emit('UnitCompleted', { lateSteps: ownLateSteps() }))) break;
  }

  // ---- cancelled: record it, tell the children, stop -------------------------------------------------------
  if (state.cancelled) return cancel(state.cancelled.reason);
  if (state.ending) return ended(state.ending);

  // ---- finish: tell the fan-out batches and the parent -------------------------------------------------------
  if (batched) {
    for (let b = 0; b < state.children.batches; b++) {
      const id = fanoutWorkflowId(ctx.rolloutId, ctx.unit.code, b);
      await signalIfRunning(id, () => getExternalWorkflowHandle(id).signal(closeFanoutSignal));
    }
  }
  const parent = ctx.ancestors[0];
  if (parent) {
    const parentId = unitWorkflowId(ctx.rolloutId, parent.code);
    await signalIfRunning(parentId, () => getExternalWorkflowHandle(parentId).signal(childCompletedSignal, { unitCode: ctx.unit.code, subtreeLateSteps: subtreeLateSteps() }));
  }
  await condition(allHandlersFinished);
  return { unitCode: ctx.unit.code, lateSteps: subtreeLateSteps() };

  function ownLateSteps(): number {
    return state.steps.filter((s) => (s.lateByMs ?? 0) > 0).length;
  }
  /** Late steps of this unit and of its finished children's subtrees. */
  function subtreeLateSteps(): number {
    return ownLateSteps() + (state.childrenLateSteps ?? 0);
  }

  /**
   * The unit's record ended by a decision (its events are recorded by the change): its children stop
   * with it, and its parent stops waiting for it.
   */
  async function ended(how: UnitEnding): Promise<UnitWorkflowResult> {
    await condition(() => outbox.length === 0 && !flushing);
    if (how === 'cancelled') await signalAll([...startedChildren(), ...adoptedChildren()], cancelUnitSignal, [{ reason: `${ctx.unit.code} is no longer followed` }]);
    const parent = ctx.ancestors[0];
    if (parent) {
      const parentId = unitWorkflowId(ctx.rolloutId, parent.code);
      await signalIfRunning(parentId, () => getExternalWorkflowHandle(parentId).signal(childCompletedSignal, { unitCode: ctx.unit.code, subtreeLateSteps: subtreeLateSteps() }));
    }
    await condition(allHandlersFinished);
    return { unitCode: ctx.unit.code, lateSteps: subtreeLateSteps(), ...(how === 'cancelled' ? { cancelled: true } : {}) };
  }

  async function cancel(reason: string): Promise<UnitWorkflowResult> {
    const open = state.steps.filter((s) => s.status !== 'done');
    const resolved = open.flatMap((s) => s.openEscalations);
    mark();
    for (const s of open) s.openEscalations = [];
    await recorded(emit('UnitCancelled', { reason, openSteps: open.map((s) => s.key), resolvedEscalations: resolved }));
    // Only children already started are running; their own children hear it from them.
    await signalAll([...startedChildren(), ...adoptedChildren()], cancelUnitSignal, [{ reason }]);
    await condition(allHandlersFinished);
    return { unitCode: ctx.unit.code, lateSteps: subtreeLateSteps(), cancelled: true };
  }
}
