/**
 * Amending the plan of a running rollout (issue 10): `trienkhai rollout amend ROLLOUT --plan FILE`.
 *
 * The amended plan is checked like a new one (and against the rollout's hierarchy), then compared
 * with the plan the rollout runs (domain/plan-diff.ts: the same id; a step's kind and schedule never
 * change). The preview says what changes, which units and steps it reaches, and refuses outright an
 * amendment that removes a step some unit has started (naming the step and the units). Applying it
 * records RolloutAmended (stream `changes/<rolloutId>`; the new version, its hash and the whole plan: units enrolled from then on
 * get it), then the application's own batch sends the `amend` change to every running unit, each of
 * which records PlanAmended with what it changed (workflows/changes/amend.ts).
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/database';
import { appendNext, EventConflictError } from '../db/event-store';
import { getRollout } from '../db/queries';
import { levelsOfVersion } from '../db/hierarchy';
import { DomainError } from '../domain/errors';
import { DecisionEnvelope, confirmFingerprint } from '../domain/batches';
import { streams } from '../domain/ids';
import { parentLevelsOf } from '../domain/hierarchy';
import { Plan, validatePlanForHierarchy, type PlanStep } from '../domain/plan';
import { stepAppliesTo } from '../domain/plan-rules';
import { canonicalPlanJson, describePlanDiff, diffPlans } from '../domain/plan-diff';
import { toLocalIso } from '../domain/time';
import { createBatch } from './batches';
import { recordedDecision } from '../db/batches';
import { newRequestId, resolvePlan, type Deps } from './commands';

export const AmendRequest = z.strictObject({
  /** The amended plan: the whole plan, as a plan file holds it. */
  plan: z.unknown(),
  /** Keep a unit's own extension of a deadline the amendment moves (default), or set it by the new rule. */
  keepExtensions: z.boolean().default(true),
  /** Why, who, and the preview's fingerprint: applied only if the running plan and the amended one are still those previewed. */
  ...DecisionEnvelope,
});
export type AmendRequest = z.input<typeof AmendRequest>;

export interface AmendPreview {
  rolloutId: string;
  planId: string;
  fromVersion: number;
  toVersion: number;
  planHash: string;
  /** The diff, one line per change, Vietnamese and English. */
  changes: Array<{ vi: string; en: string }>;
  /** Running units, and per step how many of them the amendment reaches. */
  units: number;
  steps: Array<{ stepId: string; change: 'added' | 'removed' | 'changed'; units: number; levels: string[] | null }>;
  keepExtensions: boolean;
  /** Units with an extension of a step whose deadline changes (kept unless keepExtensions is false). */
  extended: number;
  fingerprint: string;
}

export const planHash = (plan: Plan): string => createHash('sha256').update(canonicalPlanJson(plan)).digest('hex');

async function prepare(db: Kysely<Database>, rolloutId: string, input: AmendRequest) {
  const parsed = AmendRequest.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const req = parsed.data;
  const rollout = await getRollout(db, rolloutId);
  if (!rollout) throw DomainError.notFound('rolloutId', `no rollout "${rolloutId}"`);
  if (rollout.status !== 'running') throw DomainError.conflict('rolloutId', `rollout ${rolloutId} is ${rollout.status}: its plan can no longer change`);
  const running = Plan.parse(rollout.plan);
  const amended = resolvePlan(req.plan);
  const hierarchyLevels = await levelsOfVersion(db, rollout.hierarchy_version);
  const parents = await db.selectFrom('rollout_units').select(['unit_code as code', 'level', 'parent_code as parent']).where('rollout_id', '=', rolloutId).execute();
  validatePlanForHierarchy(amended, [...new Set([...hierarchyLevels, ...parents.map((p) => p.level)])], parentLevelsOf(parents));
  const diff = diffPlans(running, amended);
  if (diff.empty) throw DomainError.of('plan', `the plan is the same as the one rollout ${rolloutId} runs (version ${rollout.plan_version}); nothing to amend`);
  return { req, rollout, running, amended, diff };
}

/** Active units per level of a rollout. */
async function unitsByLevel(db: Kysely<Database>, rolloutId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('rollout_units')
    .select(['level', (eb) => eb.fn.countAll<string>().as('n')])
    .where('rollout_id', '=', rolloutId)
    .where('status', '=', 'active')
    .groupBy('level')
    .execute();
  return new Map(rows.map((r) => [r.level, Number(r.n)]));
}

