/**
 * The small Bắc Giang tree the workflow tests drive through the 2022 timeline, and moving the plan's
 * 2022 dates to a year the test server's clock has not passed yet.
 */
import type { Unit } from '../../domain/hierarchy';
import type { PlanInput } from '../../domain/plan';

const u = (code: string, name: string, level: string, parent: string | null, members: number, standingCommittee = true): Unit => ({ code, name, level, parent, members, standingCommittee });

/** Province → 2 districts → 3 communes → 2 cells (cells have no standing committee). */
export const BG_UNITS: Unit[] = [
  u('BG', 'Đảng bộ tỉnh Bắc Giang', 'tinh', null, 1000),
  u('BG.YT', 'Đảng bộ huyện Yên Thế', 'huyen', 'BG', 300),
  u('BG.YT.BoHa', 'Đảng bộ thị trấn Bố Hạ', 'coso', 'BG.YT', 100),
  u('BG.YT.BoHa.CB01', 'Chi bộ tổ dân phố số 1', 'chibo', 'BG.YT.BoHa', 40, false),
  u('BG.YT.BoHa.CB02', 'Chi bộ tổ dân phố số 2', 'chibo', 'BG.YT.BoHa', 60, false),
  u('BG.YT.DongTam', 'Đảng bộ xã Đồng Tâm', 'coso', 'BG.YT', 200),
  u('BG.LN', 'Đảng bộ huyện Lục Nam', 'huyen', 'BG', 700),
  u('BG.LN.PhuongSon', 'Đảng bộ thị trấn Phương Sơn', 'coso', 'BG.LN', 700),
];

/** Move every absolute date of a plan forward by whole years. */
export function shiftPlanYears(plan: PlanInput, years: number): PlanInput {
  const shift = (at: string): string => at.replace(/^(\d{4})/, (y) => String(Number(y) + years));
  return { ...plan, steps: plan.steps.map((s) => (s.deadline.kind === 'absolute' ? { ...s, deadline: { ...s.deadline, at: shift(s.deadline.at) } } : s)) };
}
