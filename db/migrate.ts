/**
 * Schema migrations (kysely), applied at start by every entry point. Migrations are listed here in
 * order rather than discovered on disk, so they work the same from src (jest) and from dist.
 */
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
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
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

/** Bring the schema up to date; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
