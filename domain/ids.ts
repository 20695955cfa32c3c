/**
 * The identifiers the product builds from other identifiers, each built and read back by one pair of
 * functions here, so no other code assembles one with a template or takes one apart with a regex:
 * - stream IDs of the event log: `rollout/<rolloutId>`, `unit/<rolloutId>/<unitCode>`, `hierarchy`, `batch/<batchId>`, `changes/<rolloutId>`, `calendar/<calendarId>`;
 * - event IDs: `<streamId>#<seq>`, derived from the workflow, so a retried append is harmless;
 * - step keys: `<stepId>`, or `<stepId>#<k>` for the k-th occurrence (from 1) of a recurring step;
 * - escalation IDs: `<rolloutId>/<unitCode>/<stepKey>/<deadline ISO>/t<tier>`, one per deadline and tier.
 * Rollout IDs and unit codes cannot hold '/' or '#' (domain/codes.ts), so each part reads back exactly.
 *
 * Pure and small: workflow code imports it (no zod, so it costs nothing in each workflow's sandbox).
 */

export const streams = {
  rollout: (rolloutId: string): string => `rollout/${rolloutId}`,
  unit: (rolloutId: string, unitCode: string): string => `unit/${rolloutId}/${unitCode}`,
  hierarchy: (): string => 'hierarchy',
  /** A batch's own events (BatchStarted, BatchCompleted); its units' events stay in their streams. */
  batch: (batchId: string): string => `batch/${batchId}`,
  /** What the application decides for a whole running rollout: plan amendments (RolloutAmended), hierarchy changes followed (RolloutHierarchyChanged). */
  changes: (rolloutId: string): string => `changes/${rolloutId}`,
  /** The versions of one holiday calendar (CalendarImported). */
  calendar: (calendarId: string): string => `calendar/${calendarId}`,
};

export type StreamRef =
  | { kind: 'rollout'; rolloutId: string }
  | { kind: 'unit'; rolloutId: string; unitCode: string }
  | { kind: 'hierarchy' }
  | { kind: 'batch'; batchId: string }
  | { kind: 'changes'; rolloutId: string }
  | { kind: 'calendar'; calendarId: string };

/** A stream ID read back; undefined if it is not one of ours. */
export function parseStreamId(streamId: string): StreamRef | undefined {
  const parts = streamId.split('/');
  if (parts.length === 1 && parts[0] === 'hierarchy') return { kind: 'hierarchy' };
  if (parts.length === 2 && parts[0] === 'rollout' && parts[1]) return { kind: 'rollout', rolloutId: parts[1] };
  if (parts.length === 2 && parts[0] === 'calendar' && parts[1]) return { kind: 'calendar', calendarId: parts[1] };
  if (parts.length === 3 && parts[0] === 'unit' && parts[1] && parts[2]) return { kind: 'unit', rolloutId: parts[1], unitCode: parts[2] };
  if (parts.length === 2 && parts[0] === 'batch' && parts[1]) return { kind: 'batch', batchId: parts[1] };
  if (parts.length === 2 && parts[0] === 'changes' && parts[1]) return { kind: 'changes', rolloutId: parts[1] };
  return undefined;
}

/** The ID of the `seq`-th event of a stream. */
export const eventId = (streamId: string, seq: number): string => `${streamId}#${seq}`;

/** An event ID read back; undefined if it is not one of ours. */
export function parseEventId(id: string): { streamId: string; seq: number } | undefined {
  const at = id.lastIndexOf('#');
  if (at <= 0) return undefined;
  const seq = Number(id.slice(at + 1));
  if (!Number.isSafeInteger(seq) || seq < 1 || String(seq) !== id.slice(at + 1)) return undefined;
  return { streamId: id.slice(0, at), seq };
}

/** The key of one occurrence (0-based) of a plan step; a step that does not recur is its ID. */
export const stepKey = (stepId: string, occurrence: number, recurring: boolean): string => (recurring ? `${stepId}#${occurrence + 1}` : stepId);

export interface EscalationRef {
  rolloutId: string;
  unitCode: string;
  /** `stepId`, or `stepId#k` for occurrence k of a recurring step. */
  stepKey: string;
  /** The deadline that passed (ms since the epoch): a new deadline after an extension escalates anew. */
  dueAt: number;
  tier: number;
}

/** The ID of the escalation of one deadline of a step, at one tier. */
export const escalationId = (e: EscalationRef): string => `${e.rolloutId}/${e.unitCode}/${e.stepKey}/${new Date(e.dueAt).toISOString()}/t${e.tier}`;

/** An escalation ID read back; undefined if it is not one of ours. */
export function parseEscalationId(id: string): EscalationRef | undefined {
  const parts = id.split('/');
  if (parts.length !== 5) return undefined;
  const [rolloutId, unitCode, stepKey, due, tierText] = parts as [string, string, string, string, string];
  const dueAt = Date.parse(due);
  const tier = tierText.startsWith('t') ? Number(tierText.slice(1)) : NaN;
  if (!rolloutId || !unitCode || !stepKey || !Number.isFinite(dueAt) || !Number.isSafeInteger(tier) || tier < 1) return undefined;
  const ref = { rolloutId, unitCode, stepKey, dueAt, tier };
  return escalationId(ref) === id ? ref : undefined;
}
