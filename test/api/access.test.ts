/**
 * Who may change a running unit (suspend, resume, stop following it): ops, or a standing committee
 * above the unit — the extension rule of domain/escalation.ts, asked through api/access.ts.
 */
import { authorize } from '../../api/access';
import type { Principal, Role } from '../../app/tokens';

const who = (role: Role, unitCode: string | null): Principal => ({ tokenId: 't', role, unitCode, label: 'x' });
const P = { code: 'P', name: 'Tỉnh', level: 'tinh', standingCommittee: true };
const A = { code: 'P.A', name: 'Xã A', level: 'xa', standingCommittee: true };
const cell = { code: 'P.A.1', name: 'Chi bộ 1', level: 'chibo', standingCommittee: false };
const target = { extension: { unit: cell, ancestors: [A, P] } };

test('ops and the committees above a unit may change it; the unit itself, an auditor and a committee beside it may not', () => {
  expect(authorize(who('ops', null), 'unit.change', target)).toEqual({ allowed: true });
  expect(authorize(who('committee', 'P.A'), 'unit.change', target)).toEqual({ allowed: true });
  expect(authorize(who('committee', 'P'), 'unit.change', target)).toEqual({ allowed: true });
  const beside = authorize(who('committee', 'P.B'), 'unit.change', target);
  expect(beside).toMatchObject({ allowed: false });
  expect((beside as { reason: string }).reason).toMatch(/P\.B is not a standing committee above P\.A\.1; ops or P\.A, P may change it/);
  expect(authorize(who('unit', 'P.A.1'), 'unit.change', target)).toMatchObject({ allowed: false, reason: expect.stringMatching(/only ops or a standing committee/) });
  expect(authorize(who('auditor', null), 'unit.change', target)).toMatchObject({ allowed: false });
  expect(authorize(who('committee', 'P'), 'unit.change', {})).toMatchObject({ allowed: false });
});
