/**
 * The changes a running unit can take beyond reports (domain/changes.ts), as pure rules on the unit's
 * state: each `evaluate…` checks a change against the state and says what to record and how the state
 * changes, without changing anything (the workflow applies it after the events pass the store's
 * checks, so a refused change leaves no trace).
 *
 * Deterministic: `now` is always workflow time.
 */
import { DomainError } from '../domain/errors';
import type { ChangeOf, Handover, UnitChange, UnitEnding } from '../domain/changes';
import type { EventPayload, EventType } from '../domain/events';
import { formatLocal } from '../domain/time';
import type { Plan, StepKind } from '../domain/plan';
import type { HolidayCalendar } from '../domain/time';
import type { StepInstance, UnitContext } from './unit-state';
import { evaluateAmendment } from './changes/amend';
import { checkEnding, evaluateInherit, evaluateReshape, handoverOf } from './changes/hierarchy';
import { evaluateRecalendar } from './changes/recalendar';

/** What a unit's deadline clock is doing: running (absent) or suspended since an instant. */
export interface Suspension {
  since: number;
  reason: string;
  decidedBy: string;
}

/** The part of a unit's state the changes read and write. */
export interface ChangeableState {
  ctx: UnitContext;
  steps: StepInstance[];
  suspended?: Suspension;
  /** Set when the unit's record ended by a decision (merged, dissolved, cancelled alone). */
  ending?: UnitEnding;
}

/** One event a change records, in order. */
export interface ChangeEvent<T extends EventType = EventType> {
  type: T;
  payload: EventPayload<T>;
}

/** What applying a change does: the events to record, the state change, a one-line summary. */
export interface ChangeEffect {
  events: ChangeEvent[];
  /** Applies the change to the state (called once the events are known to be storable). */
  apply(state: ChangeableState): void;
  changed: boolean;
  summary: { vi: string; en: string };
  moved?: Array<{ key: string; previousDueAt: number | null; newDueAt: number | null }>;
  /** For `merge`: what the successor inherits. */
  handover?: Handover;
  /** Steps the change completes (an inheritance that meets a study target): the workflow records each StepCompleted. */
  completes?: string[];
  /** A child the unit starts following (started when new) or stops waiting for. */
  children?: { adopt?: { code: string; start: boolean }; release?: string };
}

const decision = (req: UnitChange) => ({ decidedBy: req.decidedBy, reason: req.reason, ...(req.batchId ? { batchId: req.batchId } : {}) });
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const unchanged = (vi: string, en: string): ChangeEffect => ({ events: [], apply: () => undefined, changed: false, summary: { vi, en } });

/** Stop the clock: while suspended no reminder, deadline or escalation fires. */
export function evaluateSuspend(s: ChangeableState, req: ChangeOf<'suspend'>, now: number): ChangeEffect {
  if (s.suspended) return unchanged(`đã tạm dừng tính hạn từ ${formatLocal(new Date(s.suspended.since), 'vi')}`, `already suspended since ${formatLocal(new Date(s.suspended.since), 'en')}`);
  return {
    events: [{ type: 'ClockSuspended', payload: decision(req) } as ChangeEvent<'ClockSuspended'>],
    apply: (st) => {
      st.suspended = { since: now, reason: req.reason, decidedBy: req.decidedBy };
    },
    changed: true,
    summary: { vi: 'tạm dừng tính hạn', en: 'clock suspended' },
  };
}

/** Restart the clock: every unfinished deadline moves by the time suspended; timers keep their place. */
export function evaluateResume(s: ChangeableState, req: ChangeOf<'resume'>, now: number): ChangeEffect {
  const since = s.suspended?.since;
  if (since === undefined) return unchanged('không tạm dừng tính hạn nên không có gì để tiếp tục', 'the clock is not suspended; nothing to resume');
  const suspendedMs = Math.max(0, now - since);
  const moved = s.steps.filter((x) => x.status !== 'done' && x.dueAt !== null).map((x) => ({ key: x.key, previousDueAt: x.dueAt, newDueAt: x.dueAt! + suspendedMs }));
  return {
    events: [
      {
        type: 'ClockResumed',
        payload: { ...decision(req), suspendedMs, moved: moved.map((m) => ({ key: m.key, previousDueAt: iso(m.previousDueAt), newDueAt: iso(m.newDueAt) })) },
      } as ChangeEvent<'ClockResumed'>,
    ],
    apply: (st) => {
      delete st.suspended;
      for (const m of moved) {
        const inst = st.steps.find((x) => x.key === m.key)!;
        inst.dueAt = m.newDueAt;
      }
    },
    changed: true,
    summary: { vi: `tiếp tục tính hạn; ${moved.length} hạn lùi tương ứng`, en: `clock resumed; ${moved.length} deadline(s) moved` },
    moved,
  };
}

