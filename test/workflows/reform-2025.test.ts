/**
 * The 2025 reform end to end (issue 10), on the time-skipping server with real PostgreSQL: a rollout
 * of 21-NQ/TW runs on a four-level province (province → districts → communes → cells); the districts
 * are abolished and the communes merged (a dated change of the organisation's hierarchy); the
 * rollout follows the new version and carries on. The checks name which steps passed to which
 * successor, which escalations go to the province after the change, the study coverage carried
 * across the merger, the rollout's picture as of just before and just after the change, and that the
 * rollout then completes on its new shape.
 */
import { Worker } from '@temporalio/worker';
import { rolloutOverviewAsOf } from '../../app/reads';
import { followHierarchy, previewFollow } from '../../app/reshape';
import { importHierarchy } from '../../db/hierarchy';
import { storeChange } from '../../db/hierarchy-changes';
import { levelsOf } from '../../domain/hierarchy';
import { parsePlan } from '../../domain/plan';
import { workerActivities } from '../../worker/worker';
import { batchWorkflowId, reportStepUpdate, unitWorkflowId } from '../../workflows/definitions';
import { freshDatabase, type TestDb } from '../helpers/db';
import { rejection } from '../helpers/domain-error';
import { province, reform } from '../helpers/reform-2025';
import { eventsOf, startTestRollout } from '../helpers/rollouts';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';

const useEnv = useTimeSkippingEnv();
let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t?.close();
});

/** Học tập, quán triệt: every unit, 10 days; escalated to the committee above, then the one above that. */
const PLAN = parsePlan({
  id: 'nq21-reform',
  title: 'Học tập, quán triệt Nghị quyết 21-NQ/TW',
  steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập, quán triệt', deadline: { kind: 'afterStart', after: 'P10D' }, reminders: [], escalation: { tiers: 2, interval: 'P30D' } }],
});

