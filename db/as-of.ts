/**
 * The state of a rollout at a past instant, rebuilt by folding its events up to that instant through
 * the same projection that keeps the live read model — inside a transaction that is always rolled
 * back, so the live tables are never touched.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './database';
import { reproject } from './rebuild';

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
      await reproject(trx, { rolloutId, until: at });
      throw new RolledBack(await read(trx));
    });
  } catch (e) {
    if (e instanceof RolledBack) return e.value as T;
    throw e;
  }
  throw new Error('unreachable');
}
