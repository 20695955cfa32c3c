/**
 * Outgrowing one machine, as a deployment runs it: a Temporal server and a PostgreSQL the project does
 * not start (TEMPORAL_ADDRESS, DATABASE_URL), two `trienkhai worker` processes sharing the work, and
 * `trienkhai serve` for the HTTP API — each its own process, as each would be its own machine. The
 * rollout is started through the API; both workers run its unit workflows and append to the one audit
 * record at the same time (no lock between them: db/sequencer.ts), and it verifies as one chain.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { verifyChain } from '../../db/audit';
import { BAC_GIANG_2022_PLAN } from '../../domain/default-plans';
import { freePort } from '../../stack/ports';
import type { DevServerHandle } from '../../stack/temporal-server';
import { unitWorkflowId } from '../../workflows/definitions';
import { freshDatabase, type TestDb } from '../helpers/db';
import { testDevServer } from '../helpers/temporal';
import { until } from '../helpers/wait';

const BIN = join(__dirname, '..', '..', 'bin', 'trienkhai.js');
let t: TestDb;
let server: DevServerHandle;
let dir: string;
const children: ChildProcess[] = [];
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trienkhai-cluster-'));
  t = await freshDatabase();
  server = await testDevServer(join(dir, 'temporal'));
  env = { ...process.env, DATABASE_URL: t.url, TEMPORAL_ADDRESS: server.address, TRIENKHAI_DATA_DIR: dir, TRIENKHAI_LANG: 'en' };
}, 180_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  await server?.stop();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** A long-running command; resolves once its stderr says `ready`. */
function daemon(args: string[], ready: RegExp, extra: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return until(
    `trienkhai ${args.join(' ')} to start`,
    async () => (ready.test(out) ? { child, output: () => out } : child.exitCode !== null ? Promise.reject(new Error(out)) : undefined),
    240_000,
    200,
  );
}

test('two workers and the API, against a Temporal and a PostgreSQL they did not start, share one rollout and one audit record', async () => {
  const rows = ['code,name,level,parent,members,standing_committee', 'P,Đảng bộ tỉnh Thử Nghiệm,tinh,,300,true'];
  for (let h = 1; h <= 2; h++) {
    rows.push(`P.H${h},Đảng bộ huyện ${h},huyen,P,120,true`);
    for (let x = 1; x <= 2; x++) {
      rows.push(`P.H${h}.X${x},Đảng bộ xã ${x},coso,P.H${h},50,true`);
      for (let c = 1; c <= 6; c++) rows.push(`P.H${h}.X${x}.C${c},Chi bộ ${c},chibo,P.H${h}.X${x},7,false`);
    }
  }
  writeFileSync(join(dir, 'units.csv'), rows.join('\n'));
  expect((await cli('units', 'import', join(dir, 'units.csv'))).code).toBe(0);
  const issued = await cli('token', 'issue', '--role', 'ops', '--label', 'cluster test');
  expect(issued.code).toBe(0);
  const token = issued.stdout.split('\n')[1]!.trim(); // shown once, on the line after the header

  const workers = await Promise.all([daemon(['worker'], /worker running on task queue/), daemon(['worker'], /worker running on task queue/)]);
  const port = await freePort();
  await daemon(['serve'], /HTTP API on/, { TRIENKHAI_HTTP_PORT: String(port) });
  const api = `http://127.0.0.1:${port}/api/v1`;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  const started = await call('POST', '/rollouts', { resolution: '21-NQ/TW', resolutionDate: '2022-06-16', title: 'Nghị quyết 21', rootUnit: 'P', plan: BAC_GIANG_2022_PLAN, rolloutId: 'R' });
  expect([started.status, started.status === 201 ? '' : JSON.stringify(started.body)]).toEqual([201, '']);
  const units = rows.length - 1;
  await until('every unit enrolled', async () => ((await call('GET', '/rollouts/R')).body.counts as { units: number } | undefined)?.units === units || undefined, 240_000, 500);

  // Both workers ran unit workflows: the identities that completed their workflow tasks.
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const identities = new Set<string>();
  for (const code of rows.slice(1).map((r) => r.split(',')[0]!)) {
    const history = await client.workflow.getHandle(unitWorkflowId('R', code)).fetchHistory();
    for (const e of history.events ?? []) {
      const id = e.workflowTaskCompletedEventAttributes?.identity;
      if (id) identities.add(id);
    }
  }
  await client.connection.close();
  expect(identities.size).toBe(2);
  expect(workers.every((w) => w.child.exitCode === null)).toBe(true);

  // One audit record, linked as one chain, whoever appended.
  const verified = await verifyChain(t.db);
  expect(verified.problems).toEqual([]);
  expect(verified.ok).toBe(true);
  expect(verified.events).toBeGreaterThan(units);
}, 600_000);
