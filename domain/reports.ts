/**
 * What a unit reports, per step kind, and what a standing committee decides (extensions). These are
 * the payloads of the unit workflow's Updates; the same schemas validate CLI and API input, so a bad
 * report is rejected before anything is recorded.
 *
 * The schemas are built on first use: every unit workflow imports this module, and most of them wait
 * months between reports; building zod schemas eagerly in each workflow's sandbox cost a few hundred
 * kilobytes of heap per workflow.
 */
import { z } from 'zod';
import { RequestId, UnitCode } from './codes';
import { DocumentNumberText } from './documents';
import { Text as TextOf } from './text';
import { LocalDate } from './time';

function build() {
  const Code = UnitCode;
  /** One line of text (a name, a title, a period). */
  const Text = (max: number) => TextOf({ max });
  /** Free text that may run over lines (findings, reasons, directives). */
  const Prose = (max: number) => TextOf({ max, multiline: true });
  const StepIdText = z
    .string()
    .min(1)
    .max(40)
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'a step id is lowercase letters, digits and dashes, e.g. "issue-province"');
  const EscalationIdText = TextOf({ max: 300 });

  const Common = {
    /** Idempotency key chosen by the reporter: the same ID sent twice counts once, even across continue-as-new. */
    reportId: RequestId,
    /** The unit making the report: a unit may report only for its own steps. */
    unitCode: Code,
    stepId: StepIdText,
    /** Occurrence of a recurring step (0-based); defaults to the oldest open one. */
    occurrence: z.number().int().min(0).optional(),
    /** The person who filed it, for the audit record. */
    reportedBy: Text(200).optional(),
  };

  const StudySessionReport = z.strictObject({
    ...Common,
    kind: z.literal('studyConference'),
    sessionDate: LocalDate,
    /** Members who attended this session (make-up sessions are for members who missed earlier ones). */
    attended: z.number().int().min(1),
    makeup: z.boolean().default(false),
  });

  const DraftReport = z.strictObject({
    ...Common,
    kind: z.literal('draftPlan'),
    /** The advisory body that drafted the plan, e.g. "Ban Tổ chức Tỉnh ủy". */
    draftedBy: Text(200),
    title: Text(500),
    submittedOn: LocalDate,
  });

  const IssueReport = z.strictObject({
    ...Common,
    kind: z.literal('issuePlan'),
    documentNumber: DocumentNumberText,
    issuedOn: LocalDate,
    title: Text(500),
  });

  const PeriodicReport = z.strictObject({
    ...Common,
    kind: z.literal('periodicReport'),
    period: Text(40),
    indicators: z.record(Text(60), z.number().finite()).default({}),
    submittedOn: LocalDate,
    documentNumber: DocumentNumberText.optional(),
    documentDate: LocalDate.optional(),
  });

  const InspectionReport = z.strictObject({
    ...Common,
    kind: z.literal('supervise'),
    inspectedOn: LocalDate,
    inspector: Text(200),
    findings: Prose(4000),
  });

  const ReviewReport = z.strictObject({
    ...Common,
    kind: z.literal('review'),
    review: z.enum(['midterm', 'final']),
    documentNumber: DocumentNumberText,
    issuedOn: LocalDate,
    summary: Prose(4000),
  });

  /** A unit's report for one of its steps. */
  const StepReport = z.discriminatedUnion('kind', [StudySessionReport, DraftReport, IssueReport, PeriodicReport, InspectionReport, ReviewReport]);

  /** A standing committee's decision to extend a deadline (gia hạn). */
  const ExtendDeadline = z.strictObject({
    requestId: Common.reportId,
    stepId: StepIdText,
    occurrence: z.number().int().min(0).optional(),
    /** The committee deciding: must be a standing committee above the unit. */
    committeeCode: Code,
    /** New deadline text: '2022-12-15', '2022-12', an ISO instant… (see time.parseDeadlineText). */
    until: Text(40),
    reason: Prose(2000),
    decision: Prose(2000).optional(),
    decidedBy: Text(200).optional(),
    /** The batch this decision is part of (domain/batches.ts); set by the batch, never by a caller. */
    batchId: RequestId.optional(),
  });

  /** The committee an escalation is addressed to acts on it: acknowledges it (đã tiếp nhận)… */
  const AcknowledgeEscalation = z.strictObject({
    requestId: Common.reportId,
    escalationId: EscalationIdText,
    committeeCode: Code,
    note: Prose(2000).optional(),
    decidedBy: Text(200).optional(),
    batchId: RequestId.optional(),
  });

  /** …or directs the unit (chỉ đạo): an instruction, optionally with a date to answer by. */
  const DirectEscalation = z.strictObject({
    requestId: Common.reportId,
    escalationId: EscalationIdText,
    committeeCode: Code,
    directive: Prose(2000),
    respondBy: LocalDate.optional(),
    decidedBy: Text(200).optional(),
    batchId: RequestId.optional(),
  });

  /** Ops stops a rollout: every unit still running records why and stops; nothing more is due. */
  const CancelRollout = z.strictObject({
    requestId: Common.reportId,
    reason: Prose(2000),
    requestedBy: Text(200),
  });

  return { StudySessionReport, DraftReport, IssueReport, PeriodicReport, InspectionReport, ReviewReport, StepReport, ExtendDeadline, AcknowledgeEscalation, DirectEscalation, CancelRollout };
}

type Schemas = ReturnType<typeof build>;
let built: Schemas | undefined;

/** The report and extension schemas (built once per module instance, on first use). */
export function reportSchemas(): Schemas {
  built ??= build();
  return built;
}

/** A unit's report for one of its steps. */
export type StepReport = z.infer<Schemas['StepReport']>;
export type StepReportInput = z.input<Schemas['StepReport']>;
/** A standing committee's decision to extend a deadline (gia hạn). */
export type ExtendDeadline = z.infer<Schemas['ExtendDeadline']>;
export type ExtendDeadlineInput = z.input<Schemas['ExtendDeadline']>;

export type AcknowledgeEscalation = z.infer<Schemas['AcknowledgeEscalation']>;
export type AcknowledgeEscalationInput = z.input<Schemas['AcknowledgeEscalation']>;
export type DirectEscalation = z.infer<Schemas['DirectEscalation']>;
export type DirectEscalationInput = z.input<Schemas['DirectEscalation']>;
export type CancelRollout = z.infer<Schemas['CancelRollout']>;
export type CancelRolloutInput = z.input<Schemas['CancelRollout']>;

/** What the unit workflow answers to an acknowledgement or a directive. */
export interface EscalationActionResult {
  requestId: string;
  duplicate: boolean;
  escalationId: string;
  stepKey: string;
  action: 'acknowledged' | 'directed';
  /** Local ISO time the action was recorded. */
  at: string;
}

export interface CancelResult {
  requestId: string;
  duplicate: boolean;
  rolloutId: string;
  /** Local ISO time of the cancellation. */
  cancelledAt: string;
}

/** What the unit workflow answers to a report. */
export interface ReportResult {
  reportId: string;
  duplicate: boolean;
  stepKey: string;
  status: 'open' | 'done';
  /** For study conferences: members who attended so far ÷ members. */
  coverage?: number;
  lateByMs?: number;
}

export interface ExtendResult {
  requestId: string;
  duplicate: boolean;
  stepKey: string;
  previousDueAt: string;
  newDueAt: string;
  resolvedEscalations: string[];
}
