/**
 * Holiday calendars as versioned data (issue 10): import a calendar file, add or remove one day,
 * list the calendars, show one. The CLI (`trienkhai calendar`) and the API (api/calendar-routes.ts)
 * call these and print or return the same views.
 *
 * The default calendar is Vietnam's official one (`vn-official`, domain/calendar.ts). Until a version
 * of it is stored, every read falls back to the built-in one, version OFFICIAL_VIETNAM_CALENDAR_VERSION:
 * nothing is seeded, so a fresh database and a database that never imported a calendar count the same
 * days, and reads never write. The first import or edit of `vn-official` stores version 2 (an import
 * identical to the built-in one stores nothing).
 *
 * Versions are assigned here, not taken from the file: the next version is the latest stored (or
 * built-in) one plus one. A file identical to the latest version (the same days and years, its
 * `version` aside) stores nothing and says so.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/database';
import {
  builtInOfficialCalendar,
  calendarAsOf,
  calendarHash,
  calendarVersion,
  insertCalendarVersion,
  latestCalendar,
  pinnedDefaultCalendar,
  storedCalendarHeads,
  type CalendarVersion,
} from '../db/calendars';
import { type CalendarDay, CalendarDayKind, CalendarFile, OFFICIAL_VIETNAM_CALENDAR_ID, parseCalendarFile, type Calendar } from '../domain/calendar';
import { DomainError, joinPath } from '../domain/errors';
import { JsonReader } from '../domain/hierarchy';
import { dayOfWeek, LocalDate } from '../domain/time';
import { Text } from '../domain/text';

export { calendarAsOf, calendarHash, calendarVersion, latestCalendar, pinnedDefaultCalendar, type CalendarVersion };

const byDate = (a: { date: string }, b: { date: string }): number => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0);

/** The calendar in one order (days by date, years by year), so equal content stores and hashes alike. */
export function normaliseCalendar(cal: Calendar, version: number): Calendar {
  return parseCalendarFile({ id: cal.id, version, days: [...cal.days].sort(byDate), years: [...cal.years].sort((a, b) => a.year - b.year) });
}

/** The calendar working-day deadlines use unless told otherwise. */
export const DEFAULT_CALENDAR_ID = OFFICIAL_VIETNAM_CALENDAR_ID;

async function requireCalendar(db: Kysely<Database>, calendarId: string, version?: number): Promise<CalendarVersion> {
  const v = version === undefined ? await latestCalendar(db, calendarId) : await calendarVersion(db, calendarId, version);
  if (v) return v;
  const known = (await listCalendars(db)).map((c) => c.id).join(', ');
  if (version !== undefined && (await latestCalendar(db, calendarId))) throw DomainError.notFound('version', `calendar "${calendarId}" has no version ${version}`);
  throw DomainError.notFound('calendarId', `no calendar "${calendarId}" (calendars: ${known})`);
}

// ---------------------------------------------------------------------------------------------
// Reading a file

/**
 * Parse a calendar file's text: strict JSON (duplicate fields refused), then the CalendarFile rules.
 * Every problem names its field and line: `days[3].date (line 14)`.
 * @throws DomainError
 */
export function parseCalendarText(fileName: string, content: string): Calendar {
  if (!/\.json$/i.test(fileName)) throw DomainError.of('file', `"${fileName}": a calendar file is JSON (expected a .json file)`);
  const reader = new JsonReader(content.replace(/^\uFEFF/, '').normalize('NFC'));
  const doc = reader.parseDocument();
  const r = CalendarFile.safeParse(doc);
  if (r.success) return r.data;
  throw new DomainError(
    r.error.issues.map((i) => {
      const line = lineOfPath(reader, doc, i.path);
      const path = joinPath('', i.path) || 'file';
      return { path: line === undefined ? path : `${path} (line ${line})`, message: i.message };
    }),
  );
}

/** The line of the deepest part of `path` found in the document (an element or a field). */
function lineOfPath(reader: JsonReader, doc: unknown, path: ReadonlyArray<PropertyKey>): number | undefined {
  let at: number | undefined;
  let node: unknown = doc;
  for (const seg of path) {
    if (Array.isArray(node) && typeof seg === 'number') {
      const off = reader.elementOffsets.get(node)?.[seg];
      if (off === undefined) break;
      at = off;
      node = node[seg];
    } else if (node && typeof node === 'object' && typeof seg === 'string') {
      const off = reader.keyOffsets.get(node)?.get(seg);
      if (off === undefined) break;
      at = off;
      node = (node as Record<string, unknown>)[seg];
    } else break;
  }
  return at === undefined ? undefined : reader.lineOf(at);
}

// ---------------------------------------------------------------------------------------------
// Writing

