import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError } from '../../domain/errors';
import { VIETNAM_PUBLIC_HOLIDAYS, vietnamHolidayCalendar } from '../../domain/holidays';
import { domainError } from '../helpers/domain-error';
import {
  addDays,
  addDuration,
  addMonths,
  addWorkingDays,
  dayOfWeek,
  Duration,
  durationToMs,
  endOfLocalDay,
  endOfMonth,
  formatDuration,
  formatDurationHuman,
  formatLocal,
  formatLocalDate,
  isDateOnlyDuration,
  isWorkingDay,
  LocalDate,
  localDateOf,
  parseDeadlineText,
  parseDuration,
  startOfLocalDay,
  subtractDuration,
  TIME_ZONE,
  toLocalIso,
  UTC_OFFSET_MINUTES,
} from '../../domain/time';

const iso = (d: Date): string => d.toISOString();
const zero = { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0 };
const H = 3_600_000;

describe('constants', () => {
  it('is Asia/Ho_Chi_Minh, UTC+7', () => {
    expect(TIME_ZONE).toBe('Asia/Ho_Chi_Minh');
    expect(UTC_OFFSET_MINUTES).toBe(420);
  });
});

describe('LocalDate', () => {
  it('accepts real calendar dates only', () => {
    expect(LocalDate.safeParse('2024-02-29').success).toBe(true);
    expect(LocalDate.safeParse('2023-02-29').success).toBe(false);
    expect(LocalDate.safeParse('2022-04-31').success).toBe(false);
    expect(LocalDate.safeParse('2022-13-01').success).toBe(false);
    expect(LocalDate.safeParse('2022-8-1').success).toBe(false);
    expect(LocalDate.safeParse('31/08/2022').success).toBe(false);
  });
  it('says why a date is not on the calendar', () => {
    const r = LocalDate.safeParse('2023-02-29');
    expect(r.error?.issues[0]?.message).toBe('"2023-02-29" is not a calendar date: day 29 is out of range (February 2023 has 28 days)');
  });
});

describe('local days', () => {
  it('localDateOf uses UTC+7, not UTC', () => {
    expect(localDateOf(new Date('2022-08-31T16:59:59.999Z'))).toBe('2022-08-31');
    expect(localDateOf(new Date('2022-08-31T17:00:00.000Z'))).toBe('2022-09-01');
    expect(localDateOf(Date.UTC(2022, 11, 31, 17))).toBe('2023-01-01');
  });
  it('start and end of a local day', () => {
    expect(iso(startOfLocalDay('2022-09-01'))).toBe('2022-08-31T17:00:00.000Z');
    expect(iso(endOfLocalDay('2022-08-31'))).toBe('2022-08-31T16:59:59.999Z');
    expect(iso(endOfLocalDay('2024-02-29'))).toBe('2024-02-29T16:59:59.999Z');
  });
  it('rejects a bad LocalDate argument with a DomainError', () => {
    expect(domainError(() => endOfLocalDay('2022-02-30')).message).toContain('February 2022 has 28 days');
  });
  it('addDays crosses months, years and leap days', () => {
    expect(addDays('2022-08-31', 1)).toBe('2022-09-01');
    expect(addDays('2022-12-31', 1)).toBe('2023-01-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2023-02-28', 1)).toBe('2023-03-01');
    expect(addDays('2022-03-01', -1)).toBe('2022-02-28');
    expect(addDays('2022-01-01', 365)).toBe('2023-01-01');
  });
  it('addMonths clamps to the end of the month', () => {
    expect(addMonths('2022-01-31', 1)).toBe('2022-02-28');
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonths('2022-08-31', 1)).toBe('2022-09-30');
    expect(addMonths('2022-03-31', -1)).toBe('2022-02-28');
    expect(addMonths('2022-12-15', 1)).toBe('2023-01-15');
    expect(addMonths('2022-01-31', 13)).toBe('2023-02-28');
    expect(addMonths('2022-01-15', -13)).toBe('2020-12-15');
  });
  it('endOfMonth knows leap years', () => {
    expect(endOfMonth(2022, 2)).toBe('2022-02-28');
    expect(endOfMonth(2024, 2)).toBe('2024-02-29');
    expect(endOfMonth(2000, 2)).toBe('2000-02-29');
    expect(endOfMonth(2100, 2)).toBe('2100-02-28');
    expect(endOfMonth(2022, 9)).toBe('2022-09-30');
    expect(endOfMonth(2022, 12)).toBe('2022-12-31');
    expect(domainError(() => endOfMonth(2022, 13)).message).toBe('month: month 13 is out of range (expected 1–12)');
  });
  it('dayOfWeek: 0 is Sunday', () => {
    expect(dayOfWeek('2022-08-31')).toBe(3); // Wednesday
    expect(dayOfWeek('2023-01-22')).toBe(0); // Tết Quý Mão, a Sunday
    expect(dayOfWeek('2024-02-10')).toBe(6); // Tết Giáp Thìn, a Saturday
    expect(dayOfWeek('1970-01-01')).toBe(4);
    expect(dayOfWeek('1969-12-28')).toBe(0);
  });
});

