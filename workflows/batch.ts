/**
 * batchWorkflow — one batch (domain/batches.ts) worked through to the end, surviving restarts of
 * workers and servers: it asks its activity to apply the next slice of pending units until every
 * unit has answered. The activity applies each unit through the application layer (one Update per
 * unit, idempotent by `<batchId>:<n>`), records its result in the batch's items and, after the last
 * one, BatchCompleted. The workflow keeps no state of its own beyond the batch ID, so it continues as
 * new freely; each run stays far below the history budget.
 */
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ActivityContract, BatchCounts } from './activity-contract';

/** Units per activity call (progress is visible after each). */
const SLICE = 25;
/** Slices per run before continuing as new (three history events each). */
const SLICES_PER_RUN = 500;

const batches = proxyActivities<Pick<ActivityContract, 'runBatchSlice'>>({
  startToCloseTimeout: '15 minutes',
  // It heartbeats after every unit: a killed worker's slice is retried elsewhere within this.
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['NotFound', 'InvalidEvent', 'InvalidData', 'EventConflict'] },
});

export interface BatchWorkflowInput {
  batchId: string;
}

export async function batchWorkflow(input: BatchWorkflowInput): Promise<BatchCounts> {
  for (let slice = 0; ; slice++) {
    const r = await batches.runBatchSlice({ batchId: input.batchId, size: SLICE });
    if (r.finished) return r.counts;
    if (slice + 1 >= SLICES_PER_RUN || workflowInfo().continueAsNewSuggested) await continueAsNew<typeof batchWorkflow>(input);
  }
}
