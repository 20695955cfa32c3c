import { sql, type Kysely } from 'kysely';

/** Imported hierarchy versions. A version is never changed after import; a rollout pins one. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('hierarchy_versions')
    .addColumn('version', 'serial', (c) => c.primaryKey())
    .addColumn('imported_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('units', 'integer', (c) => c.notNull())
    .addColumn('imported_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('hierarchy_units')
    .addColumn('version', 'integer', (c) => c.notNull().references('hierarchy_versions.version'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('parent', 'text')
    .addColumn('members', 'integer', (c) => c.notNull())
    .addColumn('standing_committee', 'boolean', (c) => c.notNull())
    .addColumn('effective_from', 'date')
    .addColumn('predecessors', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('sibling_index', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('hierarchy_units_pk', ['version', 'code'])
    .execute();
  await db.schema.createIndex('hierarchy_units_parent_idx').on('hierarchy_units').columns(['version', 'parent', 'sibling_index']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('hierarchy_units').execute();
  await db.schema.dropTable('hierarchy_versions').execute();
}
