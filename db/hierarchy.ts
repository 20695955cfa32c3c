/**
 * Hierarchy versions, per organisation. An organisation is a root unit's code (a province, a central
 * bloc) and owns its hierarchy: every import or dated change makes a new, immutable version of one
 * organisation and never touches another's. Version numbers are one global serial, so a version names
 * one organisation's shape; a rollout pins the version it started with.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { DomainError } from '../domain/errors';
import { levelsOf, type Unit } from '../domain/hierarchy';
import { describeChange, type LineageEdge, type UnitChange } from '../domain/hierarchy-changes';
import type { AncestorRef, UnitSnapshot } from '../domain/events';
import { streams } from '../domain/ids';
import type { Database } from './database';
import { appendNextInTransaction } from './event-store';

/** One organisation's new version made by an import. */
export interface OrganisationVersion {
  organisation: string;
  version: number;
  previousVersion: number | null;
  units: number;
}

export interface ImportResult {
  /** The new version (of the first organisation, by code, when the file holds several roots). */
  version: number;
  units: number;
  levels: string[];
  roots: string[];
  /** One new version per organisation (per root of the file; one for a delta). */
  versions: OrganisationVersion[];
}

type Executor = Kysely<Database> | Transaction<Database>;
export type VersionKind = 'snapshot' | 'delta' | 'change';

