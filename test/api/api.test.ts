/**
 * The HTTP API against a real Temporal dev server, real PostgreSQL and a real worker: tokens, the
 * role × route × own/other-unit matrix (every status asserted exactly, so an unexpected 2xx fails),
 * bad input, limits and the OpenAPI document.
 *
 * Hierarchy: P (tinh) → P.A, P.B (huyen) → P.A.1, P.B.1 (coso) → P.A.1.C (chibo, no committee).
 * Tokens: ops; auditor; unit for P.A.1; committee of P.A; inspector for P.A. "Own" objects are in P.A's
 * subtree, "other" ones in P.B's.
 */
import { issueToken, revokeToken } from '../../app/tokens';
import { HIERARCHY, startApiStack, type ApiStack } from '../helpers/api-stack';
import type { TestDb } from '../helpers/db';
import { until } from '../helpers/wait';

let s: ApiStack;
let t: TestDb;
let tokens: Record<string, string>;
const call: ApiStack['call'] = (...args) => s.call(...args);
const R = 'api-test';

const PLAN = {
  id: 'api',
  title: 'Kiểm thử API',
  steps: [
    { id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'PT8S' }, reminders: [], escalation: { tiers: 1, interval: 'PT1H' } },
    { id: 'inspect', kind: 'supervise', title: 'Kiểm tra, giám sát', levels: ['coso'], deadline: { kind: 'afterStart', after: 'P30D' }, reminders: [], escalation: { tiers: 1, interval: 'P7D' } },
  ],
};

