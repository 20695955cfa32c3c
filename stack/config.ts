/**
 * Where the stack is. `trienkhai up` writes `<dataDir>/stack.json`; every other command reads it
 * unless DATABASE_URL / TEMPORAL_ADDRESS are set (a real deployment sets those and never runs `up`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { StackNotRunningError } from './errors';
import { isAlive } from '../stack/process';
import type { DispatcherConfig } from '../notify/dispatcher';

export const StackInfo = z.strictObject({
  databaseUrl: z.string(),
  temporalAddress: z.string(),
  namespace: z.string(),
  uiUrl: z.string().nullable(),
  /** The HTTP API and dashboard served by `up`. */
  apiUrl: z.string().optional(),
  pid: z.number().int(),
  startedAt: z.string(),
});
export type StackInfo = z.infer<typeof StackInfo>;

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.TRIENKHAI_DATA_DIR ?? '.data');
}

export function stackFile(dir = dataDir()): string {
  return join(dir, 'stack.json');
}

export function writeStackInfo(info: StackInfo, dir = dataDir()): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(stackFile(dir), `${JSON.stringify(info, null, 2)}\n`);
}

export function readStackInfo(dir = dataDir()): StackInfo | undefined {
  const f = stackFile(dir);
  if (!existsSync(f)) return undefined;
  const parsed = StackInfo.safeParse(JSON.parse(readFileSync(f, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

export interface Endpoints {
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
}

function notRunning(env: NodeJS.ProcessEnv, missing: string): StackNotRunningError {
  return new StackNotRunningError(
    `the local stack is not running (no live ${stackFile(dataDir(env))}) and ${missing} is not set.\n` +
      `Start it in another terminal with \`npx trienkhai up\` (or \`npm start\` for the demo), or set ${missing}.`,
  );
}

/**
 * Resolve the endpoints from the environment or the running local stack. Each is checked only when
 * used, so read commands work with just DATABASE_URL.
 */
export function endpoints(env: NodeJS.ProcessEnv = process.env): { databaseUrl(): string; temporalAddress(): string; namespace: string } {
  const info = readStackInfo(dataDir(env));
  const running = info && isAlive(info.pid) ? info : undefined;
  return {
    databaseUrl: () =>
      env.DATABASE_URL ??
      running?.databaseUrl ??
      (() => {
        throw notRunning(env, 'DATABASE_URL');
      })(),
    temporalAddress: () =>
      env.TEMPORAL_ADDRESS ??
      running?.temporalAddress ??
      (() => {
        throw notRunning(env, 'TEMPORAL_ADDRESS');
      })(),
    namespace: env.TEMPORAL_NAMESPACE ?? running?.namespace ?? 'default',
  };
}

/** The audit checkpoint signing key: TRIENKHAI_AUDIT_KEY, else next to the stack's data. */
export function auditKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRIENKHAI_AUDIT_KEY ?? join(dataDir(env), 'audit-signing-key.pem');
}

/** How often the worker cuts a signed checkpoint (TRIENKHAI_CHECKPOINT_MINUTES, default 60; 0 = never). */
export function checkpointIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const m = Number(env.TRIENKHAI_CHECKPOINT_MINUTES ?? 60);
  return Number.isFinite(m) && m > 0 ? m * 60_000 : 0;
}

/** Where `up` and `serve` listen for HTTP (TRIENKHAI_HTTP_PORT, default 8080; TRIENKHAI_HTTP_HOST, default 127.0.0.1). */
export function httpListen(env: NodeJS.ProcessEnv = process.env): { port: number; host: string } {
  const port = Number(env.TRIENKHAI_HTTP_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new StackNotRunningError(`TRIENKHAI_HTTP_PORT must be a port number, got "${env.TRIENKHAI_HTTP_PORT}"`);
  return { port, host: env.TRIENKHAI_HTTP_HOST ?? '127.0.0.1' };
}

/** Where `up` keeps the webhook signing secret it generated (when TRIENKHAI_WEBHOOK_SECRET is not set). */
export function webhookSecretFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(dataDir(env), 'webhook-secret');
}

/**
 * The HMAC secret webhooks are signed with: TRIENKHAI_WEBHOOK_SECRET, else the one kept in the data
 * directory. With `create` (as `up` does) a missing one is generated once (32 random bytes, hex; file
 * mode 0600); without it (`worker`, possibly on another machine) none means webhooks are not sent.
 */
export function webhookSecret(env: NodeJS.ProcessEnv = process.env, opts: { create?: boolean } = {}): { secret: string | null; source: string; created: boolean } {
  if (env.TRIENKHAI_WEBHOOK_SECRET) return { secret: env.TRIENKHAI_WEBHOOK_SECRET, source: 'TRIENKHAI_WEBHOOK_SECRET', created: false };
  const file = webhookSecretFile(env);
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), source: file, created: false };
  if (!opts.create) return { secret: null, source: file, created: false };
  mkdirSync(dataDir(env), { recursive: true });
  writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  return { secret: readFileSync(file, 'utf8').trim(), source: file, created: true };
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new StackNotRunningError(`${name} must be a number ≥ 0, got "${raw}"`);
  return n;
}

/** The notification dispatcher's settings (TRIENKHAI_SMTP_URL, TRIENKHAI_MAIL_FROM, TRIENKHAI_NOTIFY_*). */
export function notifyConfig(env: NodeJS.ProcessEnv, secret: string | null): Partial<DispatcherConfig> & { enabled: boolean } {
  const timeoutMs = positiveNumber(env, 'TRIENKHAI_NOTIFY_TIMEOUT_SECONDS', 10) * 1000;
  return {
    enabled: env.TRIENKHAI_NOTIFY !== '0',
    webhookSecret: secret,
    email: env.TRIENKHAI_SMTP_URL ? { url: env.TRIENKHAI_SMTP_URL, from: env.TRIENKHAI_MAIL_FROM ?? 'trienkhai@localhost' } : null,
    maxAttempts: Math.max(1, Math.floor(positiveNumber(env, 'TRIENKHAI_NOTIFY_MAX_ATTEMPTS', 12))),
    backoffBaseMs: positiveNumber(env, 'TRIENKHAI_NOTIFY_BACKOFF_SECONDS', 10) * 1000,
    backoffMaxMs: positiveNumber(env, 'TRIENKHAI_NOTIFY_BACKOFF_MAX_SECONDS', 3600) * 1000,
    webhookTimeoutMs: timeoutMs,
    leaseMs: Math.max(60_000, timeoutMs * 4),
  };
}
