/**
 * Who may do what: every access rule of the HTTP API, in one place.
 *
 * A token has one role, and every role but ops and auditor is bound to a unit. Scoped roles see their
 * unit and its subtree, never above it. Writes are checked against the object they touch (the unit
 * reported for, the escalation acted on), not only the route.
 *
 * | role      | may                                                                                 |
 * |-----------|-------------------------------------------------------------------------------------|
 * | ops       | import units and contacts, start, amend and cancel rollouts, retry notifications; read all |
 * | unit      | report its own unit's steps (not inspections); read its unit and subtree            |
 * | committee | act on escalations addressed to its unit (acknowledge, direct); extend the deadlines  |
 * |           | of units it stands above (domain/escalation.ts mayExtend); read its subtree        |
 * | inspector | record inspections (supervise steps) in its subtree; read its subtree               |
 * | auditor   | read everything, the audit reads included; every write is refused                   |
 *
 * Batches (`batch.run`): ops, or a standing committee — whose batch reaches only the units it stands
 * above (app/batches.ts applies mayExtend to every unit, and refuses a batch naming one outside);
 * `batch.read`: ops and auditors every batch, a committee the batches it decided.
 */
import { committeesAbove, mayExtend, type UnitRef } from '../domain/escalation';

import type { Principal } from '../app/tokens';

export type Action =
  | 'units.import'
  | 'rollout.start'
  | 'rollout.cancel'
  /** Amend a running rollout's plan, or make it follow a newer hierarchy version (preview and apply): ops. */
  | 'rollout.amend'
  /** The rollout-wide view: overview, progress of every level, the whole timeline, as-of, verify. */
  | 'rollout.overview'
  /** A unit of a rollout and what hangs under it: status, steps, children, timeline. */
  | 'unit.read'
  | 'report.submit'
  | 'escalation.read'
  | 'escalation.act'
  /** Extend a unit's deadline: a committee above the unit (the same rule the workflow applies). */
  | 'deadline.extend'
  /** Suspend or resume a unit's deadline clock, stop following it: ops, or a standing committee above it (the extension rule). */
  | 'unit.change'
  /** Start or preview a batch: ops, or a committee (narrowed to the units it stands above by app/batches.ts). */
  | 'batch.run'
  /** A batch's progress and results: ops and auditors all; a committee those it decided. */
  | 'batch.read'
  /** Notifications (the outbox): ops and auditors all; scoped roles those addressed to their unit or below. */
  | 'notification.read'
  | 'notification.retry'
  | 'contacts.import'
  /** A unit's contacts: read like the unit. */
  | 'contacts.read'
  /** Holiday calendars: every authenticated token reads them (they are public reference data). */
  | 'calendar.read'
  /** Import or edit a calendar: ops. */
  | 'calendar.write';

/** The object a request touches, as far as access is concerned. */
export interface Target {
  /** The unit read, reported for, or escalated, with the codes of all its ancestors. */
  unit?: { code: string; ancestors: ReadonlyArray<string> };
  /** The step kind of a report. */
  stepKind?: string;
  /** The committee an escalation is addressed to. */
  recipientCode?: string;
  /** The unit whose deadline is extended and its ancestors in the rollout, nearest first (deadline.extend). */
  extension?: { unit: UnitRef; ancestors: ReadonlyArray<UnitRef> };
  /** The committee that decided a batch (null: ops decided it for no committee). */
  batch?: { committee: string | null };
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

const allow: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason });

/** Is `code` (with its ancestors) the principal's unit or under it? */
export function inSubtree(p: Principal, unit: { code: string; ancestors: ReadonlyArray<string> }): boolean {
  return p.unitCode !== null && (unit.code === p.unitCode || unit.ancestors.includes(p.unitCode));
}

