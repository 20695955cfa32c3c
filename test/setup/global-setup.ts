/**
 * Once per `npm test`: a real PostgreSQL (embedded, or DATABASE_URL) that every test file takes a fresh
 * database from, and the Temporal binaries resolved into the cache (so the first test file does not
 * pay for a download). Nothing is faked.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePostgres, ensureRoles, type PostgresHandle } from '../../stack/postgres';
import { resolveTemporalCli, resolveTestServer } from '../../stack/temporal-binaries';

declare global {
  var __trienkhaiPg: PostgresHandle | undefined;
}

export default async function globalSetup(): Promise<void> {
  process.env.TRIENKHAI_SKIP_SDK_DOWNLOAD ??= '1';
  const log = (line: string): void => void process.stderr.write(`[test setup] ${line}\n`);
  const [cli, testServer] = await Promise.all([resolveTemporalCli({ log }), resolveTestServer({ log })]);
  process.env.TEMPORAL_CLI_PATH = cli.path;
  process.env.TEMPORAL_TEST_SERVER_PATH = testServer.path;
  if (process.env.DATABASE_URL) {
    // Tests take fresh databases from this server (CREATE DATABASE and the roles need a superuser).
    process.env.TRIENKHAI_TEST_PG_URL = process.env.DATABASE_URL;
    await ensureRoles(process.env.DATABASE_URL, { adopt: false });
    return;
  }
  const dataDir = join(mkdtempSync(join(tmpdir(), 'trienkhai-test-pg-')), 'pgdata');
  process.env.TRIENKHAI_TEST_PG_DIR = dataDir;
  const pg = await ensurePostgres({ dataDir, port: 0, log });
  globalThis.__trienkhaiPg = pg;
  // The superuser's URL: test databases are created with it, then used as the product uses them
  // (test/helpers/db.ts: the application role, migrated by the owner role).
  process.env.TRIENKHAI_TEST_PG_URL = pg.adminUrl;
}
