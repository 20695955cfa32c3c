/**
 * Holiday calendars as versioned data (issue 10, "calendars as data").
 *
 * A calendar is a JSON document ops can import and edit: every day off that is not an ordinary
 * weekend day (ngày nghỉ lễ, Tết, nghỉ bù), every weekend day that is worked (ngày làm bù), and the
 * years it covers, each either `announced` (the Government's schedule for that year is out and the
 * days follow it) or `provisional` (the statutory days computed ahead of the announcement). A date
 * outside every listed year is `uncovered`: the calendar knows nothing about it.
 *
 * `officialVietnamCalendar()` builds Vietnam's public-sector calendar: the announced years from
 * holidays.ts, then the statutory days of Bộ luật Lao động 2019 Điều 112 computed with the lunar
 * calendar (lunar.ts) for later years, so that from 2028 a working-day deadline no longer counts Tết
 * as working days. `calendarDays()` turns a calendar into the `HolidayCalendar` that `isWorkingDay`
 * and `addWorkingDays` take, with make-up Saturdays; `explainWorkingDays()` says why a working-day
 * deadline lands where it does.
 *
 * The legacy `vietnamHolidayCalendar()` Set is untouched: recorded workflow histories replay on it.
 *
 * Pure: imported by workflow code, so no Node built-ins.
 */
import { z } from 'zod';
import { DomainError } from './errors';
import { VIETNAM_MAKEUP_WORKING_DAYS, VIETNAM_PUBLIC_HOLIDAYS } from './holidays';
import { hungKingsDate, lunarToSolar, tetDate } from './lunar';
import { addDays, dayOfWeek, daysBetween, formatLocalDate, isWorkingDay, LocalDate, MAX_INPUT_YEAR, MIN_INPUT_YEAR, type HolidayCalendar } from './time';

// ---------------------------------------------------------------------------------------------
// The file format

/** What a listed day is: a day off (holiday, nghỉ bù) or a worked weekend day (ngày làm bù). */
export const CalendarDayKind = z.enum(['off', 'working']);
export type CalendarDayKind = z.infer<typeof CalendarDayKind>;

/** How sure a year's days are: the Government's announced schedule, or statutory days computed ahead of it. */
export const YearStatus = z.enum(['announced', 'provisional']);
export type YearStatus = z.infer<typeof YearStatus>;

/** What a calendar knows about a date: its year is announced, provisional, or not listed at all. */
export type Coverage = YearStatus | 'uncovered';

const ONE_LINE = /^[^\r\n\u2028\u2029]*$/;

/** One listed day. */
export const CalendarDay = z.strictObject({
  date: LocalDate,
  kind: CalendarDayKind,
  /** Why, for people: "mùng 2 Tết", "Nghỉ bù cho Quốc khánh (2/9)". One line. */
  note: z.string().trim().min(1, 'a note is required (why this day is off or worked)').max(300).regex(ONE_LINE, 'a note is one line of text'),
});
export type CalendarDay = z.infer<typeof CalendarDay>;

/** One covered year. */
export const CalendarYear = z.strictObject({
  year: z.number().int().min(MIN_INPUT_YEAR).max(MAX_INPUT_YEAR),
  status: YearStatus,
});
export type CalendarYear = z.infer<typeof CalendarYear>;

/**
 * A holiday calendar file. `id` names the calendar (`vn-official`, `vn-hanoi-2031`); `version`
 * goes up by one with every edit, so a rollout can record which calendar it counted with.
 *
 * Beyond the shapes, refused with the field named: a `working` day that is not a Saturday or Sunday
 * (a weekday is worked anyway), a day whose year is not in `years`, a date listed twice, a year listed twice.
 */
