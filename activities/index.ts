/**
 * Activities: all of the workflows' I/O. Built by a factory so that the worker (and tests) decide
 * which database they talk to. Each activity is idempotent: events carry IDs derived from the
 * workflow, so a retry appends nothing twice.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Kysely } from 'kysely';
import { parseNewEvent, type NewEvent } from '../domain/events';
import { Plan } from '../domain/plan';
import { ancestorsInRollout } from '../domain/escalation';
import type { Database } from '../db/database';
import { appendEvents, EventConflictError, type AfterAppend, type AppendResult } from '../db/event-store';
import { countChildren, getAncestors, getUnit, listChildren } from '../db/hierarchy';
import { getRollout } from '../db/queries';
import type { UnitContext } from '../workflows/unit-state';
import type { ActivityContract } from '../workflows/activity-contract';

export interface ActivityDeps {
  db: Kysely<Database>;
  /** Run in each append's transaction for every fresh event: the worker passes the notification outbox. */
  afterAppend?: AfterAppend;
}

export function createActivities({ db, afterAppend }: ActivityDeps) {
  return {
    /** Append a workflow's events (in stream order) and project them into the read model. */
    async appendEvents({ events }: { events: NewEvent[] }): Promise<AppendResult> {
      const parsed = events.map((e) => parseNewEvent(e));
      try {
        return await appendEvents(db, parsed, { afterAppend });
      } catch (e) {
        if (e instanceof EventConflictError) throw ApplicationFailure.create({ type: 'EventConflict', message: e.message, nonRetryable: true });
        throw e;
      }
    },

    /** Everything a unit workflow needs to know about its unit, from the rollout's pinned hierarchy. */
    async loadUnitContext({ rolloutId, unitCode }: { rolloutId: string; unitCode: string }): Promise<UnitContext> {
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
      };
    },

    /** A page of a unit's children in the pinned hierarchy. */
    async listChildren({ rolloutId, unitCode, offset, limit }: { rolloutId: string; unitCode: string; offset: number; limit: number }): Promise<{ codes: string[] }> {
      const rollout = await getRollout(db, rolloutId);
      if (!rollout) throw ApplicationFailure.create({ type: 'NotFound', message: `rollout ${rolloutId} is not recorded`, nonRetryable: true });
      return { codes: await listChildren(db, rollout.hierarchy_version, unitCode, offset, limit) };
    },
  } satisfies ActivityContract;
}

export type Activities = ReturnType<typeof createActivities>;
