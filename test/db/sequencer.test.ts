/**
 * Appends without a global lock, linked afterwards by the sequencer (db/sequencer.ts): many appenders
 * in parallel give one gapless chain that verifies; the link is written once and nothing else; rows a
 * dead process left unlinked are linked by the sweep or by the next reader; and the set-based
 * projection of a batch gives exactly the read model that projecting its events one by one gives.
 */
import { sql } from 'kysely';
import { connect } from '../../db/connect';
import { verifyChain } from '../../db/audit';
import { appendEvents, appendInTransaction } from '../../db/event-store';
import { readModelDigest, rebuildReadModel } from '../../db/rebuild';
import { rolloutProgress } from '../../db/queries';
import { linkPending, pendingLinks, sequencerIdle, startSequencer } from '../../db/sequencer';
import type { AnyNewEvent } from '../../domain/events';
import { rolloutStartedEvent } from '../helpers/events';
import { freshDatabase, type TestDb } from '../helpers/db';
import { until } from '../helpers/wait';

let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t?.close();
});

const reminder = (stream: string, seq: number): AnyNewEvent => ({
  eventId: `unit/seq/${stream}#${seq}`,
  streamId: `unit/seq/${stream}`,
  streamSeq: seq,
  type: 'ReminderSent',
  rolloutId: 'seq',
  unitCode: stream,
  actor: 'system',
  occurredAt: new Date(Date.UTC(2027, 7, 1) + seq * 60_000).toISOString(),
  payload: { key: 'study', dueAt: '2027-08-31T16:59:59.999Z', offset: `P${seq}D`, recipient: stream },
});

test('appends from two processes, many at a time, become one gapless chain that verifies', async () => {
  const other = connect(t.url, { max: 5 }); // another worker: its own pool, its own sequencer
  try {
    const appender = (db: typeof t.db, stream: string) => async () => {
      for (let seq = 1; seq <= 25; seq++) await appendEvents(db, [reminder(stream, seq)]);
    };
    await Promise.all(['A', 'B', 'C', 'D', 'E', 'F'].map((s, i) => appender(i % 2 ? other : t.db, s)()));
    await Promise.all([sequencerIdle(t.db), sequencerIdle(other)]);
    await linkPending(t.db);
    expect(await pendingLinks(t.db)).toBe(0);
    const chain = (await sql<{ n: number; lo: number; hi: number }>`select count(*)::int as n, min(chain_seq)::int as lo, max(chain_seq)::int as hi from events`.execute(t.db)).rows[0]!;
    expect(chain).toEqual({ n: 150, lo: 1, hi: 150 });
    expect(await verifyChain(t.db)).toMatchObject({ ok: true, events: 150, head: { seq: 150 }, problems: [] });
  } finally {
    await other.destroy();
  }
});

