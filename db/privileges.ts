/**
 * What the application's database role may do, granted by the schema's owner after every migration
 * (so tables added by later migrations are covered the moment they exist):
 *
 * - a table guarded by the append-only trigger (`events`, `checkpoints`, and any later one that uses
 *   `events_append_only()`): SELECT and INSERT only — never UPDATE, DELETE or TRUNCATE; except that on
 *   `events` the sequencer writes each event's chain link once (UPDATE of `chain_seq`, `prev_hash` and
 *   `hash` only, which the trigger allows only from empty: migration 0016);
 * - `chain_head`: SELECT and UPDATE (the sequencer moves the head under its lock);
 * - the migrator's own tables: SELECT (to see that the schema is up to date);
 * - every other table (read model, hierarchy, tokens, contacts, notifications…): SELECT, INSERT,
 *   UPDATE, DELETE;
 * - sequences: USAGE, SELECT (for `bigserial` keys).
 *
 * Never TRUNCATE, REFERENCES or TRIGGER, and no ownership: so the application's own credentials cannot
 * ALTER a table, disable or drop a trigger, create one, replace the trigger function, or (not being a
 * superuser) set `session_replication_role`. Derived from the catalog rather than listed, so the rule
 * "append-only means trigger-guarded" cannot drift from the grants. PostgreSQL's own default privileges
 * (`ALTER DEFAULT PRIVILEGES`) are not used: they would grant UPDATE and DELETE on a new append-only
 * table until someone remembered to revoke them.
 */
import { sql, type Kysely } from 'kysely';

/** The columns of an event the sequencer writes once (db/sequencer.ts). */
const LINK_COLUMNS = ['chain_seq', 'prev_hash', 'hash'];

/** Grant `appRole` exactly the privileges above on every table in `public`; run as the owner. Idempotent. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function grantAppPrivileges(owner: Kysely<any>, appRole: string): Promise<void> {
  const role = sql.id(appRole);
  const { rows } = await sql<{ name: string; appendOnly: boolean }>`
    select c.relname as name,
           exists (select 1 from pg_trigger t join pg_proc p on p.oid = t.tgfoid where t.tgrelid = c.oid and p.proname = 'events_append_only') as "appendOnly"
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p')
     order by c.relname`.execute(owner);
  await owner.transaction().execute(async (trx) => {
    await sql`grant usage on schema public to ${role}`.execute(trx);
    for (const t of rows) {
      const table = sql.table(t.name);
      await sql`revoke all on table ${table} from ${role}`.execute(trx);
      const grant = t.appendOnly ? sql`select, insert` : t.name === 'chain_head' ? sql`select, update` : t.name.startsWith('kysely_migration') ? sql`select` : sql`select, insert, update, delete`;
      await sql`grant ${grant} on table ${table} to ${role}`.execute(trx);
      if (t.name === 'events') await sql`grant update (${sql.join(LINK_COLUMNS.map((c) => sql.id(c)))}) on table ${table} to ${role}`.execute(trx);
    }
    await sql`grant usage, select on all sequences in schema public to ${role}`.execute(trx);
  });
}

/** The privileges `role` holds on each table of `public`, as `table: priv,priv` (for tests and diagnostics). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function tablePrivileges(db: Kysely<any>, role: string): Promise<Record<string, string[]>> {
  const { rows } = await sql<{ table_name: string; privilege_type: string }>`
    select table_name, privilege_type from information_schema.role_table_grants
     where grantee = ${role} and table_schema = 'public' order by table_name, privilege_type`.execute(db);
  const out: Record<string, string[]> = {};
  for (const r of rows) (out[r.table_name] ??= []).push(r.privilege_type);
  return out;
}
