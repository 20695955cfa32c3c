/**
 * Signed checkpoints: an auditor keeps one outside the system and later proves the current log
 * extends it — or finds that it does not.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { appendEvents } from '../../db/event-store';
import { linkPending } from '../../db/sequencer';
import { contentHash } from '../../db/links';
import { eventOfRow, rowLink, selectLogRows, verifyChain, type LogRow } from '../../db/audit';
import { createHash } from 'node:crypto';
import { checkCheckpoint, cutCheckpoint, merkleRoot, prefixRoots, startCheckpointing, type Checkpoint } from '../../db/checkpoints';
import { asSuperuserWithoutTriggers, freshDatabase, type TestDb } from '../helpers/db';
import { reminderEvent } from '../helpers/events';
import { until } from '../helpers/wait';

let t: TestDb;
let keyFile: string;

const ev = reminderEvent;

beforeAll(async () => {
  t = await freshDatabase();
  keyFile = join(mkdtempSync(join(tmpdir(), 'trienkhai-key-')), 'audit.pem');
  for (let n = 1; n <= 9; n++) await appendEvents(t.db, [ev(n)]);
  // Tests below tamper with rows by their chain position: every row linked first.
  await linkPending(t.db);
});
afterAll(async () => {
  await t?.close();
});

test('the Merkle root: the empty tree is sha256 of nothing; order and duplication matter', () => {
  // Empty tree: sha256 of nothing.
  expect(merkleRoot([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  const a = 'aa'.repeat(32);
  const b = 'bb'.repeat(32);
  expect(merkleRoot([a, b])).not.toBe(merkleRoot([b, a]));
  expect(merkleRoot([a, b, a])).not.toBe(merkleRoot([a, b]));
});

test('the roots of many prefixes, taken in one pass, equal RFC 6962 roots computed by its recursive definition', () => {
  const h = (...parts: Buffer[]) => parts.reduce((x, p) => x.update(p), createHash('sha256')).digest();
  /** MTH(D[n]) straight from RFC 6962 §2.1: split at the largest power of two below n. */
  const mth = (leaves: Buffer[]): Buffer => {
    if (leaves.length === 0) return h();
    if (leaves.length === 1) return h(Buffer.from([0]), leaves[0]!);
    let k = 1;
    while (k * 2 < leaves.length) k *= 2;
    return h(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
  };
  const leaves = Array.from({ length: 37 }, (_, i) => createHash('sha256').update(`event ${i}`).digest('hex'));
  const sizes = Array.from({ length: 38 }, (_, n) => n);
  const roots = prefixRoots(leaves, sizes);
  for (const n of sizes) expect([n, roots.get(n)]).toEqual([n, mth(leaves.slice(0, n).map((l) => Buffer.from(l, 'hex'))).toString('hex')]);
  expect(merkleRoot(leaves)).toBe(roots.get(37));
  expect(prefixRoots(leaves, [38]).has(38)).toBe(false);
});

