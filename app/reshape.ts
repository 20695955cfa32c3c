/**
 * A running rollout follows a change of its organisation's hierarchy (issue 10): `trienkhai rollout
 * follow ROLLOUT --version N`. The rollout runs on the hierarchy version it pinned; when ops applies
 * a newer version of the same organisation to it, every running unit is told what changed for it:
 *
 * - a unit whose place changed (renamed, moved, members or standing committee, an ancestor gone)
 *   is **reshaped**: its escalations route along the new tree from then on;
 * - a unit no longer in the hierarchy is **merged** into the unit that names it among its
 *   predecessors (its open steps, attendance and open escalations pass to that successor, which is
 *   enrolled first if it is new), or else **dissolved**;
 * - a new unit is **started** by its parent (the topmost new ones; deeper new units are started by
 *   their new parents as at enrolment); a unit moved under an existing parent is **adopted** by it,
 *   and released by the old parent that still runs.
 *
 * The preview lists every unit's change and starts nothing. Applying records RolloutHierarchyChanged
 * (the rollout's hierarchy version moves on: units enrolled from then on load the new shape), then
 * the application's own batch applies each unit's change in that order (app/batches.ts, action
 * `hierarchy`). Pure planning lives here; each unit's rule is in workflows/changes/hierarchy.ts.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/database';
import { appendNext, EventConflictError } from '../db/event-store';
import { getRollout } from '../db/queries';
import { organisationOf } from '../db/hierarchy';
import { DomainError } from '../domain/errors';
import { DecisionEnvelope, confirmFingerprint } from '../domain/batches';
import { ancestorsInRollout } from '../domain/escalation';
import type { AncestorRef, UnitSnapshot } from '../domain/events';
import { streams } from '../domain/ids';
import { LocalDate, localDateOf } from '../domain/time';
import { createBatch } from './batches';
import { recordedDecision } from '../db/batches';
import { newRequestId, type Deps } from './commands';

export const FollowRequest = z.strictObject({
  /** The hierarchy version to follow (default: the latest of the rollout's organisation); newer than the one it runs on. */
  toVersion: z.number().int().min(1).optional(),
  /** When the change took effect in the organisation (default: the version's own date, else today). */
  effectiveFrom: LocalDate.optional(),
  ...DecisionEnvelope,
});
export type FollowRequest = z.input<typeof FollowRequest>;

type Row = { code: string; name: string; level: string; parent: string | null; members: number; standing_committee: boolean; predecessors: string[] };

/** One unit's change, in the order the batch applies them. */
export type PlannedChange =
  | { code: string; op: 'adoptChild'; child: string; start: boolean }
  | { code: string; op: 'reshape'; unit: UnitSnapshot; ancestors: AncestorRef[] }
  | { code: string; op: 'merge'; successor: string }
  | { code: string; op: 'dissolve' }
  | { code: string; op: 'releaseChild'; child: string };

export interface FollowPreview {
  rolloutId: string;
  fromVersion: number;
  toVersion: number;
  counts: { reshaped: number; merged: number; dissolved: number; started: number; adopted: number; released: number };
  /** Every planned change, in order (a unit may appear twice: a parent adopting and releasing). */
  changes: PlannedChange[];
  /** Open steps of the units that end (merged or dissolved). */
  openStepsEnding: number;
  /** Open escalations of the units that end, or of reshaped units (they may be rerouted). */
  openEscalations: number;
  fingerprint: string;
}

async function subtreeRows(db: Kysely<Database>, version: number, root: string): Promise<Row[]> {
  const r = await sql<Row>`
    with recursive down as (
      select code, name, level, parent, members, standing_committee, predecessors from hierarchy_units where version = ${version} and code = ${root}
      union all
      select c.code, c.name, c.level, c.parent, c.members, c.standing_committee, c.predecessors from hierarchy_units c join down d on c.version = ${version} and c.parent = d.code
    )
    select * from down`.execute(db);
  return r.rows;
}

const snapshot = (r: Row): UnitSnapshot => ({ code: r.code, name: r.name, level: r.level, parent: r.parent, members: r.members, standingCommittee: r.standing_committee });

