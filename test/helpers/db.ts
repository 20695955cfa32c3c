/** A fresh, migrated database per test file on the real PostgreSQL started by the global setup. */
import type { Kysely } from 'kysely';
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