export const CalendarFile = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a calendar id of lower-case letters, digits and hyphens, e.g. vn-official'),
    version: z.number().int().min(1),
    days: z.array(CalendarDay).max(100_000),
    years: z.array(CalendarYear).min(1, 'list at least one year the calendar covers').max(1_000),
  })
  .superRefine((cal, ctx) => {
    const yearAt = new Map<number, number>();
    cal.years.forEach((y, i) => {
      const first = yearAt.get(y.year);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['years', i, 'year'], message: `year ${y.year} is listed twice (also years[${first}])` });
      else yearAt.set(y.year, i);
    });
    const dateAt = new Map<string, number>();
    cal.days.forEach((d, i) => {
      // zod runs this check even when a date failed its own (non-fatal) check: skip such a day, it is reported already.
      if (!LocalDate.safeParse(d.date).success) return;
      const first = dateAt.get(d.date);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['days', i, 'date'], message: `${d.date} is listed twice (also days[${first}])` });
      else dateAt.set(d.date, i);
      const year = Number(d.date.slice(0, 4));
      if (!yearAt.has(year)) ctx.addIssue({ code: 'custom', path: ['days', i, 'date'], message: `${d.date} is outside the calendar's years (${year} is not in years)` });
      const dow = dayOfWeek(d.date);
      if (d.kind === 'working' && dow !== 0 && dow !== 6) {
        ctx.addIssue({ code: 'custom', path: ['days', i, 'kind'], message: `${d.date} is a ${WEEKDAY_EN[dow]}: only a Saturday or Sunday can be a make-up working day (a weekday is worked anyway)` });
      }
    });
  });
export type Calendar = z.infer<typeof CalendarFile>;

/**
 * Parse and check a calendar file (already decoded from JSON).
 * @throws DomainError with every problem, each naming its field (`days[3].date`, `years[0].status`)
 */
export function parseCalendarFile(input: unknown): Calendar {
  const r = CalendarFile.safeParse(input);
  if (!r.success) throw DomainError.fromZod('', r.error);
  return r.data;
}

// ---------------------------------------------------------------------------------------------
// Vietnam's official calendar

/** The id of the calendar `officialVietnamCalendar` builds. */
export const OFFICIAL_VIETNAM_CALENDAR_ID = 'vn-official';
/**
 * Its version: raise it whenever the announced data in holidays.ts or the rules below change. The
 * days of a year never depend on `throughYear`, which only lengthens the computed tail.
 */
export const OFFICIAL_VIETNAM_CALENDAR_VERSION = 1;

/** The years whose schedule has been announced (2027 is in holidays.ts but only as statutory days). */
const ANNOUNCED_THROUGH = 2026;
/** The last year holidays.ts lists; later years are computed. */
const LISTED_THROUGH = 2027;
const FIRST_YEAR = 2022;
/** lunar.ts stops at 2199. */
const LAST_YEAR = 2199;

const WEEKDAY_EN = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const WEEKDAY_VI = ['Chủ nhật', 'thứ Hai', 'thứ Ba', 'thứ Tư', 'thứ Năm', 'thứ Sáu', 'thứ Bảy'] as const;

function isWeekend(d: LocalDate): boolean {
  const dow = dayOfWeek(d);
  return dow === 0 || dow === 6;
}

function vi(d: LocalDate): string {
  return formatLocalDate(d, 'vi');
}

/** What Tết day `d` is: "mùng 3 Tết", or "29 tháng Chạp" / "giao thừa" before mùng 1. */
function tetDayNote(d: LocalDate, year: number): string {
  const mung1 = tetDate(year);
  const offset = daysBetween(mung1, d);
  if (offset >= 0) return `Tết Nguyên đán: mùng ${offset + 1} Tết`;
  const chap1 = lunarToSolar(1, 12, year - 1);
  const lunarDay = daysBetween(chap1, d) + 1;
  return offset === -1 ? `Tết Nguyên đán: giao thừa (${lunarDay} tháng Chạp)` : `Tết Nguyên đán: ${lunarDay} tháng Chạp`;
}

interface Anchor {
  date: LocalDate;
  name: string;
}

