/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core) against a real stack:
 * Temporal dev server, PostgreSQL, a worker, and the API server serving web/public. People click
 * through it: ops starts a rollout with the form; a unit reports a study session (once refused by the
 * browser, once by the server, then recorded); a standing committee sees the escalation appear in its
 * inbox, extends it with a reason and sees it resolve; the tree shows coloured states and the overdue
 * filter narrows it; VI/EN switches the labels. Screenshots go to test-artifacts/screenshots/.
 *
 * Hierarchy: P (tinh) → P.A, P.B (huyen) → P.A.1, P.B.1 (coso) → P.A.1.C (chibo, no committee).
 * Plan: study for tinh/huyen/chibo due 12 s after the start (so escalations come within seconds);
 * study for coso due in 10 minutes (the unit reports it on time); P's plan due in 30 days; the
 * lower levels' plans wait for their parent's (the cascade).
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ApiServer } from '../../api/server';
import { issueToken } from '../../app/tokens';
import { localDateOf } from '../../domain/time';
import { Dispatcher } from '../../notify/dispatcher';
import { dashboardFiles } from '../../web/serve';
import { HIERARCHY, startApiStack, type ApiStack } from '../helpers/api-stack';
import type { TestDb } from '../helpers/db';
import { until } from '../helpers/wait';
import { launchChromium } from './chromium';

// The receivers listen on 127.0.0.1: allow it (webhooks to private addresses are refused otherwise).
process.env.TRIENKHAI_WEBHOOK_ALLOW_PRIVATE = '127.0.0.1';

const SHOTS = join(__dirname, '..', '..', 'test-artifacts', 'screenshots');
const R = 'web-test';
const esc = { tiers: 1, interval: 'PT1H' };
const PLAN = {
  id: 'web',
  title: 'Kiểm thử bảng điều khiển',
  steps: [
    { id: 'study', kind: 'studyConference', title: 'Học tập', levels: ['tinh', 'huyen', 'chibo'], deadline: { kind: 'afterStart', after: 'PT12S' }, reminders: [], escalation: esc },
    { id: 'study-coso', kind: 'studyConference', title: 'Học tập (cơ sở)', levels: ['coso'], deadline: { kind: 'afterStart', after: 'PT10M' }, reminders: [], escalation: esc },
    { id: 'issue', kind: 'issuePlan', title: 'Tỉnh ủy ban hành kế hoạch', levels: ['tinh'], deadline: { kind: 'afterStart', after: 'P30D' }, reminders: [], escalation: esc },
    {
      id: 'issue-lower',
      kind: 'issuePlan',
      title: 'Cấp dưới ban hành kế hoạch',
      levels: ['huyen', 'coso'],
      deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P30D' },
      reminders: [],
      escalation: esc,
    },
  ],
};

let s: ApiStack;
let t: TestDb;
let api: ApiServer;
let tokens: Record<string, string>;
const call = (method: 'GET' | 'POST', path: string, who: string, body?: unknown) => s.call(method, path, who, body);
let browser: Browser;
let dispatcher: Dispatcher | undefined;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

/** A fresh browser profile (its own sessionStorage) for one person. */
async function personPage(): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

/** Log in through the token field, as a person would. */
async function logIn(page: Page, token: string): Promise<void> {
  await page.goto(`${api.url}/`);
  await page.locator('#token').fill(token);
  await page.locator('#login button[type=submit]').click();
  await page.locator('.session .who').waitFor();
}

