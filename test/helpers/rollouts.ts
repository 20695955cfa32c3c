/**
 * Starting a rollout workflow directly in workflow tests (without the application layer), and reading
 * why an Update was refused: the same few lines every such test needs.
 */
import type { Client } from '@temporalio/client';
import type { Plan } from '../../domain/plan';
import { rolloutWorkflowId } from '../../workflows/definitions';
import { rolloutWorkflow } from '../../workflows/rollout';

export interface TestRollout {
  taskQueue: string;
  rolloutId: string;
  plan: Plan;
  hierarchyVersion: number;
  rootUnit?: string;
  units?: number;
  requestedBy?: string;
  maxChildren?: number;
}

/** Start a rollout of 21-NQ/TW with the given plan, from `rootUnit` (default P). */
export function startTestRollout(client: Client, r: TestRollout) {
  return client.workflow.start(rolloutWorkflow, {
    taskQueue: r.taskQueue,
    workflowId: rolloutWorkflowId(r.rolloutId),
    args: [
      {
        rolloutId: r.rolloutId,
        resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: '2022-06-16' }, title: 'x' },
        plan: r.plan,
        rootUnit: r.rootUnit ?? 'P',
        hierarchyVersion: r.hierarchyVersion,
        requestedBy: r.requestedBy ?? 'user:ops',
        ...(r.units !== undefined ? { units: r.units } : {}),
        ...(r.maxChildren !== undefined ? { maxChildren: r.maxChildren } : {}),
      },
    ],
  });
}

/** Why an Update was refused: the workflow's message (carried as the cause), or 'accepted'. */
export const refusal = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'accepted',
    (e: { message: string; cause?: { message: string } }) => e.cause?.message ?? e.message,
  );
