/**
 * Where a webhook may be sent (server-side request forgery): never to loopback, link-local, private,
 * shared, documentation, multicast or reserved addresses (IPv4 and IPv6, IPv4-mapped and NAT64 forms
 * included), unless TRIENKHAI_WEBHOOK_ALLOW_PRIVATE allows them: `all`, or a comma-separated list of
 * addresses and CIDR ranges (e.g. `10.20.0.0/16,127.0.0.1`).
 *
 * Checked twice: when contacts are imported (the URL's host, as the URL parser normalises it, so
 * `http://2130706433/`, `http://0x7f.1/` and `http://[::ffff:127.0.0.1]/` are all 127.0.0.1; names
 * like `localhost`), and when each webhook is delivered: the host name is resolved and the connection
 * is made only to the addresses checked (the check is the lookup the connection uses), so a name that
 * resolves elsewhere later (DNS rebinding) cannot reach a private address.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** `all`, or the addresses and ranges allowed although private. */
export type WebhookAllowPrivate = 'all' | ReadonlyArray<string>;

const FORBIDDEN: Array<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', '"this network" (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'ipv4', 'private (10.0.0.0/8)'],
  ['100.64.0.0', 10, 'ipv4', 'shared address space (100.64.0.0/10)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback (127.0.0.0/8)'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (169.254.0.0/16)'],
  ['172.16.0.0', 12, 'ipv4', 'private (172.16.0.0/12)'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'ipv4', 'documentation (192.0.2.0/24)'],
  ['192.88.99.0', 24, 'ipv4', '6to4 relay (192.88.99.0/24)'],
  ['192.168.0.0', 16, 'ipv4', 'private (192.168.0.0/16)'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'ipv4', 'documentation (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'ipv4', 'documentation (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'ipv4', 'multicast (224.0.0.0/4)'],
  ['240.0.0.0', 4, 'ipv4', 'reserved (240.0.0.0/4, broadcast included)'],
  ['::', 128, 'ipv6', 'unspecified (::)'],
  ['::1', 128, 'ipv6', 'loopback (::1)'],
  ['100::', 64, 'ipv6', 'discard (100::/64)'],
  ['2001:db8::', 32, 'ipv6', 'documentation (2001:db8::/32)'],
  ['fc00::', 7, 'ipv6', 'unique local (fc00::/7)'],
  ['fe80::', 10, 'ipv6', 'link-local (fe80::/10)'],
  ['fec0::', 10, 'ipv6', 'site-local (fec0::/10)'],
  ['ff00::', 8, 'ipv6', 'multicast (ff00::/8)'],
];

const ranges = FORBIDDEN.map(([net, prefix, type, what]) => {
  const b = new BlockList();
  b.addSubnet(net, prefix, type);
  return { b, type, what };
});

/** The IPv4 address an IPv6 one stands for (IPv4-mapped, IPv4-compatible, NAT64, 6to4), if any. */
function embeddedIpv4(ip6: string): string | undefined {
  const groups = expand(ip6);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number): string => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (n: number): boolean => groups.slice(0, n).every((g) => g === 0);
  if (zeros(5) && groups[5] === 0xffff) return v4(groups[6]!, groups[7]!); // ::ffff:a.b.c.d
  if (zeros(6) && (groups[6] !== 0 || groups[7]! > 1)) return v4(groups[6]!, groups[7]!); // ::a.b.c.d (deprecated)
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return v4(groups[6]!, groups[7]!); // 64:ff9b::/96
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!); // 6to4
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (with a trailing dotted IPv4 part handled). */
function expand(ip6: string): number[] | undefined {
  let s = ip6.split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const p = dotted[1]!.split('.').map(Number);
    s = `${s.slice(0, dotted.index)}${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : undefined;
  const groups = t === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

function allowed(ip: string, allow: WebhookAllowPrivate): boolean {
  if (allow === 'all') return true;
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  for (const entry of allow) {
    const [net, prefix] = entry.split('/');
    const type = isIP(net!) === 6 ? 'ipv6' : 'ipv4';
    if (type !== family) continue;
    const b = new BlockList();
    if (prefix === undefined) b.addAddress(net!, type);
    else b.addSubnet(net!, Number(prefix), type);
    if (b.check(ip, family)) return true;
  }
  return false;
}

/** Why a webhook may not be sent to this IP address (undefined: it may). */
export function forbiddenAddress(ip: string, allow: WebhookAllowPrivate = []): string | undefined {
  const version = isIP(ip);
  if (version === 0) return `"${ip}" is not an IP address`;
  const v4 = version === 6 ? embeddedIpv4(ip) : ip;
  for (const candidate of v4 && v4 !== ip ? [ip, v4] : [ip]) {
    const family = isIP(candidate) === 6 ? 'ipv6' : 'ipv4';
    for (const r of ranges) {
      if (r.type !== family || !r.b.check(candidate, family)) continue;
      if (allowed(candidate, allow) || (candidate !== ip && allowed(ip, allow))) continue;
      return `${candidate === ip ? ip : `${ip} (${candidate})`} is ${r.what}; webhooks go only to public addresses unless TRIENKHAI_WEBHOOK_ALLOW_PRIVATE allows it`;
    }
  }
  return undefined;
}

/** The host of a URL as a bare name or IP address (brackets and a trailing dot removed, lowercase). */
const hostOf = (url: URL): string =>
  url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();

/**
 * Why a webhook URL may not be imported (undefined: it may). Checks what can be known without DNS:
 * an IP-address host (in any form the URL parser normalises) and names that are always local.
 */
export function forbiddenWebhookUrl(address: string, allow: WebhookAllowPrivate = []): string | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return undefined; // not a URL at all: the URL check says so
  }
  if (url.username || url.password) return 'a webhook URL may not carry a user name or password';
  const host = hostOf(url);
  if (isIP(host)) return forbiddenAddress(host, allow);
  if ((host === 'localhost' || host.endsWith('.localhost') || host === 'localhost.localdomain') && allow !== 'all') {
    return `"${host}" is this machine (loopback); webhooks go only to public addresses unless TRIENKHAI_WEBHOOK_ALLOW_PRIVATE allows it`;
  }
  return undefined;
}

/** Parse TRIENKHAI_WEBHOOK_ALLOW_PRIVATE. @throws Error naming the variable and the bad entry */
export function webhookAllowPrivateFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookAllowPrivate {
  const raw = env.TRIENKHAI_WEBHOOK_ALLOW_PRIVATE?.trim() ?? '';
  if (raw === '' || raw === '0') return [];
  if (raw === 'all' || raw === '1') return 'all';
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of entries) {
    const [net, prefix, extra] = e.split('/');
    const v = isIP(net ?? '');
    const max = v === 6 ? 128 : 32;
    if (!v || extra !== undefined || (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max))) {
      throw new Error(`TRIENKHAI_WEBHOOK_ALLOW_PRIVATE: "${e}" is not an IP address or CIDR range (expected all, or e.g. 10.20.0.0/16,127.0.0.1)`);
    }
  }
  return entries;
}

/** dns.lookup with `all: true` (tests give another). */
export type Resolver = (hostname: string, options: { all: true; family?: number }, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:http(s) that resolves the name and refuses it if any of its addresses is
 * forbidden; the connection then goes only to the addresses checked.
 */
export function guardedLookup(allow: WebhookAllowPrivate, resolve: Resolver = dnsLookup as unknown as Resolver) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    resolve(hostname, { all: true, ...(options.family ? { family: Number(options.family === 'IPv6' ? 6 : options.family === 'IPv4' ? 4 : options.family) } : {}) }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses;
      const bad = list.map((a) => forbiddenAddress(a.address, allow)).find((why) => why !== undefined);
      if (bad) return callback(Object.assign(new Error(`refused: ${hostname} resolves to ${bad}`), { code: 'EPRIVATEADDRESS' }), '');
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
      callback(null, first.address, first.family);
    });
  };
}
