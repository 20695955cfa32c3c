/**
 * Changes to a running unit beyond reports (issue 10), on the time-skipping server with real
 * PostgreSQL: suspending a unit's deadline clock (nothing fires while it is stopped), resuming it
 * (every unfinished deadline moves by the time suspended), and stopping following one unit (its
 * parent stops waiting for it, the rollout carries on).
 */
import { Worker } from '@temporalio/worker';
import { workerActivities } from '../../worker/worker';
import { rolloutOverview, unitDetail } from '../../app/reads';
import { changeUnitUpdate, reportStepUpdate, unitWorkflowId } from '../../workflows/definitions';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';
import { STUDY_PLAN, TWO_COMMUNES, eventsOf, refusal, startTestRollout, useImportedHierarchy } from '../helpers/rollouts';

const useEnv = useTimeSkippingEnv();

const UNITS = TWO_COMMUNES;
const PLAN = STUDY_PLAN;
const DAY = 86_400_000;
const fixture = useImportedHierarchy(UNITS, 'unit-changes.test.ts');

test('suspend stops the clock, resume moves the deadline by the time suspended, cancel-unit lets the rollout go on without the unit', async () => {
  const env = useEnv();
  const { db, version } = fixture();
  const R = 'changes';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'changes', workflowBundle: await workflowBundle(), activities: workerActivities({ db }) });
  await worker.runUntil(async () => {
    const rollout = await startTestRollout(env.client, { taskQueue: 'changes', rolloutId: R, plan: PLAN, hierarchyVersion: version, units: UNITS.length });
    const unit = (code: string) => env.client.workflow.getHandle(unitWorkflowId(R, code));
    await until('every unit enrolled', async () => (await db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', R).execute()).length === UNITS.length, 60_000, 100);
    const [enrolled] = await eventsOf(db, 'P.A', 'UnitEnrolled');
    const dueAt = Date.parse((enrolled!.payload as { steps: Array<{ dueAt: string }> }).steps[0]!.dueAt);

    // Bad input is refused, naming the field, and records nothing.
    expect(await refusal(unit('P.A').executeUpdate(changeUnitUpdate, { args: [{ op: 'suspend', requestId: 's0', decidedBy: 'user:ops', reason: '' } as never] }))).toMatch(/reason/);
    expect(await refusal(unit('P.A').executeUpdate(changeUnitUpdate, { args: [{ op: 'resume', requestId: 'bad id!', decidedBy: 'user:ops', reason: 'x' }] }))).toMatch(/requestId/);
    expect(await refusal(unit('P').executeUpdate(changeUnitUpdate, { args: [{ op: 'cancelUnit', requestId: 'c0', decidedBy: 'user:ops', reason: 'x' }] }))).toMatch(/root.*cancel the rollout/);
    expect(await eventsOf(db, 'P.A', 'ClockSuspended')).toHaveLength(0);

    // Suspend P.A two days in; nothing fires while the clock is stopped, though the deadline passes.
    await env.sleep('2 days');
    const s = await unit('P.A').executeUpdate(changeUnitUpdate, { args: [{ op: 'suspend', requestId: 's1', decidedBy: 'user:ops', reason: 'Mưa lũ' }] });
    expect(s).toMatchObject({ changed: true, duplicate: false, op: 'suspend', unitCode: 'P.A' });
    expect(await unit('P.A').executeUpdate(changeUnitUpdate, { args: [{ op: 'suspend', requestId: 's1', decidedBy: 'user:ops', reason: 'Mưa lũ' }] })).toMatchObject({ duplicate: true });
    const suspendedAt = await env.currentTimeMs();
    await env.sleep('20 days');
    await until('P.B escalated (its clock runs)', async () => (await eventsOf(db, 'P.B', 'Escalated')).length === 1);
    // Waking the unit while suspended (a second suspension changes nothing) fires none of its passed timers.
    expect(await unit('P.A').executeUpdate(changeUnitUpdate, { args: [{ op: 'suspend', requestId: 's2', decidedBy: 'user:ops', reason: 'again' }] })).toMatchObject({ changed: false });
    expect(await eventsOf(db, 'P.A', 'ReminderSent')).toHaveLength(0);
    expect(await eventsOf(db, 'P.A', 'DeadlineMissed')).toHaveLength(0);
    expect(await eventsOf(db, 'P.A', 'Escalated')).toHaveLength(0);
    // The read model says so: suspended since then, its passed deadline not overdue (P.B's is).
    const whileSuspended = new Date(await env.currentTimeMs());
    const detail = await unitDetail(db, R, 'P.A', whileSuspended);
    expect(detail.unit.suspendedAt).not.toBeNull();
    expect(detail.steps.map((x) => x.overdue)).toEqual([false]);
    expect((await unitDetail(db, R, 'P.B', whileSuspended)).steps.map((x) => x.overdue)).toEqual([true]);
    expect((await rolloutOverview(db, R, whileSuspended)).counts).toMatchObject({ suspended: 1 });

    // Resume: the deadline moves by the 20 days suspended; the timers then fire from the new deadline.
    const r = await unit('P.A').executeUpdate(changeUnitUpdate, { args: [{ op: 'resume', requestId: 'r1', decidedBy: 'committee:P', reason: 'Đã khắc phục' }] });
    const resumedAt = await env.currentTimeMs();
    expect(r.moved).toHaveLength(1);
    const newDue = Date.parse(r.moved![0]!.newDueAt!);
    const [resumed] = await eventsOf(db, 'P.A', 'ClockResumed');
    const suspendedMs = (resumed!.payload as { suspendedMs: number }).suspendedMs;
    expect(resumed).toMatchObject({ actor: 'committee:P', payload: { reason: 'Đã khắc phục' } });
    // Workflow time, not the test's clock, decides; the two agree to within the requests' round trips.
    expect(newDue - dueAt).toBe(suspendedMs);
    expect(suspendedMs).toBeGreaterThanOrEqual(20 * DAY);
    expect(Math.abs(suspendedMs - (resumedAt - suspendedAt))).toBeLessThan(60_000);
    const step = await db.selectFrom('unit_steps').selectAll().where('rollout_id', '=', R).where('unit_code', '=', 'P.A').executeTakeFirstOrThrow();
    expect(new Date(step.due_at!).getTime()).toBe(newDue);
    await env.sleep(newDue - resumedAt + 1000);
    await until('P.A escalated after its moved deadline', async () => (await eventsOf(db, 'P.A', 'Escalated')).length === 1);
    expect(await eventsOf(db, 'P.A', 'ReminderSent')).toHaveLength(1);

    // P.A studies; P.B is dropped from the rollout: the province then finishes without it.
    const today = new Date((await env.currentTimeMs()) + 7 * 3600_000).toISOString().slice(0, 10);
    await unit('P.A').executeUpdate(reportStepUpdate, { args: [{ reportId: 'a1', unitCode: 'P.A', stepId: 'study', kind: 'studyConference', sessionDate: today, attended: 4 }] });
    await unit('P').executeUpdate(reportStepUpdate, { args: [{ reportId: 'p1', unitCode: 'P', stepId: 'study', kind: 'studyConference', sessionDate: today, attended: 10 }] });
    const c = await unit('P.B').executeUpdate(changeUnitUpdate, { args: [{ op: 'cancelUnit', requestId: 'c1', decidedBy: 'user:ops', reason: 'Đơn vị tạm ngừng hoạt động' }] });
    expect(c).toMatchObject({ changed: true, op: 'cancelUnit' });
    expect(await refusal(unit('P.B').executeUpdate(changeUnitUpdate, { args: [{ op: 'suspend', requestId: 's9', decidedBy: 'user:ops', reason: 'x' }] }))).toMatch(
      /no longer followed|not found|completed/i,
    );
    await rollout.result();
    const [cancelled] = await eventsOf(db, 'P.B', 'UnitCancelled');
    expect(cancelled!.payload).toMatchObject({ decidedBy: 'user:ops', openSteps: ['study'], reason: 'Đơn vị tạm ngừng hoạt động' });
    expect(await db.selectFrom('rollout_units').select(['unit_code', 'status']).where('rollout_id', '=', R).orderBy('unit_code').execute()).toEqual([
      { unit_code: 'P', status: 'completed' },
      { unit_code: 'P.A', status: 'completed' },
      { unit_code: 'P.B', status: 'cancelled' },
    ]);
  });
});
