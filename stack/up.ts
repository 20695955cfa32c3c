/**
 * `trienkhai up`: bring the local stack up in the foreground — embedded PostgreSQL (or DATABASE_URL),
 * a persistent Temporal dev server (or TEMPORAL_ADDRESS), and a worker — and say where everything is.
 * `trienkhai worker`: one more worker against an existing stack.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database';
import { startApiServer, type ApiServer } from '../api/server';
import { dashboardFiles } from '../web/serve';
import { localDashboardToken } from '../web/local-token';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { connect } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { startCheckpointing } from '../db/checkpoints';
import { startSequencer } from '../db/sequencer';
import { ensurePostgres } from './postgres';
import { ensureTemporal } from './temporal-server';
import { createWorker } from '../worker/worker';
import { SEARCH_ATTRIBUTES, TASK_QUEUE } from '../workflows/definitions';
import { auditKeyFile, checkpointIntervalMs, dataDir, endpoints, httpListen, notifyConfig, readStackInfo, stackFile, webhookSecret, writeStackInfo } from './config';
import { Dispatcher } from '../notify/dispatcher';
import { StackNotRunningError } from './errors';
import { isAlive, redactUrl } from './process';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** `trienkhai up [--demo]` (its arguments are declared once, in client/commands/stack.ts). */
export async function runUp(opts: { demo: boolean }, io: Io): Promise<number> {
  const values = opts;
  const dir = dataDir();
  const running = readStackInfo(dir);
  if (running && isAlive(running.pid) && running.pid !== process.pid) {
    io.err(`error: the stack is already running here (pid ${running.pid}, ${stackFile(dir)}); stop it with Ctrl-C in its terminal first.`);
    return 1;
  }
  const log = (line: string): void => io.err(`[trienkhai] ${line}`);
  quietWorkerLogs();
  log(`data directory: ${dir}`);

  log('starting PostgreSQL…');
  const pg = await ensurePostgres({ dataDir: join(dir, 'postgres'), log });
  const db = connect(pg.url);
  const applied = await migrateToLatest(db, { ownerUrl: pg.ownerUrl }); // as the owner role; the app role gets its grants
  log(applied.length ? `database schema migrated (${applied.join(', ')})` : 'database schema up to date');

  log('starting Temporal…');
  const temporal = await ensureTemporal({ dataDir: join(dir, 'temporal'), searchAttributes: { ...SEARCH_ATTRIBUTES }, log });
  const api = await startHttp({ db, address: temporal.address, namespace: temporal.namespace, log }).catch(async (e: unknown) => {
    // Nothing may be left running when `up` cannot finish starting (e.g. the HTTP port is taken).
    await db.destroy().catch(() => undefined);
    await temporal.stop().catch(() => undefined);
    await pg.stop().catch(() => undefined);
    throw e;
  });
  const connection = await NativeConnection.connect({ address: temporal.address });
  log('bundling workflows and starting the worker…');
  const worker = await createWorker({ connection, db, namespace: temporal.namespace });
  const every = checkpointIntervalMs();
  const stopCheckpoints = every ? startCheckpointing(db, auditKeyFile(), every, log) : () => undefined;
  // Links what a process that died after its append left unlinked (db/sequencer.ts).
  const stopSequencer = startSequencer(db);
  const notifier = startNotifications(db, log, { createSecret: true });

  writeStackInfo(
    { databaseUrl: pg.url, temporalAddress: temporal.address, namespace: temporal.namespace, uiUrl: temporal.uiUrl ?? null, apiUrl: api.url, pid: process.pid, startedAt: new Date().toISOString() },
    dir,
  );

  io.out('');
  io.out('trienkhai is up:');
  io.out(`  PostgreSQL   ${redactUrl(pg.url)}${pg.embedded ? `  (embedded; data in ${join(dir, 'postgres')})` : '  (DATABASE_URL)'}`);
  io.out(`  Temporal     ${temporal.address}  namespace ${temporal.namespace}${temporal.external ? '  (TEMPORAL_ADDRESS)' : `  (dev server; data in ${join(dir, 'temporal')})`}`);
  io.out(`  Web UI       ${temporal.uiUrl ?? '(not served by this stack)'}`);
  io.out(`  Worker       task queue "${TASK_QUEUE}"`);
  io.out(`  HTTP API     ${api.url}/api/v1  (OpenAPI: ${api.url}/api/v1/openapi.json; tokens: npx trienkhai token issue --role ops --label NAME)`);
  io.out(`  Dashboard    ${api.url}/#token=${(await localDashboardToken(db, dir)).token}  (a local ops token, kept in ${join(dir, 'dashboard-token')})`);
  io.out(`  Other terminals find this stack through ${stackFile(dir)}. Ctrl-C stops everything.`);
  io.out('');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the worker…`);
    worker.shutdown();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const clientConnection = values.demo ? await Connection.connect({ address: temporal.address }) : undefined;
  const demo = clientConnection ? (await import('./demo')).runDemo({ db, connection: clientConnection, namespace: temporal.namespace, io, isStopping: () => stopping }) : Promise.resolve();
  demo.catch((e: unknown) => log(`demo stopped: ${e instanceof Error ? e.message : String(e)}`));
  try {
    await worker.run();
  } finally {
    stopCheckpoints();
    stopSequencer();
    await notifier?.stop().catch(() => undefined);
    await api.close().catch(() => undefined);
    await demo.catch(() => undefined);
    await clientConnection?.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    log('stopping Temporal…');
    await temporal.stop().catch(() => undefined);
    log('stopping PostgreSQL…');
    await pg.stop().catch(() => undefined);
    rmSync(stackFile(dir), { force: true });
    log('stopped.');
  }
  return 0;
}

/** `trienkhai worker`: one more worker against TEMPORAL_ADDRESS and DATABASE_URL (or the local stack). */
export async function runWorker(io: Io): Promise<number> {
  const ep = endpoints();
  quietWorkerLogs();
  const db = connect(ep.databaseUrl());
  await migrateToLatest(db);
  const address = ep.temporalAddress();
  const connection = await NativeConnection.connect({ address });
  const worker = await createWorker({ connection, db, namespace: ep.namespace });
  const every = checkpointIntervalMs();
  const stopCheckpoints = every ? startCheckpointing(db, auditKeyFile(), every, (l) => io.err(`[trienkhai] ${l}`)) : () => undefined;
  const stopSequencer = startSequencer(db);
  const notifier = startNotifications(db, (l) => io.err(`[trienkhai] ${l}`), { createSecret: false });
  process.on('SIGINT', () => worker.shutdown());
  process.on('SIGTERM', () => worker.shutdown());
  io.err(`[trienkhai] worker running on task queue "${TASK_QUEUE}" (${address}); Ctrl-C stops it.`);
  try {
    await worker.run();
  } finally {
    stopCheckpoints();
    stopSequencer();
    await notifier?.stop().catch(() => undefined);
    await connection.close();
    await db.destroy();
  }
  return 0;
}

/**
 * The notification dispatcher (notify/dispatcher.ts), unless TRIENKHAI_NOTIFY=0. `up` generates the
 * webhook secret when none is set; `worker` only uses one that exists (so every process signs alike).
 */
function startNotifications(db: Kysely<Database>, log: (line: string) => void, opts: { createSecret: boolean }): Dispatcher | undefined {
  const secret = webhookSecret(process.env, { create: opts.createSecret });
  const config = notifyConfig(process.env, secret.secret);
  if (!config.enabled) {
    log('notifications: not dispatched by this process (TRIENKHAI_NOTIFY=0)');
    return undefined;
  }
  const channels = [
    secret.secret ? `webhooks signed with the secret ${secret.created ? 'generated into' : 'from'} ${secret.source}` : `webhooks not sent (no TRIENKHAI_WEBHOOK_SECRET, no ${secret.source})`,
    config.email ? `email via ${redactUrl(config.email.url)} from ${config.email.from}` : 'email not sent (no TRIENKHAI_SMTP_URL)',
  ];
  log(`notifications: dispatching (${channels.join('; ')}); up to ${config.maxAttempts} attempts each`);
  return new Dispatcher(db, config, log).start();
}

/** The HTTP API (and dashboard), with a Temporal client connected on first use. */
async function startHttp(opts: { db: Kysely<Database>; address: string; namespace: string; log: (line: string) => void }): Promise<{ url: string; close(): Promise<void> }> {
  const { port, host } = httpListen();
  let connection: Promise<Connection> | undefined;
  const client = async (): Promise<Client> => {
    connection ??= Connection.connect({ address: opts.address });
    return new Client({ connection: await connection, namespace: opts.namespace });
  };
  const requestLog = process.env.TRIENKHAI_HTTP_LOG === '1' ? opts.log : (line: string) => (line.startsWith('error') ? opts.log(line) : undefined);
  let server: ApiServer;
  try {
    server = await startApiServer({ db: opts.db, client, port, host, log: requestLog, staticFiles: dashboardFiles() });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StackNotRunningError(
      code === 'EADDRINUSE' ? `port ${port} is in use: set TRIENKHAI_HTTP_PORT to a free port` : `cannot serve HTTP on ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  return {
    url: server.url,
    async close() {
      await server.close();
      await (await connection)?.close();
    },
  };
}

/**
 * `trienkhai serve`: the HTTP API and dashboard alone, against DATABASE_URL and TEMPORAL_ADDRESS (or
 * the local stack); run as many as the load needs, behind a proxy that terminates TLS.
 */
/** `trienkhai serve`: the HTTP API and dashboard alone. */
export async function runServe(io: Io): Promise<number> {
  const ep = endpoints();
  const db = connect(ep.databaseUrl());
  await migrateToLatest(db);
  const api = await startHttp({ db, address: ep.temporalAddress(), namespace: ep.namespace, log: (l) => io.err(`[trienkhai] ${l}`) });
  const stopSequencer = startSequencer(db);
  io.err(`[trienkhai] HTTP API on ${api.url}/api/v1 (dashboard: ${api.url}/); Ctrl-C stops it.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  stopSequencer();
  await api.close();
  await db.destroy();
  return 0;
}

/** The SDK logs every worker state change and the bundler's output at INFO; people want warnings only. */
function quietWorkerLogs(): void {
  Runtime.install({ logger: new DefaultLogger((process.env.TRIENKHAI_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN') });
}
