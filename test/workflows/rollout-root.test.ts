/**
 * A rollout started below the top of the hierarchy, in its own test server (a fresh clock).
 */
import { Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { memoryActivities } from '../helpers/memory-activities';
import { timeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { rolloutWorkflow } from '../../workflows/rollout';
import { parsePlan } from '../../domain/plan';
import type { Unit } from '../../domain/hierarchy';

Runtime.install({ logger: new DefaultLogger('WARN') });

const units: Unit[] = [
  { code: 'P', name: 'Tỉnh', level: 'tinh', parent: null, members: 10, standingCommittee: true },
  { code: 'P.A', name: 'Huyện A', level: 'huyen', parent: 'P', members: 4, standingCommittee: true },
  { code: 'P.A.1', name: 'Chi bộ 1', level: 'chibo', parent: 'P.A', members: 2, standingCommittee: false },
];

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

test('a rollout rooted below the top: the root opens its cascaded steps at once and is told about itself; a unit with no members has nothing to study', async () => {
  const store = memoryActivities([...units, { code: 'P.A.2', name: 'Chi bộ 2', level: 'chibo', parent: 'P.A', members: 0, standingCommittee: false }]);
  const plan = parsePlan({
    id: 'district',
    title: 'district',
    steps: [
      { id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'P10D' }, escalation: { tiers: 2, interval: 'P3D' } },
      { id: 'issue', kind: 'issuePlan', title: 'Ban hành', levels: ['huyen'], opensAfterParent: 'issuePlan', deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P5D' } },
    ],
  });
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'district', workflowBundle: await workflowBundle(), activities: store.activities });
  await worker.runUntil(async () => {
    await env.client.workflow.start(rolloutWorkflow, {
      taskQueue: 'district',
      workflowId: `r-district-${Date.now()}`,
      args: [{ rolloutId: 'R2', resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: '2022-06-16' }, title: 'x' }, plan, rootUnit: 'P.A', hierarchyVersion: 1, requestedBy: 'test' }],
    });
    await env.sleep('20 days');
    const enrolled = store.events.filter((e) => e.type === 'UnitEnrolled');
    expect(enrolled.map((e) => e.unitCode).sort()).toEqual(['P.A', 'P.A.1', 'P.A.2']);
    const root = enrolled.find((e) => e.unitCode === 'P.A')!.payload as { ancestors: unknown[]; steps: Array<{ key: string; status: string; dueAt: string | null }> };
    expect(root.ancestors).toEqual([]);
    expect(root.steps.find((s) => s.key === 'issue')).toMatchObject({ status: 'open', dueAt: expect.any(String) });
    const escalated = store.events.filter((e) => e.type === 'Escalated').map((e) => `${e.unitCode}→${(e.payload as { recipient: { code: string } }).recipient.code}`).sort();
    // The province is not part of this rollout: the district is told about itself; its cell goes to it.
    expect(escalated).toEqual(['P.A.1→P.A', 'P.A→P.A', 'P.A→P.A']);
    expect(store.events.filter((e) => e.type === 'StepCompleted').map((e) => e.unitCode)).toEqual(['P.A.2']);
  });
});