test("a link is written once, whole, and nothing else: not by the application's role, not by a superuser with the trigger on", async () => {
  // A row left unlinked (appended in a caller's transaction, which kicks no sequencer).
  await t.db.transaction().execute((trx) => appendInTransaction(trx, [reminder('P', 1)]));
  const pending = await t.db.selectFrom('events').select(['event_id', 'chain_seq']).where('event_id', '=', 'unit/seq/P#1').executeTakeFirstOrThrow();
  expect(pending.chain_seq).toBeNull();

  // Other columns: no privilege. Half a link, or content with it: refused by the trigger.
  await expect(sql`update events set actor = 'user:mallory' where event_id = 'unit/seq/P#1'`.execute(t.db)).rejects.toThrow(/permission denied for table events/);
  await expect(sql`update events set chain_seq = 999 where event_id = 'unit/seq/P#1'`.execute(t.db)).rejects.toThrow(/written whole/);
  await expect(sql`update events set payload = '{}', chain_seq = 999, prev_hash = 'x', hash = 'y' where event_id = 'unit/seq/P#1'`.execute(t.admin)).rejects.toThrow(
    /only an empty chain link may be written/,
  );
  // A linked row's link: never again, by anyone the trigger applies to.
  await expect(sql`update events set hash = ${'f'.repeat(64)} where chain_seq = 1`.execute(t.db)).rejects.toThrow(/already linked into the chain \(#1\)/);
  await expect(sql`update events set chain_seq = null, prev_hash = null, hash = null where chain_seq = 1`.execute(t.admin)).rejects.toThrow(/already linked/);

  // The reader links it before it reads: the log verifies, with the row in it.
  expect(await verifyChain(t.db)).toMatchObject({ ok: true, events: 151, problems: [] });

  // A bogus link written by the application's role itself is its one write: verification names the row.
  await t.db.transaction().execute((trx) => appendInTransaction(trx, [reminder('P', 2)]));
  await sql`update events set chain_seq = 152, prev_hash = ${'0'.repeat(64)}, hash = ${'e'.repeat(64)} where event_id = 'unit/seq/P#2'`.execute(t.db);
  const r = await verifyChain(t.db);
  expect(r.ok).toBe(false);
  expect(r.problems.map((p) => p.eventId)).toContain('unit/seq/P#2');
  await expect(sql`update events set hash = ${'d'.repeat(64)} where event_id = 'unit/seq/P#2'`.execute(t.db)).rejects.toThrow(/already linked/);
});

test('rows a dead process left unlinked are linked by the sweep of any process still running', async () => {
  const d = await freshDatabase();
  try {
    for (let seq = 1; seq <= 3; seq++) await d.db.transaction().execute((trx) => appendInTransaction(trx, [reminder('Q', seq)]));
    expect(await pendingLinks(d.db)).toBe(3);
    const stop = startSequencer(d.db, 20);
    try {
      await until('the sweep to link them', async () => (await pendingLinks(d.db)) === 0, 30_000, 20);
    } finally {
      stop();
      await sequencerIdle(d.db);
    }
    expect(await verifyChain(d.db)).toMatchObject({ ok: true, events: 3, problems: [] });
  } finally {
    await d.close();
  }
});

/** A rollout of `n` units (one stream each) through enrolment, a deadline missed, an escalation and a late completion. */
function rolloutEvents(n: number): AnyNewEvent[][] {
  const rid = 'bulk';
  const due = '2027-08-31T16:59:59.999Z';
  return Array.from({ length: n }, (_, i) => {
    const code = `T.X${i}`;
    const base = { rolloutId: rid, unitCode: code, actor: 'system' } as const;
    const at = (m: number): string => new Date(Date.UTC(2027, 7, 1) + m * 60_000 + i).toISOString();
    const list: Array<Omit<AnyNewEvent, 'eventId' | 'streamId' | 'streamSeq'>> = [
      {
        ...base,
        type: 'UnitEnrolled',
        occurredAt: at(0),
        payload: {
          unit: { code, name: `Xã ${i}`, level: i % 3 ? 'xa' : 'tinh', parent: null, members: 10 + i, standingCommittee: true },
          ancestors: [],
          steps: [
            { key: 'study', stepId: 'study', kind: 'studyConference', occurrence: 0, status: 'open', dueAt: due },
            { key: 'plan', stepId: 'plan', kind: 'actionPlan', occurrence: 0, status: 'waiting', dueAt: null },
          ],
          children: 0,
        },
      } as never,
      { ...base, type: 'StepOpened', occurredAt: at(1), payload: { key: 'plan', dueAt: null, reason: 'requirementsMet' } } as never,
      { ...base, type: 'DeadlineScheduled', occurredAt: at(2), payload: { key: 'plan', dueAt: due, basis: 'test' } } as never,
      { ...base, type: 'ReminderSent', occurredAt: at(3), payload: { key: 'study', dueAt: due, offset: 'P7D', recipient: code } } as never,
      { ...base, type: 'DeadlineMissed', occurredAt: at(4), payload: { key: 'study', dueAt: due, waitingForParent: false } } as never,
      { ...base, type: 'Escalated', occurredAt: at(5), payload: { key: 'study', escalationId: `esc-${i}`, tier: 1, recipient: { code: 'T', name: 'Tỉnh' }, self: false, dueAt: due } } as never,
      ...(i % 2 ? [{ ...base, type: 'StepCompleted', occurredAt: at(6), payload: { key: 'study', dueAt: due, lateByMs: 3_600_000, resolvedEscalations: [`esc-${i}`] } } as never] : []),
    ];
    return list.map((e, k) => ({ ...e, eventId: `unit/${rid}/${code}#${k + 1}`, streamId: `unit/${rid}/${code}`, streamSeq: k + 1 }) as AnyNewEvent);
  });
}

test('a batch projected set-based gives exactly the read model its events give one by one', async () => {
  const units = rolloutEvents(40);
  const start = rolloutStartedEvent('bulk');
  const [one, all] = [await freshDatabase(), await freshDatabase()];
  try {
    await appendEvents(one.db, [start]);
    for (const e of units.flat()) await appendEvents(one.db, [e]);
    // The same events in two batches: the first half type by type across units, the second unit by unit.
    const half = units.slice(0, 20);
    const byType = Array.from({ length: Math.max(...half.map((u) => u.length)) }, (_, k) => half.flatMap((u) => (u[k] ? [u[k]] : [])));
    await appendEvents(all.db, [start, ...byType.flat()]);
    await appendEvents(all.db, units.slice(20).flat());
    const [a, b] = [await readModelDigest(one.db), await readModelDigest(all.db)];
    expect(b.tables).toEqual(a.tables);
    expect(b.digest).toBe(a.digest);
    // What the read model says, and a rebuild gives the same again.
    const progress = await rolloutProgress(all.db, 'bulk', new Date('2027-09-01T00:00:00Z'));
    const study = progress.filter((p) => p.stepId === 'study').reduce((s, p) => ({ units: s.units + p.units, done: s.done + p.done, late: s.late + p.doneLate }), { units: 0, done: 0, late: 0 });
    expect(study).toEqual({ units: 40, done: 20, late: 20 });
    const escalations = await all.db.selectFrom('escalations').select(['status']).where('rollout_id', '=', 'bulk').execute();
    expect(escalations.filter((e) => e.status === 'resolved')).toHaveLength(20);
    expect((await rebuildReadModel(all.db)).equal).toBe(true);
  } finally {
    await one.close();
    await all.close();
  }
});
