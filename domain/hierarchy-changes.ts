/**
 * Dated changes of one organisation's hierarchy (thay đổi tổ chức): units created, renamed, moved,
 * merged (sáp nhập), split (chia tách), dissolved (giải thể), their member counts or standing committee
 * changed — each change with an effective date, a reason and who decided it. The 2025 reform (districts
 * abolished, communes merged) is one such change.
 *
 * `applyChanges` turns the organisation's current units and a list of operations into the next units
 * and the lineage edges between codes, or refuses with every problem, each naming its operation
 * (`operations[3].parent`). `describeChange` compares two shapes per unit; it is what a running
 * rollout (or an import's preview) needs to know: which units went where.
 *
 * Pure: no I/O, imported by workflow code.
 */
import { z } from 'zod';
import { DomainError, joinPath, type DomainIssue } from './errors';
import { LevelCode, UnitCode, type Unit } from './hierarchy';
import { Text } from './text';
import { LocalDate } from './time';

const Name = Text({ max: 300, multiline: true });
const Members = z.number().int().min(0);

const Create = z.strictObject({ op: z.literal('create'), code: UnitCode, name: Name, level: LevelCode, parent: UnitCode, members: Members, standingCommittee: z.boolean() });
const Rename = z.strictObject({ op: z.literal('rename'), code: UnitCode, name: Name });
const Move = z.strictObject({ op: z.literal('move'), code: UnitCode, parent: UnitCode });
/** Several units become one: `into` is new (give its name) or one that exists (it absorbs the others). Children of the merged units move under `into`. */
const Merge = z.strictObject({
  op: z.literal('merge'),
  codes: z.array(UnitCode).min(1),
  into: UnitCode,
  name: Name.optional(),
  level: LevelCode.optional(),
  parent: UnitCode.optional(),
  /** Default: the sum of the merged units' members. */
  members: Members.optional(),
  standingCommittee: z.boolean().optional(),
});
const SplitPart = z.strictObject({ code: UnitCode, name: Name, members: Members, level: LevelCode.optional(), parent: UnitCode.optional(), standingCommittee: z.boolean().optional() });
/** One unit becomes several; its children must be moved to the parts (or elsewhere) in the same change. */
const Split = z.strictObject({ op: z.literal('split'), code: UnitCode, into: z.array(SplitPart).min(1) });
/** The unit ceases to exist; its children must be moved in the same change. */
const Dissolve = z.strictObject({ op: z.literal('dissolve'), code: UnitCode });
const SetMembers = z.strictObject({ op: z.literal('members'), code: UnitCode, members: Members });
const SetStandingCommittee = z.strictObject({ op: z.literal('standingCommittee'), code: UnitCode, value: z.boolean() });

/** One operation of a change. */
export const HierarchyOperation = z.discriminatedUnion('op', [Create, Rename, Move, Merge, Split, Dissolve, SetMembers, SetStandingCommittee]);
export type HierarchyOperation = z.infer<typeof HierarchyOperation>;

/** A change file / request: one decision, applied as one new version of one organisation. */
export const HierarchyChangeRequest = z.strictObject({
  /** The organisation (its root unit's code), e.g. BG. */
  organisation: UnitCode,
  /** The day the new shape takes effect (e.g. 2025-07-01). */
  effectiveFrom: LocalDate,
  reason: Text({ max: 2000, multiline: true }),
  decidedBy: Text({ max: 300 }),
  operations: z.array(HierarchyOperation).min(1, 'at least one operation'),
});
export type HierarchyChangeRequest = z.infer<typeof HierarchyChangeRequest>;

/** Parse a change request; every problem names its field (`operations[3].parent`). @throws DomainError */
export function parseChangeRequest(input: unknown): HierarchyChangeRequest {
  const r = HierarchyChangeRequest.safeParse(input);
  if (!r.success) throw DomainError.fromZod('', r.error);
  return r.data;
}

export type LineageKind = 'merged' | 'split' | 'renamed' | 'moved' | 'dissolved' | 'created';

/**
 * An edge of lineage: `from` became (part of) `to`. `from` is null for a created unit, `to` null for a
 * dissolved one; renamed and moved units keep their code (`from` = `to`).
 */
