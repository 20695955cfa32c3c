/**
 * The little HTTP layer the API needs, on node:http: routes declared with zod schemas (the same
 * schemas that validate the CLI's input, and that the OpenAPI document is generated from), bodies
 * with a size limit, and errors that name the field.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { DomainError, type DomainIssue } from '../domain/errors';
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from '../db/errors';
import type { Action, Principal, Target } from './access';

/** A refusal with an HTTP status; the body names what is wrong. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: ReadonlyArray<DomainIssue> = [],
  ) {
    super(message);
  }
}

export const ErrorBody = z.object({
  error: z.string().describe('A machine-readable code: bad_request, unauthorized, forbidden, not_found, too_large, conflict, …'),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).describe('For bad input: each field (or file line) and what is wrong with it.'),
});

export const MAX_BODY_BYTES = 1_000_000;
export const MAX_PAGE_SIZE = 500;

/** `?page=&pageSize=` with limits. */
export const Paging = {
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
};
export const Page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() });

export interface Ctx<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  /** Check an action on an object; throws 403 when refused. */
  require(action: Action, target?: Target): void;
}

export interface Route<P = any, Q = any, B = any, R = any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  method: 'GET' | 'POST';
  /** e.g. `/api/v1/rollouts/{rolloutId}` */
  path: string;
  summary: string;
  tag: string;
  /** The role check made before the handler runs (object-level checks are made inside it). */
  action?: Action;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  maxBodyBytes?: number;
  response: z.ZodType<R>;
  status?: number;
  /** Public routes (health, the OpenAPI document) need no token. */
  public?: boolean;
  handler(ctx: Ctx<P, Q, B>): Promise<R>;
}

export function route<P, Q, B, R>(r: Route<P, Q, B, R>): Route<P, Q, B, R> {
  return r;
}

export interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

export function compile(routes: ReadonlyArray<Route>): CompiledRoute[] {
  return routes.map((r) => {
    const names: string[] = [];
    const source = r.path
      .split('/')
      .map((seg) => {
        const m = /^\{(\w+)\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        names.push(m[1]!);
        return '([^/]+)';
      })
      .join('/');
    const pattern = new RegExp(`^${source}$`);
    return { route: r, pattern, names };
  });
}

export async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, 'too_large', `the request body is ${declared} bytes; the limit is ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, 'too_large', `the request body is over the limit of ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const type = String(req.headers['content-type'] ?? '');
  if (!type.includes('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new HttpError(400, 'bad_request', `the body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, [{ path: 'body', message: 'not valid JSON' }]);
  }
}

/** Validate one part of a request; the issues name it (`body.attended`, `query.pageSize`). */
export function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, part: 'params' | 'query' | 'body'): T {
  if (!schema) return value as T;
  const r = schema.safeParse(value ?? (part === 'body' ? undefined : {}));
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: [part, ...i.path.map(String)].join('.'), message: i.message }));
  throw new HttpError(400, 'bad_request', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

export function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...(status === 503 ? { 'retry-after': '5' } : {}) });
  res.end(text);
}

/** Any error as the HTTP answer it deserves: bad input 400 (nothing recorded), refusals as thrown, the rest 500. */
export function errorResponse(e: unknown): { status: number; body: z.infer<typeof ErrorBody> } {
  if (e instanceof HttpError) return { status: e.status, body: { error: e.code, message: e.message, issues: [...e.issues] } };
  if (e instanceof DomainError) return { status: 400, body: { error: 'bad_request', message: e.message, issues: [...e.issues] } };
  if (e instanceof Error && e.name === 'EventConflict') return { status: 409, body: { error: 'conflict', message: e.message, issues: [] } };
  if (isDatabaseUnavailable(e)) return { status: 503, body: { error: 'unavailable', message: DATABASE_UNAVAILABLE_MESSAGE, issues: [] } };
  return { status: 500, body: { error: 'internal', message: 'internal error (see the server log)', issues: [] } };
}