test('the 2025 reform: districts abolished, communes merged; the rollout follows, passes work on, reroutes escalations and completes', async () => {
  const env = useEnv();
  const db = t.db;
  const units = province('T');
  const { version } = await importHierarchy(db, units, { source: 'tinh-T.json', content: JSON.stringify(units), importedBy: 'user:ops', levels: levelsOf(units) });
  const R = 'nq21-T';
  const TQ = 'reform';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TQ, workflowBundle: await workflowBundle(), activities: workerActivities({ db }) });
  await worker.runUntil(async () => {
    const rollout = await startTestRollout(env.client, { taskQueue: TQ, rolloutId: R, plan: PLAN, hierarchyVersion: version, rootUnit: 'T', units: units.length });
    await until('every unit enrolled', async () => (await db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', R).execute()).length === units.length, 60_000, 100);
    const unit = (code: string) => env.client.workflow.getHandle(unitWorkflowId(R, code));
    const today = async () => new Date((await env.currentTimeMs()) + 7 * 3600_000).toISOString().slice(0, 10);
    const study = async (code: string, attended: number, id: string) =>
      unit(code).executeUpdate(reportStepUpdate, { args: [{ reportId: id, unitCode: code, stepId: 'study', kind: 'studyConference', sessionDate: await today(), attended }] });

    // Before the reform: An studies in part (60 of 100), Bình in full; Cao and Dương are overdue and
    // escalated to their district (tier 1), the districts to the province.
    await study('T.H1.X1', 60, 'x1-a');
    await study('T.H1.X2', 120, 'x2-a');
    await env.sleep('11 days');
    await until('the overdue units escalated', async () => (await eventsOf(db, 'T.H2.X3', 'Escalated', R)).length === 1 && (await eventsOf(db, 'T.H2', 'Escalated', R)).length === 1);
    const [x3Esc] = await db.selectFrom('escalations').selectAll().where('unit_code', '=', 'T.H2.X3').execute();
    expect(x3Esc).toMatchObject({ recipient_code: 'T.H2', status: 'open' });
    const [x5Esc] = await db.selectFrom('escalations').selectAll().where('unit_code', '=', 'T.H2.X5').execute();
    expect(x5Esc).toMatchObject({ recipient_code: 'T.H2', status: 'open' });

    // 1 July 2025: the organisation's hierarchy changes (a new version of T).
    const changed = await storeChange(db, reform('T'));
    const beforeChange = new Date(await env.currentTimeMs());

    // Bad input: an older version, an unknown one; nothing recorded.
    const follow = { toVersion: changed.version, effectiveFrom: '2025-07-01', reason: 'Thực hiện Nghị quyết 60-NQ/TW: bỏ cấp huyện, sáp nhập xã', decidedBy: 'user:ops' };
    expect((await rejection(previewFollow(db, R, { ...follow, toVersion: version }))).issues[0]!.path).toBe('toVersion');
    expect((await rejection(previewFollow(db, R, { ...follow, toVersion: 999 }))).kind).toBe('not_found');

    const preview = await previewFollow(db, R, follow);
    expect(preview.counts).toEqual({ reshaped: 4, merged: 4, dissolved: 2, started: 2, adopted: 1, released: 0 });
    expect(preview.changes.filter((c) => c.op === 'merge')).toEqual([
      { code: 'T.H1.X1', op: 'merge', successor: 'T.AB' },
      { code: 'T.H1.X2', op: 'merge', successor: 'T.AB' },
      { code: 'T.H2.X3', op: 'merge', successor: 'T.CD' },
      { code: 'T.H2.X4', op: 'merge', successor: 'T.CD' },
    ]);
    expect(preview.changes.filter((c) => c.op === 'adoptChild')).toEqual([
      { code: 'T', op: 'adoptChild', child: 'T.AB', start: true },
      { code: 'T', op: 'adoptChild', child: 'T.CD', start: true },
      { code: 'T', op: 'adoptChild', child: 'T.H2.X5', start: false },
    ]);
    const applied = await followHierarchy({ db, client: env.client, taskQueue: TQ }, R, { ...follow, fingerprint: preview.fingerprint, batchId: 'cai-cach-2025' });
    expect(applied).toMatchObject({ fromVersion: version, toVersion: changed.version, units: preview.changes.length, alreadyApplied: false });
    expect(await env.client.workflow.getHandle(batchWorkflowId('cai-cach-2025')).result()).toMatchObject({ pending: 0, refused: 0 });
    const afterChange = new Date(await env.currentTimeMs());

    // The merged and dissolved units ended as such; the new communes run on the new shape.
    const status = async (code: string) => await db.selectFrom('rollout_units').select(['status', 'parent_code']).where('rollout_id', '=', R).where('unit_code', '=', code).executeTakeFirstOrThrow();
    expect(await status('T.H1.X1')).toMatchObject({ status: 'merged' });
    expect(await status('T.H1')).toMatchObject({ status: 'dissolved' });
    expect(await status('T.AB')).toMatchObject({ status: 'active', parent_code: 'T' });
    expect(await status('T.H2.X5')).toMatchObject({ status: 'active', parent_code: 'T' });
    expect(await status('T.H1.X2.CB1')).toMatchObject({ status: 'active', parent_code: 'T.CD' });

    // Which steps passed to which successor, and the study coverage carried across the merger.
    const [fromX1] = (await eventsOf(db, 'T.AB', 'StepsInherited', R)).filter((e) => (e.payload as { from: string }).from === 'T.H1.X1');
    expect(fromX1!.payload).toMatchObject({ from: 'T.H1.X1', steps: [{ key: 'study', attended: 60, completed: false }] });
    const [fromX2] = (await eventsOf(db, 'T.AB', 'StepsInherited', R)).filter((e) => (e.payload as { from: string }).from === 'T.H1.X2');
    expect(fromX2!.payload).toMatchObject({ steps: [{ key: 'study', attended: 120, completed: true }] });
    const ab = await db.selectFrom('unit_steps').selectAll().where('rollout_id', '=', R).where('unit_code', '=', 'T.AB').executeTakeFirstOrThrow();
    expect({ attended: ab.attended, status: ab.status }).toEqual({ attended: 180, status: 'open' }); // 180 of 220 members
    const [merged] = await eventsOf(db, 'T.H2.X3', 'UnitMerged', R);
    expect(merged!.payload).toMatchObject({ successor: 'T.CD', openSteps: ['study'], passedEscalations: [x3Esc!.escalation_id], effectiveFrom: '2025-07-01', batchId: 'cai-cach-2025' });

    // Escalations after the change go to the province: Cao's passed to Cao Dương and addressed to T; Đông's rerouted to T.
    expect(await db.selectFrom('escalations').select(['unit_code', 'recipient_code', 'status']).where('escalation_id', '=', x3Esc!.escalation_id).executeTakeFirstOrThrow()).toEqual({
      unit_code: 'T.CD',
      recipient_code: 'T',
      status: 'open',
    });
    expect(await db.selectFrom('escalations').select(['recipient_code', 'status']).where('escalation_id', '=', x5Esc!.escalation_id).executeTakeFirstOrThrow()).toEqual({
      recipient_code: 'T',
      status: 'open',
    });
    const [reshaped] = await eventsOf(db, 'T.H2.X5', 'UnitReshaped', R);
    expect(reshaped!.payload).toMatchObject({ unit: { name: 'Đảng bộ phường Đông', parent: 'T' }, rerouted: [{ escalationId: x5Esc!.escalation_id, from: 'T.H2', to: { code: 'T' } }] });
    // Nothing is addressed to a unit that no longer exists.
    expect(await db.selectFrom('escalations').select('escalation_id').where('rollout_id', '=', R).where('status', '=', 'open').where('recipient_code', 'in', ['T.H1', 'T.H2']).execute()).toEqual([]);

    // The audit record shows each shape: as of just before and just after the change.
    const was = await rolloutOverviewAsOf(db, R, beforeChange);
    const is = await rolloutOverviewAsOf(db, R, afterChange);
    expect(was.counts.units).toBe(11);
    expect(is.counts.units).toBe(13); // two new communes enrolled; the merged and dissolved ones are still on record

    // The rollout carries on and completes on its new shape.
    for (const [code, n] of [
      ['T.AB', 40],
      ['T.CD', 350],
      ['T.H2.X5', 90],
      ['T.H1.X1.CB1', 50],
      ['T.H1.X2.CB1', 60],
      ['T.H2.X3.CB1', 80],
      ['T', 1000],
    ] as const)
      await study(code, n, `${code}-final`);
    await rollout.result();
    expect(await db.selectFrom('rollouts').select(['status', 'hierarchy_version']).where('rollout_id', '=', R).executeTakeFirstOrThrow()).toEqual({
      status: 'completed',
      hierarchy_version: changed.version,
    });
    expect(await db.selectFrom('escalations').select('escalation_id').where('rollout_id', '=', R).where('status', '=', 'open').execute()).toEqual([]);
  });
}, 240_000);
