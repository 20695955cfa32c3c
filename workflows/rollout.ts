/**
 * rolloutWorkflow — one rollout of a resolution down a pinned hierarchy.
 *
 * Lifecycle: record RolloutStarted (with the plan and the pinned hierarchy version), start the root
 * unit's workflow (which starts its own children, mirroring the hierarchy), wait until the root
 * reports that it and its whole subtree are finished, record RolloutCompleted. It has one child and a
 * handful of events, so it never needs to continue-as-new; the unit workflows do.
 */
import { ParentClosePolicy, WorkflowIdReusePolicy, executeChild } from '@temporalio/workflow';
import { store } from './activities';
import type { DocumentFacts } from '../domain/events';
import type { Plan } from '../domain/plan';
import { streams } from '../domain/streams';
import { unitWorkflowId } from './definitions';
import { unitWorkflow } from './unit';


export interface RolloutWorkflowInput {
  rolloutId: string;
  resolution: { document: DocumentFacts; title: string };
  plan: Plan;
  rootUnit: string;
  hierarchyVersion: number;
  requestedBy: string;
  /** Units in the pinned subtree, recorded so progress can be shown against it. */
  units?: number;
  /** Fan-out width for tests and benchmarks (see UnitWorkflowInput.maxChildren). */
  maxChildren?: number;
}

export interface RolloutWorkflowResult {
  rolloutId: string;
  lateSteps: number;
}

export async function rolloutWorkflow(input: RolloutWorkflowInput): Promise<RolloutWorkflowResult> {
  const streamId = streams.rollout(input.rolloutId);
  const base = { streamId, rolloutId: input.rolloutId, unitCode: null };
  await store.appendEvents({
    events: [
      {
        ...base,
        eventId: `${streamId}#1`,
        streamSeq: 1,
        type: 'RolloutStarted',
        actor: input.requestedBy,
        occurredAt: new Date().toISOString(),
        payload: { rolloutId: input.rolloutId, resolution: input.resolution, plan: input.plan, planId: input.plan.id, rootUnit: input.rootUnit, hierarchyVersion: input.hierarchyVersion, ...(input.units ? { units: input.units } : {}), requestedBy: input.requestedBy },
      },
    ],
  });
  const root = await executeChild(unitWorkflow, {
    workflowId: unitWorkflowId(input.rolloutId, input.rootUnit),
    args: [{ rolloutId: input.rolloutId, unitCode: input.rootUnit, ...(input.maxChildren ? { maxChildren: input.maxChildren } : {}) }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
  });
  await store.appendEvents({
    events: [{ ...base, eventId: `${streamId}#2`, streamSeq: 2, type: 'RolloutCompleted', actor: 'system', occurredAt: new Date().toISOString(), payload: {} }],
  });
  return { rolloutId: input.rolloutId, lateSteps: root.lateSteps };
}
