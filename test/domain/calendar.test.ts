import {
  calendarDays,
  CalendarFile,
  coverage,
  explainWorkingDays,
  officialVietnamCalendar,
  OFFICIAL_VIETNAM_CALENDAR_ID,
  parseCalendarFile,
  statutoryVietnamDays,
  type Calendar,
} from '../../domain/calendar';
import { DomainError } from '../../domain/errors';
import { VIETNAM_MAKEUP_WORKING_DAYS, VIETNAM_PUBLIC_HOLIDAYS, vietnamHolidayCalendar } from '../../domain/holidays';
import { addDays, addWorkingDays, daysBetween, isWorkingDay, type HolidayCalendar } from '../../domain/time';
import { domainError } from '../helpers/domain-error';

function eachDay(from: string, through: string, f: (d: string) => void): void {
  for (let d = from; d <= through; d = addDays(d, 1)) f(d);
}

const official = officialVietnamCalendar();
const officialDays = calendarDays(official);
const legacy = vietnamHolidayCalendar();

describe('isWorkingDay with make-up working days (time.ts)', () => {
  it('counts a weekend day the calendar works on, and nothing else changes', () => {
    const cal: HolidayCalendar = { has: (d) => d === '2024-04-29', worksOn: (d) => d === '2024-05-04' };
    expect(isWorkingDay('2024-05-04', cal)).toBe(true); // Saturday, ngày làm bù
    expect(isWorkingDay('2024-05-05', cal)).toBe(false); // Sunday
    expect(isWorkingDay('2024-04-29', cal)).toBe(false); // Monday off
    expect(isWorkingDay('2024-05-06', cal)).toBe(true);
    expect(addWorkingDays('2024-05-03', 1, cal)).toBe('2024-05-04');
  });

  it('counts the days between two dates (daysBetween)', () => {
    expect(daysBetween('2024-02-28', '2024-03-01')).toBe(2);
    expect(daysBetween('2024-03-01', '2024-02-28')).toBe(-2);
    expect(daysBetween('2022-01-01', '2030-01-01')).toBe(2922);
    expect(() => daysBetween('2024-02-30', '2024-03-01')).toThrow(DomainError);
  });

  it('leaves the legacy Set as it was: every Saturday off, including the make-up Saturday 4/5/2024', () => {
    expect(isWorkingDay('2024-05-04', legacy)).toBe(false);
    expect(addWorkingDays('2024-05-03', 1, legacy)).toBe('2024-05-06');
    expect(addWorkingDays('2024-05-03', 1, officialDays)).toBe('2024-05-04');
  });
});

describe('officialVietnamCalendar', () => {
  it('is a valid calendar file covering 2022–2040: 2022–2026 announced, 2027 on provisional', () => {
    expect(() => CalendarFile.parse(JSON.parse(JSON.stringify(official)))).not.toThrow();
    expect(official.id).toBe(OFFICIAL_VIETNAM_CALENDAR_ID);
    expect(official.years.map((y) => y.year)).toEqual(Array.from({ length: 19 }, (_, i) => 2022 + i));
    expect(official.years.filter((y) => y.status === 'announced').map((y) => y.year)).toEqual([2022, 2023, 2024, 2025, 2026]);
    expect(official.days.filter((d) => d.kind === 'working').map((d) => d.date)).toEqual(['2024-05-04', '2025-02-08', '2025-04-26']);
    expect(officialVietnamCalendar(2030).years.at(-1)).toEqual({ year: 2030, status: 'provisional' });
  });

  it('gives the same working days as the legacy Set for 2022–2027, except the make-up Saturdays (replay safety)', () => {
    const differences: string[] = [];
    eachDay('2022-01-01', '2027-12-31', (d) => {
      if (isWorkingDay(d, legacy) !== isWorkingDay(d, officialDays)) differences.push(d);
    });
    expect(differences).toEqual(Object.values(VIETNAM_MAKEUP_WORKING_DAYS).flat());
    for (const d of differences) expect([isWorkingDay(d, legacy), isWorkingDay(d, officialDays)]).toEqual([false, true]);
  });

  it('lists every day of holidays.ts with a note', () => {
    for (const [year, dates] of Object.entries(VIETNAM_PUBLIC_HOLIDAYS)) {
      for (const date of dates) expect([year, officialDays.dayOf(date)?.kind]).toEqual([year, 'off']);
    }
    expect(officialDays.dayOf('2024-02-10')?.note).toBe('Tết Nguyên đán: mùng 1 Tết');
    expect(officialDays.dayOf('2024-02-09')?.note).toBe('Tết Nguyên đán: giao thừa (30 tháng Chạp)');
    expect(officialDays.dayOf('2025-04-07')?.note).toBe('Giỗ Tổ Hùng Vương (10/3 âm lịch)');
    expect(officialDays.dayOf('2025-02-08')?.note).toMatch(/^Ngày làm bù: thứ Bảy 08\/02\/2025 .*thứ Hai 27\/01\/2025/);
  });

  it('stops counting Tết as working days from 2028 (the bug of the compiled list)', () => {
    // Tết Mậu Thân: mùng 1 = Wednesday 26/1/2028.
    expect(addWorkingDays('2028-01-24', 1, legacy)).toBe('2028-01-25');
    expect(addWorkingDays('2028-01-24', 1, officialDays)).toBe('2028-02-01');
    expect(coverage(official, '2028-01-26')).toBe('provisional');
  });

  it('does not let throughYear change the days of a year', () => {
    const short = officialVietnamCalendar(2029);
    expect(short.days).toEqual(official.days.filter((d) => d.date < '2030-01-01'));
    expect(officialVietnamCalendar(2022).years).toEqual([{ year: 2022, status: 'announced' }]);
    expect(domainError(() => officialVietnamCalendar(2021)).issues[0]?.path).toBe('throughYear');
    expect(domainError(() => officialVietnamCalendar(2200)).issues[0]?.path).toBe('throughYear');
    expect(domainError(() => officialVietnamCalendar(2030.5)).issues[0]?.path).toBe('throughYear');
  });
});

