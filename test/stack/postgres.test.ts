import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, ensurePostgres, type PostgresHandle } from '../../stack/postgres';
import { collectLog, rmrf, tempDir } from './helpers';

jest.setTimeout(180_000);

const dirs: string[] = [];
const handles: PostgresHandle[] = [];
const savedUrl = process.env.DATABASE_URL;
beforeAll(() => {
  delete process.env.DATABASE_URL;
});
afterAll(async () => {
  await Promise.all(handles.map((h) => h.stop()));
  rmrf(...dirs);
  if (savedUrl !== undefined) process.env.DATABASE_URL = savedUrl;
});
function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

async function query<T = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

// One embedded server shared by the tests below the first one.
let shared: PostgresHandle;

test('embedded: first start initialises, data survives a restart, a stale postmaster.pid is handled', async () => {
  // mkdtemp makes a 0700 directory: as root, the `postgres` OS user must still get through it.
  const dataDir = path.join(dir('pg'), 'cluster');
  const { log, lines } = collectLog();
  let t0 = Date.now();
  let pg = await ensurePostgres({ dataDir, port: 0, log });
  process.stderr.write(`embedded PostgreSQL first start (initdb + start + create db): ${Date.now() - t0} ms\n`);
  handles.push(pg);
  expect(pg.embedded).toBe(true);
  // The product connects as the application role; migrations run as the owner; the superuser is only for setup.
  expect(pg.url).toMatch(/^postgres:\/\/trienkhai_app:[^@]+@127\.0\.0\.1:\d+\/trienkhai$/);
  expect(pg.ownerUrl).toMatch(/^postgres:\/\/trienkhai_owner:[^@]+@127\.0\.0\.1:\d+\/trienkhai$/);
  expect(pg.adminUrl).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/trienkhai$/);
  expect(pg.separated).toBe(true);
  expect(fs.existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
  expect(lines.join('\n')).toMatch(/initialising a PostgreSQL cluster/);
  if (process.getuid?.() === 0) expect(fs.statSync(dataDir).uid).not.toBe(0);

  expect(await query(pg.url, 'select current_user as u')).toEqual([{ u: 'trienkhai_app' }]);
  expect(await query(pg.adminUrl, 'select datdba::regrole::text as o from pg_database where datname = current_database()')).toEqual([{ o: 'trienkhai_owner' }]);
  await expect(query(pg.url, 'create table nope (v text)')).rejects.toThrow(/permission denied for schema public/);
  await query(pg.ownerUrl, "create table survivor (v text); insert into survivor values ('still here')");
  // As a data directory from before the roles existed has it: a table (and its sequence) owned by the superuser.
  await query(pg.adminUrl, 'create table legacy (id bigserial primary key)');
  await pg.stop();
  await expect(query(pg.url, 'select 1')).rejects.toThrow();
  expect(fs.existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);

  // A crash would leave postmaster.pid behind, naming a pid that is gone (or reused by something else).
  fs.writeFileSync(path.join(dataDir, 'postmaster.pid'), `999999\n${dataDir}\n0\n1\n\n127.0.0.1\n0 0\nready\n`);
  lines.length = 0;
  t0 = Date.now();
  pg = await ensurePostgres({ dataDir, port: 0, log });
  process.stderr.write(`embedded PostgreSQL restart: ${Date.now() - t0} ms\n`);
  handles.push(pg);
  expect(lines.join('\n')).toMatch(/removing a stale .*postmaster\.pid/);
  expect(lines.join('\n')).not.toMatch(/initialising/);
  expect(await query(pg.ownerUrl, 'select v from survivor')).toEqual([{ v: 'still here' }]);
  // On start, everything in the schema is handed to the owner role.
  expect(await query(pg.adminUrl, "select relname, relowner::regrole::text as owner from pg_class where relname in ('legacy', 'legacy_id_seq') order by relname")).toEqual([
    { relname: 'legacy', owner: 'trienkhai_owner' },
    { relname: 'legacy_id_seq', owner: 'trienkhai_owner' },
  ]);
  shared = pg;
});

