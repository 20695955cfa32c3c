/**
 * A command's connections: the database (migrated on open) and, on first use, Temporal. Opened only
 * after a command's arguments are checked, so bad input is refused with no stack running.
 */
import { Client, Connection } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Deps } from '../app/commands';
import { connect } from '../db/connect';
import type { Database } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { redactUrl } from '../stack/process';
import { endpoints } from '../stack/config';
import { StackNotRunningError } from '../stack/errors';

export interface Session {
  db: Kysely<Database>;
  /** The application layer's dependencies; connects to Temporal the first time. */
  deps(): Promise<Deps>;
  close(): Promise<void>;
}

export async function openSession(): Promise<Session> {
  const ep = endpoints();
  const databaseUrl = ep.databaseUrl();
  const db = connect(databaseUrl, { max: 4 });
  try {
    await migrateToLatest(db);
  } catch (e) {
    await db.destroy();
    throw new StackNotRunningError(`cannot use the database at ${redactUrl(databaseUrl)}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let connection: Connection | undefined;
  return {
    db,
    async deps() {
      if (!connection) {
        const address = ep.temporalAddress();
        try {
          connection = await Connection.connect({ address, connectTimeout: '5s' });
        } catch (e) {
          throw new StackNotRunningError(`cannot reach Temporal at ${address}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      return { db, client: new Client({ connection, namespace: ep.namespace }) };
    },
    async close() {
      await connection?.close();
      await db.destroy();
    },
  };
}

/** Run `fn` with a session, closed whatever happens. */
export async function withSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
  const s = await openSession();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
