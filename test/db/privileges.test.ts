/**
 * The application's own database role cannot lift the append-only rule. Every statement below is what
 * the tamper trials do as a superuser; here the application's connection (what the product uses) tries
 * it and is refused, and the log is unchanged afterwards. Everything the product needs still works
 * under that role (the other suites in test/db, test/notify and test/api run on it too).
 */
import { sql } from 'kysely';
import { appendEvents } from '../../db/event-store';
import { verifyChain } from '../../db/audit';
import { tablePrivileges } from '../../db/privileges';
import { APP_ROLE, OWNER_ROLE } from '../../stack/postgres';
import { reminderEvent } from '../helpers/events';
import { freshDatabase, type TestDb } from '../helpers/db';

let t: TestDb;

const ev = reminderEvent;

beforeAll(async () => {
  t = await freshDatabase();
  for (let n = 1; n <= 5; n++) await appendEvents(t.db, [ev(n)]);
});
afterAll(async () => {
  await t?.close();
});

test('the application connects as its own role, which is neither superuser nor owner', async () => {
  const { rows } = await sql<{ who: string; su: boolean; owner: string; createrole: boolean; bypassrls: boolean }>`
    select current_user as who, r.rolsuper as su, r.rolcreaterole as createrole, r.rolbypassrls as bypassrls, pg_get_userbyid(c.relowner) as owner
      from pg_roles r, pg_class c where r.rolname = current_user and c.oid = 'events'::regclass`.execute(t.db);
  expect(rows[0]).toEqual({ who: APP_ROLE, su: false, createrole: false, bypassrls: false, owner: OWNER_ROLE });
  const member = await sql<{ m: boolean }>`select pg_has_role(${APP_ROLE}, ${OWNER_ROLE}, 'member') as m`.execute(t.db);
  expect(member.rows[0]!.m).toBe(false);
});

test('its privileges on the audit record are exactly SELECT and INSERT', async () => {
  const privs = await tablePrivileges(t.admin, APP_ROLE);
  expect(privs.events).toEqual(['INSERT', 'SELECT']);
  expect(privs.checkpoints).toEqual(['INSERT', 'SELECT']);
  expect(privs.chain_head).toEqual(['SELECT', 'UPDATE']);
  expect(privs.kysely_migration).toEqual(['SELECT']);
  // Every table is granted something (a table added by a later migration is covered), and none TRUNCATE, TRIGGER or REFERENCES.
  const { rows } = await sql<{ t: string }>`select tablename as t from pg_tables where schemaname = 'public'`.execute(t.admin);
  expect(Object.keys(privs).sort()).toEqual(rows.map((r) => r.t).sort());
  for (const p of Object.values(privs)) expect(p.filter((x) => ['TRUNCATE', 'TRIGGER', 'REFERENCES'].includes(x))).toEqual([]);
});

const refusals: Array<[string, string, RegExp]> = [
  ['set session_replication_role', 'set session_replication_role = replica', /permission denied to set parameter/],
  ['set it for the transaction only', 'set local session_replication_role = replica', /permission denied to set parameter/],
  ['disable the trigger', 'alter table events disable trigger events_no_update', /must be owner/],
  ['disable every trigger', 'alter table events disable trigger all', /must be owner/],
  ['drop the trigger', 'drop trigger events_no_update on events', /must be owner/],
  ['replace the trigger function', 'create or replace function events_append_only() returns trigger language plpgsql as $$ begin return new; end $$', /must be owner|permission denied/],
  ['create a function in the schema', 'create function public.let_through() returns trigger language plpgsql as $$ begin return new; end $$', /permission denied for schema public/],
  ['create a trigger on events', 'create trigger sneak before insert on events for each row execute function events_append_only()', /permission denied for table events/],
  ['create a rule on events', 'create rule sneak as on delete to events do instead nothing', /must be owner/],
  ['truncate', 'truncate events', /permission denied for table events/],
  ['update', "update events set actor = 'user:mallory' where chain_seq = 3", /permission denied for table events/],
  ['delete', 'delete from events where chain_seq = 3', /permission denied for table events/],
  ['alter table', 'alter table events add column note text', /must be owner/],
  ['drop the check on hash versions', 'alter table events drop constraint events_hash_version_known', /must be owner/],
  ['take ownership', `alter table events owner to ${APP_ROLE}`, /must be owner/],
  ['drop table', 'drop table events', /must be owner/],
  ['become the owner', `set role ${OWNER_ROLE}`, /permission denied to set role/],
  ['become a superuser', `alter role ${APP_ROLE} superuser`, /permission denied|must be superuser/],
  ['update a checkpoint', "update checkpoints set body = '{}'", /permission denied for table checkpoints/],
  ['delete a checkpoint', 'delete from checkpoints', /permission denied for table checkpoints/],
  ['truncate checkpoints', 'truncate checkpoints', /permission denied for table checkpoints/],
  ['mark a migration as not applied', 'delete from kysely_migration', /permission denied for table kysely_migration/],
];

test.each(refusals)('the application role may not %s', async (_what, statement, error) => {
  await expect(sql.raw(statement).execute(t.db)).rejects.toThrow(error);
});

test('granting itself UPDATE gives it nothing, and after every refusal the log is as it was', async () => {
  // GRANT by a role without the grant option only warns; the privilege is still not there.
  await sql
    .raw(`grant update, delete, truncate on events to ${APP_ROLE}`)
    .execute(t.db)
    .catch(() => undefined);
  await expect(sql.raw("update events set actor = 'x'").execute(t.db)).rejects.toThrow(/permission denied/);
  const triggers = await sql<{ tgname: string; tgenabled: string }>`select tgname, tgenabled from pg_trigger where tgrelid = 'events'::regclass and not tgisinternal order by tgname`.execute(t.db);
  expect(triggers.rows).toEqual([
    { tgname: 'events_no_delete', tgenabled: 'O' },
    { tgname: 'events_no_truncate', tgenabled: 'O' },
    { tgname: 'events_no_update', tgenabled: 'O' },
  ]);
  expect(await verifyChain(t.db)).toMatchObject({ ok: true, events: 5, problems: [] });
});

test('what the product does still works under it: appends (with their projection and outbox), checkpoints, verification', async () => {
  expect(await appendEvents(t.db, [ev(6)])).toEqual({ appended: 1, duplicates: 0 });
  expect((await verifyChain(t.db)).head.seq).toBe(6);
});
