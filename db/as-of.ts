/**
 * The state of a rollout at a past instant, rebuilt by folding its events up to that instant through
 * the same projection that keeps the live read model — into temporary tables of the same names and
 * shape, which shadow the live ones inside a transaction that is always rolled back. The live tables
 * are neither changed nor locked, so workers keep appending while an auditor looks back.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './database';
import { READ_MODEL_TABLES, reproject } from './rebuild';

class RolledBack<T> {
  constructor(readonly value: T) {}
}

/** Run `read` against the read model of one rollout as it was at `at`. */
export async function withRolloutAsOf<T>(db: Kysely<Database>, rolloutId: string, at: Date, read: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  try {
    await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(trx);
      // PostgreSQL resolves unqualified names in the session's temporary schema first.
      for (const table of READ_MODEL_TABLES) {
        await sql`create temporary table ${sql.table(table)} (like ${sql.table(`${rows[0]!.schema}.${table}`)} including all) on commit drop`.execute(trx);
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