const OPS_ONLY = {
  'units.import': 'import units',
  'rollout.start': 'start a rollout',
  'rollout.cancel': 'cancel a rollout',
  'rollout.amend': "amend a rollout's plan",
  'notification.retry': 'retry a notification',
  'contacts.import': 'import contacts',
  'calendar.write': 'import or edit a holiday calendar',
} as const;

export function authorize(p: Principal, action: Action, target: Target = {}): Decision {
  const scoped = (what: string): Decision => {
    if (!target.unit) return deny(`${what}: no unit given`);
    return inSubtree(p, target.unit) ? allow : deny(`${what}: unit ${target.unit.code} is not ${p.unitCode} or under it`);
  };
  switch (action) {
    case 'units.import':
    case 'rollout.start':
    case 'rollout.cancel':
    case 'rollout.amend':
    case 'notification.retry':
    case 'contacts.import':
    case 'calendar.write':
      return p.role === 'ops' ? allow : deny(`only an ops token may ${OPS_ONLY[action]}`);
    case 'calendar.read':
      return allow;
    case 'rollout.overview':
      return p.role === 'ops' || p.role === 'auditor' ? allow : deny(`a ${p.role} token sees its own subtree (${p.unitCode}), not the whole rollout`);
    case 'unit.read':
    case 'escalation.read':
    case 'notification.read':
    case 'contacts.read':
      if (p.role === 'ops' || p.role === 'auditor') return allow;
      return scoped(`a ${p.role} token for ${p.unitCode} reads only its subtree`);
    case 'report.submit':
      if (p.role === 'unit') {
        if (target.stepKind === 'supervise') return deny('inspections are recorded by an inspector token');
        return target.unit?.code === p.unitCode ? allow : deny(`a unit token for ${p.unitCode} reports only for ${p.unitCode}`);
      }
      if (p.role === 'inspector') {
        if (target.stepKind !== 'supervise') return deny('an inspector token records inspections (supervise steps) only');
        return scoped(`an inspector token for ${p.unitCode} inspects only its subtree`);
      }
      return deny(`a ${p.role} token may not report`);
    case 'deadline.extend': {
      if (p.role !== 'committee') return deny(`only a standing committee above the unit may extend its deadline (this is a ${p.role} token)`);
      if (!target.extension) return deny('extend: no unit given');
      const { unit, ancestors } = target.extension;
      if (mayExtend(p.unitCode!, unit, ancestors)) return allow;
      return deny(
        `${p.unitCode} is not a standing committee above ${unit.code}; its deadlines may be extended by ${committeesAbove(unit, ancestors)
          .map((c) => c.code)
          .join(', ')}`,
      );
    }
    case 'unit.change': {
      if (p.role === 'ops') return allow;
      if (p.role !== 'committee') return deny(`only ops or a standing committee above the unit may suspend, resume or stop following it (this is a ${p.role} token)`);
      if (!target.extension) return deny('change: no unit given');
      const { unit, ancestors } = target.extension;
      if (mayExtend(p.unitCode!, unit, ancestors)) return allow;
      return deny(
        `${p.unitCode} is not a standing committee above ${unit.code}; ops or ${committeesAbove(unit, ancestors)
          .map((c) => c.code)
          .join(', ')} may change it`,
      );
    }
    case 'batch.run':
      return p.role === 'ops' || p.role === 'committee' ? allow : deny(`only ops or a standing committee may act on many units at once (this is a ${p.role} token)`);
    case 'batch.read':
      if (p.role === 'ops' || p.role === 'auditor') return allow;
      if (p.role === 'committee' && target.batch && target.batch.committee === p.unitCode) return allow;
      return deny(`a ${p.role} token for ${p.unitCode} sees only the batches its committee decided`);
    case 'escalation.act':
      if (p.role !== 'committee') return deny(`only the standing committee an escalation is addressed to may act on it (this is a ${p.role} token)`);
      if (target.recipientCode !== p.unitCode) return deny(`the escalation is addressed to ${target.recipientCode}, not ${p.unitCode}`);
      return allow;
  }
}
