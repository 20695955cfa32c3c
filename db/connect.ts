import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database';

// Return BIGINT (int8) as string (positions, lateness in ms can exceed 2^31) and DATE as 'YYYY-MM-DD'.
pg.types.setTypeParser(1082, (v: string) => v);

/** A kysely handle on a PostgreSQL URL. The caller destroys it. */
export function connect(url: string, opts: { max?: number } = {}): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  // An idle connection dropped by the server (e.g. PostgreSQL shutting down on Ctrl-C) must not crash
  // the process; the next query reconnects or reports the error where it happens.
  pool.on('error', () => undefined);
  // A connection dropped while a query is using it (PostgreSQL restarted, pg_terminate_backend) emits
  // 'error' on the checked-out client, which pg-pool does not listen to: without a listener of our own
  // that crashes the whole process (worker, or `up` with its HTTP API). The query itself fails with the
  // same error, where it is handled (db/errors.ts: isDatabaseUnavailable), and the pool discards the
  // broken client when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
