/**
 * A fresh, migrated database per test file on the real PostgreSQL started by the global setup, laid out
 * as the product runs it: owned by the owner role (migrations ran as it) and used by the application's
 * role, which may append to the audit record but never rewrite it (db/privileges.ts). `db` is the
 * application's connection — what every product code path gets; `admin` is the superuser's, for tamper
 * trials that play a DBA turned attacker.
 */
import { sql, type Kysely } from 'kysely';
import { connect } from '../../db/connect';
import type { Database } from '../../db/database';
import { migrateToLatest } from '../../db/migrate';
import { APP_ROLE, OWNER_ROLE, createTestDatabase, ensureRoles, roleUrl } from '../../stack/postgres';

export interface TestDb {
  /** The application role's URL (what DATABASE_URL is for the product). */
  url: string;
  /** The owner role's URL (what migrations run as). */
  ownerUrl: string;
  /** The superuser's URL. */
  adminUrl: string;
  /** The application's connection. */
  db: Kysely<Database>;
  /** A superuser connection: for tampering, never for the product. */
  admin: Kysely<Database>;
  close(): Promise<void>;
}

const adminOf = new WeakMap<Kysely<Database>, Kysely<Database>>();

export async function freshDatabase(): Promise<TestDb> {
  const base = process.env.TRIENKHAI_TEST_PG_URL;
  if (!base) throw new Error('no test PostgreSQL: run through `npm test` (jest global setup)');
  const t = await createTestDatabase(base, undefined, { owner: OWNER_ROLE });
  await ensureRoles(t.url);
  const url = roleUrl(t.url, APP_ROLE);
  const ownerUrl = roleUrl(t.url, OWNER_ROLE);
  const db = connect(url, { max: 5 });
  const admin = connect(t.url, { max: 2 });
  adminOf.set(db, admin);
  await migrateToLatest(db, { ownerUrl });
  return {
    url,
    ownerUrl,
    adminUrl: t.url,
    db,
    admin,
    async close() {
      await db.destroy();
      await admin.destroy();
      await t.drop();
    },
  };
}

/**
 * Run SQL as a superuser who has switched triggers off (what an attacker with DBA rights can do). Give
 * it the test database (or its application connection, whose superuser twin is used: the application
 * role itself may not do this, see test/db/privileges.test.ts).
 */
export async function asSuperuserWithoutTriggers(on: TestDb | Kysely<Database>, fn: (conn: Kysely<Database>) => Promise<unknown>): Promise<void> {
  const admin = 'admin' in on ? on.admin : adminOf.get(on);
  if (!admin) throw new Error('asSuperuserWithoutTriggers: not a connection from freshDatabase()');
  await admin.connection().execute(async (conn) => {
    await sql`set session_replication_role = replica`.execute(conn);
    try {
      await fn(conn);
    } finally {
      await sql`set session_replication_role = origin`.execute(conn);
    }
  });
}
