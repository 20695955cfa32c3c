/**
 * Webhook delivery: POST the notification's JSON body, signed with HMAC-SHA256.
 *
 * Headers: `Idempotency-Key` (the same on every retry of a notification: deduplicate on it),
 * `X-Trienkhai-Event` (the event type), `X-Trienkhai-Timestamp` (Unix seconds when this attempt was
 * signed) and `X-Trienkhai-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
 * Success is any 2xx answer; anything else (another status, a refused connection, no answer within
 * the timeout) is a failed attempt and is retried.
 *
 * A receiver verifies with `verifyWebhookSignature(secret, timestamp, rawBody, signatureHeader)`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

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

/** One attempt. Never throws: a failure is an outcome. */
export async function postWebhook(req: WebhookRequest, secret: string, timeoutMs: number): Promise<DeliveryOutcome> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  try {
    const res = await fetch(req.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'trienkhai-notify/1',
        'idempotency-key': req.idempotencyKey,
        'x-trienkhai-event': req.eventType,
        'x-trienkhai-timestamp': timestamp,
        'x-trienkhai-signature': signWebhook(secret, timestamp, req.body),
      },
      body: req.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text().catch(() => '');
    if (res.status >= 200 && res.status < 300) return { ok: true };
    return { ok: false, error: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}` };
  } catch (e) {
    return { ok: false, error: describeFetchError(e, timeoutMs) };
  }
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
  return e instanceof Error ? e.message : String(e);
}