export interface LineageEdge {
  from: string | null;
  to: string | null;
  kind: LineageKind;
}

/** What happened to one unit between two shapes. A unit may have several (moved and renamed). */
export type UnitChange =
  | { code: string; kind: 'created'; parent: string | null; name: string }
  | { code: string; kind: 'merged'; into: string }
  | { code: string; kind: 'split'; into: string[] }
  | { code: string; kind: 'dissolved' }
  | { code: string; kind: 'moved'; from: string | null; to: string | null }
  | { code: string; kind: 'renamed'; from: string; to: string }
  | { code: string; kind: 'level'; from: string; to: string }
  | { code: string; kind: 'members'; from: number; to: number }
  | { code: string; kind: 'standingCommittee'; from: boolean; to: boolean };

export interface AppliedChange {
  /** The organisation's units after the change, in code order. */
  units: Unit[];
  lineage: LineageEdge[];
  /** Per unit, what changed (describeChange of before and after, with this change's lineage). */
  changes: UnitChange[];
}

export interface ApplyOptions {
  /** The organisation's root (it cannot be moved, merged, split or dissolved). */
  organisation?: string;
  /** Codes that belong to other organisations (code → organisation): referring to one is refused. */
  foreign?: ReadonlyMap<string, string>;
  /** Set on units the change creates or reshapes. */
  effectiveFrom?: string;
}

const byCode = (a: { code: string }, b: { code: string }): number => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);

/**
 * Apply operations in order to an organisation's units. Checks every operation against the shape left
 * by the ones before it, then the result as a whole (no unit left without its parent, no cycle).
 * @throws DomainError listing every problem, each with its path (`operations[3].parent`)
 */
