import { sql, type Kysely } from 'kysely';

/**
 * What a standing committee does with an escalation short of extending the deadline: acknowledges it
 * (đã tiếp nhận) or directs the unit (chỉ đạo). Both leave it open. Derived from EscalationAcknowledged
 * and EscalationDirected; a rollout's cancellation resolves open escalations with resolution
 * 'cancelled' (UnitCancelled).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table escalations
    add column acknowledged_at timestamptz,
    add column acknowledged_by text,
    add column acknowledgement_note text,
    add column directives integer not null default 0,
    add column last_directive text,
    add column last_directed_at timestamptz,
    add column respond_by date`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table escalations
    drop column acknowledged_at, drop column acknowledged_by, drop column acknowledgement_note,
    drop column directives, drop column last_directive, drop column last_directed_at, drop column respond_by`.execute(db);
}
