/**
 * The sequencer: links appended events into the hash chain, in batches, after their appends.
 *
 * An append (db/event-store.ts) inserts its events with their content hash and no link, and takes no
 * lock the whole deployment shares: appends from every worker proceed in parallel. Linking is then one
 * pass over the events not linked yet, under one advisory lock: read the chain head, the pending rows
 * in insertion order and their stored times, compute each link (db/links.ts, hash version 2: the
 * position, the previous link, the content hash and both times, exactly as stored), write them all in
 * one statement, move the head. A pass of thousands of rows costs about what one append's chain step
 * used to, so the lock is held per batch, not per event — the transparency-log design (appends are
 * accepted, then sequenced and signed).
 *
 * Who runs it: every append kicks its own process's sequencer after it commits (a pass already running
 * here is asked to run once more, so no row committed meanwhile is left behind); every long-running
 * process also sweeps on an interval, for the rows of a process that died between its commit and its
 * pass; and every reader of the chain (verify, checkpoints, export) links what is pending first, so it
 * sees the whole log. Passes from several processes wait for each other on the lock, and each links
 * only what is still pending, so running many is harmless.
 *
 * What this changes for tamper evidence: nothing for linked rows. A row is exposed only between its
 * commit and its pass (typically milliseconds), to someone who can already write the table as its
 * owner; the application's own role can write a link once, from empty, and nothing else (migration
 * 0016's trigger and db/privileges.ts).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './database';
import { chainHash, recordHash, usText } from './links';

/** The advisory lock a pass holds ("trsq"). */
export const SEQUENCER_LOCK = 0x7472_7371;

/** Rows linked per statement. */
const PASS_SIZE = 5000;

/**
 * Link every event not linked yet, in passes of PASS_SIZE; the number linked. Waits for a pass
 * running elsewhere (and then links only what that one left).
 */
export async function linkPending(db: Kysely<Database>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${SEQUENCER_LOCK})`.execute(trx);
      const pending = await trx
        .selectFrom('events')
        .select(['position', 'content_hash', 'hash_version'])
        .select([usText(sql.ref('occurred_at')).as('occurred_at'), usText(sql.ref('recorded_at')).as('recorded_at')])
        .where('chain_seq', 'is', null)
        .orderBy('position')
        .limit(PASS_SIZE)
        .execute();
      if (pending.length === 0) return 0;
      const head = await trx.selectFrom('chain_head').select(['seq', 'hash']).forUpdate().executeTakeFirstOrThrow();
      let seq = Number(head.seq);
      let prev = head.hash;
      const positions: string[] = [];
      const seqs: string[] = [];
      const prevs: string[] = [];
      const hashes: string[] = [];
      for (const r of pending) {
        seq += 1;
        const link = r.hash_version >= 2 ? recordHash(prev, seq, r.content_hash, r.occurred_at, r.recorded_at) : chainHash(prev, seq, r.content_hash);
        positions.push(r.position);
        seqs.push(String(seq));
        prevs.push(prev);
        hashes.push(link);
        prev = link;
      }
      await sql`
        update events e set chain_seq = v.seq, prev_hash = v.prev, hash = v.hash
          from unnest(${positions}::bigint[], ${seqs}::bigint[], ${prevs}::text[], ${hashes}::text[]) as v(position, seq, prev, hash)
         where e.position = v.position`.execute(trx);
      await trx
        .updateTable('chain_head')
        .set({ seq: String(seq), hash: prev })
        .execute();
      return pending.length;
    });
    total += n;
    if (n < PASS_SIZE) return total;
  }
}

/** How many events wait for their link. */
export async function pendingLinks(db: Kysely<Database>): Promise<number> {
  const r = await db
    .selectFrom('events')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('chain_seq', 'is', null)
    .executeTakeFirstOrThrow();
  return r.n;
}

interface Runner {
  running: Promise<void> | null;
  again: boolean;
  timer: NodeJS.Timeout | null;
}
const runners = new WeakMap<Kysely<Database>, Runner>();

/** How long a kick waits before its pass, so that the appends of that moment are linked by one pass. */
const GATHER_MS = 20;

/**
 * Ask this process's sequencer for a pass after rows just committed: one starts GATHER_MS later (every
 * kick meanwhile joins it), or — if one is running, which may have read the pending rows before this
 * commit — it runs once more. Never throws: a failed pass leaves rows pending for the next kick, the
 * sweep or a reader. The timer does not keep a process alive: what a CLI leaves is linked by the next.
 */
export function kickSequencer(db: Kysely<Database>): void {
  let r = runners.get(db);
  if (!r) runners.set(db, (r = { running: null, again: false, timer: null }));
  const runner = r;
  if (runner.running) {
    runner.again = true;
    return;
  }
  if (runner.timer) return;
  runner.timer = setTimeout(() => {
    runner.timer = null;
    runner.running = (async () => {
      do {
        runner.again = false;
        try {
          await linkPending(db);
        } catch {
          // The database is away or the pool is closing: the rows stay pending, and are linked later.
          runner.again = false;
        }
      } while (runner.again);
      runner.running = null;
    })();
  }, GATHER_MS);
  runner.timer.unref();
}

/** Wait for this process's pass in flight or about to start, if any (tests, and a clean shutdown). */
export async function sequencerIdle(db: Kysely<Database>): Promise<void> {
  const r = runners.get(db);
  while (r && (r.timer || r.running)) await (r.running ?? new Promise((resolve) => setTimeout(resolve, GATHER_MS)));
}

/**
 * Sweep every `intervalMs`: a pass when rows are pending (cheap to ask: a partial index holds only
 * them). For the rows of a process that died after its commit. Returns a stop function.
 */
export function startSequencer(db: Kysely<Database>, intervalMs = 1000): () => void {
  const timer = setInterval(() => {
    void db
      .selectFrom('events')
      .select('position')
      .where('chain_seq', 'is', null)
      .limit(1)
      .executeTakeFirst()
      .then((row) => (row ? kickSequencer(db) : undefined))
      .catch(() => undefined);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
