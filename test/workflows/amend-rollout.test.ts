/**
 * An amended plan applied to running units (issue 10), on the time-skipping server with real
 * PostgreSQL: a deadline moved for one level, a step added, and the removal of a started step refused.
 */
import { createHash } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { workerActivities } from '../../worker/worker';
import { parsePlan } from '../../domain/plan';
import { canonicalPlanJson } from '../../domain/plan-diff';
import { cancelRolloutUpdate, changeUnitUpdate, reportStepUpdate, rolloutWorkflowId, unitWorkflowId } from '../../workflows/definitions';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';
import { STUDY_PLAN, TWO_COMMUNES, eventsOf, refusal, startTestRollout, useImportedHierarchy } from '../helpers/rollouts';

const useEnv = useTimeSkippingEnv();

const UNITS = TWO_COMMUNES;
const PLAN = STUDY_PLAN;
const fixture = useImportedHierarchy(UNITS, 'amend-rollout.test.ts');

test('an amended plan moves a deadline for one level and adds a step; removing a started step is refused', async () => {
  const env = useEnv();
  const { db, version } = fixture();
  const R = 'amend';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'amend', workflowBundle: await workflowBundle(), activities: workerActivities({ db }) });
  await worker.runUntil(async () => {
    const rollout = await startTestRollout(env.client, { taskQueue: 'amend', rolloutId: R, plan: PLAN, hierarchyVersion: version, units: UNITS.length });
    const unit = (code: string) => env.client.workflow.getHandle(unitWorkflowId(R, code));
    await until('every unit enrolled', async () => (await db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', R).execute()).length === UNITS.length, 60_000, 100);
    const today = new Date((await env.currentTimeMs()) + 7 * 3600_000).toISOString().slice(0, 10);
    await unit('P').executeUpdate(reportStepUpdate, { args: [{ reportId: 'p1', unitCode: 'P', stepId: 'study', kind: 'studyConference', sessionDate: today, attended: 10 }] });
    const v2 = parsePlan({
      ...PLAN,
      steps: [
        { ...PLAN.steps[0]!, levels: ['tinh'] },
        { ...PLAN.steps[0]!, id: 'study-xa', levels: ['xa'], deadline: { kind: 'afterStart', after: 'P20D' } },
        { id: 'draft', kind: 'draftPlan', title: 'Dự thảo', levels: ['xa'], deadline: { kind: 'afterStart', after: 'P30D' }, reminders: [], escalation: { tiers: 1, interval: 'P3D' } },
      ],
    });
    const amend = (plan: typeof v2, requestId: string) => ({
      op: 'amend' as const,
      requestId,
      decidedBy: 'user:ops',
      reason: 'Tỉnh ủy điều chỉnh kế hoạch',
      planVersion: 2,
      planHash: createHash('sha256').update(canonicalPlanJson(plan)).digest('hex'),
      plan,
      keepExtensions: true,
    });
    // For a commune the study step (started by nobody) is removed and its replacement added; the province studied already.
    const r = await unit('P.A').executeUpdate(changeUnitUpdate, { args: [amend(v2, 'am1')] });
    expect(r).toMatchObject({ changed: true, op: 'amend' });
    const [amended] = await eventsOf(db, 'P.A', 'PlanAmended');
    expect(amended!.payload).toMatchObject({ planVersion: 2, removed: ['study'], added: [{ key: 'study-xa' }, { key: 'draft' }] });
    expect((await db.selectFrom('unit_steps').select('step_key').where('rollout_id', '=', R).where('unit_code', '=', 'P.A').orderBy('step_key').execute()).map((x) => x.step_key)).toEqual([
      'draft',
      'study-xa',
    ]);
    // The province's study is done: an amendment that removes it for the province is refused, and nothing is recorded.
    const v3 = parsePlan({ ...v2, steps: v2.steps.slice(1) });
    const refused = await refusal(unit('P').executeUpdate(changeUnitUpdate, { args: [amend(v3, 'am2')] }));
    expect(refused).toMatch(/study/);
    expect(refused).toMatch(/started|completed/);
    expect(await eventsOf(db, 'P', 'PlanAmended')).toHaveLength(0);
    // P.A's new study deadline is day 20: nothing is missed on day 12, it is escalated after day 20.
    await env.sleep('12 days');
    expect((await eventsOf(db, 'P.A', 'Escalated')).filter((x) => x.rollout_id === R)).toHaveLength(0);
    await env.sleep('9 days');
    await until(
      'P.A escalated on its amended deadline',
      async () => (await eventsOf(db, 'P.A', 'Escalated')).filter((x) => x.rollout_id === R && (x.payload as { key: string }).key === 'study-xa').length === 1,
    );
    await env.client.workflow.getHandle(rolloutWorkflowId(R)).executeUpdate(cancelRolloutUpdate, { args: [{ requestId: 'c', reason: 'end of test', requestedBy: 'user:ops' }] });
    await rollout.result();
  });
});
