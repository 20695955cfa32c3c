/**
 * A running unit follows a change of its organisation's hierarchy (issue 10, "hierarchies that change
 * over time"): the pure rules of the `reshape`, `merge`, `dissolve`, `inherit`, `adoptChild` and
 * `releaseChild` changes of domain/changes.ts, kept apart from the unit workflow so they can be
 * tested without Temporal. The application plans which unit gets which change (app/reshape.ts); each
 * unit decides here what it means for its own steps.
 *
 * - **reshape**: the unit, or an ancestor, changed (renamed, moved under another parent, its member
 *   count or standing-committee flag changed, an ancestor dissolved). From now on escalations route
 *   along the new tree: every open escalation whose tier is now addressed to another committee is
 *   rerouted to it (never to a unit that no longer exists). A change of level that would change the
 *   unit's steps is refused: that unit ends (merge or dissolve) and its successor is enrolled.
 * - **merge**: the unit ends as "merged into X"; its answer carries the handover (per step: status,
 *   attendance, open escalations) that `inherit` gives the successor.
 * - **dissolve**: the unit ends as "dissolved"; its open escalations are resolved as such.
 * - **inherit**: the successor adds a predecessor's attendance to its own steps of the same key (up
 *   to its members) and takes over its open escalations, addressed to the successor's committees. A
 *   study step whose summed attendance reaches its target completes; a step completed by a document
 *   does not: the successor issues its own.
 * - **adoptChild / releaseChild**: the parent starts following a child that joined it (starting its
 *   workflow when it is new), or stops waiting for one that moved away.
 *
 * Pure and deterministic (workflow code).
 */
import type { ChangeOf, Handover } from '../../domain/changes';
import { DomainError } from '../../domain/errors';
import { escalationRecipients } from '../../domain/escalation';
import type { AncestorRef, UnitSnapshot } from '../../domain/events';
import { parseEscalationId } from '../../domain/ids';
import { studyTarget } from '../../domain/plan-rules';
import { instancesFor, planStep, type StepInstance, type UnitContext } from '../unit-state';

/** An open escalation sent on to the committee that now stands at its tier. */
export interface Rerouted {
  escalationId: string;
  from: string;
  to: AncestorRef;
}

const ref = (u: { code: string; name: string; level: string; standingCommittee: boolean }): AncestorRef => ({ code: u.code, name: u.name, level: u.level, standingCommittee: u.standingCommittee });

