/**
 * The little HTTP layer the API needs, on node:http: routes declared with zod schemas (the same
 * schemas that validate the CLI's input, and that the OpenAPI document is generated from), bodies
 * with a size limit, and errors that name the field.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { DomainError, type DomainIssue } from '../domain/errors';
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from '../db/errors';
import type { Principal } from '../app/tokens';
import { TEMPORAL_UNAVAILABLE_MESSAGE, isTemporalUnavailable } from '../app/update-retry';
import type { Action, Target } from './access';

/** A refusal with an HTTP status; the body names what is wrong. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: ReadonlyArray<DomainIssue> = [],
    /** More about the refusal (an import's diff awaiting confirmation). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const ErrorBody = z.object({
  error: z.string().describe('A machine-readable code: bad_request, unauthorized, forbidden, not_found, method_not_allowed, conflict, too_large, unsupported_media_type, rate_limited, …'),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).describe('For bad input: each field (or file line) and what is wrong with it.'),
  requestId: z.string().describe('The X-Request-Id of this request (also in the server log): quote it when asking about this answer'),
  details: z.unknown().optional().describe('More about the refusal, e.g. the diff an import awaits confirmation for (409 confirmation_required)'),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const MAX_BODY_BYTES = 1_000_000;

/** A file sent as JSON text (hierarchies, contacts): its name says its format. */
export const UploadedFile = z.strictObject({
  fileName: z
    .string()
    .min(1)
    .max(200)
    .regex(/\.(csv|json)$/i, 'name the file .csv or .json'),
  content: z.string().min(1),
});

export interface Ctx<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  /** Check an action on an object; throws 403 when refused. */
  require(action: Action, target?: Target): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Route<P = any, Q = any, B = any, R = any> {
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
  /**
   * Error statuses this route answers beyond those derived from its declaration (see openapi.ts),
   * with what they mean, e.g. `{ 409: 'already resolved' }`.
   */
  errors?: Partial<Record<number, string>>;
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

/** Bodies must be UTF-8: a fatal decoder refuses invalid sequences instead of storing U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Is this a JSON media type (`application/json`, `application/…+json`), in UTF-8 if a charset is given? */
function isJsonType(header: string): boolean {
  const [type, ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type ?? '')) return false;
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"|"$/g, '');
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/**
 * Read a request body (at most `limit` bytes, declared or streamed): undefined when empty, else the
 * parsed JSON. 413 over the limit, 415 unless JSON in UTF-8, 400 for invalid UTF-8 or JSON.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = req.headers['content-length'] === undefined ? 0 : Number(req.headers['content-length']);
  if (declared > limit) throw new HttpError(413, 'too_large', `the request body is ${declared} bytes; the limit is ${limit}`, [{ path: 'body', message: `over ${limit} bytes` }]);
  const hasBody = declared > 0 || req.headers['transfer-encoding'] !== undefined;
  const type = req.headersDistinct['content-type'] ?? [];
  if (hasBody && (type.length !== 1 || !isJsonType(type[0]!))) {
    throw new HttpError(415, 'unsupported_media_type', `send the body as application/json (UTF-8)${type.length ? `, not ${type.join(', ').slice(0, 100)}` : ''}`, [
      { path: 'header.content-type', message: type.length > 1 ? 'given more than once' : 'expected application/json' },
    ]);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new HttpError(413, 'too_large', `the request body is over the limit of ${limit} bytes`, [{ path: 'body', message: `over ${limit} bytes` }]);
      chunks.push(chunk as Buffer);
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'bad_request', 'the request body was not received in full (the connection was aborted)', [{ path: 'body', message: 'incomplete' }]);
  }
  if (size === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(Buffer.concat(chunks));
  } catch {
    throw new HttpError(400, 'bad_request', 'the body is not valid UTF-8', [{ path: 'body', message: 'not valid UTF-8' }]);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, 'bad_request', `the body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, [{ path: 'body', message: 'not valid JSON' }]);
  }
}

/** A field's path as the API names it: `body.attendance[2].name`, `query.pageSize`. */
export function issuePath(root: string, path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(String(k)) ? `${acc}.${String(k)}` : `${acc}[${JSON.stringify(String(k))}]`),
    root,
  );
}

/** Validate one part of a request; the issues name it (`body.attended`, `query.pageSize`). */
export function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, part: 'params' | 'query' | 'body'): T {
  if (!schema) return value as T;
  const r = schema.safeParse(value ?? (part === 'body' ? undefined : {}));
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: issuePath(part, i.path), message: i.message }));
  throw new HttpError(400, 'bad_request', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | number> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...(status === 503 ? { 'retry-after': '5' } : {}),
  });
  res.end(text);
}

/** Any error as the HTTP answer it deserves: bad input 400 (nothing recorded), refusals as thrown, the rest 500. */
export function errorResponse(e: unknown): { status: number; body: Omit<ErrorBody, 'requestId'> } {
  if (e instanceof HttpError) return { status: e.status, body: { error: e.code, message: e.message, issues: [...e.issues], ...(e.details !== undefined ? { details: e.details } : {}) } };
  if (e instanceof DomainError) {
    const [status, code] = e.kind === 'not_found' ? [404, 'not_found'] : e.kind === 'conflict' ? [409, 'conflict'] : e.kind === 'forbidden' ? [403, 'forbidden'] : [400, 'bad_request'];
    // A refusal of what is named (404, 409) reads as a sentence; the issues still name the field.
    const message = e.kind === 'invalid' ? e.message : e.issues.map((i) => i.message).join('; ');
    return { status, body: { error: code, message, issues: [...e.issues] } };
  }
  if (e instanceof Error && e.name === 'EventConflict') return { status: 409, body: { error: 'conflict', message: e.message, issues: [] } };
  if (isDatabaseUnavailable(e)) return { status: 503, body: { error: 'unavailable', message: DATABASE_UNAVAILABLE_MESSAGE, issues: [] } };
  if (isTemporalUnavailable(e)) return { status: 503, body: { error: 'unavailable', message: TEMPORAL_UNAVAILABLE_MESSAGE, issues: [] } };
  return { status: 500, body: { error: 'internal', message: 'internal error (see the server log)', issues: [] } };
}