function anchorsOf(year: number): Anchor[] {
  return [
    { date: `${year}-01-01`, name: 'Tết Dương lịch (1/1)' },
    { date: tetDate(year), name: 'Tết Nguyên đán' },
    { date: hungKingsDate(year), name: 'Giỗ Tổ Hùng Vương (10/3 âm lịch)' },
    { date: `${year}-04-30`, name: 'Ngày Chiến thắng (30/4)' },
    { date: `${year}-05-01`, name: 'Ngày Quốc tế Lao động (1/5)' },
    { date: `${year}-09-02`, name: 'Quốc khánh (2/9)' },
  ];
}

/**
 * A note for a day of an announced break in holidays.ts, which lists dates without reasons: the
 * holiday it is nearest to, and what kind of day of the break it is.
 */
function announcedNote(d: LocalDate, year: number): string {
  const tetOffset = daysBetween(tetDate(year), d);
  if (tetOffset >= -10 && tetOffset <= 10) return tetDayNote(d, year);
  let best: { anchor: Anchor; distance: number } | undefined;
  for (const anchor of anchorsOf(year)) {
    const distance = Math.abs(daysBetween(anchor.date, d));
    if (!best || distance < best.distance) best = { anchor, distance };
  }
  const name = best?.anchor.name ?? 'Ngày nghỉ lễ';
  if (best?.distance === 0) return name;
  return isWeekend(d) ? `${name}: cuối tuần trong kỳ nghỉ` : `${name}: ngày nghỉ thêm theo thông báo (nghỉ bù, ngày liền kề hoặc hoán đổi)`;
}

/** Why each make-up Saturday in holidays.ts is worked. */
const MAKEUP_NOTES: Record<string, string> = {
  '2024-05-04': 'Ngày làm bù: thứ Bảy 04/05/2024 làm việc thay cho thứ Hai 29/04/2024 được nghỉ dịp 30/4–1/5',
  '2025-02-08': 'Ngày làm bù: thứ Bảy 08/02/2025 làm việc thay cho thứ Hai 27/01/2025 được nghỉ dịp Tết Ất Tỵ',
  '2025-04-26': 'Ngày làm bù: thứ Bảy 26/04/2025 làm việc thay cho thứ Sáu 02/05/2025 được nghỉ dịp 30/4–1/5',
};

/**
 * The statutory days off of `year` for the public sector, computed (no announcement needed):
 *
 * - Tết Dương lịch 1/1;
 * - Tết Nguyên đán, 5 days: giao thừa (the last day of the lunar year) through mùng 4;
 * - Giỗ Tổ Hùng Vương, lunar 10/3;
 * - 30/4 and 1/5;
 * - Quốc khánh 2/9 plus one adjacent day (Điều 112 lets the Government pick the day before or after):
 *   3/9 when 2/9 is a Monday or Thursday (a Tuesday or Friday off, not a lone bridge day) or a Sunday,
 *   otherwise 1/9, as the announcements of 2022–2025 did;
 * - nghỉ bù: each of those days that falls on a Saturday or Sunday gives the next weekday that is
 *   not already off (Điều 111–112; in date order, so two weekend days give two weekdays).
 *
 * Swaps with make-up Saturdays are announced year by year and cannot be computed: none are made.
 * @throws DomainError if `year` is outside 2022–2199
 */
export function statutoryVietnamDays(year: number): CalendarDay[] {
  checkYear(year, 'year');
  const statutory: Array<{ date: LocalDate; note: string; name: string }> = [];
  const add = (date: LocalDate, note: string, name = note): void => void statutory.push({ date, note, name });
  add(`${year}-01-01`, 'Tết Dương lịch (1/1)');
  const mung1 = tetDate(year);
  for (let i = -1; i <= 3; i++) add(addDays(mung1, i), tetDayNote(addDays(mung1, i), year), 'Tết Nguyên đán');
  add(hungKingsDate(year), 'Giỗ Tổ Hùng Vương (10/3 âm lịch)');
  add(`${year}-04-30`, 'Ngày Chiến thắng (30/4)');
  add(`${year}-05-01`, 'Ngày Quốc tế Lao động (1/5)');
  add(`${year}-09-02`, 'Quốc khánh (2/9)');
  const nationalDow = dayOfWeek(`${year}-09-02`);
  const adjacent: LocalDate = nationalDow === 1 || nationalDow === 4 || nationalDow === 0 ? `${year}-09-03` : `${year}-09-01`;
  add(adjacent, `Quốc khánh: ngày liền kề (${Number(adjacent.slice(8))}/9)`, 'Quốc khánh (2/9)');
  statutory.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));

  const off = new Set(statutory.map((s) => s.date));
  const days: CalendarDay[] = statutory.map((s) => ({ date: s.date, kind: 'off', note: s.note }));
  for (const s of statutory) {
    if (!isWeekend(s.date)) continue;
    let d = addDays(s.date, 1);
    while (isWeekend(d) || off.has(d)) d = addDays(d, 1);
    off.add(d);
    days.push({ date: d, kind: 'off', note: `Nghỉ bù cho ${s.name}: ${vi(s.date)} là ${WEEKDAY_VI[dayOfWeek(s.date)]}` });
  }
  return days.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

