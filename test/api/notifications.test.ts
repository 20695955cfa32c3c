/**
 * Notifications end to end, on a real Temporal dev server, real PostgreSQL, a real worker and a real
 * local webhook receiver: a rollout whose deadline passes in seconds reminds every unit and escalates
 * it, and each notification reaches the webhook of the unit it is addressed to, signed. Then the
 * role × route × own/other-unit matrix of the notification and contact routes (every status exact).
 *
 * Hierarchy and tokens as in api.test.ts: P → P.A, P.B → P.A.1, P.B.1 → P.A.1.C; unit P.A.1;
 * committee P.A; inspector P.A. "Own" is P.A's subtree, "other" P.B's or above.
 */
import { issueToken } from '../../app/tokens';
import { Dispatcher } from '../../notify/dispatcher';
import { verifyWebhookSignature } from '../../notify/webhook';
import { HIERARCHY, startApiStack, type ApiStack } from '../helpers/api-stack';
import type { TestDb } from '../helpers/db';
import { WebhookReceiver } from '../helpers/receivers';
import { until } from '../helpers/wait';

// The receivers listen on 127.0.0.1: allow it (webhooks to private addresses are refused otherwise).
process.env.TRIENKHAI_WEBHOOK_ALLOW_PRIVATE = '127.0.0.1';

let s: ApiStack;
let t: TestDb;
let tokens: Record<string, string>;
const call: ApiStack['call'] = (...args) => s.call(...args);
let dispatcher: Dispatcher;
const hook = new WebhookReceiver();
const R = 'notify-e2e';
const SECRET = 'e2e-webhook-secret';
const UNITS = ['P', 'P.A', 'P.A.1', 'P.A.1.C', 'P.B', 'P.B.1'];

const PLAN = {
  id: 'notify',
  title: 'Kiểm thử thông báo',
  // A reminder handled after its deadline is not sent, so each unit must enrol before the deadline: 30 s
  // leaves a loaded machine room for that (the reminder itself may be handled late, as long as it is before).
  steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'PT30S' }, reminders: ['PT20S'], escalation: { tiers: 1, interval: 'PT1H' } }],
};

beforeAll(async () => {
  await hook.start();
  s = await startApiStack();
  ({ t, tokens } = s);
  dispatcher = new Dispatcher(t.db, { webhookSecret: SECRET, pollMs: 200, backoffBaseMs: 200, backoffMaxMs: 1000 }).start();
  tokens.ops = (await issueToken(t.db, { role: 'ops', label: 'Văn phòng' })).token;
  tokens.auditor = (await issueToken(t.db, { role: 'auditor', label: 'Kiểm toán' })).token;
});

afterAll(async () => {
  await dispatcher?.stop();
  await s?.close();
  await hook.stop();
});

const hookOf = (unit: string): string => `http://127.0.0.1:${hook.port}/hook/${unit}`;

