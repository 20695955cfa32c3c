/**
 * What a standing committee and ops do besides reporting and extending, on the time-skipping server
 * with real PostgreSQL: acknowledging an escalation, directing the unit, and cancelling a rollout
 * (which runs down the tree, through fan-out batches, and closes every open step and escalation).
 */
import { Worker } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import { workerActivities } from '../../worker/worker';
import { verifyChain } from '../../db/audit';
import type { Database } from '../../db/database';
import { importHierarchy } from '../../db/hierarchy';
import { listEscalations, overdueUnits, rolloutProgress } from '../../db/queries';
import { levelsOf, type Unit } from '../../domain/hierarchy';
import { parsePlan } from '../../domain/plan';
import { acknowledgeEscalationUpdate, cancelRolloutUpdate, directEscalationUpdate, reportStepUpdate, rolloutWorkflowId, unitWorkflowId } from '../../workflows/definitions';
import { freshDatabase, type TestDb } from '../helpers/db';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';
import { refusal, startTestRollout } from '../helpers/rollouts';

const useEnv = useTimeSkippingEnv();

/** A province with two districts; district A has five cells (fanned out in batches of 2). */
const UNITS: Unit[] = [
  { code: 'P', name: 'Tỉnh', level: 'tinh', parent: null, members: 10, standingCommittee: true },
  { code: 'P.A', name: 'Huyện A', level: 'huyen', parent: 'P', members: 4, standingCommittee: true },
  { code: 'P.B', name: 'Huyện B', level: 'huyen', parent: 'P', members: 4, standingCommittee: true },
  ...[1, 2, 3, 4, 5].map((i) => ({ code: `P.A.${i}`, name: `Chi bộ ${i}`, level: 'chibo', parent: 'P.A', members: 2, standingCommittee: false })),
];
const PLAN = parsePlan({
  id: 'actions',
  title: 'Kiểm thử',
  steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'P10D' }, reminders: [], escalation: { tiers: 2, interval: 'P3D' } }],
});

let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t?.close();
});

const countEvents = async (db: Kysely<Database>, type?: string): Promise<number> => {
  let q = db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('n'));
  if (type) q = q.where('type', '=', type);
  return Number((await q.executeTakeFirstOrThrow()).n);
};

