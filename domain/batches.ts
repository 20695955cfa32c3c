/**
 * Batches (issue 10, "operations on many units at once"): one action on a filtered set of a rollout's
 * units, decided once by ops or a standing committee, previewed (count and sample) before it is
 * confirmed, then applied unit by unit by a workflow that survives restarts. Every unit's event
 * carries the batch ID, which ties them together in the audit record.
 *
 * - The **filter** picks running units: a subtree (`within`), a level, a list of codes, and a step
 *   with a status (`overdue`, `open`, `escalated`: an open escalation on that step, or on any step).
 * - The **action** is what each unit gets: a deadline extension, a directive or an acknowledgement
 *   of its open escalations, suspending or resuming its clock, or no longer following it. Each is the
 *   single-unit decision of reports.ts / changes.ts, so a unit refuses in a batch exactly what it
 *   refuses alone, and the result says why.
 *
 * Pure: the rules of which unit a batch may reach live in escalation.ts (mayExtend); the database
 * side is db/batches.ts, the application side app/batches.ts.
 */
import { z } from 'zod';
import { LevelCode, RequestId, UnitCode } from './codes';
import { Text } from './text';
import { DomainError } from './errors';

/** At most this many codes in one filter (a longer list is a file of codes: split it). */
export const MAX_FILTER_CODES = 5000;
/** Units shown in a preview. */
export const PREVIEW_SAMPLE = 10;

export const BatchFilter = z
  .strictObject({
    /** Units in this unit's subtree (the unit itself included, if it may be acted on). */
    within: UnitCode.optional(),
    level: LevelCode.optional(),
    codes: z.array(UnitCode).min(1).max(MAX_FILTER_CODES).optional(),
    /** A step id of the plan: with `status`, units whose occurrence of that step has it. */
    step: z.string().min(1).max(64).optional(),
    /** `overdue`: past its deadline and not done; `open`/`waiting`: the step's status; `escalated`: an open escalation. */
    status: z.enum(['overdue', 'open', 'waiting', 'escalated', 'suspended']).optional(),
  })
  .refine((f) => f.within !== undefined || f.level !== undefined || f.codes !== undefined || f.step !== undefined || f.status !== undefined, {
    message: 'give at least one filter (a subtree, a level, codes, a step or a status): a batch never reaches every unit by accident',
  });
export type BatchFilter = z.infer<typeof BatchFilter>;

const Reason = Text({ max: 2000, multiline: true });

/** A preview's fingerprint: what a confirmation sends back (SHA-256, hex). */
export const Fingerprint = z.string().regex(/^[0-9a-f]{64}$/, 'the fingerprint a preview gave (64 hex digits)');

/**
 * What every decision on many units carries (a batch, an amendment, a hierarchy change followed, a
 * calendar applied): why, who, the preview's fingerprint that confirms it, and its ID (the same ID
 * again changes nothing).
 */
export const DecisionEnvelope = {
  reason: Reason,
  decidedBy: Text({ max: 200 }),
  fingerprint: Fingerprint.optional(),
  batchId: RequestId.optional(),
};

/**
 * The confirmation rule, in one place: a decision applies only with the fingerprint of a preview
 * that still holds. Nothing is changed otherwise.
 */
export function confirmFingerprint(given: string | undefined, current: string, changed: string): void {
  if (given === undefined) throw DomainError.of('fingerprint', 'confirm the preview: send the fingerprint the preview gave (the CLI does it when you answer yes or give --yes)');
  if (given !== current) throw DomainError.conflict('fingerprint', `${changed} since the preview; preview again and confirm what it shows (nothing was changed)`);
}

/** What each unit of the batch gets. */
export const BatchAction = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('extend'),
    step: z.string().min(1).max(64),
    occurrence: z.number().int().min(0).optional(),
    /** The new deadline: a date (the end of that day, Vietnam time) or an instant. */
    until: Text({ max: 40 }),
    decision: Text({ max: 2000, multiline: true }).optional(),
  }),
  z.strictObject({
    action: z.literal('direct'),
    /** Only escalations of this step (default: every open escalation addressed to the committee). */
    step: z.string().min(1).max(64).optional(),
    directive: Text({ max: 2000, multiline: true }),
    respondBy: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
      .optional(),
  }),
  z.strictObject({ action: z.literal('acknowledge'), step: z.string().min(1).max(64).optional(), note: Text({ max: 2000, multiline: true }).optional() }),
  z.strictObject({ action: z.literal('suspend') }),
  z.strictObject({ action: z.literal('resume') }),
  z.strictObject({ action: z.literal('cancelUnit') }),
]);
export type BatchAction = z.infer<typeof BatchAction>;
export type BatchActionName = BatchAction['action'];

/** Actions that need the deciding committee (an extension, or acting on escalations addressed to it). */
export const COMMITTEE_ACTIONS: ReadonlySet<BatchActionName> = new Set(['extend', 'direct', 'acknowledge']);

export const BatchRequest = z.strictObject({
  filter: BatchFilter,
  action: BatchAction,
  /** The standing committee deciding: the token's unit for a committee; required of ops for extend/direct/acknowledge. */
  committee: UnitCode.optional(),
  /** Who decided (an actor string: `user:…`, `committee:…/person`), why, and the preview's fingerprint: the batch starts only if the filter still matches exactly those units. */
  ...DecisionEnvelope,
});
export type BatchRequest = z.input<typeof BatchRequest>;

export type BatchItemStatus = 'pending' | 'done' | 'unchanged' | 'refused';

/** The words for a batch's action, Vietnamese first. */
export const BATCH_ACTION_WORDS: Record<BatchActionName | 'amend' | 'recalendar' | 'hierarchy', { vi: string; en: string }> = {
  extend: { vi: 'gia hạn', en: 'extend' },
  direct: { vi: 'chỉ đạo', en: 'direct' },
  acknowledge: { vi: 'tiếp nhận kiến nghị', en: 'acknowledge' },
  suspend: { vi: 'tạm dừng tính hạn', en: 'suspend' },
  resume: { vi: 'tiếp tục tính hạn', en: 'resume' },
  cancelUnit: { vi: 'thôi theo dõi', en: 'stop following' },
  // The application's own batches: an amended plan, a changed calendar, applied to every running unit.
  amend: { vi: 'áp dụng kế hoạch sửa đổi', en: 'apply the amended plan' },
  recalendar: { vi: 'tính lại hạn theo lịch nghỉ mới', en: 'recompute deadlines for the new calendar' },
  hierarchy: { vi: 'theo hệ thống tổ chức mới', en: 'follow the new hierarchy' },
};
