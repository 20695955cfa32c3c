import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { importHierarchy } from '../../db/hierarchy';
import { BAC_GIANG_2022_PLAN } from '../../domain/default-plans';
import { levelsOf, type Unit } from '../../domain/hierarchy';
import { parsePlan, type PlanInput } from '../../domain/plan';
import { rolloutWorkflow } from '../../workflows/rollout';
import { freshDatabase, type TestDb } from '../helpers/db';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';

const useEnv = useTimeSkippingEnv();
const u = (code: string, name: string, level: string, parent: string | null, members: number, standingCommittee = true): Unit => ({ code, name, level, parent, members, standingCommittee });
const UNITS: Unit[] = [
  u('BG', 'Đảng bộ tỉnh Bắc Giang', 'tinh', null, 1000),
  u('BG.YT', 'Đảng bộ huyện Yên Thế', 'huyen', 'BG', 300),
  u('BG.YT.BoHa', 'Đảng bộ thị trấn Bố Hạ', 'coso', 'BG.YT', 100),
  u('BG.YT.BoHa.CB01', 'Chi bộ tổ dân phố số 1', 'chibo', 'BG.YT.BoHa', 40, false),
  u('BG.YT.BoHa.CB02', 'Chi bộ tổ dân phố số 2', 'chibo', 'BG.YT.BoHa', 60, false),
  u('BG.YT.DongTam', 'Đảng bộ xã Đồng Tâm', 'coso', 'BG.YT', 200),
  u('BG.LN', 'Đảng bộ huyện Lục Nam', 'huyen', 'BG', 700),
  u('BG.LN.PhuongSon', 'Đảng bộ thị trấn Phương Sơn', 'coso', 'BG.LN', 700),
];
function shiftPlanYears(plan: PlanInput, years: number): PlanInput {
  const shift = (at: string): string => at.replace(/^(\d{4})/, (y) => String(Number(y) + years));
  return { ...plan, steps: plan.steps.map((s) => (s.deadline.kind === 'absolute' ? { ...s, deadline: { ...s.deadline, at: shift(s.deadline.at) } } : s)) };
}

let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => {
  await t?.close();
});

test('experiment', async () => {
  const env = useEnv();
  const now0 = await env.currentTimeMs();
  let Y = new Date(now0).getUTCFullYear();
  if (Date.parse(`${Y}-07-22T00:00:00+07:00`) <= now0 + 86_400_000) Y += 1;
  const local = (mmdd: string, hhmm = '09:00', year = Y): number => Date.parse(`${year}-${mmdd}T${hhmm}:00+07:00`);
  const at = async (mmdd: string, hhmm = '09:00') => {
    const now = await env.currentTimeMs();
    await env.sleep(local(mmdd, hhmm) - now);
  };
  await importHierarchy(t.db, UNITS, { source: 'x', content: 'x', importedBy: 'test', levels: levelsOf(UNITS) });
  const plan = parsePlan(shiftPlanYears(BAC_GIANG_2022_PLAN, Y - 2022));
  const mk = async () => Worker.create({ connection: env.nativeConnection, taskQueue: 'audit', workflowBundle: await workflowBundle(), activities: createActivities({ db: t.db }) });
  const w1 = await mk();
  const run1 = w1.run();
  const t0 = Date.now();
  await at('07-22');
  await env.client.workflow.start(rolloutWorkflow, {
    taskQueue: 'audit',
    workflowId: 'rollout-x',
    args: [{ rolloutId: 'X', resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: `${Y}-06-16` }, title: 'NQ 21' }, plan, rootUnit: 'BG', hierarchyVersion: 1, requestedBy: 'user:ops' }],
  });
  await at('08-20');
  const count = async () => (await t.db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n;
  console.log('at 08-20', Date.now() - t0, await count());
  w1.shutdown();
  await run1;
  console.log('shut down', Date.now() - t0);
  for (const code of UNITS.map((x) => x.code)) {
    try {
      await env.client.workflowService.resetStickyTaskQueue({ namespace: 'default', execution: { workflowId: `trienkhai/unit/X/${code}` } });
      console.log('reset', code);
    } catch (e) {
      console.log('reset failed', code, String(e));
    }
  }
  const sleeping = at('09-03').then(() => console.log('sleep done', Date.now() - t0));
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 500));
    console.log('server time', new Date(await env.currentTimeMs()).toISOString(), await count());
  }
  const w2 = await mk();
  await w2.runUntil(async () => {
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 500));
      console.log('W2 server time', new Date(await env.currentTimeMs()).toISOString(), await count());
    }
    await sleeping;
    console.log('after', Date.now() - t0, await count());
  });
});