describe('working days', () => {
  const vn = vietnamHolidayCalendar();
  it('weekends and holidays are not working days', () => {
    expect(isWorkingDay('2022-08-26', vn)).toBe(true); // Friday
    expect(isWorkingDay('2022-08-27', vn)).toBe(false); // Saturday
    expect(isWorkingDay('2022-08-28', vn)).toBe(false); // Sunday
    expect(isWorkingDay('2022-09-02', vn)).toBe(false); // Quốc khánh, a Friday
    expect(isWorkingDay('2022-09-02', new Set())).toBe(true);
  });
  it('skips a weekend', () => {
    expect(addWorkingDays('2022-08-26', 1, vn)).toBe('2022-08-29');
    expect(addWorkingDays('2022-08-27', 1, vn)).toBe('2022-08-29'); // strictly after a Saturday
    expect(addWorkingDays('2022-08-22', 5, vn)).toBe('2022-08-29');
  });
  it('skips Tết 2023 (20–26 Jan) and the weekend after it', () => {
    expect(addWorkingDays('2023-01-19', 1, new Set())).toBe('2023-01-20');
    expect(addWorkingDays('2023-01-19', 1, vn)).toBe('2023-01-27');
    expect(addWorkingDays('2023-01-19', 2, vn)).toBe('2023-01-30');
    expect(addWorkingDays('2023-01-16', 10, vn)).toBe('2023-02-06'); // 16 Jan + 3 days before Tết, Fri 27/1, then 6 more
  });
  it('skips Quốc khánh 2022 (1–2 Sep) and the weekend', () => {
    expect(addWorkingDays('2022-08-31', 1, vn)).toBe('2022-09-05');
  });
  it('adds extra holidays', () => {
    const cal = vietnamHolidayCalendar(['2022-08-29']);
    expect(addWorkingDays('2022-08-26', 1, cal)).toBe('2022-08-30');
    expect(domainError(() => vietnamHolidayCalendar(['2022-02-30'])).issues[0]?.path).toBe('holidays[0]');
  });
  it('rejects n < 1 and fractional n', () => {
    expect(domainError(() => addWorkingDays('2022-08-26', 0, vn)).message).toBe('workingDays: expected a whole number of working days ≥ 1, got 0');
    expect(() => addWorkingDays('2022-08-26', 1.5, vn)).toThrow(DomainError);
  });
});

describe('Vietnam public holidays', () => {
  it('covers 2022–2027 with valid, sorted, unique dates in their own year', () => {
    expect(Object.keys(VIETNAM_PUBLIC_HOLIDAYS).map(Number)).toEqual([2022, 2023, 2024, 2025, 2026, 2027]);
    for (const [year, days] of Object.entries(VIETNAM_PUBLIC_HOLIDAYS)) {
      for (const d of days) {
        expect(LocalDate.safeParse(d).success).toBe(true);
        // 2024's Quốc khánh break starts on 31/8; every day belongs to its year.
        expect(d.slice(0, 4)).toBe(year);
      }
      expect([...days].sort()).toEqual(days);
      expect(new Set(days).size).toBe(days.length);
    }
  });
  it('holds the statutory days every year', () => {
    for (const [year, days] of Object.entries(VIETNAM_PUBLIC_HOLIDAYS)) {
      for (const md of ['01-01', '04-30', '05-01', '09-02']) expect(days).toContain(`${year}-${md}`);
    }
  });
  it('holds Tết and Giỗ Tổ as computed for UTC+7', () => {
    const cal = vietnamHolidayCalendar();
    for (const d of ['2022-02-01', '2023-01-22', '2024-02-10', '2025-01-29', '2026-02-17', '2027-02-06']) expect(cal.has(d)).toBe(true);
    for (const d of ['2022-04-10', '2023-04-29', '2024-04-18', '2025-04-07', '2026-04-26', '2027-04-16']) expect(cal.has(d)).toBe(true);
    // Tết 2023: the five weekdays 20, 23, 24, 25, 26 Jan are off.
    expect(['2023-01-20', '2023-01-23', '2023-01-24', '2023-01-25', '2023-01-26'].every((d) => !isWorkingDay(d, cal))).toBe(true);
  });
});

