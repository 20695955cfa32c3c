/**
 * Notifications on real PostgreSQL, a real local webhook receiver (node:http) and a real SMTP sink
 * (smtp-server): contacts import, the outbox written with its event (and only then), delivery through
 * receivers that are down, fail, or accept and then fail, signatures, email headers, giving up after
 * the maximum attempts, and retrying by hand over the API.
 *
 * The dispatcher is driven batch by batch (`runOnce`) with no backoff, so nothing depends on timing.
 */
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { startApiServer, type ApiServer } from '../../api/server';
import { issueToken } from '../../app/tokens';
import { main } from '../../client/cli';
import { notifyConfig, webhookSecret } from '../../stack/config';
import { importUnits } from '../../app/commands';
import { withRolloutAsOf } from '../../db/as-of';
import { appendEvents } from '../../db/event-store';
import { rebuildReadModel } from '../../db/rebuild';
import type { AnyNewEvent } from '../../domain/events';
import { Dispatcher, NO_SMTP, backoffMs, type DispatcherConfig } from '../../notify/dispatcher';
import { enqueueNotifications, idempotencyKey } from '../../notify/outbox';
import { verifyWebhookSignature } from '../../notify/webhook';
import { freshDatabase, type TestDb } from '../helpers/db';
import { SmtpSink, WebhookReceiver, mailHeader, mailText } from '../helpers/receivers';

/** What the worker wires in: the outbox rides on each append's transaction. */
const withOutbox = { afterAppend: enqueueNotifications };
// The receivers listen on 127.0.0.1: allow it (webhooks to private addresses are refused otherwise).
process.env.TRIENKHAI_WEBHOOK_ALLOW_PRIVATE = '127.0.0.1';

let t: TestDb;
const SECRET = 'test-secret-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'trienkhai-notify-'));

const HIERARCHY = `code,name,level,parent,members,standing_committee
P,Đảng bộ tỉnh,tinh,,20,true
P.A,Đảng bộ huyện A,huyen,P,8,true
P.A.1,Đảng bộ xã A1,coso,P.A,5,true
P.B,Đảng bộ huyện B,huyen,P,6,true
`;

beforeAll(async () => {
  t = await freshDatabase();
  await importUnits(t.db, 'units.csv', HIERARCHY, 'user:test');
});
afterAll(async () => {
  await t?.close();
});

/** Run the CLI in this process against the test database. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = process.env.DATABASE_URL;
  process.env.DATABASE_URL = t.url;
  try {
    const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  }
}

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const count = async (table: 'notification_outbox' | 'unit_contacts'): Promise<number> =>
  Number(
    (
      await t.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

const R = 'notify-r';
let seq = 0;
/** Events of one unit stream of rollout R, numbered in order. */
const unitEvent = (unit: string, type: AnyNewEvent['type'], payload: unknown, at = '2026-11-21T03:00:00.000Z'): AnyNewEvent => {
  seq += 1;
  return { eventId: `unit/${R}/${unit}#${seq}`, streamId: `unit/${R}/${unit}`, streamSeq: seq, type, rolloutId: R, unitCode: unit, actor: 'system', occurredAt: at, payload } as AnyNewEvent;
};
const escalated = (n: number): AnyNewEvent =>
  unitEvent('P.A.1', 'Escalated', {
    key: 'study',
    escalationId: `${R}/P.A.1/study/t${n}`,
    tier: n,
    recipient: { code: 'P.A', name: 'Đảng bộ huyện A', level: 'huyen', standingCommittee: true },
    self: false,
    dueAt: '2026-11-21T02:59:59.999Z',
  });

const fast = (over: Partial<DispatcherConfig> = {}): Partial<DispatcherConfig> => ({
  webhookSecret: SECRET,
  backoffBaseMs: 0,
  backoffMaxMs: 0,
  jitter: 0,
  webhookTimeoutMs: 2_000,
  maxAttempts: 12,
  ...over,
});

/** Run batches until nothing is due (bounded, so a bug cannot loop forever). */
async function drain(d: Dispatcher, rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) if ((await d.runOnce()).claimed === 0) return;
}