const reportEvents = async (unit: string): Promise<number> =>
  Number(
    (
      await t.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('unit_code', '=', unit)
        .where('type', 'like', '%Report%')
        .executeTakeFirstOrThrow()
    ).n,
  );

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium(); // first: a missing browser fails the file at once, with apt's message
  s = await startApiStack({ staticFiles: dashboardFiles() });
  ({ t, api, tokens } = s);
  tokens.ops = (await issueToken(t.db, { role: 'ops', label: 'Văn phòng Tỉnh ủy' })).token;
  expect((await call('POST', '/api/v1/units/import', 'ops', { fileName: 'units.csv', content: HIERARCHY })).status).toBe(201);
  tokens.unit = (await issueToken(t.db, { role: 'unit', unitCode: 'P.A.1', label: 'Văn phòng Đảng ủy xã A1' })).token;
  tokens.committee = (await issueToken(t.db, { role: 'committee', unitCode: 'P', label: 'Ban Thường vụ Tỉnh ủy' })).token;
  tokens.unitP = (await issueToken(t.db, { role: 'unit', unitCode: 'P', label: 'Văn phòng Tỉnh ủy' })).token;
  tokens.unitB = (await issueToken(t.db, { role: 'unit', unitCode: 'P.B', label: 'Văn phòng Huyện ủy B' })).token;
  // The province's e-office webhook is down for the whole test: its notifications fail (two attempts, no wait).
  const down = createServer();
  await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
  const downPort = (down.address() as AddressInfo).port;
  await new Promise<void>((resolve) => down.close(() => resolve()));
  const contacts = `unit,channel,address,name\nP,webhook,http://127.0.0.1:${downPort}/hook,Văn phòng Tỉnh ủy\n`;
  expect((await call('POST', '/api/v1/contacts/import', 'ops', { fileName: 'contacts.csv', content: contacts })).status).toBe(201);
  dispatcher = new Dispatcher(t.db, { webhookSecret: 'dashboard-test-secret', maxAttempts: 2, backoffBaseMs: 0, backoffMaxMs: 0, jitter: 0, pollMs: 200 }).start();
}, 300_000);

afterAll(async () => {
  await dispatcher?.stop();
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await s?.close();
});

