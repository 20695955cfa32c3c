/**
 * Tamper trials on real PostgreSQL. With superuser rights (triggers off), a row is edited, deleted,
 * moved or inserted — one kind per trial, at many positions. Every trial must be detected and pinned to
 * its row, and the untouched log (after each trial is undone) must verify clean.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { checkCheckpoint, cutCheckpoint } from '../../db/checkpoints';
import type { Database } from '../../db/database';
import { appendEvents } from '../../db/event-store';
import { linkPending } from '../../db/sequencer';
import { chainHash, contentHash, recordHash, usTextOfIso } from '../../db/links';
import { eventOfRow, selectLogRows, verifyChain, type ChainProblem, type LogRow } from '../../db/audit';
import type { AnyNewEvent } from '../../domain/events';
import { asSuperuserWithoutTriggers, freshDatabase, type TestDb } from '../helpers/db';

let t: TestDb;
const N = 60;

function reminder(stream: number, seq: number): AnyNewEvent {
  return {
    eventId: `unit/R/U${stream}#${seq}`,
    streamId: `unit/R/U${stream}`,
    streamSeq: seq,
    type: 'ReminderSent',
    rolloutId: 'R',
    unitCode: `U${stream}`,
    actor: 'system',
    occurredAt: new Date(Date.UTC(2027, 7, 1) + (stream * 100 + seq) * 60_000).toISOString(),
    payload: { key: 'study', dueAt: '2027-08-31T16:59:59.999Z', offset: `P${seq}D`, recipient: `U${stream}` },
  };
}

beforeAll(async () => {
  t = await freshDatabase();
  // Several streams interleaved, in batches, as workflows append them.
  for (let seq = 1; seq <= N / 5; seq++)
    await appendEvents(
      t.db,
      [1, 2, 3, 4, 5].map((s) => reminder(s, seq)),
    );
  // The trials below tamper with rows by their chain position: every row linked first.
  await linkPending(t.db);
});
afterAll(async () => {
  await t?.close();
});

const asAttacker = (fn: (db: Kysely<Database>) => Promise<void>): Promise<void> => asSuperuserWithoutTriggers(t.db, fn);

/** Tamper, verify, and always undo (so one failed trial does not spoil the next); the undone log must verify clean. */
async function trial(tamper: (db: Kysely<Database>) => Promise<unknown>, undo: (db: Kysely<Database>) => Promise<unknown>): Promise<ChainProblem[]> {
  await asAttacker(async (db) => void (await tamper(db)));
  try {
    return (await verifyChain(t.db)).problems;
  } finally {
    await asAttacker(async (db) => void (await undo(db)));
    expect((await verifyChain(t.db)).problems).toEqual([]);
  }
}

/** A row as stored (timestamps as text with their microseconds, so putting it back restores it exactly). */
const row = async (seq: number): Promise<LogRow> => (await selectLogRows(t.db).where('chain_seq', '=', String(seq)).executeTakeFirstOrThrow()) as LogRow;
const putBack = (db: Kysely<Database>, r: LogRow) =>
  db
    .insertInto('events')
    .values({ ...r, payload: JSON.stringify(r.payload) } as never)
    .execute();
const summary = (ps: ChainProblem[]): string[] => ps.map((p) => `${p.kind}@${p.chainSeq}`);
const positions = [1, 2, 17, 30, 44, 59];

test('an untouched log verifies', async () => {
  const r = await verifyChain(t.db);
  expect(r).toMatchObject({ ok: true, events: N, head: { seq: N }, problems: [] });
});

test.each(positions)('an edited payload is found at its row (#%i)', async (k) => {
  const before = await row(k);
  const problems = await trial(
    (db) => sql`update events set payload = jsonb_set(payload, '{offset}', '"P99D"') where chain_seq = ${k}`.execute(db),
    (db) => sql`update events set payload = ${JSON.stringify(before.payload)}::jsonb where chain_seq = ${k}`.execute(db),
  );
  expect(summary(problems)).toEqual([`edited@${k}`]);
});

