/**
 * A seeded fuzz of the HTTP doors, against the real stack (PostgreSQL, Temporal, a worker, the API on
 * loopback) with a hierarchy and a running rollout, so hostile requests reach real handlers: a bounded
 * number of requests (FUZZ_COUNT, default 300) across every route of the OpenAPI document, with
 * hostile path segments, query strings, headers and bodies (wrong types, huge numbers, deep nesting,
 * NUL, lone surrogates, invalid UTF-8, malformed percent-escapes, wrong content types, other methods).
 *
 * Every answer must come within a generous timeout, never be a 5xx, and every 4xx must have the error
 * shape with its request ID. A failure prints the seed (FUZZ_SEED=… reproduces the run) and each
 * failing case.
 */
import { issueToken } from '../../app/tokens';
import { HIERARCHY, startApiStack, type ApiStack } from '../helpers/api-stack';
import { request, type RawResponse } from '../helpers/raw-http';

const SEED = Number(process.env.FUZZ_SEED ?? 20260921);
const COUNT = Math.min(2000, Number(process.env.FUZZ_COUNT ?? 300));
const R = 'fuzz';

// The limiter is tested on its own (doors.test.ts); here every request should reach the doors.
process.env.TRIENKHAI_RATE_LIMIT = 'off';

let s: ApiStack;
let ops = '';
let unit = '';

beforeAll(async () => {
  s = await startApiStack();
  ops = (await issueToken(s.t.db, { role: 'ops', label: 'ops' })).token;
  s.tokens.ops = ops;
  expect((await s.call('POST', '/api/v1/units/import', 'ops', { fileName: 'units.csv', content: HIERARCHY })).status).toBe(201);
  unit = (await issueToken(s.t.db, { role: 'unit', unitCode: 'P.A.1', label: 'Xã A1' })).token;
  const plan = {
    id: 'fuzz',
    title: 'Fuzz',
    steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'P30D' }, reminders: [], escalation: { tiers: 1, interval: 'P7D' } }],
  };
  expect((await s.call('POST', '/api/v1/rollouts', 'ops', { resolution: 'Số: 21-NQ/TƯ', resolutionDate: '2022-06-16', title: 'Nghị quyết 21', rootUnit: 'P', plan, rolloutId: R })).status).toBe(201);
});

afterAll(async () => {
  await s?.close();
});

