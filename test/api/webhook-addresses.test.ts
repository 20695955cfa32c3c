/**
 * Server-side request forgery: webhook URLs on loopback, link-local, private and reserved addresses
 * are refused (in every form the URL parser normalises), unless TRIENKHAI_WEBHOOK_ALLOW_PRIVATE allows
 * them; at delivery the host name is resolved by the lookup the connection itself uses, so a name that
 * resolves to a private address (DNS rebinding) never gets a request.
 */
import type { LookupAddress } from 'node:dns';
import { postWebhook } from '../../notify/webhook';
import { forbiddenAddress, forbiddenWebhookUrl, guardedLookup, webhookAllowPrivateFromEnv, type Resolver } from '../../notify/webhook-address';
import { WebhookReceiver } from '../helpers/receivers';

const REFUSED = [
  'http://127.0.0.1/hook',
  'http://127.1.2.3:8080/',
  'http://2130706433/', // decimal
  'http://0x7f.1/', // hex
  'http://0177.0.0.1/', // octal
  'http://0.0.0.0/',
  'http://0/',
  'http://[::]/',
  'http://[::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://[::ffff:a9fe:a9fe]/',
  'http://[64:ff9b::a9fe:a9fe]/',
  'http://[2002:7f00:1::]/',
  'http://localhost/',
  'http://LOCALHOST./',
  'http://api.localhost/',
  'http://169.254.169.254/latest/meta-data/',
  'http://10.1.2.3/',
  'http://172.16.0.1/',
  'http://172.31.255.255/',
  'http://192.168.1.1/',
  'http://100.64.0.1/',
  'http://224.0.0.1/',
  'http://255.255.255.255/',
  'http://[fe80::1]/',
  'http://[fd12:3456::1]/',
  'http://[ff02::1]/',
  'https://user:pass@eoffice.example.vn/hook',
];
const ALLOWED = ['https://eoffice.example.vn/hooks/trienkhai', 'http://8.8.8.8/', 'http://172.32.0.1/', 'http://[2606:4700:4700::1111]/', 'http://11.0.0.1/'];

test('private, loopback, link-local and reserved hosts are refused in every normalised form; public ones pass', () => {
  expect(REFUSED.filter((u) => forbiddenWebhookUrl(u) === undefined)).toEqual([]);
  expect(ALLOWED.map((u) => forbiddenWebhookUrl(u))).toEqual(ALLOWED.map(() => undefined));
  expect(forbiddenWebhookUrl('http://0x7f.1/')).toMatch(/127\.0\.0\.1 is loopback/);
  expect(forbiddenWebhookUrl('http://[::ffff:a9fe:a9fe]/')).toMatch(/169\.254\.169\.254\) is link-local/);
});

test('TRIENKHAI_WEBHOOK_ALLOW_PRIVATE allows exactly what it lists', () => {
  const allow = webhookAllowPrivateFromEnv({ TRIENKHAI_WEBHOOK_ALLOW_PRIVATE: '127.0.0.1, 10.20.0.0/16,fd00::/8' });
  expect(allow).toEqual(['127.0.0.1', '10.20.0.0/16', 'fd00::/8']);
  expect(forbiddenWebhookUrl('http://127.0.0.1:9/', allow)).toBeUndefined();
  expect(forbiddenWebhookUrl('http://[::ffff:127.0.0.1]/', allow)).toBeUndefined();
  expect(forbiddenWebhookUrl('http://127.0.0.2/', allow)).toMatch(/loopback/);
  expect(forbiddenWebhookUrl('http://10.20.3.4/', allow)).toBeUndefined();
  expect(forbiddenWebhookUrl('http://10.21.3.4/', allow)).toMatch(/private/);
  expect(forbiddenWebhookUrl('http://[fd00::5]/', allow)).toBeUndefined();
  expect(forbiddenWebhookUrl('http://localhost/', allow)).toMatch(/loopback/);
  expect(forbiddenWebhookUrl('http://localhost/', 'all')).toBeUndefined();
  expect(webhookAllowPrivateFromEnv({})).toEqual([]);
  expect(webhookAllowPrivateFromEnv({ TRIENKHAI_WEBHOOK_ALLOW_PRIVATE: 'all' })).toBe('all');
  expect(() => webhookAllowPrivateFromEnv({ TRIENKHAI_WEBHOOK_ALLOW_PRIVATE: '10.0.0.0/33' })).toThrow(/"10.0.0.0\/33" is not an IP address or CIDR range/);
  expect(() => webhookAllowPrivateFromEnv({ TRIENKHAI_WEBHOOK_ALLOW_PRIVATE: 'intranet' })).toThrow(/TRIENKHAI_WEBHOOK_ALLOW_PRIVATE/);
  expect(forbiddenAddress('8.8.8.8')).toBeUndefined();
});

