import { sql, type Kysely } from 'kysely';

/** Signed checkpoints of the audit record (db/checkpoints.ts). Append-only, like the events. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table checkpoints (
    id bigserial primary key,
    seq bigint not null,
    body jsonb not null,
    recorded_at timestamptz not null default clock_timestamp()
  )`.execute(db);
  await sql`create trigger checkpoints_no_update before update or delete on checkpoints for each row execute function events_append_only()`.execute(db);
  await sql`revoke update, delete, truncate on checkpoints from public`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table checkpoints`.execute(db);
}
