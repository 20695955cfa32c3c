import { ancestorsInRollout, committeesAbove, escalationRecipients, type UnitRef } from '../../domain/escalation';

const u = (code: string, standingCommittee = true): UnitRef => ({ code, name: code, level: 'x', standingCommittee });
const province = u('BG');
const district = u('BG.YT');
const commune = u('BG.YT.BoHa');
const cell = u('BG.YT.BoHa.CB01', false);

describe('escalation routing', () => {
  test('tier 1 goes to the nearest ancestor with a standing committee; a cell has none, so its commune is told', () => {
    expect(escalationRecipients(cell, [commune, district, province], 3).map((r) => `${r.tier}:${r.code}`)).toEqual(['1:BG.YT.BoHa', '2:BG.YT', '3:BG']);
    expect(escalationRecipients(commune, [district, province], 1).map((r) => r.code)).toEqual(['BG.YT']);
  });

  test('ancestors without a committee are skipped; tiers stop at the top', () => {
    const noBtv = { ...district, standingCommittee: false };
    expect(escalationRecipients(commune, [noBtv, province], 3).map((r) => `${r.tier}:${r.code}`)).toEqual(['1:BG']);
  });

  test('the root is told about itself', () => {
    expect(escalationRecipients(province, [], 2)).toEqual([{ ...province, tier: 1, self: true }]);
  });

  test('any committee above may extend; the root extends its own', () => {
    expect(committeesAbove(cell, [commune, district, province]).map((c) => c.code)).toEqual(['BG.YT.BoHa', 'BG.YT', 'BG']);
    expect(committeesAbove(province, []).map((c) => c.code)).toEqual(['BG']);
  });
});

describe('the rollout pins its subtree', () => {
  test('ancestors stop at the rollout root; the root has none', () => {
    expect(ancestorsInRollout(cell.code, 'BG.YT', [commune, district, province]).map((a) => a.code)).toEqual(['BG.YT.BoHa', 'BG.YT']);
    expect(ancestorsInRollout('BG.YT', 'BG.YT', [province])).toEqual([]);
    expect(ancestorsInRollout(cell.code, 'BG', [commune, district, province]).map((a) => a.code)).toEqual(['BG.YT.BoHa', 'BG.YT', 'BG']);
  });
});