test('a rollout reminds and escalates; every notification reaches the webhook of the unit it is addressed to, signed, once per key', async () => {
  expect((await call('POST', '/api/v1/units/import', 'ops', { fileName: 'units.csv', content: HIERARCHY })).status).toBe(201);
  tokens.unit = (await issueToken(t.db, { role: 'unit', unitCode: 'P.A.1', label: 'Xã A1' })).token;
  tokens.committee = (await issueToken(t.db, { role: 'committee', unitCode: 'P.A', label: 'BTV huyện A' })).token;
  tokens.inspector = (await issueToken(t.db, { role: 'inspector', unitCode: 'P.A', label: 'UBKT huyện A' })).token;

  const bad = await call('POST', '/api/v1/contacts/import', 'ops', { fileName: 'c.csv', content: 'unit,channel,address,name\nP.A,webhook,not a url,\n' });
  expect(bad.status).toBe(400);
  expect(bad.body.issues).toEqual([expect.objectContaining({ path: 'line 2, column address' })]);
  const csv = ['unit,channel,address,name', ...UNITS.map((u) => `${u},webhook,${hookOf(u)},Văn phòng ${u}`)].join('\n');
  expect(await call('POST', '/api/v1/contacts/import', 'ops', { fileName: 'contacts.csv', content: csv })).toMatchObject({ status: 201, body: { contacts: 6, replaced: 0 } });

  const started = await call('POST', '/api/v1/rollouts', 'ops', { resolution: 'Số: 21-NQ/TƯ', resolutionDate: '2022-06-16', title: 'Nghị quyết 21', rootUnit: 'P', plan: PLAN, rolloutId: R });
  expect(started.status).toBe(201);
  await until('the escalations', async () => ((await call('GET', `/api/v1/escalations?rolloutId=${R}`, 'ops')).body.total === 6 ? true : undefined), 120_000);
  const reminders = Number(
    (
      await t.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('rollout_id', '=', R)
        .where('type', '=', 'ReminderSent')
        .executeTakeFirstOrThrow()
    ).n,
  );
  expect(reminders).toBe(6);
  const all = await until(
    'every notification delivered',
    async () => {
      const r = await call('GET', `/api/v1/notifications?rolloutId=${R}&pageSize=500`, 'ops');
      return r.body.total === 12 && r.body.items.every((n: { status: string }) => n.status === 'delivered') ? r.body.items : undefined;
    },
    120_000,
  );

  const routes = (all as Array<{ eventType: string; unitCode: string; recipientUnit: string; address: string }>)
    .map((n) => `${n.eventType} ${n.unitCode} → ${n.recipientUnit} ${n.address === hookOf(n.recipientUnit) ? 'ok' : n.address}`)
    .sort();
  expect(routes).toEqual(
    [
      ...UNITS.map((u) => `ReminderSent ${u} → ${u} ok`),
      'Escalated P → P ok',
      'Escalated P.A → P ok',
      'Escalated P.B → P ok',
      'Escalated P.A.1 → P.A ok',
      'Escalated P.B.1 → P.B ok',
      'Escalated P.A.1.C → P.A.1 ok',
    ].sort(),
  );
  // What the receiver got: one distinct key per notification, each at its recipient's hook, signed.
  const keys = new Set(hook.received.map((r) => r.headers['idempotency-key']));
  expect(keys).toEqual(new Set((all as Array<{ idempotencyKey: string }>).map((n) => n.idempotencyKey)));
  const toPA = hook.received.filter((r) => r.path === '/hook/P.A' && r.headers['x-trienkhai-event'] === 'Escalated');
  expect(toPA).toHaveLength(1);
  const body = JSON.parse(toPA[0]!.body);
  expect(body).toMatchObject({
    eventType: 'Escalated',
    rolloutId: R,
    rolloutTitle: 'Nghị quyết 21',
    unit: { code: 'P.A.1', name: 'Đảng bộ xã A1' },
    recipient: { code: 'P.A', name: 'Đảng bộ huyện A' },
    step: 'study',
    escalation: { tier: 1 },
  });
  expect(body.dueAt).toMatch(/\+07:00$/);
  for (const r of hook.received) expect(verifyWebhookSignature(SECRET, r.headers['x-trienkhai-timestamp']!, r.body, r.headers['x-trienkhai-signature'], { maxAgeSeconds: 300 })).toBe(true);
});

type Expect = { o: number; a: number; u: number; c: number; i: number };
const ALL = (s: number): Expect => ({ o: s, a: s, u: s, c: s, i: s });
const OPS_AUD = (s: number, others: number): Expect => ({ o: s, a: s, u: others, c: others, i: others });
const WHO = { o: 'ops', a: 'auditor', u: 'unit', c: 'committee', i: 'inspector' } as const;

