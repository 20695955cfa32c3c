/**
 * The doors of the HTTP API: what arrives is checked here before any route sees it, and anything
 * malformed is a 400 naming where (`params.unitCode`, `query.parent`, `body.attendance[2].name`).
 *
 * - The request target must be printable ASCII, at most MAX_URL_CHARS long; percent-escapes must
 *   decode to well-formed UTF-8 (`%ZZ`, `%C3%28` and encoded surrogates are refused, never turned
 *   into U+FFFD).
 * - A query key may be given once (unless the route's schema takes a list there).
 * - Every string, at any depth, keys included, must be storable by PostgreSQL as text/jsonb: no NUL,
 *   no lone surrogate. JSON may nest at most MAX_JSON_DEPTH levels.
 */
import type { z } from 'zod';
import type { DomainIssue } from '../domain/errors';
import { HttpError, issuePath } from './http';

export const MAX_URL_CHARS = 8192;
export const MAX_JSON_DEPTH = 32;
/** At most this many issues are listed for one body (the count says how many there were). */
const MAX_ISSUES = 20;

const bad = (issues: DomainIssue[]): HttpError => new HttpError(400, 'bad_request', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored, or undefined if it can. */
export function unstorable(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (LONE_SURROGATE.test(s)) return 'contains a lone UTF-16 surrogate (not a Unicode character), which cannot be stored';
  return undefined;
}

/** Decode a percent-encoded URL component strictly; `plus` turns `+` into a space (query strings). */
function decodeStrict(raw: string, where: string, plus: boolean): string {
  let s: string;
  try {
    s = decodeURIComponent(plus ? raw.replace(/\+/g, ' ') : raw);
  } catch {
    const m = /%(?![0-9A-Fa-f]{2})/.exec(raw);
    throw bad([{ path: where, message: m ? `malformed percent-escape "${raw.slice(m.index, m.index + 3)}" (expected % and two hex digits)` : 'its percent-escapes are not valid UTF-8' }]);
  }
  const why = unstorable(s);
  if (why) throw bad([{ path: where, message: why }]);
  return s;
}

/** Split a request target into its raw path and query; checks the characters and the length. */
export function splitTarget(target: string): { path: string; query: string } {
  if (target.length > MAX_URL_CHARS) throw new HttpError(414, 'uri_too_long', `the URL is ${target.length} characters; the limit is ${MAX_URL_CHARS}`, [{ path: 'url', message: 'too long' }]);
  if (!target.startsWith('/')) throw bad([{ path: 'url', message: 'the request target must be a path starting with /' }]);
  // Printable ASCII only: anything else must be percent-encoded.
  if (!/^[\x21-\x7e]*$/.test(target)) throw bad([{ path: 'url', message: 'the URL has characters that must be percent-encoded (spaces, control or non-ASCII characters)' }]);
  const q = target.indexOf('?');
  const hash = target.indexOf('#');
  const end = hash >= 0 ? hash : target.length;
  return q >= 0 && q < end ? { path: target.slice(0, q), query: target.slice(q + 1, end) } : { path: target.slice(0, end), query: '' };
}

/** Decode the raw path (for routes that are not API routes, e.g. the dashboard's files). */
export function decodePath(raw: string): string {
  return decodeStrict(raw, 'path', false);
}

/** Decode one path parameter. */
export function decodeParam(raw: string, name: string): string {
  return decodeStrict(raw, `params.${name}`, false);
}

/** The keys of a query schema that take a list (so may be repeated). */
function listKeys(schema: z.ZodType | undefined): Set<string> {
  const out = new Set<string>();
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType> } | undefined)?.shape;
  if (!shape) return out;
  for (const [k, v] of Object.entries(shape)) {
    let t: { _zod?: { def?: { type?: string; innerType?: unknown } } } = v as never;
    for (let i = 0; i < 8 && t?._zod?.def?.innerType; i++) t = t._zod.def.innerType as never;
    if (t?._zod?.def?.type === 'array') out.add(k);
  }
  return out;
}

/** Parse a raw query string strictly: each key once (unless the schema takes a list), every escape valid. */
export function parseQuery(raw: string, schema?: z.ZodType): Record<string, string | string[]> {
  const lists = listKeys(schema);
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  const issues: DomainIssue[] = [];
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawKey = eq >= 0 ? piece.slice(0, eq) : piece;
    const rawValue = eq >= 0 ? piece.slice(eq + 1) : '';
    let key: string;
    try {
      key = decodeStrict(rawKey, 'query', true);
    } catch (e) {
      issues.push(...(e as HttpError).issues.map((i) => ({ path: i.path, message: `a parameter name ${i.message.replace(/^its /, 'whose ')}` })));
      continue;
    }
    const where = `query.${key}`;
    let value: string;
    try {
      value = decodeStrict(rawValue, where, true);
    } catch (e) {
      issues.push(...(e as HttpError).issues);
      continue;
    }
    if (lists.has(key)) {
      const prev = out[key];
      out[key] = Array.isArray(prev) ? [...prev, value] : [value];
    } else if (key in out) {
      if (!issues.some((i) => i.path === where)) issues.push({ path: where, message: 'given more than once (give it once)' });
    } else {
      out[key] = value;
    }
  }
  if (issues.length) throw bad(issues);
  return { ...out };
}

const child = (path: string, key: string): string => issuePath(path, [key]);

/**
 * Check a parsed JSON value: depth at most MAX_JSON_DEPTH, and every string and key storable.
 * @throws HttpError 400 naming each bad place (`body.attendance[2].name`)
 */
export function checkJson(value: unknown, root = 'body'): void {
  const issues: DomainIssue[] = [];
  let count = 0;
  const add = (path: string, message: string): void => {
    count += 1;
    if (issues.length < MAX_ISSUES) issues.push({ path, message });
  };
  // Iterative, so no input can overflow the stack.
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: root, depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const why = unstorable(v);
      if (why) add(path, why);
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      add(path, `nested more than ${MAX_JSON_DEPTH} levels deep`);
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: `${path}[${i}]`, depth: depth + 1 });
      continue;
    }
    const entries = Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, x] = entries[i]!;
      const why = unstorable(k);
      if (why) {
        add(path, `a key ${why}`);
        continue;
      }
      stack.push({ v: x, path: child(path, k), depth: depth + 1 });
    }
  }
  if (count > issues.length) issues.push({ path: root, message: `and ${count - issues.length} more like these` });
  if (issues.length) throw bad(issues);
}