/** Levels where `from` applies and `to` (if any) no longer does. */
const levelsLost = (from: PlanStep, to: PlanStep | undefined, levels: string[]): string[] => levels.filter((l) => stepAppliesTo(from, l) && !(to && stepAppliesTo(to, l)));

/** What amending the rollout's plan would do; refuses (naming step and units) if it removes a started step. */
export async function previewAmendment(db: Kysely<Database>, rolloutId: string, input: AmendRequest): Promise<AmendPreview> {
  const { req, rollout, amended, diff } = await prepare(db, rolloutId, input);
  const byLevel = await unitsByLevel(db, rolloutId);
  const levels = [...byLevel.keys()];
  const count = (ls: string[]) => ls.reduce((n, l) => n + (byLevel.get(l) ?? 0), 0);
  const after = new Map(amended.steps.map((s) => [s.id, s]));

  // A step some unit started cannot be taken away from it: refuse, naming the step and the units.
  const issues: Array<{ path: string; message: string }> = [];
  const losing = [...diff.removed.map((r) => r.step), ...diff.changed.map((c) => c.from)].map((from) => ({ from, lost: levelsLost(from, after.get(from.id), levels) })).filter((x) => x.lost.length);
  for (const { from, lost } of losing) {
    const started = await db
      .selectFrom('unit_steps as s')
      .innerJoin('rollout_units as u', (j) => j.onRef('u.rollout_id', '=', 's.rollout_id').onRef('u.unit_code', '=', 's.unit_code'))
      .select(['s.unit_code', 's.step_key', 's.status'])
      .where('s.rollout_id', '=', rolloutId)
      .where('u.status', '=', 'active')
      .where('s.step_id', '=', from.id)
      .where('u.level', 'in', lost)
      .where(sql<boolean>`(s.status = 'done' or s.attended > 0 or s.last_report_at is not null)`)
      .orderBy('s.unit_code')
      .limit(21)
      .execute();
    if (started.length) {
      const index = amended.steps.findIndex((s) => s.id === from.id);
      const names = started.slice(0, 20).map((s) => `${s.unit_code} (${s.status === 'done' ? 'done' : 'reported'})`);
      issues.push({
        path: index >= 0 ? `plan.steps[${index}].levels` : 'plan.steps',
        message: `step "${from.id}" has been started by ${names.join(', ')}${started.length > 20 ? ', …' : ''}: an amendment cannot remove a started step (keep it, or end it for those units another way); nothing was changed`,
      });
    }
  }
  if (issues.length) throw new DomainError(issues, 'conflict');

  const steps: AmendPreview['steps'] = [
    ...diff.added.map(({ step }) => ({ stepId: step.id, change: 'added' as const, units: count(levels.filter((l) => stepAppliesTo(step, l))), levels: step.levels ?? null })),
    ...diff.removed.map(({ step }) => ({ stepId: step.id, change: 'removed' as const, units: count(levels.filter((l) => stepAppliesTo(step, l))), levels: step.levels ?? null })),
    ...diff.changed.map((c) => ({
      stepId: c.stepId,
      change: 'changed' as const,
      units: count(levels.filter((l) => stepAppliesTo(c.from, l) || stepAppliesTo(c.to, l))),
      levels: c.to.levels ?? null,
    })),
  ];
  const moving = diff.changed.filter((c) => c.changes.some((x) => x.field === 'deadline')).map((c) => c.stepId);
  const extended = moving.length
    ? Number(
        (
          await db
            .selectFrom('unit_steps as s')
            .innerJoin('rollout_units as u', (j) => j.onRef('u.rollout_id', '=', 's.rollout_id').onRef('u.unit_code', '=', 's.unit_code'))
            .select((eb) => eb.fn.count<string>('s.unit_code').distinct().as('n'))
            .where('s.rollout_id', '=', rolloutId)
            .where('u.status', '=', 'active')
            .where('s.step_id', 'in', moving)
            .where('s.extensions', '>', 0)
            .where('s.status', 'in', ['waiting', 'open'])
            .executeTakeFirstOrThrow()
        ).n,
      )
    : 0;
  const hash = planHash(amended);
  const fromVersion = rollout.plan_version;
  return {
    rolloutId,
    planId: amended.id,
    fromVersion,
    toVersion: fromVersion + 1,
    planHash: hash,
    changes: describePlanDiff(diff),
    units: count(levels),
    steps,
    keepExtensions: req.keepExtensions,
    extended,
    fingerprint: createHash('sha256')
      .update(`${rollout.plan_hash ?? planHash(Plan.parse(rollout.plan))}\n${fromVersion}\n${hash}\n${req.keepExtensions}`)
      .digest('hex'),
  };
}