test.each(positions)('an edit that also rewrites the content hash is found at its row (#%i)', async (k) => {
  const before = await row(k);
  const forged = { ...eventOfRow(before), actor: 'user:mallory' } as AnyNewEvent;
  const problems = await trial(
    (db) => sql`update events set actor = 'user:mallory', content_hash = ${contentHash(forged)} where chain_seq = ${k}`.execute(db),
    (db) => sql`update events set actor = ${before.actor}, content_hash = ${before.content_hash} where chain_seq = ${k}`.execute(db),
  );
  expect(summary(problems)).toEqual([`edited@${k}`]);
});

test.each(positions)('a deleted row is found as a gap at its position (#%i)', async (k) => {
  const before = await row(k);
  const problems = await trial(
    (db) => sql`delete from events where chain_seq = ${k}`.execute(db),
    (db) => putBack(db, before),
  );
  expect(summary(problems)).toEqual([`missing@${k}`]);
});

test.each(positions.filter((k) => k < N))('a deletion hidden by renumbering the rest is found where it happened (#%i)', async (k) => {
  const before = await row(k);
  const problems = await trial(
    async (db) => {
      await sql`delete from events where chain_seq = ${k}`.execute(db);
      await sql`update events set chain_seq = -(chain_seq - 1) where chain_seq > ${k}`.execute(db);
      await sql`update events set chain_seq = -chain_seq where chain_seq < 0`.execute(db);
      await sql`update chain_head set seq = seq - 1`.execute(db);
    },
    async (db) => {
      await sql`update events set chain_seq = -(chain_seq + 1) where chain_seq >= ${k}`.execute(db);
      await sql`update events set chain_seq = -chain_seq where chain_seq < 0`.execute(db);
      await putBack(db, before);
      await sql`update chain_head set seq = seq + 1`.execute(db);
    },
  );
  expect(summary(problems)).toEqual([`missing@${k}`]);
});

test.each([
  [1, 2],
  [5, 40],
  [29, 30],
  [10, 60],
])('two rows swapped are both found (#%i ⇄ #%i)', async (a, b) => {
  // Through negative numbers: the unique constraint on chain_seq is checked row by row.
  const swap = async (db: Kysely<Database>) => {
    await sql`update events set chain_seq = case chain_seq when ${a} then ${-b}::bigint else ${-a}::bigint end where chain_seq in (${a}, ${b})`.execute(db);
    await sql`update events set chain_seq = -chain_seq where chain_seq < 0`.execute(db);
  };
  const kinds = summary(await trial(swap, swap));
  expect(kinds).toEqual(expect.arrayContaining([`moved@${a}`, `moved@${b}`]));
  expect(kinds.every((p) => p === `moved@${a}` || p === `moved@${b}` || p.startsWith('head@'))).toBe(true);
});

test.each(positions.filter((k) => k < N))('a forged row inserted after #%i, with valid hashes and the rest renumbered, is found', async (k) => {
  const prev = await row(k);
  const forged: AnyNewEvent = { ...reminder(9, 1), eventId: 'forged#1', streamId: 'forged' };
  const ch = contentHash(forged);
  const occurred = usTextOfIso(forged.occurredAt);
  const recorded = prev.recorded_at;
  const problems = await trial(
    async (db) => {
      await sql`update events set chain_seq = -(chain_seq + 1) where chain_seq > ${k}`.execute(db);
      await sql`update events set chain_seq = -chain_seq where chain_seq < 0`.execute(db);
      await db
        .insertInto('events')
        .values({
          event_id: forged.eventId,
          stream_id: forged.streamId,
          stream_seq: 1,
          type: forged.type,
          rollout_id: forged.rolloutId,
          unit_code: forged.unitCode,
          actor: forged.actor,
          occurred_at: occurred,
          recorded_at: recorded,
          payload: JSON.stringify(forged.payload),
          content_hash: ch,
          chain_seq: String(k + 1),
          prev_hash: prev.hash,
          hash: recordHash(prev.hash, k + 1, ch, occurred, recorded),
          hash_version: 2,
        })
        .execute();
      await sql`update chain_head set seq = seq + 1`.execute(db);
    },
    async (db) => {
      await sql`delete from events where event_id = 'forged#1'`.execute(db);
      await sql`update events set chain_seq = -(chain_seq - 1) where chain_seq > ${k + 1}`.execute(db);
      await sql`update events set chain_seq = -chain_seq where chain_seq < 0`.execute(db);
      await sql`update chain_head set seq = seq - 1`.execute(db);
    },
  );
  expect(summary(problems)).toEqual([`inserted@${k + 1}`]);
  expect(problems[0]!.eventId).toBe('forged#1');
});