test('ops opens the dashboard with #token=, which is taken and removed from the address, and starts a rollout with the form', async () => {
  const page = await personPage();
  await page.goto(`${api.url}/#token=${encodeURIComponent(tokens.ops!)}`);
  await page.locator('.session .who[data-role="ops"]').waitFor();
  expect(page.url()).not.toContain('token');
  expect(await page.locator('h1').textContent()).toBe('Các đợt triển khai');
  await page.locator('#rollouts, .empty').first().waitFor();

  const form = page.locator('#start-rollout');
  // The browser refuses an empty form before anything is sent.
  await form.locator('button[type=submit]').click();
  expect(await form.locator('[data-error-for="title"]').textContent()).toBe('Bắt buộc nhập.');
  await form.locator('#start-rollout-resolution').fill('Số: 21-NQ/TƯ');
  await form.locator('#start-rollout-resolutionDate').fill('2022-06-16');
  await form.locator('#start-rollout-title').fill('Nghị quyết 21-NQ/TW về tổ chức cơ sở đảng');
  await form.locator('#start-rollout-rootUnit').fill('P');
  // The built-in plans come from the server.
  expect(await form.locator('#start-rollout-planName option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))).toEqual(['bac-giang-2022', 'demo']);
  await form.locator('#start-rollout-plan').fill(JSON.stringify(PLAN, null, 1));
  await form.locator('#start-rollout-rolloutId').fill(R);
  await shot(page, '01-rollouts-start-form');
  await form.locator('button[type=submit]').click();

  await page.waitForURL(new RegExp(`#/r/${R}$`));
  await page.locator('#flash').waitFor();
  expect(await page.locator('#flash').textContent()).toBe(`Đã bắt đầu đợt ${R}: 6 đơn vị.`);
  // Enrolment is asynchronous: the overview refreshes itself until every unit is in.
  await until('6 units on the overview', async () => (await page.locator('[data-count="units"] .count-n').textContent()) === '6', 120_000);
  const rollout = await t.db.selectFrom('rollouts').selectAll().where('rollout_id', '=', R).executeTakeFirst();
  expect(rollout).toMatchObject({ root_unit: 'P', plan_id: 'web', requested_by: 'user:Văn phòng Tỉnh ủy' });
  await shot(page, '02-overview-started');
});

test('a unit reports its study session: the browser refuses 0 attendees, the server refuses 99 naming the field, 5 is recorded', async () => {
  const page = await personPage();
  await logIn(page, tokens.unit!);
  // A unit token sees its rollout and goes to its subtree, then to its own page.
  await page.locator(`#rollouts a:text("${R}")`).click();
  await page.locator('#tree .node[data-unit="P.A.1"]').waitFor();
  await page.locator('#tree .node[data-unit="P.A.1"] > .row a.code').click();
  const form = page.locator('section[data-report-step="study-coso"] form');
  await form.waitFor();
  // Only the steps a unit may report have forms: study-coso is open; issue-lower waits for the cascade.
  expect(await page.locator('section[data-report-step]').evaluateAll((els, a) => els.map((e) => e.getAttribute(a)), 'data-report-step')).toEqual(['study-coso']);

  const posts: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST') posts.push(r.url());
  });
  const attended = form.locator('input[name="attended"]');
  await attended.fill('0');
  await form.locator('button[type=submit]').click();
  expect(await form.locator('[data-error-for="attended"]').textContent()).toBe('Phải là số nguyên từ 1 trở lên.');
  expect(posts).toEqual([]);
  await shot(page, '03-unit-browser-refused');

  await attended.fill('99');
  await form.locator('button[type=submit]').click();
  await until('the server refusal', async () => ((await form.locator('[data-error-for="attended"]').textContent()) ?? '').includes('99'));
  expect(await form.locator('[data-error-for="attended"]').textContent()).toMatch(/99 attendees is more than the 5 members/);
  expect(await form.locator('.form-error').textContent()).toMatch(/^Máy chủ từ chối: /);
  expect(posts).toHaveLength(1);
  expect(await reportEvents('P.A.1')).toBe(0);
  await shot(page, '04-unit-server-refused');

  await attended.fill('5');
  await form.locator('button[type=submit]').click();
  await page.locator('#flash').waitFor();
  expect(await page.locator('#flash').textContent()).toMatch(/^Đã ghi nhận báo cáo\. Bước đã hoàn thành\. tỷ lệ 100%/);
  expect(await page.locator('#steps tr[data-step="study-coso"]').getAttribute('data-state')).toBe('onTime');
  expect(await page.locator('#timeline').textContent()).toContain('5');
  expect(await reportEvents('P.A.1')).toBeGreaterThan(0);
  await shot(page, '05-unit-reported');
});

