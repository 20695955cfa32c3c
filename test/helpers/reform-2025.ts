/**
 * A four-level province (province → districts → communes → cells) and the 2025 reform as one dated
 * change: the districts dissolved, their communes merged into new ones directly under the province
 * (or moved there), the cells following their merged commune.
 */
import type { Unit } from '../../domain/hierarchy';
import type { HierarchyChangeRequest } from '../../domain/hierarchy-changes';

const u = (code: string, name: string, level: string, parent: string | null, members: number, standingCommittee = true): Unit => ({ code, name, level, parent, members, standingCommittee });

/** Tỉnh T → huyện T.H1, T.H2 → xã … → chi bộ … */
export function province(root = 'T'): Unit[] {
  return [
    u(root, `Đảng bộ tỉnh ${root}`, 'tinh', null, 1000),
    u(`${root}.H1`, 'Đảng bộ huyện Một', 'huyen', root, 400),
    u(`${root}.H1.X1`, 'Đảng bộ xã An', 'xa', `${root}.H1`, 100),
    u(`${root}.H1.X1.CB1`, 'Chi bộ thôn An Thượng', 'chibo', `${root}.H1.X1`, 50, false),
    u(`${root}.H1.X2`, 'Đảng bộ xã Bình', 'xa', `${root}.H1`, 120),
    u(`${root}.H1.X2.CB1`, 'Chi bộ thôn Bình Hạ', 'chibo', `${root}.H1.X2`, 60, false),
    u(`${root}.H2`, 'Đảng bộ huyện Hai', 'huyen', root, 500),
    u(`${root}.H2.X3`, 'Đảng bộ xã Cao', 'xa', `${root}.H2`, 200),
    u(`${root}.H2.X3.CB1`, 'Chi bộ thôn Cao Sơn', 'chibo', `${root}.H2.X3`, 80, false),
    u(`${root}.H2.X4`, 'Đảng bộ xã Dương', 'xa', `${root}.H2`, 150),
    u(`${root}.H2.X5`, 'Đảng bộ thị trấn Đông', 'xa', `${root}.H2`, 90),
  ];
}

/** The reform of 1 July 2025 for `province(root)`. */
export function reform(root = 'T'): HierarchyChangeRequest {
  return {
    organisation: root,
    effectiveFrom: '2025-07-01',
    reason: 'Nghị quyết 60-NQ/TW: bỏ cấp huyện, sáp nhập xã',
    decidedBy: 'user:ops',
    operations: [
      { op: 'merge', codes: [`${root}.H1.X1`, `${root}.H1.X2`], into: `${root}.AB`, name: 'Đảng bộ xã An Bình', parent: root },
      { op: 'merge', codes: [`${root}.H2.X3`, `${root}.H2.X4`], into: `${root}.CD`, name: 'Đảng bộ xã Cao Dương', parent: root },
      { op: 'move', code: `${root}.H2.X5`, parent: root },
      { op: 'move', code: `${root}.H1.X2.CB1`, parent: `${root}.CD` },
      { op: 'dissolve', code: `${root}.H1` },
      { op: 'dissolve', code: `${root}.H2` },
      { op: 'rename', code: `${root}.H2.X5`, name: 'Đảng bộ phường Đông' },
    ],
  };
}
