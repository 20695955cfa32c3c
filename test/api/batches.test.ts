/**
 * Batches through the HTTP API (real Temporal dev server, real PostgreSQL, real worker): 40 communes
 * whose study deadline has passed are extended in one batch each by their two districts' committees;
 * the preview comes first and the start needs its fingerprint; a committee's batch reaches only its
 * own communes, and naming another district's is a 403 with nothing recorded; every bad input is a
 * 4xx naming the field.
 */
import { issueToken } from '../../app/tokens';
import { startApiStack, type ApiStack } from '../helpers/api-stack';
import { until } from '../helpers/wait';

let s: ApiStack;
const call: ApiStack['call'] = (...args) => s.call(...args);
const R = 'batch-api';

const communes = (d: string) => Array.from({ length: 20 }, (_, i) => `P.${d}.X${String(i + 1).padStart(2, '0')},Đảng bộ xã ${d}-${i + 1},xa,P.${d},3,true`);
const HIERARCHY = [
  'code,name,level,parent,members,standing_committee',
  'P,Đảng bộ tỉnh,tinh,,30,true',
  'P.A,Đảng bộ huyện A,huyen,P,8,true',
  'P.B,Đảng bộ huyện B,huyen,P,8,true',
  ...communes('A'),
  ...communes('B'),
].join('\n');

/** The study deadline is already past when the rollout starts: every unit is overdue at once. */
const PLAN = {
  id: 'batch-api',
  title: 'Kiểm thử thao tác hàng loạt',
  steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'absolute', at: '2026-01-15' }, reminders: [], escalation: { tiers: 1, interval: 'P30D' } }],
};

const events = async (type: string) => await s.t.db.selectFrom('events').select(['payload', 'actor', 'unit_code']).where('rollout_id', '=', R).where('type', '=', type).execute();

beforeAll(async () => {
  s = await startApiStack();
  s.tokens.ops = (await issueToken(s.t.db, { role: 'ops', label: 'Văn phòng' })).token;
  s.tokens.auditor = (await issueToken(s.t.db, { role: 'auditor', label: 'Kiểm toán' })).token;
  expect((await call('POST', '/api/v1/units/import', 'ops', { fileName: 'units.csv', content: HIERARCHY })).status).toBe(201);
  s.tokens.a = (await issueToken(s.t.db, { role: 'committee', unitCode: 'P.A', label: 'BTV huyện A' })).token;
  s.tokens.b = (await issueToken(s.t.db, { role: 'committee', unitCode: 'P.B', label: 'BTV huyện B' })).token;
  s.tokens.unit = (await issueToken(s.t.db, { role: 'unit', unitCode: 'P.A.X01', label: 'Xã A1' })).token;
  const started = await call('POST', '/api/v1/rollouts', 'ops', { resolution: '21-NQ/TW', resolutionDate: '2022-06-16', title: 'Nghị quyết 21', rootUnit: 'P', plan: PLAN, rolloutId: R });
  expect(started.status).toBe(201);
  await until('every unit missed its deadline', async () => (await events('DeadlineMissed')).length === 43, 120_000);
}, 180_000);

afterAll(async () => {
  await s?.close();
});

const EXTEND = { filter: { level: 'xa', status: 'overdue', step: 'study' }, action: { action: 'extend', step: 'study', until: '2030-12-31' }, reason: 'Gia hạn do mưa lũ' };

