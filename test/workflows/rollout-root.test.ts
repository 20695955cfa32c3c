/**
 * A rollout started below the top of the hierarchy, in its own test server (a fresh clock).
 */
import { Worker } from '@temporalio/worker';
import { memoryActivities } from '../helpers/memory-activities';
import { THREE_LEVELS, useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { rolloutWorkflow } from '../../workflows/rollout';
import { parsePlan } from '../../domain/plan';

const useEnv = useTimeSkippingEnv();
const units = THREE_LEVELS;

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
  const worker = await Worker.create({ connection: useEnv().nativeConnection, taskQueue: 'district', workflowBundle: await workflowBundle(), activities: store.activities });
  await worker.runUntil(async () => {
    await useEnv().client.workflow.start(rolloutWorkflow, {
      taskQueue: 'district',
      workflowId: `r-district-${Date.now()}`,
      args: [
        {
          rolloutId: 'R2',
          resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: '2022-06-16' }, title: 'x' },
          plan,
          rootUnit: 'P.A',
          hierarchyVersion: 1,
          requestedBy: 'test',
        },
      ],
    });
    await useEnv().sleep('20 days');
    const enrolled = store.events.filter((e) => e.type === 'UnitEnrolled');
    expect(enrolled.map((e) => e.unitCode).sort()).toEqual(['P.A', 'P.A.1', 'P.A.2']);
    const root = enrolled.find((e) => e.unitCode === 'P.A')!.payload as { ancestors: unknown[]; steps: Array<{ key: string; status: string; dueAt: string | null }> };
    expect(root.ancestors).toEqual([]);
    expect(root.steps.find((s) => s.key === 'issue')).toMatchObject({ status: 'open', dueAt: expect.any(String) });
    const escalated = store.events
      .filter((e) => e.type === 'Escalated')
      .map((e) => `${e.unitCode}→${(e.payload as { recipient: { code: string } }).recipient.code}`)
      .sort();
    // The province is not part of this rollout: the district is told about itself; its cell goes to it.
    expect(escalated).toEqual(['P.A.1→P.A', 'P.A→P.A', 'P.A→P.A']);
    expect(store.events.filter((e) => e.type === 'StepCompleted').map((e) => e.unitCode)).toEqual(['P.A.2']);
  });
});
