/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas (zod's own JSON Schema output), so
 * it cannot drift from what the server validates. The error statuses of each operation are derived
 * from its declaration (errorStatuses), plus those a route declares itself (`errors`).
 */
import { z } from 'zod';
import { ErrorBody, MAX_BODY_BYTES, type Route } from './http';

type Json = Record<string, unknown>;

const schemaOf = (s: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  return rest;
};

function parameters(s: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!s) return [];
  const js = schemaOf(s, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, schema]) => ({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema }));
}

/** Is this route a write (it records something, so may meet a conflicting write)? */
const isWrite = (r: Route): boolean => r.method === 'POST' && (r.action !== undefined || (r.status ?? 200) === 201);

/**
 * Every error status a route can answer, with what it means. Derived from the declaration: 400 always
 * (the doors check every URL, query and header); 401, 403 unless public; 404 with path parameters;
 * 409 for writes; 413, 415 where a body is read; 429 always (rate limit); 503 when the database is
 * unavailable; and whatever the route declares in `errors`.
 */
export function errorStatuses(r: Route): Record<string, string> {
  const out: Record<string, string> = {
    '400':
      r.params || r.query || r.body
        ? 'Bad input (nothing is recorded): `issues` names each field, e.g. `body.reason`, `query.pageSize`, `params.unitCode`'
        : 'Bad input at the door (nothing is recorded): a malformed URL escape, a repeated query key, a repeated Authorization header',
  };
  if (!r.public) {
    out['401'] = 'No token, or an unknown or revoked one (`WWW-Authenticate: Bearer`)';
    out['403'] = 'The token may not do this: the message names the rule that refused';
  }
  if (r.params) out['404'] = 'Nothing with that ID (the message says which)';
  if (isWrite(r)) out['409'] = 'A conflict with what is recorded (already resolved, cancelled, delivered; or a concurrent write): nothing more is recorded';
  if (r.method === 'POST') {
    out['413'] = `The body is over ${(r.maxBodyBytes ?? MAX_BODY_BYTES).toLocaleString('en')} bytes`;
    out['415'] = 'The body is not application/json in UTF-8';
  }
  out['429'] = 'Too many requests from this token (or address): see `Retry-After` and the `RateLimit-*` headers';
  out['503'] = 'The database is unavailable: retry later';
  for (const [status, what] of Object.entries(r.errors ?? {})) if (what) out[status] = what;
  return out;
}

export function openApiDocument(routes: ReadonlyArray<Route>, version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const errorBody = { 'application/json': { schema: schemaOf(ErrorBody, 'output') } };
  const headers = {
    'X-Request-Id': { description: 'This request’s ID (quote it; the server log shows it too)', schema: { type: 'string' } },
  };
  const rateHeaders = {
    'RateLimit-Limit': { description: 'The most requests allowed at once (the bucket size)', schema: { type: 'integer' } },
    'RateLimit-Remaining': { description: 'Requests left in the bucket now', schema: { type: 'integer' } },
    'RateLimit-Reset': { description: 'Seconds until the bucket is full again', schema: { type: 'integer' } },
  };
  for (const r of routes) {
    const errors = Object.fromEntries(
      Object.entries(errorStatuses(r)).map(([status, description]) => [
        status,
        {
          description,
          headers: { ...headers, ...rateHeaders, ...(status === '429' ? { 'Retry-After': { description: 'Seconds until a request is allowed again', schema: { type: 'integer' } } } : {}) },
          content: errorBody,
        },
      ]),
    );
    const op: Json = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${r.path
        .replace(/\/api\/v1/, '')
        .replace(/\{(\w+)\}/g, 'By-$1')
        .replace(/[^A-Za-z0-9]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      responses: {
        [String(r.status ?? 200)]: { description: 'OK', headers: { ...headers, ...rateHeaders }, content: { 'application/json': { schema: schemaOf(r.response, 'output') } } },
        ...errors,
      },
      ...(r.public ? { security: [] } : {}),
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: schemaOf(r.body, 'input') } } };
    (paths[r.path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'trienkhai API',
      version,
      description:
        "Track the rollout of a resolution down an organisation's hierarchy. Every request but /health and /openapi.json carries `Authorization: Bearer <token>` (issued by `trienkhai token issue`). " +
        'Bad input is a 400 naming each field; nothing is recorded. Every answer carries `X-Request-Id` (an incoming sane one is kept), and every error body its `requestId`. ' +
        'Before any route: 404 for an unknown path, 405 (with `Allow`) for another method, 414 for a URL over 8192 characters, 431 for headers over 16 KB.',
    },
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
