/**
 * PostgreSQL drops the connection an append is using (pg_terminate_backend while the append waits on
 * the chain head's row lock). Real PostgreSQL, real activities in a real worker (time-skipping server):
 *
 * - the process survives (before db/connect.ts listened on checked-out clients, node-postgres emitted
 *   an unhandled 'error' event, "Connection terminated unexpectedly", which killed the worker or `up`);
 * - the activity fails as DatabaseUnavailable, is retried, and the event lands exactly once;
 * - the one classifier (db/errors.ts) recognises a database that is down, and the HTTP API answers it
 *   with 503 and Retry-After; an Update is not even sent while PostgreSQL is unreachable.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import pg from 'pg';
import { createActivities } from '../../activities';
import { errorResponse, send } from '../../api/http';
import { executeUpdateWithRetry } from '../../app/update-retry';
import { connect } from '../../db/connect';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../../db/errors';
import { READ_MODEL_LOCK } from '../../db/event-store';
import { importHierarchy } from '../../db/hierarchy';
import { levelsOf } from '../../domain/hierarchy';
import { parsePlan } from '../../domain/plan';
import type { StepReportInput } from '../../domain/reports';
import { freePort } from '../../stack/ports';
import { reportStepUpdate, rolloutWorkflowId, unitWorkflowId } from '../../workflows/definitions';
import { rolloutWorkflow } from '../../workflows/rollout';
import { freshDatabase, type TestDb } from '../helpers/db';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';

const useEnv = useTimeSkippingEnv();
const UNITS = [{ code: 'P', name: 'Tỉnh', level: 'tinh', parent: null, members: 10, standingCommittee: true }];
const PLAN = parsePlan({
  id: 't',
  title: 't',
  steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'P10D' }, reminders: [], escalation: { tiers: 1, interval: 'P3D' } }],
});

let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t?.close();
});

test('a connection terminated under a waiting append: the worker survives, the append is retried and lands once', async () => {
  const R = 'dropped-connection';
  const failures: unknown[] = [];
  const real = createActivities({ db: t.db });
  const activities = {
    ...real,
    appendEvents: async (a: Parameters<typeof real.appendEvents>[0]) => {
      try {
        return await real.appendEvents(a);
      } catch (e) {
        failures.push(e);
        throw e;
      }
    },
  };
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown): void => void uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  const locker = new pg.Client({ connectionString: t.url });
  locker.on('error', () => undefined); // dropped with the test database at the end
  await locker.connect();
  const worker = await Worker.create({ connection: useEnv().nativeConnection, taskQueue: R, workflowBundle: await workflowBundle(), activities });
  try {
    await worker.runUntil(async () => {
      const { version } = await importHierarchy(t.db, UNITS, { source: 'dropped-connection.test.ts', content: R, importedBy: 'user:test', levels: levelsOf(UNITS) });
      await useEnv().client.workflow.start(rolloutWorkflow, {
        taskQueue: R,
        workflowId: rolloutWorkflowId(R),
        args: [
          {
            rolloutId: R,
            resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: '2022-06-16' }, title: 'x' },
            plan: PLAN,
            rootUnit: 'P',
            hierarchyVersion: version,
            requestedBy: 'user:test',
          },
        ],
      });
      const count = async (type: string) => Number((await sql<{ n: string }>`select count(*) as n from events where rollout_id = ${R} and type = ${type}`.execute(t.db)).rows[0]!.n);
      await until('the unit enrolled', async () => (await count('UnitEnrolled')) === 1, 60_000, 200);

      // Hold the read-model lock as a rebuild does, send a report: its append waits on the lock.
      await locker.query('begin');
      await locker.query('select pg_advisory_xact_lock($1)', [READ_MODEL_LOCK]);
      const report: StepReportInput = { reportId: 'rep-1', unitCode: 'P', stepId: 'study', kind: 'studyConference', sessionDate: '2026-01-02', attended: 10 } as StepReportInput;
      const answer = useEnv()
        .client.workflow.getHandle(unitWorkflowId(R, 'P'))
        .executeUpdate(reportStepUpdate, { args: [report] });
      const waiting = await until(
        'the append waiting on the read-model lock',
        async () => {
          // Not from the locker: inside its transaction pg_stat_activity is one snapshot.
          const r = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike '%insert into events%'`.execute(t.db);
          return r.rows[0]?.pid;
        },
        60_000,
        100,
      );
      await sql`select pg_terminate_backend(${waiting})`.execute(t.db);
      await until('the terminated append to fail', async () => failures.length > 0, 60_000, 100);
      await locker.query('commit');

      expect(await answer).toMatchObject({ reportId: 'rep-1', duplicate: false, status: 'done' });
      const failure = failures[0];
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect((failure as ApplicationFailure).type).toBe('DatabaseUnavailable');
      expect((failure as ApplicationFailure).nonRetryable).toBeFalsy();
      expect(isDatabaseUnavailable(failure)).toBe(true);
      // Retried and recorded exactly once; the process is alive and saw no uncaught error.
      expect(await count('StudySessionReported')).toBe(1);
      expect(await count('StepCompleted')).toBe(1);
      expect(uncaught).toEqual([]);
      // The pool still works after discarding the broken connection.
      expect((await sql<{ one: number }>`select 1 as one`.execute(t.db)).rows[0]!.one).toBe(1);
    });
  } finally {
    process.off('uncaughtException', onUncaught);
    await locker.end().catch(() => undefined);
    await useEnv()
      .client.workflow.getHandle(rolloutWorkflowId(R))
      .terminate('test over')
      .catch(() => undefined);
  }
});

test('a database that cannot be reached: one classifier, a 503 with Retry-After, and no Update sent', async () => {
  const port = await freePort();
  const down = connect(`postgres://postgres:password@127.0.0.1:${port}/nothing`, { max: 1 });
  try {
    const error = await sql`select 1`.execute(down).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isDatabaseUnavailable(new Error('syntax error at or near "selec"'))).toBe(false);
    expect(errorResponse(error)).toEqual({ status: 503, body: { error: 'unavailable', message: 'database unavailable, nothing recorded', issues: [] } });

    let sent = 0;
    const handle = { executeUpdate: async () => (sent++, 'answered') } as never;
    await expect(executeUpdateWithRetry(handle, reportStepUpdate, [{} as StepReportInput], { db: down })).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(sent).toBe(0);
    expect(errorResponse(new DatabaseUnavailableError()).status).toBe(503);
    const written: Array<Record<string, unknown>> = [];
    const res = { writeHead: (_s: number, h: Record<string, unknown>) => void written.push(h), end: () => undefined } as never;
    send(res, 503, errorResponse(error).body);
    expect(written[0]).toMatchObject({ 'retry-after': '5' });
  } finally {
    await down.destroy();
  }
});

test('an Update refused while the workflow task is in failed state is sent again, a bounded number of times', async () => {
  const transient = Object.assign(new Error('Workflow Update failed'), {
    cause: Object.assign(new Error('9 FAILED_PRECONDITION: Unable to perform workflow execution update due to Workflow Task in failed state.'), { code: 9 }),
  });
  let calls = 0;
  const flaky = { executeUpdate: async () => (++calls < 3 ? Promise.reject(transient) : 'answered') } as never;
  const retried: number[] = [];
  expect(await executeUpdateWithRetry(flaky, reportStepUpdate, [{} as StepReportInput], { initialDelayMs: 10, onRetry: (n) => retried.push(n) })).toBe('answered');
  expect(retried).toEqual([1, 2]);

  calls = 0;
  const broken = { executeUpdate: async () => (++calls, Promise.reject(transient)) } as never;
  await expect(executeUpdateWithRetry(broken, reportStepUpdate, [{} as StepReportInput], { attempts: 4, initialDelayMs: 10 })).rejects.toBe(transient);
  expect(calls).toBe(4);

  calls = 0;
  const refused = new Error('not transient');
  const bad = { executeUpdate: async () => (++calls, Promise.reject(refused)) } as never;
  await expect(executeUpdateWithRetry(bad, reportStepUpdate, [{} as StepReportInput], { initialDelayMs: 10 })).rejects.toBe(refused);
  expect(calls).toBe(1);
});
