/**
 * The Vietnamese lunisolar calendar (âm lịch), for the holidays that follow it: Tết Nguyên đán
 * (mùng 1 tháng Giêng, lunar 1/1) and Giỗ Tổ Hùng Vương (lunar 10/3).
 *
 * Method: Hồ Ngọc Đức's well-known algorithm ("Thuật toán tính âm lịch"), which is how Vietnamese
 * calendars are printed. A lunar month starts on the local day of a new moon; the month containing
 * the winter solstice is tháng 11 (tháng Một); a lunar year with 13 months has a leap month (tháng
 * nhuận), the first month after tháng 11 that contains no major solar term (trung khí). New moons
 * come from Meeus' series (accurate to minutes for 1800–2200), sun longitudes from a short solar
 * series, both read on the local day in UTC+7. Vietnam and China use different meridians
 * (UTC+7 vs UTC+8), which is why Tết sometimes differs (1985: 21/1 in Vietnam, 20/2 in China).
 *
 * Pure: integer day numbers and `Math` only, no Date, no time-zone database.
 */
import { addDays, type LocalDate } from './time';

/** Vietnam's time zone for the lunar calendar, in hours east of UTC (China's calendar uses 8). */
export const LUNAR_UTC_OFFSET_HOURS = 7;

/** Mean length of a synodic month (new moon to new moon), in days. */
const SYNODIC_MONTH = 29.530588853;
/** The Julian day of the new moon of 1 January 1900 (13:52 UT), Meeus' k = 0. */
const NEW_MOON_EPOCH_JD = 2415021.076998695;
/** The Julian day number of 1970-01-01, the zero of `time.ts` day numbers. */
const UNIX_EPOCH_JDN = 2_440_588;

const RAD = Math.PI / 180;

/** The lunar calendar only makes sense where the astronomical series are accurate. */
const MIN_YEAR = 1800;
const MAX_YEAR = 2199;

function checkYear(year: number): void {
  if (!Number.isSafeInteger(year) || year < MIN_YEAR || year > MAX_YEAR) throw new RangeError(`lunar year ${year} is outside ${MIN_YEAR}–${MAX_YEAR}`);
}

/** Julian day number (noon-based, integer) of a proleptic Gregorian date. */
function julianDayNumber(y: number, m: number, d: number): number {
  const a = Math.floor((14 - m) / 12);
  const yy = y + 4800 - a;
  const mm = m + 12 * a - 3;
  return d + Math.floor((153 * mm + 2) / 5) + 365 * yy + Math.floor(yy / 4) - Math.floor(yy / 100) + Math.floor(yy / 400) - 32_045;
}

/** The local date of a Julian day number. */
function dateOfJulianDay(jdn: number): LocalDate {
  return addDays('1970-01-01', jdn - UNIX_EPOCH_JDN);
}

/**
 * The local Julian day number (UTC+`tz` hours) of the `k`-th new moon after the epoch of 1900-01-01
 * (Meeus, Astronomical Algorithms, chapter 49, truncated series, with ΔT).
 */
function newMoonDay(k: number, tz: number): number {
  const t = k / 1236.85; // Julian centuries since 1900
  const t2 = t * t;
  const t3 = t2 * t;
  let mean = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3;
  mean += 0.00033 * Math.sin((166.56 + 132.87 * t - 0.009173 * t2) * RAD);
  const sunAnomaly = (359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3) * RAD;
  const moonAnomaly = (306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3) * RAD;
  const latitude = (21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3) * RAD;
  const correction =
    (0.1734 - 0.000393 * t) * Math.sin(sunAnomaly) +
    0.0021 * Math.sin(2 * sunAnomaly) -
    0.4068 * Math.sin(moonAnomaly) +
    0.0161 * Math.sin(2 * moonAnomaly) -
    0.0004 * Math.sin(3 * moonAnomaly) +
    0.0104 * Math.sin(2 * latitude) -
    0.0051 * Math.sin(sunAnomaly + moonAnomaly) -
    0.0074 * Math.sin(sunAnomaly - moonAnomaly) +
    0.0004 * Math.sin(2 * latitude + sunAnomaly) -
    0.0004 * Math.sin(2 * latitude - sunAnomaly) -
    0.0006 * Math.sin(2 * latitude + moonAnomaly) +
    0.001 * Math.sin(2 * latitude - moonAnomaly) +
    0.0005 * Math.sin(sunAnomaly + 2 * moonAnomaly);
  // ΔT (terrestrial minus universal time), in days.
  const deltaT = t < -11 ? 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3 : -0.000278 + 0.000265 * t + 0.000262 * t2;
  const jd = mean + correction - deltaT;
  return Math.floor(jd + 0.5 + tz / 24);
}

