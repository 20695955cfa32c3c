import { sql, type Kysely } from 'kysely';

/**
 * Appends without a global lock; the chain is linked after them, in batches, by a sequencer
 * (db/sequencer.ts), as transparency logs do.
 *
 * Until now every append took the one `chain_head` row under a lock to link its events, so the whole
 * deployment appended one transaction at a time. Now an append only inserts its events, with their
 * content hash, and leaves their link (`chain_seq`, `prev_hash`, `hash`) empty; the sequencer links
 * the pending rows in the order it finds them, many per statement, under its own lock. The link is
 * computed exactly as before (hash version 2), so verification, checkpoints and bundles are unchanged.
 *
 * The audit record stays append-only: an event's content never changes, and its link is written
 * once. The trigger on UPDATE now allows exactly that — setting an empty link, whole — and refuses
 * everything else (any other column, a link already written, a link set back to empty); DELETE and
 * TRUNCATE are refused as before. The application's role gets UPDATE on the three link columns only
 * (db/privileges.ts), so even the trigger's one exception is out of reach for every other column.
 *
 * `rollout_progress` gets a `slot` (0–15, from the unit's code): each unit's counters move one of 16
 * rows per level and step instead of the one row every unit of a national rollout would otherwise
 * wait for. Reads add the slots up.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function events_link_once() returns trigger language plpgsql as $$
    begin
      if old.chain_seq is not null or old.prev_hash is not null or old.hash is not null then
        raise exception 'events are append-only: event % is already linked into the chain (#%)', old.event_id, old.chain_seq
          using errcode = 'insufficient_privilege';
      end if;
      if new.chain_seq is null or new.prev_hash is null or new.hash is null then
        raise exception 'events are append-only: a chain link is written whole (chain_seq, prev_hash and hash)'
          using errcode = 'insufficient_privilege';
      end if;
      if (new.position, new.event_id, new.stream_id, new.stream_seq, new.type, new.rollout_id, new.unit_code, new.actor,
          new.occurred_at, new.recorded_at, new.payload, new.content_hash, new.hash_version)
         is distinct from
         (old.position, old.event_id, old.stream_id, old.stream_seq, old.type, old.rollout_id, old.unit_code, old.actor,
          old.occurred_at, old.recorded_at, old.payload, old.content_hash, old.hash_version) then
        raise exception 'events are append-only: only an empty chain link may be written'
          using errcode = 'insufficient_privilege';
      end if;
      return new;
    end $$`.execute(db);
  await sql`drop trigger events_no_update on events`.execute(db);
  await sql`create trigger events_no_update before update on events for each row execute function events_link_once()`.execute(db);
  await sql`create trigger events_no_delete before delete on events for each row execute function events_append_only()`.execute(db);
  await sql`alter table events alter column chain_seq drop not null, alter column prev_hash drop not null, alter column hash drop not null`.execute(db);
  // What the sequencer reads: the few rows not linked yet, in insertion order.
  await sql`create index events_unlinked_idx on events (position) where chain_seq is null`.execute(db);

  await sql`alter table rollout_progress add column slot smallint not null default 0`.execute(db);
  await sql`alter table rollout_progress drop constraint rollout_progress_pk`.execute(db);
  await sql`alter table rollout_progress add constraint rollout_progress_pk primary key (rollout_id, level, step_id, slot)`.execute(db);
  // Rollouts recorded before: their counters derived again from the read model (as migration 0004
  // did), each unit's in the slot the projection gives it (db/projection.ts slotOf), so a rebuild
  // gives the same rows.
  await sql`delete from rollout_progress`.execute(db);
  await sql`
    insert into rollout_progress (rollout_id, level, step_id, kind, depth, slot, units, waiting, open, done, done_late, attended, members)
    select s.rollout_id, u.level, s.step_id, min(s.kind), min(u.depth), ('x' || substr(md5(s.unit_code), 1, 1))::bit(4)::int as slot, count(*),
      count(*) filter (where s.status = 'waiting'), count(*) filter (where s.status = 'open'),
      count(*) filter (where s.status = 'done'), count(*) filter (where s.status = 'done' and s.late_by_ms > 0),
      coalesce(sum(s.attended), 0), coalesce(sum(u.members), 0)
    from unit_steps s join rollout_units u on u.rollout_id = s.rollout_id and u.unit_code = s.unit_code
    group by s.rollout_id, u.level, s.step_id, slot`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The slots added back up into one row per level and step.
  await sql`create temporary table progress_sum on commit drop as
    select rollout_id, level, step_id, min(kind) as kind, min(depth) as depth, sum(units)::int as units, sum(waiting)::int as waiting, sum(open)::int as open,
           sum(done)::int as done, sum(done_late)::int as done_late, sum(attended) as attended, sum(members) as members
      from rollout_progress group by rollout_id, level, step_id`.execute(db);
  await sql`delete from rollout_progress`.execute(db);
  await sql`alter table rollout_progress drop constraint rollout_progress_pk`.execute(db);
  await sql`alter table rollout_progress drop column slot`.execute(db);
  await sql`alter table rollout_progress add constraint rollout_progress_pk primary key (rollout_id, level, step_id)`.execute(db);
  await sql`insert into rollout_progress (rollout_id, level, step_id, kind, depth, units, waiting, open, done, done_late, attended, members) select * from progress_sum`.execute(db);
  // Fails, naming the column, while events are still waiting for their link: run the sequencer first.
  await sql`alter table events alter column chain_seq set not null, alter column prev_hash set not null, alter column hash set not null`.execute(db);
  await sql`drop index events_unlinked_idx`.execute(db);
  await sql`drop trigger events_no_delete on events`.execute(db);
  await sql`drop trigger events_no_update on events`.execute(db);
  await sql`create trigger events_no_update before update or delete on events for each row execute function events_append_only()`.execute(db);
  await sql`drop function events_link_once()`.execute(db);
}