export function applyChanges(before: ReadonlyArray<Unit>, operations: ReadonlyArray<HierarchyOperation>, opts: ApplyOptions = {}): AppliedChange {
  const units = new Map<string, Unit>(before.map((u) => [u.code, { ...u }]));
  const levels = new Set(before.map((u) => u.level));
  const issues: DomainIssue[] = [];
  const lineage: LineageEdge[] = [];
  /** Which operation removed a code, for "unknown code" messages and orphan checks. */
  const removedBy = new Map<string, number>();
  const createdBy = new Map<string, number>();
  const touched = new Set<string>();
  const roots = new Set(before.filter((u) => u.parent === null).map((u) => u.code));
  if (opts.organisation) roots.add(opts.organisation);

  operations.forEach((op, i) => {
    const at = (...path: Array<string | number>) => joinPath(`operations[${i}]`, path);
    const problems: DomainIssue[] = [];
    const fail = (path: string, message: string) => problems.push({ path, message });
    const existing = (code: string, path: string): Unit | undefined => {
      const u = units.get(code);
      if (u) return u;
      const org = opts.foreign?.get(code);
      if (org) fail(path, `unit "${code}" belongs to organisation ${org}, not ${opts.organisation ?? 'this one'} (a change touches one organisation)`);
      else if (removedBy.has(code)) fail(path, `unit "${code}" no longer exists: operations[${removedBy.get(code)}] removed it`);
      else fail(path, `unknown unit "${code}" (not in this organisation's latest version)`);
      return undefined;
    };
    const fresh = (code: string, path: string) => {
      const org = opts.foreign?.get(code);
      if (units.has(code)) fail(path, createdBy.has(code) ? `unit "${code}" is already created by operations[${createdBy.get(code)}]` : `unit "${code}" already exists (choose a new code)`);
      else if (org) fail(path, `code "${code}" is used by organisation ${org} (codes are unique across organisations)`);
      else if (removedBy.has(code)) fail(path, `code "${code}" was removed by operations[${removedBy.get(code)}]; a new unit needs a new code`);
    };
    const level = (l: string, path: string) => {
      if (!levels.has(l)) fail(path, `level "${l}" is not in this hierarchy (levels: ${[...levels].sort().join(', ')})`);
    };
    const notRoot = (code: string, path: string, what: string) => {
      if (roots.has(code)) fail(path, `"${code}" is the organisation's root: it cannot be ${what}`);
    };
    /** Would putting `code` under `parent` make a cycle? (walks up from the parent) */
    const cycle = (code: string, parent: string): boolean => {
      const seen = new Set<string>();
      for (let p: string | null = parent; p !== null && !seen.has(p); p = units.get(p)?.parent ?? null) {
        if (p === code) return true;
        seen.add(p);
      }
      return false;
    };
    const remove = (code: string) => {
      units.delete(code);
      removedBy.set(code, i);
    };
    const put = (u: Unit) => {
      units.set(u.code, u);
      touched.add(u.code);
    };
    const stamp = (u: Unit): Unit => (opts.effectiveFrom ? { ...u, effectiveFrom: opts.effectiveFrom } : u);

    switch (op.op) {
      case 'create': {
        fresh(op.code, at('code'));
        if (!units.has(op.parent)) existing(op.parent, at('parent'));
        level(op.level, at('level'));
        if (problems.length) break;
        put(stamp({ code: op.code, name: op.name, level: op.level, parent: op.parent, members: op.members, standingCommittee: op.standingCommittee }));
        createdBy.set(op.code, i);
        lineage.push({ from: null, to: op.code, kind: 'created' });
        break;
      }
      case 'rename': {
        const u = existing(op.code, at('code'));
        if (!u) break;
        put(stamp({ ...u, name: op.name }));
        lineage.push({ from: op.code, to: op.code, kind: 'renamed' });
        break;
      }
      case 'move': {
        const u = existing(op.code, at('code'));
        const p = existing(op.parent, at('parent'));
        if (!u || !p) break;
        notRoot(op.code, at('code'), 'moved');
        if (op.parent === op.code || cycle(op.code, op.parent)) fail(at('parent'), `moving "${op.code}" under "${op.parent}" makes a cycle ("${op.parent}" is "${op.code}" or under it)`);
        if (problems.length) break;
        put(stamp({ ...u, parent: op.parent }));
        lineage.push({ from: op.code, to: op.code, kind: 'moved' });
        break;
      }
      case 'merge': {
        const seen = new Set<string>();
        const merged: Unit[] = [];
        op.codes.forEach((c, k) => {
          if (seen.has(c)) {
            fail(at('codes', k), `"${c}" is listed twice`);
            return;
          }
          seen.add(c);
          if (c === op.into) {
            fail(at('into'), `"${c}" cannot be merged into itself (list only the units that merge into "${op.into}")`);
            return;
          }
          notRoot(c, at('codes', k), 'merged');
          const u = existing(c, at('codes', k));
          if (u) merged.push(u);
        });
        const target = units.get(op.into);
        if (!target) {
          fresh(op.into, at('into'));
          if (op.name === undefined) fail(at('name'), `"${op.into}" is a new unit: give its name`);
        }
        if (op.level !== undefined) level(op.level, at('level'));
        const first = merged[0];
        const parent = op.parent ?? target?.parent ?? first?.parent ?? null;
        if (op.parent !== undefined && !units.has(op.parent)) existing(op.parent, at('parent'));
        else if (op.parent !== undefined && (seen.has(op.parent) || op.parent === op.into)) fail(at('parent'), `"${op.parent}" cannot be the parent of the unit it merges into`);
        if (problems.length || !first) break;
        const members = op.members ?? merged.reduce((n, u) => n + u.members, target?.members ?? 0);
        const successor: Unit = stamp({
          code: op.into,
          name: op.name ?? target!.name,
          level: op.level ?? target?.level ?? first.level,
          parent,
          members,
          standingCommittee: op.standingCommittee ?? target?.standingCommittee ?? merged.some((u) => u.standingCommittee),
          predecessors: [...new Set([...(target?.predecessors ?? []), ...merged.map((u) => u.code)])],
        });
        if (target && parent !== target.parent && parent !== null && cycle(op.into, parent)) fail(at('parent'), `"${op.into}" under "${parent}" makes a cycle`);
        if (problems.length) break;
        for (const u of merged) remove(u.code);
        put(successor);
        if (!target) createdBy.set(op.into, i);
        // The merged units' children now hang under the successor (a merged commune's cells).
        for (const u of [...units.values()]) if (u.parent !== null && seen.has(u.parent)) put({ ...u, parent: op.into });
        for (const u of merged) lineage.push({ from: u.code, to: op.into, kind: 'merged' });
        break;
      }
      case 'split': {
        const u = existing(op.code, at('code'));
        if (u) notRoot(op.code, at('code'), 'split');
        const codes = new Set<string>();
        op.into.forEach((part, k) => {
          if (codes.has(part.code)) fail(at('into', k, 'code'), `"${part.code}" is listed twice`);
          codes.add(part.code);
          if (part.code !== op.code) fresh(part.code, at('into', k, 'code'));
          if (part.level !== undefined) level(part.level, at('into', k, 'level'));
          if (part.parent !== undefined && (part.parent === op.code || codes.has(part.parent))) fail(at('into', k, 'parent'), `"${part.parent}" is being split; a part's parent must be another unit`);
          else if (part.parent !== undefined && !units.has(part.parent)) existing(part.parent, at('into', k, 'parent'));
        });
        if (!u || problems.length) break;
        const keeps = codes.has(op.code);
        if (!keeps) remove(op.code);
        for (const part of op.into) {
          put(
            stamp({
              code: part.code,
              name: part.name,
              level: part.level ?? u.level,
              parent: part.parent ?? u.parent,
              members: part.members,
              standingCommittee: part.standingCommittee ?? u.standingCommittee,
              predecessors: part.code === op.code ? u.predecessors : [op.code],
            }),
          );
          if (part.code !== op.code) createdBy.set(part.code, i);
          lineage.push({ from: op.code, to: part.code, kind: 'split' });
        }
        break;
      }
      case 'dissolve': {
        const u = existing(op.code, at('code'));
        if (!u) break;
        notRoot(op.code, at('code'), 'dissolved');
        if (problems.length) break;
        remove(op.code);
        lineage.push({ from: op.code, to: null, kind: 'dissolved' });
        break;
      }
      case 'members': {
        const u = existing(op.code, at('code'));
        if (u) put({ ...u, members: op.members });
        break;
      }
      case 'standingCommittee': {
        const u = existing(op.code, at('code'));
        if (u) put({ ...u, standingCommittee: op.value });
        break;
      }
    }
    issues.push(...problems);
  });

  // The shape as a whole: every unit's parent exists (a dissolved or split unit's children were moved).
  const orphans = new Map<string, string[]>();
  for (const u of units.values()) if (u.parent !== null && !units.has(u.parent)) orphans.set(u.parent, [...(orphans.get(u.parent) ?? []), u.code]);
  for (const [parent, children] of orphans) {
    const i = removedBy.get(parent);
    const list = children.sort().join(', ');
    if (i === undefined) issues.push({ path: 'operations', message: `units ${list} have parent "${parent}", which is not in the organisation` });
    else {
      const op = operations[i]!;
      issues.push({
        path: `operations[${i}].code`,
        message: `"${parent}" still has children after this change (${list}): move them in the same change${op.op === 'split' ? ' (to the parts of the split, or elsewhere)' : ''}, or they would be left with no parent`,
      });
    }
  }
  if (issues.length) throw new DomainError(issues);
  const after = [...units.values()].sort(byCode);
  return { units: after, lineage, changes: describeChange(before, after, lineage) };
}

