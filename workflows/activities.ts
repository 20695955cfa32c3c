/**
 * How workflows call their activities, in one place.
 *
 * - Reads (`loadUnitContext`, `listChildren`) are local activities: short, side-effect-free queries
 *   that run inside the workflow task, saving two server round trips each. With thousands of units
 *   enrolling at once that is most of the load.
 * - The append to the audit record is a normal activity. Its content (including the workflow time
 *   of each event) must be decided by a workflow task that the server has accepted: a local activity
 *   would write events of a speculative task, and if that task were retried (e.g. because a signal
 *   arrived meanwhile) the same event ID could be re-decided with different content.
 * Both are idempotent: events carry IDs derived from the workflow.
 */
import { proxyActivities, proxyLocalActivities, type RetryPolicy } from '@temporalio/workflow';
import type { ActivityContract } from './activity-contract';

const retry: RetryPolicy = { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['EventConflict', 'NotFound'] };

export const reads = proxyLocalActivities<Pick<ActivityContract, 'loadUnitContext' | 'listChildren'>>({
  startToCloseTimeout: '30 seconds',
  // Past this, retries wait on durable timers instead of holding the workflow task.
  localRetryThreshold: '10 seconds',
  retry,
});

export const store = proxyActivities<Pick<ActivityContract, 'appendEvents'>>({ startToCloseTimeout: '1 minute', retry });