/** mulberry32: small, fast, seeded. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  n: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

const describeCase = (c: Case): string =>
  `#${c.n} ${c.method} ${c.path.slice(0, 300)} headers=${JSON.stringify(c.headers).slice(0, 300)}${c.body ? ` body=${JSON.stringify(c.body.toString('latin1').slice(0, 300))} (${c.body.length} bytes)` : ''}`;

function generator(seed: number, routes: Array<{ method: string; path: string; query: string[]; body: string[] }>) {
  const r = rng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const pick = <T>(xs: ReadonlyArray<T>): T => xs[int(xs.length)]!;
  const SEGMENTS = [
    'P',
    'P.A.1',
    R,
    '1',
    'demo',
    '%ZZ',
    '%C3%28',
    '%00',
    '%ED%A0%80',
    '%E2%82',
    '%',
    'a%2',
    '%2F',
    '%25',
    '..',
    '.',
    encodeURIComponent('Đảng bộ'),
    encodeURIComponent("'; drop table events; --"),
    '-1',
    '1e309',
    '99999999999999999999',
    'x'.repeat(65),
    'y'.repeat(3000),
    '%F0%9F%98%80',
    '%FF%FE',
    '%C0%AF',
  ];
  const rawString = (): string =>
    pick([
      '',
      ' ',
      'a',
      'P.A.1',
      'Đảng bộ',
      'x'.repeat(int(5000)),
      'a\\u0000b',
      '\\ud800',
      '\\udfff',
      'x\\ud83d',
      '\\ud83d\\ude00',
      '2026-02-30',
      '2026-01-01',
      'P1D',
      '\\u202e',
      '<script>',
      '%00',
      '\\\\',
      '\\n\\r\\t',
    ]);
  /** A JSON text for a hostile value (escapes written raw, so lone surrogates reach the server). */
  const value = (depth: number): string => {
    switch (int(depth > 3 ? 6 : 9)) {
      case 0:
        return `"${rawString()}"`;
      case 1:
        return pick(['0', '-0', '1', '-1', '1e308', '-1e308', '1e400', '9007199254740993', '2147483648', '99999999999', '0.5', '1E-400', '123456789012345678901234567890']);
      case 2:
        return pick(['true', 'false', 'null']);
      case 3:
        return `"${rawString()}"`;
      case 4:
        return pick(['"open"', '"all"', '"studyConference"', '"study"', '"P.A.1"', '"2026-01-01"', `"${R}"`]);
      case 5:
        return '1';
      case 6: {
        const n = int(4);
        return `[${Array.from({ length: n }, () => value(depth + 1)).join(',')}]`;
      }
      case 7: {
        const d = 1 + int(45);
        return `${'['.repeat(d)}${']'.repeat(d)}`;
      }
      default: {
        const n = int(4);
        return `{${Array.from({ length: n }, () => `"${pick(['a', 'kind', 'plan', 'k\\u0000', '\\ud800', ''])}":${value(depth + 1)}`).join(',')}}`;
      }
    }
  };
  const body = (fields: string[]): Buffer => {
    switch (int(8)) {
      case 0:
        return Buffer.concat([Buffer.from('{"a":"'), Buffer.from([pick([0xff, 0xc3, 0xed, 0x80, 0xc0])]), Buffer.from('"}')]);
      case 1:
        return Buffer.from(pick(['', '{', '{"a":', 'null', '[]', '"x"', '1', '{"a":1}{"b":2}', '\u0000', ' \t']));
      case 2:
        return Buffer.from(value(0));
      default: {
        const keys = fields.length ? fields : ['a'];
        const entries = keys.filter(() => r() < 0.8).map((k) => `"${k}":${value(1)}`);
        if (r() < 0.2) entries.push(`"${pick(['extra', 'unitCode', '__proto__', 'constructor'])}":${value(1)}`);
        return Buffer.from(`{${entries.join(',')}}`);
      }
    }
  };
  return (n: number): Case => {
    const route = pick(routes);
    const method = r() < 0.85 ? route.method : pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    let path = route.path.replace(/\{\w+\}/g, () => pick(SEGMENTS));
    if (r() < 0.05) path = pick(['/api/v1/nothing', '/api/v2/me', '/api/v1/me/', '/api//v1/me', '/api/v1/rollouts/%ZZ/x', '/%ZZ', '/index.html?%ZZ', '/app.js']);
    const q: string[] = [];
    for (let i = int(4); i > 0; i--) {
      const k = r() < 0.7 && route.query.length ? pick(route.query) : pick(['x', '%ZZ', '', 'page', 'a%00', '%ED%A0%80']);
      q.push(r() < 0.1 ? k : `${k}=${pick([...SEGMENTS, '1', '0', '-5', '501', 'true', 'open', 'vi', '2026-01-01', 'a+b', '%2B'])}`);
    }
    if (q.length && r() < 0.2) q.push(q[0]!);
    if (q.length) path += `?${q.join('&')}`;
    const headers: Record<string, string> = {};
    const who = r();
    if (who < 0.75) headers.authorization = `Bearer ${ops}`;
    else if (who < 0.85) headers.authorization = `Bearer ${unit}`;
    else if (who < 0.95) headers.authorization = pick(['Bearer', 'Bearer tk_000000000000_x', 'Basic Zm9vOmJhcg==', `Bearer ${ops}x`, 'Bearer \u00ff']);
    if (r() < 0.1) headers['x-request-id'] = pick(['abc', 'x'.repeat(200), 'a b', 'fuzz-1']);
    let b: Buffer | undefined;
    if (method === 'POST' || r() < 0.05) {
      b = body(route.body);
      if (b.length || r() < 0.5)
        headers['content-type'] =
          r() < 0.85
            ? 'application/json'
            : pick(['text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', 'application/vnd.api+json', 'application/json;charset="utf-8"']);
      if (b.length) headers['content-length'] = String(b.length);
    }
    return { n, method, path, headers, ...(b ? { body: b } : {}) };
  };
}

test(`${COUNT} seeded hostile requests (seed ${SEED}): no 5xx, no hang, every error has the error shape`, async () => {
  const doc = (await request(s.api.url, 'GET', '/api/v1/openapi.json')).json;
  const routes = Object.entries(
    doc.paths as Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>>,
  ).flatMap(([path, ops]) =>
    Object.entries(ops).map(([m, op]) => ({
      method: m.toUpperCase(),
      path,
      query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      body: Object.keys(op.requestBody?.content['application/json']?.schema.properties ?? {}),
    })),
  );
  expect(routes.length).toBeGreaterThan(20);
  const next = generator(SEED, routes);
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  for (let n = 1; n <= COUNT; n++) {
    const c = next(n);
    let res: RawResponse;
    try {
      res = await request(s.api.url, c.method, c.path, { headers: c.headers, ...(c.body ? { body: c.body } : {}), timeoutMs: 30_000 });
    } catch (e) {
      failures.push(`${describeCase(c)}\n  → ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const shaped =
      c.method === 'HEAD' ||
      (res.json &&
        typeof res.json.error === 'string' &&
        typeof res.json.message === 'string' &&
        Array.isArray(res.json.issues) &&
        typeof res.json.requestId === 'string' &&
        res.json.requestId === res.headers['x-request-id']);
    if (res.status >= 500 || res.status < 100) failures.push(`${describeCase(c)}\n  → ${res.status} ${res.text.slice(0, 500)}`);
    else if (res.status >= 400 && !shaped) failures.push(`${describeCase(c)}\n  → ${res.status} without the error shape: ${res.text.slice(0, 300)}`);
  }
  console.log(`fuzz seed ${SEED}: ${COUNT} requests; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
  if (failures.length) console.error(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} npx jest test/api/fuzz.test.ts): ${failures.length} failing cases\n${failures.join('\n')}`);
  expect(failures).toEqual([]);
  // The run reached past the doors too, not only refusals at the first check.
  expect([...statuses.keys()].filter((k) => k >= 400).length).toBeGreaterThanOrEqual(4);
}, 300_000);
