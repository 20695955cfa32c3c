/**
 * The event schema, in one place. The PostgreSQL event log is the audit record (Temporal deletes
 * closed histories after retention), and the read model is derived from it. Every event is appended
 * by an activity with an ID derived from the workflow, so a retried append is harmless.
 *
 * Streams: `rollout/<rolloutId>` for rollout-wide events, `unit/<rolloutId>/<unitCode>` for one
 * unit's events, `hierarchy` for imports. Each stream is written by exactly one workflow (or the
 * import command), which numbers its events 1, 2, 3, … — so the sequence is known before the append
 * and the unique (stream, sequence) constraint is a real optimistic-concurrency guard.
 */
import { z } from 'zod';

const Iso = z.string().datetime({ offset: true });
const Code = z.string().min(1).max(64);

export const UnitSnapshot = z.strictObject({
  code: Code,
  name: z.string(),
  level: z.string(),
  parent: Code.nullable(),
  members: z.number().int().min(0),
  standingCommittee: z.boolean(),
});
export type UnitSnapshot = z.infer<typeof UnitSnapshot>;

export const AncestorRef = z.strictObject({ code: Code, name: z.string(), level: z.string(), standingCommittee: z.boolean() });
export type AncestorRef = z.infer<typeof AncestorRef>;

export const DocumentFacts = z.strictObject({
  text: z.string(),
  issuer: z.string(),
  type: z.string(),
  number: z.number().int(),
  date: z.string(),
});
export type DocumentFacts = z.infer<typeof DocumentFacts>;

/** A step instance of one unit: `stepId` or `stepId#k` for occurrence k of a recurring step. */
const StepKey = z.string().min(1).max(64);

const StepInfo = z.strictObject({
  key: StepKey,
  stepId: z.string(),
  kind: z.string(),
  occurrence: z.number().int().min(0),
  status: z.enum(['waiting', 'open']),
  dueAt: Iso.nullable(),
});

/** Who decided a change to a running rollout, why, and the batch it was part of. */
const Decision = { decidedBy: z.string(), reason: z.string(), batchId: z.string().optional() };

/** A deadline that moved: the step instance and its old and new instant. */
const MovedDeadline = z.strictObject({ key: StepKey, previousDueAt: Iso.nullable(), newDueAt: Iso.nullable() });