test("the escalation appears in the standing committee's inbox; it extends the deadline with a reason and sees it resolve", async () => {
  const page = await personPage();
  await logIn(page, tokens.committee!);
  await page.locator('a[data-nav="inbox"]').click();
  expect(await page.locator('h1').textContent()).toBe('Kiến nghị gửi Ban Thường vụ P');
  // The study deadline (12 s after the start) passes: P.A and P.B are escalated to P. Refresh until they show.
  const row = page.locator('#escalations tr[data-unit="P.A"]');
  await until(
    'P.A escalated to P in the inbox',
    async () => {
      if (await row.count()) return true;
      await page.locator('#refresh').click();
      await page.waitForTimeout(300);
      return false;
    },
    120_000,
  );
  expect(await row.locator('td').nth(1).textContent()).toBe('study');
  expect(await row.locator('.overdue-by').textContent()).toMatch(/giây|phút/);
  const apiRow = (await call('GET', `/api/v1/escalations?recipient=P&unit=P.A`, 'committee')).body.items[0];
  expect(await row.getAttribute('data-escalation')).toBe(apiRow.escalationId);
  await shot(page, '06-inbox-escalation');

  // Acknowledge: recorded, the row says when, and the button is gone (once only).
  await row.locator('button[data-action="acknowledge"]').click();
  await until('the acknowledgement shown', async () => (await page.locator('#escalations tr[data-unit="P.A"] .ack').count()) > 0, 30_000);
  expect(await page.locator('#escalations tr[data-unit="P.A"] .ack').textContent()).toMatch(/^Đã nắm lúc \d\d\/\d\d\/\d{4}/);
  expect(await page.locator('#escalations tr[data-unit="P.A"] button[data-action="acknowledge"]').count()).toBe(0);
  // Direct: an empty directive is refused in the browser; a real one is recorded and counted; the escalation stays open.
  await page.locator('#escalations tr[data-unit="P.A"] button[data-action="direct"]').click();
  const direct = page.locator('#direct-form');
  await direct.locator('button[type=submit]').click();
  expect(await direct.locator('[data-error-for="directive"]').textContent()).toBe('Bắt buộc nhập.');
  await direct.locator('textarea[name="directive"]').fill('Tổ chức học tập bù ngay trong tuần');
  await direct.locator('button[type=submit]').click();
  await until('the directive counted', async () => ((await page.locator('#escalations tr[data-unit="P.A"]').textContent()) ?? '').includes('1 chỉ đạo'), 30_000);
  expect(await t.db.selectFrom('escalations').select(['status', 'acknowledged_by', 'directives', 'last_directive']).where('rollout_id', '=', R).where('unit_code', '=', 'P.A').execute()).toEqual([
    { status: 'open', acknowledged_by: expect.stringMatching(/^committee:P\//), directives: 1, last_directive: 'Tổ chức học tập bù ngay trong tuần' },
  ]);

  await page.locator('#escalations tr[data-unit="P.A"] button[data-action="extend"]').click();
  const form = page.locator('#extend-form');
  await form.locator('textarea[name="reason"]').fill('   ');
  await form.locator('button[type=submit]').click();
  expect(await form.locator('[data-error-for="reason"]').textContent()).toBe('Bắt buộc nhập.');
  const tomorrow = localDateOf(Date.now() + 24 * 3600_000);
  await form.locator('input[name="until"]').fill(tomorrow);
  await form.locator('textarea[name="reason"]').fill('Huyện đề nghị gia hạn do mưa lũ');
  await form.locator('textarea[name="decision"]').fill('Đồng ý gia hạn một ngày');
  await shot(page, '07-inbox-extend-form');
  await form.locator('button[type=submit]').click();
  await until('the extension answer', async () => ((await page.locator('#inbox-msg').textContent()) ?? '').startsWith('P.A study:'));
  const [y, m, d] = tomorrow.split('-');
  expect(await page.locator('#inbox-msg').textContent()).toBe(`P.A study: Đã gia hạn đến ${d}/${m}/${y} 23:59.`);

  // It leaves the open list, and shows among the resolved ones as extended.
  await until(
    'P.A gone from the open list',
    async () => (await page.locator('#escalations, #no-escalations').count()) > 0 && (await page.locator('#escalations tr[data-unit="P.A"]').count()) === 0,
    30_000,
  );
  await page.locator('.tabs a[data-status="resolved"]').click();
  const resolved = page.locator('#escalations tr[data-unit="P.A"]');
  await resolved.waitFor();
  expect(await resolved.getAttribute('data-status')).toBe('resolved');
  expect(await resolved.locator('.resolution-extended').textContent()).toMatch(/^đã gia hạn /);
  expect(await t.db.selectFrom('escalations').select(['status', 'resolution']).where('rollout_id', '=', R).where('unit_code', '=', 'P.A').execute()).toEqual([
    { status: 'resolved', resolution: 'extended' },
  ]);
  await shot(page, '08-inbox-resolved');
});

test('a committee above a unit extends a deadline from its page before any escalation; a unit token gets no such form', async () => {
  // P.B.1's study step (coso) is due 10 minutes after the start: open (it has not studied), not escalated yet.
  const dueOf = async () => ((await call('GET', `/api/v1/rollouts/${R}/units/P.B.1`, 'ops')).body.steps as Array<{ stepKey: string; dueAt: string }>).find((x) => x.stepKey === 'study-coso')!.dueAt;
  const before = await dueOf();
  expect(await t.db.selectFrom('escalations').select('escalation_id').where('rollout_id', '=', R).where('unit_code', '=', 'P.B.1').where('step_key', '=', 'study-coso').execute()).toEqual([]);
  const page = await personPage();
  await logIn(page, tokens.committee!);
  await page.goto(`${api.url}/#/r/${R}/u/P.B.1`);
  await page.locator('h1').waitFor();
  await shot(page, '08b-unit-page-committee-extend');
  const card = page.locator('[data-extend-step="study-coso"]');
  await card.waitFor();
  const until_ = localDateOf(Date.now() + 3 * 24 * 3600_000);
  await card.locator('input[name="until"]').fill(until_);
  await card.locator('textarea[name="reason"]').fill('Xã bị lũ cô lập');
  await card.locator('button[type=submit]').click();
  await until('the new deadline recorded', async () => ((await dueOf()) !== before ? true : undefined), 30_000);
  const [y, m, d] = until_.split('-');
  expect(await dueOf()).toBe(`${y}-${m}-${d}T23:59:59.999+07:00`);
  await page.locator('#flash').waitFor();
  expect(await page.locator('#flash').textContent()).toBe(`Đã gia hạn đến ${d}/${m}/${y} 23:59.`);
  // The unit itself may not extend: its page has no such form (and the server would refuse it).
  const unitPage = await personPage();
  await logIn(unitPage, tokens.unit!);
  await unitPage.goto(`${api.url}/#/r/${R}/u/P.A.1`);
  await unitPage.locator('tr[data-step="study-coso"]').waitFor();
  expect(await unitPage.locator('[data-extend-step]').count()).toBe(0);
  expect((await call('POST', `/api/v1/rollouts/${R}/units/P.A.1/extend`, 'unit', { stepId: 'study-coso', until: '2099-01-01', reason: 'x' })).status).toBe(403);
});

test('the tree shows each step as a coloured state, and the overdue filter narrows it to the overdue units', async () => {
  // Two more facts, reported through the API: P.B studies late, P issues its plan (a document).
  expect((await call('POST', `/api/v1/rollouts/${R}/units/P.B/reports`, 'unitB', { stepId: 'study', kind: 'studyConference', attended: 6, sessionDate: localDateOf(Date.now()) })).status).toBe(201);
  expect(
    (
      await call('POST', `/api/v1/rollouts/${R}/units/P/reports`, 'unitP', {
        stepId: 'issue',
        kind: 'issuePlan',
        documentNumber: '45-KH/TU',
        issuedOn: localDateOf(Date.now()),
        title: 'Kế hoạch thực hiện Nghị quyết 21',
      })
    ).status,
  ).toBe(201);
  await until('P.B done and P issued in the read model', async () => {
    const rows = await t.db.selectFrom('unit_steps').select(['unit_code', 'step_key', 'status']).where('rollout_id', '=', R).where('status', '=', 'done').execute();
    const done = new Set(rows.map((r) => `${r.unit_code}/${r.step_key}`));
    return done.has('P.B/study') && done.has('P/issue');
  });

  const page = await personPage();
  await page.goto(`${api.url}/#token=${encodeURIComponent(tokens.ops!)}`);
  await page.locator('.session .who').waitFor();
  await page.goto(`${api.url}/#/r/${R}/tree`);
  const state = (unit: string, step: string) => page.locator(`#tree .node[data-unit="${unit}"] > .row .chip[data-step="${step}"]`).getAttribute('data-state');
  await page.locator('#tree .node[data-unit="P.B"]').waitFor();
  expect(await state('P', 'study')).toBe('overdue');
  expect(await state('P', 'issue')).toBe('onTime');
  expect(await state('P.A', 'study')).toBe('open'); // extended: no longer overdue
  expect(await state('P.B', 'study')).toBe('late');
  expect(await state('P.A', 'issue-lower')).toBe('open'); // P issued its plan: the cascade opened it
  // Children are loaded when a unit is expanded, not before.
  expect(await page.locator('#tree .node[data-unit="P.A.1"]').count()).toBe(0);
  await page.locator('#tree .node[data-unit="P.A"] > .row button.twisty').click();
  await page.locator('#tree .node[data-unit="P.A.1"]').waitFor();
  expect(await state('P.A.1', 'study-coso')).toBe('onTime');
  expect(await state('P.A.1', 'issue-lower')).toBe('waiting');
  expect(await page.locator('.legend [data-legend]').evaluateAll((els, a) => els.map((e) => e.getAttribute(a)), 'data-legend')).toEqual(['onTime', 'late', 'open', 'overdue', 'waiting', 'cancelled']);
  const colour = (sel: string) =>
    page
      .locator(sel)
      .first()
      .evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(e).backgroundColor);
  expect(
    new Set([await colour('.chip[data-state="overdue"]'), await colour('.chip[data-state="onTime"]'), await colour('.chip[data-state="open"]'), await colour('.chip[data-state="late"]')]).size,
  ).toBe(4);
  await shot(page, '09-tree');

  await page.locator('#overdue-only').check();
  await page.waitForURL(/overdue=true/);
  await page.locator('#overdue-list .node').first().waitFor();
  const shown = await page.locator('#overdue-list .node').evaluateAll((els, a) => els.map((e) => e.getAttribute(a)), 'data-unit');
  const overdue = (await call('GET', `/api/v1/rollouts/${R}/units?overdue=true&within=P&pageSize=500`, 'ops')).body.items.map((u: { unitCode: string }) => u.unitCode);
  expect(shown).toEqual(overdue);
  expect(shown).toContain('P');
  expect(shown).not.toContain('P.A'); // extended
  expect(shown).not.toContain('P.A.1'); // reported on time
  expect(shown.length).toBeLessThan(6);
  await shot(page, '10-tree-overdue');
});

test('the overview charts show what the read model holds, the VI/EN switch changes the labels, and failed deliveries show', async () => {
  const page = await personPage();
  await page.goto(`${api.url}/#token=${encodeURIComponent(tokens.ops!)}`);
  await page.locator('.session .who').waitFor();
  await page.goto(`${api.url}/#/r/${R}`);
  await page.locator('[data-chart="study"] svg').waitFor();
  const ov = (await call('GET', `/api/v1/rollouts/${R}`, 'ops')).body;
  expect(await page.locator('[data-count="openEscalations"] .count-n').textContent()).toBe(String(ov.counts.openEscalations));

  const bar = (chart: string, level: string) => page.locator(`[data-chart="${chart}"] g.row[data-key="${level}"]`);
  // Study coverage: coso is P.A.1's 5 of 9 members (P.B.1 has not studied); huyen is P.B's 6 of 14.
  expect([await bar('study', 'coso').getAttribute('data-value'), await bar('study', 'coso').getAttribute('data-max')]).toEqual(['5', '9']);
  expect([await bar('study', 'huyen').getAttribute('data-value'), await bar('study', 'huyen').getAttribute('data-max')]).toEqual(['6', '14']);
  expect(await page.locator('[data-chart="study"] g.row').evaluateAll((els, a) => els.map((e) => e.getAttribute(a)), 'data-key')).toEqual(['tinh', 'huyen', 'coso', 'chibo']);
  // Plans issued: tinh's on time; huyen's open (the cascade opened them), coso's waiting.
  expect(await bar('plans', 'tinh').locator('rect[data-segment="onTime"]').getAttribute('data-value')).toBe('1');
  expect(await bar('plans', 'huyen').locator('rect[data-segment="open"]').getAttribute('data-value')).toBe('2');
  expect(await bar('plans', 'coso').locator('rect[data-segment="waiting"]').getAttribute('data-value')).toBe('2');
  expect(await bar('documents', 'tinh').getAttribute('data-value')).toBe('1');
  expect(await bar('documents', 'huyen').getAttribute('data-value')).toBe('0');
  // Open escalations over time: the last point is now, and agrees with the count.
  expect(await page.locator('[data-chart="escalations"] .last-value').getAttribute('data-value')).toBe(String(ov.counts.openEscalations));
  expect(await page.locator('[data-chart="escalations"] circle.dot').first().getAttribute('data-value')).toBe('0'); // none at the start
  await shot(page, '11-overview');

  expect(await page.locator('h1').textContent()).toBe('Tổng quan đợt triển khai');
  await page.locator('.lang-btn[data-lang="en"]').click();
  await until('English labels', async () => (await page.locator('h1').textContent()) === 'Rollout overview');
  expect(await page.locator('[data-chart="study"] figcaption').textContent()).toBe('Study coverage by level');
  expect(await page.locator('a[data-nav="inbox"]').textContent()).toBe('Escalation inbox');
  await page.reload();
  await page.locator('[data-chart="study"] svg').waitFor();
  expect(await page.locator('h1').textContent()).toBe('Rollout overview'); // remembered
  expect(await page.locator('html').getAttribute('lang')).toBe('en');
  await shot(page, '12-overview-en');
  await page.locator('.lang-btn[data-lang="vi"]').click();
  await until('Vietnamese labels', async () => (await page.locator('h1').textContent()) === 'Tổng quan đợt triển khai');

  // The province's webhook is down: the escalations addressed to it failed, and the panel shows each with its error.
  const failed = await until(
    'failed deliveries',
    async () => {
      const r = await call('GET', `/api/v1/notifications?rolloutId=${R}&status=failed`, 'ops');
      return r.body.total > 0 ? r.body.items : undefined;
    },
    30_000,
  );
  await page.reload();
  const first = page.locator(`#notifications tr[data-notification="${failed[0].notificationId}"]`);
  await first.waitFor();
  expect(failed[0]).toMatchObject({ recipientUnit: 'P', channel: 'webhook', status: 'failed', attempts: 2 });
  expect(await first.textContent()).toContain(failed[0].lastError);
  expect(failed[0].lastError).toMatch(/ECONNREFUSED|refused/i);
  await shot(page, '13-overview-failed-notification');
  expect(pageErrors).toEqual([]);
});

test('the charts route answers ops and auditors only, and names a missing rollout', async () => {
  tokens.auditor = (await issueToken(t.db, { role: 'auditor', label: 'Kiểm toán' })).token;
  expect((await call('GET', `/api/v1/rollouts/${R}/charts`, 'auditor')).status).toBe(200);
  expect((await call('GET', `/api/v1/rollouts/${R}/charts`, 'committee')).status).toBe(403);
  expect((await call('GET', `/api/v1/rollouts/${R}/charts`, 'unit')).status).toBe(403);
  expect((await call('GET', '/api/v1/rollouts/nope/charts', 'ops')).body).toMatchObject({ error: 'not_found', message: 'no rollout "nope"' });
});

test("ops amends the running plan from the overview (preview, then confirm), follows the batch's progress, and a unit page explains a deadline", async () => {
  const page = await personPage();
  await logIn(page, tokens.ops!);
  await page.goto(`${api.url}/#/r/${encodeURIComponent(R)}`);
  await page.locator('#amend-toggle').click();
  const form = page.locator('#amend-plan');
  await form.locator('#amend-load').click();
  await until('the running plan loaded', async () => ((await form.locator('textarea[name="plan"]').inputValue()).includes('"issue"') ? true : undefined), 15_000);
  // Not JSON: the browser says so, naming the field; nothing is sent.
  await form.locator('textarea[name="plan"]').fill('{ not json');
  await form.locator('textarea[name="reason"]').fill('Lùi hạn ban hành kế hoạch của Tỉnh ủy');
  await form.locator('button[type=submit]').click();
  expect(await form.locator('[data-error-for="plan"]').textContent()).toMatch(/không phải JSON/);
  await form.locator('#amend-load').click();
  await until('the running plan loaded again', async () => ((await form.locator('textarea[name="plan"]').inputValue()).includes('"issue"') ? true : undefined), 15_000);
  const plan = JSON.parse(await form.locator('textarea[name="plan"]').inputValue()) as { steps: Array<{ id: string; deadline: unknown }> };
  plan.steps.find((x) => x.id === 'issue')!.deadline = { kind: 'afterStart', after: 'P45D' };
  await form.locator('textarea[name="plan"]').fill(JSON.stringify(plan));
  await form.locator('button[type=submit]').click();
  await page.locator('#amend-preview li').first().waitFor();
  expect(await page.locator('#amend-preview').textContent()).toMatch(/issue/);
  expect(await t.db.selectFrom('events').select('event_id').where('type', '=', 'RolloutAmended').execute()).toHaveLength(0); // a preview records nothing
  await shot(page, '13b-overview-amend-preview');
  await page.locator('#amend-confirm').click();
  await until('the amendment recorded', async () => ((await t.db.selectFrom('events').select('event_id').where('type', '=', 'RolloutAmended').execute()).length === 1 ? true : undefined), 30_000);
  // The overview shows the batch that applies it, and keeps its progress fresh until it completes.
  await page.locator('#batches tr[data-status="completed"]').waitFor({ timeout: 60_000 });
  expect(await page.locator('#batches progress').first().getAttribute('value')).toBe(await page.locator('#batches progress').first().getAttribute('max'));
  await shot(page, '13c-overview-batches');
  // The province's page explains its plan deadline: the rule as amended, in Vietnamese.
  await page.goto(`${api.url}/#/r/${encodeURIComponent(R)}/u/P`);
  await page.locator('[data-explain-step="issue"]').click();
  const box = page.locator('pre[data-explain="issue"]');
  await box.waitFor();
  expect(await box.textContent()).toMatch(/Quy tắc: 45 ngày sau khi bắt đầu triển khai/);
  expect(pageErrors).toEqual([]);
});

test('ops cancels the rollout from the overview: a reason is required, then every unit stops and the tree shows it', async () => {
  const page = await personPage();
  await logIn(page, tokens.ops!);
  await page.goto(`${api.url}/#/r/${encodeURIComponent(R)}`);
  await page.locator('#cancel-toggle').click();
  const form = page.locator('#cancel-rollout');
  await form.locator('button[type=submit]').click();
  expect(await form.locator('[data-error-for="reason"]').textContent()).toBe('Bắt buộc nhập.');
  expect((await t.db.selectFrom('rollouts').select('status').where('rollout_id', '=', R).executeTakeFirstOrThrow()).status).toBe('running');
  await form.locator('textarea[name="reason"]').fill('Nghị quyết được thay thế');
  await shot(page, '14-overview-cancel');
  await form.locator('button[type=submit]').click();
  await until(
    'the overview says cancelled',
    async () =>
      ((await page
        .locator('#rollout-status')
        .textContent()
        .catch(() => '')) ?? '') === 'đã hủy',
    30_000,
  );
  expect(await page.locator('#cancel-toggle').count()).toBe(0); // nothing left to cancel
  await until(
    'the stopped units counted',
    async () => {
      await page.reload();
      await page.locator('#counts').waitFor();
      return (
        Number(
          (
            await page
              .locator('#counts [data-count="cancelled"], #counts .count-cancelled')
              .first()
              .textContent()
              .catch(() => '0')
          )?.match(/\d+/)?.[0] ?? 0,
        ) > 0
      );
    },
    30_000,
  );
  await until('every unit stopped', async () => (await t.db.selectFrom('rollout_units').select('status').where('rollout_id', '=', R).where('status', '=', 'active').execute()).length === 0, 30_000);
  // The tree: steps left open are shown as stopped, none as overdue.
  await page.goto(`${api.url}/#/r/${encodeURIComponent(R)}/tree`);
  await page.locator('.chip[data-state]').first().waitFor();
  const states = await page.locator('.tree .chip[data-state], #tree .chip[data-state]').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
  expect(states).toContain('cancelled');
  expect(states).not.toContain('overdue');
  await shot(page, '15-tree-cancelled');
  expect(pageErrors).toEqual([]);
});