/** What an import or an edit did. */
export interface CalendarWriteResult {
  calendarId: string;
  /** The version now newest: the one stored, or the unchanged latest one. */
  version: number;
  /** False when the content was identical to the latest version: nothing was stored. */
  created: boolean;
  previousVersion: number | null;
  sha256: string;
  years: number[];
  provisionalYears: number[];
  days: number;
  /** One line, Vietnamese first. */
  message: { vi: string; en: string };
}

async function store(db: Kysely<Database>, cal: Calendar, source: string, importedBy: string, fileVersion?: number): Promise<CalendarWriteResult> {
  const latest = await latestCalendar(db, cal.id);
  const next = normaliseCalendar(cal, (latest?.calendar.version ?? 0) + 1);
  const sha256 = calendarHash(next);
  const summary = (c: Calendar) => ({
    years: c.years.map((y) => y.year),
    provisionalYears: c.years.filter((y) => y.status === 'provisional').map((y) => y.year),
    days: c.days.length,
  });
  if (latest && latest.sha256 === sha256) {
    const v = latest.calendar.version;
    return {
      calendarId: cal.id,
      version: v,
      created: false,
      previousVersion: v,
      sha256,
      ...summary(latest.calendar),
      message: {
        vi: `Lịch ${cal.id} không thay đổi: nội dung giống hệt phiên bản ${v}; không tạo phiên bản mới.`,
        en: `Calendar ${cal.id} is unchanged: the content is identical to version ${v}; no new version stored.`,
      },
    };
  }
  await db.transaction().execute((trx) => insertCalendarVersion(trx, next, { sha256, source, importedBy }));
  const note = fileVersion !== undefined && fileVersion !== next.version ? { vi: ` (tệp ghi phiên bản ${fileVersion})`, en: ` (the file said version ${fileVersion})` } : { vi: '', en: '' };
  return {
    calendarId: cal.id,
    version: next.version,
    created: true,
    previousVersion: latest?.calendar.version ?? null,
    sha256,
    ...summary(next),
    message: {
      vi: `Đã lưu lịch ${cal.id} phiên bản ${next.version}${note.vi}: ${next.days.length} ngày, ${next.years.length} năm.`,
      en: `Stored calendar ${cal.id} version ${next.version}${note.en}: ${next.days.length} days, ${next.years.length} years.`,
    },
  };
}

/**
 * Import a calendar file (JSON, domain/calendar.ts CalendarFile) as the next version of its calendar.
 * @throws DomainError naming every bad field and its line (nothing is stored)
 */
export async function importCalendar(db: Kysely<Database>, fileName: string, content: string, importedBy: string): Promise<CalendarWriteResult> {
  const cal = parseCalendarText(fileName, content);
  return store(db, cal, fileName, importedBy, cal.version);
}

export const CalendarEdit = z.strictObject({
  action: z.enum(['add', 'remove']),
  date: LocalDate,
  /** For `add`: a day off (default) or a make-up working day (a Saturday or Sunday). */
  kind: CalendarDayKind.default('off'),
  /** Why (the note of an added day; recorded as the version's source for a removal). */
  reason: Text({ max: 300 }),
});
export type CalendarEdit = z.input<typeof CalendarEdit>;

/**
 * Add or remove one day, as a new version of the calendar (built on its newest version).
 * @throws DomainError (`not_found`) for an unknown calendar; (`invalid`) for a day already listed,
 *   not listed, outside the calendar's years, or a weekday as a make-up day
 */
export async function editCalendar(db: Kysely<Database>, calendarId: string, input: CalendarEdit, editedBy: string): Promise<CalendarWriteResult> {
  const parsed = CalendarEdit.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const edit = parsed.data;
  const latest = await requireCalendar(db, calendarId);
  const cal = latest.calendar;
  const listed = cal.days.find((d) => d.date === edit.date);
  let days: CalendarDay[];
  if (edit.action === 'add') {
    if (listed)
      throw DomainError.of(
        'date',
        `${edit.date} is already listed in ${calendarId} version ${cal.version} (${listed.kind === 'off' ? 'a day off' : 'a make-up working day'}: ${listed.note}); remove it first`,
      );
    const year = Number(edit.date.slice(0, 4));
    if (!cal.years.some((y) => y.year === year)) {
      throw DomainError.of('date', `${year} is not a year ${calendarId} covers (${cal.years[0]?.year}–${cal.years[cal.years.length - 1]?.year}); import a file that lists it`);
    }
    if (edit.kind === 'working' && dayOfWeek(edit.date) !== 0 && dayOfWeek(edit.date) !== 6) {
      throw DomainError.of('kind', `${edit.date} is a weekday: only a Saturday or Sunday can be a make-up working day (a weekday is worked anyway)`);
    }
    days = [...cal.days, { date: edit.date, kind: edit.kind, note: edit.reason }];
  } else {
    if (!listed) throw DomainError.of('date', `${edit.date} is not listed in ${calendarId} version ${cal.version}; nothing to remove`);
    days = cal.days.filter((d) => d.date !== edit.date);
  }
  const source = `${edit.action === 'add' ? 'add' : 'remove'} ${edit.date}${edit.action === 'add' ? ` (${edit.kind})` : ''}: ${edit.reason}`;
  return store(db, { ...cal, days }, source, editedBy);
}