/**
 * Which twelfth of the ecliptic the sun is in at local midnight starting Julian day `jdn`:
 * 0 for longitude 0°–30° (from the March equinox) … 11 for 330°–360°. Each section starts at a
 * major solar term (trung khí); section 9 starts at the winter solstice (Đông chí, 270°).
 */
function sunSection(jdn: number, tz: number): number {
  const t = (jdn - 2451545.5 - tz / 24) / 36525; // Julian centuries since J2000
  const t2 = t * t;
  const anomaly = (357.5291 + 35999.0503 * t - 0.0001559 * t2 - 0.00000048 * t * t2) * RAD;
  const meanLongitude = 280.46645 + 36000.76983 * t + 0.0003032 * t2;
  const centre = (1.9146 - 0.004817 * t - 0.000014 * t2) * Math.sin(anomaly) + (0.019993 - 0.000101 * t) * Math.sin(2 * anomaly) + 0.00029 * Math.sin(3 * anomaly);
  let longitude = (meanLongitude + centre) * RAD;
  longitude -= 2 * Math.PI * Math.floor(longitude / (2 * Math.PI));
  return Math.floor((longitude / Math.PI) * 6);
}

/** The Meeus index `k` of the new moon that starts the lunar month beginning on Julian day `jdn`. */
function lunationOf(jdn: number): number {
  return Math.floor((jdn - NEW_MOON_EPOCH_JD) / SYNODIC_MONTH + 0.5);
}

/** Julian day number of mùng 1 tháng 11 (the month holding the winter solstice) of solar year `y`. */
function month11Start(y: number, tz: number): number {
  const k = Math.floor((julianDayNumber(y, 12, 31) - 2415021) / SYNODIC_MONTH);
  const candidate = newMoonDay(k, tz);
  // If that new moon is already past the solstice, tháng 11 began one lunation earlier.
  return sunSection(candidate, tz) >= 9 ? newMoonDay(k - 1, tz) : candidate;
}

/**
 * In a 13-month lunar year starting at tháng 11 on `start11`, how many months after tháng 11 the
 * leap month comes: the first month during which the sun stays in one section (no trung khí).
 */
function leapOffset(start11: number, tz: number): number {
  const k = lunationOf(start11);
  let i = 1;
  let section = sunSection(newMoonDay(k + i, tz), tz);
  let previous: number;
  do {
    previous = section;
    i += 1;
    section = sunSection(newMoonDay(k + i, tz), tz);
  } while (section !== previous && i < 14);
  return i - 1;
}

/** The leap month of a lunar year. */
export interface LeapMonth {
  /** The month it repeats: `4` means "tháng 4 nhuận" comes after tháng 4. */
  month: number;
}

/** The tháng 11 starts bracketing the lunar months numbered in `lunarYear` (tháng 11 and 12 belong to the lunar year they end). */
function bracket(lunarMonth: number, lunarYear: number, tz: number): { a11: number; b11: number } {
  return lunarMonth < 11 ? { a11: month11Start(lunarYear - 1, tz), b11: month11Start(lunarYear, tz) } : { a11: month11Start(lunarYear, tz), b11: month11Start(lunarYear + 1, tz) };
}

