import { sql, type Kysely } from 'kysely';

/**
 * A periodic report that carries a document number (a báo cáo with its số) now keeps it in the read
 * model like a plan or a review does (projection.ts), so it counts among documents issued. Steps
 * projected before this change get theirs from the events that recorded them: the read model stays
 * what a rebuild from the audit record would give.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    update unit_steps s
    set document_text = e.payload->'document'->>'text', document_date = e.payload->'document'->>'date'
    from events e
    where e.type = 'PeriodicReportSubmitted' and jsonb_typeof(e.payload->'document') = 'object'
      and e.rollout_id = s.rollout_id and e.unit_code = s.unit_code and e.payload->>'key' = s.step_key`.execute(db);
}

export async function down(): Promise<void> {
  // Nothing to undo: the columns existed before; the values are facts of the audit record.
}