test('a second ensurePostgres on a running data dir reuses that server', async () => {
  const url = new URL(shared.url);
  const { log, lines } = collectLog();
  // Find the data dir from the server itself.
  const [row] = await query<{ data_directory: string }>(shared.adminUrl, 'show data_directory');
  const again = await ensurePostgres({ dataDir: row?.data_directory as string, port: 0, database: 'other_db', log });
  expect(lines.join('\n')).toMatch(/reusing the PostgreSQL already running/);
  expect(new URL(again.url).port).toBe(url.port);
  expect(await query(again.url, 'select current_database() as db')).toEqual([{ db: 'other_db' }]);
  await again.stop(); // leaves the server running: it is not ours
  expect(await query(shared.url, 'select 1 as one')).toEqual([{ one: 1 }]);
});

test('createTestDatabase gives isolated databases and drops them', async () => {
  const a = await createTestDatabase(shared.adminUrl);
  const b = await createTestDatabase(shared.adminUrl);
  expect(a.name).not.toBe(b.name);
  await query(a.url, 'create table only_in_a (x int)');
  expect(await query(a.url, "select count(*)::int as n from information_schema.tables where table_name = 'only_in_a'")).toEqual([{ n: 1 }]);
  expect(await query(b.url, "select count(*)::int as n from information_schema.tables where table_name = 'only_in_a'")).toEqual([{ n: 0 }]);
  // Open connections do not block drop().
  const open = new Client({ connectionString: a.url });
  open.on('error', () => undefined);
  await open.connect();
  await a.drop();
  await b.drop();
  await open.end().catch(() => undefined);
  const names = (await query<{ datname: string }>(shared.adminUrl, 'select datname from pg_database')).map((r) => r.datname);
  expect(names).not.toContain(a.name);
  expect(names).not.toContain(b.name);
  await expect(createTestDatabase(shared.adminUrl, 'Robert"); drop table x; --')).rejects.toThrow(/invalid database name/);
});

test('DATABASE_URL is used when set, and a bad one is a clear error', async () => {
  try {
    // One URL for everything: migrations and the application share a role (and the log says what that costs).
    process.env.DATABASE_URL = shared.adminUrl;
    const { log, lines } = collectLog();
    const ext = await ensurePostgres({ dataDir: dir('unused'), log });
    expect(ext).toMatchObject({ url: shared.adminUrl, ownerUrl: shared.adminUrl, separated: false, embedded: false });
    expect(lines.join('\n')).toMatch(/migrations run as the same role: the append-only rule holds only as long as that role does not switch its trigger off/);
    await ext.stop();
    expect(await query(shared.adminUrl, 'select 1 as one')).toEqual([{ one: 1 }]);

    // The application's role in DATABASE_URL, the owner's in DATABASE_OWNER_URL.
    process.env.DATABASE_URL = shared.url;
    process.env.DATABASE_OWNER_URL = shared.ownerUrl;
    const separated = await ensurePostgres({ dataDir: dir('unused'), log: () => undefined });
    expect(separated).toMatchObject({ url: shared.url, ownerUrl: shared.ownerUrl, separated: true, embedded: false });
    delete process.env.DATABASE_OWNER_URL;

    const bad = new URL(shared.adminUrl);
    bad.password = 'wrong';
    process.env.DATABASE_URL = bad.toString();
    await expect(ensurePostgres({ dataDir: dir('unused'), log: () => undefined })).rejects.toThrow(
      /DATABASE_URL is set, but connecting to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/trienkhai failed: .*password authentication failed/,
    );
  } finally {
    delete process.env.DATABASE_URL;
    delete process.env.DATABASE_OWNER_URL;
  }
});

test('a busy port is a clear error', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    await expect(ensurePostgres({ dataDir: path.join(dir('pg'), 'c'), port, log: () => undefined })).rejects.toThrow(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*DATABASE_URL`));
  } finally {
    blocker.close();
  }
});

test('a non-empty directory that is not a cluster is refused', async () => {
  const d = dir('pg');
  fs.writeFileSync(path.join(d, 'precious.txt'), 'do not initdb over me');
  await expect(ensurePostgres({ dataDir: d, port: 0, log: () => undefined })).rejects.toThrow(/neither empty nor a PostgreSQL data directory/);
});