function checkYear(year: number, path: string): void {
  if (!Number.isSafeInteger(year) || year < FIRST_YEAR || year > LAST_YEAR) throw DomainError.of(path, `expected a year from ${FIRST_YEAR} to ${LAST_YEAR}, got ${year}`);
}

/**
 * Vietnam's official public-sector calendar from 2022 through `throughYear`:
 *
 * - 2022–2026 `announced`: the days of VIETNAM_PUBLIC_HOLIDAYS (every day of each announced break,
 *   weekends included) and VIETNAM_MAKEUP_WORKING_DAYS as `working` days;
 * - 2027 `provisional`: holidays.ts lists it, but only as statutory days, the schedule being unannounced;
 * - 2028 on `provisional`: `statutoryVietnamDays(year)`.
 *
 * When the Government announces a year, edit holidays.ts (or the exported file) and mark it announced.
 * @throws DomainError if `throughYear` is outside 2022–2199
 */
export function officialVietnamCalendar(throughYear = 2040): Calendar {
  checkYear(throughYear, 'throughYear');
  const days: CalendarDay[] = [];
  const years: CalendarYear[] = [];
  for (let year = FIRST_YEAR; year <= throughYear; year++) {
    years.push({ year, status: year <= ANNOUNCED_THROUGH ? 'announced' : 'provisional' });
    if (year > LISTED_THROUGH) {
      days.push(...statutoryVietnamDays(year));
      continue;
    }
    for (const date of VIETNAM_PUBLIC_HOLIDAYS[year] ?? []) days.push({ date, kind: 'off', note: announcedNote(date, year) });
    for (const date of VIETNAM_MAKEUP_WORKING_DAYS[year] ?? []) days.push({ date, kind: 'working', note: MAKEUP_NOTES[date] ?? 'Ngày làm bù (làm việc thay cho một ngày nghỉ hoán đổi)' });
  }
  days.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return parseCalendarFile({ id: OFFICIAL_VIETNAM_CALENDAR_ID, version: OFFICIAL_VIETNAM_CALENDAR_VERSION, days, years });
}

// ---------------------------------------------------------------------------------------------
// Using a calendar

/** A calendar ready for `isWorkingDay` / `addWorkingDays`, make-up days included. */
export interface CalendarDays extends HolidayCalendar {
  readonly id: string;
  readonly version: number;
  /** True if `date` is listed as a day off. */
  has(date: LocalDate): boolean;
  /** True if `date` is listed as a worked weekend day (ngày làm bù): `isWorkingDay` counts it. */
  worksOn(date: LocalDate): boolean;
  /** The listed entry for `date`, with its note, if any. */
  dayOf(date: LocalDate): CalendarDay | undefined;
  /** Every make-up working day, in date order. */
  makeUpDays(): LocalDate[];
}

/**
 * The days of a calendar as a `HolidayCalendar` with make-up working days (`worksOn`).
 * @throws DomainError if `cal` is not a valid calendar (it is checked again: it may have been edited in memory)
 */