/** Stop following this one unit: its open steps close without completion; its subtree stops with it. */
export function evaluateCancelUnit(s: ChangeableState, req: ChangeOf<'cancelUnit'>): ChangeEffect {
  if (s.ctx.ancestors.length === 0) {
    throw new DomainError([{ path: 'unitCode', message: `${s.ctx.unit.code} is the rollout's root; cancel the rollout instead ("trienkhai rollout cancel ${s.ctx.rolloutId}")` }]);
  }
  const open = s.steps.filter((x) => x.status !== 'done');
  const resolved = open.flatMap((x) => x.openEscalations);
  return {
    events: [
      {
        type: 'UnitCancelled',
        payload: { reason: req.reason, openSteps: open.map((x) => x.key), resolvedEscalations: resolved, decidedBy: req.decidedBy, ...(req.batchId ? { batchId: req.batchId } : {}) },
      } as ChangeEvent<'UnitCancelled'>,
    ],
    apply: (st) => {
      for (const x of st.steps) if (x.status !== 'done') x.openEscalations = [];
      st.ending = 'cancelled';
    },
    changed: true,
    summary: { vi: `dừng theo dõi; ${open.length} bước chưa xong được khép lại`, en: `stopped; ${open.length} open step(s) closed` },
  };
}

/** What a change may need to know besides the unit's state. */
export interface ChangeEnv {
  /** When the parent completed its steps of each kind (what cascade deadlines are anchored on). */
  parentCompleted: Partial<Record<StepKind, number>>;
  /** The working-day calendar for a plan (its own extra days off on top of the holidays). */
  calendarFor(plan: Plan): HolidayCalendar;
  /** The children the unit follows (listed or adopted), for adoptChild / releaseChild. */
  children?: { known: ReadonlyArray<string>; completed: ReadonlyArray<string> };
}

/**
 * The rollout's plan was amended: the unit applies the new version (domain/plan-diff.ts names what
 * changed; workflows/changes/amend.ts what that does to this unit). The plan was validated by the
 * application before it was sent; a plan of another id is refused.
 */
export function evaluateAmend(s: ChangeableState, req: ChangeOf<'amend'>, now: number, env: ChangeEnv): ChangeEffect {
  const plan = req.plan as Plan;
  if (!plan || typeof plan !== 'object' || !Array.isArray(plan.steps)) throw new DomainError([{ path: 'plan', message: 'the amended plan is not a plan' }]);
  const eff = evaluateAmendment(s.ctx, s.steps, plan, { keepExtensions: req.keepExtensions, now, parentCompleted: env.parentCompleted, holidays: env.calendarFor(plan) });
  const apply = (st: ChangeableState): void => {
    st.ctx.plan = eff.plan;
    st.steps.splice(0, st.steps.length, ...eff.steps);
  };
  if (!eff.changed) return { events: [], apply, changed: false, summary: { vi: 'kế hoạch sửa đổi không đổi gì với đơn vị này', en: 'the amendment changes nothing for this unit' } };
  return {
    events: [
      {
        type: 'PlanAmended',
        payload: {
          ...decision(req),
          planId: plan.id,
          planVersion: req.planVersion,
          planHash: req.planHash,
          added: eff.added.map((a) => ({ ...a, dueAt: iso(a.dueAt) })),
          removed: eff.removed,
          moved: eff.moved.map((m) => ({ key: m.key, previousDueAt: iso(m.previousDueAt), newDueAt: iso(m.newDueAt) })),
          retimed: eff.retimed,
          keptExtensions: eff.keptExtensions,
          resolvedEscalations: eff.resolvedEscalations,
        },
      } as ChangeEvent<'PlanAmended'>,
    ],
    apply,
    changed: true,
    summary: {
      vi: `áp dụng kế hoạch phiên bản ${req.planVersion}: thêm ${eff.added.length}, bỏ ${eff.removed.length}, dời hạn ${eff.moved.length} bước`,
      en: `plan version ${req.planVersion} applied: ${eff.added.length} added, ${eff.removed.length} removed, ${eff.moved.length} moved`,
    },
    moved: eff.moved,
  };
}

