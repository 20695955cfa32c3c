/**
 * Every name shared between workflows, the client and tests: workflow IDs, the task queue, signals,
 * queries and updates. Never use raw strings for these elsewhere.
 *
 * Workflow IDs are deterministic, so a repeated start of the same rollout or unit is harmless: the
 * server rejects the duplicate and we treat that as "already running".
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AcknowledgeEscalationInput,
  CancelResult,
  CancelRolloutInput,
  DirectEscalationInput,
  EscalationActionResult,
  ExtendDeadlineInput,
  ExtendResult,
  ReportResult,
  StepReportInput,
} from '../domain/reports';
import type { StepKind } from '../domain/plan';
import type { UnitChangeInput, UnitChangeResult } from '../domain/changes';

export const TASK_QUEUE = 'trienkhai';

/** Temporal limit respected by design: at most this many children under one parent workflow. */
export const MAX_CHILDREN_PER_PARENT = 1000;

export const rolloutWorkflowId = (rolloutId: string): string => `trienkhai/rollout/${rolloutId}`;
export const unitWorkflowId = (rolloutId: string, unitCode: string): string => `trienkhai/unit/${rolloutId}/${unitCode}`;
export const batchWorkflowId = (batchId: string): string => `trienkhai/batch/${batchId}`;
export const fanoutWorkflowId = (rolloutId: string, ownerCode: string, batch: number): string => `trienkhai/fanout/${rolloutId}/${ownerCode}/${batch}`;

export type WorkflowRef = { kind: 'rollout'; rolloutId: string } | { kind: 'unit'; rolloutId: string; unitCode: string } | { kind: 'fanout'; rolloutId: string; ownerCode: string; batch: number };

/** One of the IDs above read back (the only place that takes one apart); undefined if it is not ours. */
export function parseWorkflowId(id: string): WorkflowRef | undefined {
  const [app, kind, rolloutId, code, batch, ...rest] = id.split('/');
  if (app !== 'trienkhai' || !rolloutId || rest.length) return undefined;
  if (kind === 'rollout' && code === undefined) return { kind, rolloutId };
  if (kind === 'unit' && code && batch === undefined) return { kind, rolloutId, unitCode: code };
  if (kind === 'fanout' && code && batch !== undefined && /^\d+$/.test(batch)) return { kind, rolloutId, ownerCode: code, batch: Number(batch) };
  return undefined;
}

/** Search attributes registered on the dev server (`--search-attribute`), for finding workflows in the Web UI. */
export const SEARCH_ATTRIBUTES = { TrienkhaiRollout: 'Keyword' } as const;

/** A parent unit completed all its steps of one kind: opens its children's cascaded steps. */
export interface ParentStepCompleted {
  kind: StepKind;
  parentCode: string;
  /** Workflow time (ms since epoch) when the parent completed. */
  completedAt: number;
  /** The date of the parent's document, when the step issued one (children's documents cannot predate it). */
  documentDate?: string;
}

/** A unit's report for one of its steps (Update with validator: bad input is rejected, nothing recorded). */
export const reportStepUpdate = defineUpdate<ReportResult, [StepReportInput]>('reportStep');
/** A standing committee extends a deadline (gia hạn): timers reset, escalations resolved. */
export const extendDeadlineUpdate = defineUpdate<ExtendResult, [ExtendDeadlineInput]>('extendDeadline');
/** The committee an escalation is addressed to acknowledges it. */
export const acknowledgeEscalationUpdate = defineUpdate<EscalationActionResult, [AcknowledgeEscalationInput]>('acknowledgeEscalation');
/** The committee an escalation is addressed to directs the unit. */
export const directEscalationUpdate = defineUpdate<EscalationActionResult, [DirectEscalationInput]>('directEscalation');
/** A change beyond reports (domain/changes.ts): suspend/resume the clock, stop following the unit, amend, reshape, merge… */
export const changeUnitUpdate = defineUpdate<UnitChangeResult, [UnitChangeInput]>('changeUnit');
/** Ops cancels a rollout (sent to the rollout workflow, which tells the root unit). */
export const cancelRolloutUpdate = defineUpdate<CancelResult, [CancelRolloutInput]>('cancelRollout');
/** Down the tree: the rollout is cancelled; record it, tell the children, stop. */
export const cancelUnitSignal = defineSignal<[{ reason: string }]>('cancelUnit');
/** Parent → child: the cascade. */
export const parentStepCompletedSignal = defineSignal<[ParentStepCompleted]>('parentStepCompleted');
/** Child → parent unit: the child and its whole subtree have finished; how many of their steps were late. */
export const childCompletedSignal = defineSignal<[{ unitCode: string; subtreeLateSteps?: number }]>('childCompleted');
/** Owner unit → fan-out batch: nothing more to forward, finish. */
export const closeFanoutSignal = defineSignal<[]>('closeFanout');

export interface UnitStatusView {
  unitCode: string;
  steps: Array<{ key: string; status: 'waiting' | 'open' | 'done'; dueAt: string | null; openEscalations: number }>;
  childrenStarted: number;
  childrenTotal: number;
  childrenCompleted: number;
  run: { historyLength: number; continuedAsNew: number };
}
/** Live state of a unit workflow, for debugging; the CLI reads the read model instead. */
export const unitStatusQuery = defineQuery<UnitStatusView>('unitStatus');
