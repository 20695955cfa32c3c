/**
 * The HTTP doors, against the real API server and a real PostgreSQL (no Temporal: no request here
 * gets that far). Every hostile request is a 4xx naming where, with the error shape and a request ID;
 * nothing is recorded. The rate limiter runs on an injected clock, so nothing here waits for time.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { startApiServer, createApiHandler, type ApiServer } from '../../api/server';
import { issueToken } from '../../app/tokens';
import { errorStatuses } from '../../api/openapi';
import { createRateLimiter, parseRateLimit } from '../../api/rate-limit';
import { importUnits } from '../../app/commands';
import { freshDatabase, type TestDb } from '../helpers/db';
import { HIERARCHY } from '../helpers/api-stack';
import { request, rawSocket, type RawResponse } from '../helpers/raw-http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../client/cli';

let t: TestDb;
let api: ApiServer;
let ops: string;
let auditor: string;
const lines: string[] = [];
const noTemporal = () => Promise.reject(new Error('no Temporal in this test'));

beforeAll(async () => {
  t = await freshDatabase();
  await importUnits(t.db, 'units.csv', HIERARCHY, 'user:test');
  api = await startApiServer({ db: t.db, client: noTemporal, log: (l) => lines.push(l), rateLimit: null });
  ops = (await issueToken(t.db, { role: 'ops', label: 'ops' })).token;
  auditor = (await issueToken(t.db, { role: 'auditor', label: 'kiểm toán' })).token;
});

afterAll(async () => {
  await api?.close();
  await t?.close();
});

const asOps = (extra: Record<string, string | string[]> = {}) => ({ authorization: `Bearer ${ops}`, ...extra });
const json = { 'content-type': 'application/json' };

/** A 4xx with the error shape and the request ID in header and body. */
function expectError(r: RawResponse, status: number, paths?: string[]): void {
  expect({ status: r.status, body: r.json }).toEqual({
    status,
    body: { error: expect.any(String), message: expect.any(String), issues: expect.any(Array), requestId: r.headers['x-request-id'] },
  });
  expect(r.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:@-]{1,128}$/);
  if (paths) expect(r.json.issues.map((i: { path: string }) => i.path)).toEqual(paths);
}

const contactsCount = async (): Promise<number> => (await t.db.selectFrom('unit_contacts').selectAll().execute()).length;

test('malformed percent-escapes and NUL in a path or query are a 400 naming the parameter', async () => {
  for (const bad of ['%ZZ', '%C3%28', '%00', '%ED%A0%80', 'P%', 'P%2']) {
    expectError(await request(api.url, 'GET', `/api/v1/units/${bad}/contacts`, { headers: asOps() }), 400, ['params.unitCode']);
    expectError(await request(api.url, 'GET', `/api/v1/rollouts/r1/units?parent=${bad}`, { headers: asOps() }), 400, ['query.parent']);
  }
  // A well-formed escape still works: P%2EA is P.A.
  expect((await request(api.url, 'GET', '/api/v1/units/P%2EA/contacts', { headers: asOps() })).status).toBe(200);
  // Raw non-ASCII or control characters in the URL must be percent-encoded.
  expectError(await rawSocket(api.url, Buffer.from('GET /api/v1/units/P\xc3\xa9/contacts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1')), 400);
  // The dashboard's files too (they are not API routes).
  expectError(await request(api.url, 'GET', '/app%ZZ.js'), 400, ['path']);
});

test('a repeated query key is a 400 naming it, not last-wins; an unknown one names it too', async () => {
  expectError(await request(api.url, 'GET', '/api/v1/rollouts?pageSize=1&pageSize=2', { headers: asOps() }), 400, ['query.pageSize']);
  expectError(await request(api.url, 'GET', '/api/v1/escalations?status=open&status=all', { headers: asOps() }), 400, ['query.status']);
  const unknown = await request(api.url, 'GET', '/api/v1/rollouts?colour=red', { headers: asOps() });
  expectError(unknown, 400);
  expect(unknown.json.message).toMatch(/colour/);
  expect((await request(api.url, 'GET', '/api/v1/rollouts?pageSize=2&page=1', { headers: asOps() })).status).toBe(200);
});