export interface AmendResult {
  rolloutId: string;
  planId: string;
  version: number;
  planHash: string;
  batchId: string;
  units: number;
  /** This amendment (the same batch ID) was applied before; nothing new was recorded. */
  alreadyApplied: boolean;
}

/**
 * Apply a previewed amendment: RolloutAmended (stream `changes/<rolloutId>`), then the batch that
 * amends every running unit. The fingerprint must be the preview's (same running version, same
 * amended plan), else nothing changes.
 */
export async function amendRollout(deps: Deps, rolloutId: string, input: AmendRequest): Promise<AmendResult> {
  const parsed = AmendRequest.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  if (parsed.data.batchId) {
    const first = await recordedAmendment(deps.db, rolloutId, parsed.data.batchId);
    if (first) return { ...first, alreadyApplied: true };
  }
  const preview = await previewAmendment(deps.db, rolloutId, input);
  confirmFingerprint(parsed.data.fingerprint, preview.fingerprint, `the running plan or the amended one changed (the rollout runs version ${preview.fromVersion})`);
  const { req, amended } = await prepare(deps.db, rolloutId, input);
  const batchId = req.batchId ?? newRequestId('amend');
  const stream = streams.changes(rolloutId);
  const units = await deps.db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', rolloutId).where('status', '=', 'active').orderBy('depth').orderBy('unit_code').execute();
  // Two amendments racing take the same next number: the second is refused (EventConflict).
  await appendNext(deps.db, {
    streamId: stream,
    type: 'RolloutAmended',
    rolloutId,
    actor: req.decidedBy,
    payload: {
      decidedBy: req.decidedBy,
      reason: req.reason,
      batchId,
      planId: amended.id,
      fromVersion: preview.fromVersion,
      toVersion: preview.toVersion,
      planHash: preview.planHash,
      plan: amended,
      changes: preview.changes.map((c) => c.vi),
      units: units.length,
    },
  }).catch((e: unknown) => {
    // Another amendment took this version number first.
    if (e instanceof EventConflictError) throw DomainError.conflict('plan', `rollout ${rolloutId} was amended by someone else meanwhile; preview again (nothing was changed)`);
    throw e;
  });
  await createBatch(deps, {
    batchId,
    rolloutId,
    action: 'amend',
    params: { planVersion: preview.toVersion, planHash: preview.planHash, plan: amended, keepExtensions: req.keepExtensions },
    filter: { all: 'running units' },
    committee: null,
    decidedBy: req.decidedBy,
    reason: req.reason,
    codes: units.map((u) => u.unit_code),
  });
  return { rolloutId, planId: amended.id, version: preview.toVersion, planHash: preview.planHash, batchId, units: units.length, alreadyApplied: false };
}

async function recordedAmendment(db: Kysely<Database>, rolloutId: string, batchId: string): Promise<Omit<AmendResult, 'alreadyApplied'> | undefined> {
  const p = (await recordedDecision(db, streams.changes(rolloutId), 'RolloutAmended', batchId)) as { planId: string; toVersion: number; planHash: string; units: number } | undefined;
  return p && { rolloutId, planId: p.planId, version: p.toVersion, planHash: p.planHash, batchId, units: p.units };
}

/** The versions of a rollout's plan: as started, then one per amendment (who, when, why, what changed). */
export async function planVersions(db: Kysely<Database>, rolloutId: string) {
  const rollout = await getRollout(db, rolloutId);
  if (!rollout) throw DomainError.notFound('rolloutId', `no rollout "${rolloutId}"`);
  const amendments = await db.selectFrom('events').select(['payload', 'occurred_at', 'actor']).where('stream_id', '=', streams.changes(rolloutId)).orderBy('stream_seq').execute();
  return {
    rolloutId,
    planId: rollout.plan_id,
    version: rollout.plan_version,
    planHash: rollout.plan_hash ?? planHash(Plan.parse(rollout.plan)),
    plan: Plan.parse(rollout.plan),
    versions: [
      { version: 1, at: toLocalIso(new Date(rollout.started_at)), by: rollout.requested_by, reason: null as string | null, changes: [] as string[] },
      ...amendments.map((a) => {
        const p = a.payload as { toVersion: number; reason: string; changes: string[] };
        return { version: p.toVersion, at: toLocalIso(new Date(a.occurred_at)), by: a.actor, reason: p.reason as string | null, changes: p.changes };
      }),
    ],
  };
}
