import { sql, type Kysely } from 'kysely';

/**
 * Batches (domain/batches.ts): one action on a filtered set of a rollout's units. `batches` holds the
 * decision as confirmed and `batch_items` one row per unit (with its own change, when the units of
 * one batch get different ones: following a hierarchy change) and its result, worked through by the
 * batch workflow. They are the batch's working state, like the notification outbox: the audit record
 * holds BatchStarted, every unit's own event (carrying the batch ID) and BatchCompleted.
 *
 * `rollout_units.suspended_at`: the unit's deadline clock is stopped (ClockSuspended, until
 * ClockResumed), so that reads can say so and batches can pick suspended units. Units suspended
 * before this column existed get it from the audit record.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table batches (
    batch_id text primary key,
    rollout_id text not null,
    action text not null,
    params jsonb not null,
    filter jsonb not null,
    committee text,
    decided_by text not null,
    reason text not null,
    fingerprint text not null,
    units integer not null,
    status text not null default 'running' check (status in ('running', 'completed')),
    created_at timestamptz not null default clock_timestamp(),
    completed_at timestamptz
  )`.execute(db);
  await sql`create index batches_rollout_idx on batches (rollout_id, created_at)`.execute(db);
  await sql`create table batch_items (
    batch_id text not null references batches (batch_id),
    seq integer not null,
    unit_code text not null,
    input jsonb,
    status text not null default 'pending' check (status in ('pending', 'done', 'unchanged', 'refused')),
    message text,
    result jsonb,
    updated_at timestamptz,
    primary key (batch_id, seq)
  )`.execute(db);
  await sql`create index batch_items_pending_idx on batch_items (batch_id, seq) where status = 'pending'`.execute(db);
  await sql`alter table rollout_units add column suspended_at timestamptz`.execute(db);
  await sql`
    update rollout_units u set suspended_at = s.occurred_at
    from (
      select distinct on (rollout_id, unit_code) rollout_id, unit_code, type, occurred_at
      from events where type in ('ClockSuspended', 'ClockResumed')
      order by rollout_id, unit_code, stream_seq desc
    ) s
    where s.type = 'ClockSuspended' and s.rollout_id = u.rollout_id and s.unit_code = u.unit_code`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table rollout_units drop column suspended_at`.execute(db);
  await sql`drop table batch_items`.execute(db);
  await sql`drop table batches`.execute(db);
}