test('contacts import: every bad row is named with its field, exit code 2, nothing recorded; a good file replaces the units it lists', async () => {
  const bad = file('bad.csv', 'unit,channel,address,name\nP.A,email,not-an-email,Văn phòng\nP.A,webhook,ftp://x.example/h,\nP.A,sms,0912345678,\nNOPE,email,a@example.vn,\n');
  const r = await cli('contacts', 'import', bad);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/line 2, column address: "not-an-email" is not an email address/);
  expect(r.err).toMatch(/line 3, column address: "ftp:\/\/x.example\/h" is not an http\(s\) URL/);
  expect(r.err).toMatch(/line 4, column channel: unknown channel/);
  expect(r.err).toMatch(/Nothing was recorded/);
  expect(await count('unit_contacts')).toBe(0);

  const unknownUnit = await cli(
    'contacts',
    'import',
    file(
      'unknown.json',
      JSON.stringify([
        { unit: 'P.A', channel: 'email', address: 'a@example.vn', name: 'x' },
        { unit: 'NOPE', channel: 'email', address: 'b@example.vn', name: 'y' },
      ]),
    ),
  );
  expect(unknownUnit.code).toBe(2);
  expect(unknownUnit.err).toMatch(/row 2, field unit: unit "NOPE" is not in the latest hierarchy/);
  expect(await count('unit_contacts')).toBe(0);

  // NFD input is stored NFC.
  const nfd = 'Văn phòng Huyện ủy'.normalize('NFD');
  const ok = await cli(
    'contacts',
    'import',
    file('ok.csv', `unit,channel,address,name\nP.A,email,vanphong@huyen-a.example.vn,${nfd}\nP.A,webhook,http://127.0.0.1:1/old,\nP.B,email,b@huyen-b.example.vn,\n`),
  );
  expect(ok).toMatchObject({ code: 0 });
  const listed = JSON.parse((await cli('contacts', 'list', '--unit', 'P.A', '--json')).out) as Array<{ name: string; address: string }>;
  expect(listed.map((c) => c.address)).toEqual(['vanphong@huyen-a.example.vn', 'http://127.0.0.1:1/old']);
  expect(listed[0]!.name).toBe('Văn phòng Huyện ủy'.normalize('NFC'));
  // A second import replaces P.A's contacts only.
  expect((await cli('contacts', 'import', file('again.csv', 'unit,channel,address\nP.A,email,vanphong@huyen-a.example.vn\n'))).code).toBe(0);
  expect((await t.db.selectFrom('unit_contacts').select(['unit_code', 'address']).orderBy('unit_code').execute()).map((c) => `${c.unit_code} ${c.address}`)).toEqual([
    'P.A vanphong@huyen-a.example.vn',
    'P.B b@huyen-b.example.vn',
  ]);
});

const hook = new WebhookReceiver();
const smtp = new SmtpSink();

test('outbox rows are written in the same transaction as the event: none for a rolled-back append, a duplicate, a rebuild or an as-of fold', async () => {
  await hook.reserve(); // a port nothing listens on yet: the receiver is down
  await smtp.reserve();
  await t.db.deleteFrom('unit_contacts').execute();
  await t.db
    .insertInto('unit_contacts')
    .values([
      { unit_code: 'P.A', channel: 'webhook', address: hook.url, name: 'e-office huyện A' },
      { unit_code: 'P.A', channel: 'email', address: 'vanphong@huyen-a.example.vn', name: 'Văn phòng' },
    ])
    .execute();

  const e1 = escalated(1);
  // A batch whose second event is out of sequence fails as a whole: no event, no outbox row.
  const broken = { ...escalated(2), streamSeq: 99 } as AnyNewEvent;
  seq -= 1;
  await expect(appendEvents(t.db, [e1, broken], withOutbox)).rejects.toThrow(/sequence/);
  expect(await count('notification_outbox')).toBe(0);

  expect(await appendEvents(t.db, [e1], withOutbox)).toEqual({ appended: 1, duplicates: 0 });
  const rows = await t.db.selectFrom('notification_outbox').selectAll().orderBy('channel').execute();
  expect(rows.map((r) => `${r.event_type} ${r.unit_code} → ${r.recipient_unit} ${r.channel} ${r.address} ${r.status}`)).toEqual([
    `Escalated P.A.1 → P.A email vanphong@huyen-a.example.vn pending`,
    `Escalated P.A.1 → P.A webhook ${hook.url} pending`,
  ]);
  expect(rows[1]!.idempotency_key).toBe(idempotencyKey(e1.eventId, 'webhook', hook.url));
  const payload = rows[1]!.payload as { subject: string; text: string; body: Record<string, unknown> };
  expect(payload.body).toMatchObject({
    eventType: 'Escalated',
    eventId: e1.eventId,
    rolloutId: R,
    unit: { code: 'P.A.1' },
    recipient: { code: 'P.A' },
    step: 'study',
    dueAt: '2026-11-21T09:59:59.999+07:00',
    escalation: { tier: 1 },
  });
  expect(payload.text.indexOf('Báo cáo Ban Thường vụ')).toBeGreaterThanOrEqual(0);
  expect(payload.text.indexOf('Báo cáo Ban Thường vụ')).toBeLessThan(payload.text.indexOf('Escalated to the standing committee'));

  expect(await appendEvents(t.db, [e1], withOutbox)).toEqual({ appended: 0, duplicates: 1 });
  expect(await count('notification_outbox')).toBe(2);
  // Events that notify nobody add nothing.
  await appendEvents(t.db, [unitEvent('P.A.1', 'DeadlineMissed', { key: 'study', dueAt: '2026-11-21T02:59:59.999Z', waitingForParent: false })], withOutbox);
  expect(await count('notification_outbox')).toBe(2);
  const rebuilt = await rebuildReadModel(t.db);
  expect(rebuilt.equal).toBe(true);
  await withRolloutAsOf(t.db, R, new Date('2030-01-01'), async () => undefined);
  expect(await count('notification_outbox')).toBe(2);
});