test('invalid UTF-8 in a body is a 400, never stored as U+FFFD', async () => {
  const content = Buffer.concat([Buffer.from('{"fileName":"c.csv","content":"unit,channel,address,name\\nP.A,email,a@b.vn,V'), Buffer.from([0xc3, 0x28]), Buffer.from('n\\n"}')]);
  const r = await request(api.url, 'POST', '/api/v1/contacts/import', { headers: asOps(json), body: content });
  expectError(r, 400, ['body']);
  expect(r.json.message).toMatch(/UTF-8/);
  expect(await contactsCount()).toBe(0);
});

test('NUL, lone surrogates and bad keys at any depth are a 400 naming the path, before any handler runs', async () => {
  const post = (path: string, text: string) => request(api.url, 'POST', path, { headers: asOps(json), body: text });
  expectError(await post('/api/v1/contacts/import', '{"fileName":"c.csv","content":"unit,channel,address,name\\nP.A,email,a@b.vn,V\\u0000"}'), 400, ['body.content']);
  expectError(await post('/api/v1/contacts/import', '{"fileName":"c.csv","content":"unit,channel,address,name\\nP.A,email,a@b.vn,\\ud800"}'), 400, ['body.content']);
  expectError(await post('/api/v1/contacts/import', '{"fileName":"c.csv","content":"x\\udc00y"}'), 400, ['body.content']);
  expect(await contactsCount()).toBe(0);
  expectError(await post('/api/v1/plans/check', '{"plan":{"steps":[{},{},{"title":"a\\u0000b"}]}}'), 400, ['body.plan.steps[2].title']);
  expectError(await post('/api/v1/plans/check', '{"plan":{"k\\u0000":1}}'), 400, ['body.plan']);
  expectError(await post('/api/v1/plans/check', '{"plan":{"odd key":["\\ud83d"]}}'), 400, ['body.plan["odd key"][0]']);
  // A well-formed pair is a character like any other.
  expect((await post('/api/v1/plans/check', '{"plan":{"id":"\\ud83d\\ude00"}}')).status).toBe(400); // a bad plan, but named by the plan checker
  expect((await post('/api/v1/plans/check', '{"plan":{"id":"\\ud83d\\ude00"}}')).json.issues.every((i: { path: string }) => i.path.startsWith('body.plan'))).toBe(true);
});

test('absurdly deep JSON is a 400, whatever the depth', async () => {
  const deep = (n: number) => `{"plan":${'['.repeat(n)}${']'.repeat(n)}}`;
  expect((await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps(json), body: deep(30) })).status).toBe(400); // a plan is not an array: zod says so
  const r = await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps(json), body: deep(33) });
  expectError(r, 400);
  expect(r.json.message).toMatch(/nested more than 32/);
  expectError(await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps(json), body: deep(400_000) }), 400);
});

test('bodies: wrong type 415, over the limit 413 (declared or chunked), a body on GET 400, none where one is needed 400', async () => {
  expectError(await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps({ 'content-type': 'text/plain' }), body: '{"plan":{}}' }), 415, ['header.content-type']);
  expectError(await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps({ 'content-type': 'application/jsonx' }), body: '{"plan":{}}' }), 415);
  expectError(await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps({ 'content-type': 'application/json; charset=latin1' }), body: '{"plan":{}}' }), 415);
  expectError(await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps({ 'content-type': ['application/json', 'text/plain'] }), body: '{"plan":{}}' }), 415);
  expect((await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps({ 'content-type': 'Application/JSON; charset=UTF-8' }), body: '{"plan":{}}' })).status).toBe(400); // accepted, then the plan is checked
  expectError(await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps({ ...json, 'content-length': '2000000' }) }), 413);
  const chunk = Buffer.alloc(100_000, 0x20);
  expectError(await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps({ ...json, 'transfer-encoding': 'chunked' }), chunks: Array.from({ length: 12 }, () => chunk) }), 413);
  expectError(await request(api.url, 'GET', '/api/v1/rollouts', { headers: asOps({ ...json, 'content-length': '2' }), body: '{}' }), 400, ['body']);
  expectError(await request(api.url, 'GET', '/api/v1/rollouts', { headers: asOps({ ...json, 'transfer-encoding': 'chunked' }), chunks: [Buffer.from('{}')] }), 400, ['body']);
  expectError(await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps() }), 400, ['body']);
  expectError(await request(api.url, 'POST', '/api/v1/plans/check', { headers: asOps(json), body: '{"plan":' }), 400, ['body']);
});