/**
 * Per unit, what changed from `previous` to `next`. A code that disappeared was merged, split or
 * dissolved: `lineage` says which (a change's edges), else the `predecessors` named in `next` (an
 * imported file's merges); a code that disappeared with no successor is dissolved.
 */
export function describeChange(previous: ReadonlyArray<Unit>, next: ReadonlyArray<Unit>, lineage?: ReadonlyArray<LineageEdge>): UnitChange[] {
  const prev = new Map(previous.map((u) => [u.code, u]));
  const nextBy = new Map(next.map((u) => [u.code, u]));
  const successors = new Map<string, { kind: LineageKind; to: string[] }>();
  const edges: LineageEdge[] = lineage
    ? [...lineage]
    : next.flatMap((u) => (u.predecessors ?? []).filter((p) => p !== u.code && prev.has(p) && !nextBy.has(p)).map((p) => ({ from: p, to: u.code, kind: 'merged' as const })));
  for (const e of edges) {
    if (e.from === null || e.to === null || e.from === e.to || (e.kind !== 'merged' && e.kind !== 'split')) continue;
    const s = successors.get(e.from) ?? { kind: e.kind, to: [] };
    if (!s.to.includes(e.to)) s.to.push(e.to);
    successors.set(e.from, s);
  }
  const out: UnitChange[] = [];
  for (const u of [...previous].sort(byCode)) {
    const n = nextBy.get(u.code);
    if (!n) {
      const s = successors.get(u.code);
      if (!s) out.push({ code: u.code, kind: 'dissolved' });
      else if (s.kind === 'merged' && s.to.length === 1) out.push({ code: u.code, kind: 'merged', into: s.to[0]! });
      else out.push({ code: u.code, kind: 'split', into: [...s.to].sort() });
      continue;
    }
    if (n.parent !== u.parent) out.push({ code: u.code, kind: 'moved', from: u.parent, to: n.parent });
    if (n.name !== u.name) out.push({ code: u.code, kind: 'renamed', from: u.name, to: n.name });
    if (n.level !== u.level) out.push({ code: u.code, kind: 'level', from: u.level, to: n.level });
    if (n.members !== u.members) out.push({ code: u.code, kind: 'members', from: u.members, to: n.members });
    if (n.standingCommittee !== u.standingCommittee) out.push({ code: u.code, kind: 'standingCommittee', from: u.standingCommittee, to: n.standingCommittee });
  }
  for (const n of [...next].sort(byCode)) if (!prev.has(n.code)) out.push({ code: n.code, kind: 'created', parent: n.parent, name: n.name });
  return out;
}

