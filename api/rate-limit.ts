/**
 * A per-caller rate limit: one token bucket per API token (and, for requests without a valid token,
 * per client address). Each bucket holds up to `burst` requests and refills at `perSecond`; a request
 * finding it empty is a 429 with `Retry-After`.
 *
 * Every API answer carries `RateLimit-Limit` (the burst), `RateLimit-Remaining` (requests left in the
 * bucket now) and `RateLimit-Reset` (seconds until the bucket is full again), as in the IETF draft
 * "RateLimit header fields for HTTP" (separate fields). The clock is injectable so tests need no waits.
 *
 * Configured by TRIENKHAI_RATE_LIMIT: `<requests>/<s|min>` (the refill rate), optionally
 * `,burst=<n>` (default: two seconds' worth, at least 1); `off` disables it. Default `50/s`
 * (burst 100): the dashboard polls a page's few reads every 5 s, far below it.
 */

export interface RateLimitConfig {
  /** Refill rate, requests per second. */
  perSecond: number;
  /** Bucket size: the most requests allowed at once. */
  burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { perSecond: 50, burst: 100 };

/** Parse TRIENKHAI_RATE_LIMIT; undefined/empty gives the default, `off` gives null. @throws Error naming the variable */
export function parseRateLimit(raw: string | undefined, name = 'TRIENKHAI_RATE_LIMIT'): RateLimitConfig | null {
  if (raw === undefined || raw.trim() === '') return DEFAULT_RATE_LIMIT;
  const text = raw.trim().toLowerCase();
  if (text === 'off' || text === '0') return null;
  const m = /^(\d+(?:\.\d+)?)\s*\/\s*(s|sec|second|m|min|minute)\s*(?:,\s*burst\s*=\s*(\d+))?$/.exec(text);
  if (!m) throw new Error(`${name} must read like 50/s, 600/min or 50/s,burst=200 (or off), got "${raw}"`);
  const perSecond = Number(m[1]) / (m[2]!.startsWith('s') ? 1 : 60);
  if (!(perSecond > 0)) throw new Error(`${name}: the rate must be more than 0, got "${raw}"`);
  const burst = m[3] !== undefined ? Number(m[3]) : Math.max(1, Math.ceil(perSecond * 2));
  if (!(burst >= 1)) throw new Error(`${name}: the burst must be at least 1, got "${raw}"`);
  return { perSecond, burst };
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** When refused: seconds until one request is allowed (≥ 1). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Take one request from `key`'s bucket. */
  take(key: string): RateDecision;
  /** What `key`'s bucket would say, without taking anything. */
  peek(key: string): RateDecision;
}

const MAX_BUCKETS = 10_000;

export function createRateLimiter(cfg: RateLimitConfig, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refill = (key: string): { tokens: number; at: number } => {
    const t = now();
    let b = buckets.get(key);
    if (!b) {
      if (buckets.size >= MAX_BUCKETS) prune(t);
      b = { tokens: cfg.burst, at: t };
      buckets.set(key, b);
    } else {
      b.tokens = Math.min(cfg.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * cfg.perSecond);
      b.at = t;
    }
    return b;
  };
  // Forget buckets that are full again (they say nothing a new bucket would not).
  const prune = (t: number): void => {
    for (const [k, b] of buckets) if (b.tokens + ((t - b.at) / 1000) * cfg.perSecond >= cfg.burst) buckets.delete(k);
  };
  const decision = (b: { tokens: number }, allowed: boolean): RateDecision => ({
    allowed,
    limit: cfg.burst,
    remaining: Math.max(0, Math.floor(b.tokens)),
    resetSeconds: Math.max(0, Math.ceil((cfg.burst - b.tokens) / cfg.perSecond)),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / cfg.perSecond)),
  });
  return {
    take(key) {
      const b = refill(key);
      if (b.tokens < 1) return decision(b, false);
      b.tokens -= 1;
      return decision(b, true);
    },
    peek(key) {
      const b = refill(key);
      return decision(b, b.tokens >= 1);
    },
  };
}
