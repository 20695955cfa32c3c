/**
 * A report the audit record cannot take must not wedge its unit's workflow. On the time-skipping server
 * with the real workflows and the REAL PostgreSQL activities:
 *
 * 1. a report with a NUL character in `reportedBy`, sent straight to the workflow's Update (bypassing
 *    the CLI's and API's own checks), is refused by the validator with an error naming the field;
 *    nothing is recorded, and the next good report is accepted and recorded;
 * 2. a report that passes every check of the workflow but that PostgreSQL refuses for good (a CHECK
 *    constraint this test adds to the events table: a real SQLSTATE 23514 from the real append) fails
 *    its Update with a clear error after the append is tried once (non-retryable); the workflow goes
 *    back to what is recorded (the step is still open), takes the next good report, its timers still
 *    fire, the stream has no sequence gap and the hash chain verifies.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import { createActivities } from '../../activities';
import { verifyChain } from '../../db/audit';
import { importHierarchy } from '../../db/hierarchy';
import { levelsOf } from '../../domain/hierarchy';
import { parsePlan } from '../../domain/plan';
import type { StepReportInput } from '../../domain/reports';
import { reportStepUpdate, rolloutWorkflowId, unitStatusQuery, unitWorkflowId } from '../../workflows/definitions';
import { rolloutWorkflow } from '../../workflows/rollout';
import { freshDatabase, type TestDb } from '../helpers/db';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';

const useEnv = useTimeSkippingEnv();
const UNITS = [
  { code: 'P', name: 'Tỉnh', level: 'tinh', parent: null, members: 10, standingCommittee: true },
  { code: 'P.A', name: 'Huyện A', level: 'huyen', parent: 'P', members: 4, standingCommittee: true },
];
const PLAN = parsePlan({
  id: 't',
  title: 't',
  steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'P10D' }, reminders: ['P2D'], escalation: { tiers: 1, interval: 'P3D' } }],
});

let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t?.close();
});

async function startRollout(rolloutId: string, taskQueue: string): Promise<void> {
  const { version } = await importHierarchy(t.db, UNITS, { source: 'unrecordable.test.ts', content: `${rolloutId}`, importedBy: 'user:test', levels: levelsOf(UNITS) });
  await useEnv().client.workflow.start(rolloutWorkflow, {
    taskQueue,
    workflowId: rolloutWorkflowId(rolloutId),
    args: [
      {
        rolloutId,
        resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: '2022-06-16' }, title: 'x' },
        plan: PLAN,
        rootUnit: 'P',
        hierarchyVersion: version,
        requestedBy: 'user:test',
      },
    ],
  });
  await until('both units enrolled', async () => (await eventsOf(rolloutId)).filter((e) => e.type === 'UnitEnrolled').length === 2, 60_000, 200);
}

/** Stop the rollout's workflows, so that their timers need no worker once the test is over (time skipping waits for them). */
async function terminateAll(rolloutId: string): Promise<void> {
  for (const id of [rolloutWorkflowId(rolloutId), ...UNITS.map((u) => unitWorkflowId(rolloutId, u.code))]) {
    await useEnv()
      .client.workflow.getHandle(id)
      .terminate('test over')
      .catch(() => undefined); // already finished
  }
}

const eventsOf = (rolloutId: string) => t.db.selectFrom('events').select(['type', 'unit_code', 'stream_seq', 'actor', 'payload']).where('rollout_id', '=', rolloutId).orderBy('chain_seq').execute();

const study = (reportId: string, attended: number, reportedBy?: string): StepReportInput =>
  ({ reportId, unitCode: 'P.A', stepId: 'study', kind: 'studyConference', sessionDate: '2026-01-02', attended, ...(reportedBy !== undefined ? { reportedBy } : {}) }) as StepReportInput;

/** The Update's failure as the client sees it: the ApplicationFailure's type and message. */
async function refusal(p: Promise<unknown>): Promise<{ type: string | undefined | null; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (e as WorkflowUpdateFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    return { type: (cause as ApplicationFailure).type, message: (cause as ApplicationFailure).message };
  }
  throw new Error('the update was accepted');
}

