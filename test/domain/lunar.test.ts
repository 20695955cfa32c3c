import { hungKingsDate, leapMonthOf, lunarToSolar, tetDate } from '../../domain/lunar';
import { dayOfWeek } from '../../domain/time';

describe('the Vietnamese lunar calendar (UTC+7)', () => {
  it.each([
    [2022, '2022-02-01'],
    [2023, '2023-01-22'],
    [2024, '2024-02-10'],
    [2025, '2025-01-29'],
    [2026, '2026-02-17'],
    [2027, '2027-02-06'],
    [2028, '2028-01-26'],
    [2029, '2029-02-13'],
    // Not 2030-02-03: the new moon is at 16:07 UTC on 2 February 2030, 23:07 in Hà Nội but 00:07 on
    // 3 February in Beijing, so Tết Canh Tuất is a day before Chinese New Year (see the UTC+8 test below).
    [2030, '2030-02-02'],
  ])('Tết %i (mùng 1 tháng Giêng) is %s', (year, date) => {
    expect(tetDate(year)).toBe(date);
  });

  it.each([
    [2022, '2022-04-10'],
    [2023, '2023-04-29'], // after tháng 2 nhuận
    [2024, '2024-04-18'],
    [2025, '2025-04-07'],
    [2026, '2026-04-26'],
    [2027, '2027-04-16'],
  ])('Giỗ Tổ Hùng Vương %i (10/3 âm lịch) is %s', (year, date) => {
    expect(hungKingsDate(year)).toBe(date);
  });

  it('uses the UTC+7 meridian: Tết 1985 was 21 January in Vietnam (20 February in China)', () => {
    expect(tetDate(1985)).toBe('1985-01-21');
    expect(tetDate(1985, 8)).toBe('1985-02-20');
  });

  it('puts Tết 2030 on 2 February in Vietnam, 3 February (Chinese New Year) at UTC+8', () => {
    expect(tetDate(2030)).toBe('2030-02-02');
    expect(tetDate(2030, 8)).toBe('2030-02-03');
    // 2007 differed too: 17 February in Vietnam, 18 February in China.
    expect(tetDate(2007)).toBe('2007-02-17');
    expect(tetDate(2007, 8)).toBe('2007-02-18');
  });

  it('finds the leap months: tháng 2 nhuận 2023, tháng 6 nhuận 2025, tháng 5 nhuận 2028, none in 2024', () => {
    expect(leapMonthOf(2023)).toEqual({ month: 2 });
    expect(leapMonthOf(2025)).toEqual({ month: 6 });
    expect(leapMonthOf(2028)).toEqual({ month: 5 });
    expect(leapMonthOf(2024)).toBeUndefined();
    expect(lunarToSolar(1, 2, 2023)).toBe('2023-02-20');
    expect(lunarToSolar(1, 2, 2023, true)).toBe('2023-03-22');
    expect(lunarToSolar(1, 3, 2023)).toBe('2023-04-20');
    expect(lunarToSolar(1, 6, 2025, true)).toBe('2025-07-25');
  });

  it('puts tháng Chạp and the last day of the year (giao thừa) before Tết', () => {
    // Lunar 2023 (Quý Mão) ends on 30 tháng Chạp = 2024-02-09, the eve of Tết Giáp Thìn.
    expect(lunarToSolar(30, 12, 2023)).toBe('2024-02-09');
    // Lunar 2024 has a 29-day tháng Chạp: giao thừa is 29 Chạp = 2025-01-28.
    expect(lunarToSolar(29, 12, 2024)).toBe('2025-01-28');
    expect(() => lunarToSolar(30, 12, 2024)).toThrow(RangeError);
  });

  it('refuses a leap month the year does not have, and years outside 1800–2199', () => {
    expect(() => lunarToSolar(1, 3, 2023, true)).toThrow(/no leap month 3/);
    expect(() => lunarToSolar(1, 1, 2024, true)).toThrow(/no leap month/);
    expect(() => tetDate(1700)).toThrow(RangeError);
    expect(() => tetDate(2024.5)).toThrow(RangeError);
  });

  it('gives a mùng 1 Tết between 21 January and 20 February every year 1900–2199', () => {
    for (let y = 1900; y <= 2199; y++) {
      const d = tetDate(y);
      expect(d >= `${y}-01-21` && d <= `${y}-02-20`).toBe(true);
      expect(dayOfWeek(d)).toBeGreaterThanOrEqual(0);
    }
  });
});