test('at delivery: a name resolving to a private address gets nothing (the connection uses the checked lookup); allowed, it is delivered', async () => {
  const hook = await new WebhookReceiver().start();
  try {
    // "hooks.example.vn" resolves to a public address at import time and to 127.0.0.1 now (rebinding).
    const rebound: Resolver = (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 } as LookupAddress]);
    const req = { url: `http://hooks.example.vn:${hook.port}/hook`, body: '{"x":1}', idempotencyKey: 'k1', eventType: 'Escalated' };
    const refused = await postWebhook(req, 's', 5_000, { resolve: rebound });
    expect(refused).toEqual({ ok: false, error: expect.stringMatching(/^EPRIVATEADDRESS: refused: hooks\.example\.vn resolves to 127\.0\.0\.1 is loopback/) });
    // A name with one public and one private address is refused too.
    const mixed: Resolver = (_h, _o, cb) =>
      cb(null, [
        { address: '8.8.8.8', family: 4 },
        { address: '::1', family: 6 },
      ] as LookupAddress[]);
    expect(await postWebhook(req, 's', 5_000, { resolve: mixed })).toEqual({ ok: false, error: expect.stringMatching(/::1 is loopback/) });
    // An IP host never reaches DNS: checked before connecting.
    expect(await postWebhook({ ...req, url: `http://[::ffff:127.0.0.1]:${hook.port}/hook` }, 's', 5_000)).toEqual({ ok: false, error: expect.stringMatching(/^refused: .*loopback/) });
    expect(hook.received).toHaveLength(0);
    // Allowed by configuration: delivered, to the address the lookup gave.
    expect(await postWebhook(req, 's', 5_000, { resolve: rebound, allowPrivate: ['127.0.0.1'] })).toEqual({ ok: true });
    expect(hook.received.map((r) => [r.headers.host, r.body])).toEqual([[`hooks.example.vn:${hook.port}`, '{"x":1}']]);
  } finally {
    await hook.stop();
  }
});

test('the guarded lookup answers both lookup styles node uses (one address, or all)', async () => {
  const both: Resolver = (_h, _o, cb) =>
    cb(null, [
      { address: '8.8.8.8', family: 4 },
      { address: '2606:4700:4700::1111', family: 6 },
    ] as LookupAddress[]);
  const lookup = guardedLookup([], both);
  const one = await new Promise((resolve) => lookup('x', {}, (err, address, family) => resolve({ err, address, family })));
  expect(one).toEqual({ err: null, address: '8.8.8.8', family: 4 });
  const all = await new Promise((resolve) => lookup('x', { all: true }, (err, address) => resolve({ err, address })));
  expect(all).toEqual({
    err: null,
    address: [
      { address: '8.8.8.8', family: 4 },
      { address: '2606:4700:4700::1111', family: 6 },
    ],
  });
  const real = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup([])('localhost', {}, (err) => resolve(err)));
  expect(real?.code).toBe('EPRIVATEADDRESS');
});