/** A unit's ancestors in `byCode`, nearest first, stopping at the rollout's root. */
function ancestorsOf(code: string, root: string, byCode: ReadonlyMap<string, Row>): AncestorRef[] {
  const out: AncestorRef[] = [];
  for (let p = byCode.get(code)?.parent ?? null; p; p = byCode.get(p)?.parent ?? null) {
    const a = byCode.get(p);
    if (!a || out.length > 64) break;
    out.push({ code: a.code, name: a.name, level: a.level, standingCommittee: a.standing_committee });
  }
  return ancestorsInRollout(code, root, out);
}

/** What following `toVersion` means for each running unit of the rollout. Pure given the rows. */
export function planFollow(root: string, before: Row[], after: Row[], running: ReadonlySet<string>): PlannedChange[] {
  const old = new Map(before.map((r) => [r.code, r]));
  const now = new Map(after.map((r) => [r.code, r]));
  // A unit gone from the hierarchy whose work passes to one unit was merged into it; one split into
  // several parts (or gone with no successor) is dissolved: its attendance cannot be divided, and each
  // part joins with its own steps.
  const successorsOf = new Map<string, string[]>();
  for (const r of after) for (const p of r.predecessors ?? []) if (!now.has(p)) successorsOf.set(p, [...(successorsOf.get(p) ?? []), r.code]);
  const successorOf = new Map([...successorsOf].filter(([, to]) => to.length === 1).map(([from, to]) => [from, to[0]!]));
  const depth = (code: string, m: ReadonlyMap<string, Row>) => ancestorsOf(code, root, m).length;

  const adopt: PlannedChange[] = [];
  const reshape: PlannedChange[] = [];
  const merge: PlannedChange[] = [];
  const dissolve: PlannedChange[] = [];
  const release: PlannedChange[] = [];
  const ending = new Set<string>();
  // New units: the topmost ones are started by their (running) parent; deeper ones by their new parents.
  for (const r of [...after].sort((a, b) => depth(a.code, now) - depth(b.code, now) || (a.code < b.code ? -1 : 1))) {
    if (old.has(r.code) || r.parent === null) continue;
    if (old.has(r.parent) && running.has(r.parent)) adopt.push({ code: r.parent, op: 'adoptChild', child: r.code, start: true });
  }
  for (const r of [...before].sort((a, b) => depth(a.code, old) - depth(b.code, old) || (a.code < b.code ? -1 : 1))) {
    if (!running.has(r.code)) continue;
    const n = now.get(r.code);
    if (!n) {
      const successor = successorOf.get(r.code);
      ending.add(r.code);
      if (successor) merge.push({ code: r.code, op: 'merge', successor });
      else dissolve.push({ code: r.code, op: 'dissolve' });
      continue;
    }
    const unit = snapshot(n);
    const ancestors = ancestorsOf(n.code, root, now);
    if (JSON.stringify(unit) !== JSON.stringify(snapshot(r)) || JSON.stringify(ancestors) !== JSON.stringify(ancestorsOf(r.code, root, old)))
      reshape.push({ code: r.code, op: 'reshape', unit, ancestors });
    if (n.parent !== r.parent) {
      // Moved: an existing new parent adopts it (a new parent starts it, finding it running); the old parent, if it goes on, lets it go.
      if (n.parent && old.has(n.parent) && running.has(n.parent)) adopt.push({ code: n.parent, op: 'adoptChild', child: r.code, start: false });
      if (r.parent) release.push({ code: r.parent, op: 'releaseChild', child: r.code });
    }
  }
  // An old parent that itself ends needs no release: it stops waiting for anyone.
  return [...adopt, ...reshape, ...merge, ...dissolve, ...release.filter((c) => !ending.has(c.code) && running.has(c.code))];
}