describe('parseDeadlineText', () => {
  it('a month means the end of its last day, local time', () => {
    const p = parseDeadlineText('2022-08');
    expect(p.at.toISOString()).toBe('2022-08-31T16:59:59.999Z');
    expect(p).toMatchObject({ precision: 'month', label: '2022-08' });
    expect(parseDeadlineText('2024-02').at.toISOString()).toBe('2024-02-29T16:59:59.999Z');
    expect(parseDeadlineText('2022-11').at.toISOString()).toBe('2022-11-30T16:59:59.999Z');
  });
  it('a quarter ends on its last day', () => {
    expect(parseDeadlineText('2022-Q3').at.toISOString()).toBe('2022-09-30T16:59:59.999Z');
    expect(parseDeadlineText('2022-q1').at.toISOString()).toBe('2022-03-31T16:59:59.999Z');
    expect(parseDeadlineText('2022-Q2').at.toISOString()).toBe('2022-06-30T16:59:59.999Z');
    expect(parseDeadlineText('2022-Q4')).toMatchObject({ precision: 'quarter', label: '2022-Q4' });
    expect(parseDeadlineText('2022-Q4').at.toISOString()).toBe('2022-12-31T16:59:59.999Z');
  });
  it('a year ends on 31 Dec', () => {
    expect(parseDeadlineText('2022').at.toISOString()).toBe('2022-12-31T16:59:59.999Z');
    expect(parseDeadlineText('2022').precision).toBe('year');
  });
  it('a day, ISO or day-first', () => {
    expect(parseDeadlineText('2022-08-31')).toEqual({ at: new Date('2022-08-31T16:59:59.999Z'), precision: 'day', label: '2022-08-31' });
    expect(parseDeadlineText('31/08/2022')).toEqual({ at: new Date('2022-08-31T16:59:59.999Z'), precision: 'day', label: '2022-08-31' });
    expect(parseDeadlineText(' 1/9/2022 ').label).toBe('2022-09-01');
  });
  it('a local wall time is exact, UTC+7', () => {
    const p = parseDeadlineText('2022-08-31T17:00');
    expect(p.at.toISOString()).toBe('2022-08-31T10:00:00.000Z');
    expect(p).toMatchObject({ precision: 'instant', label: '2022-08-31T17:00:00.000+07:00' });
    expect(parseDeadlineText('2022-08-31T17:00:30').at.toISOString()).toBe('2022-08-31T10:00:30.000Z');
  });
  it('an instant with Z or an offset is exact', () => {
    expect(parseDeadlineText('2022-08-31T17:00:00Z').at.toISOString()).toBe('2022-08-31T17:00:00.000Z');
    expect(parseDeadlineText('2022-08-31T17:00:00.250+09:00').at.toISOString()).toBe('2022-08-31T08:00:00.250Z');
    expect(parseDeadlineText('2022-08-31T17:00:00-05:30').at.toISOString()).toBe('2022-08-31T22:30:00.000Z');
    expect(parseDeadlineText('2022-08-31T23:59:59.999+07:00').at.toISOString()).toBe('2022-08-31T16:59:59.999Z');
  });
  it('labels parse back to the same instant', () => {
    for (const t of ['2022-08', '2022-Q3', '2022', '31/08/2022', '2022-08-31T17:00', '2022-08-31T17:00:00Z']) {
      const p = parseDeadlineText(t);
      expect(parseDeadlineText(p.label).at.getTime()).toBe(p.at.getTime());
    }
  });
  it('rejects other text, naming it and listing the accepted forms', () => {
    const e = domainError(() => parseDeadlineText('end of August'));
    expect(e.issues).toEqual([{ path: 'deadline', message: expect.stringContaining('"end of August" is not a deadline (expected one of: 2022-08-31 or 31/08/2022') }]);
    expect(e.message).toContain('2022-Q3');
    expect(domainError(() => parseDeadlineText('')).message).toContain('is not a deadline');
    expect(domainError(() => parseDeadlineText('2022-13')).message).toBe('deadline: "2022-13": month 13 is out of range (expected 01–12)');
    expect(domainError(() => parseDeadlineText('2022-02-30')).message).toBe('deadline: "2022-02-30": not a calendar date: day 30 is out of range (February 2022 has 28 days)');
    expect(domainError(() => parseDeadlineText('31/02/2022')).message).toContain('February 2022 has 28 days');
    expect(domainError(() => parseDeadlineText('2022-Q5')).message).toBe('deadline: "2022-Q5": quarter 5 is out of range (expected Q1–Q4)');
    expect(domainError(() => parseDeadlineText('2022-08-31T24:00')).message).toContain('hour 24 is out of range');
    expect(() => parseDeadlineText('08/2022')).toThrow(DomainError);
  });
});