/**
 * The leap month (tháng nhuận) between tháng 11 of `lunarYear - 1` and tháng 11 of `lunarYear`, if
 * any: e.g. 2023 has tháng 2 nhuận, 2025 tháng 6 nhuận, 2028 tháng 5 nhuận. Undefined in a 12-month span.
 * (A leap 11 or 12 in that span, which is rare, belongs to lunar year `lunarYear - 1`.)
 * @throws RangeError if the year is outside 1800–2199
 */
export function leapMonthOf(lunarYear: number, utcOffsetHours = LUNAR_UTC_OFFSET_HOURS): LeapMonth | undefined {
  checkYear(lunarYear);
  const { a11, b11 } = bracket(1, lunarYear, utcOffsetHours);
  if (b11 - a11 <= 365) return undefined;
  const month = (((leapOffset(a11, utcOffsetHours) - 2) % 12) + 12) % 12;
  return { month: month === 0 ? 12 : month };
}

/**
 * The solar (Gregorian) date of lunar day `day` of month `month` of lunar year `year`, in UTC+7.
 * `leap` asks for the leap month of that number (tháng nhuận). `utcOffsetHours` is for comparison
 * only (8 gives the Chinese calendar); every holiday uses Vietnam's 7.
 *
 * Months 11 and 12 (tháng Một, tháng Chạp) belong to the lunar year they end: lunar 30/12/2022
 * is in January 2023 if the lunar year 2022 runs that late.
 *
 * @throws RangeError if the year is outside 1800–2199, the day or month is out of range, or
 *   `leap` names a month that is not the leap month of that year
 */
export function lunarToSolar(day: number, month: number, year: number, leap = false, utcOffsetHours = LUNAR_UTC_OFFSET_HOURS): LocalDate {
  const tz = utcOffsetHours;
  if (!Number.isFinite(tz) || tz < -12 || tz > 14) throw new RangeError(`UTC offset ${tz} hours is out of range (-12 to 14)`);
  checkYear(year);
  if (!Number.isSafeInteger(month) || month < 1 || month > 12) throw new RangeError(`lunar month ${month} is out of range (1–12)`);
  if (!Number.isSafeInteger(day) || day < 1 || day > 30) throw new RangeError(`lunar day ${day} is out of range (1–30)`);
  const { a11, b11 } = bracket(month, year, tz);
  let offset = (month - 11 + 12) % 12; // months after tháng 11
  if (b11 - a11 > 365) {
    const leapOff = leapOffset(a11, tz);
    const leapMonth = (((leapOff - 2) % 12) + 12) % 12 || 12;
    if (leap && month !== leapMonth) throw new RangeError(`lunar year ${year} has no leap month ${month} (its leap month is ${leapMonth})`);
    if (leap || offset >= leapOff) offset += 1;
  } else if (leap) {
    throw new RangeError(`lunar year ${year} has no leap month`);
  }
  const start = newMoonDay(lunationOf(a11) + offset, tz);
  const next = newMoonDay(lunationOf(a11) + offset + 1, tz);
  if (start + day - 1 >= next) throw new RangeError(`lunar month ${month}${leap ? ' (leap)' : ''} of ${year} has only ${next - start} days`);
  return dateOfJulianDay(start + day - 1);
}

/** Mùng 1 Tết (lunar 1/1) of lunar year `year`, e.g. 2024 → 2024-02-10. */
export function tetDate(year: number, utcOffsetHours = LUNAR_UTC_OFFSET_HOURS): LocalDate {
  return lunarToSolar(1, 1, year, false, utcOffsetHours);
}

/** Giỗ Tổ Hùng Vương (lunar 10/3) of `year`, e.g. 2024 → 2024-04-18. Never the leap month: the holiday is in the regular tháng 3. */
export function hungKingsDate(year: number): LocalDate {
  return lunarToSolar(10, 3, year);
}
