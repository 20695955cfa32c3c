/**
 * Views: the shape of every answer the product gives about its state, with its zod schema. The HTTP
 * API returns these, the CLI's `--json` prints the same objects, the dashboard reads them, and the
 * OpenAPI document is generated from the schemas. Field names are camelCase; every instant is one
 * format (ISO 8601 with the Vietnam offset, `2022-09-30T23:59:59.999+07:00`); lists are pages.
 */
import { z } from 'zod';
import type { listEscalations, listRollouts, listRolloutUnits, unitSteps, getRolloutUnit } from '../db/queries';
import { toLocalIso } from '../domain/time';

/** An instant, as every view gives it. */
export const Instant = z.string().describe('ISO 8601 instant with the Vietnam offset, e.g. 2022-09-30T23:59:59.999+07:00');
export const instant = (d: Date | string | number): string => toLocalIso(new Date(d));
export const instantOrNull = (d: Date | string | number | null | undefined): string | null => (d == null ? null : instant(d));

export const MAX_PAGE_SIZE = 500;

/** `page` (from 1) and `pageSize`, with limits: the same for the API's query string and the CLI's options. */
export const PagingInput = z.strictObject({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
});
export type Paging = z.infer<typeof PagingInput>;
export const PAGE_ONE: Paging = { page: 1, pageSize: 50 };
export const offsetOf = (p: Paging): number => (p.page - 1) * p.pageSize;

export const Page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() });
export interface PageOf<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
}

export const Rollout = z.object({
  rolloutId: z.string(),
  resolution: z.string(),
  resolutionDate: z.string(),
  title: z.string(),
  planId: z.string(),
  rootUnit: z.string(),
  hierarchyVersion: z.number().int(),
  status: z.string(),
  /** Units in the pinned subtree (what enrolment reaches). */
  units: z.number().int().nullable(),
  startedAt: Instant,
  completedAt: Instant.nullable(),
});
export type Rollout = z.infer<typeof Rollout>;
type RolloutRow = Awaited<ReturnType<typeof listRollouts>>[number] & { units?: number | null };
export const rolloutView = (r: RolloutRow): Rollout => ({
  rolloutId: r.rollout_id,
  resolution: r.resolution_text,
  resolutionDate: String(r.resolution_date),
  title: r.resolution_title,
  planId: r.plan_id,
  rootUnit: r.root_unit,
  hierarchyVersion: r.hierarchy_version,
  status: r.status,
  units: r.units ?? null,
  startedAt: instant(r.started_at),
  completedAt: instantOrNull(r.completed_at),
});

export const StepState = z.object({ stepKey: z.string(), stepId: z.string(), kind: z.string(), status: z.string(), dueAt: Instant.nullable(), late: z.boolean(), overdue: z.boolean() });
export const UnitSummary = z.object({
  unitCode: z.string(),
  name: z.string(),
  level: z.string(),
  parent: z.string().nullable(),
  depth: z.number().int(),
  children: z.number().int(),
  members: z.number().int(),
  status: z.string(),
  steps: z.array(StepState),
});
export type UnitSummary = z.infer<typeof UnitSummary>;
export const unitSummaryView = (u: Awaited<ReturnType<typeof listRolloutUnits>>['items'][number]): UnitSummary => ({
  unitCode: u.unit_code,
  name: u.name,
  level: u.level,
  parent: u.parent_code,
  depth: u.depth,
  children: u.children,
  members: u.members,
  status: u.status,
  steps: u.steps.map((s) => ({ ...s, dueAt: instantOrNull(s.dueAt) })),
});