describe('durations', () => {
  it('parses the ISO-8601 forms', () => {
    expect(parseDuration('P30D')).toEqual({ ...zero, days: 30 });
    expect(parseDuration('P1Y')).toEqual({ ...zero, years: 1 });
    expect(parseDuration('P3M')).toEqual({ ...zero, months: 3 });
    expect(parseDuration('P2W')).toEqual({ ...zero, weeks: 2 });
    expect(parseDuration('PT2M')).toEqual({ ...zero, minutes: 2 });
    expect(parseDuration('PT90S')).toEqual({ ...zero, seconds: 90 });
    expect(parseDuration('P1DT2H')).toEqual({ ...zero, days: 1, hours: 2 });
    expect(parseDuration('P1Y2M3W4DT5H6M7S')).toEqual({ years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7 });
    expect(parseDuration('P0D')).toEqual(zero);
    expect(parseDuration('p7d')).toEqual({ ...zero, days: 7 });
  });
  it('rejects anything else with the accepted forms', () => {
    for (const bad of ['', 'P', 'PT', 'P1DT', '30D', 'P1.5D', 'P-1D', 'PT1D', 'P1H', '1 month']) {
      const e = domainError(() => parseDuration(bad));
      expect(e.issues[0]?.path).toBe('duration');
      expect(e.message).toContain(`"${bad}" is not a duration (expected an ISO-8601 duration`);
    }
  });
  it('the Duration schema parses text to parts and reports the reason', () => {
    expect(Duration.parse('P1DT2H')).toEqual({ ...zero, days: 1, hours: 2 });
    expect(Duration.safeParse('P1.5D').error?.issues[0]?.message).toContain('"P1.5D" is not a duration');
  });
  it('formats back to canonical text', () => {
    for (const t of ['P30D', 'P1Y', 'P3M', 'P2W', 'PT2M', 'PT90S', 'P1DT2H', 'P0D']) expect(formatDuration(parseDuration(t))).toBe(t);
  });
  it('isDateOnlyDuration', () => {
    expect(isDateOnlyDuration(parseDuration('P30D'))).toBe(true);
    expect(isDateOnlyDuration(parseDuration('P1M'))).toBe(true);
    expect(isDateOnlyDuration(parseDuration('P1DT2H'))).toBe(false);
    expect(isDateOnlyDuration(parseDuration('PT2M'))).toBe(false);
  });
  it('addDuration: P1M from the end of 31 Aug local is the end of 30 Sep local', () => {
    const end31Aug = endOfLocalDay('2022-08-31');
    expect(iso(addDuration(end31Aug, parseDuration('P1M')))).toBe('2022-09-30T16:59:59.999Z');
    expect(iso(addDuration(end31Aug, parseDuration('P30D')))).toBe('2022-09-30T16:59:59.999Z');
    expect(iso(addDuration(endOfLocalDay('2024-02-29'), parseDuration('P1Y')))).toBe('2025-02-28T16:59:59.999Z');
    expect(iso(addDuration(endOfLocalDay('2022-01-31'), parseDuration('P1M')))).toBe('2022-02-28T16:59:59.999Z');
  });
  it('addDuration works on the LOCAL calendar, keeping the local wall time', () => {
    // 2022-03-30T18:00Z is 31 Mar 01:00 local: + 1 month = 30 Apr 01:00 local (UTC arithmetic would give 30 Apr 18:00Z).
    expect(iso(addDuration(new Date('2022-03-30T18:00:00Z'), parseDuration('P1M')))).toBe('2022-04-29T18:00:00.000Z');
    expect(iso(addDuration(new Date('2022-08-31T16:00:00Z'), parseDuration('P1DT2H')))).toBe('2022-09-01T18:00:00.000Z');
    expect(iso(addDuration(new Date('2022-08-31T00:00:00Z'), parseDuration('P2W')))).toBe('2022-09-14T00:00:00.000Z');
    expect(iso(addDuration(new Date('2022-08-31T00:00:00Z'), parseDuration('PT90S')))).toBe('2022-08-31T00:01:30.000Z');
    expect(iso(addDuration(new Date('2022-08-31T00:00:00Z'), parseDuration('P0D')))).toBe('2022-08-31T00:00:00.000Z');
  });
  it('subtractDuration mirrors addDuration, clamping at month ends', () => {
    expect(iso(subtractDuration(endOfLocalDay('2022-09-30'), parseDuration('P1M')))).toBe('2022-08-30T16:59:59.999Z');
    expect(iso(subtractDuration(endOfLocalDay('2022-03-31'), parseDuration('P1M')))).toBe('2022-02-28T16:59:59.999Z');
    expect(iso(subtractDuration(endOfLocalDay('2022-08-31'), parseDuration('P7D')))).toBe('2022-08-24T16:59:59.999Z');
    expect(iso(subtractDuration(new Date('2022-08-31T10:00:00Z'), parseDuration('PT2M')))).toBe('2022-08-31T09:58:00.000Z');
    const at = new Date('2022-06-15T03:04:05Z');
    const d = parseDuration('P1DT2H');
    expect(subtractDuration(addDuration(at, d), d).getTime()).toBe(at.getTime());
  });
  it('durationToMs only for time-only durations', () => {
    expect(durationToMs(parseDuration('PT2M'))).toBe(120_000);
    expect(durationToMs(parseDuration('PT1H30M'))).toBe(5_400_000);
    expect(durationToMs(parseDuration('PT90S'))).toBe(90_000);
    const e = domainError(() => durationToMs(parseDuration('P1DT2H')));
    expect(e.message).toContain('P1DT2H has calendar parts');
  });
});