/**
 * The holiday calendar changed: every unfinished working-day deadline is computed again under it
 * (workflows/changes/recalendar.ts), one DeadlineReprojected per deadline moved. The unit adopts the
 * calendar even when nothing moves (changed: false, nothing recorded).
 */
export function evaluateRecalendarChange(s: ChangeableState, req: ChangeOf<'recalendar'>, now: number, env: ChangeEnv): ChangeEffect {
  const eff = evaluateRecalendar(s.ctx, s.steps, req.calendar, { now, parentCompleted: env.parentCompleted });
  const apply = (st: ChangeableState): void => {
    st.ctx.calendar = eff.ctx.calendar!;
    st.steps.splice(0, st.steps.length, ...eff.steps);
  };
  const name = `${req.calendar.id} v${req.calendar.version}`;
  if (!eff.changed) {
    const kept = eff.keptExtensions.length ? { vi: ` (${eff.keptExtensions.length} hạn đã gia hạn giữ nguyên)`, en: ` (${eff.keptExtensions.length} extended deadline(s) kept)` } : { vi: '', en: '' };
    return { events: [], apply, changed: false, summary: { vi: `áp dụng lịch ${name}: không hạn nào thay đổi${kept.vi}`, en: `calendar ${name} adopted: no deadline moves${kept.en}` } };
  }
  const from = s.ctx.calendar?.version ?? null;
  const resolvedOf = new Map<string, string[]>();
  for (const m of eff.moved) {
    const before = s.steps.find((x) => x.key === m.key)!;
    const after = eff.steps.find((x) => x.key === m.key)!;
    resolvedOf.set(
      m.key,
      before.openEscalations.filter((e) => !after.openEscalations.includes(e)),
    );
  }
  return {
    events: eff.moved.map(
      (m) =>
        ({
          type: 'DeadlineReprojected',
          payload: {
            ...decision(req),
            key: m.key,
            previousDueAt: iso(m.previousDueAt)!,
            newDueAt: iso(m.newDueAt)!,
            calendar: { id: req.calendar.id, fromVersion: from, toVersion: req.calendar.version },
            ...(resolvedOf.get(m.key)?.length ? { resolvedEscalations: resolvedOf.get(m.key)! } : {}),
          },
        }) as ChangeEvent<'DeadlineReprojected'>,
    ),
    apply,
    changed: true,
    summary: { vi: `áp dụng lịch ${name}: dời ${eff.moved.length} hạn`, en: `calendar ${name} adopted: ${eff.moved.length} deadline(s) moved` },
    moved: eff.moved,
  };
}

