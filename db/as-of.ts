/**
 * The state of a rollout at a past instant, rebuilt by folding its events up to that instant through
 * the same projection that keeps the live read model — inside a transaction that is always rolled
 * back, so the live tables are never touched.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './database';
import { eventOfRow } from './audit';
import { project } from './projection';

class RolledBack<T> {
  constructor(readonly value: T) {}
}

/** Run `read` against the read model of one rollout as it was at `at`. */
export async function withRolloutAsOf<T>(db: Kysely<Database>, rolloutId: string, at: Date, read: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  try {
    await db.transaction().execute(async (trx) => {
      for (const table of ['rollout_progress', 'escalations', 'unit_steps', 'rollout_units', 'rollouts'] as const) {
        await trx.deleteFrom(table).where('rollout_id', '=', rolloutId).execute();
      }
      let after = '0';
      for (;;) {
        const page = await trx
          .selectFrom('events')
          .selectAll()
          .where('rollout_id', '=', rolloutId)
          .where('occurred_at', '<=', at)
          .where('chain_seq', '>', after)
          .orderBy('chain_seq')
          .limit(2000)
          .execute();
        if (page.length === 0) break;
        for (const r of page) await project(trx, eventOfRow(r));
        after = page[page.length - 1]!.chain_seq;
      }
      throw new RolledBack(await read(trx));
    });
  } catch (e) {
    if (e instanceof RolledBack) return e.value as T;
    throw e;
  }
  throw new Error('unreachable');
}
