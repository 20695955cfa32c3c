/**
 * Batches (issue 10, "operations on many units at once") on the time-skipping server with real
 * PostgreSQL: a committee extends the deadline of its 40 overdue communes in one batch (previewed,
 * confirmed, applied by the batch workflow, one event per unit carrying the batch ID); a district's
 * batch reaches only its own communes and is refused for another district's; a stale confirmation
 * starts nothing; per-unit refusals are results, not failures.
 */
import { Worker } from '@temporalio/worker';
import { batchStatus, previewBatch, startBatch, type BatchRequester } from '../../app/batches';
import type { Unit } from '../../domain/hierarchy';
import type { BatchRequest } from '../../domain/batches';
import { workerActivities } from '../../worker/worker';
import { batchWorkflowId } from '../../workflows/definitions';
import { rejection } from '../helpers/domain-error';
import { STUDY_PLAN, eventsOf, startTestRollout, useImportedHierarchy } from '../helpers/rollouts';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';

const useEnv = useTimeSkippingEnv();

/** A province, two districts, 20 communes under each: every one with a standing committee. */
const UNITS: Unit[] = [
  { code: 'P', name: 'Tỉnh', level: 'tinh', parent: null, members: 10, standingCommittee: true },
  ...['D1', 'D2'].flatMap((d): Unit[] => [
    { code: `P.${d}`, name: `Huyện ${d}`, level: 'huyen', parent: 'P', members: 6, standingCommittee: true },
    ...Array.from({ length: 20 }, (_, i): Unit => ({
      code: `P.${d}.X${String(i + 1).padStart(2, '0')}`,
      name: `Xã ${d}-${i + 1}`,
      level: 'xa',
      parent: `P.${d}`,
      members: 3,
      standingCommittee: true,
    })),
  ]),
];
const fixture = useImportedHierarchy(UNITS, 'batch.test.ts');
const OPS: BatchRequester = { role: 'ops' };
const DAY = 86_400_000;