test('the receiver down (refused, then 500), then back: everything is delivered, nothing lost; unconfigured email says why', async () => {
  const noMail = new Dispatcher(t.db, fast({ email: null }));
  await noMail.runOnce();
  const refused = await t.db.selectFrom('notification_outbox').selectAll().where('channel', '=', 'webhook').executeTakeFirstOrThrow();
  expect(refused).toMatchObject({ status: 'pending', attempts: 1, last_error: expect.stringMatching(/ECONNREFUSED/) });
  const mail = await t.db.selectFrom('notification_outbox').selectAll().where('channel', '=', 'email').executeTakeFirstOrThrow();
  expect(mail).toMatchObject({ status: 'pending', attempts: 0, last_error: NO_SMTP });

  // More notifications while it is down.
  await appendEvents(t.db, [escalated(2), escalated(3)], withOutbox);
  await hook.start();
  hook.answer = () => 500;
  await noMail.runOnce();
  expect(hook.received).toHaveLength(3);
  const failing = await t.db.selectFrom('notification_outbox').select(['attempts', 'last_error', 'status']).where('channel', '=', 'webhook').orderBy('notification_id').execute();
  expect(failing).toEqual([
    { attempts: 2, last_error: 'HTTP 500: status 500', status: 'pending' },
    { attempts: 1, last_error: 'HTTP 500: status 500', status: 'pending' },
    { attempts: 1, last_error: 'HTTP 500: status 500', status: 'pending' },
  ]);

  hook.answer = () => 'ok';
  await drain(noMail);
  const webhooks = await t.db.selectFrom('notification_outbox').selectAll().where('channel', '=', 'webhook').execute();
  expect(webhooks.every((r) => r.status === 'delivered' && r.delivered_at !== null && r.last_error === null)).toBe(true);
  const keys = new Set(hook.received.map((r) => r.headers['idempotency-key']));
  expect(keys).toEqual(new Set(webhooks.map((r) => r.idempotency_key)));
  // Every delivery of a notification carried the same key and body, each signed.
  for (const r of hook.received) {
    expect(verifyWebhookSignature(SECRET, r.headers['x-trienkhai-timestamp']!, r.body, r.headers['x-trienkhai-signature'])).toBe(true);
    expect(verifyWebhookSignature('another-secret', r.headers['x-trienkhai-timestamp']!, r.body, r.headers['x-trienkhai-signature'])).toBe(false);
    expect(verifyWebhookSignature(SECRET, r.headers['x-trienkhai-timestamp']!, r.body.replace('P.A.1', 'P.A.2'), r.headers['x-trienkhai-signature'])).toBe(false);
    expect(r.headers['x-trienkhai-event']).toBe('Escalated');
    expect(JSON.parse(r.body).idempotencyKey).toBe(r.headers['idempotency-key']);
  }
  expect(await t.db.selectFrom('notification_outbox').select('status').where('channel', '=', 'email').executeTakeFirstOrThrow()).toEqual({ status: 'pending' });
});