describe('formatting', () => {
  const end = endOfLocalDay('2022-08-31');
  it('toLocalIso', () => {
    expect(toLocalIso(end)).toBe('2022-08-31T23:59:59.999+07:00');
    expect(toLocalIso(new Date('2022-08-31T17:00:00Z'))).toBe('2022-09-01T00:00:00.000+07:00');
    expect(toLocalIso(Date.UTC(2022, 0, 1, 1, 2, 3, 4))).toBe('2022-01-01T08:02:03.004+07:00');
  });
  it('formatLocal in Vietnamese and English', () => {
    expect(formatLocal(end)).toBe('31/08/2022 23:59');
    expect(formatLocal(end, 'vi')).toBe('31/08/2022 23:59');
    expect(formatLocal(end, 'en')).toBe('2022-08-31 23:59');
    expect(formatLocal(new Date('2022-08-31T17:05:00Z'), 'en')).toBe('2022-09-01 00:05');
  });
  it('formatLocalDate', () => {
    expect(formatLocalDate('2022-08-31')).toBe('31/08/2022');
    expect(formatLocalDate('2022-08-31', 'en')).toBe('2022-08-31');
  });
  it('formatDurationHuman: the largest two units', () => {
    const ms = 3 * 24 * H + 4 * H + 5 * 60_000;
    expect(formatDurationHuman(ms)).toBe('3 ngày 4 giờ');
    expect(formatDurationHuman(ms, 'en')).toBe('3 days 4 hours');
    expect(formatDurationHuman(12 * 60_000 + 30_000)).toBe('12 phút 30 giây');
    expect(formatDurationHuman(12 * 60_000, 'vi')).toBe('12 phút');
    expect(formatDurationHuman(12 * 60_000, 'en')).toBe('12 minutes');
    expect(formatDurationHuman(45_000)).toBe('45 giây');
    expect(formatDurationHuman(45_900, 'en')).toBe('45 seconds');
    expect(formatDurationHuman(24 * H + 60_000, 'en')).toBe('1 day');
    expect(formatDurationHuman(H + 60_000, 'en')).toBe('1 hour 1 minute');
    expect(formatDurationHuman(400 * 24 * H)).toBe('400 ngày');
    expect(formatDurationHuman(0)).toBe('0 giây');
    expect(formatDurationHuman(0, 'en')).toBe('0 seconds');
    expect(formatDurationHuman(-2 * H, 'en')).toBe('-2 hours');
  });
});

describe('purity', () => {
  // Workflow code imports these modules: no Node built-ins, no clock, no time-zone database.
  it.each(['time.ts', 'holidays.ts', 'documents.ts', 'hierarchy.ts', 'errors.ts'])('%s is sandbox-safe', (file) => {
    // Comments may mention what is forbidden; check the code only.
    const src = readFileSync(join(__dirname, '../../domain', file), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    expect(src).not.toMatch(/from 'node:|require\(/);
    expect(src).not.toMatch(/new Date\(\)|Date\.now\(|Intl\.|Math\.random|toLocale|getHours|getDate\(|getTimezoneOffset/);
  });
});
