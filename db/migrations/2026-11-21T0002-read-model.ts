import { sql, type Kysely } from 'kysely';

/** The read model: derived from the event log by db/projection.ts; can be dropped and rebuilt. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rollouts')
    .addColumn('rollout_id', 'text', (c) => c.primaryKey())
    .addColumn('resolution_text', 'text', (c) => c.notNull())
    .addColumn('resolution_date', 'text', (c) => c.notNull())
    .addColumn('resolution_title', 'text', (c) => c.notNull())
    .addColumn('plan_id', 'text', (c) => c.notNull())
    .addColumn('plan', 'jsonb', (c) => c.notNull())
    .addColumn('root_unit', 'text', (c) => c.notNull())
    .addColumn('hierarchy_version', 'integer', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema
    .createTable('rollout_units')
    .addColumn('rollout_id', 'text', (c) => c.notNull())
    .addColumn('unit_code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('parent_code', 'text')
    .addColumn('members', 'integer', (c) => c.notNull())
    .addColumn('standing_committee', 'boolean', (c) => c.notNull())
    .addColumn('depth', 'integer', (c) => c.notNull())
    .addColumn('ancestors', 'jsonb', (c) => c.notNull())
    .addColumn('children', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('enrolled_at', 'timestamptz', (c) => c.notNull())
    .addColumn('completed_at', 'timestamptz')
    .addPrimaryKeyConstraint('rollout_units_pk', ['rollout_id', 'unit_code'])
    .execute();
  await db.schema
    .createTable('unit_steps')
    .addColumn('rollout_id', 'text', (c) => c.notNull())
    .addColumn('unit_code', 'text', (c) => c.notNull())
    .addColumn('step_key', 'text', (c) => c.notNull())
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('occurrence', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('due_at', 'timestamptz')
    .addColumn('original_due_at', 'timestamptz')
    .addColumn('opened_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('late_by_ms', 'bigint')
    .addColumn('attended', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reminders_sent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('missed', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('extensions', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('document_text', 'text')
    .addColumn('document_date', 'text')
    .addColumn('last_report_at', 'timestamptz')
    .addColumn('last_report', 'jsonb')
    .addPrimaryKeyConstraint('unit_steps_pk', ['rollout_id', 'unit_code', 'step_key'])
    .execute();
  await db.schema.createIndex('unit_steps_due_idx').on('unit_steps').columns(['rollout_id', 'status', 'due_at']).execute();
  await db.schema
    .createTable('escalations')
    .addColumn('escalation_id', 'text', (c) => c.primaryKey())
    .addColumn('rollout_id', 'text', (c) => c.notNull())
    .addColumn('unit_code', 'text', (c) => c.notNull())
    .addColumn('step_key', 'text', (c) => c.notNull())
    .addColumn('tier', 'integer', (c) => c.notNull())
    .addColumn('recipient_code', 'text', (c) => c.notNull())
    .addColumn('recipient_name', 'text', (c) => c.notNull())
    .addColumn('self', 'boolean', (c) => c.notNull())
    .addColumn('due_at', 'timestamptz', (c) => c.notNull())
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('resolution', 'text')
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('resolved_by', 'text')
    .addColumn('late_by_ms', 'bigint')
    .execute();
  await db.schema.createIndex('escalations_recipient_idx').on('escalations').columns(['recipient_code', 'status']).execute();
  await db.schema.createIndex('escalations_rollout_idx').on('escalations').columns(['rollout_id', 'status']).execute();
  void sql;
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['escalations', 'unit_steps', 'rollout_units', 'rollouts']) await db.schema.dropTable(t).execute();
}