test('a committee acknowledges and directs an escalation; ops cancels the rollout and it stops everywhere', async () => {
  const env = useEnv();
  const db = t.db;
  const { version } = await importHierarchy(db, UNITS, { source: 'committee-actions.test.ts', content: JSON.stringify(UNITS), importedBy: 'user:ops', levels: levelsOf(UNITS) });
  const R = 'actions';
  // The commune P.A.1 has an email contact: directives and the cancellation are queued for it.
  await db.insertInto('unit_contacts').values({ unit_code: 'P.A.1', channel: 'email', address: 'vanphong@pa1.example.vn', name: 'Văn phòng' }).execute();
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'actions', workflowBundle: await workflowBundle(), activities: workerActivities({ db }) });
  await worker.runUntil(async () => {
    const rollout = await startTestRollout(env.client, { taskQueue: 'actions', rolloutId: R, plan: PLAN, hierarchyVersion: version, units: UNITS.length, maxChildren: 2 });
    const unit = (code: string) => env.client.workflow.getHandle(unitWorkflowId(R, code));
    await until('every unit enrolled', async () => (await countEvents(db, 'UnitEnrolled')) === UNITS.length, 60_000, 100);
    // P.B studies on time; the rest miss the deadline and are escalated.
    await unit('P.B').executeUpdate(reportStepUpdate, {
      args: [{ reportId: 'b1', unitCode: 'P.B', stepId: 'study', kind: 'studyConference', sessionDate: new Date(await env.currentTimeMs()).toISOString().slice(0, 10), attended: 4 }],
    });
    await env.sleep('12 days');
    const open = await until('escalations of P.A.1', async () => {
      const rows = await listEscalations(db, { rolloutId: R, unitCode: 'P.A.1', status: 'open' });
      return rows.length === 1 ? rows : undefined;
    });
    const esc = open[0]!;
    expect(esc.recipient_code).toBe('P.A'); // tier 1: the district above the cell

    // Acknowledge: only the committee it is addressed to; once.
    const before = await countEvents(db);
    expect(await refusal(unit('P.A.1').executeUpdate(acknowledgeEscalationUpdate, { args: [{ requestId: 'ack0', escalationId: esc.escalation_id, committeeCode: 'P' }] }))).toMatch(
      /addressed to P\.A, not P/,
    );
    expect(await refusal(unit('P.A.1').executeUpdate(acknowledgeEscalationUpdate, { args: [{ requestId: 'ack0', escalationId: 'nope', committeeCode: 'P.A' }] }))).toMatch(/not open on P\.A\.1/);
    expect(await countEvents(db)).toBe(before);
    const ack = await unit('P.A.1').executeUpdate(acknowledgeEscalationUpdate, { args: [{ requestId: 'ack1', escalationId: esc.escalation_id, committeeCode: 'P.A', note: 'Đã nhận, sẽ đôn đốc' }] });
    expect(ack).toMatchObject({ duplicate: false, action: 'acknowledged', stepKey: 'study' });
    expect(await unit('P.A.1').executeUpdate(acknowledgeEscalationUpdate, { args: [{ requestId: 'ack1', escalationId: esc.escalation_id, committeeCode: 'P.A' }] })).toMatchObject({ duplicate: true });
    expect(await refusal(unit('P.A.1').executeUpdate(acknowledgeEscalationUpdate, { args: [{ requestId: 'ack2', escalationId: esc.escalation_id, committeeCode: 'P.A' }] }))).toMatch(
      /already been acknowledged/,
    );
    // Direct: may be repeated; the escalation stays open.
    await unit('P.A.1').executeUpdate(directEscalationUpdate, {
      args: [{ requestId: 'dir1', escalationId: esc.escalation_id, committeeCode: 'P.A', directive: 'Tổ chức học tập bù trong tuần', respondBy: '2030-01-01' }],
    });
    await unit('P.A.1').executeUpdate(directEscalationUpdate, {
      args: [{ requestId: 'dir2', escalationId: esc.escalation_id, committeeCode: 'P.A', directive: 'Báo cáo kết quả', respondBy: '2030-02-01' }],
    });
    expect(await refusal(unit('P.A.1').executeUpdate(directEscalationUpdate, { args: [{ requestId: 'dir3', escalationId: esc.escalation_id, committeeCode: 'P.A', directive: '   ' }] }))).toMatch(
      /directive/,
    );
    const [after] = await listEscalations(db, { rolloutId: R, unitCode: 'P.A.1', status: 'open' });
    expect(after).toMatchObject({ status: 'open', acknowledged_by: 'committee:P.A', acknowledgement_note: 'Đã nhận, sẽ đôn đốc', directives: 2, last_directive: 'Báo cáo kết quả' });
    expect(String(after!.respond_by)).toBe('2030-02-01');
    expect(await countEvents(db, 'EscalationAcknowledged')).toBe(1);
    expect(await countEvents(db, 'EscalationDirected')).toBe(2);

    // Cancel: recorded, run down the tree (through the fan-out batches), every unit stops.
    const openEscalations = (await listEscalations(db, { rolloutId: R, status: 'open' })).length;
    expect(openEscalations).toBeGreaterThan(1);
    const cancel = await env.client.workflow
      .getHandle(rolloutWorkflowId(R))
      .executeUpdate(cancelRolloutUpdate, { args: [{ requestId: 'c1', reason: 'Nghị quyết được thay thế', requestedBy: 'user:ops' }] });
    expect(cancel).toMatchObject({ rolloutId: R, duplicate: false });
    expect(await refusal(env.client.workflow.getHandle(rolloutWorkflowId(R)).executeUpdate(cancelRolloutUpdate, { args: [{ requestId: 'c2', reason: 'again', requestedBy: 'user:ops' }] }))).toMatch(
      /already cancelled/,
    );
    expect(await rollout.result()).toMatchObject({ rolloutId: R, cancelled: true });
    // P.B had finished its own steps but waits for nothing (no children): it completed before; the others were cancelled.
    await until('every running unit cancelled', async () => (await countEvents(db, 'UnitCancelled')) === UNITS.length - 1, 60_000, 100);
    const statuses = await db.selectFrom('rollout_units').select(['unit_code', 'status']).where('rollout_id', '=', R).orderBy('unit_code').execute();
    expect(Object.fromEntries(statuses.map((s) => [s.unit_code, s.status]))).toEqual({
      P: 'cancelled',
      'P.A': 'cancelled',
      'P.B': 'completed',
      'P.A.1': 'cancelled',
      'P.A.2': 'cancelled',
      'P.A.3': 'cancelled',
      'P.A.4': 'cancelled',
      'P.A.5': 'cancelled',
    });
    expect((await db.selectFrom('rollouts').select('status').where('rollout_id', '=', R).executeTakeFirstOrThrow()).status).toBe('cancelled');
    expect(await countEvents(db, 'RolloutCompleted')).toBe(0);
    expect(await listEscalations(db, { rolloutId: R, status: 'open' })).toEqual([]);
    const resolved = await listEscalations(db, { rolloutId: R, status: 'resolved' });
    expect(resolved.filter((e) => e.resolution === 'cancelled')).toHaveLength(openEscalations);
    // Nothing is overdue in a cancelled rollout, and the progress counters no longer count open steps.
    expect(await overdueUnits(db, R, new Date(await env.currentTimeMs()))).toEqual([]);
    const progress = await rolloutProgress(db, R, new Date(await env.currentTimeMs()));
    expect(progress.reduce((n, p) => n + p.open + p.waiting + p.overdue, 0)).toBe(0);
    // Reports after the cancellation are refused (the workflows have stopped).
    expect(
      await refusal(
        unit('P.A.2').executeUpdate(reportStepUpdate, { args: [{ reportId: 'late', unitCode: 'P.A.2', stepId: 'study', kind: 'studyConference', sessionDate: '2026-01-01', attended: 1 }] }),
      ),
    ).not.toBe('accepted');
    expect((await verifyChain(db)).ok).toBe(true);
    // Directives and the cancellation reach the unit's contacts (queued in the outbox with their events); acknowledgements tell nobody.
    const outbox = await db.selectFrom('notification_outbox').select(['event_type', 'recipient_unit']).where('recipient_unit', '=', 'P.A.1').orderBy('notification_id').execute();
    expect(outbox.map((o) => o.event_type).filter((t) => t !== 'ReminderSent')).toEqual(['EscalationDirected', 'EscalationDirected', 'UnitCancelled']);
  });
});
