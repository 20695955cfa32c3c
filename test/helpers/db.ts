/** A fresh, migrated database per test file on the real PostgreSQL started by the global setup. */
import { sql, type Kysely } from 'kysely';
import { connect } from '../../db/connect';
import type { Database } from '../../db/database';
import { migrateToLatest } from '../../db/migrate';
import { createTestDatabase } from '../../stack/postgres';

export interface TestDb {
  url: string;
  db: Kysely<Database>;
  close(): Promise<void>;
}

export async function freshDatabase(): Promise<TestDb> {
  const base = process.env.TRIENKHAI_TEST_PG_URL;
  if (!base) throw new Error('no test PostgreSQL: run through `npm test` (jest global setup)');
  const t = await createTestDatabase(base);
  const db = connect(t.url, { max: 5 });
  await migrateToLatest(db);
  return {
    url: t.url,
    db,
    async close() {
      await db.destroy();
      await t.drop();
    },
  };
}

/** Run SQL as a superuser who has switched triggers off (what an attacker with DBA rights can do). */
export async function asSuperuserWithoutTriggers(db: Kysely<Database>, fn: (conn: Kysely<Database>) => Promise<unknown>): Promise<void> {
  await db.connection().execute(async (conn) => {
    await sql`set session_replication_role = replica`.execute(conn);
    try {
      await fn(conn);
    } finally {
      await sql`set session_replication_role = origin`.execute(conn);
    }
  });
}
