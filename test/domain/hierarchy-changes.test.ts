/** Dated hierarchy changes, pure: every operation, every refusal with its path, and the per-unit diff. */
import { applyChanges, describeChange, isStructural, parseChangeRequest, type HierarchyOperation } from '../../domain/hierarchy-changes';
import { validateTree } from '../../domain/hierarchy';
import { domainError } from '../helpers/domain-error';
import { province, reform } from '../helpers/reform-2025';

const paths = (f: () => unknown): string[] => domainError(f).issues.map((i) => i.path);

test('the 2025 reform: districts dissolved, communes merged under the province, cells follow their commune', () => {
  const before = province();
  const r = applyChanges(before, parseChangeRequest(reform()).operations, { organisation: 'T', effectiveFrom: '2025-07-01' });
  validateTree(r.units);
  const at = new Map(r.units.map((u) => [u.code, u]));
  expect([...at.keys()].sort()).toEqual(['T', 'T.AB', 'T.CD', 'T.H1.X1.CB1', 'T.H1.X2.CB1', 'T.H2.X3.CB1', 'T.H2.X5'].sort());
  expect(at.get('T.AB')).toMatchObject({ parent: 'T', level: 'xa', members: 220, predecessors: ['T.H1.X1', 'T.H1.X2'], effectiveFrom: '2025-07-01' });
  expect(at.get('T.H1.X1.CB1')?.parent).toBe('T.AB');
  expect(at.get('T.H1.X2.CB1')?.parent).toBe('T.CD');
  expect(at.get('T.H2.X3.CB1')?.parent).toBe('T.CD');
  expect(at.get('T.H2.X5')).toMatchObject({ parent: 'T', name: 'Đảng bộ phường Đông' });
  expect(r.lineage).toEqual(
    expect.arrayContaining([
      { from: 'T.H1.X1', to: 'T.AB', kind: 'merged' },
      { from: 'T.H2.X4', to: 'T.CD', kind: 'merged' },
      { from: 'T.H1', to: null, kind: 'dissolved' },
      { from: 'T.H2.X5', to: 'T.H2.X5', kind: 'moved' },
    ]),
  );
  expect(r.changes).toEqual(
    expect.arrayContaining([
      { code: 'T.H1', kind: 'dissolved' },
      { code: 'T.H1.X1', kind: 'merged', into: 'T.AB' },
      { code: 'T.H2.X5', kind: 'moved', from: 'T.H2', to: 'T' },
      { code: 'T.H2.X5', kind: 'renamed', from: 'Đảng bộ thị trấn Đông', to: 'Đảng bộ phường Đông' },
      { code: 'T.H1.X2.CB1', kind: 'moved', from: 'T.H1.X2', to: 'T.CD' },
      { code: 'T.AB', kind: 'created', parent: 'T', name: 'Đảng bộ xã An Bình' },
    ]),
  );
  expect(isStructural(r.changes)).toBe(true);
});

test('split, create, members, standing committee, and a merge into an existing unit', () => {
  const ops: HierarchyOperation[] = [
    {
      op: 'split',
      code: 'T.H2.X3',
      into: [
        { code: 'T.H2.X3a', name: 'Xã Cao Thượng', members: 120 },
        { code: 'T.H2.X3b', name: 'Xã Cao Hạ', members: 80 },
      ],
    },
    { op: 'move', code: 'T.H2.X3.CB1', parent: 'T.H2.X3a' },
    { op: 'create', code: 'T.H2.X6', name: 'Xã Mới', level: 'xa', parent: 'T.H2', members: 10, standingCommittee: false },
    { op: 'members', code: 'T.H2.X4', members: 151 },
    { op: 'standingCommittee', code: 'T.H2.X5', value: false },
    { op: 'merge', codes: ['T.H1.X2'], into: 'T.H1.X1' },
  ];
  const r = applyChanges(province(), ops, { organisation: 'T' });
  validateTree(r.units);
  const at = new Map(r.units.map((u) => [u.code, u]));
  expect(at.has('T.H2.X3')).toBe(false);
  expect(at.get('T.H2.X3a')).toMatchObject({ parent: 'T.H2', predecessors: ['T.H2.X3'] });
  expect(at.get('T.H1.X1')).toMatchObject({ members: 220, predecessors: ['T.H1.X2'] });
  expect(at.get('T.H1.X2.CB1')?.parent).toBe('T.H1.X1');
  expect(r.changes).toEqual(
    expect.arrayContaining([
      { code: 'T.H2.X3', kind: 'split', into: ['T.H2.X3a', 'T.H2.X3b'] },
      { code: 'T.H2.X4', kind: 'members', from: 150, to: 151 },
      { code: 'T.H2.X5', kind: 'standingCommittee', from: true, to: false },
      { code: 'T.H1.X2', kind: 'merged', into: 'T.H1.X1' },
    ]),
  );
});

