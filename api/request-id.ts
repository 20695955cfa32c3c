/**
 * Request IDs: every answer carries `X-Request-Id` (error bodies also say `requestId`), and the
 * server's log line for the request shows it, so an integrator can quote it. A sane incoming
 * `X-Request-Id` (1–128 characters of `A–Z a–z 0–9 . _ : @ -`) is kept; anything else gets a new one.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const SANE = /^[A-Za-z0-9._:@-]{1,128}$/;

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headersDistinct?.['x-request-id'];
  if (given && given.length === 1 && SANE.test(given[0]!)) return given[0]!;
  return randomUUID();
}
