/**
 * Hierarchy versions. Every import creates a new, immutable version (the hierarchy changes over time:
 * mergers, the 2025 abolition of the district level); a rollout pins the version it started with.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Unit } from '../domain/hierarchy';
import type { AncestorRef, UnitSnapshot } from '../domain/events';
import { eventId, streams } from '../domain/ids';
import type { Database } from './database';
import { appendInTransaction } from './event-store';

export interface ImportResult {
  version: number;
  units: number;
  levels: string[];
  roots: string[];
}

/** Store a validated hierarchy as a new version and record a HierarchyImported event, in one transaction. */
export async function importHierarchy(db: Kysely<Database>, units: Unit[], meta: { source: string; content: string; importedBy: string; levels: string[] }): Promise<ImportResult> {
  const sha256 = createHash('sha256').update(meta.content).digest('hex');
  return db.transaction().execute(async (trx) => {
    const { version } = await trx
      .insertInto('hierarchy_versions')
      .values({ source: meta.source, sha256, units: units.length, imported_by: meta.importedBy })
      .returning('version')
      .executeTakeFirstOrThrow();
    const siblingIndex = new Map<string, number>();
    const sorted = [...units].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
    const rows = sorted.map((u) => {
      const key = u.parent ?? '';
      const i = siblingIndex.get(key) ?? 0;
      siblingIndex.set(key, i + 1);
      return {
        version,
        code: u.code,
        name: u.name,
        level: u.level,
        parent: u.parent,
        members: u.members,
        standing_committee: u.standingCommittee,
        effective_from: u.effectiveFrom ?? null,
        predecessors: u.predecessors ?? [],
        sibling_index: i,
      };
    });
    for (let i = 0; i < rows.length; i += 1000)
      await trx
        .insertInto('hierarchy_units')
        .values(rows.slice(i, i + 1000))
        .execute();
    const head = await trx
      .selectFrom('events')
      .select(sql<number>`coalesce(max(stream_seq), 0)::int`.as('head'))
      .where('stream_id', '=', streams.hierarchy())
      .executeTakeFirstOrThrow();
    const seq = head.head + 1;
    await appendInTransaction(trx, [
      {
        eventId: eventId(streams.hierarchy(), seq),
        streamId: streams.hierarchy(),
        streamSeq: seq,
        type: 'HierarchyImported',
        rolloutId: null,
        unitCode: null,
        actor: meta.importedBy,
        occurredAt: new Date().toISOString(),
        payload: { version, source: meta.source, sha256, units: units.length, levels: meta.levels },
      },
    ]);
    return { version, units: units.length, levels: meta.levels, roots: units.filter((u) => u.parent === null).map((u) => u.code) };
  });
}

/** The newest hierarchy version, if any was imported. */
export async function latestHierarchyVersion(db: Kysely<Database>): Promise<number | undefined> {
  const row = await db
    .selectFrom('hierarchy_versions')
    .select(sql<number | null>`max(version)`.as('v'))
    .executeTakeFirst();
  return row?.v ?? undefined;
}

function toSnapshot(r: { code: string; name: string; level: string; parent: string | null; members: number; standing_committee: boolean }): UnitSnapshot {
  return { code: r.code, name: r.name, level: r.level, parent: r.parent, members: r.members, standingCommittee: r.standing_committee };
}

export async function getUnit(db: Kysely<Database>, version: number, code: string): Promise<UnitSnapshot | undefined> {
  const r = await db.selectFrom('hierarchy_units').selectAll().where('version', '=', version).where('code', '=', code).executeTakeFirst();
  return r ? toSnapshot(r) : undefined;
}

/** A unit's ancestors, nearest first (one query: a recursive walk up the pinned version). */
export async function getAncestors(db: Kysely<Database>, version: number, code: string): Promise<AncestorRef[]> {
  const rows = await sql<{ code: string; name: string; level: string; standing_committee: boolean; depth: number }>`
    with recursive up as (
      select p.code, p.name, p.level, p.standing_committee, p.parent, 1 as depth
      from hierarchy_units u join hierarchy_units p on p.version = u.version and p.code = u.parent
      where u.version = ${version} and u.code = ${code}
      union all
      select p.code, p.name, p.level, p.standing_committee, p.parent, up.depth + 1
      from up join hierarchy_units p on p.version = ${version} and p.code = up.parent
      where up.depth < 64
    )
    select code, name, level, standing_committee, depth from up order by depth`.execute(db);
  return rows.rows.map((r) => ({ code: r.code, name: r.name, level: r.level, standingCommittee: r.standing_committee }));
}

export async function countChildren(db: Kysely<Database>, version: number, code: string): Promise<number> {
  const r = await db
    .selectFrom('hierarchy_units')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('version', '=', version)
    .where('parent', '=', code)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A page of a unit's children, in a stable order. */
export async function listChildren(db: Kysely<Database>, version: number, code: string, offset: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('hierarchy_units')
    .select('code')
    .where('version', '=', version)
    .where('parent', '=', code)
    .where('sibling_index', '>=', offset)
    .where('sibling_index', '<', offset + limit)
    .orderBy('sibling_index')
    .execute();
  return rows.map((r) => r.code);
}

/** The subtree under a unit (inclusive), for validating a plan against the levels it will meet. */
export async function subtree(db: Kysely<Database>, version: number, root: string): Promise<Array<{ code: string; level: string; parent: string | null }>> {
  const rows = await sql<{ code: string; level: string; parent: string | null }>`
    with recursive down as (
      select code, level, parent from hierarchy_units where version = ${version} and code = ${root}
      union all
      select c.code, c.level, c.parent from hierarchy_units c join down d on c.version = ${version} and c.parent = d.code
    )
    select code, level, parent from down`.execute(db);
  return rows.rows;
}

/** Every level code used in a hierarchy version. */
export async function levelsOfVersion(db: Kysely<Database>, version: number): Promise<string[]> {
  const rows = await db.selectFrom('hierarchy_units').select('level').distinct().where('version', '=', version).orderBy('level').execute();
  return rows.map((r) => r.level);
}