test('every role × notification/contact route × own/other unit answers exactly as the access rules say', async () => {
  const delivered = (await call('GET', `/api/v1/notifications?rolloutId=${R}&recipient=P.A.1`, 'ops')).body.items[0].notificationId as string;
  const requests: Array<['GET' | 'POST', string, Expect, unknown?]> = [
    ['GET', '/api/v1/notifications', ALL(200)],
    ['GET', `/api/v1/notifications?rolloutId=${R}&status=delivered`, ALL(200)],
    ['GET', '/api/v1/notifications?recipient=P.A.1', ALL(200)],
    ['GET', '/api/v1/notifications?recipient=P.A.1.C', ALL(200)],
    ['GET', '/api/v1/notifications?recipient=P.A', { o: 200, a: 200, u: 403, c: 200, i: 200 }],
    ['GET', '/api/v1/notifications?recipient=P.B', OPS_AUD(200, 403)],
    ['GET', `/api/v1/notifications?recipient=P.B.1&rolloutId=${R}`, OPS_AUD(200, 403)],
    ['GET', '/api/v1/notifications?recipient=P', OPS_AUD(200, 403)],
    ['GET', '/api/v1/notifications?status=bogus', ALL(400)],
    ['POST', `/api/v1/notifications/${delivered}/retry`, { o: 409, a: 403, u: 403, c: 403, i: 403 }],
    ['POST', '/api/v1/notifications/999999/retry', { o: 404, a: 403, u: 403, c: 403, i: 403 }],
    ['GET', '/api/v1/units/P.A.1/contacts', ALL(200)],
    ['GET', '/api/v1/units/P.A.1.C/contacts', ALL(200)],
    ['GET', '/api/v1/units/P.A/contacts', { o: 200, a: 200, u: 403, c: 200, i: 200 }],
    ['GET', '/api/v1/units/P.B.1/contacts', OPS_AUD(200, 403)],
    ['GET', '/api/v1/units/P/contacts', OPS_AUD(200, 403)],
    ['GET', '/api/v1/units/NOPE/contacts', ALL(404)],
    ['POST', '/api/v1/contacts/import', { o: 400, a: 403, u: 403, c: 403, i: 403 }, { fileName: 'c.csv', content: 'unit,channel,address\nNOPE,email,a@example.vn\n' }],
  ];
  const got: string[] = [];
  const want: string[] = [];
  for (const [method, path, e, body] of requests) {
    for (const [k, who] of Object.entries(WHO)) {
      got.push(`${who} ${method} ${path} → ${(await call(method, path, who, body)).status}`);
      want.push(`${who} ${method} ${path} → ${e[k as keyof Expect]}`);
    }
  }
  expect(got).toEqual(want);
  // Refused and bad imports recorded nothing.
  expect((await t.db.selectFrom('unit_contacts').select('unit_code').execute()).length).toBe(6);

  // Scoped lists show only notifications addressed to the token's unit or below.
  const recipients = async (who: string): Promise<string[]> =>
    [...new Set<string>((await call('GET', `/api/v1/notifications?rolloutId=${R}&pageSize=500`, who)).body.items.map((n: { recipientUnit: string }) => n.recipientUnit))].sort();
  expect(await recipients('ops')).toEqual([...UNITS].sort());
  expect(await recipients('committee')).toEqual(['P.A', 'P.A.1', 'P.A.1.C']);
  expect(await recipients('inspector')).toEqual(['P.A', 'P.A.1', 'P.A.1.C']);
  expect(await recipients('unit')).toEqual(['P.A.1', 'P.A.1.C']);
  expect((await call('GET', '/api/v1/units/P.A/contacts', 'committee')).body).toEqual([
    expect.objectContaining({ unitCode: 'P.A', channel: 'webhook', address: hookOf('P.A'), name: 'Văn phòng P.A' }),
  ]);

  // The allowed write: ops imports (replacing P.B's contacts only).
  const ok = await call('POST', '/api/v1/contacts/import', 'ops', {
    fileName: 'c.json',
    content: JSON.stringify({ contacts: [{ unit: 'P.B', channel: 'email', address: 'vp@huyen-b.example.vn', name: 'Văn phòng' }] }),
  });
  expect(ok).toMatchObject({ status: 201, body: { units: ['P.B'], contacts: 1, replaced: 1 } });
  expect((await call('GET', '/api/v1/units/P.B/contacts', 'ops')).body.map((c: { address: string }) => c.address)).toEqual(['vp@huyen-b.example.vn']);

  const doc = await call('GET', '/api/v1/openapi.json', 'ops');
  expect(Object.keys(doc.body.paths)).toEqual(
    expect.arrayContaining(['/api/v1/notifications', '/api/v1/notifications/{notificationId}/retry', '/api/v1/contacts/import', '/api/v1/units/{unitCode}/contacts']),
  );
});
