/**
 * The audit record on real PostgreSQL: idempotent appends, conflicts, per-stream sequence, the
 * projection into the read model, and append-only enforcement.
 */
import { sql } from 'kysely';
import { appendEvents, EventConflictError } from '../../db/event-store';
import { readModelDigest, rebuildReadModel } from '../../db/rebuild';
import { withRolloutAsOf } from '../../db/as-of';
import type { AnyNewEvent } from '../../domain/events';
import { rolloutStartedEvent } from '../helpers/events';
import { freshDatabase, type TestDb } from '../helpers/db';

let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t?.close();
});

const started = rolloutStartedEvent;

const enrolled = (rolloutId: string, seq = 1): AnyNewEvent => ({
  eventId: `unit/${rolloutId}/BG#${seq}`,
  streamId: `unit/${rolloutId}/BG`,
  streamSeq: seq,
  type: 'UnitEnrolled',
  rolloutId,
  unitCode: 'BG',
  actor: 'system',
  occurredAt: '2027-07-22T02:00:01.000Z',
  payload: {
    unit: { code: 'BG', name: 'Bắc Giang', level: 'tinh', parent: null, members: 10, standingCommittee: true },
    ancestors: [],
    steps: [{ key: 'study', stepId: 'study', kind: 'studyConference', occurrence: 0, status: 'open', dueAt: '2027-08-31T16:59:59.999Z' }],
    children: 0,
  },
});

test('an append is idempotent by event ID and projects into the read model once', async () => {
  expect(await appendEvents(t.db, [started('r1'), enrolled('r1')])).toEqual({ appended: 2, duplicates: 0 });
  expect(await appendEvents(t.db, [started('r1'), enrolled('r1')])).toEqual({ appended: 0, duplicates: 2 });
  const steps = await t.db.selectFrom('unit_steps').selectAll().where('rollout_id', '=', 'r1').execute();
  expect(steps).toHaveLength(1);
  expect(steps[0]).toMatchObject({ step_key: 'study', status: 'open', attended: 0 });
  expect(new Date(steps[0]!.due_at!).toISOString()).toBe('2027-08-31T16:59:59.999Z');
});

test('the same ID with different content is a conflict, never an overwrite', async () => {
  const changed = { ...enrolled('r1'), actor: 'user:mallory' };
  await expect(appendEvents(t.db, [changed])).rejects.toThrow(EventConflictError);
  const row = await t.db.selectFrom('events').select('actor').where('event_id', '=', 'unit/r1/BG#1').executeTakeFirstOrThrow();
  expect(row.actor).toBe('system');
});

test('a stream accepts only its next sequence number; a failed batch records nothing', async () => {
  await appendEvents(t.db, [started('r2')]);
  const gap = enrolled('r2', 2);
  await expect(
    appendEvents(
      t.db,
      [enrolled('r2', 1), gap].map((e, i) => (i === 1 ? { ...e, streamSeq: 3, eventId: 'unit/r2/BG#3' } : e)),
    ),
  ).rejects.toThrow(/is at sequence 1/);
  const count = await t.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('rollout_id', '=', 'r2')
    .executeTakeFirstOrThrow();
  expect(Number(count.n)).toBe(1);
  // Two different events claiming the same stream position: the unique constraint refuses the second.
  await expect(
    sql`insert into events (event_id, stream_id, stream_seq, type, actor, occurred_at, payload, content_hash, chain_seq, prev_hash, hash, hash_version) values ('x', 'rollout/r2', 1, 'RolloutCompleted', 'system', now(), '{}', 'h', 999, 'p', 'h', 2)`.execute(
      t.db,
    ),
  ).rejects.toThrow(/events_stream_seq_unique/);
});

test('events are append-only: UPDATE, DELETE and TRUNCATE are refused (the application role has no such right; the trigger refuses even a superuser)', async () => {
  for (const db of [t.db, t.admin]) {
    const refused = db === t.db ? /permission denied for table events/ : /append-only/;
    await expect(sql`update events set actor = 'x' where event_id = 'rollout/r1#1'`.execute(db)).rejects.toThrow(refused);
    await expect(sql`delete from events where event_id = 'rollout/r1#1'`.execute(db)).rejects.toThrow(refused);
    await expect(sql`truncate events`.execute(db)).rejects.toThrow(refused);
  }
  const row = await t.db.selectFrom('events').select('actor').where('event_id', '=', 'rollout/r1#1').executeTakeFirstOrThrow();
  expect(row.actor).toBe('user:ops');
});

