import { sql, type Kysely } from 'kysely';

/**
 * API tokens (api/tokens.ts): only a hash of each token is stored. Revoking sets `revoked_at`; the
 * row stays, so the audit of who could act when is kept.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table api_tokens (
    token_id text primary key,
    token_hash text not null unique,
    role text not null check (role in ('ops', 'unit', 'committee', 'inspector', 'auditor')),
    unit_code text,
    label text not null,
    created_by text not null,
    created_at timestamptz not null default clock_timestamp(),
    revoked_at timestamptz,
    last_used_at timestamptz,
    check ((role in ('ops', 'auditor')) = (unit_code is null))
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table api_tokens`.execute(db);
}