describe('statutoryVietnamDays (Bộ luật Lao động 2019, Điều 112)', () => {
  const offDates = (year: number): string[] => statutoryVietnamDays(year).map((d) => d.date);

  it('computes 2028: 1/1 on a Saturday, Tết giao thừa–mùng 4 with a Saturday, 30/4 on a Sunday, 2/9 on a Saturday', () => {
    expect(offDates(2028)).toEqual([
      '2028-01-01',
      '2028-01-03', // nghỉ bù for Saturday 1/1
      '2028-01-25', // giao thừa (29 tháng Chạp)
      '2028-01-26', // mùng 1
      '2028-01-27',
      '2028-01-28',
      '2028-01-29', // mùng 4, a Saturday
      '2028-01-31', // its nghỉ bù, Monday
      '2028-04-04', // Giỗ Tổ, Tuesday
      '2028-04-30', // Sunday
      '2028-05-01', // Monday
      '2028-05-02', // nghỉ bù for 30/4 (the Monday is already off)
      '2028-09-01', // Friday, the adjacent day
      '2028-09-02', // Saturday
      '2028-09-04', // nghỉ bù, Monday
    ]);
    expect(statutoryVietnamDays(2028).find((d) => d.date === '2028-01-31')?.note).toBe('Nghỉ bù cho Tết Nguyên đán: 29/01/2028 là thứ Bảy');
  });

  it('computes 2029 and 2030 with the right Tết (13/2/2029; 2/2/2030 in UTC+7)', () => {
    expect(offDates(2029).filter((d) => d < '2029-03-01')).toEqual(['2029-01-01', '2029-02-12', '2029-02-13', '2029-02-14', '2029-02-15', '2029-02-16']);
    // Tết 2030: giao thừa Friday 1/2, mùng 1 Saturday 2/2 … mùng 4 Tuesday 5/2; Saturday and Sunday give Wednesday 6/2 and Thursday 7/2.
    expect(offDates(2030).filter((d) => d >= '2030-02-01' && d < '2030-03-01')).toEqual(['2030-02-01', '2030-02-02', '2030-02-03', '2030-02-04', '2030-02-05', '2030-02-06', '2030-02-07']);
  });

  it('reproduces the working days of 2027 in holidays.ts, which are the statutory days with nghỉ bù', () => {
    const computed = new Set(offDates(2027));
    eachDay('2027-01-01', '2027-12-31', (d) => expect([d, isWorkingDay(d, computed)]).toEqual([d, isWorkingDay(d, legacy)]));
  });

  it('takes 3/9 as the adjacent day when 2/9 is a Monday or Thursday, 1/9 otherwise', () => {
    expect(offDates(2030).filter((d) => d.startsWith('2030-09'))).toEqual(['2030-09-02', '2030-09-03']); // Monday
    expect(offDates(2032).filter((d) => d.startsWith('2032-09'))).toEqual(['2032-09-02', '2032-09-03']); // Thursday
    expect(offDates(2031).filter((d) => d.startsWith('2031-09'))).toEqual(['2031-09-01', '2031-09-02']); // Tuesday
    expect(offDates(2033).filter((d) => d.startsWith('2033-09'))).toEqual(['2033-09-01', '2033-09-02']); // Friday
    // Sunday 2/9/2029: Monday 3/9 is the adjacent day, and the Sunday's nghỉ bù is Tuesday 4/9.
    expect(offDates(2029).filter((d) => d.startsWith('2029-09'))).toEqual(['2029-09-02', '2029-09-03', '2029-09-04']);
    // Saturday 2/9/2034: Friday 1/9, and nghỉ bù Monday 4/9 (as in 2023).
    expect(offDates(2034).filter((d) => d.startsWith('2034-09'))).toEqual(['2034-09-01', '2034-09-02', '2034-09-04']);
  });
});

