/**
 * A local Temporal server the project starts by itself: `temporal server start-dev` from the CLI that
 * stack/temporal-binaries.ts finds or obtains, persisted to `<dataDir>/temporal.sqlite` so that timers and running
 * workflows survive a restart. `ensureTemporal` uses an existing server instead when TEMPORAL_ADDRESS is set.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { freePorts, isPortBindable } from './ports';
import { resolveTemporalCli, type ResolveBinaryOptions } from './temporal-binaries';
import { isAlive } from './process';

export type SearchAttributeTypeName = 'Keyword' | 'Text' | 'Int' | 'Datetime' | 'Bool' | 'Double' | 'KeywordList';

export interface DevServerOptions {
  /** Holds temporal.sqlite (when persistent), temporal.log and temporal.pid. Created if missing. */
  dataDir: string;
  /** Frontend gRPC port; default 7233; 0 = pick a free port. */
  port?: number;
  /** Web UI port; default port + 1000 (8233), or a free port when port is 0. */
  uiPort?: number;
  /** Namespace created at start-up (the "default" namespace always exists too). Default "default". */
  namespace?: string;
  searchAttributes?: Record<string, SearchAttributeTypeName>;
  log?: (line: string) => void;
  /** Keep state in `<dataDir>/temporal.sqlite` (default true). False = in-memory, for tests. */
  persistent?: boolean;
  /** Serve the Web UI (default true). */
  ui?: boolean;
  /** Path of the `temporal` CLI to use, or options for resolving it (section A). */
  cli?: string | ResolveBinaryOptions;
  /** How long to wait for the frontend to answer. Default 60 s. */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 10 s. */
  stopTimeoutMs?: number;
}