/** Serialise writers of hierarchy versions (so "latest of an organisation" and the hierarchy stream's seq are read and written atomically). */
const HIERARCHY_WRITE_LOCK = 7_310_001;
export async function lockHierarchyWrites(trx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${HIERARCHY_WRITE_LOCK})`.execute(trx);
}

function unitRow(version: number, organisation: string, u: Unit) {
  return {
    version,
    organisation,
    code: u.code,
    name: u.name,
    level: u.level,
    parent: u.parent,
    members: u.members,
    standing_committee: u.standingCommittee,
    effective_from: u.effectiveFrom ?? null,
    predecessors: u.predecessors ?? [],
    sibling_index: 0,
  };
}

/**
 * Write a new version of one organisation: the rows of `previous` that are neither replaced nor removed
 * are copied forward in one statement (set-based: a 3,000-unit province with one changed commune does
 * not travel through Node), then `replaced` is inserted and sibling positions are renumbered.
 */
export async function writeVersion(
  trx: Transaction<Database>,
  v: {
    organisation: string;
    kind: VersionKind;
    previousVersion: number | null;
    effectiveFrom?: string | null;
    source: string;
    sha256: string;
    importedBy: string;
    replaced: ReadonlyArray<Unit>;
    removed: ReadonlyArray<string>;
  },
): Promise<{ version: number; units: number }> {
  const { version } = await trx
    .insertInto('hierarchy_versions')
    .values({
      source: v.source,
      sha256: v.sha256,
      units: 0,
      imported_by: v.importedBy,
      organisation: v.organisation,
      kind: v.kind,
      previous_version: v.previousVersion,
      effective_from: v.effectiveFrom ?? null,
    })
    .returning('version')
    .executeTakeFirstOrThrow();
  if (v.previousVersion !== null) {
    const excluded = [...v.replaced.map((u) => u.code), ...v.removed];
    await sql`
      insert into hierarchy_units (version, organisation, code, name, level, parent, members, standing_committee, effective_from, predecessors, sibling_index)
      select ${version}, organisation, code, name, level, parent, members, standing_committee, effective_from, predecessors, 0
        from hierarchy_units
       where version = ${v.previousVersion} and organisation = ${v.organisation} and code <> all(${excluded}::text[])`.execute(trx);
  }
  const rows = v.replaced.map((u) => unitRow(version, v.organisation, u));
  for (let i = 0; i < rows.length; i += 1000)
    await trx
      .insertInto('hierarchy_units')
      .values(rows.slice(i, i + 1000))
      .execute();
  // Children are paged by code order (byte order: codes are ASCII).
  const counted = await sql<{ n: number }>`
    with s as (select code, (row_number() over (partition by parent order by code collate "C") - 1)::int as i from hierarchy_units where version = ${version}),
    u as (update hierarchy_units h set sibling_index = s.i from s where h.version = ${version} and h.code = s.code returning 1)
    select count(*)::int as n from u`.execute(trx);
  const units = counted.rows[0]?.n ?? 0;
  await trx.updateTable('hierarchy_versions').set({ units }).where('version', '=', version).execute();
  return { version, units };
}

/** Record lineage edges of a new version (duplicates of edges already recorded are skipped). */
export async function recordLineage(trx: Transaction<Database>, organisation: string, version: number, edges: ReadonlyArray<LineageEdge>, effectiveFrom: string | null): Promise<void> {
  if (edges.length === 0) return;
  await trx
    .insertInto('unit_lineage')
    .values(edges.map((e) => ({ organisation, from_code: e.from, to_code: e.to, kind: e.kind, effective_from: effectiveFrom, version })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** Lineage an import implies: its diff against the organisation's previous version (merges from `predecessors`). */
export function lineageOfDiff(changes: ReadonlyArray<UnitChange>): LineageEdge[] {
  return changes.flatMap((c): LineageEdge[] => {
    switch (c.kind) {
      case 'merged':
        return [{ from: c.code, to: c.into, kind: 'merged' }];
      case 'split':
        return c.into.map((to) => ({ from: c.code, to, kind: 'split' as const }));
      case 'dissolved':
        return [{ from: c.code, to: null, kind: 'dissolved' }];
      case 'created':
        return [{ from: null, to: c.code, kind: 'created' }];
      case 'moved':
        return [{ from: c.code, to: c.code, kind: 'moved' }];
      case 'renamed':
        return [{ from: c.code, to: c.code, kind: 'renamed' }];
      default:
        return [];
    }
  });
}

/** The roots of a validated unit list and each root's units (its organisation). */
export function splitByOrganisation(units: ReadonlyArray<Unit>): Map<string, Unit[]> {
  const byCode = new Map(units.map((u) => [u.code, u]));
  const rootOf = new Map<string, string>();
  const find = (u: Unit): string => {
    const known = rootOf.get(u.code);
    if (known) return known;
    const chain: string[] = [];
    let cur: Unit | undefined = u;
    let root = u.code;
    while (cur) {
      const k = rootOf.get(cur.code);
      if (k) {
        root = k;
        break;
      }
      chain.push(cur.code);
      root = cur.code;
      cur = cur.parent === null ? undefined : byCode.get(cur.parent);
    }
    for (const c of chain) rootOf.set(c, root);
    return root;
  };
  const out = new Map<string, Unit[]>();
  for (const u of [...units].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))) {
    const r = find(u);
    out.set(r, [...(out.get(r) ?? []), u]);
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Store a validated hierarchy, one new version per organisation (per root of the file), each with its
 * HierarchyImported event and the lineage it implies, in one transaction. Whether the implied changes
 * were confirmed is the caller's business (app/hierarchies.ts previews them first).
 */
export async function importHierarchy(db: Kysely<Database>, units: Unit[], meta: { source: string; content: string; importedBy: string; levels: string[] }): Promise<ImportResult> {
  const sha256 = createHash('sha256').update(meta.content).digest('hex');
  const organisations = splitByOrganisation(units);
  return db.transaction().execute(async (trx) => {
    await lockHierarchyWrites(trx);
    const versions: OrganisationVersion[] = [];
    for (const [organisation, orgUnits] of organisations) {
      const previousVersion = (await latestHierarchyVersion(trx, organisation)) ?? null;
      const previous = previousVersion === null ? [] : await unitsOfVersion(trx, previousVersion, organisation);
      const written = await writeVersion(trx, { organisation, kind: 'snapshot', previousVersion: null, source: meta.source, sha256, importedBy: meta.importedBy, replaced: orgUnits, removed: [] });
      const diff = previousVersion === null ? [] : describeChange(previous, orgUnits);
      // A first import names merges that happened before the system knew the organisation: keep them too.
      const firstMerges: LineageEdge[] =
        previousVersion === null ? orgUnits.flatMap((u) => (u.predecessors ?? []).filter((p) => p !== u.code).map((p) => ({ from: p, to: u.code, kind: 'merged' as const }))) : [];
      await recordLineage(trx, organisation, written.version, [...firstMerges, ...lineageOfDiff(diff)], effectiveDateOf(orgUnits));
      await appendNextInTransaction(trx, {
        streamId: streams.hierarchy(),
        type: 'HierarchyImported',
        actor: meta.importedBy,
        payload: { version: written.version, source: meta.source, sha256, units: written.units, levels: levelsOf(orgUnits), organisation, kind: 'snapshot' },
      });
      versions.push({ organisation, version: written.version, previousVersion, units: written.units });
    }
    return { version: versions[0]!.version, units: units.length, levels: meta.levels, roots: [...organisations.keys()], versions };
  });
}

/** The date an import's implied changes took effect: the latest `effective_from` its units carry, if any. */
function effectiveDateOf(units: ReadonlyArray<Unit>): string | null {
  let out: string | null = null;
  for (const u of units) if (u.effectiveFrom && (out === null || u.effectiveFrom > out)) out = u.effectiveFrom;
  return out;
}

/**
 * Store a delta: `rows` replace or add units of `organisation`'s latest version, which is copied
 * forward otherwise. `merged` is the whole resulting unit list (validated by the caller).
 */
export async function importDelta(
  db: Kysely<Database>,
  organisation: string,
  rows: Unit[],
  meta: { source: string; content: string; importedBy: string; previousVersion: number; merged: ReadonlyArray<Unit>; previous: ReadonlyArray<Unit> },
): Promise<ImportResult> {
  const sha256 = createHash('sha256').update(meta.content).digest('hex');
  return db.transaction().execute(async (trx) => {
    await lockHierarchyWrites(trx);
    const latest = await latestHierarchyVersion(trx, organisation);
    if (latest !== meta.previousVersion)
      throw DomainError.conflict('organisation', `organisation ${organisation} got version ${latest} while this delta was checked against ${meta.previousVersion}; import the delta again`);
    const written = await writeVersion(trx, { organisation, kind: 'delta', previousVersion: latest, source: meta.source, sha256, importedBy: meta.importedBy, replaced: rows, removed: [] });
    await recordLineage(trx, organisation, written.version, lineageOfDiff(describeChange(meta.previous, meta.merged)), effectiveDateOf(rows));
    const levels = levelsOf([...meta.merged]);
    await appendNextInTransaction(trx, {
      streamId: streams.hierarchy(),
      type: 'HierarchyImported',
      actor: meta.importedBy,
      payload: { version: written.version, source: meta.source, sha256, units: written.units, levels, organisation, kind: 'delta' },
    });
    return { version: written.version, units: written.units, levels, roots: [organisation], versions: [{ organisation, version: written.version, previousVersion: latest, units: written.units }] };
  });
}

/** The newest version of one organisation (its latest shape), if it was ever imported. */
export async function latestHierarchyVersion(db: Executor, organisation: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('hierarchy_units')
    .select(sql<number | null>`max(version)`.as('v'))
    .where('organisation', '=', organisation)
    .executeTakeFirst();
  return row?.v ?? undefined;
}

/** Where a code lives: its organisation and that organisation's latest version, and whether the code is still in it. */
export interface UnitHome {
  organisation: string;
  latestVersion: number;
  /** False: the code was in an older version of the organisation (merged away, dissolved…). */
  current: boolean;
}

/** The organisation of a unit code (the newest version holding it decides), or undefined for a code never imported. */
export async function organisationOf(db: Executor, code: string): Promise<UnitHome | undefined> {
  const row = await db.selectFrom('hierarchy_units').select(['organisation', 'version']).where('code', '=', code).orderBy('version', 'desc').limit(1).executeTakeFirst();
  if (!row) return undefined;
  const latest = (await latestHierarchyVersion(db, row.organisation)) ?? row.version;
  if (latest === row.version) return { organisation: row.organisation, latestVersion: latest, current: true };
  const still = await db.selectFrom('hierarchy_units').select('code').where('version', '=', latest).where('code', '=', code).executeTakeFirst();
  return { organisation: row.organisation, latestVersion: latest, current: still !== undefined };
}

/** The organisations of several codes, in their latest versions (code → organisation). */
export async function organisationsOfCodes(db: Executor, codes: ReadonlyArray<string>): Promise<Map<string, string>> {
  if (codes.length === 0) return new Map();
  const { rows } = await sql<{ code: string; organisation: string }>`
    select distinct on (code) code, organisation from hierarchy_units where code = any(${[...new Set(codes)]}::text[]) order by code, version desc`.execute(db);
  return new Map(rows.map((r) => [r.code, r.organisation]));
}

/** The latest version of the organisation a code belongs to (for a code that is still in it). */
export async function latestVersionOfUnit(db: Executor, code: string): Promise<number | undefined> {
  const home = await organisationOf(db, code);
  return home?.current ? home.latestVersion : undefined;
}

/** One organisation's units in a version, in code order. */
export async function unitsOfVersion(db: Executor, version: number, organisation?: string): Promise<Unit[]> {
  let q = db.selectFrom('hierarchy_units').selectAll().where('version', '=', version);
  if (organisation !== undefined) q = q.where('organisation', '=', organisation);
  const rows = await q.orderBy(sql`code collate "C"`).execute();
  return rows.map((r) => ({
    code: r.code,
    name: r.name,
    level: r.level,
    parent: r.parent,
    members: r.members,
    standingCommittee: r.standing_committee,
    ...(r.effective_from ? { effectiveFrom: r.effective_from } : {}),
    ...(r.predecessors.length ? { predecessors: r.predecessors } : {}),
  }));
}

/** An organisation as listed: its root, latest version and size. */
export interface OrganisationSummary {
  organisation: string;
  name: string;
  latestVersion: number;
  kind: VersionKind;
  units: number;
  effectiveFrom: string | null;
  importedAt: string;
}

/** Every organisation with its latest version, by code. */
export async function listOrganisations(db: Executor): Promise<OrganisationSummary[]> {
  const { rows } = await sql<{ organisation: string; version: number; name: string; kind: VersionKind; units: number; effective_from: string | null; imported_at: Date }>`
    with latest as (select organisation, max(version) as version from hierarchy_units group by organisation)
    select l.organisation, l.version, r.name, v.kind, v.effective_from, v.imported_at,
           (select count(*)::int from hierarchy_units c where c.version = l.version and c.organisation = l.organisation) as units
      from latest l
      join hierarchy_versions v on v.version = l.version
      join hierarchy_units r on r.version = l.version and r.code = l.organisation
     order by l.organisation collate "C"`.execute(db);
  return rows.map((r) => ({
    organisation: r.organisation,
    name: r.name,
    latestVersion: r.version,
    kind: r.kind,
    units: r.units,
    effectiveFrom: r.effective_from,
    importedAt: new Date(r.imported_at).toISOString(),
  }));
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
