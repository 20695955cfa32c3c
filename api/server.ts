/**
 * The HTTP server: the API under /api/v1 (routes.ts) and the dashboard's files. Started by
 * `trienkhai up` and `trienkhai serve`.
 *
 * What arrives is checked at the door (doors.ts) before any route runs: the URL and its escapes,
 * repeated query keys, repeated headers, the body's size, type, UTF-8 and every string in it. No
 * input answers a 5xx; every answer carries an X-Request-Id, shown in the log line too.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../app/tokens';
import { authorize } from './access';
import { checkJson, decodeParam, decodePath, parseQuery, splitTarget } from './doors';
import { HttpError, MAX_BODY_BYTES, compile, errorResponse, parsePart, readBody, send, type CompiledRoute, type Route } from './http';
import { openApiDocument } from './openapi';
import { createRateLimiter, parseRateLimit, type RateDecision, type RateLimitConfig } from './rate-limit';
import { requestIdOf } from './request-id';
import { createRoutes, type ApiDeps } from './routes';
import { authenticate } from '../app/tokens';
import { webhookAllowPrivateFromEnv } from '../notify/webhook-address';

export interface ApiServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export interface ApiServerOptions extends ApiDeps {
  port?: number;
  host?: string;
  /** One line per request (method, path, status, time, request ID, token ID). */
  log?: (line: string) => void;
  /** Serves files that are not API routes (the dashboard); undefined: 404. */
  staticFiles?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /**
   * The rate limit per token (and per client address without a valid token). Default: from
   * TRIENKHAI_RATE_LIMIT (rate-limit.ts), else 50/s with bursts of 100; null: no limit.
   */
  rateLimit?: RateLimitConfig | null;
  /** The rate limiter's clock, in milliseconds (tests inject one). */
  now?: () => number;
}

const VERSION = '1';

/** The rate limit the environment asks for (TRIENKHAI_RATE_LIMIT). @throws Error naming the variable */
export function rateLimitFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimitConfig | null {
  return parseRateLimit(env.TRIENKHAI_RATE_LIMIT);
}

const PUBLIC_PATHS = new Set(['/api/v1/health', '/api/v1/openapi.json']);

