/**
 * Who may extend a deadline is one rule (domain/escalation.ts mayExtend): the unit workflow, the HTTP
 * API's access check and the unit view the dashboard reads must each answer exactly as it does, for
 * every unit and every would-be committee of a tree, before or without any escalation.
 */
import { authorize } from '../../api/access';
import type { Principal } from '../../app/tokens';
import { committeesAbove, mayExtend, type UnitRef } from '../../domain/escalation';
import { parsePlan } from '../../domain/plan';
import { evaluateExtension, instancesFor, type UnitContext } from '../../workflows/unit-state';

// P (committee) → A (committee) → X (committee) → C (a cell: none); P → B (no committee) → Y (committee).
const U: Record<string, UnitRef & { parent: string | null; members: number }> = {
  P: { code: 'P', name: 'Tỉnh', level: 'tinh', standingCommittee: true, parent: null, members: 9 },
  A: { code: 'A', name: 'Huyện A', level: 'huyen', standingCommittee: true, parent: 'P', members: 5 },
  X: { code: 'X', name: 'Xã X', level: 'xa', standingCommittee: true, parent: 'A', members: 3 },
  C: { code: 'C', name: 'Chi bộ C', level: 'chibo', standingCommittee: false, parent: 'X', members: 2 },
  B: { code: 'B', name: 'Khối B', level: 'huyen', standingCommittee: false, parent: 'P', members: 4 },
  Y: { code: 'Y', name: 'Đảng bộ Y', level: 'xa', standingCommittee: true, parent: 'B', members: 3 },
};
const ancestorsOf = (code: string): UnitRef[] => {
  const out: UnitRef[] = [];
  for (let p = U[code]!.parent; p; p = U[p]!.parent) out.push(U[p]!);
  return out;
};
const plan = parsePlan({ id: 'p', title: 'Kế hoạch', steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'absolute', at: '2099-12' } }] });
const NOW = Date.UTC(2026, 0, 1);

function workflowAllows(code: string, committee: string): boolean {
  const u = U[code]!;
  const ctx: UnitContext = {
    rolloutId: 'R',
    unit: { code, name: u.name, level: u.level, parent: u.parent, members: u.members, standingCommittee: u.standingCommittee },
    ancestors: ancestorsOf(code),
    plan,
    rolloutStartedAt: NOW,
    childCount: 0,
  };
  const steps = instancesFor(plan, u.level).map((s) => ({ ...s, status: 'open' as const, dueAt: Date.UTC(2099, 11, 31) }));
  try {
    evaluateExtension(ctx, steps, { requestId: 'x', stepId: 'study', committeeCode: committee, until: '2100-01-31', reason: 'Lũ lụt' }, NOW);
    return true;
  } catch (e) {
    if ((e as { issues?: Array<{ path: string }> }).issues?.[0]?.path === 'committeeCode') return false;
    throw e;
  }
}

const committee = (code: string): Principal => ({ tokenId: 't', role: 'committee', unitCode: code, label: `BTV ${code}` });

test('the workflow, the API and the unit view apply the same extension rule', () => {
  const answers: string[] = [];
  for (const unit of Object.keys(U)) {
    const extendableBy = committeesAbove(U[unit]!, ancestorsOf(unit)).map((c) => c.code);
    for (const who of Object.keys(U)) {
      const rule = mayExtend(who, U[unit]!, ancestorsOf(unit));
      expect([unit, who, workflowAllows(unit, who)]).toEqual([unit, who, rule]);
      expect([unit, who, authorize(committee(who), 'deadline.extend', { extension: { unit: U[unit]!, ancestors: ancestorsOf(unit) } }).allowed]).toEqual([unit, who, rule]);
      expect([unit, who, extendableBy.includes(who)]).toEqual([unit, who, rule]);
      if (rule) answers.push(`${who}→${unit}`);
    }
  }
  // The rule itself: any committee above (not only the nearest, not the unit itself), none from a
  // sibling branch; the root extends its own; a unit without a committee extends nobody.
  expect(answers.sort()).toEqual(['A→C', 'A→X', 'P→A', 'P→B', 'P→C', 'P→P', 'P→X', 'P→Y', 'X→C', 'A→X'].filter((v, i, a) => a.indexOf(v) === i).sort());
  // Only committee tokens may extend.
  for (const role of ['ops', 'unit', 'inspector', 'auditor'] as const)
    expect(
      authorize({ tokenId: 't', role, unitCode: role === 'ops' || role === 'auditor' ? null : 'P', label: role }, 'deadline.extend', { extension: { unit: U.C!, ancestors: ancestorsOf('C') } })
        .allowed,
    ).toBe(false);
});
