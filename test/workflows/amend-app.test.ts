/**
 * `rollout amend` through the application layer (app/amendments.ts), on the time-skipping server with
 * real PostgreSQL: the preview names what changes and the units it reaches; applying it records
 * RolloutAmended (version 2, its hash, the plan) and a batch amends every running unit, each with its
 * PlanAmended; a later amendment removing a step some unit started is refused naming the unit, and
 * nothing is recorded.
 */
import { Worker } from '@temporalio/worker';
import { amendRollout, planVersions, previewAmendment } from '../../app/amendments';
import { batchStatus } from '../../app/batches';
import { parsePlan } from '../../domain/plan';
import { workerActivities } from '../../worker/worker';
import { batchWorkflowId, reportStepUpdate, unitWorkflowId } from '../../workflows/definitions';
import { rejection } from '../helpers/domain-error';
import { TWO_COMMUNES, eventsOf, startTestRollout, useImportedHierarchy } from '../helpers/rollouts';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';

const useEnv = useTimeSkippingEnv();
const fixture = useImportedHierarchy(TWO_COMMUNES, 'amend-app.test.ts');
const DAY = 86_400_000;

const V1 = parsePlan({
  id: 'amend-app',
  title: 'Kiểm thử sửa đổi',
  steps: [
    { id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'P10D' }, reminders: ['P1D'], escalation: { tiers: 1, interval: 'P3D' } },
    { id: 'issue', kind: 'issuePlan', title: 'Ban hành kế hoạch', levels: ['xa'], deadline: { kind: 'afterStart', after: 'P30D' }, reminders: [], escalation: { tiers: 1, interval: 'P3D' } },
  ],
});