export function createApiHandler(opts: ApiServerOptions): { handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>; routes: Route[] } {
  const routes = createRoutes(opts);
  const compiled = compile(routes);
  const openapi = openApiDocument(routes, VERSION);
  const log = opts.log ?? (() => undefined);
  const rateConfig = opts.rateLimit === undefined ? rateLimitFromEnv() : opts.rateLimit;
  const limiter = rateConfig ? createRateLimiter(rateConfig, opts.now) : null;
  webhookAllowPrivateFromEnv(); // a bad TRIENKHAI_WEBHOOK_ALLOW_PRIVATE fails at start, not at the first contacts import

  /** The route for a raw (still percent-encoded) path, with its raw parameters. */
  const find = (method: string, rawPath: string): { hit?: { c: CompiledRoute; params: Record<string, string> }; otherMethods: string[] } => {
    const otherMethods: string[] = [];
    for (const c of compiled) {
      const m = c.pattern.exec(rawPath);
      if (!m) continue;
      if (c.route.method !== method) {
        otherMethods.push(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => (params[n] = m[i + 1]!));
      return { hit: { c, params }, otherMethods };
    }
    return { otherMethods };
  };

  /** Take one request from a bucket; the rate-limit fields go on the answer; 429 when empty. */
  const charge = (res: ServerResponse, key: string, who: string): void => {
    if (!limiter) return;
    const d: RateDecision = limiter.take(key);
    res.setHeader('ratelimit-limit', String(d.limit));
    res.setHeader('ratelimit-remaining', String(d.remaining));
    res.setHeader('ratelimit-reset', String(d.resetSeconds));
    if (!d.allowed) {
      res.setHeader('retry-after', String(d.retryAfterSeconds));
      throw new HttpError(429, 'rate_limited', `too many requests from ${who}: at most ${d.limit} at once, refilled at ${rateConfig!.perSecond}/s; retry after ${d.retryAfterSeconds} s`);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    const method = req.method ?? 'GET';
    const address = req.socket.remoteAddress ?? 'unknown';
    const byAddress = (): void => charge(res, `addr:${address}`, `address ${address}`);
    let logPath = String(req.url ?? '/')
      .replace(/[^\x21-\x7e]/g, '?')
      .slice(0, 200);
    let principal: Principal | null = null;
    let status = 500;
    try {
      const target = splitTarget(req.url ?? '/');
      logPath = target.path.slice(0, 200);
      const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
      if (PUBLIC_PATHS.has(target.path)) {
        byAddress();
        if (method !== 'GET') throw new HttpError(405, 'method_not_allowed', `${method} is not allowed here; use GET`);
        if (hasBody) throw new HttpError(400, 'bad_request', 'a GET request takes no body', [{ path: 'body', message: 'not expected' }]);
        parseQuery(target.query);
        return send(res, (status = 200), target.path === '/api/v1/health' ? { ok: true } : openapi);
      }
      if (!target.path.startsWith('/api/')) {
        decodePath(target.path);
        parseQuery(target.query);
        if (opts.staticFiles && (await opts.staticFiles(req, res))) return void (status = res.statusCode);
        throw new HttpError(404, 'not_found', `nothing at ${target.path}`);
      }
      const { hit, otherMethods } = find(method, target.path);
      if (!hit) {
        byAddress();
        if (otherMethods.length) {
          res.setHeader('allow', [...new Set(otherMethods)].join(', '));
          throw new HttpError(405, 'method_not_allowed', `${method} is not allowed here; use ${[...new Set(otherMethods)].join(' or ')}`);
        }
        throw new HttpError(404, 'not_found', `no API route ${method} ${target.path} (see /api/v1/openapi.json)`);
      }
      const r = hit.c.route;
      if (r.public) {
        byAddress();
        parseQuery(target.query);
        const result = await r.handler({ params: hit.params, query: {}, body: undefined, principal: { tokenId: '', role: 'auditor', unitCode: null, label: 'public' }, require: () => undefined });
        return send(res, (status = r.status ?? 200), r.response.parse(result));
      }
      const authHeaders = req.headersDistinct.authorization ?? [];
      if (authHeaders.length > 1) {
        byAddress();
        throw new HttpError(400, 'bad_request', 'the Authorization header is given more than once', [{ path: 'header.authorization', message: 'given more than once' }]);
      }
      const auth = /^Bearer +(\S+)$/i.exec(authHeaders[0] ?? '');
      principal = auth ? await authenticate(opts.db, auth[1]!) : null;
      if (!principal) {
        byAddress();
        res.setHeader('www-authenticate', 'Bearer');
        throw new HttpError(401, 'unauthorized', auth ? 'the token is unknown or revoked' : 'send a token: Authorization: Bearer <token> (issued by `trienkhai token issue`)');
      }
      charge(res, `token:${principal.tokenId}`, `token ${principal.tokenId}`);
      const who = principal;
      const require = (action: Parameters<typeof authorize>[1], target?: Parameters<typeof authorize>[2]): void => {
        const d = authorize(who, action, target);
        if (!d.allowed) throw new HttpError(403, 'forbidden', d.reason);
      };
      if (r.action) require(r.action);
      const params = parsePart(r.params, Object.fromEntries(Object.entries(hit.params).map(([n, raw]) => [n, decodeParam(raw, n)])), 'params');
      const query = parsePart(r.query, parseQuery(target.query, r.query), 'query');
      if (r.method === 'GET' && hasBody) throw new HttpError(400, 'bad_request', 'a GET request takes no body', [{ path: 'body', message: 'not expected' }]);
      const rawBody = r.method === 'POST' ? await readBody(req, r.maxBodyBytes ?? MAX_BODY_BYTES) : undefined;
      if (rawBody !== undefined) checkJson(rawBody, 'body');
      if (r.body && rawBody === undefined) throw new HttpError(400, 'bad_request', 'this route needs a JSON body', [{ path: 'body', message: 'missing' }]);
      const body = parsePart(r.body, rawBody, 'body');
      const result = await r.handler({ params, query, body, principal: who, require });
      // The response must be what the OpenAPI document promises.
      const checked = r.response.safeParse(result);
      if (!checked.success) throw new Error(`response of ${r.method} ${r.path} does not match its schema: ${checked.error.message}`);
      send(res, (status = r.status ?? 200), checked.data);
    } catch (e) {
      const { status: s, body } = errorResponse(e);
      status = s;
      if (s >= 500) log(`error in ${method} ${logPath} req ${requestId}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      // A body that was refused while it was still arriving is not read further: close the connection.
      if (s === 413 || (s === 400 && (e as HttpError).issues?.[0]?.message === 'incomplete')) res.setHeader('connection', 'close');
      if (!res.headersSent) send(res, s, { ...body, requestId });
      else res.end();
    } finally {
      log(`${method} ${logPath} ${status} ${Date.now() - started}ms req ${requestId}${principal ? ` token ${principal.tokenId}` : ''}`);
    }
  };
  return { handle, routes };
}

/**
 * What node's HTTP parser refuses before any handler runs (a malformed request line or header, a bad
 * Content-Length, headers over 16 KB, …): answered as a JSON error with a request ID, like the rest.
 */
function answerClientError(err: Error & { code?: string }, socket: Socket, log: (line: string) => void): void {
  if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const [status, code, text] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'Request Header Fields Too Large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'timeout', 'Request Timeout']
        : [400, 'bad_request', 'Bad Request'];
  const requestId = randomUUID();
  const body = JSON.stringify({
    error: code,
    message: status === 431 ? 'the request headers are too large' : status === 408 ? 'the request was not received in time' : `the request is not valid HTTP (${err.code ?? 'parse error'})`,
    issues: [{ path: status === 431 ? 'header' : 'request', message: String(err.code ?? 'invalid') }],
    requestId,
  });
  log(`- - ${status} req ${requestId} (${err.code ?? err.message})`);
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { handle } = createApiHandler(opts);
  const server = createServer((req, res) => void handle(req, res));
  server.requestTimeout = 60_000;
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => answerClientError(err, socket, opts.log ?? (() => undefined)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    server,
    url: `http://${opts.host ?? '127.0.0.1'}:${a.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
