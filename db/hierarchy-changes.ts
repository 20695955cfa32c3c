/**
 * Dated hierarchy changes, stored: the new version of one organisation (copied forward from its
 * latest, set-based), the lineage edges, and one HierarchyChanged event, in one transaction. And the
 * lineage queries: what a code became, and what it came from.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { DomainError } from '../domain/errors';
import { applyChanges, type AppliedChange, type HierarchyChangeRequest, type LineageKind } from '../domain/hierarchy-changes';
import type { Unit } from '../domain/hierarchy';
import { streams } from '../domain/ids';
import type { Database } from './database';
import { appendNextInTransaction } from './event-store';
import { canonicalJson } from './links';
import { latestHierarchyVersion, lockHierarchyWrites, organisationsOfCodes, recordLineage, unitsOfVersion, writeVersion } from './hierarchy';

type Executor = Kysely<Database> | Transaction<Database>;

/** A change checked against the organisation's latest version: what it would store. */
export interface CheckedChange extends AppliedChange {
  organisation: string;
  previousVersion: number;
  previous: Unit[];
}

/** Every code a request names (to find those that belong to another organisation). */
function codesNamed(req: HierarchyChangeRequest): string[] {
  return req.operations.flatMap((op) => {
    switch (op.op) {
      case 'create':
        return [op.code, op.parent];
      case 'move':
        return [op.code, op.parent];
      case 'merge':
        return [...op.codes, op.into, ...(op.parent ? [op.parent] : [])];
      case 'split':
        return [op.code, ...op.into.flatMap((p) => [p.code, ...(p.parent ? [p.parent] : [])])];
      default:
        return [op.code];
    }
  });
}

/** Check a change against the organisation's latest version (nothing stored). @throws DomainError naming each operation's field */
export async function checkChange(db: Executor, req: HierarchyChangeRequest): Promise<CheckedChange> {
  const previousVersion = await latestHierarchyVersion(db, req.organisation);
  if (previousVersion === undefined) throw DomainError.notFound('organisation', `no organisation "${req.organisation}" (import its hierarchy first: trienkhai units import FILE)`);
  const previous = await unitsOfVersion(db, previousVersion, req.organisation);
  const owners = await organisationsOfCodes(db, codesNamed(req));
  const foreign = new Map([...owners].filter(([, org]) => org !== req.organisation));
  const applied = applyChanges(previous, req.operations, { organisation: req.organisation, foreign, effectiveFrom: req.effectiveFrom });
  return { ...applied, organisation: req.organisation, previousVersion, previous };
}

export interface StoredChange {
  organisation: string;
  previousVersion: number;
  version: number;
  units: number;
  effectiveFrom: string;
}

/**
 * Apply a change: a new version of the organisation, its lineage, and one HierarchyChanged event, in
 * one transaction (checked again under the writers' lock, so a concurrent change cannot slip between).
 */
export async function storeChange(db: Kysely<Database>, req: HierarchyChangeRequest): Promise<StoredChange & { checked: CheckedChange }> {
  return db.transaction().execute(async (trx) => {
    await lockHierarchyWrites(trx);
    const checked = await checkChange(trx, req);
    const after = new Map(checked.units.map((u) => [u.code, u]));
    const before = new Map(checked.previous.map((u) => [u.code, u]));
    const replaced = checked.units.filter((u) => canonicalJson(before.get(u.code) ?? null) !== canonicalJson(u));
    const removed = checked.previous.filter((u) => !after.has(u.code)).map((u) => u.code);
    const content = canonicalJson(req);
    const written = await writeVersion(trx, {
      organisation: req.organisation,
      kind: 'change',
      previousVersion: checked.previousVersion,
      effectiveFrom: req.effectiveFrom,
      source: `change:${req.effectiveFrom}`,
      sha256: createHash('sha256').update(content).digest('hex'),
      importedBy: req.decidedBy,
      replaced,
      removed,
    });
    await recordLineage(trx, req.organisation, written.version, checked.lineage, req.effectiveFrom);
    await appendNextInTransaction(trx, {
      streamId: streams.hierarchy(),
      type: 'HierarchyChanged',
      actor: req.decidedBy,
      payload: {
        decidedBy: req.decidedBy,
        reason: req.reason,
        organisation: req.organisation,
        previousVersion: checked.previousVersion,
        version: written.version,
        effectiveFrom: req.effectiveFrom,
        operations: req.operations,
      },
    });
    return { organisation: req.organisation, previousVersion: checked.previousVersion, version: written.version, units: written.units, effectiveFrom: req.effectiveFrom, checked };
  });
}