export interface DevServerHandle {
  address: string;
  uiUrl: string | undefined;
  namespace: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface TemporalHandle {
  address: string;
  uiUrl: string | undefined;
  namespace: string;
  /** Only for a server this process started. */
  pid?: number;
  /** True when TEMPORAL_ADDRESS pointed at an existing server (stop() then does nothing). */
  external: boolean;
  stop(): Promise<void>;
}

/** temporal.api.enums.v1.IndexedValueType */
const INDEXED_VALUE_TYPE: Record<SearchAttributeTypeName, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

const defaultLog = (line: string) => void process.stderr.write(`[trienkhai] ${line}\n`);

export async function startTemporalDevServer(opts: DevServerOptions): Promise<DevServerHandle> {
  const log = opts.log ?? defaultLog;
  const namespace = opts.namespace ?? 'default';
  const persistent = opts.persistent ?? true;
  const ui = opts.ui ?? true;
  const host = '127.0.0.1';
  const dataDir = path.resolve(opts.dataDir);
  await fsp.mkdir(dataDir, { recursive: true });
  const logFile = path.join(dataDir, 'temporal.log');
  const pidFile = path.join(dataDir, 'temporal.pid');

  for (const [name, type] of Object.entries(opts.searchAttributes ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid search attribute name ${JSON.stringify(name)}`);
    if (!(type in INDEXED_VALUE_TYPE)) throw new Error(`invalid search attribute type ${JSON.stringify(type)} for ${name}`);
  }

  await reclaimOrphan(pidFile, log, opts.stopTimeoutMs ?? 10_000);

  let port = opts.port ?? 7233;
  let uiPort = opts.uiPort ?? (port === 0 ? 0 : port + 1000);
  if (port === 0 || uiPort === 0) {
    const [a, b] = await freePorts(2, host);
    if (port === 0) port = a as number;
    if (uiPort === 0) uiPort = b as number;
  }
  for (const [what, p] of [['gRPC', port], ...(ui ? [['UI', uiPort] as const] : [])] as const) {
    if (!(await isPortBindable(p, host))) {
      throw new Error(
        `Cannot start the Temporal dev server: ${what} port ${p} on ${host} is already in use. ` +
          (what === 'gRPC' ? `If a Temporal server is already running there, set TEMPORAL_ADDRESS=${host}:${p} to use it; otherwise choose another port.` : 'Choose another UI port.'),
      );
    }
  }

  const cli = typeof opts.cli === 'string' ? opts.cli : (await resolveTemporalCli({ log, ...opts.cli })).path;
  const args = ['server', 'start-dev', '--ip', host, '--port', String(port), '--namespace', namespace, '--log-level', 'warn'];
  if (persistent) {
    args.push('--db-filename', path.join(dataDir, 'temporal.sqlite'));
    // Write-ahead log, synced at checkpoints rather than on every commit: survives a crash or restart of
    // the process (timers and all), and is about three times faster for thousands of units enrolling
    // or one deadline expiring for all of them at once. Only an OS crash can lose the last moments.
    args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  if (ui) args.push('--ui-port', String(uiPort));
  else args.push('--headless');
  for (const [name, type] of Object.entries(opts.searchAttributes ?? {})) args.push('--search-attribute', `${name}=${type}`);

  const logFd = fs.openSync(logFile, 'a');
  fs.writeSync(logFd, `\n=== ${new Date().toISOString()} ${cli} ${args.join(' ')}\n`);
  const logStart = fs.fstatSync(logFd).size;
  const started = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(cli, args, { stdio: ['ignore', logFd, logFd], cwd: dataDir });
  } finally {
    fs.closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    await new Promise((r) => child.once('error', r));
    throw new Error(`could not start ${cli} (see ${logFile})`);
  }
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  child.on('error', () => undefined);
  // If this Node process exits without calling stop(), do not leave the server behind holding the ports.
  const onExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.on('exit', onExit);
  await fsp.writeFile(pidFile, JSON.stringify({ pid, parentPid: process.pid, address: `${host}:${port}`, startedAt: new Date().toISOString() }));

  const address = `${host}:${port}`;
  const uiUrl = ui ? `http://${host}:${uiPort}` : undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return exitPromise;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, opts.stopTimeoutMs ?? 10_000);
      await exitPromise;
      clearTimeout(timer);
    }
    process.removeListener('exit', onExit);
    await removePidFile(pidFile, pid);
  };

  try {
    await waitForFrontend(address, namespace, opts.startTimeoutMs ?? 60_000, () => exited, logFile, logStart);
  } catch (err) {
    await stop();
    throw err;
  }
  log(`Temporal dev server on ${address} (namespace ${namespace}${uiUrl ? `, UI ${uiUrl}` : ''}${persistent ? `, data in ${dataDir}` : ', in memory'}) ready in ${Date.now() - started} ms`);
  return { address, uiUrl, namespace, pid, logFile, stop };
}

/**
 * Uses the server at TEMPORAL_ADDRESS (namespace TEMPORAL_NAMESPACE) when set, registering any missing search
 * attributes through the operator service; otherwise resolves the CLI and starts the local dev server.
 */
export async function ensureTemporal(opts: DevServerOptions): Promise<TemporalHandle> {
  const log = opts.log ?? defaultLog;
  const external = process.env.TEMPORAL_ADDRESS;
  if (external) {
    const namespace = process.env.TEMPORAL_NAMESPACE || opts.namespace || 'default';
    await registerSearchAttributes(external, namespace, opts.searchAttributes ?? {}, log);
    log(`using the Temporal server at ${external} (TEMPORAL_ADDRESS), namespace ${namespace}`);
    return { address: external, uiUrl: undefined, namespace, external: true, stop: async () => undefined };
  }
  const h = await startTemporalDevServer({ ...opts, namespace: process.env.TEMPORAL_NAMESPACE || opts.namespace });
  return { address: h.address, uiUrl: h.uiUrl, namespace: h.namespace, pid: h.pid, external: false, stop: h.stop };
}

/** Adds the search attributes missing on `namespace`; an attribute that exists with another type is an error. */
export async function registerSearchAttributes(address: string, namespace: string, wanted: Record<string, SearchAttributeTypeName>, log: (line: string) => void = defaultLog): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 10_000 });
  try {
    if (Object.keys(wanted).length === 0) {
      // Still prove that the server answers, so a wrong TEMPORAL_ADDRESS fails here and not later.
      await connection.workflowService.getSystemInfo({});
      return;
    }
    let existing: Record<string, number> = {};
    try {
      const res = await connection.operatorService.listSearchAttributes({ namespace });
      existing = { ...(res.customAttributes ?? {}), ...(res.systemAttributes ?? {}) } as Record<string, number>;
    } catch (err) {
      log(`could not list search attributes on ${address} (${errText(err)}); trying to add them anyway`);
    }
    const missing: Record<string, number> = {};
    for (const [name, type] of Object.entries(wanted)) {
      const want = INDEXED_VALUE_TYPE[type];
      const have = existing[name];
      if (have === undefined) missing[name] = want;
      else if (have !== want) {
        const haveName = Object.entries(INDEXED_VALUE_TYPE).find(([, v]) => v === have)?.[0] ?? String(have);
        throw new Error(`search attribute ${name} exists on ${address} (namespace ${namespace}) as ${haveName}, but trienkhai needs ${type}`);
      }
    }
    if (Object.keys(missing).length === 0) return;
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
      log(`registered search attributes ${Object.keys(missing).join(', ')} on ${address} (namespace ${namespace})`);
    } catch (err) {
      if (isGrpcServiceError(err) && err.code === 6 /* ALREADY_EXISTS */) return;
      if (/already exists/i.test(errText(err))) return;
      // E.g. Temporal Cloud, where search attributes are managed outside the operator service.
      log(`warning: could not register search attributes ${Object.keys(missing).join(', ')} on ${address}: ${errText(err)}`);
    }
  } finally {
    await connection.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------------

async function waitForFrontend(
  address: string,
  namespace: string,
  timeoutMs: number,
  exited: () => { code: number | null; signal: NodeJS.Signals | null } | undefined,
  logFile: string,
  logStart: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = 'no answer yet';
  while (Date.now() < deadline) {
    const e = exited();
    if (e) {
      throw new Error(`The Temporal dev server exited during start-up (${e.signal ?? `code ${e.code}`}). Its output (${logFile}):\n${await logTail(logFile, logStart)}`);
    }
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (err) {
      lastErr = errText(err);
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `The Temporal dev server did not answer on ${address} within ${Math.round(timeoutMs / 1000)} s (last error: ${lastErr}). ` + `Its output (${logFile}):\n${await logTail(logFile, logStart)}`,
  );
}

async function logTail(file: string, from: number, lines = 40): Promise<string> {
  try {
    const text = (await fsp.readFile(file)).subarray(from).toString('utf8');
    return text.split('\n').slice(-lines).join('\n').trim() || '(no output)';
  } catch {
    return '(no log)';
  }
}

/**
 * A previous run that died without stop() (e.g. SIGKILL) can leave its dev server running on this data dir. If the
 * process recorded in temporal.pid is still a `temporal server start-dev` and the Node process that started it is
 * gone, stop it; if its parent is alive, the data dir is in use and we refuse to start a second server on it.
 */
async function reclaimOrphan(pidFile: string, log: (line: string) => void, stopTimeoutMs: number): Promise<void> {
  let rec: { pid?: number; parentPid?: number; address?: string };
  try {
    rec = JSON.parse(await fsp.readFile(pidFile, 'utf8')) as typeof rec;
  } catch {
    return;
  }
  const { pid, parentPid } = rec;
  if (typeof pid !== 'number' || !isAlive(pid) || !(await commandOf(pid)).includes('start-dev')) {
    await fsp.rm(pidFile, { force: true });
    return;
  }
  if (typeof parentPid === 'number' && isAlive(parentPid)) {
    throw new Error(
      `${path.dirname(pidFile)} is in use by a Temporal dev server (pid ${pid}, ${rec.address ?? '?'}) started by ${parentPid === process.pid ? 'this process' : `the live process ${parentPid}`}. ` +
        `Set TEMPORAL_ADDRESS=${rec.address ?? '<address>'} to use it, or stop that process first.`,
    );
  }
  log(`stopping a Temporal dev server left running by an earlier run (pid ${pid}, ${rec.address ?? '?'})`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + stopTimeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  await fsp.rm(pidFile, { force: true });
}

async function removePidFile(pidFile: string, pid: number): Promise<void> {
  try {
    const rec = JSON.parse(await fsp.readFile(pidFile, 'utf8')) as { pid?: number };
    if (rec.pid === pid) await fsp.rm(pidFile, { force: true });
  } catch {
    /* gone already */
  }
}

function commandOf(pid: number): Promise<string> {
  return new Promise((resolve) => execFile('ps', ['-o', 'command=', '-p', String(pid)], (err, stdout) => resolve(err ? '' : stdout)));
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