test('a checkpoint is signed, recorded, and the log still extends it after more appends', async () => {
  const c = await cutCheckpoint(t.db, keyFile);
  expect(c).toMatchObject({ version: 1, seq: 9 });
  expect(readFileSync(keyFile, 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
  const stored = await t.db.selectFrom('checkpoints').select('body').execute();
  expect(stored.map((r) => (r.body as Checkpoint).merkleRoot)).toEqual([c.merkleRoot]);
  for (let n = 10; n <= 14; n++) await appendEvents(t.db, [ev(n)]);
  expect(await checkCheckpoint(t.db, c)).toEqual([]);
  expect(await checkCheckpoint(t.db, c, { trustedPublicKey: c.publicKey })).toEqual([]);
  // Checkpoints are append-only too: the application's role has no right to delete them, and the trigger refuses even a superuser.
  await expect(sql`delete from checkpoints`.execute(t.db)).rejects.toThrow(/permission denied for table checkpoints/);
  await expect(sql`delete from checkpoints`.execute(t.admin)).rejects.toThrow(/append-only/);
});

test('an altered checkpoint, another signer, or a changed event before it are all refused', async () => {
  const c = await cutCheckpoint(t.db, keyFile);
  expect(await checkCheckpoint(t.db, { ...c, seq: c.seq - 1 })).toEqual(expect.arrayContaining([expect.stringMatching(/signature does not match/)]));
  const other = await cutCheckpoint(t.db, join(mkdtempSync(join(tmpdir(), 'trienkhai-key-')), 'other.pem'));
  expect(await checkCheckpoint(t.db, other, { trustedPublicKey: c.publicKey })).toEqual([expect.stringMatching(/different key/)]);
  expect(await checkCheckpoint(t.db, { nonsense: true })).toEqual([expect.stringMatching(/^not a checkpoint/)]);

  await asSuperuserWithoutTriggers(t.db, (conn) => sql`update events set payload = jsonb_set(payload, '{offset}', '"P0D"') where chain_seq = 3`.execute(conn));
  expect(await checkCheckpoint(t.db, c)).toEqual(expect.arrayContaining([expect.stringMatching(/Merkle root of events #1–#14, recomputed from their contents, differs/)]));
  // A log that does not verify is never signed.
  await expect(cutCheckpoint(t.db, keyFile)).rejects.toThrow(/refusing to sign a checkpoint: the audit record does not verify/);
  await asSuperuserWithoutTriggers(t.db, (conn) => sql`update events set payload = jsonb_set(payload, '{offset}', '"P3D"') where chain_seq = 3`.execute(conn));
  expect(await checkCheckpoint(t.db, c)).toEqual([]);
});

test('checkpoints are cut periodically, only when there is something new', async () => {
  // Its own database and key, so that it does not depend on what the tests before it left.
  const own = await freshDatabase();
  const ownKey = join(mkdtempSync(join(tmpdir(), 'trienkhai-key-')), 'audit.pem');
  for (let n = 1; n <= 3; n++) await appendEvents(own.db, [ev(n)]);
  await cutCheckpoint(own.db, ownKey); // every event is covered
  const before = 1;
  const lines: string[] = [];
  // Count the ticks (each starts by reading the chain head) instead of sleeping and hoping a tick ran:
  // a tick starts only when the previous one has finished, so `ticks >= n + 2` means tick n + 1 is done.
  let ticks = 0;
  const counted = new Proxy(own.db, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (prop === 'selectFrom') {
        return (table: Parameters<typeof target.selectFrom>[0]) => {
          if (table === 'chain_head') ticks += 1;
          return target.selectFrom(table);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const count = async () => (await own.db.selectFrom('checkpoints').select('id').execute()).length;
  const ticksPast = (n: number) => until(`tick ${n + 1} done`, async () => ticks >= n + 2, 60_000, 20);
  const stop = startCheckpointing(counted, ownKey, 100, (l) => lines.push(l));
  let logged: string[] = [];
  try {
    expect(await count()).toBe(before);
    await ticksPast(ticks);
    expect(await count()).toBe(before); // the last checkpoint already covers every event: nothing to cut
    await appendEvents(own.db, [ev(4)]);
    await until('the checkpoint of the new event', async () => (await count()) > before, 60_000, 20);
    await ticksPast(ticks); // and a whole tick after it
    expect(await count()).toBe(before + 1); // one, for the new event
  } finally {
    stop();
    // What was logged while ticking (a tick still in flight after stop() finds nothing new; once the
    // database is closed below it can only log its own failure, which is not the subject here).
    logged = [...lines];
    await own.close();
  }
  expect(logged).toEqual([expect.stringMatching(/^audit checkpoint of events #1–#4 signed/)]);
});

test('plain verification checks the log against every stored checkpoint: a chain rewritten to hide an edit passes the chain, not them', async () => {
  // 14 events so far (the periodic test has a database of its own); two more, then a checkpoint of all 16.
  await appendEvents(t.db, [ev(15), ev(16)]);
  await cutCheckpoint(t.db, keyFile);
  expect(await verifyChain(t.db)).toMatchObject({ ok: true, problems: [] });
  const rows = (await selectLogRows(t.db).execute()) as LogRow[];
  // The forger edits #4 and re-links every row after it, so that each row verifies in itself.
  const forged = rows.map((r) => ({ ...r }));
  forged[3]!.payload = { ...(forged[3]!.payload as object), offset: 'P99D' };
  let prev = forged[2]!.hash;
  for (const r of forged.slice(3)) {
    r.content_hash = contentHash(eventOfRow(r));
    r.prev_hash = prev;
    r.hash = rowLink(r, Number(r.chain_seq));
    prev = r.hash;
  }
  const write = (rs: LogRow[]) =>
    asSuperuserWithoutTriggers(t, async (conn) => {
      for (const r of rs.slice(3))
        await sql`update events set payload = ${JSON.stringify(r.payload)}::jsonb, content_hash = ${r.content_hash}, prev_hash = ${r.prev_hash}, hash = ${r.hash} where chain_seq = ${r.chain_seq}`.execute(
          conn,
        );
      await sql`update chain_head set hash = ${rs[rs.length - 1]!.hash}`.execute(conn);
    });
  await write(forged);
  try {
    const r = await verifyChain(t.db);
    expect(r.ok).toBe(false);
    expect(r.problems.filter((p) => p.kind !== 'checkpoint')).toEqual([]); // the chain alone is fooled
    const stored = (await t.db.selectFrom('checkpoints').select('id').execute()).length;
    expect(r.checkpoints).toEqual({ stored, holding: 0, provenUpTo: 0, brokenByRows: 0 });
    // The first broken checkpoint is named with what changed; the later ones, broken for the same reason, in one line.
    expect(r.problems[0]!.message).toMatch(
      /^checkpoint \d+ \(events #1–#9, signed .*\): event #9 no longer ends in the checkpoint's chain link — so events #1–#9 were changed after they were recorded, and the chain rewritten to hide it$/,
    );
    expect(r.problems[1]!.message).toMatch(/^checkpoint \d+ \(events #1–#9, .*\): the Merkle root of events #1–#9, recomputed from their contents, differs/);
    expect(r.problems[r.problems.length - 1]!.message).toMatch(new RegExp(`^${stored - 1} later checkpoint\\(s\\) .* no longer hold either, for the same reason$`));
  } finally {
    await write(rows);
  }
  expect(await verifyChain(t.db)).toMatchObject({ ok: true, checkpoints: { holding: (await t.db.selectFrom('checkpoints').select('id').execute()).length, provenUpTo: 16 } });
});

test('a stored checkpoint whose signature was forged is reported by plain verification', async () => {
  const c = await cutCheckpoint(t.db, keyFile);
  const [last] = await t.db.selectFrom('checkpoints').select('id').orderBy('id', 'desc').limit(1).execute();
  await asSuperuserWithoutTriggers(t, (conn) => sql`update checkpoints set body = ${JSON.stringify({ ...c, merkleRoot: '0'.repeat(64) })}::jsonb where id = ${last!.id}`.execute(conn));
  try {
    const r = await verifyChain(t.db);
    expect(r.problems.map((p) => p.kind)).toEqual(['checkpoint', 'checkpoint']);
    expect(r.problems[0]!.message).toMatch(new RegExp(`^checkpoint ${last!.id} \\(events #1–#16.*signature does not match`));
  } finally {
    await asSuperuserWithoutTriggers(t, (conn) => sql`update checkpoints set body = ${JSON.stringify(c)}::jsonb where id = ${last!.id}`.execute(conn));
  }
  expect((await verifyChain(t.db)).ok).toBe(true);
});

test('a deletion in the middle, checked against a checkpoint, is named by its position, not as a short log', async () => {
  const c = await cutCheckpoint(t.db, keyFile);
  const [gone] = (await selectLogRows(t.db).where('chain_seq', '=', '7').execute()) as LogRow[];
  await asSuperuserWithoutTriggers(t, (conn) => sql`delete from events where chain_seq = 7`.execute(conn));
  try {
    const problems = await checkCheckpoint(t.db, c);
    expect(problems).toEqual([`the log has only 15 of the 16 events the checkpoint covers: event #7 is missing (deleted) between unit/R/U#6 and unit/R/U#8`]);
  } finally {
    await asSuperuserWithoutTriggers(t, (conn) =>
      conn
        .insertInto('events')
        .values({ ...gone!, payload: JSON.stringify(gone!.payload) } as never)
        .execute(),
    );
  }
  expect(await checkCheckpoint(t.db, c)).toEqual([]);
});

test('a checkpoint broken by a row the chain already names is counted, not listed: one edit stays one problem', async () => {
  const stored = (await t.db.selectFrom('checkpoints').select('id').execute()).length;
  await asSuperuserWithoutTriggers(t, (conn) => sql`update events set payload = jsonb_set(payload, '{offset}', '"P0D"') where chain_seq = 3`.execute(conn));
  try {
    const r = await verifyChain(t.db);
    expect(r.problems.map((p) => `${p.kind}@${p.chainSeq}`)).toEqual(['edited@3']);
    expect(r.checkpoints).toEqual({ stored, holding: 0, provenUpTo: 0, brokenByRows: stored });
  } finally {
    await asSuperuserWithoutTriggers(t, (conn) => sql`update events set payload = jsonb_set(payload, '{offset}', '"P3D"') where chain_seq = 3`.execute(conn));
  }
});
