/**
 * What following a newer hierarchy version means for each running unit (app/reshape.ts planFollow),
 * on small shapes: a merger, a split, a move between parents that both go on, a rename, a new unit
 * under a new unit, and units that no longer run.
 */
import { planFollow } from '../../app/reshape';

type Row = Parameters<typeof planFollow>[1][number];
const row = (code: string, parent: string | null, extra: Partial<Row> = {}): Row => ({
  code,
  name: `Đơn vị ${code}`,
  level: parent ? 'xa' : 'tinh',
  parent,
  members: 10,
  standing_committee: true,
  predecessors: [],
  ...extra,
});

const BEFORE = [row('P', null), row('P.A', 'P'), row('P.B', 'P'), row('P.C', 'P'), row('P.D', 'P'), row('P.A.1', 'P.A')];

test('a merger, a split, a move and a new unit: each running unit gets its change, in the order a batch applies them', () => {
  const after = [
    row('P', null),
    row('P.AB', 'P', { predecessors: ['P.A', 'P.B'], members: 20 }), // P.A and P.B merged
    row('P.C1', 'P', { predecessors: ['P.C'] }), // P.C split in two
    row('P.C2', 'P', { predecessors: ['P.C'] }),
    row('P.D', 'P', { name: 'Đơn vị D mới' }), // renamed
    row('P.A.1', 'P.D'), // moved under P.D, which goes on
    row('P.C1.x', 'P.C1'), // new under a new unit: started by it, not by the batch
  ];
  const running = new Set(BEFORE.map((r) => r.code));
  expect(planFollow('P', BEFORE, after, running)).toEqual([
    { code: 'P', op: 'adoptChild', child: 'P.AB', start: true },
    { code: 'P', op: 'adoptChild', child: 'P.C1', start: true },
    { code: 'P', op: 'adoptChild', child: 'P.C2', start: true },
    { code: 'P.D', op: 'adoptChild', child: 'P.A.1', start: false },
    { code: 'P.D', op: 'reshape', unit: expect.objectContaining({ name: 'Đơn vị D mới' }), ancestors: [expect.objectContaining({ code: 'P' })] },
    { code: 'P.A.1', op: 'reshape', unit: expect.objectContaining({ parent: 'P.D' }), ancestors: [expect.objectContaining({ code: 'P.D' }), expect.objectContaining({ code: 'P' })] },
    { code: 'P.A', op: 'merge', successor: 'P.AB' },
    { code: 'P.B', op: 'merge', successor: 'P.AB' },
    { code: 'P.C', op: 'dissolve' },
    // P.A, the old parent of P.A.1, ends (merged): it needs no release.
  ]);
});

test('units that no longer run get nothing; an old parent that goes on releases the child that moved away', () => {
  const before = [row('P', null), row('P.A', 'P'), row('P.B', 'P'), row('P.A.1', 'P.A'), row('P.A.2', 'P.A')];
  const after = [row('P', null), row('P.A', 'P'), row('P.B', 'P'), row('P.A.1', 'P.B'), row('P.A.2', 'P.B')];
  const running = new Set(['P', 'P.A', 'P.B', 'P.A.1']); // P.A.2 has completed
  expect(planFollow('P', before, after, running)).toEqual([
    { code: 'P.B', op: 'adoptChild', child: 'P.A.1', start: false },
    { code: 'P.A.1', op: 'reshape', unit: expect.objectContaining({ parent: 'P.B' }), ancestors: expect.any(Array) },
    { code: 'P.A', op: 'releaseChild', child: 'P.A.1' },
  ]);
  expect(planFollow('P', before, before, running)).toEqual([]);
});
