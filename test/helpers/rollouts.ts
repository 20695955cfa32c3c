/**
 * Starting a rollout workflow directly in workflow tests (without the application layer), and reading
 * why an Update was refused: the same few lines every such test needs.
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database';
import { importHierarchy } from '../../db/hierarchy';
import { levelsOf, type Unit } from '../../domain/hierarchy';
import { parsePlan } from '../../domain/plan';
import { freshDatabase, type TestDb } from './db';
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

/** A province with two communes, each with a standing committee. */
export const TWO_COMMUNES: Unit[] = [
  { code: 'P', name: 'Tỉnh', level: 'tinh', parent: null, members: 10, standingCommittee: true },
  { code: 'P.A', name: 'Xã A', level: 'xa', parent: 'P', members: 4, standingCommittee: true },
  { code: 'P.B', name: 'Xã B', level: 'xa', parent: 'P', members: 4, standingCommittee: true },
];

/** One study step, due ten days after the start, reminded a day before, escalated once. */
export const STUDY_PLAN = parsePlan({
  id: 'changes',
  title: 'Kiểm thử',
  steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'P10D' }, reminders: ['P1D'], escalation: { tiers: 1, interval: 'P3D' } }],
});

/** A fresh database with `units` imported, for the file's tests; the getter gives it and the version. */
export function useImportedHierarchy(units: Unit[], source: string): () => { db: Kysely<Database>; version: number } {
  let t: TestDb | undefined;
  let version = 0;
  beforeAll(async () => {
    t = await freshDatabase();
    ({ version } = await importHierarchy(t.db, units, { source, content: JSON.stringify(units), importedBy: 'user:ops', levels: levelsOf(units) }));
  });
  afterAll(async () => {
    await t?.close();
  });
  return () => ({ db: t!.db, version });
}

/** One unit's events of a type, in stream order (of every rollout, or of one). */
export const eventsOf = async (db: Kysely<Database>, unit: string, type: string, rolloutId?: string) =>
  db
    .selectFrom('events')
    .selectAll()
    .where('unit_code', '=', unit)
    .where('type', '=', type)
    .$if(rolloutId !== undefined, (q) => q.where('rollout_id', '=', rolloutId!))
    .orderBy('stream_seq')
    .execute();
