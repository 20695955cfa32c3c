/**
 * Where the stack is. `trienkhai up` writes `<dataDir>/stack.json`; every other command reads it
 * unless DATABASE_URL / TEMPORAL_ADDRESS are set (a real deployment sets those and never runs `up`).
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { StackNotRunningError } from './errors';
import { isAlive } from '../stack/process';

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
    databaseUrl: () => env.DATABASE_URL ?? running?.databaseUrl ?? (() => { throw notRunning(env, 'DATABASE_URL'); })(),
    temporalAddress: () => env.TEMPORAL_ADDRESS ?? running?.temporalAddress ?? (() => { throw notRunning(env, 'TEMPORAL_ADDRESS'); })(),
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
