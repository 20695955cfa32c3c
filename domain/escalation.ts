/**
 * Escalation routing, in one place. An overdue unit is reported to the standing committee (ban
 * thường vụ) of the nearest ancestor that has one; a cell (chi bộ) has none, so its report goes up to
 * the commune committee. Each later tier goes to the next ancestor up that has a standing committee.
 * When there is nobody left above, no further tier is sent: the top committee already knows.
 *
 * The root of a rollout (e.g. the province) has no ancestor in the pinned hierarchy; its overdue steps
 * are addressed to its own standing committee, flagged `self`, so that the record still names who was
 * told.
 */

/** A unit as seen on an escalation path. */
export interface UnitRef {
  code: string;
  name: string;
  level: string;
  standingCommittee: boolean;
}

export interface EscalationRecipient extends UnitRef {
  tier: number;
  /** True when the unit is the rollout's root and is told about itself. */
  self: boolean;
}

/**
 * Who receives each escalation tier of an overdue unit.
 *
 * @param unit the overdue unit
 * @param ancestors its ancestors, nearest first (parent, grandparent, …)
 * @param tiers how many tiers the plan step's policy allows
 * @returns at most `tiers` recipients, tier 1 first; fewer when the hierarchy runs out of committees
 */
export function escalationRecipients(unit: UnitRef, ancestors: ReadonlyArray<UnitRef>, tiers: number): EscalationRecipient[] {
  const committees = ancestors.filter((a) => a.standingCommittee);
  if (committees.length === 0) {
    return [{ ...pick(unit), tier: 1, self: true }];
  }
  return committees.slice(0, tiers).map((c, i) => ({ ...pick(c), tier: i + 1, self: false }));
}

/**
 * A rollout's world is the subtree it pinned: a unit's ancestors, as far as routing and the cascade
 * are concerned, stop at the rollout's root. (A rollout started at a district does not escalate to the
 * province, which is not taking part.)
 *
 * @param ancestors all ancestors in the hierarchy, nearest first
 */
export function ancestorsInRollout<T extends { code: string }>(unitCode: string, rootCode: string, ancestors: ReadonlyArray<T>): T[] {
  if (unitCode === rootCode) return [];
  const i = ancestors.findIndex((a) => a.code === rootCode);
  return i < 0 ? [...ancestors] : ancestors.slice(0, i + 1);
}

/**
 * Who may extend a unit's deadline (gia hạn), the one rule: the standing committee of any ancestor in
 * the rollout's world — whether or not an escalation has reached it yet — or, for the root, its own.
 * The unit workflow decides with it, the HTTP API's access check (api/access.ts) and the dashboard
 * (the unit view's `extendableBy`) ask the same function; a test holds them together.
 */
export function committeesAbove(unit: UnitRef, ancestors: ReadonlyArray<UnitRef>): UnitRef[] {
  const committees = ancestors.filter((a) => a.standingCommittee);
  return committees.length ? committees.map(pick) : [pick(unit)];
}

/** May the standing committee of `committeeCode` extend this unit's deadlines? (See committeesAbove.) */
export function mayExtend(committeeCode: string, unit: UnitRef, ancestors: ReadonlyArray<UnitRef>): boolean {
  return committeesAbove(unit, ancestors).some((c) => c.code === committeeCode);
}

function pick(u: UnitRef): UnitRef {
  return { code: u.code, name: u.name, level: u.level, standingCommittee: u.standingCommittee };
}