test('the last rows deleted are found against the chain head', async () => {
  const last = await row(N);
  const problems = await trial(
    (db) => sql`delete from events where chain_seq = ${N}`.execute(db),
    (db) => putBack(db, last),
  );
  expect(summary(problems)).toEqual([`missing@${N}`]);
});

/** A forged row with made-up hashes (what a forger without the chain's rules writes). */
const madeUp = (k: number, n: number) => ({
  event_id: `forged#${n}`,
  stream_id: 'forged',
  stream_seq: n,
  type: 'ReminderSent',
  rollout_id: 'R',
  unit_code: 'U9',
  actor: 'system',
  occurred_at: '2027-08-01T00:00:00Z',
  recorded_at: '2027-08-01T00:00:00Z',
  payload: JSON.stringify({ key: 'study', dueAt: '2027-08-31T16:59:59.999Z', offset: 'P1D', recipient: 'U9' }),
  content_hash: 'f'.repeat(64),
  chain_seq: String(k + n),
  prev_hash: 'e'.repeat(64),
  hash: `${n}`.padStart(64, 'd'),
  hash_version: 2,
});

test.each([
  [1, 1, true],
  [17, 1, false],
  [30, 3, true],
  [59, 2, false],
])('rows inserted after #%i with made-up hashes (%i of them, head moved: %s) are named, and nothing else', async (k, count, moveHead) => {
  const problems = await trial(
    async (db) => {
      await sql`update events set chain_seq = -(chain_seq + ${count}) where chain_seq > ${k}`.execute(db);
      await sql`update events set chain_seq = -chain_seq where chain_seq < 0`.execute(db);
      for (let n = 1; n <= count; n++)
        await db
          .insertInto('events')
          .values(madeUp(k, n) as never)
          .execute();
      if (moveHead) await sql`update chain_head set seq = seq + ${count}`.execute(db);
    },
    async (db) => {
      await sql`delete from events where stream_id = 'forged'`.execute(db);
      await sql`update events set chain_seq = -(chain_seq - ${count}) where chain_seq > ${k + count}`.execute(db);
      await sql`update events set chain_seq = -chain_seq where chain_seq < 0`.execute(db);
      if (moveHead) await sql`update chain_head set seq = seq - ${count}`.execute(db);
    },
  );
  expect(summary(problems)).toEqual(Array.from({ length: count }, (_, i) => `inserted@${k + 1 + i}`));
});

test('a row with made-up hashes added after the last event (head untouched) is one insertion', async () => {
  const problems = await trial(
    (db) =>
      db
        .insertInto('events')
        .values(madeUp(N, 1) as never)
        .execute(),
    (db) => sql`delete from events where stream_id = 'forged'`.execute(db),
  );
  expect(summary(problems)).toEqual([`inserted@${N + 1}`]);
});

test.each([2, 30])('a row moved to the end (#%i) is one move, and the rows around the place it left are not blamed', async (k) => {
  const problems = await trial(
    (db) => sql`update events set chain_seq = ${N + 1} where chain_seq = ${k}`.execute(db),
    (db) => sql`update events set chain_seq = ${k} where chain_seq = ${N + 1}`.execute(db),
  );
  expect(summary(problems)).toEqual([`moved@${N + 1}`]);
});