/** Does a diff change the shape (units appear, disappear or move), rather than only names and counts? */
export function isStructural(changes: ReadonlyArray<UnitChange>): boolean {
  return changes.some((c) => c.kind === 'created' || c.kind === 'merged' || c.kind === 'split' || c.kind === 'dissolved' || c.kind === 'moved');
}

/** One line per change, Vietnamese and English (for the CLI's preview and the API's 409). */
export function changeLine(c: UnitChange): { vi: string; en: string } {
  switch (c.kind) {
    case 'created':
      return { vi: `+ ${c.code} (${c.name}) mới, trực thuộc ${c.parent ?? '—'}`, en: `+ ${c.code} (${c.name}) created under ${c.parent ?? '—'}` };
    case 'merged':
      return { vi: `- ${c.code} sáp nhập vào ${c.into}`, en: `- ${c.code} merged into ${c.into}` };
    case 'split':
      return { vi: `- ${c.code} chia tách thành ${c.into.join(', ')}`, en: `- ${c.code} split into ${c.into.join(', ')}` };
    case 'dissolved':
      return { vi: `- ${c.code} giải thể / không còn`, en: `- ${c.code} dissolved / removed` };
    case 'moved':
      return { vi: `~ ${c.code} chuyển từ ${c.from ?? '—'} sang ${c.to ?? '—'}`, en: `~ ${c.code} moved from ${c.from ?? '—'} to ${c.to ?? '—'}` };
    case 'renamed':
      return { vi: `~ ${c.code} đổi tên: ${c.from} → ${c.to}`, en: `~ ${c.code} renamed: ${c.from} → ${c.to}` };
    case 'level':
      return { vi: `~ ${c.code} đổi cấp: ${c.from} → ${c.to}`, en: `~ ${c.code} level: ${c.from} → ${c.to}` };
    case 'members':
      return { vi: `~ ${c.code} số đảng viên: ${c.from} → ${c.to}`, en: `~ ${c.code} members: ${c.from} → ${c.to}` };
    case 'standingCommittee':
      return { vi: `~ ${c.code} ban thường vụ: ${c.from ? 'có' : 'không'} → ${c.to ? 'có' : 'không'}`, en: `~ ${c.code} standing committee: ${c.from ? 'yes' : 'no'} → ${c.to ? 'yes' : 'no'}` };
  }
}