export function calendarDays(cal: Calendar): CalendarDays {
  const checked = parseCalendarFile(cal);
  const byDate = new Map<string, CalendarDay>(checked.days.map((d) => [d.date, d]));
  const makeUp = checked.days
    .filter((d) => d.kind === 'working')
    .map((d) => d.date)
    .sort();
  return {
    id: checked.id,
    version: checked.version,
    has: (date) => byDate.get(date)?.kind === 'off',
    worksOn: (date) => byDate.get(date)?.kind === 'working',
    dayOf: (date) => byDate.get(date),
    makeUpDays: () => [...makeUp],
  };
}

/**
 * How much `cal` knows about `date`: the status of its year, or `uncovered` if the year is not listed
 * (then its holidays are unknown and only weekends are days off).
 * @throws DomainError if `date` is not a calendar date
 */
export function coverage(cal: Calendar, date: LocalDate): Coverage {
  const r = LocalDate.safeParse(date);
  if (!r.success) throw DomainError.fromZod('date', r.error);
  const year = Number(date.slice(0, 4));
  return cal.years.find((y) => y.year === year)?.status ?? 'uncovered';
}

// ---------------------------------------------------------------------------------------------
// Explaining a working-day deadline

/** Why a day was counted or skipped. */
export type DayReason = 'weekday' | 'weekend' | 'holiday' | 'makeUp';

/** One day on the way to the n-th working day. */
export interface ExplainedDay {
  date: LocalDate;
  /** 0 = Sunday … 6 = Saturday. */
  dayOfWeek: number;
  /** True if it counted as a working day. */
  counted: boolean;
  /** `weekday`/`makeUp` when counted, `weekend`/`holiday` when skipped. */
  reason: DayReason;
  /** The calendar's note for a holiday or a make-up day. */
  note?: string;
  coverage: Coverage;
}

/** The n-th working day after a date, and why. */
export interface WorkingDaysExplanation {
  from: LocalDate;
  n: number;
  calendar: { id: string; version: number };
  /** The n-th working day strictly after `from`: the same as `addWorkingDays(from, n, calendarDays(cal))`. */
  date: LocalDate;
  /** Every day after `from` through `date`, in order. */
  days: ExplainedDay[];
  /** The days not counted (weekends and holidays), in order. */
  skipped: ExplainedDay[];
  /** The weekend days counted because they are make-up working days. */
  makeUpCounted: ExplainedDay[];
  /** True if some counted day is in a provisional year: an announcement may still move the deadline. */
  provisional: boolean;
  /** True if some counted day is in a year the calendar does not cover: its holidays were not considered. */
  uncovered: boolean;
  /** The years of counted days that are not announced, each once, in order. */
  uncertainYears: Array<{ year: number; coverage: 'provisional' | 'uncovered' }>;
}

/** Same bound as addWorkingDays: a calendar with no working day in ten years is a mistake. */
const MAX_SCAN = 3_660;

/**
 * The `n`-th working day strictly after `from` under `cal`, with every day on the way and why it
 * counted or not: what `trienkhai explain` prints. Pure.
 * @throws DomainError if `from` is not a date, `n` is not a whole number ≥ 1, or no working day is found within ten years
 */
