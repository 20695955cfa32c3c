/**
 * Sending an Update to a workflow, retried when the server could not deliver it for a reason that
 * passes by itself, in one place (the CLI and the HTTP API both go through client/operations.ts):
 *
 * - "Workflow Task in failed state": the workflow's last task failed (typically a worker that was
 *   killed or restarted mid-task) and the server refuses Updates until a worker has run the task
 *   again, which takes a moment;
 * - the server unavailable (a restart), or the call timed out or was cancelled before an answer.
 *
 * Retrying is safe because every Update of this project is idempotent by its request ID (report ID,
 * extension or cancellation request ID): an Update that did get through the first time answers the
 * second time with the first answer (`duplicate: true`) and records nothing more.
 *
 * With `db`, PostgreSQL is probed first: when it is down the Update is not sent at all and the caller
 * is told "database unavailable, nothing recorded" (DatabaseUnavailableError) instead of waiting for
 * an append that cannot happen yet.
 */
import { isGrpcServiceError, WorkflowUpdateRPCTimeoutOrCancelledError, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../db/errors';

export interface UpdateRetryOptions {
  /** Attempts in all (default 6: about 15 s of backoff). */
  attempts?: number;
  /** First delay; doubled after each attempt, capped at 5 s (default 500 ms). */
  initialDelayMs?: number;
  /** Probe PostgreSQL before sending (see above). */
  db?: Kysely<Database>;
  /** Told before each retry (tests, logs). */
  onRetry?: (attempt: number, error: unknown) => void;
}

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/** A failure to deliver an Update that passes by itself (see the module comment). */
export function isTransientUpdateError(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x && typeof x === 'object' && depth < 6; x = (x as { cause?: unknown }).cause, depth++) {
    if (x instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    const text = `${(x as { message?: unknown }).message ?? ''} ${(x as { details?: unknown }).details ?? ''}`;
    if (/workflow task in failed state/i.test(text)) return true;
    if (isGrpcServiceError(x) && x.code === GRPC_UNAVAILABLE) return true;
  }
  return false;
}

/**
 * Temporal cannot be reached (down, restarting, or the connection could not be made). Whether a request
 * that failed this way got through is unknown, so the answer says to retry it with the same request
 * ID, which counts once.
 */
export function isTemporalUnavailable(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x && typeof x === 'object' && depth < 6; x = (x as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(x) && (x.code === GRPC_UNAVAILABLE || x.code === GRPC_DEADLINE_EXCEEDED)) return true;
    const name = (x as { name?: unknown }).name;
    const text = String((x as { message?: unknown }).message ?? '');
    if (name === 'TransportError' || /failed to connect before the deadline|connection refused|ECONNREFUSED|tcp connect error/i.test(text)) return true;
  }
  return false;
}

export const TEMPORAL_UNAVAILABLE_MESSAGE = 'the workflow service (Temporal) is unavailable; try again with the same request ID (a request that got through counts once)';

/** Fail fast with DatabaseUnavailableError when PostgreSQL cannot be reached. */
export async function ensureDatabaseAvailable(db: Kysely<Database>): Promise<void> {
  try {
    await sql`select 1`.execute(db);
  } catch (e) {
    if (isDatabaseUnavailable(e)) throw new DatabaseUnavailableError(e);
    throw e;
  }
}

/** `handle.executeUpdate(update, { args })`, retried with bounded attempts and backoff on transient failures. */
export async function executeUpdateWithRetry<Ret, Args extends [unknown, ...unknown[]], Name extends string = string>(
  handle: WorkflowHandle,
  update: UpdateDefinition<Ret, Args, Name>,
  args: Args,
  opts: UpdateRetryOptions = {},
): Promise<Ret> {
  const attempts = Math.max(1, opts.attempts ?? 6);
  let delay = opts.initialDelayMs ?? 500;
  if (opts.db) await ensureDatabaseAvailable(opts.db);
  for (let attempt = 1; ; attempt++) {
    try {
      return await handle.executeUpdate(update, { args });
    } catch (e) {
      if (attempt >= attempts || !isTransientUpdateError(e)) throw e;
      opts.onRetry?.(attempt, e);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