test('an edit and a deletion far apart are each named once, with the intact rows between them clean', async () => {
  const before = await row(10);
  const gone = await row(40);
  const problems = await trial(
    async (db) => {
      await sql`update events set actor = 'user:mallory' where chain_seq = 10`.execute(db);
      await sql`delete from events where chain_seq = 40`.execute(db);
    },
    async (db) => {
      await sql`update events set actor = ${before.actor} where chain_seq = 10`.execute(db);
      await putBack(db, gone);
    },
  );
  expect(summary(problems)).toEqual(['edited@10', 'missing@40']);
});

test.each([
  ['recorded_at', 3],
  ['occurred_at', 3],
  ['recorded_at', 45],
  ['occurred_at', 45],
] as const)('%s moved by one microsecond (#%i) is an edit: both times are in the link, at the precision stored', async (column, k) => {
  const problems = await trial(
    (db) => sql`update events set ${sql.ref(column)} = ${sql.ref(column)} + interval '1 microsecond' where chain_seq = ${k}`.execute(db),
    (db) => sql`update events set ${sql.ref(column)} = ${sql.ref(column)} - interval '1 microsecond' where chain_seq = ${k}`.execute(db),
  );
  expect(summary(problems)).toEqual([`edited@${k}`]);
});

test('the recording time is stored as hashed, with its microseconds', async () => {
  const r = await row(5);
  expect(r.hash_version).toBe(2);
  expect(r.recorded_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  expect(r.hash).toBe(recordHash(r.prev_hash, 5, r.content_hash, r.occurred_at, r.recorded_at));
});

test('a row downgraded to hash version 1 (its link recomputed the old way) is an edit', async () => {
  const k = 20;
  const before = await row(k);
  const problems = await trial(
    (db) => sql`update events set hash_version = 1, hash = ${chainHash(before.prev_hash, k, before.content_hash)} where chain_seq = ${k}`.execute(db),
    (db) => sql`update events set hash_version = 2, hash = ${before.hash} where chain_seq = ${k}`.execute(db),
  );
  // The row after it still names the old link: the downgraded row is the one reported.
  expect(summary(problems)).toEqual([`edited@${k}`]);
});

test('version-2 links are computable in SQL exactly as appends compute them', async () => {
  const r = await row(7);
  const q = await sql<{ h: string }>`
    select encode(sha256(convert_to(prev_hash || ':' || chain_seq || ':' || content_hash || ':' ||
      to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || ':' ||
      to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'UTF8')), 'hex') as h
    from events where chain_seq = 7`.execute(t.db);
  expect(q.rows[0]!.h).toBe(r.hash);
});

test('appends after verification continue the chain', async () => {
  await appendEvents(t.db, [reminder(1, N / 5 + 1)]);
  expect(await verifyChain(t.db)).toMatchObject({ ok: true, events: N + 1, head: { seq: N + 1 } });
});

test('the migration that chains older rows computes links exactly as appends do', async () => {
  const r = await sql<{ h: string }>`select encode(sha256(convert_to(${'ab'.repeat(32)} || ':' || ${7}::bigint || ':' || ${'cd'.repeat(32)}, 'UTF8')), 'hex') as h`.execute(t.db);
  expect(r.rows[0]!.h).toBe(chainHash('ab'.repeat(32), 7, 'cd'.repeat(32)));
});

test('verifying and signing while appends are running raise no false alarm (one snapshot each)', async () => {
  const keyFile = join(mkdtempSync(join(tmpdir(), 'trienkhai-key-')), 'key.pem');
  let appending = true;
  const writer = (async () => {
    // One event per transaction, as busy workflows append: the head moves between any two reads.
    for (let seq = 1; appending; seq++) await appendEvents(t.db, [reminder(9, seq)]);
  })();
  try {
    const seen = new Set<number>();
    for (let i = 0; i < 15; i++) {
      const [r, c] = await Promise.all([verifyChain(t.db, { pageSize: 7 }), cutCheckpoint(t.db, keyFile)]);
      expect(r.problems).toEqual([]);
      seen.add(r.head.seq);
      expect(await checkCheckpoint(t.db, c)).toEqual([]);
    }
    expect(seen.size).toBeGreaterThan(1); // the log really did grow meanwhile
  } finally {
    appending = false;
    await writer;
  }
});