const countEvents = async (): Promise<number> =>
  Number(
    (
      await t.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

beforeAll(async () => {
  s = await startApiStack();
  ({ t, tokens } = s);
  tokens.ops = (await issueToken(t.db, { role: 'ops', label: 'Văn phòng' })).token;
  tokens.auditor = (await issueToken(t.db, { role: 'auditor', label: 'Kiểm toán' })).token;
});

afterAll(async () => {
  await s?.close();
});

test('ops imports and starts through the API; bad input is a 400 naming the field, and nothing is recorded', async () => {
  const badCsv = await call('POST', '/api/v1/units/import', 'ops', { fileName: 'bad.csv', content: 'code,name,level,parent,members,standing_committee\nX,Tỉnh,tinh,,mười,true\n' });
  expect(badCsv.status).toBe(400);
  expect(badCsv.body.issues).toEqual([expect.objectContaining({ path: expect.stringMatching(/line 2, column members/) })]);
  expect(await t.db.selectFrom('hierarchy_versions').selectAll().execute()).toHaveLength(0);

  const imported = await call('POST', '/api/v1/units/import', 'ops', { fileName: 'units.csv', content: HIERARCHY });
  expect(imported).toMatchObject({
    status: 201,
    body: { version: 1, units: 6, levels: ['tinh', 'huyen', 'coso', 'chibo'], roots: ['P'], versions: [{ organisation: 'P', version: 1, previousVersion: null, units: 6 }] },
  });

  // Scoped tokens need units that exist; a cell without a standing committee cannot hold a committee token.
  await expect(issueToken(t.db, { role: 'committee', unitCode: 'P.A.1.C', label: 'x' })).rejects.toThrow(/no standing committee/);
  await expect(issueToken(t.db, { role: 'unit', unitCode: 'NOPE', label: 'x' })).rejects.toThrow(/not in the hierarchy/);
  tokens.unit = (await issueToken(t.db, { role: 'unit', unitCode: 'P.A.1', label: 'Xã A1' })).token;
  tokens.committee = (await issueToken(t.db, { role: 'committee', unitCode: 'P.A', label: 'BTV huyện A' })).token;
  tokens.inspector = (await issueToken(t.db, { role: 'inspector', unitCode: 'P.A', label: 'UBKT huyện A' })).token;
  tokens.committeeB = (await issueToken(t.db, { role: 'committee', unitCode: 'P.B', label: 'BTV huyện B' })).token;

  const events = await countEvents();
  const bad = await call('POST', '/api/v1/rollouts', 'ops', { resolution: '21-XX/TW', resolutionDate: '2022-13-01', title: '', rootUnit: 'P', plan: PLAN, rolloutId: R });
  expect(bad.status).toBe(400);
  expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body.resolutionDate', 'body.title']);
  const badDoc = await call('POST', '/api/v1/rollouts', 'ops', { resolution: '21-XX/TW', resolutionDate: '2022-06-16', title: 'NQ 21', rootUnit: 'P', plan: PLAN, rolloutId: R });
  expect(badDoc.status).toBe(400);
  expect(badDoc.body.issues[0]).toMatchObject({ path: 'resolution', message: expect.stringMatching(/unknown document type "XX"/) });
  expect(await countEvents()).toBe(events);
  expect(await t.db.selectFrom('rollouts').selectAll().execute()).toHaveLength(0);

  const started = await call('POST', '/api/v1/rollouts', 'ops', { resolution: 'Số: 21-NQ/TƯ', resolutionDate: '2022-06-16', title: 'Nghị quyết 21', rootUnit: 'P', plan: PLAN, rolloutId: R });
  expect(started).toMatchObject({ status: 201, body: { rolloutId: R, units: 6, alreadyStarted: false } });
  await until('all units enrolled', async () => ((await call('GET', `/api/v1/rollouts/${R}`, 'ops')).body?.counts?.units === 6 ? true : undefined));
  // The study deadline (8 s) passes with nobody reporting: every unit is escalated once (a generous wait: the machine may be loaded).
  await until('the escalations', async () => ((await call('GET', `/api/v1/escalations?rolloutId=${R}`, 'ops')).body.total === 6 ? true : undefined), 120_000);
});

/** Expected status per principal for one call: o = ops, a = auditor, u = unit P.A.1, c = committee P.A, i = inspector P.A. */
type Expect = { o: number; a: number; u: number; c: number; i: number };
const ALL = (s: number): Expect => ({ o: s, a: s, u: s, c: s, i: s });
const WHO = { o: 'ops', a: 'auditor', u: 'unit', c: 'committee', i: 'inspector' } as const;

test('every role × read route × own/other unit answers exactly as the access rules say', async () => {
  const reads: Array<[string, Expect]> = [
    ['/api/v1/me', ALL(200)],
    ['/api/v1/rollouts', ALL(200)],
    [`/api/v1/rollouts/${R}`, { o: 200, a: 200, u: 403, c: 403, i: 403 }],
    [`/api/v1/rollouts/${R}/units`, ALL(200)], // a scoped token starts from its own unit
    [`/api/v1/rollouts/${R}/units?parent=P.A`, { o: 200, a: 200, u: 403, c: 200, i: 200 }],
    [`/api/v1/rollouts/${R}/units?parent=P.B`, { o: 200, a: 200, u: 403, c: 403, i: 403 }],
    [`/api/v1/rollouts/${R}/units?overdue=true&within=P`, { o: 200, a: 200, u: 403, c: 403, i: 403 }],
    [`/api/v1/rollouts/${R}/units?overdue=true`, ALL(200)],
    [`/api/v1/rollouts/${R}/units/P.A.1`, ALL(200)],
    [`/api/v1/rollouts/${R}/units/P.A.1.C`, ALL(200)],
    [`/api/v1/rollouts/${R}/units/P.A`, { o: 200, a: 200, u: 403, c: 200, i: 200 }],
    [`/api/v1/rollouts/${R}/units/P`, { o: 200, a: 200, u: 403, c: 403, i: 403 }],
    [`/api/v1/rollouts/${R}/units/P.B.1`, { o: 200, a: 200, u: 403, c: 403, i: 403 }],
    [`/api/v1/rollouts/${R}/units/P.A.1/timeline`, ALL(200)],
    [`/api/v1/rollouts/${R}/units/P.B.1/timeline`, { o: 200, a: 200, u: 403, c: 403, i: 403 }],
    ['/api/v1/escalations', ALL(200)],
    ['/api/v1/plans', ALL(200)],
    ['/api/v1/plans/bac-giang-2022', ALL(200)],
    [`/api/v1/rollouts/${R}/timeline`, { o: 200, a: 200, u: 403, c: 403, i: 403 }],
    [`/api/v1/rollouts/${R}/as-of?at=2099-01-01`, { o: 200, a: 200, u: 403, c: 403, i: 403 }],
    ['/api/v1/audit/verify', { o: 200, a: 200, u: 403, c: 403, i: 403 }],
  ];
  const got: string[] = [];
  const want: string[] = [];
  for (const [path, expect_] of reads) {
    for (const [k, who] of Object.entries(WHO)) {
      got.push(`${who} GET ${path} → ${(await call('GET', path, who)).status}`);
      want.push(`${who} GET ${path} → ${expect_[k as keyof Expect]}`);
    }
  }
  expect(got).toEqual(want);
});

test('scoped reads show only the subtree: the tree, the overdue filter and the escalation inbox', async () => {
  const tree = await call('GET', `/api/v1/rollouts/${R}/units?parent=P`, 'ops');
  expect(tree.body.items.map((u: { unitCode: string }) => u.unitCode)).toEqual(['P.A', 'P.B']);
  expect(tree.body.items[0].steps).toEqual([expect.objectContaining({ stepKey: 'study', status: 'open', overdue: true, late: false })]);
  const mine = await call('GET', `/api/v1/rollouts/${R}/units?overdue=true`, 'committee');
  expect(mine.body.items.map((u: { unitCode: string }) => u.unitCode)).toEqual(['P.A', 'P.A.1', 'P.A.1.C']);
  const paged = await call('GET', `/api/v1/rollouts/${R}/units?overdue=true&within=P&pageSize=2&page=2`, 'ops');
  expect(paged.body).toMatchObject({ page: 2, pageSize: 2, total: 6 });
  expect(paged.body.items).toHaveLength(2);

  const inbox = await call('GET', '/api/v1/escalations?recipient=P.A', 'committee');
  expect(inbox.body.items.map((e: { unitCode: string }) => e.unitCode)).toEqual(['P.A.1']);
  expect(inbox.body.items[0]).toMatchObject({ stepKey: 'study', tier: 1, recipient: { code: 'P.A' }, status: 'open', overdueMs: expect.any(Number) });
  const seen = await call('GET', '/api/v1/escalations', 'committee');
  expect(seen.body.items.map((e: { unitCode: string }) => e.unitCode).sort()).toEqual(['P.A', 'P.A.1', 'P.A.1.C']);
  const unitSees = await call('GET', '/api/v1/escalations', 'unit');
  expect(unitSees.body.items.map((e: { unitCode: string }) => e.unitCode).sort()).toEqual(['P.A.1', 'P.A.1.C']);
  const rollouts = await call('GET', '/api/v1/rollouts', 'unit');
  expect(rollouts.body.items.map((r: { rolloutId: string }) => r.rolloutId)).toEqual([R]);
});

test('every role × write route × own/other object answers exactly as the access rules say, and refused writes record nothing', async () => {
  const escOf = async (unit: string): Promise<string> => encodeURIComponent((await call('GET', `/api/v1/escalations?rolloutId=${R}&unit=${unit}`, 'ops')).body.items[0].escalationId);
  const ownEsc = await escOf('P.A.1'); // addressed to P.A
  const otherEsc = await escOf('P.B.1'); // addressed to P.B
  const cellEsc = await escOf('P.A.1.C'); // addressed to P.A.1 (a commune: not this committee's)
  const extend = { until: '2099-12-31', reason: 'Mưa lũ' };
  const study = (attended: number) => ({ stepId: 'study', kind: 'studyConference', attended, sessionDate: '2026-11-20' });
  const inspect = { stepId: 'inspect', kind: 'supervise', inspectedOn: '2026-11-20', inspector: 'Đ/c Thanh tra', findings: 'Đã tổ chức học tập đầy đủ' };
  const before = await countEvents();

  // Refusals first (each must record nothing), then the one allowed call of each route.
  const refused: Array<[string, 'GET' | 'POST', string, unknown, keyof typeof WHO]> = [];
  for (const k of ['a', 'u', 'c', 'i'] as const) {
    refused.push([`${k} import`, 'POST', '/api/v1/units/import', { fileName: 'u.csv', content: HIERARCHY }, k]);
    refused.push([`${k} start`, 'POST', '/api/v1/rollouts', { resolution: '21-NQ/TW', resolutionDate: '2022-06-16', title: 'x', rootUnit: 'P', plan: PLAN, rolloutId: 'other' }, k]);
  }
  for (const k of ['o', 'a', 'u', 'i'] as const) refused.push([`${k} extend own`, 'POST', `/api/v1/escalations/${ownEsc}/extend`, extend, k]);
  for (const k of ['o', 'a', 'u', 'i'] as const) {
    refused.push([`${k} acknowledge own`, 'POST', `/api/v1/escalations/${ownEsc}/acknowledge`, { note: 'x' }, k]);
    refused.push([`${k} direct own`, 'POST', `/api/v1/escalations/${ownEsc}/direct`, { directive: 'x' }, k]);
  }
  for (const k of ['a', 'u', 'c', 'i'] as const) refused.push([`${k} cancel`, 'POST', `/api/v1/rollouts/${R}/cancel`, { reason: 'x' }, k]);
  refused.push(['c acknowledge other', 'POST', `/api/v1/escalations/${otherEsc}/acknowledge`, {}, 'c']);
  refused.push(['c direct cell (addressed to P.A.1)', 'POST', `/api/v1/escalations/${cellEsc}/direct`, { directive: 'x' }, 'c']);
  refused.push(['c extend other', 'POST', `/api/v1/escalations/${otherEsc}/extend`, extend, 'c']);
  refused.push(['c extend cell (addressed to P.A.1)', 'POST', `/api/v1/escalations/${cellEsc}/extend`, extend, 'c']);
  for (const k of ['o', 'a', 'c', 'i'] as const) refused.push([`${k} report study for P.A.1`, 'POST', `/api/v1/rollouts/${R}/units/P.A.1/reports`, study(5), k]);
  refused.push(['u report study for P.B.1', 'POST', `/api/v1/rollouts/${R}/units/P.B.1/reports`, study(4), 'u']);
  refused.push(['u report study for P.A.1.C (below it)', 'POST', `/api/v1/rollouts/${R}/units/P.A.1.C/reports`, study(2), 'u']);
  refused.push(['u report an inspection of itself', 'POST', `/api/v1/rollouts/${R}/units/P.A.1/reports`, inspect, 'u']);
  refused.push(['i inspect P.B.1', 'POST', `/api/v1/rollouts/${R}/units/P.B.1/reports`, inspect, 'i']);
  const refusedGot: string[] = [];
  for (const [name, method, path, body, k] of refused) refusedGot.push(`${name} → ${(await call(method, path, WHO[k], body)).status}`);
  expect(refusedGot).toEqual(refused.map(([name]) => `${name} → 403`));
  expect(await countEvents()).toBe(before);
  expect(await t.db.selectFrom('hierarchy_versions').selectAll().execute()).toHaveLength(1);

  // The allowed ones.
  const ack = await call('POST', `/api/v1/escalations/${ownEsc}/acknowledge`, 'committee', { note: 'Đã tiếp nhận' });
  expect(ack).toMatchObject({ status: 201, body: { action: 'acknowledged', stepKey: 'study', duplicate: false } });
  expect((await call('POST', `/api/v1/escalations/${ownEsc}/acknowledge`, 'committee', {})).status).toBe(409); // once
  const noDirective = await call('POST', `/api/v1/escalations/${ownEsc}/direct`, 'committee', { directive: '', respondBy: '2099-02-30' });
  expect(noDirective.status).toBe(400);
  expect(noDirective.body.issues.map((i: { path: string }) => i.path)).toContain('body.directive');
  const badDate = await call('POST', `/api/v1/escalations/${ownEsc}/direct`, 'committee', { directive: 'Học bù', respondBy: '2099-02-30' });
  expect(badDate.status).toBe(400);
  expect(badDate.body.issues.map((i: { path: string }) => i.path)).toEqual(['body.respondBy']);
  const dir = await call('POST', `/api/v1/escalations/${ownEsc}/direct`, 'committee', { directive: 'Tổ chức học bù trong tuần', respondBy: '2099-01-15' });
  expect(dir).toMatchObject({ status: 201, body: { action: 'directed' } });
  const inbox = await call('GET', '/api/v1/escalations?recipient=P.A', 'committee');
  expect(inbox.body.items[0]).toMatchObject({
    status: 'open',
    acknowledgedBy: 'committee:P.A/BTV huyện A',
    acknowledgementNote: 'Đã tiếp nhận',
    directives: 1,
    lastDirective: 'Tổ chức học bù trong tuần',
    respondBy: '2099-01-15',
  });
  const ext = await call('POST', `/api/v1/escalations/${ownEsc}/extend`, 'committee', extend);
  expect(ext).toMatchObject({ status: 201, body: { stepKey: 'study', resolvedEscalations: [decodeURIComponent(ownEsc)] } });
  expect((await call('POST', `/api/v1/escalations/${ownEsc}/extend`, 'committee', extend)).status).toBe(409); // already resolved
  expect((await call('POST', `/api/v1/escalations/${otherEsc}/extend`, 'committeeB', extend)).status).toBe(201);
  const rep = await call('POST', `/api/v1/rollouts/${R}/units/P.A.1/reports`, 'unit', { ...study(5), reportId: 'a1-study' });
  expect(rep).toMatchObject({ status: 201, body: { duplicate: false, stepKey: 'study' } });
  firstStudyAnswer = rep.body;
  expect((await call('POST', `/api/v1/rollouts/${R}/units/P.A.1/reports`, 'unit', { ...study(5), reportId: 'a1-study' })).body.duplicate).toBe(true);
  expect((await call('POST', `/api/v1/rollouts/${R}/units/P.A.1/reports`, 'inspector', inspect)).status).toBe(201);
  expect((await call('POST', `/api/v1/rollouts/${R}/units/P.A.1.C/reports`, 'inspector', inspect)).status).toBe(400); // a cell has no inspect step: the engine says so
  expect(
    (await call('POST', '/api/v1/rollouts', 'ops', { resolution: '21-NQ/TW', resolutionDate: '2022-06-16', title: 'Nghị quyết 21', rootUnit: 'P', plan: PLAN, rolloutId: R })).body.alreadyStarted,
  ).toBe(true);
  // The same ID with another body is another rollout: 409 naming what differs, nothing started.
  const other = await call('POST', '/api/v1/rollouts', 'ops', { resolution: '22-NQ/TW', resolutionDate: '2022-06-16', title: 'Nghị quyết khác', rootUnit: 'P', plan: PLAN, rolloutId: R });
  expect(other.status).toBe(409);
  expect(other.body.issues.map((i: { path: string }) => i.path)).toEqual(['resolution', 'title']);
  expect(other.body.message).toMatch(/already exists with resolution "21-NQ\/TW"; this request has "22-NQ\/TW"/);

  const unit = await call('GET', `/api/v1/rollouts/${R}/units/P.A.1`, 'unit');
  expect(unit.body.steps.map((s: { stepKey: string; status: string }) => `${s.stepKey}:${s.status}`).sort()).toEqual(['inspect:done', 'study:done']);
  const story = await call('GET', `/api/v1/rollouts/${R}/units/P.A.1/timeline?lang=en`, 'committee');
  expect(story.body.items.map((e: { text: string }) => e.text).join('\n')).toMatch(/P\.A extended study from .* Reason: Mưa lũ/);
});

test('tokens, bad requests and limits', async () => {
  expect((await call('GET', '/api/v1/me', null)).status).toBe(401);
  expect((await call('GET', '/api/v1/me', 'tk_000000000000_notatoken')).status).toBe(401);
  const spare = await issueToken(t.db, { role: 'auditor', label: 'tạm' });
  expect((await call('GET', '/api/v1/me', spare.token)).body).toMatchObject({ role: 'auditor', label: 'tạm' });
  await revokeToken(t.db, spare.tokenId);
  expect((await call('GET', '/api/v1/me', spare.token)).status).toBe(401);
  // The store holds only a hash of each token.
  const stored = await t.db.selectFrom('api_tokens').select('token_hash').execute();
  expect(stored.some((r) => spare.token.includes(r.token_hash) || r.token_hash === spare.token)).toBe(false);

  expect((await call('GET', '/api/v1/nothing', 'ops')).status).toBe(404);
  // Plans: the built-in ones, and a check that records nothing.
  expect((await call('GET', '/api/v1/plans', 'unit')).body.map((p: { id: string }) => p.id).sort()).toEqual(['bac-giang-2022', 'demo']);
  expect((await call('GET', '/api/v1/plans/nope', 'ops')).status).toBe(404);
  expect(await call('POST', '/api/v1/plans/check', 'ops', { plan: PLAN })).toEqual({ status: 200, body: { valid: true, id: 'api', title: 'Kiểm thử API', steps: 2 } });
  const badPlan = await call('POST', '/api/v1/plans/check', 'ops', { plan: { ...PLAN, steps: [{ ...PLAN.steps[0], deadline: { kind: 'afterStart', after: 'soon' } }] } });
  expect(badPlan.status).toBe(400);
  expect(badPlan.body.issues.map((i: { path: string }) => i.path)).toEqual([expect.stringMatching(/^body\.plan\.steps\[0\]\.deadline/)]);
  expect((await call('POST', '/api/v1/me', 'ops', {})).status).toBe(405);
  const badPage = await call('GET', '/api/v1/escalations?pageSize=501', 'ops');
  expect(badPage.status).toBe(400);
  expect(badPage.body.issues).toEqual([expect.objectContaining({ path: 'query.pageSize' })]);
  const badJson = await call('POST', `/api/v1/rollouts/${R}/units/P.A.1/reports`, 'unit', undefined, '{"kind":');
  expect(badJson).toMatchObject({ status: 400, body: { issues: [{ path: 'body' }] } });
  const huge = await call('POST', `/api/v1/rollouts/${R}/units/P.A.1/reports`, 'unit', { findings: 'x'.repeat(1_100_000) });
  expect(huge.status).toBe(413);
  const badReport = await call('POST', `/api/v1/rollouts/${R}/units/P.A.1/reports`, 'unit', { stepId: 'study', kind: 'studyConference', attended: 0, sessionDate: '2026-02-30' });
  expect(badReport.status).toBe(400);
  expect(badReport.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body.attended', 'body.sessionDate']);
});

test('the OpenAPI document is served and describes every route with its schemas', async () => {
  const doc = await call('GET', '/api/v1/openapi.json', null);
  expect(doc.status).toBe(200);
  expect(doc.body.openapi).toBe('3.1.0');
  const ops = Object.entries(doc.body.paths as Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>).flatMap(([p, m]) =>
    Object.keys(m).map((k) => `${k.toUpperCase()} ${p}`),
  );
  expect(ops).toEqual(
    expect.arrayContaining([
      'GET /api/v1/me',
      'POST /api/v1/units/import',
      'POST /api/v1/rollouts',
      'GET /api/v1/rollouts/{rolloutId}/units',
      'POST /api/v1/rollouts/{rolloutId}/units/{unitCode}/reports',
      'GET /api/v1/escalations',
      'POST /api/v1/escalations/{escalationId}/extend',
      'GET /api/v1/rollouts/{rolloutId}/as-of',
    ]),
  );
  const start = doc.body.paths['/api/v1/rollouts'].post;
  expect(start.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['resolution', 'resolutionDate', 'title', 'rootUnit']));
  expect(doc.body.paths['/api/v1/escalations'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['recipient', 'status', 'page', 'pageSize']));
});

let firstStudyAnswer: Record<string, unknown> | undefined;

test('ops cancels the rollout: recorded once, every unit stops, nothing is left open or overdue', async () => {
  const events = await countEvents();
  expect((await call('POST', `/api/v1/rollouts/${R}/cancel`, 'ops', { reason: '' })).status).toBe(400);
  expect((await call('POST', '/api/v1/rollouts/nope/cancel', 'ops', { reason: 'x' })).status).toBe(404);
  expect(await countEvents()).toBe(events);
  const c = await call('POST', `/api/v1/rollouts/${R}/cancel`, 'ops', { reason: 'Thay bằng nghị quyết mới', requestId: 'cancel-once' });
  expect(c).toMatchObject({ status: 200, body: { rolloutId: R, duplicate: false } });
  await until('every unit stopped', async () => {
    const units = await t.db.selectFrom('rollout_units').select('status').where('rollout_id', '=', R).execute();
    return units.every((u) => u.status !== 'active') ? true : undefined;
  });
  const overview = await call('GET', `/api/v1/rollouts/${R}`, 'auditor');
  expect(overview.body.rollout.status).toBe('cancelled');
  expect(overview.body.counts.cancelled).toBeGreaterThan(0);
  expect(overview.body.counts.cancelled + overview.body.counts.completed).toBe(6); // every unit stopped one way or the other
  expect((await call('GET', `/api/v1/escalations?rolloutId=${R}`, 'ops')).body.total).toBe(0);
  expect((await call('GET', `/api/v1/rollouts/${R}/units?overdue=true`, 'ops')).body.total).toBe(0);
  expect((await call('POST', `/api/v1/rollouts/${R}/cancel`, 'ops', { reason: 'again' })).status).toBe(409);
  // The clerk who retried after a timeout is answered as the first time, also once every unit stopped.
  const retried = await call('POST', `/api/v1/rollouts/${R}/cancel`, 'ops', { reason: 'Thay bằng nghị quyết mới', requestId: 'cancel-once' });
  expect(retried).toMatchObject({ status: 200, body: { requestId: 'cancel-once', duplicate: true, cancelledAt: c.body.cancelledAt } });
  // So is a report resent after its unit's workflow has stopped: "already recorded", with the first answer.
  expect(firstStudyAnswer).toBeDefined();
  const resent = await call('POST', `/api/v1/rollouts/${R}/units/P.A.1/reports`, 'unit', { stepId: 'study', kind: 'studyConference', sessionDate: '2026-11-20', attended: 5, reportId: 'a1-study' });
  expect(resent).toMatchObject({ status: 201, body: { ...firstStudyAnswer, duplicate: true } });
  // A new report is refused: the unit no longer takes any.
  const fresh = await call('POST', `/api/v1/rollouts/${R}/units/P.A.1/reports`, 'unit', { stepId: 'study', kind: 'studyConference', sessionDate: '2026-11-20', attended: 1, reportId: 'a1-new' });
  expect(fresh.status).toBe(400);
  const story = await call('GET', `/api/v1/rollouts/${R}/timeline?lang=en`, 'auditor');
  expect(story.body.items.filter((e: { type: string }) => e.type === 'RolloutCancelled').map((e: { text: string }) => e.text)).toEqual(['The rollout was cancelled. Reason: Thay bằng nghị quyết mới']);
});

test("the CLI's --json prints exactly what the API returns for the same read", async () => {
  const { main } = await import('../../client/cli');
  const cli = async (...argv: string[]): Promise<unknown> => {
    const out: string[] = [];
    const err: string[] = [];
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = t.url;
    try {
      const code = await main([...argv, '--json'], { out: (l) => out.push(l), err: (l) => err.push(l) });
      expect([argv.join(' '), code, err.join('\n')]).toEqual([argv.join(' '), 0, '']);
    } finally {
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
    }
    return JSON.parse(out.join('\n'));
  };
  const api = async (path: string): Promise<unknown> => {
    const r = await call('GET', path, 'ops');
    expect([path, r.status]).toEqual([path, 200]);
    return r.body;
  };
  // The rollout is cancelled by now: nothing changes between the two reads but the instant they were taken.
  const noAsOf = (o: unknown) => ({ ...(o as object), asOf: 'now' });
  expect(await cli('rollout', 'list')).toEqual(await api('/api/v1/rollouts'));
  expect(noAsOf(await cli('rollout', 'status', R))).toEqual(noAsOf(await api(`/api/v1/rollouts/${R}`)));
  expect(await cli('rollout', 'status', R, '--unit', 'P.A.1')).toEqual(await api(`/api/v1/rollouts/${R}/units/P.A.1`));
  expect(await cli('escalations', '--rollout', R, '--status', 'all', '--page-size', '100')).toEqual(await api(`/api/v1/escalations?rolloutId=${R}&status=all&pageSize=100`));
  expect(await cli('audit', 'timeline', R, '--unit', 'P.A.1', '--page', '2', '--page-size', '3', '--lang', 'en')).toEqual(
    await api(`/api/v1/rollouts/${R}/units/P.A.1/timeline?page=2&pageSize=3&lang=en`),
  );
  // One instant format everywhere: the Vietnam offset, never Z.
  const overview = (await api(`/api/v1/rollouts/${R}`)) as { rollout: { startedAt: string }; asOf: string };
  expect(overview.rollout.startedAt).toMatch(/\+07:00$/);
  expect(overview.asOf).toMatch(/\+07:00$/);
});

test('the same rollout ID with another body right after a start (not yet recorded) is a 409 too, never alreadyStarted', async () => {
  const body = { resolution: '21-NQ/TW', resolutionDate: '2022-06-16', title: 'Đợt thứ hai', rootUnit: 'P.A', plan: PLAN, rolloutId: 'api-race' };
  const first = await call('POST', '/api/v1/rollouts', 'ops', body);
  expect(first).toMatchObject({ status: 201, body: { alreadyStarted: false } });
  // At once: the rollout workflow may not have recorded RolloutStarted yet; the answer waits for it.
  const other = await call('POST', '/api/v1/rollouts', 'ops', { ...body, title: 'Một đợt khác' });
  expect(other.status).toBe(409);
  expect(other.body.issues.map((i: { path: string }) => i.path)).toEqual(['title']);
  const same = await call('POST', '/api/v1/rollouts', 'ops', body);
  expect(same).toMatchObject({ status: 201, body: { alreadyStarted: true } });
  await call('POST', '/api/v1/rollouts/api-race/cancel', 'ops', { reason: 'Kiểm thử xong' });
});
