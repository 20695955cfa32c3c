/**
 * A batch survives its worker being killed (issue 10: "it runs as a workflow, so it survives
 * restarts"): a real Temporal dev server, real PostgreSQL, and a worker in a child process that is
 * SIGKILLed twice while a batch suspends 60 units' clocks. Every unit ends with exactly one
 * ClockSuspended carrying the batch ID (a unit applied twice by a retried slice answers as the first
 * time), every item has its result, BatchCompleted is recorded once, and the chain verifies.
 *
 * Timing: the kills happen when so many items are settled, not after a sleep; every wait polls.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { previewBatch, startBatch, type BatchRequester } from '../../app/batches';
import { importUnits, startRollout } from '../../app/commands';
import { verifyChain } from '../../db/audit';
import type { DevServerHandle } from '../../stack/temporal-server';
import { freshDatabase, type TestDb } from '../helpers/db';
import { testDevServer, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';
import { WorkerProcesses } from '../helpers/worker-process';

jest.setTimeout(600_000);

const R = 'batch-kill';
const COMMUNES = 60;
const CSV = [
  'code,name,level,parent,members,standing_committee',
  'P,Đảng bộ tỉnh,tinh,,100,true',
  ...Array.from({ length: COMMUNES }, (_, i) => `P.X${String(i + 1).padStart(2, '0')},Đảng bộ xã ${i + 1},xa,P,3,true`),
].join('\n');
const PLAN = {
  id: 'batch-kill',
  title: 'Thao tác hàng loạt khi worker bị dừng',
  steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'P30D' }, reminders: [], escalation: { tiers: 1, interval: 'P7D' } }],
};
const OPS: BatchRequester = { role: 'ops' };

let dir: string;
let t: TestDb;
let server: DevServerHandle;
let connection: Connection;
let client: Client;
let workers: WorkerProcesses;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trienkhai-batch-kill-'));
  t = await freshDatabase();
  server = await testDevServer(join(dir, 'temporal'));
  const bundleFile = join(dir, 'workflow-bundle.js');
  writeFileSync(bundleFile, (await workflowBundle()).code);
  workers = new WorkerProcesses({ TEMPORAL_ADDRESS: server.address, DATABASE_URL: t.url, TRIENKHAI_WORKFLOW_BUNDLE: bundleFile }, { restartOnExit: true });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
}, 300_000);

afterAll(async () => {
  await workers?.stopAll();
  await connection?.close();
  await server?.stop();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a batch goes on through two worker kills: every unit changed once, every item answered, BatchCompleted once', async () => {
  const db = t.db;
  await workers.start();
  await importUnits(db, 'batch-kill.csv', CSV, 'user:test');
  await startRollout({ db, client }, { resolution: '21-NQ/TW', resolutionDate: '2022-06-16', title: 'NQ 21', rootUnit: 'P', plan: PLAN, rolloutId: R, requestedBy: 'user:test' });
  await until('every unit enrolled', async () => (await db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', R).execute()).length === COMMUNES + 1, 180_000);

  const request = { filter: { level: 'xa' }, action: { action: 'suspend' as const }, reason: 'Mưa lũ diện rộng', decidedBy: 'user:test', batchId: 'tam-dung-1' };
  const preview = await previewBatch(db, R, request, OPS);
  expect(preview.units).toBe(COMMUNES);
  await startBatch({ db, client }, R, { ...request, fingerprint: preview.fingerprint }, OPS);
  const settled = async () => (await db.selectFrom('batch_items').select('seq').where('batch_id', '=', 'tam-dung-1').where('status', '!=', 'pending').execute()).length;

  await until('a first slice applied', async () => (await settled()) >= 5, 120_000, 50);
  await workers.restart();
  await until('more applied after the first kill', async () => (await settled()) >= 30, 180_000, 50);
  await workers.restart();
  await until('every item answered', async () => (await settled()) === COMMUNES, 300_000);
  await until('the batch completed', async () => (await db.selectFrom('batches').select('status').where('batch_id', '=', 'tam-dung-1').executeTakeFirstOrThrow()).status === 'completed', 120_000);

  const items = await db.selectFrom('batch_items').select(['unit_code', 'status']).where('batch_id', '=', 'tam-dung-1').execute();
  expect(items.filter((i) => i.status === 'done')).toHaveLength(COMMUNES);
  const suspended = await db.selectFrom('events').select(['unit_code', 'payload']).where('rollout_id', '=', R).where('type', '=', 'ClockSuspended').execute();
  expect(suspended).toHaveLength(COMMUNES);
  expect(new Set(suspended.map((e) => e.unit_code)).size).toBe(COMMUNES);
  expect(suspended.every((e) => (e.payload as { batchId?: string }).batchId === 'tam-dung-1')).toBe(true);
  expect(await db.selectFrom('events').select('payload').where('stream_id', '=', 'batch/tam-dung-1').orderBy('stream_seq').execute()).toEqual([
    { payload: expect.objectContaining({ units: COMMUNES }) },
    { payload: { batchId: 'tam-dung-1', done: COMMUNES, unchanged: 0, refused: 0 } },
  ]);
  expect((await db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', R).where('suspended_at', 'is not', null).execute()).length).toBe(COMMUNES);
  expect((await verifyChain(db)).ok).toBe(true);
  expect(workers.unexpectedExits).toEqual([]);
});