async function prepare(db: Kysely<Database>, rolloutId: string, input: FollowRequest) {
  const parsed = FollowRequest.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const req = parsed.data;
  const rollout = await getRollout(db, rolloutId);
  if (!rollout) throw DomainError.notFound('rolloutId', `no rollout "${rolloutId}"`);
  if (rollout.status !== 'running') throw DomainError.conflict('rolloutId', `rollout ${rolloutId} is ${rollout.status}: it no longer follows its hierarchy`);
  const home = await organisationOf(db, rollout.root_unit);
  const toVersion = req.toVersion ?? home?.latestVersion ?? rollout.hierarchy_version;
  if (req.toVersion === undefined && toVersion <= rollout.hierarchy_version)
    throw DomainError.conflict(
      'toVersion',
      `rollout ${rolloutId} already runs on the latest hierarchy version of ${home?.organisation ?? rollout.root_unit} (${rollout.hierarchy_version}); nothing to follow`,
    );
  if (toVersion <= rollout.hierarchy_version)
    throw DomainError.of('toVersion', `rollout ${rolloutId} runs on hierarchy version ${rollout.hierarchy_version}; give a newer version of its organisation (not ${toVersion})`);
  const version = await db.selectFrom('hierarchy_versions').select(['version', 'effective_from']).where('version', '=', toVersion).executeTakeFirst();
  if (!version) throw DomainError.notFound('toVersion', `no hierarchy version ${toVersion}`);
  const after = await subtreeRows(db, toVersion, rollout.root_unit);
  if (!after.length)
    throw DomainError.of('toVersion', `hierarchy version ${toVersion} does not hold the rollout's root ${rollout.root_unit}: it is another organisation's, or the root itself changed`);
  const before = await subtreeRows(db, rollout.hierarchy_version, rollout.root_unit);
  const units = await db.selectFrom('rollout_units').select(['unit_code', 'status']).where('rollout_id', '=', rolloutId).execute();
  const running = new Set(units.filter((u) => u.status === 'active').map((u) => u.unit_code));
  // Units started by the rollout after it pinned its version are running too, though not in `before`.
  const changes = planFollow(rollout.root_unit, before, after, running);
  return { req, rollout, changes, toVersion, effectiveFrom: req.effectiveFrom ?? version.effective_from ?? localDateOf(Date.now()) };
}

/** What following the new version would do to each running unit; nothing is recorded. */
export async function previewFollow(db: Kysely<Database>, rolloutId: string, input: FollowRequest): Promise<FollowPreview> {
  const { rollout, changes, toVersion } = await prepare(db, rolloutId, input);
  const n = (op: PlannedChange['op'], f: (c: PlannedChange) => boolean = () => true) => changes.filter((c) => c.op === op && f(c)).length;
  const ending = changes.filter((c) => c.op === 'merge' || c.op === 'dissolve').map((c) => c.code);
  const touched = [...ending, ...changes.filter((c) => c.op === 'reshape').map((c) => c.code)];
  const openSteps = ending.length
    ? Number(
        (
          await db
            .selectFrom('unit_steps')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('rollout_id', '=', rolloutId)
            .where('unit_code', 'in', ending)
            .where('status', 'in', ['waiting', 'open'])
            .executeTakeFirstOrThrow()
        ).n,
      )
    : 0;
  const escalations = touched.length
    ? Number(
        (
          await db
            .selectFrom('escalations')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('rollout_id', '=', rolloutId)
            .where('unit_code', 'in', touched)
            .where('status', '=', 'open')
            .executeTakeFirstOrThrow()
        ).n,
      )
    : 0;
  return {
    rolloutId,
    fromVersion: rollout.hierarchy_version,
    toVersion,
    counts: {
      reshaped: n('reshape'),
      merged: n('merge'),
      dissolved: n('dissolve'),
      started: n('adoptChild', (c) => c.op === 'adoptChild' && c.start),
      adopted: n('adoptChild', (c) => c.op === 'adoptChild' && !c.start),
      released: n('releaseChild'),
    },
    changes,
    openStepsEnding: openSteps,
    openEscalations: escalations,
    fingerprint: createHash('sha256')
      .update(JSON.stringify({ from: rollout.hierarchy_version, to: toVersion, changes }))
      .digest('hex'),
  };
}

