/**
 * Hierarchies, per organisation: importing one organisation's file (a whole snapshot, or a delta of
 * rows to add or replace), previewing what an import implies, applying dated changes, and reading
 * lineage. The CLI and the HTTP API both call these.
 *
 * An import that implies structural changes to an organisation already imported (codes appear,
 * disappear or move) is previewed as a diff and stored only when confirmed; renames and member counts
 * alone are routine updates and need no confirmation. A first import needs none either.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/database';
import {
  importDelta,
  importHierarchy,
  latestHierarchyVersion,
  listOrganisations,
  organisationOf,
  organisationsOfCodes,
  splitByOrganisation,
  unitsOfVersion,
  type ImportResult,
  type OrganisationSummary,
  type UnitHome,
} from '../db/hierarchy';
import { checkChange, currentSuccessorsOf, predecessorsOf, storeChange, successorsOf, type LineageStep } from '../db/hierarchy-changes';
import { DomainError, type DomainIssue } from '../domain/errors';
import { levelsOf, parseUnitsFile, validateTree, type Unit } from '../domain/hierarchy';
import { changeLine, describeChange, isStructural, parseChangeRequest, type LineageEdge, type UnitChange } from '../domain/hierarchy-changes';
import { UnitCode } from '../domain/codes';
import { LocalDate } from '../domain/time';

/** An import request (the API's body; the CLI builds the same). */
export const ImportRequest = z.strictObject({
  fileName: z
    .string()
    .min(1)
    .max(200)
    .regex(/\.(csv|json)$/i, 'name the file .csv or .json'),
  content: z.string().min(1),
  /** The organisation the file is for: checked against the file's root (snapshot) or its rows (delta). */
  organisation: UnitCode.optional(),
  /** Rows to add or replace in the organisation's latest version, rather than the whole organisation. */
  delta: z.boolean().optional(),
  /** Store even though the import implies structural changes (after looking at the preview). */
  confirm: z.boolean().optional(),
});
export type ImportRequest = z.input<typeof ImportRequest>;

/** What an import would do to one organisation. */
export interface OrganisationPreview {
  organisation: string;
  kind: 'snapshot' | 'delta';
  /** The organisation's latest version now (null: its first import). */
  previousVersion: number | null;
  /** Units the new version will hold. */
  units: number;
  changes: UnitChange[];
  /** The changes as sentences (Vietnamese, English). */
  lines: Array<{ vi: string; en: string }>;
  needsConfirmation: boolean;
}

export interface ImportPreview {
  organisations: OrganisationPreview[];
  needsConfirmation: boolean;
}

/** The import was not stored: it implies changes that must be confirmed (`--yes`, `confirm: true`). */
export class ConfirmationRequired extends DomainError {
  constructor(readonly preview: ImportPreview) {
    const changed = preview.organisations.filter((o) => o.needsConfirmation);
    super(
      changed.map((o) => ({
        path: `organisation ${o.organisation}`,
        message: `the import changes the shape of ${o.organisation} (version ${o.previousVersion}): ${o.changes.length} change(s); nothing was stored — confirm to apply (--yes, or confirm: true)`,
      })),
      'conflict',
    );
  }
}

interface Planned {
  preview: ImportPreview;
  store(importedBy: string): Promise<ImportResult>;
}

const rowPath = (i: number, field: string) => `row ${i + 1} (${field})`;

async function plan(db: Kysely<Database>, req: z.infer<typeof ImportRequest>, parsed?: Unit[]): Promise<Planned> {
  const rows = parsed ?? parseUnitsFile(req.fileName, req.content, { partial: req.delta === true });
  return req.delta ? planDelta(db, req, rows) : planSnapshot(db, req, rows);
}