test('methods, headers and the request line: 405 with Allow, 400 for a repeated Authorization, node parser errors as JSON', async () => {
  for (const m of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    const r = await request(api.url, m, '/api/v1/rollouts', { headers: asOps() });
    expectError(r, 405);
    expect(r.headers.allow).toBe('GET, POST');
  }
  const head = await request(api.url, 'HEAD', '/api/v1/me', { headers: asOps() });
  expect(head.status).toBe(405);
  expectError(await request(api.url, 'POST', '/api/v1/health'), 405);
  expectError(await request(api.url, 'GET', '/api/v1/me', { headers: { authorization: [`Bearer ${ops}`, `Bearer ${auditor}`] as unknown as string } }), 400, ['header.authorization']);
  for (const a of ['Bearer', 'Bearer  ', 'Basic dXNlcjpwYXNz', `Bearer ${ops} extra`, 'Bearer tk_\u00ff', `bearer ${ops.slice(0, -1)}`]) {
    expectError(await request(api.url, 'GET', '/api/v1/me', { headers: { authorization: Buffer.from(a, 'latin1').toString('latin1') } }), 401);
  }
  expectError(await request(api.url, 'GET', `/api/v1/rollouts/${'x'.repeat(9000)}`, { headers: asOps() }), 414);
  expectError(await rawSocket(api.url, 'GET /api/v1/me HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'), 400);
  expectError(await rawSocket(api.url, 'POST /api/v1/plans/check HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n'), 400);
  expectError(await rawSocket(api.url, `GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`), 431);
  expectError(await rawSocket(api.url, 'GARBAGE\r\n\r\n'), 400);
  // And the server still answers afterwards.
  expect((await request(api.url, 'GET', '/api/v1/health')).status).toBe(200);
});

test('every error answer carries a request ID (a sane incoming one kept), and the log line shows it', async () => {
  const kept = await request(api.url, 'GET', '/api/v1/me', { headers: { 'x-request-id': 'eoffice-42.a:b@c' } });
  expectError(kept, 401);
  expect(kept.json.requestId).toBe('eoffice-42.a:b@c');
  expect(lines.some((l) => l.includes('GET /api/v1/me 401') && l.includes('req eoffice-42.a:b@c'))).toBe(true);
  for (const insane of ['has space', 'x'.repeat(129), 'semi;colon']) {
    const r = await request(api.url, 'GET', '/api/v1/me', { headers: { 'x-request-id': insane } });
    expectError(r, 401);
    expect(r.json.requestId).not.toBe(insane);
  }
  const twice = await request(api.url, 'GET', '/api/v1/me', { headers: { 'x-request-id': ['a', 'b'] } });
  expect(twice.json.requestId).not.toMatch(/^(a|b|a, b)$/);
  const ok = await request(api.url, 'GET', '/api/v1/me', { headers: asOps() });
  expect(ok.status).toBe(200);
  expect(ok.headers['x-request-id']).toEqual(expect.any(String));
});

