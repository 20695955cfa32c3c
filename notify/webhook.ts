/**
 * Webhook delivery: POST the notification's JSON body, signed with HMAC-SHA256.
 *
 * Headers: `Idempotency-Key` (the same on every retry of a notification: deduplicate on it),
 * `X-Trienkhai-Event` (the event type), `X-Trienkhai-Timestamp` (Unix seconds when this attempt was
 * signed) and `X-Trienkhai-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
 * Success is any 2xx answer; anything else (another status, a refused connection, no answer within
 * the timeout, a host on a private address: webhook-address.ts) is a failed attempt and is retried.
 * Redirects are not followed.
 *
 * A receiver verifies with `verifyWebhookSignature(secret, timestamp, rawBody, signatureHeader)`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { forbiddenWebhookUrl, guardedLookup, type Resolver, type WebhookAllowPrivate } from './webhook-address';

/** The signature header value for a body signed at `timestamp`. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Does `header` (X-Trienkhai-Signature) sign `body` (the raw request body, exactly as received) at
 * `timestamp` (X-Trienkhai-Timestamp) with `secret`? Compared in constant time. With
 * `maxAgeSeconds`, a timestamp further than that from `now` (default: the clock) is refused too,
 * which stops an old request from being replayed.
 */
export function verifyWebhookSignature(secret: string, timestamp: string, body: string, header: string | undefined | null, opts: { maxAgeSeconds?: number; now?: number } = {}): boolean {
  if (!header || !/^\d+$/.test(timestamp)) return false;
  if (opts.maxAgeSeconds !== undefined && Math.abs((opts.now ?? Date.now()) / 1000 - Number(timestamp)) > opts.maxAgeSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export type DeliveryOutcome = { ok: true } | { ok: false; error: string };

export interface WebhookRequest {
  url: string;
  body: string;
  idempotencyKey: string;
  eventType: string;
}

/**
 * One attempt. Never throws: a failure is an outcome. The host must be a public address unless
 * `opts.allowPrivate` allows it (webhook-address.ts; `opts.resolve` replaces DNS in tests): an IP host is checked here, a name where it is
 * resolved for the connection, so the connection goes only to an address that was checked.
 */
export async function postWebhook(req: WebhookRequest, secret: string, timeoutMs: number, opts: { allowPrivate?: WebhookAllowPrivate; resolve?: Resolver } = {}): Promise<DeliveryOutcome> {
  const allowPrivate = opts.allowPrivate ?? [];
  const timestamp = String(Math.floor(Date.now() / 1000));
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return { ok: false, error: `not a URL: ${req.url.slice(0, 200)}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, error: `not an http(s) URL: ${req.url.slice(0, 200)}` };
  const refused = forbiddenWebhookUrl(req.url, allowPrivate);
  if (refused) return { ok: false, error: `refused: ${refused}` };
  const body = Buffer.from(req.body, 'utf8');
  return new Promise<DeliveryOutcome>((resolve) => {
    let settled = false;
    const done = (o: DeliveryOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const r = send(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-length': body.length,
        'user-agent': 'trienkhai-notify/1',
        'idempotency-key': req.idempotencyKey,
        'x-trienkhai-event': req.eventType,
        'x-trienkhai-timestamp': timestamp,
        'x-trienkhai-signature': signWebhook(secret, timestamp, req.body),
      },
      lookup: guardedLookup(allowPrivate, opts.resolve) as never,
      agent: false,
    });
    const timer = setTimeout(() => {
      r.destroy();
      done({ ok: false, error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    r.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < 4096) chunks.push(c);
        size += c.length;
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString('utf8');
        done(status >= 200 && status < 300 ? { ok: true } : { ok: false, error: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}` });
      });
    });
    r.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ? `${e.code}: ${e.message}` : e.message }));
    r.end(body);
  });
}