test('email: the SMTP sink down, then up; the message carries Message-ID and the idempotency key; Vietnamese first', async () => {
  const withMail = new Dispatcher(t.db, fast({ email: { url: smtp.url, from: 'trienkhai@test.example' } }));
  try {
    await withMail.runOnce();
    const down = await t.db.selectFrom('notification_outbox').selectAll().where('channel', '=', 'email').orderBy('notification_id').execute();
    expect(down.map((r) => [r.status, r.attempts])).toEqual([
      ['pending', 1],
      ['pending', 1],
      ['pending', 1],
    ]);
    expect(down[0]!.last_error).toMatch(/ECONNREFUSED/);
    await smtp.start();
    await drain(withMail);
    const rows = await t.db.selectFrom('notification_outbox').selectAll().where('channel', '=', 'email').orderBy('notification_id').execute();
    expect(rows.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(smtp.received).toHaveLength(3);
    const first = smtp.received.find((m) => mailHeader(m.raw, 'X-Trienkhai-Idempotency-Key') === rows[0]!.idempotency_key)!;
    expect(first.to).toEqual(['vanphong@huyen-a.example.vn']);
    expect(mailHeader(first.raw, 'Message-ID')).toBe(`<${rows[0]!.idempotency_key}@trienkhai>`);
    const text = mailText(first.raw);
    expect(text.indexOf('Kính gửi: Đảng bộ huyện A (P.A)')).toBe(0);
    expect(text.indexOf('— English —')).toBeGreaterThan(text.indexOf('Báo cáo Ban Thường vụ'));
  } finally {
    await withMail.stop();
  }
});

test('a receiver that records the message but answers 500 or drops the connection gets it again with the same key; honouring the key, it acts once', async () => {
  hook.received.length = 0;
  const acted: string[] = [];
  const firstSeen = new Set<string>();
  hook.answer = (r) => {
    const key = r.headers['idempotency-key']!;
    // The receiver honours the key: it acts on a key it has not seen, whatever happens to its answer.
    if (!acted.includes(key)) acted.push(key);
    if (!firstSeen.has(key)) {
      firstSeen.add(key);
      return firstSeen.size % 2 ? 500 : 'drop';
    }
    return 'ok';
  };
  await appendEvents(t.db, [escalated(4), escalated(5)], withOutbox);
  const d = new Dispatcher(t.db, fast({ email: null }));
  await drain(d);
  const fresh = await t.db
    .selectFrom('notification_outbox')
    .selectAll()
    .where('channel', '=', 'webhook')
    .where('event_id', 'in', [`unit/${R}/P.A.1#${seq - 1}`, `unit/${R}/P.A.1#${seq}`])
    .execute();
  expect(fresh.map((r) => [r.status, r.attempts])).toEqual([
    ['delivered', 2],
    ['delivered', 2],
  ]);
  expect(fresh.map((r) => r.last_error)).toEqual([null, null]);
  // Each was received twice with the same key (and the same body), and acted on once.
  for (const r of fresh) {
    const got = hook.received.filter((x) => x.headers['idempotency-key'] === r.idempotency_key);
    expect(got).toHaveLength(2);
    expect(got[0]!.body).toBe(got[1]!.body);
  }
  // No duplicate: the receiver acted exactly once per notification (a key changed on retry would show here).
  expect([...acted].sort()).toEqual(fresh.map((r) => r.idempotency_key).sort());
});

test('two dispatchers at once never send the same notification twice (FOR UPDATE SKIP LOCKED)', async () => {
  hook.received.length = 0;
  hook.answer = () => 'ok';
  const events: AnyNewEvent[] = [];
  for (let n = 6; n < 36; n++) events.push(escalated(n));
  await appendEvents(t.db, events, withOutbox);
  const a = new Dispatcher(t.db, fast({ email: null, batchSize: 5 }));
  const b = new Dispatcher(t.db, fast({ email: null, batchSize: 5 }));
  await Promise.all([drain(a), drain(b)]);
  const keys = hook.received.map((r) => r.headers['idempotency-key']);
  expect(keys).toHaveLength(30);
  expect(new Set(keys).size).toBe(30);
  expect(Number((await sql<{ n: string }>`select count(*) as n from notification_outbox where channel = 'webhook' and status <> 'delivered'`.execute(t.db)).rows[0]!.n)).toBe(0);
});

test('after the maximum attempts a notification is failed, visible over the API and the CLI; a retry requeues it', async () => {
  let api: ApiServer | undefined;
  try {
    api = await startApiServer({ db: t.db, client: () => Promise.reject(new Error('no Temporal in this test')) });
    const ops = (await issueToken(t.db, { role: 'ops', label: 'ops' })).token;
    const auditor = (await issueToken(t.db, { role: 'auditor', label: 'kiểm toán' })).token;
    const call = async (method: 'GET' | 'POST', path: string, token: string) => {
      const r = await fetch(`${api!.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      return { status: r.status, body: (await r.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    hook.answer = () => 503;
    await appendEvents(t.db, [escalated(36)], withOutbox);
    const d = new Dispatcher(t.db, fast({ email: null, maxAttempts: 3 }));
    await drain(d);
    const failed = await call('GET', `/api/v1/notifications?status=failed&rolloutId=${R}`, auditor);
    expect(failed.status).toBe(200);
    expect(failed.body.total).toBe(1);
    expect(failed.body.items[0]).toMatchObject({
      status: 'failed',
      attempts: 3,
      lastError: 'HTTP 503: status 503',
      channel: 'webhook',
      recipientUnit: 'P.A',
      unitCode: 'P.A.1',
      eventType: 'Escalated',
      deliveredAt: null,
      nextAttemptAt: null,
    });
    const id = failed.body.items[0].notificationId as string;
    expect((await cli('notifications', '--status', 'failed')).out).toMatch(new RegExp(`${id} .*Escalated.*HTTP 503`));
    // Still failed: nothing more is attempted on its own.
    expect((await d.runOnce()).claimed).toBe(0);

    expect((await call('POST', `/api/v1/notifications/${id}/retry`, auditor)).status).toBe(403);
    hook.answer = () => 'ok';
    const retried = await call('POST', `/api/v1/notifications/${id}/retry`, ops);
    expect(retried).toMatchObject({ status: 200, body: { notificationId: id, status: 'pending', attempts: 0, lastError: 'HTTP 503: status 503' } });
    await drain(d);
    expect((await call('GET', `/api/v1/notifications?status=delivered&rolloutId=${R}&pageSize=500`, ops)).body.items.map((n: { notificationId: string }) => n.notificationId)).toContain(id);
    expect((await call('POST', `/api/v1/notifications/${id}/retry`, ops)).status).toBe(409);
    expect((await call('POST', '/api/v1/notifications/999999/retry', ops)).status).toBe(404);
    expect((await call('GET', '/api/v1/notifications?status=sent', ops)).status).toBe(400);

    // `notifications retry --failed` from the CLI.
    hook.answer = () => 500;
    await appendEvents(t.db, [escalated(37)], withOutbox);
    await drain(d);
    expect((await cli('notifications', 'retry', '--failed')).out).toBe('Requeued 1 failed notification(s).');
    hook.answer = () => 'ok';
    await drain(d);
    expect((await call('GET', '/api/v1/notifications?status=failed', ops)).body.total).toBe(0);
  } finally {
    await api?.close();
    await hook.stop();
    await smtp.stop();
  }
});

test('backoff doubles from the base, is capped, and jitters within bounds', () => {
  const cfg = { backoffBaseMs: 10_000, backoffMaxMs: 3_600_000, jitter: 0.1 };
  expect([1, 2, 3, 4].map((n) => backoffMs(n, { ...cfg, jitter: 0 }))).toEqual([10_000, 20_000, 40_000, 80_000]);
  expect(backoffMs(20, { ...cfg, jitter: 0 })).toBe(3_600_000);
  expect(backoffMs(1, cfg, () => 0)).toBe(9_000);
  expect(backoffMs(1, cfg, () => 1)).toBe(11_000);
});

test('the webhook secret: TRIENKHAI_WEBHOOK_SECRET wins; else `up` generates one once into the data directory (0600) and `worker` only reuses it', () => {
  const data = mkdtempSync(join(tmpdir(), 'trienkhai-secret-'));
  const env = { TRIENKHAI_DATA_DIR: data } as NodeJS.ProcessEnv;
  expect(webhookSecret(env)).toEqual({ secret: null, source: join(data, 'webhook-secret'), created: false });
  const made = webhookSecret(env, { create: true });
  expect(made).toMatchObject({ created: true, source: join(data, 'webhook-secret') });
  expect(made.secret).toMatch(/^[0-9a-f]{64}$/);
  expect(statSync(made.source).mode & 0o777).toBe(0o600);
  expect(webhookSecret(env, { create: true })).toEqual({ ...made, created: false });
  expect(webhookSecret(env)).toEqual({ ...made, created: false });
  expect(webhookSecret({ ...env, TRIENKHAI_WEBHOOK_SECRET: 's3cret' })).toEqual({ secret: 's3cret', source: 'TRIENKHAI_WEBHOOK_SECRET', created: false });
  expect(notifyConfig({ TRIENKHAI_SMTP_URL: 'smtp://127.0.0.1:2525', TRIENKHAI_NOTIFY_MAX_ATTEMPTS: '5' }, 'x')).toMatchObject({
    enabled: true,
    webhookSecret: 'x',
    email: { url: 'smtp://127.0.0.1:2525', from: 'trienkhai@localhost' },
    maxAttempts: 5,
    backoffBaseMs: 10_000,
    backoffMaxMs: 3_600_000,
  });
  expect(() => notifyConfig({ TRIENKHAI_NOTIFY_BACKOFF_SECONDS: 'soon' }, null)).toThrow(/TRIENKHAI_NOTIFY_BACKOFF_SECONDS must be a number/);
});
