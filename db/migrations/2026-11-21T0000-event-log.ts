import { sql, type Kysely } from 'kysely';

/**
 * The event log: append-only. A trigger refuses UPDATE, DELETE and TRUNCATE for every role, and the
 * privileges are revoked from PUBLIC, so the application cannot rewrite history even by mistake.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('position', 'bigserial', (c) => c.primaryKey())
    .addColumn('event_id', 'text', (c) => c.notNull().unique())
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('stream_seq', 'integer', (c) => c.notNull().check(sql`stream_seq >= 1`))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('rollout_id', 'text')
    .addColumn('unit_code', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addUniqueConstraint('events_stream_seq_unique', ['stream_id', 'stream_seq'])
    .execute();
  await db.schema.createIndex('events_rollout_idx').on('events').columns(['rollout_id', 'unit_code', 'position']).execute();
  await sql`
    create function events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'events are append-only: % is not allowed on the audit record', tg_op
        using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  await sql`create trigger events_no_update before update or delete on events for each row execute function events_append_only()`.execute(db);
  await sql`create trigger events_no_truncate before truncate on events for each statement execute function events_append_only()`.execute(db);
  await sql`revoke update, delete, truncate on events from public`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('events').execute();
  await sql`drop function if exists events_append_only()`.execute(db);
}
