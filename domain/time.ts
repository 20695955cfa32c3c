/**
 * All calendar and deadline arithmetic, in Asia/Ho_Chi_Minh.
 *
 * Vietnam has been on a fixed UTC+7 with no daylight saving since 1975, so local time is plain
 * arithmetic on the offset: no Intl time-zone database (workflow sandboxes and minimal ICU builds
 * differ), no `new Date()` without arguments (workflow code must be deterministic). Local calendar
 * dates are `YYYY-MM-DD` strings; instants are `Date`s (or epoch milliseconds where noted).
 *
 * "Trong tháng 8/2022" (within August 2022) means the end of 31 Aug 2022 local time, i.e.
 * 2022-08-31T23:59:59.999+07:00 = 2022-08-31T16:59:59.999Z; "quý III" ends 30 September.
 */
import { z } from 'zod';
import { DomainError } from './errors';

/** The one time zone the domain reasons in. */
export const TIME_ZONE = 'Asia/Ho_Chi_Minh';
/** Asia/Ho_Chi_Minh is UTC+7 all year round. */
export const UTC_OFFSET_MINUTES = 420;

const OFFSET_MS = UTC_OFFSET_MINUTES * 60_000;
const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

// ---------------------------------------------------------------------------------------------
// Proleptic Gregorian calendar ↔ day numbers (days since 1970-01-01), after H. Hinnant's
// algorithms: exact for every year, independent of Date's parsing quirks (e.g. years 0–99).

interface Ymd {
  y: number;
  m: number;
  d: number;
}