test('a committee extends its 40 overdue communes in one batch; a district reaches only its own; stale or forbidden batches start nothing', async () => {
  const env = useEnv();
  const { db, version } = fixture();
  const R = 'batches';
  const TQ = 'batches';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TQ, workflowBundle: await workflowBundle(), activities: workerActivities({ db }) });
  await worker.runUntil(async () => {
    await startTestRollout(env.client, { taskQueue: TQ, rolloutId: R, plan: STUDY_PLAN, hierarchyVersion: version, units: UNITS.length });
    await until('every unit enrolled', async () => (await db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', R).execute()).length === UNITS.length, 60_000, 100);
    await env.sleep('11 days');
    await until(
      'every commune missed its deadline',
      async () => (await db.selectFrom('events').select('event_id').where('rollout_id', '=', R).where('type', '=', 'DeadlineMissed').execute()).length === UNITS.length,
    );
    const now = new Date(await env.currentTimeMs());
    const deps = { db, client: env.client, taskQueue: TQ };
    const newDate = new Date(now.getTime() + 30 * DAY + 7 * 3600_000).toISOString().slice(0, 10);
    const extend = (extra: Partial<BatchRequest> = {}): BatchRequest => ({
      filter: { level: 'xa', status: 'overdue', step: 'study' },
      action: { action: 'extend', step: 'study', until: newDate },
      reason: 'Gia hạn do mưa lũ kéo dài',
      decidedBy: 'user:ops',
      ...extra,
    });

    // Bad input names the field; nothing is recorded.
    expect((await rejection(previewBatch(db, R, { ...extend(), filter: {} }, OPS, now))).message).toMatch(/at least one filter/);
    expect((await rejection(previewBatch(db, R, extend(), OPS, now))).issues[0]!.path).toBe('committee');
    expect((await rejection(previewBatch(db, R, extend({ committee: 'P', filter: { codes: ['P.D1.X01', 'P.NOPE'] } }), OPS, now))).issues).toEqual([
      { path: 'filter.codes[1]', message: expect.stringMatching(/P\.NOPE.*not part of rollout/) },
    ]);
    expect((await rejection(previewBatch(db, R, extend({ committee: 'P', filter: { step: 'nope', status: 'overdue' } }), OPS, now))).message).toMatch(/no step "nope"/);

    // The district's own view: only its 20 communes; naming another district's commune refuses the whole batch.
    const d1: BatchRequester = { role: 'committee', unitCode: 'P.D1' };
    const d1Preview = await previewBatch(db, R, extend({ decidedBy: 'committee:P.D1' }), d1, now);
    expect(d1Preview).toMatchObject({ units: 20, committee: 'P.D1', leftOut: 0 });
    expect(d1Preview.sample.every((u) => u.code.startsWith('P.D1.'))).toBe(true);
    const forbidden = await rejection(previewBatch(db, R, extend({ filter: { codes: ['P.D1.X01', 'P.D2.X01'] } }), d1, now));
    expect(forbidden.kind).toBe('forbidden');
    expect(forbidden.issues).toEqual([{ path: 'filter.codes[1]', message: expect.stringMatching(/P\.D1 is not a standing committee above P\.D2\.X01/) }]);
    expect((await rejection(previewBatch(db, R, extend({ filter: { within: 'P.D2' } }), d1, now))).kind).toBe('forbidden');

    // Ops, for the province's committee: all 40 communes, a sample first.
    const preview = await previewBatch(db, R, extend({ committee: 'P' }), OPS, now);
    expect(preview).toMatchObject({ units: 40, committee: 'P', leftOut: 0, action: 'extend' });
    expect(preview.sample).toHaveLength(10);
    expect(preview.sample[0]).toMatchObject({ code: 'P.D1.X01', level: 'xa', suspended: false });
    // Unconfirmed, or confirmed for another set: nothing starts.
    expect((await rejection(startBatch(deps, R, extend({ committee: 'P' }), OPS, now))).issues[0]!.path).toBe('fingerprint');
    expect((await rejection(startBatch(deps, R, extend({ committee: 'P', fingerprint: d1Preview.fingerprint }), OPS, now))).kind).toBe('conflict');
    expect(await db.selectFrom('batches').selectAll().execute()).toHaveLength(0);

    const started = await startBatch(deps, R, extend({ committee: 'P', fingerprint: preview.fingerprint, batchId: 'gia-han-1' }), OPS, now);
    expect(started).toEqual({ batchId: 'gia-han-1', rolloutId: R, units: 40, alreadyStarted: false });
    // A repeat of the same batch starts nothing new.
    expect(await startBatch(deps, R, extend({ committee: 'P', fingerprint: preview.fingerprint, batchId: 'gia-han-1' }), OPS, now)).toMatchObject({ alreadyStarted: true, units: 40 });
    const counts = await env.client.workflow.getHandle(batchWorkflowId('gia-han-1')).result();
    expect(counts).toEqual({ pending: 0, done: 40, unchanged: 0, refused: 0 });

    const status = await batchStatus(db, 'gia-han-1');
    expect(status).toMatchObject({ status: 'completed', units: 40, counts: { done: 40 }, committee: 'P', action: 'extend' });
    expect(status.items[0]).toMatchObject({ unitCode: 'P.D1.X01', status: 'done', message: expect.stringMatching(/^study: \d\d\/\d\d\/\d{4} \d\d:\d\d → /) });
    // One event per unit, each carrying the batch ID; the batch's own two events frame them.
    const extended = await db.selectFrom('events').selectAll().where('rollout_id', '=', R).where('type', '=', 'DeadlineExtended').execute();
    expect(extended).toHaveLength(40);
    expect(extended.every((e) => (e.payload as { batchId?: string }).batchId === 'gia-han-1' && e.actor === 'committee:P/ops')).toBe(true);
    const frame = await db.selectFrom('events').select(['type', 'stream_id', 'payload']).where('stream_id', '=', 'batch/gia-han-1').orderBy('stream_seq').execute();
    expect(frame.map((e) => e.type)).toEqual(['BatchStarted', 'BatchCompleted']);
    expect(frame[0]!.payload).toMatchObject({ units: 40, committee: 'P', action: 'extend', params: { step: 'study', until: newDate }, filter: { level: 'xa', status: 'overdue' } });
    expect(frame[1]!.payload).toEqual({ batchId: 'gia-han-1', done: 40, unchanged: 0, refused: 0 });
    // The read model follows: no commune is overdue any more; the districts and the province still are.
    const again = await previewBatch(db, R, extend({ committee: 'P', filter: { status: 'overdue' } }), OPS, now);
    // P.D1, P.D2 and P itself (the top committee decides on its own deadlines: domain/escalation.ts).
    expect(again.sample.map((u) => u.code)).toEqual(['P', 'P.D1', 'P.D2']);

    // Per-unit refusals are results: extending again to the same date is refused by each unit, saying why.
    const same = await previewBatch(db, R, extend({ committee: 'P', filter: { codes: ['P.D1.X01', 'P.D1.X02'] } }), OPS, now);
    await startBatch(deps, R, extend({ committee: 'P', filter: { codes: ['P.D1.X01', 'P.D1.X02'] }, fingerprint: same.fingerprint, batchId: 'gia-han-2' }), OPS, now);
    expect(await env.client.workflow.getHandle(batchWorkflowId('gia-han-2')).result()).toEqual({ pending: 0, done: 0, unchanged: 0, refused: 2 });
    const refused = await batchStatus(db, 'gia-han-2');
    expect(refused.items.map((i) => i.message)).toEqual([expect.stringMatching(/must be later than the current one/), expect.stringMatching(/must be later than the current one/)]);

    // A district suspends its communes' clocks in one batch; the read model marks them suspended.
    const sus: BatchRequest = { filter: { within: 'P.D2', level: 'xa' }, action: { action: 'suspend' }, reason: 'Sáp nhập đang tiến hành', decidedBy: 'committee:P.D2/Bí thư' };
    const d2: BatchRequester = { role: 'committee', unitCode: 'P.D2' };
    const susPreview = await previewBatch(db, R, sus, d2, now);
    expect(susPreview.units).toBe(20);
    const b = await startBatch(deps, R, { ...sus, fingerprint: susPreview.fingerprint }, d2, now);
    expect(await env.client.workflow.getHandle(batchWorkflowId(b.batchId)).result()).toMatchObject({ done: 20, refused: 0 });
    expect(await previewBatch(db, R, { ...sus, filter: { status: 'suspended' } }, d2, now)).toMatchObject({ units: 20 });
    const [suspended] = await eventsOf(db, 'P.D2.X05', 'ClockSuspended', R);
    expect(suspended).toMatchObject({ actor: 'committee:P.D2/Bí thư', payload: { batchId: b.batchId, reason: 'Sáp nhập đang tiến hành' } });
  });
});
