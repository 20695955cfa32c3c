import { sql, type Kysely } from 'kysely';

/**
 * Rollout progress per level and step, kept as counters by the projection (so a status for a
 * 50,000-unit rollout reads a few dozen rows). What is overdue depends on the clock, so that alone is
 * counted at read time from unit_steps (by its (rollout_id, status, due_at) index).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rollout_progress')
    .addColumn('rollout_id', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('depth', 'integer', (c) => c.notNull())
    .addColumn('units', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('waiting', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('open', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('done_late', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attended', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('members', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('rollout_progress_pk', ['rollout_id', 'level', 'step_id'])
    .execute();
  // Rollouts recorded before this table existed: derive their counters once from the read model.
  await sql`
    insert into rollout_progress (rollout_id, level, step_id, kind, depth, units, waiting, open, done, done_late, attended, members)
    select s.rollout_id, u.level, s.step_id, min(s.kind), min(u.depth), count(*),
      count(*) filter (where s.status = 'waiting'), count(*) filter (where s.status = 'open'),
      count(*) filter (where s.status = 'done'), count(*) filter (where s.status = 'done' and s.late_by_ms > 0),
      coalesce(sum(s.attended), 0), coalesce(sum(u.members), 0)
    from unit_steps s join rollout_units u on u.rollout_id = s.rollout_id and u.unit_code = s.unit_code
    group by s.rollout_id, u.level, s.step_id`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rollout_progress').execute();
}
