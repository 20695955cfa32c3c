/**
 * Vietnam's public holidays (ngày nghỉ lễ, Tết) as data, for working-day deadlines.
 *
 * Source: Bộ luật Lao động 2019, Điều 112 (statutory days: Tết Dương lịch 1/1; Tết Âm lịch 5 days;
 * Giỗ Tổ Hùng Vương 10/3 âm lịch; Chiến thắng 30/4; Quốc tế lao động 1/5; Quốc khánh 2/9 plus one
 * adjacent day), as scheduled for civil servants (cán bộ, công chức, viên chức) by the yearly notices
 * of the Ministry of Labour / Ministry of Home Affairs: party committees follow the public-sector
 * schedule. Each year lists every day of the announced break, weekends included, plus the
 * compensatory weekdays (nghỉ bù) when a holiday falls on a weekend.
 *
 * Not modelled by the legacy `vietnamHolidayCalendar()` Set: make-up working Saturdays (ngày làm bù)
 * that pay for a swapped weekday. They are listed in VIETNAM_MAKEUP_WORKING_DAYS, but the Set has no
 * `worksOn`, so `isWorkingDay` treats every Saturday as a day off and a swap can only lengthen a
 * working-day deadline, never shorten it. That stays so: recorded workflow histories replay on it.
 * calendar.ts (`officialVietnamCalendar`, `calendarDays`) models them, and computes the years after 2027.
 *
 * Lunar dates were computed for UTC+7 (Hồ Ngọc Đức's algorithm) and match the announcements:
 * Tết 1/2/2022, 22/1/2023, 10/2/2024, 29/1/2025, 17/2/2026, 6/2/2027; Giỗ Tổ 10/4/2022,
 * 29/4/2023, 18/4/2024, 7/4/2025, 26/4/2026, 16/4/2027.
 */
import { DomainError } from './errors';
import { LocalDate } from './time';

