/**
 * Wide units: more children than one parent may have go through fan-out batches, the cascade reaches
 * every child through them, and the rollout completes when the whole tree has. The batch width is
 * lowered to 3 here (in production it is 1,000) so the shape is exercised with a small tree.
 */
import { Worker } from '@temporalio/worker';
import { parsePlan } from '../../domain/plan';
import { fanoutWorkflowId, reportStepUpdate, rolloutWorkflowId, unitWorkflowId } from '../../workflows/definitions';
import { rolloutWorkflow } from '../../workflows/rollout';
import { fanoutLimit } from '../../workflows/unit';
import { memoryActivities } from '../helpers/memory-activities';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import type { Unit } from '../../domain/hierarchy';

const useEnv = useTimeSkippingEnv();

test('the fan-out width is capped at 1,000 children per parent', () => {
  expect(fanoutLimit(undefined)).toBe(1000);
  expect(fanoutLimit(5000)).toBe(1000);
  expect(fanoutLimit(3)).toBe(3);
});

test('seven communes under one district go through three batches; the cascade reaches all; the rollout completes', async () => {
  const communes = Array.from({ length: 7 }, (_, i) => `D.X${i + 1}`);
  const units: Unit[] = [
    { code: 'D', name: 'Huyện', level: 'huyen', parent: null, members: 1, standingCommittee: true },
    ...communes.map((code, i) => ({ code, name: `Xã ${i + 1}`, level: 'coso', parent: 'D', members: 1, standingCommittee: true })),
  ];
  const store = memoryActivities(units);
  const plan = parsePlan({
    id: 'fanout',
    title: 'fan-out',
    steps: [
      { id: 'issue-district', kind: 'issuePlan', title: 'Huyện ban hành kế hoạch', levels: ['huyen'], deadline: { kind: 'afterStart', after: 'P10D' } },
      {
        id: 'issue-commune',
        kind: 'issuePlan',
        title: 'Xã ban hành kế hoạch',
        levels: ['coso'],
        opensAfterParent: 'issuePlan',
        deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P10D' },
      },
    ],
  });
  const worker = await Worker.create({ connection: useEnv().nativeConnection, taskQueue: 'fanout', workflowBundle: await workflowBundle(), activities: store.activities });
  await worker.runUntil(async () => {
    const R = 'wide';
    const rollout = await useEnv().client.workflow.start(rolloutWorkflow, {
      taskQueue: 'fanout',
      workflowId: rolloutWorkflowId(R),
      args: [
        {
          rolloutId: R,
          resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: '2022-06-16' }, title: 't' },
          plan,
          rootUnit: 'D',
          hierarchyVersion: 1,
          requestedBy: 'test',
          maxChildren: 3,
        },
      ],
    });
    await useEnv().sleep('1 hour');
    const today = new Date((await useEnv().currentTimeMs()) + 7 * 3600_000).toISOString().slice(0, 10);
    await useEnv()
      .client.workflow.getHandle(unitWorkflowId(R, 'D'))
      .executeUpdate(reportStepUpdate, { args: [{ reportId: 'd', unitCode: 'D', stepId: 'issue-district', kind: 'issuePlan', documentNumber: '12-KH/HU', issuedOn: today, title: 'KH' }] });
    await useEnv().sleep('1 hour');
    // Every commune's step was opened by the cascade, forwarded through its batch.
    const opened = store.events
      .filter((e) => e.type === 'DeadlineScheduled')
      .map((e) => e.unitCode)
      .sort();
    expect(opened).toEqual([...communes].sort());
    for (const code of communes) {
      await useEnv()
        .client.workflow.getHandle(unitWorkflowId(R, code))
        .executeUpdate(reportStepUpdate, { args: [{ reportId: code, unitCode: code, stepId: 'issue-commune', kind: 'issuePlan', documentNumber: '05-KH/ĐU', issuedOn: today, title: 'KH' }] });
    }
    expect(await rollout.result()).toEqual({ rolloutId: R, lateSteps: 0 });
    // Three batches of at most three, each a finished workflow.
    for (const b of [0, 1, 2]) {
      const d = await useEnv()
        .client.workflow.getHandle(fanoutWorkflowId(R, 'D', b))
        .describe();
      expect(d.status.name).toBe('COMPLETED');
      expect(
        await useEnv()
          .client.workflow.getHandle(fanoutWorkflowId(R, 'D', b))
          .result(),
      ).toEqual({ children: b < 2 ? 3 : 1 });
    }
    await expect(
      useEnv()
        .client.workflow.getHandle(fanoutWorkflowId(R, 'D', 3))
        .describe(),
    ).rejects.toThrow();
    expect(store.events.filter((e) => e.type === 'UnitCompleted')).toHaveLength(8);
    expect(store.events.at(-1)?.type).toBe('RolloutCompleted');
  });
});