/** Every change of domain/changes.ts, applied to one unit's state. */
export function evaluateChange(s: ChangeableState, req: UnitChange, now: number, env: ChangeEnv): ChangeEffect {
  if (s.ending) throw new DomainError([{ path: 'unitCode', message: `unit ${s.ctx.unit.code} is no longer followed in rollout ${s.ctx.rolloutId} (${s.ending})` }]);
  switch (req.op) {
    case 'suspend':
      return evaluateSuspend(s, req, now);
    case 'resume':
      return evaluateResume(s, req, now);
    case 'cancelUnit':
      return evaluateCancelUnit(s, req);
    case 'amend':
      return evaluateAmend(s, req, now, env);
    case 'recalendar':
      return evaluateRecalendarChange(s, req, now, env);
    case 'reshape': {
      const eff = evaluateReshape(s.ctx, s.steps, req);
      if (!eff.changed) return unchanged('hệ thống tổ chức của đơn vị không đổi', "the unit's place in the hierarchy is unchanged");
      return {
        events: [
          {
            type: 'UnitReshaped',
            payload: {
              ...decision(req),
              effectiveFrom: req.effectiveFrom,
              hierarchyVersion: req.hierarchyVersion,
              unit: req.unit,
              ancestors: req.ancestors,
              previous: eff.previous,
              rerouted: eff.rerouted,
            },
          } as ChangeEvent<'UnitReshaped'>,
        ],
        apply: (st) => {
          st.ctx.unit = req.unit;
          st.ctx.ancestors = req.ancestors;
        },
        changed: true,
        summary: {
          vi: `cập nhật theo hệ thống tổ chức mới${req.unit.parent !== eff.previous.unit.parent ? ` (trực thuộc ${req.unit.parent ?? '—'})` : ''}; ${eff.rerouted.length} kiến nghị chuyển cấp nhận`,
          en: `follows the new hierarchy${req.unit.parent !== eff.previous.unit.parent ? ` (now under ${req.unit.parent ?? '—'})` : ''}; ${eff.rerouted.length} escalation(s) rerouted`,
        },
      };
    }
    case 'merge':
    case 'dissolve': {
      checkEnding(s.ctx, req.op, req.op === 'merge' ? req.successor : undefined);
      const open = s.steps.filter((x) => x.status !== 'done');
      const escalations = s.steps.flatMap((x) => x.openEscalations);
      const common = { ...decision(req), effectiveFrom: req.effectiveFrom, hierarchyVersion: req.hierarchyVersion, openSteps: open.map((x) => x.key) };
      const handover = handoverOf(s.ctx, s.steps);
      return {
        events: [
          req.op === 'merge'
            ? ({ type: 'UnitMerged', payload: { ...common, successor: req.successor, passedEscalations: escalations } } as ChangeEvent<'UnitMerged'>)
            : ({ type: 'UnitDissolved', payload: { ...common, resolvedEscalations: escalations } } as ChangeEvent<'UnitDissolved'>),
        ],
        apply: (st) => {
          for (const x of st.steps) x.openEscalations = [];
          st.ending = req.op === 'merge' ? 'merged' : 'dissolved';
        },
        changed: true,
        summary:
          req.op === 'merge'
            ? {
                vi: `hợp nhất vào ${req.successor}; ${open.length} bước chưa xong, ${escalations.length} kiến nghị chuyển sang`,
                en: `merged into ${req.successor}; ${open.length} open step(s), ${escalations.length} escalation(s) passed on`,
              }
            : { vi: `giải thể; ${escalations.length} kiến nghị khép lại`, en: `dissolved; ${escalations.length} escalation(s) resolved` },
        ...(req.op === 'merge' ? { handover } : {}),
      };
    }
    case 'inherit': {
      const eff = evaluateInherit(s.ctx, s.steps, req);
      if (!eff.changed) return unchanged(`không có phần việc nào tiếp nhận từ ${req.from}`, `nothing to take over from ${req.from}`);
      return {
        events: [
          { type: 'StepsInherited', payload: { ...decision(req), effectiveFrom: req.effectiveFrom, from: req.from, steps: eff.steps, rerouted: eff.rerouted } } as ChangeEvent<'StepsInherited'>,
        ],
        apply: (st) => {
          st.steps.splice(0, st.steps.length, ...eff.next);
        },
        changed: true,
        completes: eff.completes,
        summary: {
          vi: `tiếp nhận từ ${req.from}: ${eff.steps.length} bước, ${eff.rerouted.length} kiến nghị${eff.completes.length ? `; hoàn thành ${eff.completes.join(', ')}` : ''}`,
          en: `took over from ${req.from}: ${eff.steps.length} step(s), ${eff.rerouted.length} escalation(s)${eff.completes.length ? `; ${eff.completes.join(', ')} completed` : ''}`,
        },
      };
    }
    case 'adoptChild': {
      if (env.children?.known.includes(req.child)) return unchanged(`đã theo dõi ${req.child}`, `already follows ${req.child}`);
      return {
        events: [{ type: 'ChildAdopted', payload: { ...decision(req), child: req.child, started: req.start } } as ChangeEvent<'ChildAdopted'>],
        apply: () => undefined,
        changed: true,
        children: { adopt: { code: req.child, start: req.start } },
        summary: { vi: `theo dõi thêm đơn vị trực thuộc ${req.child}`, en: `now follows child ${req.child}` },
      };
    }
    case 'releaseChild': {
      if (env.children?.completed.includes(req.child)) return unchanged(`không còn chờ ${req.child}`, `no longer waiting for ${req.child}`);
      return {
        events: [{ type: 'ChildReleased', payload: { ...decision(req), child: req.child } } as ChangeEvent<'ChildReleased'>],
        apply: () => undefined,
        changed: true,
        children: { release: req.child },
        summary: { vi: `thôi chờ đơn vị ${req.child}`, en: `no longer waits for ${req.child}` },
      };
    }
    default:
      throw new DomainError([{ path: 'op', message: `the change "${(req as { op: string }).op}" is not supported by this engine version` }]);
  }
}
