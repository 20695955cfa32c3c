/**
 * What a database error means for the caller, in one place:
 *
 * - `isDatabaseUnavailable(e)`: PostgreSQL cannot be reached or dropped the connection (it is down,
 *   restarting, or terminated our backend). Nothing of the failed statement was committed; trying
 *   again later is safe. The CLI answers "database unavailable, nothing recorded"; the HTTP API 503;
 *   activities retry.
 * - `isPermanentDataError(e)`: PostgreSQL refused the data itself (SQLSTATE class 22 "data exception":
 *   invalid byte sequence, `\u0000` in text, value too long; class 23 integrity violations other than
 *   a unique violation, e.g. a check or not-null violation). Sending the same data again fails the
 *   same way, so an activity must not retry it.
 *
 * Errors are walked through `cause` chains and AggregateErrors (a refused connection to "localhost"
 * is an AggregateError of one error per address).
 */

/** SQLSTATEs and classes that mean "the server is not there for us right now". */
const UNAVAILABLE_SQLSTATE = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovering)
  '53300', // too_many_connections
]);
const UNAVAILABLE_CLASSES = ['08']; // connection exception

/** Node socket errors on the way to the server. */
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN']);

/** node-postgres and pg-pool say these in plain text (no code). */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated( unexpectedly| due to connection timeout)?$/,
  /Client has encountered a connection error and is not queryable/,
  /Client was closed and is not queryable/,
  /timeout exceeded when trying to connect/,
  /terminating connection due to administrator command/,
  /the database system is (starting up|shutting down|in recovery mode)/,
];

/** Unique violation: under concurrency a retry sees the row as a duplicate, so it is not permanent. */
const RETRYABLE_INTEGRITY = new Set(['23505']);

function* chain(e: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (depth > 8 || e === null || typeof e !== 'object') return;
  const o = e as Record<string, unknown>;
  yield o;
  if (Array.isArray(o.errors)) for (const inner of o.errors) yield* chain(inner, depth + 1);
  if ('cause' in o) yield* chain(o.cause, depth + 1);
}

const sqlstate = (o: Record<string, unknown>): string | undefined => (typeof o.code === 'string' && /^[0-9A-Z]{5}$/.test(o.code) ? o.code : undefined);

/** PostgreSQL cannot be reached or dropped the connection: nothing was committed, try again later. */
export function isDatabaseUnavailable(e: unknown): boolean {
  for (const o of chain(e)) {
    if (o instanceof DatabaseUnavailableError) return true;
    const code = sqlstate(o);
    if (code && (UNAVAILABLE_SQLSTATE.has(code) || UNAVAILABLE_CLASSES.includes(code.slice(0, 2)))) return true;
    if (typeof o.code === 'string' && UNAVAILABLE_ERRNO.has(o.code)) return true;
    if (typeof o.message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(o.message as string))) return true;
  }
  return false;
}

/** PostgreSQL refused the data itself (class 22, or 23 except a unique violation): retrying cannot help. */
export function isPermanentDataError(e: unknown): boolean {
  for (const o of chain(e)) {
    const code = sqlstate(o);
    if (!code) continue;
    if (code.startsWith('22')) return true;
    if (code.startsWith('23') && !RETRYABLE_INTEGRITY.has(code)) return true;
  }
  return false;
}

/** The one message users see when the database is down. */
export const DATABASE_UNAVAILABLE_MESSAGE = 'database unavailable, nothing recorded';

/** Thrown where we find out before sending anything that the database is down. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailable';
  constructor(cause?: unknown) {
    super(DATABASE_UNAVAILABLE_MESSAGE, { cause });
  }
}