describe('the calendar file', () => {
  const good = (): Calendar => ({
    id: 'vn-test',
    version: 1,
    days: [
      { date: '2031-01-01', kind: 'off', note: 'Tết Dương lịch' },
      { date: '2031-01-04', kind: 'working', note: 'Ngày làm bù' },
    ],
    years: [{ year: 2031, status: 'provisional' }],
  });
  const issues = (patch: (c: Calendar) => unknown): Array<{ path: string; message: string }> => [...domainError(() => parseCalendarFile(patch(good()))).issues];

  it('accepts a good file', () => {
    expect(parseCalendarFile(good())).toEqual(good());
  });

  it('names a bad date', () => {
    const got = issues((c) => ({ ...c, days: [{ date: '2031-02-30', kind: 'off', note: 'x' }] }));
    expect(got[0]?.path).toBe('days[0].date');
    expect(got[0]?.message).toMatch(/February 2031 has 28 days/);
  });

  it('refuses a working day that is not a weekend', () => {
    const got = issues((c) => ({ ...c, days: [{ date: '2031-01-06', kind: 'working', note: 'x' }] }));
    expect(got).toEqual([{ path: 'days[0].kind', message: expect.stringMatching(/2031-01-06 is a Monday: only a Saturday or Sunday/) }]);
  });

  it('refuses a date outside its listed years', () => {
    const got = issues((c) => ({ ...c, days: [...c.days, { date: '2032-01-01', kind: 'off', note: 'x' }] }));
    expect(got).toEqual([{ path: 'days[2].date', message: "2032-01-01 is outside the calendar's years (2032 is not in years)" }]);
  });

  it('refuses duplicate dates and duplicate years', () => {
    expect(issues((c) => ({ ...c, days: [...c.days, { date: '2031-01-01', kind: 'off', note: 'again' }] }))).toEqual([{ path: 'days[2].date', message: '2031-01-01 is listed twice (also days[0])' }]);
    expect(issues((c) => ({ ...c, years: [...c.years, { year: 2031, status: 'announced' }] }))).toEqual([{ path: 'years[1].year', message: 'year 2031 is listed twice (also years[0])' }]);
  });

  it('refuses unknown fields, a bad kind or status, an empty or two-line note, a bad id or version', () => {
    expect(issues((c) => ({ ...c, extra: 1 }))[0]?.message).toMatch(/extra/);
    expect(issues((c) => ({ ...c, days: [{ date: '2031-01-01', kind: 'holiday', note: 'x' }] }))[0]?.path).toBe('days[0].kind');
    expect(issues((c) => ({ ...c, years: [{ year: 2031, status: 'maybe' }] }))[0]?.path).toBe('years[0].status');
    expect(issues((c) => ({ ...c, days: [{ date: '2031-01-01', kind: 'off', note: ' ' }] }))[0]?.path).toBe('days[0].note');
    expect(issues((c) => ({ ...c, days: [{ date: '2031-01-01', kind: 'off', note: 'a\nb' }] }))[0]?.path).toBe('days[0].note');
    expect(issues((c) => ({ ...c, id: 'Has Spaces' }))[0]?.path).toBe('id');
    expect(issues((c) => ({ ...c, version: 0 }))[0]?.path).toBe('version');
    expect(issues((c) => ({ ...c, years: [] }))[0]?.path).toBe('years');
  });

  it('says what a calendar knows about a date', () => {
    expect(coverage(official, '2026-05-01')).toBe('announced');
    expect(coverage(official, '2027-02-06')).toBe('provisional');
    expect(coverage(official, '2041-01-01')).toBe('uncovered');
    expect(domainError(() => coverage(official, '2026-13-01')).issues[0]?.path).toBe('date');
  });

  it('works with an edited calendar: make-up days, days off, and the rest of the weekends', () => {
    const days = calendarDays(good());
    expect(days.has('2031-01-01')).toBe(true);
    expect(days.worksOn('2031-01-04')).toBe(true);
    expect(days.makeUpDays()).toEqual(['2031-01-04']);
    // Wednesday 1/1 is off; Thursday 2, Friday 3 and the make-up Saturday 4 count; Sunday 5 stays off.
    expect(addWorkingDays('2030-12-31', 3, days)).toBe('2031-01-04');
    expect(addWorkingDays('2030-12-31', 4, days)).toBe('2031-01-06');
    expect(isWorkingDay('2031-01-05', days)).toBe(false);
    expect(isWorkingDay('2031-01-11', days)).toBe(false);
  });
});