test('a report with a NUL character is refused by the workflow itself; the next good report is recorded', async () => {
  const R = 'nul-report';
  const worker = await Worker.create({ connection: useEnv().nativeConnection, taskQueue: R, workflowBundle: await workflowBundle(), activities: createActivities({ db: t.db }) });
  await worker.runUntil(async () => {
    await startRollout(R, R);
    const unit = useEnv().client.workflow.getHandle(unitWorkflowId(R, 'P.A'));
    const bad = await refusal(unit.executeUpdate(reportStepUpdate, { args: [study('bad-1', 2, 'Nguyễn\u0000Văn A')] }));
    expect(bad.type).toBe('InvalidReport');
    expect(bad.message).toMatch(/reportedBy: contains a NUL character/);
    // Nothing of it is recorded, and the workflow did not remember it.
    expect((await eventsOf(R)).filter((e) => e.unit_code === 'P.A').map((e) => e.type)).toEqual(['UnitEnrolled']);

    const good = await unit.executeUpdate(reportStepUpdate, { args: [study('bad-1', 2, 'Nguyễn Văn A')] });
    expect(good).toMatchObject({ reportId: 'bad-1', duplicate: false, status: 'open' });
    const mine = (await eventsOf(R)).filter((e) => e.unit_code === 'P.A');
    expect(mine.map((e) => `${e.stream_seq} ${e.type} ${e.actor}`)).toEqual(['1 UnitEnrolled system', '2 StudySessionReported unit:P.A/Nguyễn Văn A']);
    await terminateAll(R);
  });
});

test('an append PostgreSQL refuses for good fails its Update, rolls the workflow back to what is recorded, and the unit carries on', async () => {
  const R = 'refused-append';
  // A real, permanent refusal from PostgreSQL that none of the workflow's checks can foresee.
  await sql`alter table events add constraint test_refuse_actor check (actor <> 'unit:P.A/refuse me')`.execute(t.admin);
  let appendCalls = 0;
  const real = createActivities({ db: t.db });
  const activities = { ...real, appendEvents: (a: Parameters<typeof real.appendEvents>[0]) => (appendCalls++, real.appendEvents(a)) };
  const worker = await Worker.create({ connection: useEnv().nativeConnection, taskQueue: R, workflowBundle: await workflowBundle(), activities });
  try {
    await worker.runUntil(async () => {
      await startRollout(R, R);
      const unit = useEnv().client.workflow.getHandle(unitWorkflowId(R, 'P.A'));
      const before = appendCalls;
      const refused = await refusal(unit.executeUpdate(reportStepUpdate, { args: [study('r-1', 4, 'refuse me')] }));
      expect(refused.type).toBe('NotRecorded');
      expect(refused.message).toMatch(/the audit record refused this change \(PostgreSQL refused the data: .*test_refuse_actor.*\); nothing was recorded/);
      // Non-retryable: tried once, not again and again.
      expect(appendCalls - before).toBe(1);
      // The workflow is back at what is recorded: the step is open, the report ID is not remembered.
      const status = await unit.query(unitStatusQuery);
      expect(status.steps.map((s) => `${s.key} ${s.status}`)).toEqual(['study open']);
      expect((await eventsOf(R)).filter((e) => e.unit_code === 'P.A').map((e) => e.type)).toEqual(['UnitEnrolled']);

      // The same report ID from someone else is a new report: accepted, recorded, completes the step.
      const good = await unit.executeUpdate(reportStepUpdate, { args: [study('r-1', 4, 'Trần Thị B')] });
      expect(good).toMatchObject({ reportId: 'r-1', duplicate: false, status: 'done' });
      // The province never reports: its timers still run (reminder, deadline, escalation to itself).
      await useEnv().sleep('14 days');
      await until('the province escalated', async () => (await eventsOf(R)).some((e) => e.unit_code === 'P' && e.type === 'Escalated'), 60_000, 200);
    });
    const byUnit = (code: string) => (async () => (await eventsOf(R)).filter((e) => e.unit_code === code))();
    expect((await byUnit('P.A')).map((e) => `${e.stream_seq} ${e.type} ${e.actor}`)).toEqual([
      '1 UnitEnrolled system',
      '2 StudySessionReported unit:P.A/Trần Thị B',
      '3 StepCompleted unit:P.A/Trần Thị B',
      '4 UnitCompleted system',
    ]);
    const p = await byUnit('P');
    expect(p.map((e) => e.stream_seq)).toEqual(p.map((_, i) => i + 1)); // no gap
    const chain = await verifyChain(t.db);
    expect(chain.problems).toEqual([]);
    expect(chain.ok).toBe(true);
  } finally {
    await sql`alter table events drop constraint test_refuse_actor`.execute(t.admin);
    await terminateAll(R);
  }
});
