import { sql, type Kysely } from 'kysely';

/**
 * Holiday calendars as versioned data (issue 10): every import or edit of a calendar is a new,
 * immutable version (db/calendars.ts), recorded with a CalendarImported event in the same
 * transaction. Reference data a rollout's units pin (UnitContext.calendar): guarded by the
 * append-only trigger, so the application role may insert and read versions, never rewrite one
 * (db/privileges.ts derives the grants from the trigger).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table calendar_versions (
    calendar_id text not null,
    version int not null check (version >= 1),
    content jsonb not null,
    sha256 text not null,
    years int[] not null,
    provisional_years int[] not null,
    source text not null,
    imported_by text not null,
    imported_at timestamptz not null default clock_timestamp(),
    primary key (calendar_id, version)
  )`.execute(db);
  await sql`create trigger calendar_versions_no_update before update or delete on calendar_versions for each row execute function events_append_only()`.execute(db);
  await sql`revoke update, delete, truncate on calendar_versions from public`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table calendar_versions`.execute(db);
}