async function planSnapshot(db: Kysely<Database>, req: z.infer<typeof ImportRequest>, units: Unit[]): Promise<Planned> {
  const byOrg = splitByOrganisation(units);
  if (req.organisation !== undefined && (byOrg.size !== 1 || !byOrg.has(req.organisation)))
    throw DomainError.of(
      'organisation',
      `the file's root${byOrg.size > 1 ? 's are' : ' is'} ${[...byOrg.keys()].join(', ')}, not ${req.organisation} (a snapshot holds one organisation's whole tree, its root included)`,
    );
  // Codes are unique across organisations: contacts and lineage belong to a code.
  const owners = await organisationsOfCodes(
    db,
    units.map((u) => u.code),
  );
  const rootOf = new Map<string, string>();
  for (const [org, list] of byOrg) for (const u of list) rootOf.set(u.code, org);
  const issues: DomainIssue[] = [];
  units.forEach((u, i) => {
    const owner = owners.get(u.code);
    if (owner !== undefined && owner !== rootOf.get(u.code))
      issues.push({ path: rowPath(i, 'code'), message: `"${u.code}" belongs to organisation ${owner}; this file puts it under ${rootOf.get(u.code)} (codes are unique across organisations)` });
  });
  if (issues.length) throw new DomainError(issues);
  const organisations: OrganisationPreview[] = [];
  for (const [organisation, list] of byOrg) {
    const previousVersion = (await latestHierarchyVersion(db, organisation)) ?? null;
    const changes = previousVersion === null ? [] : describeChange(await unitsOfVersion(db, previousVersion, organisation), list);
    organisations.push({
      organisation,
      kind: 'snapshot',
      previousVersion,
      units: list.length,
      changes,
      lines: changes.map(changeLine),
      needsConfirmation: previousVersion !== null && isStructural(changes),
    });
  }
  const preview = { organisations, needsConfirmation: organisations.some((o) => o.needsConfirmation) };
  return { preview, store: (importedBy) => importHierarchy(db, units, { source: req.fileName, content: req.content, importedBy, levels: levelsOf(units) }) };
}

async function planDelta(db: Kysely<Database>, req: z.infer<typeof ImportRequest>, rows: Unit[]): Promise<Planned> {
  const owners = await organisationsOfCodes(db, [...rows.map((u) => u.code), ...rows.flatMap((u) => (u.parent ? [u.parent] : []))]);
  const issues: DomainIssue[] = [];
  const orgOfRow = rows.map((u) => owners.get(u.code) ?? (u.parent ? owners.get(u.parent) : undefined));
  const found = [...new Set(orgOfRow.filter((o): o is string => o !== undefined))];
  const organisation = req.organisation ?? (found.length === 1 ? found[0] : undefined);
  if (organisation === undefined)
    throw DomainError.of(
      'organisation',
      found.length > 1
        ? `the rows belong to several organisations (${found.join(', ')}); a delta changes one organisation: split the file`
        : 'no row names a unit (or a parent) of an imported organisation: import the organisation as a whole first (without --delta)',
    );
  const previousVersion = await latestHierarchyVersion(db, organisation);
  if (previousVersion === undefined) throw DomainError.notFound('organisation', `no organisation "${organisation}" has been imported (import it without --delta first)`);
  const previous = await unitsOfVersion(db, previousVersion, organisation);
  const merged = new Map(previous.map((u) => [u.code, u]));
  rows.forEach((u, i) => {
    const o = orgOfRow[i];
    if (o !== undefined && o !== organisation)
      issues.push({ path: rowPath(i, o === owners.get(u.code) ? 'code' : 'parent'), message: `"${o === owners.get(u.code) ? u.code : u.parent}" belongs to organisation ${o}, not ${organisation}` });
    if (u.parent === null && u.code !== organisation)
      issues.push({ path: rowPath(i, 'parent'), message: `a delta cannot add a root ("${u.code}" has no parent): a new organisation is imported as a whole, without --delta` });
    if (u.code === organisation && u.parent !== null) issues.push({ path: rowPath(i, 'parent'), message: `"${u.code}" is the organisation's root: it keeps no parent` });
    merged.set(u.code, u);
  });
  rows.forEach((u, i) => {
    if (u.parent !== null && !merged.has(u.parent))
      issues.push({ path: rowPath(i, 'parent'), message: `parent "${u.parent}" is neither in this file nor in ${organisation} (version ${previousVersion})` });
  });
  if (issues.length) throw new DomainError(issues);
  const after = [...merged.values()];
  try {
    validateTree(after);
  } catch (e) {
    if (e instanceof DomainError) throw new DomainError(e.issues.map((i) => ({ path: 'file', message: `with ${organisation}'s version ${previousVersion}: ${i.message}` })));
    throw e;
  }
  const changes = describeChange(previous, after);
  const preview: ImportPreview = {
    organisations: [{ organisation, kind: 'delta', previousVersion, units: after.length, changes, lines: changes.map(changeLine), needsConfirmation: isStructural(changes) }],
    needsConfirmation: isStructural(changes),
  };
  return { preview, store: (importedBy) => importDelta(db, organisation, rows, { source: req.fileName, content: req.content, importedBy, previousVersion, merged: after, previous }) };
}

