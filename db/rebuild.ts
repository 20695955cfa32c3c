/**
 * Rebuilding the read model from the audit record: drop every derived row, re-project every event in
 * chain order, and compare digests of the read model before and after. They must be equal — the read
 * model is nothing but a function of the events.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './database';
import { eventOfRow } from './audit';
import { READ_MODEL_LOCK } from './event-store';
import { canonicalJson } from './links';
import { projectAll } from './projection';

/** The read-model tables and the columns that order their rows. */
const READ_MODEL: ReadonlyArray<{ table: 'rollouts' | 'rollout_units' | 'unit_steps' | 'escalations' | 'rollout_progress'; order: string[] }> = [
  { table: 'rollouts', order: ['rollout_id'] },
  { table: 'rollout_units', order: ['rollout_id', 'unit_code'] },
  { table: 'unit_steps', order: ['rollout_id', 'unit_code', 'step_key'] },
  { table: 'escalations', order: ['escalation_id'] },
  { table: 'rollout_progress', order: ['rollout_id', 'level', 'step_id', 'slot'] },
];

export const READ_MODEL_TABLES = READ_MODEL.map((t) => t.table);

export interface ReadModelDigest {
  digest: string;
  tables: Record<string, { rows: number; digest: string }>;
}

/** A digest of the whole read model: every row of every table, in key order, canonically encoded. */
export async function readModelDigest(db: Kysely<Database> | Transaction<Database>): Promise<ReadModelDigest> {
  const tables: ReadModelDigest['tables'] = {};
  const all = createHash('sha256');
  for (const { table, order } of READ_MODEL) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by ${sql.join(order.map((c) => sql.ref(c)))}`.execute(db);
    const h = createHash('sha256');
    for (const r of rows.rows) h.update(canonicalJson(normalise(r))).update('\n');
    const digest = h.digest('hex');
    tables[table] = { rows: rows.rows.length, digest };
    all.update(`${table}:${digest}\n`);
  }
  return { digest: all.digest('hex'), tables };
}

function normalise(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? v.toISOString() : v;
  return out;
}

export interface RebuildResult {
  before: ReadModelDigest;
  after: ReadModelDigest;
  events: number;
  equal: boolean;
}

/** Drop the read model and re-project it from the events, in one transaction. */
export async function rebuildReadModel(db: Kysely<Database>, opts: { onProgress?: (done: number) => void | Promise<void> } = {}): Promise<RebuildResult> {
  return db.transaction().execute(async (trx) => {
    // No append may project while the rows are replaced (see READ_MODEL_LOCK).
    await sql`select pg_advisory_xact_lock(${READ_MODEL_LOCK})`.execute(trx);
    const before = await readModelDigest(trx);
    for (const { table } of [...READ_MODEL].reverse()) await sql`delete from ${sql.table(table)}`.execute(trx);
    const events = await reproject(trx, {}, opts.onProgress);
    const rebuilt = await readModelDigest(trx);
    return { before, after: rebuilt, events, equal: before.digest === rebuilt.digest };
  });
}

/**
 * Project events again, in log order (all of them, or one rollout's up to an instant). The caller
 * has cleared the rows they derive; the same projection as the live appends is used.
 *
 * Log order is the order the events were inserted in (`position`), which is the order of their
 * commits wherever one event depends on another (a stream's next event is appended only after the
 * one before it is recorded; a successor's inheritance only after its predecessor's merge): the order
 * their live projection saw. Events the sequencer has not linked yet are included.
 */
export async function reproject(trx: Transaction<Database>, filter: { rolloutId?: string; until?: Date }, onProgress?: (done: number) => void | Promise<void>): Promise<number> {
  let after = '0';
  let events = 0;
  for (;;) {
    let q = trx.selectFrom('events').selectAll().where('position', '>', after);
    if (filter.rolloutId !== undefined) q = q.where('rollout_id', '=', filter.rolloutId);
    if (filter.until !== undefined) q = q.where('occurred_at', '<=', filter.until);
    const page = await q.orderBy('position').limit(2000).execute();
    if (page.length === 0) return events;
    await projectAll(trx, page.map(eventOfRow));
    events += page.length;
    after = page[page.length - 1]!.position;
    await onProgress?.(events);
  }
}
