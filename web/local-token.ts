/**
 * The token `trienkhai up` prints in the dashboard's address, so the dashboard is usable at once on
 * the machine that runs the stack: an ops token kept in the data directory (mode 0600) and reused
 * while it is valid; issued anew when the file is missing or the token was revoked.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database';
import { authenticate, issueToken } from '../app/tokens';

export const LOCAL_TOKEN_FILE = 'dashboard-token';

export async function localDashboardToken(db: Kysely<Database>, dataDir: string): Promise<{ token: string; reused: boolean }> {
  const file = join(dataDir, LOCAL_TOKEN_FILE);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    const p = await authenticate(db, token);
    if (p && p.role === 'ops') return { token, reused: true };
  }
  const { token } = await issueToken(db, { role: 'ops', label: 'dashboard (trienkhai up)', createdBy: 'system:up' });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, reused: false };
}
