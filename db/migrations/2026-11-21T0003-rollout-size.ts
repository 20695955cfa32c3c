import type { Kysely } from 'kysely';

/** How many units a rollout enrols (from RolloutStarted), so progress can say "1,200 of 3,001 enrolled". */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rollouts').addColumn('units', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rollouts').dropColumn('units').execute();
}
