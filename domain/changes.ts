/**
 * Changes to a running unit (issue 10, "living rollouts"): what ops, a committee or a batch asks one
 * unit workflow to do beyond reports and the decisions of reports.ts. One Update (`changeUnit`)
 * carries every kind, discriminated by `op`, so a batch treats them alike and one request-ID rule
 * makes each idempotent:
 *
 * - `suspend` / `resume`: stop and restart a deadline's clock (floods, a merger in progress). While
 *   suspended no reminder, deadline or escalation fires; on resume every unfinished deadline moves
 *   by the time suspended.
 * - `cancelUnit`: stop following one unit (its open steps close without completion).
 * - `amend`: the rollout's plan was amended; the unit applies the new version to its steps.
 * - `recalendar`: the holiday calendar changed; working-day deadlines are computed again.
 * - `reshape`: the unit itself changed in the hierarchy (renamed, moved to a new parent, its member
 *   count or standing-committee flag changed) or its ancestors did; escalations route along the new
 *   tree from now on.
 * - `merge`: the unit was merged into `successor`; it ends as "merged into X" and answers with the
 *   handover (its open steps, attendance, open escalations) that `inherit` passes to the successor.
 * - `dissolve`: the unit ends as "dissolved", its open escalations resolved as such.
 * - `inherit`: the successor of a merge takes over a predecessor's handover.
 * - `adoptChild` / `releaseChild`: the parent unit starts following a child that joined (starting
 *   its workflow when `start`), or stops waiting for one that moved away, merged or dissolved.
 *
 * Every change names who decided it (`decidedBy`, an actor string such as `user:ops` or
 * `committee:BG`), why (`reason`) and, when it is part of a batch, the batch it belongs to.
 *
 * The schemas are built on first use (see reports.ts: most unit workflows never receive one).
 * Pure: imported by workflow code.
 */
import { z } from 'zod';
import { RequestId, UnitCode } from './codes';
import { Text } from './text';
import { LocalDate } from './time';
import { AncestorRef, UnitSnapshot } from './events';

/** Why the unit's record ended, when it ended other than by completing. */
export type UnitEnding = 'merged' | 'dissolved' | 'cancelled';

function build() {
  const Envelope = {
    /** Idempotency key: the same ID twice counts once, even across continue-as-new. */
    requestId: RequestId,
    /** Who decided: `user:<name>`, `committee:<code>[/<person>]`, `system`. */
    decidedBy: Text({ max: 200 }),
    reason: Text({ max: 2000, multiline: true }),
    /** The batch this change belongs to (ties its events together in the audit record). */
    batchId: RequestId.optional(),
  };
  /** When the change takes effect in the organisation (the date of the decision on the hierarchy). */
  const EffectiveFrom = LocalDate;

  /** What a merged unit passes to its successor: per step key, what it had done towards it. */
  const Handover = z.strictObject({
    steps: z
      .array(
        z.strictObject({
          key: z.string().min(1).max(64),
          status: z.enum(['waiting', 'open', 'done']),
          attended: z.number().int().min(0),
          openEscalations: z.array(z.string().max(300)).max(20),
          completedAt: z.number().int().nullable(),
        }),
      )
      .max(500),
    members: z.number().int().min(0),
  });

  const Suspend = z.strictObject({ ...Envelope, op: z.literal('suspend') });
  const Resume = z.strictObject({ ...Envelope, op: z.literal('resume') });
  const CancelUnit = z.strictObject({ ...Envelope, op: z.literal('cancelUnit') });
  const Amend = z.strictObject({
    ...Envelope,
    op: z.literal('amend'),
    planVersion: z.number().int().min(1),
    planHash: z.string().regex(/^[0-9a-f]{64}$/),
    /** The whole amended plan (validated by domain/plan.ts before it is sent). */
    plan: z.unknown(),
    /** Keep a unit's own extensions of a moved deadline (the default), or override them. */
    keepExtensions: z.boolean().default(true),
  });
  const Recalendar = z.strictObject({
    ...Envelope,
    op: z.literal('recalendar'),
    /** The calendar to use from now on: its version and the days it changes (see domain/calendar). */
    calendar: z.strictObject({
      id: Text({ max: 100 }),
      version: z.number().int().min(1),
      daysOff: z.array(LocalDate).max(5000),
      workingDays: z.array(LocalDate).max(1000),
      /** Years the calendar covers (announced or computed); a working-day deadline outside them is flagged. */
      years: z.array(z.number().int()).max(300),
      provisionalYears: z.array(z.number().int()).max(300),
    }),
  });
  const Reshape = z.strictObject({
    ...Envelope,
    op: z.literal('reshape'),
    effectiveFrom: EffectiveFrom,
    /** The unit as it is now (name, level, parent, members, standing committee). */
    unit: UnitSnapshot,
    /** Its ancestors in the rollout's world as they are now, nearest first. */
    ancestors: z.array(AncestorRef).max(50),
    hierarchyVersion: z.number().int().min(1),
  });
  const Merge = z.strictObject({ ...Envelope, op: z.literal('merge'), effectiveFrom: EffectiveFrom, successor: UnitCode, hierarchyVersion: z.number().int().min(1) });
  const Dissolve = z.strictObject({ ...Envelope, op: z.literal('dissolve'), effectiveFrom: EffectiveFrom, hierarchyVersion: z.number().int().min(1) });
  const Inherit = z.strictObject({ ...Envelope, op: z.literal('inherit'), effectiveFrom: EffectiveFrom, from: UnitCode, handover: Handover });
  const AdoptChild = z.strictObject({ ...Envelope, op: z.literal('adoptChild'), child: UnitCode, start: z.boolean() });
  const ReleaseChild = z.strictObject({ ...Envelope, op: z.literal('releaseChild'), child: UnitCode });

  const UnitChange = z.discriminatedUnion('op', [Suspend, Resume, CancelUnit, Amend, Recalendar, Reshape, Merge, Dissolve, Inherit, AdoptChild, ReleaseChild]);
  return { UnitChange, Handover, Suspend, Resume, CancelUnit, Amend, Recalendar, Reshape, Merge, Dissolve, Inherit, AdoptChild, ReleaseChild };
}

type Schemas = ReturnType<typeof build>;
let built: Schemas | undefined;

/** The schemas of every change, built on first use. */
export function changeSchemas(): Schemas {
  return (built ??= build());
}

export type UnitChange = z.infer<Schemas['UnitChange']>;
export type UnitChangeInput = z.input<Schemas['UnitChange']>;
export type UnitChangeOp = UnitChange['op'];
export type Handover = z.infer<Schemas['Handover']>;
export type ChangeOf<Op extends UnitChangeOp> = Extract<UnitChange, { op: Op }>;

export const UNIT_CHANGE_OPS: readonly UnitChangeOp[] = ['suspend', 'resume', 'cancelUnit', 'amend', 'recalendar', 'reshape', 'merge', 'dissolve', 'inherit', 'adoptChild', 'releaseChild'];

/** What the unit workflow answers to a change. */
export interface UnitChangeResult {
  requestId: string;
  duplicate: boolean;
  unitCode: string;
  op: UnitChangeOp;
  /** False when the change had nothing to do for this unit (recorded nothing). */
  changed: boolean;
  /** One line, Vietnamese first, for a batch's per-unit result. */
  summary: { vi: string; en: string };
  /** For `merge`: what the successor inherits. */
  handover?: Handover;
  /** Deadlines that moved: step key → old and new instant (local ISO). */
  moved?: Array<{ key: string; previousDueAt: string | null; newDueAt: string | null }>;
  /** Local ISO time the change was recorded. */
  at: string;
}
