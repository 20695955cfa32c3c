/**
 * Upgrading a log recorded before hash version 2: its rows keep verifying as version 1 (and every
 * checkpoint signed over them still holds), and new rows are version 2, on the same chain.
 */
import { sql } from 'kysely';
import { connect } from '../../db/connect';
import { appendEvents } from '../../db/event-store';
import { chainHash, contentHash } from '../../db/links';
import { verifyChain } from '../../db/audit';
import { cutCheckpoint, checkCheckpoint } from '../../db/checkpoints';
import { migrateTo, migrateToLatest } from '../../db/migrate';
import { APP_ROLE, OWNER_ROLE, createTestDatabase, ensureRoles, roleUrl } from '../../stack/postgres';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { reminderEvent } from '../helpers/events';
import { join } from 'node:path';

const ev = reminderEvent;

test('rows recorded before hash version 2 still verify, checkpoints over them still hold, and new rows continue the chain as version 2', async () => {
  const t = await createTestDatabase(process.env.TRIENKHAI_TEST_PG_URL!, undefined, { owner: OWNER_ROLE });
  await ensureRoles(t.url);
  const owner = connect(roleUrl(t.url, OWNER_ROLE), { max: 1 });
  const app = connect(roleUrl(t.url, APP_ROLE), { max: 2 });
  try {
    await migrateTo(owner, '2026-11-21T0009-notifications');
    // Three events as the event store recorded them then: version-1 links, recorded_at by the column default.
    let prev = '0'.repeat(64);
    for (let n = 1; n <= 3; n++) {
      const e = ev(n);
      const ch = contentHash(e);
      const link = chainHash(prev, n, ch);
      await sql`insert into events (event_id, stream_id, stream_seq, type, rollout_id, unit_code, actor, occurred_at, payload, content_hash, chain_seq, prev_hash, hash)
        values (${e.eventId}, ${e.streamId}, ${e.streamSeq}, ${e.type}, ${e.rolloutId}, ${e.unitCode}, ${e.actor}, ${e.occurredAt}, ${JSON.stringify(e.payload)}::jsonb, ${ch}, ${n}, ${prev}, ${link})`.execute(
        owner,
      );
      prev = link;
    }
    await sql`update chain_head set seq = 3, hash = ${prev}`.execute(owner);

    // The upgrade to hash version 2 is the first migration applied (later ones follow it).
    expect((await migrateToLatest(app, { ownerUrl: roleUrl(t.url, OWNER_ROLE) }))[0]).toBe('2026-11-21T0010-record-hash');
    const versions = await sql<{ v: number }>`select hash_version as v from events order by chain_seq`.execute(app);
    expect(versions.rows.map((r) => r.v)).toEqual([1, 1, 1]);
    expect(await verifyChain(app)).toMatchObject({ ok: true, events: 3 });
    // A checkpoint over the version-1 rows: its Merkle leaves are their links, exactly as an older build signed them.
    const before = await cutCheckpoint(app, join(mkdtempSync(join(tmpdir(), 'trienkhai-key-')), 'k.pem'));
    const links = await sql<{ hash: string }>`select hash from events order by chain_seq`.execute(app);
    expect(before.chainHash).toBe(links.rows[2]!.hash);

    await appendEvents(app, [ev(4), ev(5)]);
    const after = await sql<{ v: number }>`select hash_version as v from events order by chain_seq`.execute(app);
    expect(after.rows.map((r) => r.v)).toEqual([1, 1, 1, 2, 2]);
    expect(await verifyChain(app)).toMatchObject({ ok: true, events: 5, problems: [] });
    expect(await checkCheckpoint(app, before)).toEqual([]);
  } finally {
    await owner.destroy();
    await app.destroy();
    await t.drop();
  }
});