function parseRequest(request: ImportRequest): z.infer<typeof ImportRequest> {
  const r = ImportRequest.safeParse(request);
  if (!r.success) throw DomainError.fromZod('', r.error);
  return r.data;
}

/** What an import would do, per organisation (nothing is stored). @throws DomainError naming each bad row */
export async function previewImport(db: Kysely<Database>, request: ImportRequest, parsed?: Unit[]): Promise<ImportPreview> {
  return (await plan(db, parseRequest(request), parsed)).preview;
}

export type ImportOutcome = ImportResult & { preview: ImportPreview };

/**
 * Import one organisation's hierarchy (a snapshot: one new version per root of the file; or a delta).
 * @throws ConfirmationRequired when it implies structural changes and `confirm` is not set
 * @throws DomainError naming each bad row
 */
export async function importOrganisation(db: Kysely<Database>, request: ImportRequest, importedBy: string, parsed?: Unit[]): Promise<ImportOutcome> {
  const req = parseRequest(request);
  const planned = await plan(db, req, parsed);
  if (planned.preview.needsConfirmation && req.confirm !== true) throw new ConfirmationRequired(planned.preview);
  return { ...(await planned.store(importedBy)), preview: planned.preview };
}

/** The result of a change request (dry run: nothing stored, `version` null). */
export interface ChangeOutcome {
  dryRun: boolean;
  organisation: string;
  effectiveFrom: string;
  previousVersion: number;
  version: number | null;
  units: number;
  changes: UnitChange[];
  lines: Array<{ vi: string; en: string }>;
  lineage: LineageEdge[];
}

/**
 * Apply a dated change to one organisation (or, with `dryRun`, only check it and show what it does).
 * @throws DomainError listing every problem, each with its path (`operations[3].parent`)
 */
export async function applyHierarchyChanges(db: Kysely<Database>, request: unknown, opts: { dryRun?: boolean } = {}): Promise<ChangeOutcome> {
  const req = parseChangeRequest(request);
  if (opts.dryRun) {
    const c = await checkChange(db, req);
    return {
      dryRun: true,
      organisation: req.organisation,
      effectiveFrom: req.effectiveFrom,
      previousVersion: c.previousVersion,
      version: null,
      units: c.units.length,
      changes: c.changes,
      lines: c.changes.map(changeLine),
      lineage: c.lineage,
    };
  }
  const s = await storeChange(db, req);
  return {
    dryRun: false,
    organisation: s.organisation,
    effectiveFrom: s.effectiveFrom,
    previousVersion: s.previousVersion,
    version: s.version,
    units: s.units,
    changes: s.checked.changes,
    lines: s.checked.changes.map(changeLine),
    lineage: s.checked.lineage,
  };
}

/** A code's lineage: where it lives, what it became, what it came from. */
export interface Lineage {
  code: string;
  /** Its organisation, if the code was ever imported. */
  home: UnitHome | null;
  successors: LineageStep[];
  predecessors: LineageStep[];
  /** The units its work passes to now (itself if it still exists). */
  current: string[];
}

/** What a code became and came from (`before`: only changes effective on or after that day are followed back). */
export async function lineage(db: Kysely<Database>, code: string, before?: string): Promise<Lineage> {
  const c = UnitCode.safeParse(code);
  if (!c.success) throw DomainError.fromZod('code', c.error);
  if (before !== undefined) {
    const b = LocalDate.safeParse(before);
    if (!b.success) throw DomainError.fromZod('before', b.error);
  }
  const [home, successors, predecessors, current] = await Promise.all([organisationOf(db, code), successorsOf(db, code), predecessorsOf(db, code, before), currentSuccessorsOf(db, code)]);
  if (!home && successors.length === 0 && predecessors.length === 0) throw DomainError.notFound('code', `no unit "${code}" in any organisation, and no lineage names it`);
  return { code, home: home ?? null, successors, predecessors, current };
}

/** Every organisation with its latest version. */
export async function organisations(db: Kysely<Database>): Promise<OrganisationSummary[]> {
  return listOrganisations(db);
}