test('an append made while the read model is being rebuilt waits for it, and is not lost', async () => {
  await appendEvents(t.db, [started('r9'), enrolled('r9')]);
  const reminder: AnyNewEvent = {
    eventId: 'unit/r9/BG#2',
    streamId: 'unit/r9/BG',
    streamSeq: 2,
    type: 'ReminderSent',
    rolloutId: 'r9',
    unitCode: 'BG',
    actor: 'system',
    occurredAt: '2027-08-24T02:00:00.000Z',
    payload: { key: 'study', dueAt: '2027-08-31T16:59:59.999Z', offset: 'P7D', recipient: 'BG' },
  };
  let append: Promise<unknown> | undefined;
  const rebuilt = await rebuildReadModel(t.db, {
    // Mid-rebuild (the old rows deleted, the new ones half made), a worker appends.
    onProgress: async () => {
      append ??= appendEvents(t.db, [reminder]);
      await new Promise((r) => setTimeout(r, 300));
    },
  });
  expect(rebuilt.equal).toBe(true);
  await append;
  const step = await t.db.selectFrom('unit_steps').select('reminders_sent').where('rollout_id', '=', 'r9').where('unit_code', '=', 'BG').executeTakeFirstOrThrow();
  expect(step.reminders_sent).toBe(1);
  // The live read model is exactly what the events give.
  expect((await rebuildReadModel(t.db)).equal).toBe(true);
});

test('looking back (as-of) neither changes nor locks the live read model', async () => {
  await appendEvents(t.db, [started('r8'), enrolled('r8')]);
  const reminder: AnyNewEvent = {
    eventId: 'unit/r8/BG#2',
    streamId: 'unit/r8/BG',
    streamSeq: 2,
    type: 'ReminderSent',
    rolloutId: 'r8',
    unitCode: 'BG',
    actor: 'system',
    occurredAt: '2027-08-24T02:00:00.000Z',
    payload: { key: 'study', dueAt: '2027-08-31T16:59:59.999Z', offset: 'P7D', recipient: 'BG' },
  };
  const before = await readModelDigest(t.db);
  // As of a moment after the start and before the unit enrolled: the rollout, and no unit yet.
  const past = await withRolloutAsOf(t.db, 'r8', new Date('2027-07-22T02:00:00.500Z'), async (trx) => {
    // Meanwhile a worker appends to the same rollout: it must not wait for the auditor's fold. An append
    // that waited would never finish (the fold holds its transaction until the append returns), so the
    // limit only turns a hang into a clear failure and can be generous for a loaded machine.
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the append waited for the as-of fold')), 60_000)));
    try {
      await Promise.race([appendEvents(t.db, [reminder]), stalled]);
    } finally {
      clearTimeout(timer);
    }
    return {
      rollouts: (await trx.selectFrom('rollouts').select('rollout_id').execute()).map((r) => r.rollout_id),
      units: await trx.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', 'r8').execute(),
    };
  });
  expect(past).toEqual({ rollouts: ['r8'], units: [] });
  // The live read model has the unit, and the append made during the fold.
  const live = await t.db.selectFrom('unit_steps').select('reminders_sent').where('rollout_id', '=', 'r8').executeTakeFirstOrThrow();
  expect(live.reminders_sent).toBe(1);
  expect((await readModelDigest(t.db)).digest).not.toBe(before.digest);
  expect((await rebuildReadModel(t.db)).equal).toBe(true);
});

test('a periodic report with its document number counts among documents issued, also after a rebuild', async () => {
  const R = 'r-periodic';
  const unit = (seq: number, type: AnyNewEvent['type'], payload: unknown): AnyNewEvent =>
    ({
      eventId: `unit/${R}/BG#${seq}`,
      streamId: `unit/${R}/BG`,
      streamSeq: seq,
      type,
      rolloutId: R,
      unitCode: 'BG',
      actor: 'unit:BG',
      occurredAt: `2027-07-22T02:00:0${seq}.000Z`,
      payload,
    }) as AnyNewEvent;
  const enrol = enrolled(R);
  (enrol.payload as { steps: unknown[] }).steps = [
    { key: 'report#1', stepId: 'report', kind: 'periodicReport', occurrence: 0, status: 'open', dueAt: '2027-12-15T16:59:59.999Z' },
    { key: 'report#2', stepId: 'report', kind: 'periodicReport', occurrence: 1, status: 'waiting', dueAt: null },
  ];
  const doc = { text: '12-BC/TU', issuer: 'TU', type: 'BC', number: 12, date: '2027-07-20' };
  await appendEvents(t.db, [
    started(R),
    enrol,
    unit(2, 'PeriodicReportSubmitted', { key: 'report#1', reportId: 'p1', period: '2027', indicators: {}, submittedOn: '2027-07-20', document: doc }),
    unit(3, 'PeriodicReportSubmitted', { key: 'report#2', reportId: 'p2', period: '2028', indicators: {}, submittedOn: '2027-07-21', document: null }),
  ]);
  const docs = async () => await t.db.selectFrom('unit_steps').select(['step_key', 'document_text', 'document_date']).where('rollout_id', '=', R).orderBy('step_key').execute();
  expect(await docs()).toEqual([
    { step_key: 'report#1', document_text: '12-BC/TU', document_date: '2027-07-20' },
    { step_key: 'report#2', document_text: null, document_date: null },
  ]);
  const rebuilt = await rebuildReadModel(t.db);
  expect(rebuilt.equal).toBe(true);
  expect((await docs())[0]).toMatchObject({ document_text: '12-BC/TU' });
});