export interface FollowResult {
  rolloutId: string;
  fromVersion: number;
  toVersion: number;
  batchId: string;
  units: number;
  alreadyApplied: boolean;
}

/** Apply a previewed hierarchy change to the running rollout: RolloutHierarchyChanged, then the batch. */
export async function followHierarchy(deps: Deps, rolloutId: string, input: FollowRequest): Promise<FollowResult> {
  const parsed = FollowRequest.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const stream = streams.changes(rolloutId);
  if (parsed.data.batchId) {
    const p = (await recordedDecision(deps.db, stream, 'RolloutHierarchyChanged', parsed.data.batchId)) as { fromVersion: number; toVersion: number; changes: string[] } | undefined;
    if (p) return { rolloutId, fromVersion: p.fromVersion, toVersion: p.toVersion, batchId: parsed.data.batchId, units: p.changes.length, alreadyApplied: true };
  }
  const preview = await previewFollow(deps.db, rolloutId, input);
  confirmFingerprint(parsed.data.fingerprint, preview.fingerprint, 'the rollout or the hierarchy changed');
  const { req, rollout, changes, toVersion, effectiveFrom } = await prepare(deps.db, rolloutId, input);
  const batchId = req.batchId ?? newRequestId('follow');
  await appendNext(deps.db, {
    streamId: stream,
    type: 'RolloutHierarchyChanged',
    rolloutId,
    actor: req.decidedBy,
    payload: {
      decidedBy: req.decidedBy,
      reason: req.reason,
      batchId,
      organisation: rollout.root_unit,
      fromVersion: rollout.hierarchy_version,
      toVersion: toVersion,
      effectiveFrom,
      changes: changes.map(describe),
    },
  }).catch((e: unknown) => {
    if (e instanceof EventConflictError) throw DomainError.conflict('rolloutId', `rollout ${rolloutId} changed meanwhile; preview again (nothing was changed)`);
    throw e;
  });
  if (changes.length)
    await createBatch(deps, {
      batchId,
      rolloutId,
      action: 'hierarchy',
      params: { fromVersion: rollout.hierarchy_version, toVersion: toVersion, effectiveFrom },
      filter: { hierarchyVersion: toVersion },
      committee: null,
      decidedBy: req.decidedBy,
      reason: req.reason,
      codes: changes.map((c) => c.code),
      inputs: changes.map((c) => inputOf(c, effectiveFrom, toVersion)),
    });
  return { rolloutId, fromVersion: rollout.hierarchy_version, toVersion: toVersion, batchId, units: changes.length, alreadyApplied: false };
}

/** The unit change a planned change sends (the envelope is the batch's). */
function inputOf(c: PlannedChange, effectiveFrom: string, hierarchyVersion: number): Record<string, unknown> {
  switch (c.op) {
    case 'adoptChild':
      return { op: c.op, child: c.child, start: c.start };
    case 'releaseChild':
      return { op: c.op, child: c.child };
    case 'reshape':
      return { op: c.op, effectiveFrom, hierarchyVersion, unit: c.unit, ancestors: c.ancestors };
    case 'merge':
      return { op: c.op, effectiveFrom, hierarchyVersion, successor: c.successor };
    case 'dissolve':
      return { op: c.op, effectiveFrom, hierarchyVersion };
  }
}

/** One line per planned change, for the audit record (Vietnamese, as the office writes it). */
export function describe(c: PlannedChange): string {
  switch (c.op) {
    case 'adoptChild':
      return c.start ? `${c.code}: bắt đầu theo dõi đơn vị mới ${c.child}` : `${c.code}: tiếp nhận đơn vị ${c.child} chuyển đến`;
    case 'releaseChild':
      return `${c.code}: thôi theo dõi ${c.child} (đã chuyển đi)`;
    case 'reshape':
      return `${c.code}: cập nhật tổ chức (trực thuộc ${c.unit.parent ?? '—'}, ${c.unit.name})`;
    case 'merge':
      return `${c.code}: hợp nhất vào ${c.successor}`;
    case 'dissolve':
      return `${c.code}: giải thể`;
  }
}