/** Every event type and its payload. */
export const EventPayloads = {
  HierarchyImported: z.strictObject({
    version: z.number().int(),
    source: z.string(),
    sha256: z.string(),
    units: z.number().int(),
    levels: z.array(z.string()),
    /** The organisation (root unit) the version belongs to; absent in imports recorded before organisations were separate. */
    organisation: Code.optional(),
    /** A whole snapshot of the organisation, or a delta applied to its previous version. */
    kind: z.enum(['snapshot', 'delta']).optional(),
  }),
  RolloutStarted: z.strictObject({
    rolloutId: z.string(),
    resolution: z.strictObject({ document: DocumentFacts, title: z.string() }),
    plan: z.unknown(),
    planId: z.string(),
    rootUnit: Code,
    hierarchyVersion: z.number().int(),
    /** Units in the pinned subtree: what enrolment will reach. */
    units: z.number().int().min(1).optional(),
    requestedBy: z.string(),
  }),
  UnitEnrolled: z.strictObject({ unit: UnitSnapshot, ancestors: z.array(AncestorRef), steps: z.array(StepInfo), children: z.number().int() }),
  /** A deadline became known later than enrolment (the cascade: relative to the parent's completion). */
  DeadlineScheduled: z.strictObject({ key: StepKey, dueAt: Iso, basis: z.string() }),
  StepOpened: z.strictObject({ key: StepKey, dueAt: Iso.nullable(), reason: z.enum(['parentCompleted', 'requirementsMet', 'schedule']) }),
  ReminderSent: z.strictObject({ key: StepKey, dueAt: Iso, offset: z.string(), recipient: Code }),
  DeadlineMissed: z.strictObject({ key: StepKey, dueAt: Iso, waitingForParent: z.boolean() }),
  Escalated: z.strictObject({ key: StepKey, escalationId: z.string(), tier: z.number().int(), recipient: AncestorRef, self: z.boolean(), dueAt: Iso }),
  DeadlineExtended: z.strictObject({
    key: StepKey,
    previousDueAt: Iso,
    newDueAt: Iso,
    decidedBy: Code,
    reason: z.string(),
    decision: z.string().nullable(),
    resolvedEscalations: z.array(z.string()),
    batchId: z.string().optional(),
  }),
  /** The committee an escalation is addressed to has taken it in hand; it stays open until the step is done or extended. */
  EscalationAcknowledged: z.strictObject({ key: StepKey, escalationId: z.string(), by: Code, note: z.string().nullable(), batchId: z.string().optional() }),
  /** The committee directs the unit (chỉ đạo); the escalation stays open. */
  EscalationDirected: z.strictObject({ key: StepKey, escalationId: z.string(), by: Code, directive: z.string(), respondBy: z.string().nullable(), batchId: z.string().optional() }),
  StudySessionReported: z.strictObject({
    key: StepKey,
    reportId: z.string(),
    sessionDate: z.string(),
    attended: z.number().int(),
    makeup: z.boolean(),
    totalAttended: z.number().int(),
    members: z.number().int(),
  }),
  PlanDrafted: z.strictObject({ key: StepKey, reportId: z.string(), draftedBy: z.string(), title: z.string(), submittedOn: z.string() }),
  PlanIssued: z.strictObject({ key: StepKey, reportId: z.string(), document: DocumentFacts, title: z.string() }),
  PeriodicReportSubmitted: z.strictObject({
    key: StepKey,
    reportId: z.string(),
    period: z.string(),
    indicators: z.record(z.string(), z.number()),
    submittedOn: z.string(),
    document: DocumentFacts.nullable(),
  }),
  InspectionRecorded: z.strictObject({ key: StepKey, reportId: z.string(), inspectedOn: z.string(), inspector: z.string(), findings: z.string() }),
  ReviewSubmitted: z.strictObject({ key: StepKey, reportId: z.string(), review: z.enum(['midterm', 'final']), document: DocumentFacts, summary: z.string() }),
  StepCompleted: z.strictObject({ key: StepKey, dueAt: Iso.nullable(), lateByMs: z.number().int().min(0), resolvedEscalations: z.array(z.string()) }),
  UnitCompleted: z.strictObject({ lateSteps: z.number().int() }),
  /** The rollout was cancelled while this unit still had steps open: they are closed without completion. */
  UnitCancelled: z.strictObject({
    reason: z.string(),
    openSteps: z.array(StepKey),
    resolvedEscalations: z.array(z.string()),
    /** Set when one unit was cancelled by a decision (not the whole rollout). */
    decidedBy: z.string().optional(),
    batchId: z.string().optional(),
  }),
  RolloutCompleted: z.strictObject({}),
  /** `requestId` (recorded since the patch `cancel-records-request-id`) lets a retried cancellation be answered as the first, years later. */
  RolloutCancelled: z.strictObject({ reason: z.string(), requestedBy: z.string(), requestId: z.string().optional() }),

  // ---- living rollouts (issue 10) -------------------------------------------------------------
  // Every decision names who decided and why, and the batch it was part of (if any).

  /** The deadline clock of this unit stopped (floods, a merger in progress): nothing fires until it resumes. */
  ClockSuspended: z.strictObject({ ...Decision }),
  /** The clock restarted: every unfinished deadline moved by the time suspended. */
  ClockResumed: z.strictObject({ ...Decision, suspendedMs: z.number().int().min(0), moved: z.array(MovedDeadline) }),
  /** The unit applied an amended plan: the steps added, removed and moved, and extensions kept. */
  PlanAmended: z.strictObject({
    ...Decision,
    planId: z.string(),
    planVersion: z.number().int().min(1),
    planHash: z.string(),
    added: z.array(StepInfo),
    removed: z.array(StepKey),
    moved: z.array(MovedDeadline),
    /** Steps whose timers (reminders, escalation tiers) changed without a deadline move. */
    retimed: z.array(StepKey),
    /** Steps whose own extension was kept over the amended rule. */
    keptExtensions: z.array(StepKey),
    /** Escalations that no longer stand (of a removed step, or of a deadline moved to the future). */
    resolvedEscalations: z.array(z.string()),
  }),
  /** The rollout's plan was amended (one event for the rollout; each unit records PlanAmended). */
  RolloutAmended: z.strictObject({
    ...Decision,
    planId: z.string(),
    fromVersion: z.number().int().min(1),
    toVersion: z.number().int().min(1),
    planHash: z.string(),
    plan: z.unknown(),
    /** The diff, one line per change, as previewed. */
    changes: z.array(z.string()),
    units: z.number().int().min(0),
  }),
  /** A working-day deadline computed again under another calendar version. */
  DeadlineReprojected: z.strictObject({
    ...Decision,
    key: StepKey,
    previousDueAt: Iso,
    newDueAt: Iso,
    calendar: z.strictObject({ id: z.string(), fromVersion: z.number().int().nullable(), toVersion: z.number().int() }),
    /** Escalations that no longer stand: the deadline moved to the future (as an extension resolves them). */
    resolvedEscalations: z.array(z.string()).optional(),
  }),
  /** The unit (or an ancestor) changed in the hierarchy: renamed, moved, members or committee flag changed. */
  UnitReshaped: z.strictObject({
    ...Decision,
    effectiveFrom: z.string(),
    hierarchyVersion: z.number().int(),
    unit: UnitSnapshot,
    ancestors: z.array(AncestorRef),
    previous: z.strictObject({ unit: UnitSnapshot, ancestors: z.array(AncestorRef) }),
    /** Open escalations addressed to a committee no longer above the unit, sent on to the one that is. */
    rerouted: z.array(z.strictObject({ escalationId: z.string(), from: Code, to: AncestorRef })),
  }),
  /** The unit was merged into its successor: its open steps, attendance and open escalations passed on. */
  UnitMerged: z.strictObject({
    ...Decision,
    effectiveFrom: z.string(),
    hierarchyVersion: z.number().int(),
    successor: Code,
    openSteps: z.array(StepKey),
    passedEscalations: z.array(z.string()),
  }),
  /** The unit was dissolved: its open steps closed, its open escalations resolved as such. */
  UnitDissolved: z.strictObject({
    ...Decision,
    effectiveFrom: z.string(),
    hierarchyVersion: z.number().int(),
    openSteps: z.array(StepKey),
    resolvedEscalations: z.array(z.string()),
  }),
  /** The successor of a merge took over a predecessor's open steps, attendance and escalations. */
  StepsInherited: z.strictObject({
    ...Decision,
    effectiveFrom: z.string(),
    from: Code,
    steps: z.array(z.strictObject({ key: StepKey, attended: z.number().int().min(0), escalations: z.array(z.string()), completed: z.boolean() })),
    /** The predecessor's open escalations taken over, each addressed to the successor's committee of its tier. */
    rerouted: z.array(z.strictObject({ escalationId: z.string(), from: Code, to: AncestorRef })),
  }),
  /** A parent unit started following a child that joined it (new, moved in, or a merge's successor). */
  ChildAdopted: z.strictObject({ ...Decision, child: Code, started: z.boolean() }),
  /** A parent unit stopped waiting for a child that moved away, merged or dissolved. */
  ChildReleased: z.strictObject({ ...Decision, child: Code }),
  /** The rollout now runs on another version of its organisation's hierarchy. */
  RolloutHierarchyChanged: z.strictObject({
    ...Decision,
    organisation: Code,
    fromVersion: z.number().int(),
    toVersion: z.number().int(),
    effectiveFrom: z.string(),
    changes: z.array(z.string()),
  }),
  /** A dated change of one organisation's hierarchy, producing a new version. */
  HierarchyChanged: z.strictObject({
    ...Decision,
    organisation: Code,
    previousVersion: z.number().int().nullable(),
    version: z.number().int(),
    effectiveFrom: z.string(),
    /** The operations, as recorded (create, rename, move, merge, split, dissolve, members, standingCommittee). */
    operations: z.array(z.unknown()),
  }),
  /** A holiday calendar version was imported or edited. */
  CalendarImported: z.strictObject({
    calendarId: z.string(),
    version: z.number().int().min(1),
    sha256: z.string(),
    years: z.array(z.number().int()),
    provisionalYears: z.array(z.number().int()),
    source: z.string(),
    importedBy: z.string(),
  }),
  /** A batch (one action on a filtered set of units) was confirmed and started. */
  BatchStarted: z.strictObject({
    ...Decision,
    batchId: z.string(),
    rolloutId: z.string(),
    action: z.string(),
    /** The action's own fields (the new deadline, the directive…). */
    params: z.record(z.string(), z.unknown()),
    /** The standing committee deciding, when the action is one of a committee's. */
    committee: z.string().nullable(),
    /** The filter as given, and how many units it matched (their list is the batch's items; the fingerprint covers it). */
    filter: z.record(z.string(), z.unknown()),
    fingerprint: z.string(),
    units: z.number().int().min(0),
  }),
  /** A batch finished: a result for every unit. */
  BatchCompleted: z.strictObject({ batchId: z.string(), done: z.number().int().min(0), unchanged: z.number().int().min(0), refused: z.number().int().min(0) }),
} as const;