function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12; // March = 0, so the leap day is the last day of the "year"
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(days: number): Ymd {
  const z0 = days + 719_468;
  const era = Math.floor(z0 / 146_097);
  const doe = z0 - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const MONTH_NAMES_EN = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;

function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeapYear(y) ? 29 : (MONTH_LENGTHS[m - 1] ?? 31);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function ymdText({ y, m, d }: Ymd): string {
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

/** Why `y-m-d` is not a calendar date, or undefined if it is one. */
function calendarProblem(y: number, m: number, d: number): string | undefined {
  if (m < 1 || m > 12) return `month ${m} is out of range (expected 01–12)`;
  const dim = daysInMonth(y, m);
  if (d < 1 || d > dim) return `day ${d} is out of range (${MONTH_NAMES_EN[m - 1]} ${y} has ${dim} days)`;
  return undefined;
}

const LOCAL_DATE_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;

// ---------------------------------------------------------------------------------------------
// Local dates

/** A local calendar date in Asia/Ho_Chi_Minh, `YYYY-MM-DD`, that exists on the calendar (no 2022-02-30). */
export const LocalDate = z.string().superRefine((text, ctx) => {
  const m = LOCAL_DATE_SHAPE.exec(text);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a date (expected YYYY-MM-DD, e.g. 2022-08-31)` });
    return;
  }
  const problem = calendarProblem(Number(m[1]), Number(m[2]), Number(m[3]));
  if (problem) ctx.addIssue({ code: 'custom', message: `"${text}" is not a calendar date: ${problem}` });
  // A date someone types (a session, a document, a resolution) is in the life of a party organisation:
  // 0001-01-01 or 9999-01-01 is a slip of the keyboard, not a fact to record.
  else if (Number(m[1]) < MIN_INPUT_YEAR || Number(m[1]) > MAX_INPUT_YEAR) ctx.addIssue({ code: 'custom', message: `"${text}" is outside the years ${MIN_INPUT_YEAR}–${MAX_INPUT_YEAR}` });
});
export type LocalDate = z.infer<typeof LocalDate>;

/** The years a typed date may fall in (computed deadlines may run later: a plan spans up to 100 years). */
export const MIN_INPUT_YEAR = 1900;
export const MAX_INPUT_YEAR = 2200;

/** Parse a LocalDate or throw a DomainError naming `path`. */
function ymdOf(date: string, path = 'date'): Ymd {
  const m = LOCAL_DATE_SHAPE.exec(date);
  if (!m) throw DomainError.of(path, `"${date}" is not a date (expected YYYY-MM-DD, e.g. 2022-08-31)`);
  const ymd = { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
  const problem = calendarProblem(ymd.y, ymd.m, ymd.d);
  if (problem) throw DomainError.of(path, `"${date}" is not a calendar date: ${problem}`);
  return ymd;
}

function dayNumberOf(date: LocalDate): number {
  const { y, m, d } = ymdOf(date);
  return daysFromCivil(y, m, d);
}

function dateOfDayNumber(days: number): LocalDate {
  return ymdText(civilFromDays(days));
}

function msOf(instant: Date | number, path = 'instant'): number {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  if (!Number.isFinite(ms)) throw DomainError.of(path, `not a valid instant (got ${String(instant)})`);
  return ms;
}

function requireInteger(n: number, path: string): void {
  if (!Number.isSafeInteger(n)) throw DomainError.of(path, `expected an integer, got ${n}`);
}

/** Local wall-clock parts of an instant. */
function localParts(instant: Date | number): { date: Ymd; dayNumber: number; timeMs: number } {
  const local = msOf(instant) + OFFSET_MS;
  const dayNumber = Math.floor(local / DAY_MS);
  return { date: civilFromDays(dayNumber), dayNumber, timeMs: local - dayNumber * DAY_MS };
}

/** The local (Asia/Ho_Chi_Minh) calendar date an instant falls on. */
export function localDateOf(instant: Date | number): LocalDate {
  return ymdText(localParts(instant).date);
}

/** 00:00:00.000 local time on `d` (17:00Z the day before). */
export function startOfLocalDay(d: LocalDate): Date {
  return new Date(dayNumberOf(d) * DAY_MS - OFFSET_MS);
}

/** 23:59:59.999 local time on `d` (16:59:59.999Z): the instant a deadline "by `d`" expires. */
export function endOfLocalDay(d: LocalDate): Date {
  return new Date((dayNumberOf(d) + 1) * DAY_MS - OFFSET_MS - 1);
}

/** `d` plus `n` calendar days (`n` may be negative). */
export function addDays(d: LocalDate, n: number): LocalDate {
  requireInteger(n, 'days');
  return dateOfDayNumber(dayNumberOf(d) + n);
}

/** Whole calendar days from `a` to `b`: `daysBetween('2024-02-28', '2024-03-01')` = 2; negative if `b` is earlier. */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return dayNumberOf(b) - dayNumberOf(a);
}

function addMonthsYmd({ y, m, d }: Ymd, n: number): Ymd {
  const index = y * 12 + (m - 1) + n;
  const ny = Math.floor(index / 12);
  const nm = index - ny * 12 + 1;
  // Clamp: 31 Jan + 1 month is the last day of February, not 3 March.
  return { y: ny, m: nm, d: Math.min(d, daysInMonth(ny, nm)) };
}

/** `d` plus `n` calendar months, clamped to the end of the month (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(d: LocalDate, n: number): LocalDate {
  requireInteger(n, 'months');
  return ymdText(addMonthsYmd(ymdOf(d), n));
}

/** The last day of a month (`month1to12` is 1-based). */
export function endOfMonth(year: number, month1to12: number): LocalDate {
  requireInteger(year, 'year');
  requireInteger(month1to12, 'month');
  if (year < 0 || year > 9999) throw DomainError.of('year', `year ${year} is out of range (expected 0000–9999)`);
  if (month1to12 < 1 || month1to12 > 12) throw DomainError.of('month', `month ${month1to12} is out of range (expected 1–12)`);
  return ymdText({ y: year, m: month1to12, d: daysInMonth(year, month1to12) });
}

/** Day of the week, 0 = Sunday … 6 = Saturday. */
export function dayOfWeek(d: LocalDate): 0 | 1 | 2 | 3 | 4 | 5 | 6 {
  // 1970-01-01 (day 0) was a Thursday.
  return ((((dayNumberOf(d) + 4) % 7) + 7) % 7) as 0 | 1 | 2 | 3 | 4 | 5 | 6;
}

// ---------------------------------------------------------------------------------------------
// Working days

/** Public holidays (ngày nghỉ lễ, Tết) as local dates. A `ReadonlySet<LocalDate>` is one. */
export interface HolidayCalendar {
  /** True if `date` is a day off (a holiday, a nghỉ bù) even though it may be a weekday. */
  has(date: LocalDate): boolean;
  /**
   * True if `date` is a weekend day that is worked (ngày làm bù: a Saturday that pays for a swapped
   * weekday). Optional: a plain Set has none, so every Saturday and Sunday stays a day off.
   */
  worksOn?(date: LocalDate): boolean;
}

/**
 * Monday to Friday and not a public holiday, or a weekend day the calendar says is worked
 * (`worksOn`, ngày làm bù). A calendar without `worksOn` (the legacy `vietnamHolidayCalendar` Set)
 * gives exactly the answers it always did: recorded workflow histories replay on them.
 */
export function isWorkingDay(d: LocalDate, holidays: HolidayCalendar): boolean {
  const dow = dayOfWeek(d);
  if (dow === 0 || dow === 6) return holidays.worksOn?.(d) === true;
  return !holidays.has(d);
}

/** A calendar with no working day in ten years is certainly a mistake; don't loop forever on it. */
const MAX_WORKING_DAY_SCAN = 3_660;

/** The `n`-th working day strictly after `d` (`n` ≥ 1): weekends and holidays don't count. */
export function addWorkingDays(d: LocalDate, n: number, holidays: HolidayCalendar): LocalDate {
  if (!Number.isSafeInteger(n) || n < 1) throw DomainError.of('workingDays', `expected a whole number of working days ≥ 1, got ${n}`);
  let day = dayNumberOf(d);
  let left = n;
  let scanned = 0;
  while (left > 0) {
    day += 1;
    if (++scanned > MAX_WORKING_DAY_SCAN + n) throw DomainError.of('holidays', `no working day found within ten years after ${d}; is every day a holiday?`);
    if (isWorkingDay(dateOfDayNumber(day), holidays)) left -= 1;
  }
  return dateOfDayNumber(day);
}

// ---------------------------------------------------------------------------------------------
// Deadline texts

/** How a deadline was stated: an exact instant, or the end of a day, month, quarter or year. */
export type DeadlinePrecision = 'instant' | 'day' | 'month' | 'quarter' | 'year';

/** A parsed deadline: the instant it expires, how it was stated, and a canonical text that parses back to the same instant. */
export interface ParsedDeadline {
  at: Date;
  precision: DeadlinePrecision;
  /** Canonical text: `2022-08-31`, `2022-08`, `2022-Q3`, `2022`, or a local ISO instant `2022-08-31T17:00:00.000+07:00`. */
  label: string;
}

const DEADLINE_FORMS =
  'expected one of: 2022-08-31 or 31/08/2022 (end of that day), 2022-08 (end of the month), 2022-Q3 (end of the quarter), ' +
  '2022 (end of the year), 2022-08-31T17:00 (local time), or an ISO instant with Z or an offset such as 2022-08-31T17:00:00+07:00';

const YEAR_RE = /^(\d{4})$/;
const QUARTER_RE = /^(\d{4})-Q(\d)$/i;
const MONTH_RE = /^(\d{4})-(\d{2})$/;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_FIRST_RE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Parse a deadline as people write it. A date, month, quarter or year means the END of it, local time
 * ("trong tháng 8/2022" = 2022-08-31T23:59:59.999+07:00); a wall-clock time without an offset is
 * local; an ISO instant with `Z` or an offset is exact. Vietnamese day-first `31/08/2022` is accepted.
 *
 * @throws DomainError naming the text and listing the accepted forms
 */
export function parseDeadlineText(text: string): ParsedDeadline {
  const t = text.trim();
  const fail = (why?: string): never => {
    throw DomainError.of('deadline', why ? `"${text}": ${why}` : `"${text}" is not a deadline (${DEADLINE_FORMS})`);
  };
  const checkDate = (y: number, m: number, d: number): void => {
    const problem = calendarProblem(y, m, d);
    if (problem) fail(`not a calendar date: ${problem}`);
  };
  const endOf = (y: number, m: number, d: number): Date => new Date((daysFromCivil(y, m, d) + 1) * DAY_MS - OFFSET_MS - 1);

  let m: RegExpExecArray | null;
  if ((m = YEAR_RE.exec(t))) {
    const y = Number(m[1]);
    return { at: endOf(y, 12, 31), precision: 'year', label: pad(y, 4) };
  }
  if ((m = QUARTER_RE.exec(t))) {
    const y = Number(m[1]);
    const q = Number(m[2]);
    if (q < 1 || q > 4) fail(`quarter ${q} is out of range (expected Q1–Q4)`);
    const lastMonth = q * 3;
    return { at: endOf(y, lastMonth, daysInMonth(y, lastMonth)), precision: 'quarter', label: `${pad(y, 4)}-Q${q}` };
  }
  if ((m = MONTH_RE.exec(t))) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    if (mo < 1 || mo > 12) fail(`month ${mo} is out of range (expected 01–12)`);
    return { at: endOf(y, mo, daysInMonth(y, mo)), precision: 'month', label: `${pad(y, 4)}-${pad(mo)}` };
  }
  const dayMatch = DAY_RE.exec(t);
  const dayFirst = dayMatch ? null : DAY_FIRST_RE.exec(t);
  if (dayMatch || dayFirst) {
    const [y, mo, d] = dayMatch ? [Number(dayMatch[1]), Number(dayMatch[2]), Number(dayMatch[3])] : [Number(dayFirst?.[3]), Number(dayFirst?.[2]), Number(dayFirst?.[1])];
    checkDate(y, mo, d);
    return { at: endOf(y, mo, d), precision: 'day', label: ymdText({ y, m: mo, d }) };
  }
  if ((m = DATETIME_RE.exec(t))) {
    const [y, mo, d, hh, mi, ss] = [1, 2, 3, 4, 5, 6].map((i) => Number(m?.[i] ?? 0)) as [number, number, number, number, number, number];
    checkDate(y, mo, d);
    if (hh > 23) fail(`hour ${hh} is out of range (expected 00–23)`);
    if (mi > 59) fail(`minute ${mi} is out of range (expected 00–59)`);
    if (ss > 59) fail(`second ${ss} is out of range (expected 00–59)`);
    const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
    const wall = daysFromCivil(y, mo, d) * DAY_MS + hh * HOUR_MS + mi * MINUTE_MS + ss * SECOND_MS + ms;
    const zone = m[8];
    let offsetMs = OFFSET_MS;
    if (zone !== undefined && zone.toUpperCase() !== 'Z') {
      const digits = zone.slice(1).replace(':', '');
      const oh = Number(digits.slice(0, 2));
      const om = Number(digits.slice(2) || '0');
      if (oh > 14 || om > 59) fail(`offset ${zone} is out of range (expected -14:00 to +14:00)`);
      offsetMs = (zone.startsWith('-') ? -1 : 1) * (oh * HOUR_MS + om * MINUTE_MS);
    } else if (zone !== undefined) {
      offsetMs = 0;
    }
    const at = new Date(wall - offsetMs);
    return { at, precision: 'instant', label: toLocalIso(at) };
  }
  return fail();
}

// ---------------------------------------------------------------------------------------------
// Durations

/** A parsed ISO-8601 duration. Calendar parts (years … days) apply on the local calendar; time parts are exact. */
export const DurationParts = z.strictObject({
  years: z.number().int().min(0),
  months: z.number().int().min(0),
  weeks: z.number().int().min(0),
  days: z.number().int().min(0),
  hours: z.number().int().min(0),
  minutes: z.number().int().min(0),
  seconds: z.number().int().min(0),
});
export type DurationParts = z.infer<typeof DurationParts>;

const DURATION_RE = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const DURATION_FORMS = 'expected an ISO-8601 duration of whole numbers such as P30D, P2W, P3M, P1Y, PT2M, PT90S or P1DT2H';

/** Why `text` is not a duration, or the parsed parts. */
function durationOrProblem(text: string): DurationParts | string {
  const t = text.trim().toUpperCase();
  const m = DURATION_RE.exec(t);
  // "P" and "P1DT" match the pattern but name no amount.
  if (!m || t === 'P' || t.endsWith('T')) return `"${text}" is not a duration (${DURATION_FORMS})`;
  const n = (i: number): number => Number(m[i] ?? 0);
  const parts: DurationParts = { years: n(1), months: n(2), weeks: n(3), days: n(4), hours: n(5), minutes: n(6), seconds: n(7) };
  if (Object.values(parts).some((v) => !Number.isSafeInteger(v))) return `"${text}" has a number too large to be a duration`;
  // A rollout lasts years, not centuries: a longer duration is a typo, and would put a deadline past
  // any date the calendar (and the timers) can hold.
  if (approximateDays(parts) > MAX_DURATION_YEARS * 366) return `"${text}" is longer than ${MAX_DURATION_YEARS} years (the longest duration a plan may use)`;
  return parts;
}

/** The longest duration accepted anywhere (a deadline offset, a reminder, an interval, a schedule's span). */
export const MAX_DURATION_YEARS = 100;

/** A duration's length in days, rounded up (months as 31 days, years as 366). */
export function approximateDays(d: { years: number; months: number; weeks: number; days: number; hours: number; minutes: number; seconds: number }): number {
  return d.years * 366 + d.months * 31 + d.weeks * 7 + d.days + Math.ceil((d.hours * 3600 + d.minutes * 60 + d.seconds) / 86400);
}

/**
 * An ISO-8601 duration text (`P30D`, `P1Y`, `P3M`, `P2W`, `PT2M`, `PT90S`, `P1DT2H`; whole numbers,
 * case-insensitive) that parses to its parts. `P0D` is allowed (zero).
 */
export const Duration = z.string().transform((text, ctx) => {
  const r = durationOrProblem(text);
  if (typeof r === 'string') {
    ctx.addIssue({ code: 'custom', message: r });
    return z.NEVER;
  }
  return r;
});
export type Duration = z.infer<typeof Duration>;

/** Parse an ISO-8601 duration. @throws DomainError with the accepted forms */
export function parseDuration(text: string): Duration {
  const r = durationOrProblem(text);
  if (typeof r === 'string') throw DomainError.of('duration', r);
  return r;
}

/** The canonical ISO-8601 text of a duration (`P1DT2H`; zero is `P0D`). */
export function formatDuration(d: Duration): string {
  const date = (d.years ? `${d.years}Y` : '') + (d.months ? `${d.months}M` : '') + (d.weeks ? `${d.weeks}W` : '') + (d.days ? `${d.days}D` : '');
  const time = (d.hours ? `${d.hours}H` : '') + (d.minutes ? `${d.minutes}M` : '') + (d.seconds ? `${d.seconds}S` : '');
  if (!date && !time) return 'P0D';
  return `P${date}${time ? `T${time}` : ''}`;
}

/** True if the duration has no time part (hours, minutes, seconds are all zero): "30 days", not "30 minutes". */
export function isDateOnlyDuration(d: Duration): boolean {
  return d.hours === 0 && d.minutes === 0 && d.seconds === 0;
}

function hasCalendarPart(d: Duration): boolean {
  return d.years !== 0 || d.months !== 0 || d.weeks !== 0 || d.days !== 0;
}

function timePartMs(d: Duration): number {
  return d.hours * HOUR_MS + d.minutes * MINUTE_MS + d.seconds * SECOND_MS;
}

/** Shift an instant by calendar months and days on the local calendar, keeping its local wall-clock time. */
function shiftLocal(ms: number, months: number, days: number): number {
  const { date, timeMs } = localParts(ms);
  const moved = addMonthsYmd(date, months);
  return (daysFromCivil(moved.y, moved.m, moved.d) + days) * DAY_MS + timeMs - OFFSET_MS;
}

/**
 * `instant` plus `d`: first years and months on the local calendar (clamped to the month's end, so
 * end of 31 Aug + P1M = end of 30 Sep local), then weeks and days, keeping the local wall-clock time;
 * then the time parts, exactly.
 */
export function addDuration(instant: Date, d: Duration): Date {
  const ms = msOf(instant);
  const calendar = hasCalendarPart(d) ? shiftLocal(ms, d.years * 12 + d.months, d.weeks * 7 + d.days) : ms;
  return new Date(calendar + timePartMs(d));
}

/**
 * `instant` minus `d`, mirroring addDuration in reverse order: the time parts exactly, then weeks and
 * days, then years and months on the local calendar (clamped to the month's end). Clamping means it
 * is not always the exact inverse: end of 31 Mar − P1M = end of 28/29 Feb.
 */
export function subtractDuration(instant: Date, d: Duration): Date {
  const ms = msOf(instant) - timePartMs(d);
  if (!hasCalendarPart(d)) return new Date(ms);
  const afterDays = shiftLocal(ms, 0, -(d.weeks * 7 + d.days));
  return new Date(shiftLocal(afterDays, -(d.years * 12 + d.months), 0));
}

/**
 * A time-only duration (`PT2M`, `PT1H30M`) in milliseconds.
 * @throws DomainError if it has calendar parts: a month or a day is not a fixed number of milliseconds on the calendar we keep
 */
export function durationToMs(d: Duration): number {
  if (hasCalendarPart(d)) {
    throw DomainError.of(
      'duration',
      `${formatDuration(d)} has calendar parts (years, months, weeks or days), which are not a fixed length; only time-only durations such as PT2M or PT1H30M convert to milliseconds (use addDuration instead)`,
    );
  }
  return timePartMs(d);
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** Display language: Vietnamese (default) or English. */
export type Lang = 'vi' | 'en';

/** An instant as local ISO-8601 with the offset: `2022-08-31T23:59:59.999+07:00`. */
export function toLocalIso(instant: Date | number): string {
  const { date, timeMs } = localParts(instant);
  const hh = Math.floor(timeMs / HOUR_MS);
  const mi = Math.floor((timeMs % HOUR_MS) / MINUTE_MS);
  const ss = Math.floor((timeMs % MINUTE_MS) / SECOND_MS);
  const ms = timeMs % SECOND_MS;
  return `${ymdText(date)}T${pad(hh)}:${pad(mi)}:${pad(ss)}.${pad(ms, 3)}+07:00`;
}

/** An instant as local date and time to the minute: vi `31/08/2022 23:59`, en `2022-08-31 23:59`. */
export function formatLocal(instant: Date | number, lang: Lang = 'vi'): string {
  const { date, timeMs } = localParts(instant);
  const clock = `${pad(Math.floor(timeMs / HOUR_MS))}:${pad(Math.floor((timeMs % HOUR_MS) / MINUTE_MS))}`;
  return `${formatYmd(date, lang)} ${clock}`;
}

function formatYmd(date: Ymd, lang: Lang): string {
  return lang === 'vi' ? `${pad(date.d)}/${pad(date.m)}/${pad(date.y, 4)}` : ymdText(date);
}

/** A local date: vi `31/08/2022`, en `2022-08-31`. */
export function formatLocalDate(d: LocalDate, lang: Lang = 'vi'): string {
  return formatYmd(ymdOf(d), lang);
}

const HUMAN_UNITS: ReadonlyArray<{ ms: number; vi: string; en: string }> = [
  { ms: DAY_MS, vi: 'ngày', en: 'day' },
  { ms: HOUR_MS, vi: 'giờ', en: 'hour' },
  { ms: MINUTE_MS, vi: 'phút', en: 'minute' },
  { ms: SECOND_MS, vi: 'giây', en: 'second' },
];

/**
 * A length of time for people (how late a unit is), in its largest two units, truncated:
 * vi `3 ngày 4 giờ`, `12 phút`, `45 giây`; en `3 days 4 hours`, `1 minute`. The second unit is
 * dropped when zero (`3 ngày`, not `3 ngày 0 giờ`); under a second is `0 giây`. Negative → `-…`.
 */
export function formatDurationHuman(ms: number, lang: Lang = 'vi'): string {
  if (!Number.isFinite(ms)) throw DomainError.of('duration', `not a finite number of milliseconds (got ${ms})`);
  let rest = Math.floor(Math.abs(ms));
  const counts = HUMAN_UNITS.map((u) => {
    const n = Math.floor(rest / u.ms);
    rest -= n * u.ms;
    return n;
  });
  const first = counts.findIndex((n) => n > 0);
  const word = (i: number): string => {
    const n = counts[i] ?? 0;
    const u = HUMAN_UNITS[i] as (typeof HUMAN_UNITS)[number];
    return lang === 'vi' ? `${n} ${u.vi}` : `${n} ${u.en}${n === 1 ? '' : 's'}`;
  };
  if (first < 0) return lang === 'vi' ? '0 giây' : '0 seconds';
  const parts = [word(first)];
  if ((counts[first + 1] ?? 0) > 0) parts.push(word(first + 1));
  return (ms < 0 ? '-' : '') + parts.join(' ');
}
