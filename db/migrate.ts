/**
 * Schema migrations (kysely), applied at start by every entry point. Migrations are listed here in
 * order rather than discovered on disk, so they work the same from src (jest) and from dist.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { connect } from './connect';
import { grantAppPrivileges } from './privileges';
import * as eventLog from './migrations/2026-11-21T0000-event-log';
import * as hierarchy from './migrations/2026-11-21T0001-hierarchy';
import * as readModel from './migrations/2026-11-21T0002-read-model';
import * as rolloutSize from './migrations/2026-11-21T0003-rollout-size';
import * as rolloutProgress from './migrations/2026-11-21T0004-rollout-progress';
import * as hashChain from './migrations/2026-11-21T0005-hash-chain';
import * as checkpoints from './migrations/2026-11-21T0006-checkpoints';
import * as apiTokens from './migrations/2026-11-21T0007-api-tokens';
import * as escalationActions from './migrations/2026-11-21T0008-escalation-actions';
import * as notifications from './migrations/2026-11-21T0009-notifications';
import * as recordHash from './migrations/2026-11-21T0010-record-hash';
import * as periodicReportDocuments from './migrations/2026-12-02T0011-periodic-report-documents';
import * as organisations from './migrations/2026-12-02T0012-organisations';
import * as calendars from './migrations/2026-12-02T0013-calendars';
import * as batches from './migrations/2026-12-02T0014-batches';
import * as planVersions from './migrations/2026-12-02T0015-plan-versions';
import * as sequencedChain from './migrations/2026-12-02T0016-sequenced-chain';

const MIGRATIONS: Record<string, Migration> = {
  '2026-11-21T0000-event-log': eventLog,
  '2026-11-21T0001-hierarchy': hierarchy,
  '2026-11-21T0002-read-model': readModel,
  '2026-11-21T0003-rollout-size': rolloutSize,
  '2026-11-21T0004-rollout-progress': rolloutProgress,
  '2026-11-21T0005-hash-chain': hashChain,
  '2026-11-21T0006-checkpoints': checkpoints,
  '2026-11-21T0007-api-tokens': apiTokens,
  '2026-11-21T0008-escalation-actions': escalationActions,
  '2026-11-21T0009-notifications': notifications,
  '2026-11-21T0010-record-hash': recordHash,
  '2026-12-02T0011-periodic-report-documents': periodicReportDocuments,
  '2026-12-02T0012-organisations': organisations,
  '2026-12-02T0013-calendars': calendars,
  '2026-12-02T0014-batches': batches,
  '2026-12-02T0015-plan-versions': planVersions,
  '2026-12-02T0016-sequenced-chain': sequencedChain,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

/**
 * Bring the schema up to date; throws with the failing migration's name.
 *
 * Migrations run as the schema's owner. With `ownerUrl` (default: DATABASE_OWNER_URL) they run over a
 * connection of their own with it, and the role of `db` (the application's) is then granted exactly
 * what it needs on every table (db/privileges.ts). Without one they run over `db` itself — when
 * anything is pending: an application role that is not the owner, on an up-to-date schema, only reads
 * which migrations were applied.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLatest(db: Kysely<any>, opts: { ownerUrl?: string | undefined } = {}): Promise<string[]> {
  const ownerUrl = opts.ownerUrl ?? (process.env.DATABASE_OWNER_URL || undefined);
  if (ownerUrl) {
    const owner = connect(ownerUrl, { max: 1 });
    try {
      const [app, own] = await Promise.all([currentUser(db), currentUser(owner)]);
      if (app === own) return await migrate(db);
      const applied = await migrate(owner);
      await grantAppPrivileges(owner, app);
      return applied;
    } finally {
      await owner.destroy();
    }
  }
  if ((await pending(db)).length === 0) return [];
  return migrate(db);
}

/** The migrations not yet applied (all of them on an empty database). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function pending(db: Kysely<any>): Promise<string[]> {
  let done: Set<string>;
  try {
    done = new Set((await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map((r) => r.name));
  } catch {
    done = new Set();
  }
  return Object.keys(MIGRATIONS).filter((m) => !done.has(m));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function currentUser(db: Kysely<any>): Promise<string> {
  return (await sql<{ u: string }>`select current_user as u`.execute(db)).rows[0]!.u;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function migrate(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = /permission denied|must be owner/.test(message)
      ? ' (migrations run as the role that owns the schema: set DATABASE_OWNER_URL to its URL, or start `trienkhai up` once, which migrates the embedded database as its owner)'
      : '';
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${message}${hint}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Apply the migrations up to and including `name`, and no further (for tests of an upgrade). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateTo(db: Kysely<any>, name: string): Promise<void> {
  if (!(name in MIGRATIONS)) throw new Error(`no migration ${name}`);
  const { error } = await new Migrator({ db, provider: new StaticProvider() }).migrateTo(name);
  if (error) throw new Error(`database migration to ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
}