test('each district extends its 20 overdue communes in one batch: preview, confirm, progress, one event per unit', async () => {
  const preview = await call('POST', `/api/v1/rollouts/${R}/batches/preview`, 'a', EXTEND);
  expect(preview.status).toBe(200);
  expect(preview.body).toMatchObject({ units: 20, committee: 'P.A', leftOut: 0, action: 'extend', title: { vi: 'gia hạn' } });
  expect(preview.body.sample.every((u: { code: string }) => u.code.startsWith('P.A.'))).toBe(true);

  const start = await call('POST', `/api/v1/rollouts/${R}/batches`, 'a', { ...EXTEND, fingerprint: preview.body.fingerprint, batchId: 'gh-huyen-a', decidedBy: 'Bí thư huyện A' });
  expect(start).toEqual({ status: 202, body: { batchId: 'gh-huyen-a', rolloutId: R, units: 20, alreadyStarted: false } });
  const done = await until('the batch finished', async () => {
    const r = await call('GET', '/api/v1/batches/gh-huyen-a', 'a');
    return r.body.status === 'completed' && r;
  });
  expect(done.body).toMatchObject({ committee: 'P.A', decidedBy: 'committee:P.A/Bí thư huyện A', counts: { pending: 0, done: 20, unchanged: 0, refused: 0 } });
  expect(done.body.items).toHaveLength(20);
  const extended = await events('DeadlineExtended');
  expect(extended).toHaveLength(20);
  expect(extended.every((e) => (e.payload as { batchId: string }).batchId === 'gh-huyen-a' && e.actor === 'committee:P.A/Bí thư huyện A')).toBe(true);

  // The other district sees only its own batches; ops and the auditor see every one.
  expect((await call('GET', '/api/v1/batches/gh-huyen-a', 'b')).status).toBe(403);
  expect((await call('GET', '/api/v1/batches/gh-huyen-a', 'auditor')).status).toBe(200);
  expect((await call('GET', `/api/v1/rollouts/${R}/batches`, 'b')).body).toEqual([]);
  expect((await call('GET', `/api/v1/rollouts/${R}/batches`, 'ops')).body).toEqual([expect.objectContaining({ batchId: 'gh-huyen-a', units: 20, committee: 'P.A' })]);

  // District B, the same way; A's communes are no longer overdue, so the province's own preview now finds B's 20 only.
  const bPreview = await call('POST', `/api/v1/rollouts/${R}/batches/preview`, 'ops', { ...EXTEND, committee: 'P' });
  expect(bPreview.body).toMatchObject({ units: 20, committee: 'P' });
  const b = await call('POST', `/api/v1/rollouts/${R}/batches/preview`, 'b', EXTEND);
  expect((await call('POST', `/api/v1/rollouts/${R}/batches`, 'b', { ...EXTEND, fingerprint: b.body.fingerprint, batchId: 'gh-huyen-b' })).status).toBe(202);
  await until('batch B finished', async () => (await call('GET', '/api/v1/batches/gh-huyen-b', 'b')).body.status === 'completed');
  expect(await events('DeadlineExtended')).toHaveLength(40);
  expect((await call('GET', `/api/v1/rollouts/${R}/units?overdue=true&pageSize=100`, 'ops')).body.items.map((u: { unitCode: string }) => u.unitCode)).toEqual(['P', 'P.A', 'P.B']);
}, 120_000);

test('a batch a committee has no right to, a stale confirmation and bad input start nothing', async () => {
  const before = (await s.t.db.selectFrom('events').select('event_id').execute()).length;
  const forbidden = await call('POST', `/api/v1/rollouts/${R}/batches/preview`, 'a', { ...EXTEND, filter: { codes: ['P.A.X01', 'P.B.X01'] } });
  expect(forbidden.status).toBe(403);
  expect(forbidden.body.issues).toEqual([{ path: 'filter.codes[1]', message: expect.stringMatching(/P\.A is not a standing committee above P\.B\.X01/) }]);
  expect((await call('POST', `/api/v1/rollouts/${R}/batches/preview`, 'a', { ...EXTEND, filter: { within: 'P.B' } })).status).toBe(403);
  expect((await call('POST', `/api/v1/rollouts/${R}/batches/preview`, 'a', { ...EXTEND, committee: 'P' })).status).toBe(403);
  expect((await call('POST', `/api/v1/rollouts/${R}/batches/preview`, 'unit', EXTEND)).status).toBe(403);
  expect((await call('POST', `/api/v1/rollouts/${R}/batches/preview`, 'auditor', EXTEND)).status).toBe(403);

  const bad = async (body: unknown, who = 'ops') => call('POST', `/api/v1/rollouts/${R}/batches/preview`, who, body);
  expect(await bad({ ...EXTEND, committee: undefined })).toMatchObject({ status: 400, body: { issues: [expect.objectContaining({ path: 'committee' })] } });
  expect((await bad({ ...EXTEND, filter: {} }, 'a')).status).toBe(400);
  expect((await bad({ ...EXTEND, filter: { status: 'late' } }, 'a')).body.issues[0].path).toMatch(/filter\.status/);
  expect((await bad({ ...EXTEND, action: { action: 'explode' } }, 'a')).body.issues[0].path).toMatch(/action/);
  expect((await bad({ ...EXTEND, filter: { codes: ['P.NOPE'] } }, 'a')).status).toBe(404);
  expect((await bad({ ...EXTEND, filter: { codes: Array.from({ length: 6000 }, (_, i) => `X${i}`) } }, 'a')).status).toBe(400);
  expect((await bad({ ...EXTEND, reason: '' }, 'a')).body.issues[0].path).toMatch(/reason/);
  expect((await call('POST', '/api/v1/rollouts/nope/batches/preview', 'ops', { ...EXTEND, committee: 'P' })).status).toBe(404);
  // A stale or missing fingerprint: 409 / 400, nothing started.
  const stale = await call('POST', `/api/v1/rollouts/${R}/batches`, 'a', { ...EXTEND, filter: { level: 'xa' }, action: { action: 'suspend' }, fingerprint: '0'.repeat(64) });
  expect(stale.status).toBe(409);
  expect((await call('POST', `/api/v1/rollouts/${R}/batches`, 'a', { ...EXTEND, filter: { level: 'xa' }, action: { action: 'suspend' } })).status).toBe(400);
  expect((await call('GET', '/api/v1/batches/nope', 'ops')).status).toBe(404);
  expect((await s.t.db.selectFrom('events').select('event_id').execute()).length).toBe(before);
  expect(await s.t.db.selectFrom('batches').select('batch_id').orderBy('batch_id').execute()).toEqual([{ batch_id: 'gh-huyen-a' }, { batch_id: 'gh-huyen-b' }]);
}, 60_000);

