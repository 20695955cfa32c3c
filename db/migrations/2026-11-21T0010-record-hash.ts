import { sql, type Kysely } from 'kysely';

/**
 * Hash version 2: the chain link also covers when the event happened and when it was recorded, at the
 * microseconds PostgreSQL stores (`hash = sha256(prev_hash ":" chain_seq ":" content_hash ":"
 * occurred_at ":" recorded_at)`, both as UTC text with six decimals; see event-store.ts).
 *
 * Rows recorded before this migration keep version 1 and verify as they always did: re-chaining them
 * would rewrite the audit record's hashes and void every checkpoint an auditor already holds. Adding a
 * column with a constant default updates no row (no trigger fires). The default is dropped at once, so
 * every later insert must say which version it is; a version-1 row after a version-2 row is reported.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table events add column hash_version smallint not null default 1`.execute(db);
  await sql`alter table events alter column hash_version drop default`.execute(db);
  await sql`alter table events add constraint events_hash_version_known check (hash_version in (1, 2))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table events drop column hash_version`.execute(db);
}