test('every problem is refused at once, each naming its operation and field', () => {
  const foreign = new Map([['Q.X1', 'Q']]);
  const e = domainError(() =>
    applyChanges(
      province(),
      [
        { op: 'rename', code: 'T.NOPE', name: 'x' },
        { op: 'move', code: 'T.H1', parent: 'T.H1.X1.CB1' },
        { op: 'merge', codes: ['T.H1.X1', 'T.H1.X2'], into: 'T.H1.X1' },
        { op: 'create', code: 'T.H2.X4', name: 'x', level: 'xa', parent: 'T.H2', members: 1, standingCommittee: true },
        { op: 'create', code: 'T.N1', name: 'x', level: 'ap', parent: 'T.H2', members: 1, standingCommittee: true },
        { op: 'move', code: 'T.H2.X4', parent: 'Q.X1' },
        { op: 'dissolve', code: 'T.H2' },
        { op: 'dissolve', code: 'T' },
      ],
      { organisation: 'T', foreign },
    ),
  );
  const byPath = new Map(e.issues.map((i) => [i.path, i.message]));
  expect(byPath.get('operations[0].code')).toMatch(/unknown unit "T.NOPE"/);
  expect(byPath.get('operations[1].parent')).toMatch(/cycle/);
  expect(byPath.get('operations[2].into')).toMatch(/merged into itself/);
  expect(byPath.get('operations[3].code')).toMatch(/already exists/);
  expect(byPath.get('operations[4].level')).toMatch(/level "ap" is not in this hierarchy/);
  expect(byPath.get('operations[5].parent')).toMatch(/belongs to organisation Q/);
  expect(byPath.get('operations[6].code')).toMatch(/still has children .*T.H2.X3, T.H2.X4, T.H2.X5/);
  expect(byPath.get('operations[7].code')).toMatch(/root/);
});

test('a dissolved unit whose children move in the same change (even after it) is fine; a removed code cannot be used again', () => {
  const ok = applyChanges(
    province(),
    [
      { op: 'dissolve', code: 'T.H1' },
      { op: 'move', code: 'T.H1.X1', parent: 'T' },
      { op: 'move', code: 'T.H1.X2', parent: 'T' },
    ],
    { organisation: 'T' },
  );
  validateTree(ok.units);
  expect(
    paths(() =>
      applyChanges(province(), [
        { op: 'dissolve', code: 'T.H2.X5' },
        { op: 'rename', code: 'T.H2.X5', name: 'x' },
      ]),
    ),
  ).toEqual(['operations[1].code']);
  expect(
    domainError(() =>
      applyChanges(province(), [
        { op: 'dissolve', code: 'T.H2.X5' },
        { op: 'rename', code: 'T.H2.X5', name: 'x' },
      ]),
    ).message,
  ).toMatch(/operations\[0\] removed it/);
  // Duplicate new codes within one change.
  const dup = paths(() =>
    applyChanges(province(), [
      { op: 'create', code: 'T.N', name: 'a', level: 'xa', parent: 'T', members: 0, standingCommittee: true },
      { op: 'create', code: 'T.N', name: 'b', level: 'xa', parent: 'T', members: 0, standingCommittee: true },
    ]),
  );
  expect(dup).toEqual(['operations[1].code']);
  // A new merge successor needs a name.
  expect(paths(() => applyChanges(province(), [{ op: 'merge', codes: ['T.H1.X1'], into: 'T.N' }]))).toEqual(['operations[0].name']);
});

test('the request schema names bad fields by their path', () => {
  const e = domainError(() =>
    parseChangeRequest({
      ...reform(),
      effectiveFrom: '2025-13-01',
      operations: [
        { op: 'move', code: 'T.H1' },
        { op: 'teleport', code: 'x' },
      ],
      extra: 1,
    }),
  );
  const p = e.issues.map((i) => i.path);
  expect(p).toEqual(expect.arrayContaining(['effectiveFrom', 'operations[0].parent', 'operations[1].op']));
});

test('describeChange reads merges from the predecessors a file names', () => {
  const before = province();
  const after = [
    ...before.filter((u) => !['T.H1.X1', 'T.H1.X2'].includes(u.code)),
    { code: 'T.H1.AB', name: 'Xã An Bình', level: 'xa', parent: 'T.H1', members: 220, standingCommittee: true, predecessors: ['T.H1.X1', 'T.H1.X2'] },
  ].map((u) => (u.parent === 'T.H1.X1' || u.parent === 'T.H1.X2' ? { ...u, parent: 'T.H1.AB' } : u));
  const d = describeChange(before, after);
  expect(d).toEqual(
    expect.arrayContaining([
      { code: 'T.H1.X1', kind: 'merged', into: 'T.H1.AB' },
      { code: 'T.H1.AB', kind: 'created', parent: 'T.H1', name: 'Xã An Bình' },
    ]),
  );
  expect(describeChange(before, before)).toEqual([]);
});