/** One step of lineage, as stored. */
export interface LineageStep {
  from: string | null;
  to: string | null;
  kind: LineageKind;
  effectiveFrom: string | null;
  version: number;
  organisation: string;
  /** 1: a direct successor (or predecessor); 2: one further; … */
  depth: number;
}

type StepRow = { from_code: string | null; to_code: string | null; kind: LineageKind; effective_from: string | null; version: number; organisation: string; depth: number };
const toStep = (r: StepRow): LineageStep => ({ from: r.from_code, to: r.to_code, kind: r.kind, effectiveFrom: r.effective_from, version: r.version, organisation: r.organisation, depth: r.depth });

/**
 * What a code became, transitively ("what did BG.YT become?"): merges, splits and dissolutions, in
 * order of depth. Renames and moves keep the code and are not steps here.
 */
export async function successorsOf(db: Executor, code: string): Promise<LineageStep[]> {
  const { rows } = await sql<StepRow>`
    with recursive s as (
      select l.from_code, l.to_code, l.kind, l.effective_from, l.version, l.organisation, 1 as depth, array[l.from_code] as path
        from unit_lineage l where l.from_code = ${code} and l.kind in ('merged', 'split', 'dissolved')
      union all
      select l.from_code, l.to_code, l.kind, l.effective_from, l.version, l.organisation, s.depth + 1, s.path || l.from_code
        from unit_lineage l join s on l.from_code = s.to_code
       where l.kind in ('merged', 'split', 'dissolved') and not l.from_code = any(s.path) and s.depth < 64
    )
    select from_code, to_code, kind, effective_from::text, version, organisation, depth from s order by depth, effective_from nulls first, to_code collate "C"`.execute(db);
  return rows.map(toStep);
}

/**
 * What a code came from, transitively ("what was X1 before 2025?"). With `before` (YYYY-MM-DD), only
 * the changes that took effect on or after that day are followed back: the answer's earliest codes are
 * the units as they were before it.
 */
export async function predecessorsOf(db: Executor, code: string, before?: string): Promise<LineageStep[]> {
  const since = before ?? null;
  const { rows } = await sql<StepRow>`
    with recursive p as (
      select l.from_code, l.to_code, l.kind, l.effective_from, l.version, l.organisation, 1 as depth, array[l.to_code] as path
        from unit_lineage l
       where l.to_code = ${code} and l.kind in ('merged', 'split') and (${since}::date is null or l.effective_from is null or l.effective_from >= ${since}::date)
      union all
      select l.from_code, l.to_code, l.kind, l.effective_from, l.version, l.organisation, p.depth + 1, p.path || l.to_code
        from unit_lineage l join p on l.to_code = p.from_code
       where l.kind in ('merged', 'split') and not l.to_code = any(p.path) and p.depth < 64
         and (${since}::date is null or l.effective_from is null or l.effective_from >= ${since}::date)
    )
    select from_code, to_code, kind, effective_from::text, version, organisation, depth from p order by depth, effective_from nulls first, from_code collate "C"`.execute(db);
  return rows.map(toStep);
}

/**
 * The units a code's work passes to now: its successors that still exist in their organisation's
 * latest version (the code itself if it still exists). Empty for a dissolved unit with no successor.
 */
export async function currentSuccessorsOf(db: Executor, code: string): Promise<string[]> {
  const { rows } = await sql<{ code: string }>`
    with recursive s as (
      select ${code}::text as code, 0 as depth
      union
      select l.to_code, s.depth + 1 from unit_lineage l join s on l.from_code = s.code
       where l.kind in ('merged', 'split') and l.to_code is not null and l.to_code <> l.from_code and s.depth < 64
    ),
    latest as (select organisation, max(version) as version from hierarchy_units group by organisation)
    select distinct s.code from s
      join hierarchy_units u on u.code = s.code
      join latest on latest.organisation = u.organisation and latest.version = u.version
     order by s.code`.execute(db);
  return rows.map((r) => r.code);
}