test('the token bucket: burst, then 429 with Retry-After and RateLimit-* until the clock refills it; unauthenticated callers have their own bucket', async () => {
  let now = 1_000_000;
  const { handle } = createApiHandler({ db: t.db, client: noTemporal, rateLimit: { perSecond: 2, burst: 3 }, now: () => now });
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const me = () => request(url, 'GET', '/api/v1/me', { headers: asOps() });
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const r = await me();
      seen.push([r.status, r.headers['ratelimit-limit'], r.headers['ratelimit-remaining']]);
    }
    expect(seen).toEqual([
      [200, '3', '2'],
      [200, '3', '1'],
      [200, '3', '0'],
    ]);
    const refused = await me();
    expectError(refused, 429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    expect(refused.headers['ratelimit-reset']).toBe('2');
    // Another token, and callers without one, are not held back by this token's bucket.
    expect((await request(url, 'GET', '/api/v1/me', { headers: { authorization: `Bearer ${auditor}` } })).status).toBe(200);
    expect((await request(url, 'GET', '/api/v1/health')).status).toBe(200);
    now += 499;
    expect((await me()).status).toBe(429);
    now += 1;
    expect((await me()).status).toBe(200);
    expect((await me()).status).toBe(429);
    // Bad tokens count against the address: once it is empty, 429 instead of 401.
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(url, 'GET', '/api/v1/me', { headers: { authorization: 'Bearer nope' } })).status);
    // The address's bucket of 3: health took one, 500 ms at 2/s gave one back, so 3 left.
    expect(statuses).toEqual([401, 401, 401, 429]);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('TRIENKHAI_RATE_LIMIT and the bucket arithmetic', () => {
  expect(parseRateLimit(undefined)).toEqual({ perSecond: 50, burst: 100 });
  expect(parseRateLimit('10/s')).toEqual({ perSecond: 10, burst: 20 });
  expect(parseRateLimit('600/min,burst=30')).toEqual({ perSecond: 10, burst: 30 });
  expect(parseRateLimit('off')).toBeNull();
  expect(() => parseRateLimit('fast')).toThrow(/TRIENKHAI_RATE_LIMIT must read like/);
  expect(() => parseRateLimit('0/s')).toThrow(/more than 0/);
  let now = 0;
  const l = createRateLimiter({ perSecond: 1, burst: 2 }, () => now);
  expect([l.take('a').allowed, l.take('a').allowed, l.take('a').allowed, l.take('b').allowed]).toEqual([true, true, false, true]);
  now = 10_000; // a long pause refills only up to the burst
  expect([l.take('a').allowed, l.take('a').allowed, l.take('a').allowed]).toEqual([true, true, false]);
});

