/**
 * The HTTP server: the API under /api/v1 (routes.ts) and the dashboard's files. Started by
 * `trienkhai up` and `trienkhai serve`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authorize, type Principal } from './access';
import { HttpError, MAX_BODY_BYTES, compile, errorResponse, parsePart, readBody, send, type CompiledRoute, type Route } from './http';
import { openApiDocument } from './openapi';
import { createRoutes, type ApiDeps } from './routes';
import { authenticate } from './tokens';

export interface ApiServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export interface ApiServerOptions extends ApiDeps {
  port?: number;
  host?: string;
  /** One line per request (method, path, status, time, token ID). */
  log?: (line: string) => void;
  /** Serves files that are not API routes (the dashboard); undefined: 404. */
  staticFiles?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

const VERSION = '1';

export function createApiHandler(opts: ApiServerOptions): { handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>; routes: Route[] } {
  const routes = createRoutes(opts);
  const compiled = compile(routes);
  const openapi = openApiDocument(routes, VERSION);
  const log = opts.log ?? (() => undefined);

  const find = (method: string, path: string): { hit?: { c: CompiledRoute; params: Record<string, string> }; otherMethods: string[] } => {
    const otherMethods: string[] = [];
    for (const c of compiled) {
      const m = c.pattern.exec(path);
      if (!m) continue;
      if (c.route.method !== method) {
        otherMethods.push(c.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
      return { hit: { c, params }, otherMethods };
    }
    return { otherMethods };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    let principal: Principal | null = null;
    let status = 500;
    try {
      if (url.pathname === '/api/v1/health') return send(res, (status = 200), { ok: true });
      if (url.pathname === '/api/v1/openapi.json') return send(res, (status = 200), openapi);
      if (!url.pathname.startsWith('/api/')) {
        if (opts.staticFiles && (await opts.staticFiles(req, res))) return void (status = res.statusCode);
        throw new HttpError(404, 'not_found', `nothing at ${url.pathname}`);
      }
      const { hit, otherMethods } = find(req.method ?? 'GET', url.pathname);
      if (!hit) {
        if (otherMethods.length) throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; use ${otherMethods.join(' or ')}`);
        throw new HttpError(404, 'not_found', `no API route ${req.method} ${url.pathname} (see /api/v1/openapi.json)`);
      }
      const r = hit.c.route;
      if (r.public) {
        const result = await r.handler({ params: hit.params, query: {}, body: undefined, principal: { tokenId: '', role: 'auditor', unitCode: null, label: 'public' }, require: () => undefined });
        return send(res, (status = r.status ?? 200), r.response.parse(result));
      }
      const auth = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
      principal = auth ? await authenticate(opts.db, auth[1]!) : null;
      if (!principal) {
        res.setHeader('www-authenticate', 'Bearer');
        throw new HttpError(401, 'unauthorized', auth ? 'the token is unknown or revoked' : 'send a token: Authorization: Bearer <token> (issued by `trienkhai token issue`)');
      }
      const who = principal;
      const require = (action: Parameters<typeof authorize>[1], target?: Parameters<typeof authorize>[2]): void => {
        const d = authorize(who, action, target);
        if (!d.allowed) throw new HttpError(403, 'forbidden', d.reason);
      };
      if (r.action) require(r.action);
      const params = parsePart(r.params, hit.params, 'params');
      const query = parsePart(r.query, Object.fromEntries(url.searchParams), 'query');
      const rawBody = r.method === 'POST' ? await readBody(req, r.maxBodyBytes ?? MAX_BODY_BYTES) : undefined;
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
      if (s >= 500) log(`error in ${req.method} ${url.pathname}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (!res.headersSent) send(res, s, body);
      else res.end();
    } finally {
      log(`${req.method} ${url.pathname} ${status} ${Date.now() - started}ms${principal ? ` token ${principal.tokenId}` : ''}`);
    }
  };
  return { handle, routes };
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const { handle } = createApiHandler(opts);
  const server = createServer((req, res) => void handle(req, res));
  server.requestTimeout = 60_000;
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