test('ops amends the running plan: a preview, then version 2 recorded and applied by every running unit; a committee may not', async () => {
  const v2 = { ...PLAN, steps: [{ ...PLAN.steps[0], deadline: { kind: 'absolute', at: '2031-06-30' } }] };
  expect((await call('POST', `/api/v1/rollouts/${R}/amend/preview`, 'a', { plan: v2, reason: 'x' })).status).toBe(403);
  const badPlan = await call('POST', `/api/v1/rollouts/${R}/amend/preview`, 'ops', { plan: { ...v2, steps: [{ ...v2.steps[0], kind: 'draftPlan' }] }, reason: 'x' });
  expect(badPlan.status).toBe(400);
  expect(badPlan.body.issues[0].path).toMatch(/plan\.steps\[0\]\.kind/);
  const preview = await call('POST', `/api/v1/rollouts/${R}/amend/preview`, 'ops', { plan: v2, reason: 'Lùi thời hạn học tập' });
  expect(preview.status).toBe(200);
  expect(preview.body).toMatchObject({ fromVersion: 1, toVersion: 2, units: 43, steps: [{ stepId: 'study', change: 'changed', units: 43 }], extended: 40 });
  expect((await call('POST', `/api/v1/rollouts/${R}/amend`, 'ops', { plan: v2, reason: 'Lùi thời hạn học tập', fingerprint: '1'.repeat(64) })).status).toBe(409);
  const applied = await call('POST', `/api/v1/rollouts/${R}/amend`, 'ops', { plan: v2, reason: 'Lùi thời hạn học tập', fingerprint: preview.body.fingerprint, batchId: 'sua-doi-1' });
  expect(applied).toMatchObject({ status: 202, body: { version: 2, units: 43, batchId: 'sua-doi-1', alreadyApplied: false } });
  await until('every unit applied the amendment', async () => (await call('GET', '/api/v1/batches/sua-doi-1', 'ops')).body.status === 'completed');
  expect((await call('GET', '/api/v1/batches/sua-doi-1', 'ops')).body.counts).toEqual({ pending: 0, done: 43, unchanged: 0, refused: 0 });
  expect(await events('PlanAmended')).toHaveLength(43);
  const plan = await call('GET', `/api/v1/rollouts/${R}/plan`, 'ops');
  expect(plan.body).toMatchObject({ version: 2, planHash: preview.body.planHash, versions: [{ version: 1 }, { version: 2, by: 'user:Văn phòng', reason: 'Lùi thời hạn học tập' }] });
  // Every deadline is now 30/06/2031 (the new rule is later than the communes' extensions): nobody is overdue.
  expect((await call('GET', `/api/v1/rollouts/${R}/units?overdue=true`, 'ops')).body.total).toBe(0);
  expect((await call('GET', `/api/v1/rollouts/${R}/plan`, 'a')).status).toBe(403);
}, 120_000);

test('a new deadline every unit would refuse is refused once, naming the field, and nothing is recorded', async () => {
  const before = (await s.t.db.selectFrom('batches').select('batch_id').execute()).length;
  const past = await call('POST', `/api/v1/rollouts/${R}/batches/preview`, 'a', { ...EXTEND, filter: { level: 'xa' }, action: { action: 'extend', step: 'study', until: '2020-01-01' } });
  expect(past).toMatchObject({ status: 400, body: { issues: [{ path: 'action.until', message: expect.stringMatching(/already passed/) }] } });
  const notADate = await call('POST', `/api/v1/rollouts/${R}/batches/preview`, 'a', { ...EXTEND, filter: { level: 'xa' }, action: { action: 'extend', step: 'study', until: 'hôm qua' } });
  expect(notADate).toMatchObject({ status: 400, body: { issues: [{ path: 'action.until' }] } });
  expect((await s.t.db.selectFrom('batches').select('batch_id').execute()).length).toBe(before);
});
