/**
 * Activities: all of the workflows' I/O. Built by a factory so that the worker (and tests) decide
 * which database they talk to. Each activity is idempotent: events carry IDs derived from the
 * workflow, so a retry appends nothing twice.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Kysely } from 'kysely';
import { DomainError } from '../domain/errors';
import type { NewEvent } from '../domain/events';
import { checkNewEvent } from '../domain/storable';
import { isDatabaseUnavailable, isPermanentDataError } from '../db/errors';
import { Plan } from '../domain/plan';
import { ancestorsInRollout } from '../domain/escalation';
import type { Database } from '../db/database';
import { appendEvents, EventConflictError, type AfterAppend, type AppendResult } from '../db/event-store';
import { countChildren, getAncestors, getUnit, listChildren } from '../db/hierarchy';
import { getRollout } from '../db/queries';
import { pinnedDefaultCalendar } from '../db/calendars';
import type { UnitContext } from '../workflows/unit-state';
import type { ActivityContract } from '../workflows/activity-contract';
import { runBatchSlice } from '../app/batches';

export interface ActivityDeps {
  db: Kysely<Database>;
  /** Run in each append's transaction for every fresh event: the worker passes the notification outbox. */
  afterAppend?: AfterAppend;
}

/**
 * Failure types of the activities. Non-retryable: EventConflict, NotFound, InvalidEvent (the event
 * breaks the schema or holds text PostgreSQL cannot store), InvalidData (PostgreSQL refused the data:
 * SQLSTATE class 22/23, or a stored row does not parse). Retryable: DatabaseUnavailable (PostgreSQL is
 * down or dropped the connection; nothing was committed) and anything unexpected.
 */
export const NON_RETRYABLE_TYPES = ['EventConflict', 'NotFound', 'InvalidEvent', 'InvalidData'] as const;

/** Turn what went wrong into the failure Temporal should see: permanent ones never retried. */
export function activityFailure(e: unknown): unknown {
  if (e instanceof ApplicationFailure) return e;
  if (e instanceof EventConflictError) return ApplicationFailure.create({ type: 'EventConflict', message: e.message, nonRetryable: true });
  if (e instanceof DomainError) return ApplicationFailure.create({ type: 'InvalidEvent', message: e.message, nonRetryable: true, details: [e.issues] });
  if (e instanceof Error && e.name === 'ZodError') return ApplicationFailure.create({ type: 'InvalidData', message: e.message, nonRetryable: true });
  if (isPermanentDataError(e)) return ApplicationFailure.create({ type: 'InvalidData', message: `PostgreSQL refused the data: ${(e as Error).message}`, nonRetryable: true, cause: e as Error });
  if (isDatabaseUnavailable(e)) return ApplicationFailure.create({ type: 'DatabaseUnavailable', message: `database unavailable, nothing recorded: ${(e as Error).message}`, cause: e as Error });
  return e;
}

/**
 * Heartbeat while `work` runs (when the activity has a heartbeat timeout): if the worker dies, the
 * server notices within the heartbeat timeout and retries the activity elsewhere, instead of waiting
 * for the start-to-close timeout. The SDK throttles what it actually sends to the server.
 */
async function withHeartbeats<T>(work: () => Promise<T>): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined; // called outside an activity (tests calling the function directly)
  }
  const timeout = ctx?.info.heartbeatTimeoutMs;
  if (!ctx || !timeout) return work();
  const c = ctx;
  c.heartbeat();
  const timer = setInterval(() => c.heartbeat(), Math.max(200, Math.floor(timeout / 4)));
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

async function classified<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw activityFailure(e);
  }
}

export function createActivities({ db, afterAppend }: ActivityDeps) {
  return {
    /** Append a workflow's events (in stream order) and project them into the read model. */
    async appendEvents({ events }: { events: NewEvent[] }): Promise<AppendResult> {
      return classified(async () => {
        const parsed = events.map((e) => checkNewEvent(e));
        return withHeartbeats(() => appendEvents(db, parsed, { afterAppend }));
      });
    },

    /** Everything a unit workflow needs to know about its unit, from the rollout's pinned hierarchy. */
    async loadUnitContext({ rolloutId, unitCode }: { rolloutId: string; unitCode: string }): Promise<UnitContext> {
      return classified(() => loadUnitContext(db, rolloutId, unitCode));
    },

    /** A page of a unit's children in the pinned hierarchy. */
    async listChildren({ rolloutId, unitCode, offset, limit }: { rolloutId: string; unitCode: string; offset: number; limit: number }): Promise<{ codes: string[] }> {
      return classified(async () => {
        const rollout = await getRollout(db, rolloutId);
        if (!rollout) throw ApplicationFailure.create({ type: 'NotFound', message: `rollout ${rolloutId} is not recorded`, nonRetryable: true });
        return { codes: await listChildren(db, rollout.hierarchy_version, unitCode, offset, limit) };
      });
    },

    /**
     * Apply the next units of a batch, as a user would: through the application layer, with the
     * worker's own Temporal client. Heartbeats after each unit.
     */
    async runBatchSlice({ batchId, size }: { batchId: string; size: number }) {
      return classified(async () => {
        const ctx = Context.current();
        try {
          return await runBatchSlice({ db, client: ctx.client, taskQueue: ctx.info.taskQueue }, batchId, size, () => ctx.heartbeat());
        } catch (e) {
          if (e instanceof DomainError && e.kind === 'not_found') throw ApplicationFailure.create({ type: 'NotFound', message: e.message, nonRetryable: true });
          throw e;
        }
      });
    },
  } satisfies ActivityContract;
}

async function loadUnitContext(db: Kysely<Database>, rolloutId: string, unitCode: string): Promise<UnitContext> {
  const rollout = await getRollout(db, rolloutId);
  if (!rollout) throw ApplicationFailure.create({ type: 'NotFound', message: `rollout ${rolloutId} is not recorded`, nonRetryable: true });
  const unit = await getUnit(db, rollout.hierarchy_version, unitCode);
  if (!unit) throw ApplicationFailure.create({ type: 'NotFound', message: `unit ${unitCode} is not in hierarchy version ${rollout.hierarchy_version}`, nonRetryable: true });
  return {
    rolloutId,
    unit,
    ancestors: ancestorsInRollout(unitCode, rollout.root_unit, await getAncestors(db, rollout.hierarchy_version, unitCode)),
    plan: Plan.parse(rollout.plan),
    rolloutStartedAt: new Date(rollout.started_at).getTime(),
    childCount: await countChildren(db, rollout.hierarchy_version, unitCode),
    // The newest version of the default calendar, pinned for the unit's life (a recalendar change replaces it).
    calendar: await pinnedDefaultCalendar(db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
