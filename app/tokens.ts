/**
 * API tokens: issued by `trienkhai token issue`, shown once, stored only as a sha256 hash, revocable.
 * A token reads `tk_<id>_<secret>`; the ID is public (lists, logs), the secret is 32 random bytes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/database';
import { getUnit, latestVersionOfUnit } from '../db/hierarchy';
import { UnitCode } from '../domain/codes';
import { Text } from '../domain/text';
import { DomainError } from '../domain/errors';

/** The roles a token can have (who may do what with each: api/access.ts). */
export const ROLES = ['ops', 'unit', 'committee', 'inspector', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Roles bound to a unit (and so to its subtree). */
export const SCOPED_ROLES: ReadonlyArray<Role> = ['unit', 'committee', 'inspector'];

export interface Principal {
  tokenId: string;
  role: Role;
  /** The unit a scoped role is bound to; null for ops and auditor. */
  unitCode: string | null;
  label: string;
}

export const IssueTokenRequest = z.strictObject({
  role: z.enum(ROLES),
  unitCode: UnitCode.optional(),
  label: Text({ max: 200 }),
  createdBy: Text({ max: 200 }).default('user:ops'),
});
export type IssueTokenRequest = z.input<typeof IssueTokenRequest>;

const hash = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function issueToken(db: Kysely<Database>, input: IssueTokenRequest): Promise<{ tokenId: string; token: string; role: Role; unitCode: string | null }> {
  const parsed = IssueTokenRequest.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const req = parsed.data;
  const scoped = SCOPED_ROLES.includes(req.role);
  if (scoped && !req.unitCode) throw DomainError.of('unit', `a ${req.role} token is bound to a unit: give its code`);
  if (!scoped && req.unitCode) throw DomainError.of('unit', `an ${req.role} token is not bound to a unit`);
  if (req.unitCode) {
    // The latest version of the unit's own organisation (another province's import does not matter).
    const version = await latestVersionOfUnit(db, req.unitCode);
    const unit = version === undefined ? undefined : await getUnit(db, version, req.unitCode);
    if (!unit) throw DomainError.of('unit', `unit "${req.unitCode}" is not in the hierarchy (in no organisation's latest version)`);
    if (req.role === 'committee' && !unit.standingCommittee) throw DomainError.of('unit', `${req.unitCode} has no standing committee, so it cannot hold a committee token`);
  }
  const tokenId = randomBytes(6).toString('hex');
  const token = `tk_${tokenId}_${randomBytes(32).toString('base64url')}`;
  await db
    .insertInto('api_tokens')
    .values({ token_id: tokenId, token_hash: hash(token), role: req.role, unit_code: req.unitCode ?? null, label: req.label, created_by: req.createdBy, revoked_at: null, last_used_at: null })
    .execute();
  return { tokenId, token, role: req.role, unitCode: req.unitCode ?? null };
}

/** The principal a presented token stands for, or null (unknown, malformed or revoked). */
export async function authenticate(db: Kysely<Database>, token: string): Promise<Principal | null> {
  const m = /^tk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/.exec(token);
  if (!m) return null;
  const row = await db.selectFrom('api_tokens').selectAll().where('token_id', '=', m[1]!).executeTakeFirst();
  if (!row || row.revoked_at) return null;
  const a = Buffer.from(row.token_hash, 'hex');
  const b = Buffer.from(hash(token), 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
  // Best effort, at most once a minute per token.
  if (!row.last_used_at || Date.now() - new Date(row.last_used_at).getTime() > 60_000) {
    await db.updateTable('api_tokens').set({ last_used_at: new Date() }).where('token_id', '=', row.token_id).execute();
  }
  return { tokenId: row.token_id, role: row.role, unitCode: row.unit_code, label: row.label };
}

export async function revokeToken(db: Kysely<Database>, tokenId: string): Promise<{ tokenId: string; alreadyRevoked: boolean }> {
  const row = await db.selectFrom('api_tokens').select(['token_id', 'revoked_at']).where('token_id', '=', tokenId).executeTakeFirst();
  if (!row) throw DomainError.of('token', `no token with ID "${tokenId}" (see \`trienkhai token list\`)`);
  if (!row.revoked_at) await db.updateTable('api_tokens').set({ revoked_at: new Date() }).where('token_id', '=', tokenId).execute();
  return { tokenId, alreadyRevoked: row.revoked_at !== null };
}

export async function listTokens(db: Kysely<Database>) {
  return db.selectFrom('api_tokens').select(['token_id', 'role', 'unit_code', 'label', 'created_by', 'created_at', 'revoked_at', 'last_used_at']).orderBy('created_at').execute();
}
