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

/** The committees allowed to extend a unit's deadline: any ancestor with a standing committee (or the root itself). */
export function committeesAbove(unit: UnitRef, ancestors: ReadonlyArray<UnitRef>): UnitRef[] {
  const committees = ancestors.filter((a) => a.standingCommittee);
  return committees.length ? committees.map(pick) : [pick(unit)];
}

function pick(u: UnitRef): UnitRef {
  return { code: u.code, name: u.name, level: u.level, standingCommittee: u.standingCommittee };
}
