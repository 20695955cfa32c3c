import { sql, type Kysely } from 'kysely';

/**
 * Notifications (notify/): who is told (`unit_contacts`, per unit code, not per hierarchy version)
 * and what is to be told (`notification_outbox`, written in the same transaction as the event that
 * causes it; see db/event-store.ts). The outbox is not part of the read model: a rebuild never
 * touches it, so nothing is sent twice because the read model was re-projected. `event_id` has no
 * foreign key: the events table's own guards (append-only triggers, TRUNCATE refused) must be the
 * ones that answer, and the same transaction already ties each row to its event.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table unit_contacts (
    unit_code text not null,
    channel text not null check (channel in ('email', 'webhook')),
    address text not null,
    name text not null default '',
    created_at timestamptz not null default clock_timestamp(),
    primary key (unit_code, channel, address)
  )`.execute(db);
  await sql`create table notification_outbox (
    notification_id bigserial primary key,
    event_id text not null,
    event_type text not null,
    rollout_id text,
    unit_code text,
    recipient_unit text not null,
    channel text not null check (channel in ('email', 'webhook')),
    address text not null,
    idempotency_key text not null unique,
    payload jsonb not null,
    status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default clock_timestamp(),
    last_error text,
    last_attempt_at timestamptz,
    delivered_at timestamptz,
    created_at timestamptz not null default clock_timestamp()
  )`.execute(db);
  await sql`create index notification_outbox_due_idx on notification_outbox (next_attempt_at) where status = 'pending'`.execute(db);
  await sql`create index notification_outbox_recipient_idx on notification_outbox (recipient_unit, notification_id)`.execute(db);
  await sql`create index notification_outbox_rollout_idx on notification_outbox (rollout_id, notification_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table notification_outbox`.execute(db);
  await sql`drop table unit_contacts`.execute(db);
}