describe('explainWorkingDays', () => {
  it('explains 3 working days after Friday 26/4/2024: the 30/4–1/5 break, then the make-up Saturday 4/5', () => {
    const e = explainWorkingDays('2024-04-26', 3, official);
    expect(e.date).toBe('2024-05-04');
    expect(e.date).toBe(addWorkingDays('2024-04-26', 3, officialDays));
    expect(e.days.map((d) => [d.date, d.reason])).toEqual([
      ['2024-04-27', 'holiday'],
      ['2024-04-28', 'holiday'],
      ['2024-04-29', 'holiday'],
      ['2024-04-30', 'holiday'],
      ['2024-05-01', 'holiday'],
      ['2024-05-02', 'weekday'],
      ['2024-05-03', 'weekday'],
      ['2024-05-04', 'makeUp'],
    ]);
    expect(e.skipped.map((d) => d.date)).toEqual(['2024-04-27', '2024-04-28', '2024-04-29', '2024-04-30', '2024-05-01']);
    expect(e.skipped[3]?.note).toBe('Ngày Chiến thắng (30/4)');
    expect(e.makeUpCounted.map((d) => d.date)).toEqual(['2024-05-04']);
    expect(e.makeUpCounted[0]?.note).toMatch(/^Ngày làm bù/);
    expect([e.provisional, e.uncovered, e.uncertainYears]).toEqual([false, false, []]);
    expect(e.calendar).toEqual({ id: 'vn-official', version: 1 });
  });

  it('tells plain weekends from holidays', () => {
    const e = explainWorkingDays('2024-06-07', 1, official); // Friday
    expect(e.days.map((d) => [d.date, d.reason, d.counted])).toEqual([
      ['2024-06-08', 'weekend', false],
      ['2024-06-09', 'weekend', false],
      ['2024-06-10', 'weekday', true],
    ]);
    expect(e.skipped[0]?.note).toBeUndefined();
  });

  it('flags a count that runs into a provisional year', () => {
    const e = explainWorkingDays('2026-12-30', 3, official);
    expect(e.date).toBe('2027-01-05');
    expect(e.skipped.map((d) => [d.date, d.reason])).toEqual([
      ['2027-01-01', 'holiday'],
      ['2027-01-02', 'weekend'],
      ['2027-01-03', 'weekend'],
    ]);
    expect([e.provisional, e.uncovered]).toEqual([true, false]);
    expect(e.uncertainYears).toEqual([{ year: 2027, coverage: 'provisional' }]);
  });

  it('flags a count that runs past the calendar', () => {
    const e = explainWorkingDays('2040-12-28', 3, official);
    expect(e.date).toBe('2041-01-02');
    expect([e.provisional, e.uncovered]).toEqual([true, true]);
    expect(e.uncertainYears).toEqual([
      { year: 2040, coverage: 'provisional' },
      { year: 2041, coverage: 'uncovered' },
    ]);
  });

  it('always lands where addWorkingDays does', () => {
    for (let i = 0; i < 200; i++) {
      const from = addDays('2022-01-01', (i * 97) % 6500);
      const n = 1 + ((i * 7) % 40);
      expect([from, n, explainWorkingDays(from, n, official).date]).toEqual([from, n, addWorkingDays(from, n, officialDays)]);
    }
  });

  it('refuses a bad start, a bad count, and a calendar with no working day in ten years', () => {
    const allOff: Calendar = { id: 'all-off', version: 1, days: [], years: [] };
    for (let y = 2031; y <= 2041; y++) allOff.years.push({ year: y, status: 'announced' });
    eachDay('2031-01-01', '2031-12-31', (d) => void allOff.days.push({ date: d, kind: 'off', note: 'nghỉ' }));
    // One year off: the count ends on the first weekday of 2032.
    expect(explainWorkingDays('2030-12-31', 1, allOff).date).toBe('2032-01-01');
    eachDay('2032-01-01', '2041-12-31', (d) => void allOff.days.push({ date: d, kind: 'off', note: 'nghỉ' }));
    expect(domainError(() => explainWorkingDays('2030-12-31', 1, allOff)).issues[0]?.path).toBe('holidays');
    expect(domainError(() => addWorkingDays('2030-12-31', 1, calendarDays(allOff))).issues[0]?.path).toBe('holidays');
    expect(domainError(() => explainWorkingDays('2024-02-30', 1, official)).issues[0]?.path).toBe('from');
    expect(domainError(() => explainWorkingDays('2024-02-01', 0, official)).issues[0]?.path).toBe('workingDays');
    expect(domainError(() => explainWorkingDays('2024-02-01', 1.5, official)).issues[0]?.path).toBe('workingDays');
  });
});