export function explainWorkingDays(from: LocalDate, n: number, cal: Calendar): WorkingDaysExplanation {
  const r = LocalDate.safeParse(from);
  if (!r.success) throw DomainError.fromZod('from', r.error);
  if (!Number.isSafeInteger(n) || n < 1) throw DomainError.of('workingDays', `expected a whole number of working days ≥ 1, got ${n}`);
  const days = calendarDays(cal);
  const statusOf = new Map(cal.years.map((y) => [y.year, y.status] as const));
  const explained: ExplainedDay[] = [];
  let left = n;
  let d = from;
  while (left > 0) {
    if (explained.length >= MAX_SCAN + n) throw DomainError.of('holidays', `no working day found within ten years after ${from}; is every day a holiday?`);
    d = addDays(d, 1);
    const dow = dayOfWeek(d);
    const entry = days.dayOf(d);
    const counted = isWorkingDay(d, days);
    const weekend = dow === 0 || dow === 6;
    const reason: DayReason = counted ? (weekend ? 'makeUp' : 'weekday') : weekend && entry?.kind !== 'off' ? 'weekend' : 'holiday';
    const day: ExplainedDay = { date: d, dayOfWeek: dow, counted, reason, coverage: statusOf.get(Number(d.slice(0, 4))) ?? 'uncovered' };
    if (entry) day.note = entry.note;
    explained.push(day);
    if (counted) left -= 1;
  }
  const counted = explained.filter((x) => x.counted);
  const uncertainYears: WorkingDaysExplanation['uncertainYears'] = [];
  for (const x of counted) {
    if (x.coverage === 'announced') continue;
    const year = Number(x.date.slice(0, 4));
    if (!uncertainYears.some((u) => u.year === year)) uncertainYears.push({ year, coverage: x.coverage });
  }
  return {
    from,
    n,
    calendar: { id: days.id, version: days.version },
    date: d,
    days: explained,
    skipped: explained.filter((x) => !x.counted),
    makeUpCounted: explained.filter((x) => x.reason === 'makeUp'),
    provisional: uncertainYears.some((u) => u.coverage === 'provisional'),
    uncovered: uncertainYears.some((u) => u.coverage === 'uncovered'),
    uncertainYears,
  };
}

// ---------------------------------------------------------------------------------------------
// A calendar pinned in a unit's context

/**
 * The part of a calendar a unit workflow carries (UnitContext.calendar, the `recalendar` change): the
 * dates only, without notes, so that a workflow's state stays small across continue-as-new.
 * `years` lists every covered year (announced or provisional); `provisionalYears` those of them not
 * yet announced. The notes are in the stored version (`calendar_versions`), read by `explain`.
 */
export interface PinnedCalendar {
  id: string;
  version: number;
  daysOff: LocalDate[];
  workingDays: LocalDate[];
  years: number[];
  provisionalYears: number[];
}

/** The dates of `cal`, to pin in a unit's context. Pure. */
export function pinCalendar(cal: Calendar): PinnedCalendar {
  const sorted = <T>(xs: T[]): T[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    id: cal.id,
    version: cal.version,
    daysOff: sorted(cal.days.filter((d) => d.kind === 'off').map((d) => d.date)),
    workingDays: sorted(cal.days.filter((d) => d.kind === 'working').map((d) => d.date)),
    years: cal.years.map((y) => y.year).sort((a, b) => a - b),
    provisionalYears: cal.years
      .filter((y) => y.status === 'provisional')
      .map((y) => y.year)
      .sort((a, b) => a - b),
  };
}

/**
 * A pinned calendar plus a plan's own days off (`extra`) as the `HolidayCalendar` working-day
 * deadlines are counted on: its make-up Saturdays are worked (`worksOn`). Pure: the unit workflow calls it.
 */
export function pinnedHolidays(pin: PinnedCalendar, extra: ReadonlyArray<LocalDate> = []): HolidayCalendar {
  const off = new Set<LocalDate>([...pin.daysOff, ...extra]);
  const working = new Set<LocalDate>(pin.workingDays);
  return { has: (d) => off.has(d), worksOn: (d) => working.has(d) && !off.has(d) };
}

/** How much a pinned calendar knows about `date`'s year. */
export function pinnedCoverage(pin: Pick<PinnedCalendar, 'years' | 'provisionalYears'>, date: LocalDate): Coverage {
  const year = Number(date.slice(0, 4));
  if (!pin.years.includes(year)) return 'uncovered';
  return pin.provisionalYears.includes(year) ? 'provisional' : 'announced';
}

/** True if two pinned calendars count the same days (id and version aside). */
export function sameDays(a: PinnedCalendar, b: PinnedCalendar): boolean {
  const eq = (x: ReadonlyArray<unknown>, y: ReadonlyArray<unknown>): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.daysOff, b.daysOff) && eq(a.workingDays, b.workingDays) && eq(a.years, b.years) && eq(a.provisionalYears, b.provisionalYears);
}