export type EventType = keyof typeof EventPayloads;
export const EVENT_TYPES = Object.keys(EventPayloads) as EventType[];
export type EventPayload<T extends EventType> = z.infer<(typeof EventPayloads)[T]>;

/** An event as a workflow emits it; the store adds `recordedAt` and a global position. */
export interface NewEvent<T extends EventType = EventType> {
  eventId: string;
  streamId: string;
  streamSeq: number;
  type: T;
  rolloutId: string | null;
  unitCode: string | null;
  /** Who did it: `system` for timers, `unit:<code>` for a unit's report, `committee:<code>`, `user:<name>`. */
  actor: string;
  /** Workflow time of the fact (ISO, UTC). */
  occurredAt: string;
  payload: EventPayload<T>;
}

/** A discriminated view used by the projection and readers. */
export type AnyNewEvent = { [T in EventType]: NewEvent<T> }[EventType];

export const NewEventEnvelope = z.strictObject({
  eventId: z.string().min(1).max(300),
  streamId: z.string().min(1).max(200),
  streamSeq: z.number().int().min(1),
  type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
  rolloutId: z.string().nullable(),
  unitCode: z.string().nullable(),
  actor: z.string().min(1),
  occurredAt: Iso,
  payload: z.unknown(),
});

/** Validate an event at the store boundary: envelope and the payload of its type. */
export function parseNewEvent(input: unknown): AnyNewEvent {
  const env = NewEventEnvelope.parse(input);
  const payload = EventPayloads[env.type].parse(env.payload);
  return { ...env, payload } as AnyNewEvent;
}

export { streams } from './ids';