test('the OpenAPI document lists every status each route answers to bad requests', async () => {
  const doc = (await request(api.url, 'GET', '/api/v1/openapi.json')).json;
  const now = 0;
  const limited = createApiHandler({ db: t.db, client: noTemporal, rateLimit: { perSecond: 0.001, burst: 1 }, now: () => now });
  const server = createServer((req, res) => void limited.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const limitedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const limitedToken = (await issueToken(t.db, { role: 'ops', label: 'limited' })).token;
  await request(limitedUrl, 'GET', '/api/v1/me', { headers: { authorization: `Bearer ${limitedToken}` } }); // empties its bucket
  const missing: string[] = [];
  try {
    for (const r of limited.routes) {
      const documented = Object.keys(doc.paths[r.path][r.method.toLowerCase()].responses);
      expect(documented.sort()).toEqual([String(r.status ?? 200), ...Object.keys(errorStatuses(r))].sort());
      const path = r.path.replace(/\{(\w+)\}/g, (_, n: string) => (n === 'notificationId' ? '999999' : 'no-such-id'));
      const probes: Array<[string, Promise<RawResponse>]> = [
        ['no token', request(api.url, r.method, path)],
        ['auditor', request(api.url, r.method, path, { headers: { authorization: `Bearer ${auditor}`, ...json }, body: r.method === 'POST' ? '{}' : undefined })],
        ['unknown ids', request(api.url, r.method, path, { headers: asOps(json), body: r.method === 'POST' ? '{}' : undefined })],
        ['bad query escape', request(api.url, r.method, `${path}?x=%ZZ`, { headers: asOps() })],
        ['rate limited', request(limitedUrl, r.method, path, { headers: { authorization: `Bearer ${limitedToken}` } })],
      ];
      if (r.params) probes.push(['bad path escape', request(api.url, r.method, path.replace('no-such-id', '%ZZ').replace('999999', '%ZZ'), { headers: asOps() })]);
      if (r.method === 'POST') {
        probes.push(['text body', request(api.url, r.method, path, { headers: asOps({ 'content-type': 'text/plain' }), body: 'x' })]);
        probes.push(['huge body', request(api.url, r.method, path, { headers: asOps({ ...json, 'content-length': String((r.maxBodyBytes ?? 1_000_000) + 1) }) })]);
        probes.push(['NUL in the body', request(api.url, r.method, path, { headers: asOps(json), body: '{"x":"\\u0000"}' })]);
      }
      for (const [what, p] of probes) {
        const res = await p;
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expectError(res, res.status);
        if (!documented.includes(String(res.status))) missing.push(`${r.method} ${r.path} (${what}): ${res.status}`);
      }
    }
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
  expect(missing).toEqual([]);
});

test('contacts: webhooks to private addresses and over-long fields are refused at import (API and CLI), naming the row and field; nothing recorded', async () => {
  delete process.env.TRIENKHAI_WEBHOOK_ALLOW_PRIVATE;
  const csv = [
    'unit,channel,address,name',
    'P.A,webhook,http://127.0.0.1:8080/hook,',
    'P.A,webhook,http://2130706433/hook,',
    'P.B,webhook,http://[::ffff:169.254.169.254]/latest,',
    'P.B,webhook,http://localhost/x,',
    `P.B,email,${'a'.repeat(5000)}@example.vn,`,
    `P.B,email,${'a'.repeat(65)}@example.vn,`,
    `P.B,webhook,https://eoffice.example.vn/${'p'.repeat(2100)},`,
    `P.B,email,vp@example.vn,${'n'.repeat(201)}`,
    'P.B,webhook,https://eoffice.example.vn/hook,ok',
  ].join('\n');
  const r = await request(api.url, 'POST', '/api/v1/contacts/import', { headers: asOps(json), body: JSON.stringify({ fileName: 'c.csv', content: csv }) });
  expectError(r, 400, [
    'line 2, column address',
    'line 3, column address',
    'line 4, column address',
    'line 5, column address',
    'line 6, column address',
    'line 7, column address',
    'line 8, column address',
    'line 9, column name',
  ]);
  expect(r.json.issues[0].message).toMatch(/127\.0\.0\.1 is loopback .*TRIENKHAI_WEBHOOK_ALLOW_PRIVATE/);
  expect(r.json.issues[4].message).toMatch(/at most 254 characters/);
  expect(r.json.issues[4].message.length).toBeLessThan(200);
  const json1 = JSON.stringify([{ unit: 'P.A', channel: 'webhook', address: 'http://[::1]/' }]);
  expectError(await request(api.url, 'POST', '/api/v1/contacts/import', { headers: asOps(json), body: JSON.stringify({ fileName: 'c.json', content: json1 }) }), 400, ['row 1, field address']);
  // The CLI: the same rule, the same names.
  const dir = mkdtempSync(join(tmpdir(), 'trienkhai-doors-'));
  const file = join(dir, 'contacts.csv');
  writeFileSync(file, 'unit,channel,address,name\nP.A,webhook,http://10.0.0.7/hook,\n');
  const err: string[] = [];
  const saved = process.env.DATABASE_URL;
  process.env.DATABASE_URL = t.url;
  try {
    expect(await main(['contacts', 'import', file], { out: () => undefined, err: (l) => err.push(l) })).toBe(2);
  } finally {
    process.env.DATABASE_URL = saved;
  }
  expect(err.join('\n')).toMatch(/line 2, column address.*10\.0\.0\.7 is private/);
  expect(await contactsCount()).toBe(0);
  // Allowed by configuration, the same file imports.
  process.env.TRIENKHAI_WEBHOOK_ALLOW_PRIVATE = '10.0.0.0/8';
  try {
    expect(
      (
        await request(api.url, 'POST', '/api/v1/contacts/import', {
          headers: asOps(json),
          body: JSON.stringify({ fileName: 'c.csv', content: 'unit,channel,address,name\nP.A,webhook,http://10.0.0.7/hook,\n' }),
        })
      ).status,
    ).toBe(201);
  } finally {
    delete process.env.TRIENKHAI_WEBHOOK_ALLOW_PRIVATE;
  }
  expect(await contactsCount()).toBe(1);
});

test('Temporal unreachable: a write that needs it is a 503 with Retry-After and says how to retry, never a 500', async () => {
  const { Client, Connection } = await import('@temporalio/client');
  // A port nothing listens on: the same failure as a Temporal server that is down.
  const down = await startApiServer({ db: t.db, client: async () => new Client({ connection: await Connection.connect({ address: '127.0.0.1:1', connectTimeout: '2s' }) }), rateLimit: null });
  try {
    const r = await request(down.url, 'POST', '/api/v1/rollouts', {
      headers: { authorization: `Bearer ${ops}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resolution: '21-NQ/TW', resolutionDate: '2022-06-16', title: 'Nghị quyết 21', rootUnit: 'P', plan: 'demo', rolloutId: 'temporal-down' }),
    });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.json).toMatchObject({ error: 'unavailable', message: expect.stringMatching(/Temporal\) is unavailable; try again with the same request ID/) });
    expect(await t.db.selectFrom('rollouts').select('rollout_id').where('rollout_id', '=', 'temporal-down').execute()).toEqual([]);
  } finally {
    await down.close();
  }
});
