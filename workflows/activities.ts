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

/**
 * Failure types that retrying cannot fix (activities/index.ts classifies errors into them): the event
 * conflicts with the record, something is not found, the event breaks the schema or holds text
 * PostgreSQL cannot store, PostgreSQL refused the data (SQLSTATE class 22/23). Everything else
 * (above all DatabaseUnavailable: PostgreSQL down or restarting) is retried with backoff.
 */
const NON_RETRYABLE = ['EventConflict', 'NotFound', 'InvalidEvent', 'InvalidData'];
const retry: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: NON_RETRYABLE };

export const reads = proxyLocalActivities<Pick<ActivityContract, 'loadUnitContext' | 'listChildren'>>({
  startToCloseTimeout: '30 seconds',
  // Past this, retries wait on durable timers instead of holding the workflow task.
  localRetryThreshold: '10 seconds',
  // No attempt limit: a read that fails for good throws a non-retryable type; a database that is down
  // must not fail the unit's workflow, which would then never enrol.
  retry,
});

/**
 * The append. It heartbeats while it runs (it may wait on the chain head's row lock or a read-model
 * rebuild), so when its worker dies the server retries it within the heartbeat timeout instead of
 * the start-to-close timeout: an event (an escalation at its deadline) is late by at most about
 * 10 s heartbeat timeout + 1 s first retry interval, plus the time until a worker is running again.
 * After 20 attempts (about 8 minutes of backoff) the flusher waits a minute on a durable timer and
 * schedules the append again; permanent failures are not retried and are rolled back (workflows/unit.ts).
 */
export const store = proxyActivities<Pick<ActivityContract, 'appendEvents'>>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  retry: { ...retry, maximumAttempts: 20 },
});

/** The same append without an attempt limit, for the rollout workflow, which has no flusher to wait in. */
export const storeUnbounded = proxyActivities<Pick<ActivityContract, 'appendEvents'>>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '10 seconds',
  retry,
});
