import { Worker } from '@temporalio/worker';
import { memoryActivities } from '../helpers/memory-activities';
import { THREE_LEVELS, useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { rolloutWorkflow } from '../../workflows/rollout';
import { reportStepUpdate, unitWorkflowId } from '../../workflows/definitions';
import { parsePlan } from '../../domain/plan';

const useEnv = useTimeSkippingEnv();
const units = THREE_LEVELS;

test('smoke: a three-level rollout reminds, escalates and completes', async () => {
  const store = memoryActivities(units);
  const plan = parsePlan({
    id: 't',
    title: 't',
    steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'P10D' }, reminders: ['P2D'], escalation: { tiers: 2, interval: 'P3D' } }],
  });
  const worker = await Worker.create({ connection: useEnv().nativeConnection, taskQueue: 'smoke', workflowBundle: await workflowBundle(), activities: store.activities });
  await worker.runUntil(async () => {
    const h = await useEnv().client.workflow.start(rolloutWorkflow, {
      taskQueue: 'smoke',
      workflowId: `r-${Date.now()}`,
      args: [
        {
          rolloutId: 'R1',
          resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: '2022-06-16' }, title: 'x' },
          plan,
          rootUnit: 'P',
          hierarchyVersion: 1,
          requestedBy: 'test',
        },
      ],
    });
    await useEnv().sleep('1 day');
    const r = await useEnv()
      .client.workflow.getHandle(unitWorkflowId('R1', 'P'))
      .executeUpdate(reportStepUpdate, {
        args: [{ reportId: 'r1', unitCode: 'P', stepId: 'study', kind: 'studyConference', sessionDate: new Date(Date.now()).toISOString().slice(0, 10), attended: 10 }],
      });
    expect(r.status).toBe('done');
    await useEnv().sleep('20 days');
    // The root reported on time; the district and its cell were reminded, missed the deadline and were
    // escalated: the district to the province (no committee above that: one tier), the cell to its
    // district and then to the province.
    const seen = (type: string) =>
      store.events
        .filter((e) => e.type === type)
        .map((e) => `${e.unitCode}${'recipient' in (e.payload as object) && e.type === 'Escalated' ? `→${(e.payload as { recipient: { code: string } }).recipient.code}` : ''}`)
        .sort();
    expect(seen('ReminderSent')).toEqual(['P.A', 'P.A.1']);
    expect(seen('DeadlineMissed')).toEqual(['P.A', 'P.A.1']);
    expect(seen('Escalated')).toEqual(['P.A.1→P', 'P.A.1→P.A', 'P.A→P']);
    await useEnv()
      .client.workflow.getHandle(unitWorkflowId('R1', 'P.A'))
      .executeUpdate(reportStepUpdate, {
        args: [{ reportId: 'a1', unitCode: 'P.A', stepId: 'study', kind: 'studyConference', sessionDate: '2026-01-01', attended: 4 }],
      });
    await useEnv()
      .client.workflow.getHandle(unitWorkflowId('R1', 'P.A.1'))
      .executeUpdate(reportStepUpdate, {
        args: [{ reportId: 'c1', unitCode: 'P.A.1', stepId: 'study', kind: 'studyConference', sessionDate: '2026-01-01', attended: 2 }],
      });
    // Late completions finish the tree; the rollout completes and counts the late steps.
    expect(await h.result()).toEqual({ rolloutId: 'R1', lateSteps: 2 });
    expect(
      store.events
        .filter((e) => e.type === 'UnitCompleted')
        .map((e) => e.unitCode)
        .sort(),
    ).toEqual(['P', 'P.A', 'P.A.1']);
  });
});
