/**
 * rolloutWorkflow — one rollout of a resolution down a pinned hierarchy.
 *
 * Lifecycle: record RolloutStarted (with the plan and the pinned hierarchy version), start the root
 * unit's workflow (which starts its own children, mirroring the hierarchy), wait until the root
 * reports that it and its whole subtree are finished, record RolloutCompleted. It has one child and a
 * handful of events, so it never needs to continue-as-new; the unit workflows do.
 *
 * cancelRollout (Update): ops stops the rollout. RolloutCancelled is recorded, the root unit is told,
 * and the cancellation runs down the tree (each running unit records UnitCancelled and tells its
 * children). Refused once the rollout has finished.
 */
import { ApplicationFailure, ParentClosePolicy, WorkflowIdReusePolicy, allHandlersFinished, condition, executeChild, getExternalWorkflowHandle, patched, setHandler } from '@temporalio/workflow';
import { storeUnbounded as store } from './activities';
import { unstorableIssues } from '../domain/storable';
import type { DocumentFacts } from '../domain/events';
import type { Plan } from '../domain/plan';
import { eventId, streams } from '../domain/ids';
import { DomainError } from '../domain/errors';
import { reportSchemas, type CancelResult } from '../domain/reports';
import { toLocalIso } from '../domain/time';
import { cancelRolloutUpdate, cancelUnitSignal, unitWorkflowId } from './definitions';
import { signalIfRunning } from './children';
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
  cancelled?: boolean;
}

/**
 * Patch: RolloutCancelled records the cancellation's request ID, so that a retried cancel is answered
 * as the first one even after the rollout's workflow has closed. Histories recorded before it replay
 * without the field.
 */
const CANCEL_RECORDS_REQUEST_ID = 'cancel-records-request-id';

export async function rolloutWorkflow(input: RolloutWorkflowInput): Promise<RolloutWorkflowResult> {
  const streamId = streams.rollout(input.rolloutId);
  const base = { streamId, rolloutId: input.rolloutId, unitCode: null };
  await store.appendEvents({
    events: [
      {
        ...base,
        eventId: eventId(streamId, 1),
        streamSeq: 1,
        type: 'RolloutStarted',
        actor: input.requestedBy,
        occurredAt: new Date().toISOString(),
        payload: {
          rolloutId: input.rolloutId,
          resolution: input.resolution,
          plan: input.plan,
          planId: input.plan.id,
          rootUnit: input.rootUnit,
          hierarchyVersion: input.hierarchyVersion,
          ...(input.units ? { units: input.units } : {}),
          requestedBy: input.requestedBy,
        },
      },
    ],
  });
  let cancelled: CancelResult | undefined;
  let finishing = false;
  const rootId = unitWorkflowId(input.rolloutId, input.rootUnit);
  setHandler(
    cancelRolloutUpdate,
    async (raw) => {
      const req = reportSchemas().CancelRollout.parse(raw);
      if (cancelled) return { ...cancelled, duplicate: true };
      cancelled = { requestId: req.requestId, duplicate: false, rolloutId: input.rolloutId, cancelledAt: toLocalIso(new Date()) };
      await store.appendEvents({
        events: [
          {
            ...base,
            eventId: eventId(streamId, 2),
            streamSeq: 2,
            type: 'RolloutCancelled',
            actor: req.requestedBy,
            occurredAt: new Date().toISOString(),
            payload: { reason: req.reason, requestedBy: req.requestedBy, ...(patched(CANCEL_RECORDS_REQUEST_ID) ? { requestId: req.requestId } : {}) },
          },
        ],
      });
      await signalIfRunning(rootId, () => getExternalWorkflowHandle(rootId).signal(cancelUnitSignal, { reason: req.reason }));
      return cancelled;
    },
    {
      validator: (raw) => {
        const parsed = reportSchemas().CancelRollout.safeParse(raw);
        const unstorable = parsed.success ? unstorableIssues(parsed.data, [], 'cancellation') : [];
        const problem = !parsed.success
          ? DomainError.fromZod('cancellation', parsed.error)
          : unstorable.length
            ? new DomainError(unstorable)
            : finishing
              ? new DomainError([{ path: 'rolloutId', message: `rollout ${input.rolloutId} has already completed` }])
              : cancelled && cancelled.requestId !== parsed.data.requestId
                ? new DomainError([{ path: 'rolloutId', message: `rollout ${input.rolloutId} was already cancelled at ${cancelled.cancelledAt}` }])
                : undefined;
        if (problem) throw ApplicationFailure.create({ type: 'InvalidReport', message: problem.message, nonRetryable: true, details: [problem.issues] });
      },
    },
  );
  const root = await executeChild(unitWorkflow, {
    workflowId: rootId,
    args: [{ rolloutId: input.rolloutId, unitCode: input.rootUnit, ...(input.maxChildren ? { maxChildren: input.maxChildren } : {}) }],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
  });
  if (!cancelled) {
    finishing = true;
    await store.appendEvents({
      events: [{ ...base, eventId: eventId(streamId, 2), streamSeq: 2, type: 'RolloutCompleted', actor: 'system', occurredAt: new Date().toISOString(), payload: {} }],
    });
  }
  await condition(allHandlersFinished);
  return { rolloutId: input.rolloutId, lateSteps: root.lateSteps, ...(cancelled ? { cancelled: true } : {}) };
}