/** Official days off in Vietnam by year (public-sector schedule), 2022–2027. Extend by adding a year. */
export const VIETNAM_PUBLIC_HOLIDAYS: Record<number, LocalDate[]> = {
  2022: [
    // Tết Dương lịch: 1/1 is a Saturday → nghỉ bù Monday 3/1.
    '2022-01-01',
    '2022-01-02',
    '2022-01-03',
    // Tết Nhâm Dần: 29/1 (Sat) – 6/2 (Sun); mùng 1 = 1/2.
    '2022-01-29',
    '2022-01-30',
    '2022-01-31',
    '2022-02-01',
    '2022-02-02',
    '2022-02-03',
    '2022-02-04',
    '2022-02-05',
    '2022-02-06',
    // Giỗ Tổ 10/3 âm lịch = Sunday 10/4 → nghỉ bù Monday 11/4.
    '2022-04-10',
    '2022-04-11',
    // 30/4 (Sat) and 1/5 (Sun) → nghỉ bù Monday 2/5 and Tuesday 3/5.
    '2022-04-30',
    '2022-05-01',
    '2022-05-02',
    '2022-05-03',
    // Quốc khánh: Thursday 1/9 (adjacent day) and Friday 2/9, through the weekend.
    '2022-09-01',
    '2022-09-02',
    '2022-09-03',
    '2022-09-04',
  ],
  2023: [
    // Tết Dương lịch: 1/1 is a Sunday → nghỉ bù Monday 2/1.
    '2023-01-01',
    '2023-01-02',
    // Tết Quý Mão: 20/1 (Fri, 29 tháng Chạp) – 26/1 (Thu, mùng 5); mùng 1 = 22/1.
    '2023-01-20',
    '2023-01-21',
    '2023-01-22',
    '2023-01-23',
    '2023-01-24',
    '2023-01-25',
    '2023-01-26',
    // Giỗ Tổ (Sat 29/4), 30/4 (Sun), 1/5 (Mon) → nghỉ bù Tuesday 2/5 and Wednesday 3/5.
    '2023-04-29',
    '2023-04-30',
    '2023-05-01',
    '2023-05-02',
    '2023-05-03',
    // Quốc khánh: Friday 1/9 (adjacent day), 2/9 (Sat) → nghỉ bù Monday 4/9.
    '2023-09-01',
    '2023-09-02',
    '2023-09-03',
    '2023-09-04',
  ],
  2024: [
    // Tết Dương lịch: Monday 1/1.
    '2024-01-01',
    // Tết Giáp Thìn: 8/2 (Thu, 29 tháng Chạp) – 14/2 (Wed, mùng 5); mùng 1 = 10/2.
    '2024-02-08',
    '2024-02-09',
    '2024-02-10',
    '2024-02-11',
    '2024-02-12',
    '2024-02-13',
    '2024-02-14',
    // Giỗ Tổ: Thursday 18/4.
    '2024-04-18',
    // 30/4 (Tue), 1/5 (Wed): 27/4 – 1/5, Monday 29/4 swapped with make-up Saturday 4/5.
    '2024-04-27',
    '2024-04-28',
    '2024-04-29',
    '2024-04-30',
    '2024-05-01',
    // Quốc khánh: 2/9 (Mon) and Tuesday 3/9 (adjacent day), from Saturday 31/8.
    '2024-08-31',
    '2024-09-01',
    '2024-09-02',
    '2024-09-03',
  ],
  2025: [
    // Tết Dương lịch: Wednesday 1/1.
    '2025-01-01',
    // Tết Ất Tỵ: 25/1 (Sat) – 2/2 (Sun); mùng 1 = 29/1; Monday 27/1 swapped with make-up Saturday 8/2.
    '2025-01-25',
    '2025-01-26',
    '2025-01-27',
    '2025-01-28',
    '2025-01-29',
    '2025-01-30',
    '2025-01-31',
    '2025-02-01',
    '2025-02-02',
    // Giỗ Tổ: Monday 7/4, after the weekend.
    '2025-04-05',
    '2025-04-06',
    '2025-04-07',
    // 30/4 (Wed), 1/5 (Thu): 30/4 – 4/5, Friday 2/5 swapped with make-up Saturday 26/4.
    '2025-04-30',
    '2025-05-01',
    '2025-05-02',
    '2025-05-03',
    '2025-05-04',
    // Quốc khánh: Monday 1/9 (adjacent day) and 2/9 (Tue), from Saturday 30/8.
    '2025-08-30',
    '2025-08-31',
    '2025-09-01',
    '2025-09-02',
  ],
  2026: [
    // Tết Dương lịch: Thursday 1/1 (statutory day; any swap announced later is not included).
    '2026-01-01',
    // Tết Bính Ngọ: 14/2 (Sat) – 22/2 (Sun); mùng 1 = 17/2. The weekdays off are 16–20/2 either way.
    '2026-02-14',
    '2026-02-15',
    '2026-02-16',
    '2026-02-17',
    '2026-02-18',
    '2026-02-19',
    '2026-02-20',
    '2026-02-21',
    '2026-02-22',
    // Giỗ Tổ 10/3 âm lịch = Sunday 26/4 → nghỉ bù Monday 27/4.
    '2026-04-26',
    '2026-04-27',
    // 30/4 (Thu), 1/5 (Fri), through the weekend.
    '2026-04-30',
    '2026-05-01',
    '2026-05-02',
    '2026-05-03',
    // Quốc khánh: 2/9 (Wed) plus an adjacent day. UNSURE which one the Government picks;
    // assumed Tuesday 1/9 (the day before, as in 2022, 2023 and 2025).
    '2026-09-01',
    '2026-09-02',
  ],
  2027: [
    // UNSURE for the whole year: not announced at the time of writing, so these are the statutory
    // days with nghỉ bù, not the announced schedule.
    // Tết Dương lịch: Friday 1/1.
    '2027-01-01',
    // Tết Đinh Mùi: mùng 1 = Saturday 6/2. Statutory 5 days assumed as giao thừa (Fri 5/2) to
    // mùng 4 (Tue 9/2); Saturday 6/2 and Sunday 7/2 → nghỉ bù Wednesday 10/2 and Thursday 11/2.
    '2027-02-05',
    '2027-02-06',
    '2027-02-07',
    '2027-02-08',
    '2027-02-09',
    '2027-02-10',
    '2027-02-11',
    // Giỗ Tổ 10/3 âm lịch: Friday 16/4.
    '2027-04-16',
    // 30/4 (Fri), 1/5 (Sat) → nghỉ bù Monday 3/5.
    '2027-04-30',
    '2027-05-01',
    '2027-05-02',
    '2027-05-03',
    // Quốc khánh: 2/9 (Thu) plus an adjacent day, assumed Friday 3/9 (makes a long weekend).
    '2027-09-02',
    '2027-09-03',
  ],
};

/** Saturdays worked to pay for a swapped weekday (ngày làm bù). The legacy Set ignores them; calendar.ts counts them. */
export const VIETNAM_MAKEUP_WORKING_DAYS: Record<number, LocalDate[]> = {
  2024: ['2024-05-04'],
  2025: ['2025-02-08', '2025-04-26'],
};

/**
 * Every Vietnamese public holiday above, plus `extra` days (a plan's own days off, a local
 * anniversary), as a calendar for `isWorkingDay` / `addWorkingDays`.
 * @throws DomainError if an extra day is not a YYYY-MM-DD calendar date
 */
export function vietnamHolidayCalendar(extra: ReadonlyArray<LocalDate> = []): ReadonlySet<LocalDate> {
  const days = new Set<LocalDate>();
  for (const year of Object.values(VIETNAM_PUBLIC_HOLIDAYS)) for (const d of year) days.add(d);
  const bad = extra.flatMap((d, i) => {
    const r = LocalDate.safeParse(d);
    return r.success ? [] : [{ path: `holidays[${i}]`, message: r.error.issues.map((x) => x.message).join('; ') }];
  });
  if (bad.length) throw new DomainError(bad);
  for (const d of extra) days.add(d);
  return days;
}