export const Escalation = z.object({
  escalationId: z.string(),
  rolloutId: z.string(),
  unitCode: z.string(),
  unitName: z.string(),
  level: z.string(),
  stepKey: z.string(),
  tier: z.number().int(),
  recipient: z.object({ code: z.string(), name: z.string() }),
  self: z.boolean(),
  dueAt: Instant,
  openedAt: Instant,
  overdueMs: z.number().int().describe('How long past the deadline: until now while open, until completion once resolved'),
  status: z.enum(['open', 'resolved']),
  resolution: z.enum(['completed', 'extended', 'cancelled', 'amended', 'merged', 'dissolved']).nullable(),
  resolvedAt: Instant.nullable(),
  resolvedBy: z.string().nullable(),
  acknowledgedAt: Instant.nullable(),
  acknowledgedBy: z.string().nullable(),
  acknowledgementNote: z.string().nullable(),
  directives: z.number().int().describe('How many times the committee has directed the unit on it'),
  lastDirective: z.string().nullable(),
  lastDirectedAt: Instant.nullable(),
  respondBy: z.string().nullable().describe('The date the last directive asks the unit to report back by'),
});
export type Escalation = z.infer<typeof Escalation>;
export function escalationView(e: Awaited<ReturnType<typeof listEscalations>>[number], now: Date): Escalation {
  const due = new Date(e.due_at).getTime();
  return {
    escalationId: e.escalation_id,
    rolloutId: e.rollout_id,
    unitCode: e.unit_code,
    unitName: e.unit_name,
    level: e.unit_level,
    stepKey: e.step_key,
    tier: e.tier,
    recipient: { code: e.recipient_code, name: e.recipient_name },
    self: e.self,
    dueAt: instant(e.due_at),
    openedAt: instant(e.opened_at),
    overdueMs: Math.max(0, e.status === 'open' ? now.getTime() - due : Number(e.late_by_ms ?? (e.resolved_at ? new Date(e.resolved_at).getTime() - due : 0))),
    status: e.status,
    resolution: e.resolution,
    resolvedAt: instantOrNull(e.resolved_at),
    resolvedBy: e.resolved_by,
    acknowledgedAt: instantOrNull(e.acknowledged_at),
    acknowledgedBy: e.acknowledged_by,
    acknowledgementNote: e.acknowledgement_note,
    directives: e.directives,
    lastDirective: e.last_directive,
    lastDirectedAt: instantOrNull(e.last_directed_at),
    respondBy: e.respond_by === null ? null : String(e.respond_by),
  };
}

export const TimelineEntry = z.object({
  /** Its place in the hash chain; null for the moment between its append and the sequencer's pass. */
  chainSeq: z.number().int().nullable(),
  occurredAt: Instant,
  recordedAt: Instant,
  unit: z.string().nullable(),
  actor: z.string(),
  by: z.string(),
  type: z.string(),
  title: z.string().describe('What the event type is called (the wording table)'),
  text: z.string(),
  eventId: z.string(),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

export const LevelProgress = z.object({
  level: z.string(),
  stepId: z.string(),
  kind: z.string(),
  units: z.number().int(),
  done: z.number().int(),
  doneLate: z.number().int(),
  open: z.number().int(),
  waiting: z.number().int(),
  overdue: z.number().int(),
  attended: z.number(),
  members: z.number(),
});
export const Counts = z.object({
  units: z.number().int(),
  completed: z.number().int(),
  cancelled: z.number().int().describe('Units stopped by a cancellation before they finished'),
  merged: z.number().int().describe('Units merged into a successor by a hierarchy change the rollout followed'),
  dissolved: z.number().int().describe('Units dissolved by a hierarchy change the rollout followed'),
  suspended: z.number().int().describe('Running units whose deadline clock is suspended'),
  openEscalations: z.number().int(),
});
export const Overview = z.object({ rollout: Rollout, counts: Counts, progress: z.array(LevelProgress), asOf: Instant });
export type Overview = z.infer<typeof Overview>;

export const UnitStep = z.object({
  stepKey: z.string(),
  stepId: z.string(),
  kind: z.string(),
  occurrence: z.number().int(),
  status: z.string(),
  dueAt: Instant.nullable(),
  originalDueAt: Instant.nullable(),
  completedAt: Instant.nullable(),
  lateByMs: z.number().nullable(),
  overdue: z.boolean(),
  attended: z.number().int(),
  remindersSent: z.number().int(),
  extensions: z.number().int(),
  document: z.object({ text: z.string(), date: z.string().nullable() }).nullable().describe('The document the step was completed with (a plan, a periodic report, a review)'),
});
export const UnitDetail = z.object({
  rolloutId: z.string(),
  unit: z.object({
    unitCode: z.string(),
    name: z.string(),
    level: z.string(),
    parent: z.string().nullable(),
    members: z.number().int(),
    standingCommittee: z.boolean(),
    children: z.number().int(),
    status: z.string(),
    completedAt: Instant.nullable(),
    suspendedAt: Instant.nullable().describe("Since when the unit's deadline clock is suspended (nothing fires, nothing is overdue); null while it runs"),
    ancestors: z.array(z.object({ code: z.string(), name: z.string() })),
  }),
  steps: z.array(UnitStep),
  escalations: z.array(Escalation),
  extendableBy: z.array(z.string()).describe("The standing committees that may extend this unit's deadlines (domain/escalation.ts mayExtend)"),
});
export type UnitDetail = z.infer<typeof UnitDetail>;
export type RolloutUnitRow = NonNullable<Awaited<ReturnType<typeof getRolloutUnit>>>;
export type UnitStepRow = Awaited<ReturnType<typeof unitSteps>>[number];