// ---------------------------------------------------------------------------------------------
// Views

export const CalendarSummary = z.object({
  id: z.string(),
  version: z.number().int(),
  versions: z.number().int().describe('How many versions are stored (0: only the built-in one)'),
  builtIn: z.boolean().describe('True while the newest version is the built-in official calendar (nothing stored)'),
  default: z.boolean().describe('The calendar working-day deadlines use'),
  years: z.object({ from: z.number().int(), to: z.number().int() }),
  announcedYears: z.array(z.number().int()),
  provisionalYears: z.array(z.number().int()),
  importedAt: z.string().nullable(),
  importedBy: z.string().nullable(),
});
export type CalendarSummary = z.infer<typeof CalendarSummary>;

function summaryOf(v: CalendarVersion, versions: number): CalendarSummary {
  const ys = v.calendar.years.map((y) => y.year);
  return {
    id: v.calendar.id,
    version: v.calendar.version,
    versions,
    builtIn: !v.stored,
    default: v.calendar.id === DEFAULT_CALENDAR_ID,
    years: { from: Math.min(...ys), to: Math.max(...ys) },
    announcedYears: v.calendar.years.filter((y) => y.status === 'announced').map((y) => y.year),
    provisionalYears: v.calendar.years.filter((y) => y.status === 'provisional').map((y) => y.year),
    importedAt: v.importedAt ? v.importedAt.toISOString() : null,
    importedBy: v.importedBy,
  };
}

/** Every calendar with its newest version; the official one always (built-in until one is stored). */
export async function listCalendars(db: Kysely<Database>): Promise<CalendarSummary[]> {
  const heads = await storedCalendarHeads(db);
  const out: CalendarSummary[] = [];
  if (!heads.some((h) => h.calendarId === DEFAULT_CALENDAR_ID)) out.push(summaryOf(builtInOfficialCalendar(), 0));
  for (const h of heads) {
    const v = await latestCalendar(db, h.calendarId);
    if (v) out.push(summaryOf(v, h.versions));
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const WEEKDAY_VI = ['Chủ nhật', 'thứ Hai', 'thứ Ba', 'thứ Tư', 'thứ Năm', 'thứ Sáu', 'thứ Bảy'] as const;
const WEEKDAY_EN = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

export const CalendarDetail = z.object({
  calendar: CalendarSummary,
  version: z.number().int().describe('The version shown'),
  sha256: z.string(),
  source: z.string(),
  year: z.number().int().nullable().describe('The year the days are listed for, or null for every year'),
  coverage: z
    .enum(['announced', 'provisional', 'uncovered'])
    .nullable()
    .describe("The shown year's status: announced (the Government's schedule), provisional (statutory days computed ahead of it), uncovered"),
  years: z.array(z.object({ year: z.number().int(), status: z.enum(['announced', 'provisional']) })),
  days: z.array(z.object({ date: z.string(), weekday: z.object({ vi: z.string(), en: z.string() }), kind: z.enum(['off', 'working']), note: z.string() })),
});
export type CalendarDetail = z.infer<typeof CalendarDetail>;

/**
 * One calendar version (the newest unless `version`), its days (of `year` only, when given) with their
 * names, which years are announced and which provisional.
 * @throws DomainError (`not_found`) for an unknown calendar or version
 */
export async function showCalendar(db: Kysely<Database>, calendarId: string, opts: { version?: number; year?: number } = {}): Promise<CalendarDetail> {
  const v = await requireCalendar(db, calendarId, opts.version);
  const heads = await storedCalendarHeads(db);
  const latest = (await latestCalendar(db, calendarId))!;
  const cal = v.calendar;
  const year = opts.year ?? null;
  const status = year === null ? null : (cal.years.find((y) => y.year === year)?.status ?? 'uncovered');
  return {
    calendar: summaryOf(latest, heads.find((h) => h.calendarId === calendarId)?.versions ?? 0),
    version: cal.version,
    sha256: v.sha256,
    source: v.source,
    year,
    coverage: status,
    years: cal.years,
    days: cal.days
      .filter((d) => year === null || d.date.startsWith(`${year}-`))
      .map((d) => ({ date: d.date, weekday: { vi: WEEKDAY_VI[dayOfWeek(d.date)]!, en: WEEKDAY_EN[dayOfWeek(d.date)]! }, kind: d.kind, note: d.note })),
  };
}