/** Who each open escalation is addressed to under `unit` and `ancestors` (the tier's committee, else the highest there is). */
export function routeEscalations(ctx: Pick<UnitContext, 'plan'>, steps: ReadonlyArray<StepInstance>, unit: UnitSnapshot, ancestors: ReadonlyArray<AncestorRef>): Map<string, AncestorRef> {
  const out = new Map<string, AncestorRef>();
  for (const inst of steps) {
    if (!inst.openEscalations.length) continue;
    const recipients = escalationRecipients(unit, ancestors, planStep(ctx.plan, inst.stepId).escalation.tiers);
    for (const id of inst.openEscalations) {
      const tier = parseEscalationId(id)?.tier ?? 1;
      const r = recipients[Math.min(tier, recipients.length) - 1];
      if (r) out.set(id, ref(r));
    }
  }
  return out;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export interface ReshapeEffect {
  changed: boolean;
  rerouted: Rerouted[];
  previous: { unit: UnitSnapshot; ancestors: AncestorRef[] };
}

/** The unit or its ancestors changed shape: what changes for it (nothing recorded when nothing did). */
export function evaluateReshape(ctx: UnitContext, steps: ReadonlyArray<StepInstance>, req: ChangeOf<'reshape'>): ReshapeEffect {
  if (req.unit.code !== ctx.unit.code) throw new DomainError([{ path: 'unit.code', message: `this change is for ${req.unit.code}, not ${ctx.unit.code}` }]);
  if (req.ancestors.some((a) => a.code === ctx.unit.code)) throw new DomainError([{ path: 'ancestors', message: `${ctx.unit.code} cannot be its own ancestor` }]);
  const previous = { unit: ctx.unit, ancestors: ctx.ancestors };
  if (sameJson(req.unit, ctx.unit) && sameJson(req.ancestors, ctx.ancestors)) return { changed: false, rerouted: [], previous };
  if (req.unit.level !== ctx.unit.level) {
    const keys = (level: string) => instancesFor(ctx.plan, level).map((x) => x.key);
    if (!sameJson(keys(req.unit.level), keys(ctx.unit.level)))
      throw new DomainError([
        {
          path: 'unit.level',
          message: `${ctx.unit.code} would change level from ${ctx.unit.level} to ${req.unit.level}, whose steps in the plan differ: end it (merge or dissolve) and enrol its successor instead`,
        },
      ]);
  }
  const before = routeEscalations(ctx, steps, ctx.unit, ctx.ancestors);
  const after = routeEscalations(ctx, steps, req.unit, req.ancestors);
  const rerouted: Rerouted[] = [];
  for (const [id, to] of after) {
    const from = before.get(id);
    if (from && from.code !== to.code) rerouted.push({ escalationId: id, from: from.code, to });
  }
  return { changed: true, rerouted, previous };
}

/** What a merged (or dissolved) unit leaves: every step with what was done towards it. */
export function handoverOf(ctx: UnitContext, steps: ReadonlyArray<StepInstance>): Handover {
  return {
    steps: steps.map((s) => ({ key: s.key, status: s.status, attended: s.attended, openEscalations: [...s.openEscalations], completedAt: s.completedAt })),
    members: ctx.unit.members,
  };
}

/** The unit ends by merger or dissolution: refused for the rollout's root. */
export function checkEnding(ctx: UnitContext, how: 'merge' | 'dissolve', successor?: string): void {
  if (ctx.ancestors.length === 0)
    throw new DomainError([{ path: 'unitCode', message: `${ctx.unit.code} is the rollout's root; it cannot be ${how === 'merge' ? 'merged' : 'dissolved'} within the rollout (cancel the rollout)` }]);
  if (successor === ctx.unit.code) throw new DomainError([{ path: 'successor', message: `${ctx.unit.code} cannot be merged into itself` }]);
}

export interface InheritEffect {
  steps: Array<{ key: string; attended: number; escalations: string[]; completed: boolean }>;
  /** Each inherited open escalation, addressed to the successor's committee of its tier. */
  rerouted: Rerouted[];
  /** Keys of the successor's steps whose summed attendance now meets their target. */
  completes: string[];
  /** The successor's steps as they become (attendance and escalations added). */
  next: StepInstance[];
  changed: boolean;
}

/** The successor takes over a predecessor's attendance and open escalations, step by step. */
export function evaluateInherit(ctx: UnitContext, steps: ReadonlyArray<StepInstance>, req: ChangeOf<'inherit'>): InheritEffect {
  if (req.from === ctx.unit.code) throw new DomainError([{ path: 'from', message: `${ctx.unit.code} cannot inherit from itself` }]);
  const next = steps.map((s) => ({ ...s, openEscalations: [...s.openEscalations] }));
  const out: InheritEffect['steps'] = [];
  const completes: string[] = [];
  const taken: Array<{ inst: StepInstance; ids: string[] }> = [];
  for (const h of req.handover.steps) {
    const inst = next.find((s) => s.key === h.key);
    if (!inst || inst.status === 'done') continue; // a step the successor does not have, or has done
    const room = Math.max(0, ctx.unit.members - inst.attended);
    const attended = Math.min(room, h.attended);
    const ids = h.openEscalations.filter((id) => !inst.openEscalations.includes(id));
    inst.attended += attended;
    inst.openEscalations.push(...ids);
    const step = planStep(ctx.plan, inst.stepId);
    const done = inst.kind === 'studyConference' && attended > 0 && (ctx.unit.members === 0 || inst.attended / ctx.unit.members >= studyTarget(step) - 1e-9);
    if (done) completes.push(inst.key);
    if (attended || ids.length) out.push({ key: inst.key, attended, escalations: ids, completed: h.status === 'done' });
    if (ids.length) taken.push({ inst, ids });
  }
  const routes = routeEscalations(
    ctx,
    taken.map((t) => ({ ...t.inst, openEscalations: t.ids })),
    ctx.unit,
    ctx.ancestors,
  );
  const rerouted: Rerouted[] = [];
  for (const { ids } of taken)
    for (const id of ids) {
      const to = routes.get(id);
      if (to) rerouted.push({ escalationId: id, from: parseEscalationId(id)?.unitCode ?? req.from, to });
    }
  return { steps: out, rerouted, completes, next, changed: out.length > 0 };
}
