import { sql, type Kysely } from 'kysely';

/**
 * The hash chain over the whole event log. Every event gets a gapless global `chain_seq` and
 * `hash = sha256(prev_hash ":" chain_seq ":" content_hash)`, chained to the event before it. Appends
 * take the chain head row under a lock, so the order is total and recorded. Events recorded before
 * this migration are chained here, in log order.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table chain_head (
    id boolean primary key default true check (id),
    seq bigint not null,
    hash text not null
  )`.execute(db);
  await sql`alter table events add column chain_seq bigint, add column prev_hash text, add column hash text`.execute(db);
  // The append-only trigger refuses UPDATE; chaining rows that predate the chain is the one exception.
  await sql`alter table events disable trigger events_no_update`.execute(db);
  await sql`
    do $$
    declare r record; prev text := repeat('0', 64); n bigint := 0; h text;
    begin
      for r in select position, content_hash from events order by position loop
        n := n + 1;
        h := encode(sha256(convert_to(prev || ':' || n || ':' || r.content_hash, 'UTF8')), 'hex');
        update events set chain_seq = n, prev_hash = prev, hash = h where position = r.position;
        prev := h;
      end loop;
      insert into chain_head (id, seq, hash) values (true, n, prev);
    end $$`.execute(db);
  await sql`alter table events enable trigger events_no_update`.execute(db);
  await sql`alter table events alter column chain_seq set not null, alter column prev_hash set not null, alter column hash set not null`.execute(db);
  await sql`alter table events add constraint events_chain_seq_unique unique (chain_seq)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table events disable trigger events_no_update`.execute(db);
  await sql`alter table events drop column chain_seq, drop column prev_hash, drop column hash`.execute(db);
  await sql`alter table events enable trigger events_no_update`.execute(db);
  await sql`drop table chain_head`.execute(db);
}
