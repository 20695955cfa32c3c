import { sql, type Kysely } from 'kysely';

/**
 * Plans are versioned in a running rollout (issue 10, "amending the plan"): `rollouts.plan` is the
 * version the rollout runs now (the one units enrolled from now on get), `plan_version` its number
 * (1: as started) and `plan_hash` the SHA-256 of its canonical JSON (null for rollouts started
 * before: computed when read). Every version is in the audit record: RolloutStarted, then one
 * RolloutAmended per amendment (stream `changes/<rolloutId>`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table rollouts add column plan_version integer not null default 1`.execute(db);
  await sql`alter table rollouts add column plan_hash text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table rollouts drop column plan_hash`.execute(db);
  await sql`alter table rollouts drop column plan_version`.execute(db);
}