test('amending a running rollout: preview, one RolloutAmended, a batch that amends each unit; removing a started step is refused', async () => {
  const env = useEnv();
  const { db, version } = fixture();
  const R = 'amend-app';
  const TQ = 'amend-app';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TQ, workflowBundle: await workflowBundle(), activities: workerActivities({ db }) });
  await worker.runUntil(async () => {
    await startTestRollout(env.client, { taskQueue: TQ, rolloutId: R, plan: V1, hierarchyVersion: version, units: TWO_COMMUNES.length });
    await until('every unit enrolled', async () => (await db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', R).execute()).length === 3, 60_000, 100);
    const deps = { db, client: env.client, taskQueue: TQ };
    const dueOf = async (unit: string, key: string) =>
      new Date((await db.selectFrom('unit_steps').select('due_at').where('rollout_id', '=', R).where('unit_code', '=', unit).where('step_key', '=', key).executeTakeFirstOrThrow()).due_at!).getTime();
    const issueBefore = await dueOf('P.A', 'issue');

    // Version 2: the communes get 15 more days to issue their plan; the province reports a summary.
    const v2 = {
      ...V1,
      steps: [
        V1.steps[0],
        { ...V1.steps[1], deadline: { kind: 'afterStart', after: 'P45D' } },
        { id: 'summary', kind: 'periodicReport', title: 'Báo cáo sơ kết', levels: ['tinh'], deadline: { kind: 'afterStart', after: 'P60D' }, reminders: [], escalation: { tiers: 1, interval: 'P7D' } },
      ],
    };
    const request = { plan: v2, reason: 'Tỉnh ủy điều chỉnh kế hoạch', decidedBy: 'user:ops' };

    // Bad input names the field; the same plan is not an amendment; a changed kind is refused.
    expect((await rejection(previewAmendment(db, R, { ...request, plan: V1 }))).message).toMatch(/same as the one rollout/);
    expect((await rejection(previewAmendment(db, R, { ...request, plan: { ...v2, steps: [{ ...V1.steps[0], kind: 'draftPlan' }] } }))).issues[0]!.path).toBe('plan.steps[0].kind');
    expect((await rejection(previewAmendment(db, R, { ...request, plan: { ...v2, steps: [...v2.steps, { ...V1.steps[0], id: 'x', levels: ['thon'] }] } }))).issues[0]!.path).toMatch(
      /plan\.steps\[3\]\.levels/,
    );
    expect((await rejection(previewAmendment(db, R, { ...request, reason: '' }))).issues[0]!.path).toBe('reason');
    expect((await rejection(previewAmendment(db, 'nope', request))).kind).toBe('not_found');

    const preview = await previewAmendment(db, R, request);
    expect(preview).toMatchObject({ fromVersion: 1, toVersion: 2, units: 3, extended: 0, keepExtensions: true });
    expect(preview.steps).toEqual([
      { stepId: 'summary', change: 'added', units: 1, levels: ['tinh'] },
      { stepId: 'issue', change: 'changed', units: 2, levels: ['xa'] },
    ]);
    expect(preview.changes.map((c) => c.vi).join('\n')).toMatch(/issue/);
    expect((await rejection(amendRollout(deps, R, request))).issues[0]!.path).toBe('fingerprint');
    expect(await db.selectFrom('events').select('event_id').where('type', '=', 'RolloutAmended').execute()).toHaveLength(0);

    const applied = await amendRollout(deps, R, { ...request, fingerprint: preview.fingerprint, batchId: 'sua-doi-1' });
    expect(applied).toMatchObject({ version: 2, units: 3, batchId: 'sua-doi-1', alreadyApplied: false, planHash: preview.planHash });
    expect(await amendRollout(deps, R, { ...request, fingerprint: preview.fingerprint, batchId: 'sua-doi-1' })).toMatchObject({ alreadyApplied: true, version: 2 });
    expect(await env.client.workflow.getHandle(batchWorkflowId('sua-doi-1')).result()).toEqual({ pending: 0, done: 3, unchanged: 0, refused: 0 });
    expect((await batchStatus(db, 'sua-doi-1')).action).toBe('amend');

    // One event for the rollout, one per unit changed, each with the batch ID; the read model follows.
    const [rolloutEvent] = await db.selectFrom('events').selectAll().where('type', '=', 'RolloutAmended').execute();
    expect(rolloutEvent).toMatchObject({ stream_id: `changes/${R}`, actor: 'user:ops', payload: { fromVersion: 1, toVersion: 2, units: 3, batchId: 'sua-doi-1', planHash: preview.planHash } });
    const [a] = await eventsOf(db, 'P.A', 'PlanAmended', R);
    expect(a!.payload).toMatchObject({ planVersion: 2, batchId: 'sua-doi-1', moved: [{ key: 'issue' }] });
    expect((await dueOf('P.A', 'issue')) - issueBefore).toBe(15 * DAY);
    const [p] = await eventsOf(db, 'P', 'PlanAmended', R);
    expect(p!.payload).toMatchObject({ added: [{ key: 'summary' }] });
    const versions = await planVersions(db, R);
    expect(versions).toMatchObject({ version: 2, planHash: preview.planHash, versions: [{ version: 1 }, { version: 2, by: 'user:ops', reason: 'Tỉnh ủy điều chỉnh kế hoạch' }] });

    // P.A studies; an amendment that drops the study step for communes is refused, naming P.A; nothing recorded.
    const today = new Date((await env.currentTimeMs()) + 7 * 3600_000).toISOString().slice(0, 10);
    await env.client.workflow
      .getHandle(unitWorkflowId(R, 'P.A'))
      .executeUpdate(reportStepUpdate, { args: [{ reportId: 'a1', unitCode: 'P.A', stepId: 'study', kind: 'studyConference', sessionDate: today, attended: 4 }] });
    const v3 = { ...v2, steps: [{ ...v2.steps[0], levels: ['tinh'] }, ...v2.steps.slice(1)] };
    const conflict = await rejection(previewAmendment(db, R, { ...request, plan: v3 }));
    expect(conflict.kind).toBe('conflict');
    expect(conflict.issues).toEqual([{ path: 'plan.steps[0].levels', message: expect.stringMatching(/step "study" has been started by P\.A \(done\).*cannot remove a started step/) }]);
    expect(await db.selectFrom('events').select('event_id').where('type', '=', 'RolloutAmended').execute()).toHaveLength(1);
  });
});
