/**
 * In-memory activities for workflow unit tests on the time-skipping server (the only place mocks of
 * activities are allowed). They keep the same contract as the real ones: events numbered per stream,
 * appended in order, duplicates by ID skipped, a conflicting duplicate rejected.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Activities } from '../../activities';
import { parseNewEvent, type AnyNewEvent, type NewEvent } from '../../domain/events';
import { buildIndex, type Unit } from '../../domain/hierarchy';
import { Plan } from '../../domain/plan';
import { ancestorsInRollout } from '../../domain/escalation';
import { canonicalJson } from '../../db/links';

export interface MemoryStore {
  events: AnyNewEvent[];
  activities: Activities;
}

export function memoryActivities(units: Unit[]): MemoryStore {
  const index = buildIndex(units);
  const byId = new Map<string, string>();
  const heads = new Map<string, number>();
  const rollouts = new Map<string, { plan: Plan; startedAt: number; root: string }>();
  const events: AnyNewEvent[] = [];
  const childrenOf = (code: string): string[] => (index.children.get(code) ?? []).map((u) => u.code);

  const activities: Activities = {
    async appendEvents({ events: batch }: { events: NewEvent[] }) {
      let appended = 0;
      let duplicates = 0;
      for (const raw of batch) {
        const e = parseNewEvent(raw);
        const content = canonicalJson(e);
        const prior = byId.get(e.eventId);
        if (prior !== undefined) {
          if (prior !== content) throw ApplicationFailure.create({ type: 'EventConflict', message: `conflicting event ${e.eventId}`, nonRetryable: true });
          duplicates += 1;
          continue;
        }
        const head = heads.get(e.streamId) ?? 0;
        if (e.streamSeq !== head + 1) throw new Error(`out of order: ${e.eventId} after ${head}`);
        heads.set(e.streamId, e.streamSeq);
        byId.set(e.eventId, content);
        events.push(e);
        if (e.type === 'RolloutStarted') rollouts.set(e.payload.rolloutId, { plan: Plan.parse(e.payload.plan), startedAt: Date.parse(e.occurredAt), root: e.payload.rootUnit });
        appended += 1;
      }
      return { appended, duplicates };
    },
    async loadUnitContext({ rolloutId, unitCode }: { rolloutId: string; unitCode: string }) {
      const r = rollouts.get(rolloutId);
      const u = index.byCode.get(unitCode);
      if (!r || !u) throw ApplicationFailure.create({ type: 'NotFound', message: `unknown ${rolloutId}/${unitCode}`, nonRetryable: true });
      const ancestors: Unit[] = [];
      for (let p = u.parent; p; p = index.byCode.get(p)?.parent ?? null) ancestors.push(index.byCode.get(p)!);
      return {
        rolloutId,
        unit: { code: u.code, name: u.name, level: u.level, parent: u.parent, members: u.members, standingCommittee: u.standingCommittee },
        ancestors: ancestorsInRollout(unitCode, r.root, ancestors).map((a) => ({ code: a.code, name: a.name, level: a.level, standingCommittee: a.standingCommittee })),
        plan: r.plan,
        rolloutStartedAt: r.startedAt,
        childCount: childrenOf(unitCode).length,
      };
    },
    async listChildren({ unitCode, offset, limit }: { rolloutId: string; unitCode: string; offset: number; limit: number }) {
      return { codes: childrenOf(unitCode).slice(offset, offset + limit) };
    },
    async runBatchSlice() {
      throw ApplicationFailure.create({ type: 'NotFound', message: 'batches need the real database (test them with test/helpers/db.ts)', nonRetryable: true });
    },
  };
  return { events, activities };
}
