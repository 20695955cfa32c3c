/**
 * Holiday calendar versions (domain/calendar.ts): every import or edit is a new, immutable row of
 * `calendar_versions`, recorded with a CalendarImported event on the calendar's stream in the same
 * transaction (as hierarchy.ts records HierarchyImported). The application layer (app/calendars.ts)
 * decides what a version holds; this module stores and reads.
 *
 * The default calendar is Vietnam's official one (`vn-official`). Until a version of it is stored,
 * reads fall back to the built-in one (version OFFICIAL_VIETNAM_CALENDAR_VERSION): nothing is seeded,
 * so reads never write.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { createHash } from 'node:crypto';
import { CalendarFile, OFFICIAL_VIETNAM_CALENDAR_ID, OFFICIAL_VIETNAM_CALENDAR_VERSION, officialVietnamCalendar, pinCalendar, type Calendar, type PinnedCalendar } from '../domain/calendar';
import { eventId, streams } from '../domain/ids';
import type { Database } from './database';
import { appendInTransaction } from './event-store';
import { canonicalJson } from './links';

type Db = Kysely<Database> | Transaction<Database>;

/** A stored version, its content checked again as it is read back. */
export interface StoredCalendar {
  calendar: Calendar;
  sha256: string;
  source: string;
  importedBy: string;
  importedAt: Date;
}

function toStored(r: { content: unknown; sha256: string; source: string; imported_by: string; imported_at: Date }): StoredCalendar {
  return { calendar: CalendarFile.parse(r.content), sha256: r.sha256, source: r.source, importedBy: r.imported_by, importedAt: new Date(r.imported_at) };
}

/** The newest stored version of a calendar, or undefined if none was stored. */
export async function latestStoredCalendar(db: Db, calendarId: string): Promise<StoredCalendar | undefined> {
  const r = await db.selectFrom('calendar_versions').selectAll().where('calendar_id', '=', calendarId).orderBy('version', 'desc').limit(1).executeTakeFirst();
  return r ? toStored(r) : undefined;
}

/** One stored version, or undefined. */
export async function storedCalendar(db: Db, calendarId: string, version: number): Promise<StoredCalendar | undefined> {
  const r = await db.selectFrom('calendar_versions').selectAll().where('calendar_id', '=', calendarId).where('version', '=', version).executeTakeFirst();
  return r ? toStored(r) : undefined;
}

/** The newest version stored at or before `at` (what a unit enrolled at `at` pinned), or undefined. */
export async function storedCalendarAsOf(db: Db, calendarId: string, at: Date): Promise<StoredCalendar | undefined> {
  const r = await db.selectFrom('calendar_versions').selectAll().where('calendar_id', '=', calendarId).where('imported_at', '<=', at).orderBy('version', 'desc').limit(1).executeTakeFirst();
  return r ? toStored(r) : undefined;
}

/** Every stored calendar with its newest version. */
export async function storedCalendarHeads(
  db: Db,
): Promise<Array<{ calendarId: string; version: number; versions: number; years: number[]; provisionalYears: number[]; importedAt: Date; importedBy: string }>> {
  const rows = await sql<{ calendar_id: string; version: number; versions: number; years: number[]; provisional_years: number[]; imported_at: Date; imported_by: string }>`
    select distinct on (calendar_id) calendar_id, version, (count(*) over (partition by calendar_id))::int as versions, years, provisional_years, imported_at, imported_by
      from calendar_versions order by calendar_id, version desc`.execute(db);
  return rows.rows.map((r) => ({
    calendarId: r.calendar_id,
    version: r.version,
    versions: r.versions,
    years: r.years,
    provisionalYears: r.provisional_years,
    importedAt: new Date(r.imported_at),
    importedBy: r.imported_by,
  }));
}

/**
 * Store `calendar` (normalised, its `version` the one to store) and record CalendarImported, in one
 * transaction. A concurrent import of the same version fails on the primary key: nothing is stored twice.
 */
export async function insertCalendarVersion(trx: Transaction<Database>, calendar: Calendar, meta: { sha256: string; source: string; importedBy: string }): Promise<void> {
  const years = calendar.years.map((y) => y.year);
  const provisionalYears = calendar.years.filter((y) => y.status === 'provisional').map((y) => y.year);
  await trx
    .insertInto('calendar_versions')
    .values({
      calendar_id: calendar.id,
      version: calendar.version,
      content: JSON.stringify(calendar),
      sha256: meta.sha256,
      years,
      provisional_years: provisionalYears,
      source: meta.source,
      imported_by: meta.importedBy,
    })
    .execute();
  const stream = streams.calendar(calendar.id);
  const head = await trx
    .selectFrom('events')
    .select(sql<number>`coalesce(max(stream_seq), 0)::int`.as('head'))
    .where('stream_id', '=', stream)
    .executeTakeFirstOrThrow();
  const seq = head.head + 1;
  await appendInTransaction(trx, [
    {
      eventId: eventId(stream, seq),
      streamId: stream,
      streamSeq: seq,
      type: 'CalendarImported',
      rolloutId: null,
      unitCode: null,
      actor: meta.importedBy,
      occurredAt: new Date().toISOString(),
      payload: { calendarId: calendar.id, version: calendar.version, sha256: meta.sha256, years, provisionalYears, source: meta.source, importedBy: meta.importedBy },
    },
  ]);
}

// ---------------------------------------------------------------------------------------------
// Stored or built-in

/** A calendar version as the application sees it: stored, or the built-in official one. */
export interface CalendarVersion {
  calendar: Calendar;
  /** False for the built-in official calendar (no version of it stored yet). */
  stored: boolean;
  source: string;
  importedBy: string | null;
  importedAt: Date | null;
  sha256: string;
}

/** Hash of a calendar's content without its version number: equal hashes count the same days. */
export function calendarHash(cal: Calendar): string {
  return createHash('sha256')
    .update(canonicalJson({ ...cal, version: undefined }))
    .digest('hex');
}

let builtIn: CalendarVersion | undefined;
export function builtInOfficialCalendar(): CalendarVersion {
  if (!builtIn) {
    const calendar = officialVietnamCalendar();
    builtIn = { calendar, stored: false, source: 'built-in (domain/calendar.ts officialVietnamCalendar)', importedBy: null, importedAt: null, sha256: calendarHash(calendar) };
  }
  return builtIn;
}

const fromStored = (s: StoredCalendar): CalendarVersion => ({ calendar: s.calendar, stored: true, source: s.source, importedBy: s.importedBy, importedAt: s.importedAt, sha256: s.sha256 });

/** The newest version of a calendar (the built-in one for `vn-official` until one is stored), or undefined. */
export async function latestCalendar(db: Db, calendarId: string): Promise<CalendarVersion | undefined> {
  const s = await latestStoredCalendar(db, calendarId);
  if (s) return fromStored(s);
  return calendarId === OFFICIAL_VIETNAM_CALENDAR_ID ? builtInOfficialCalendar() : undefined;
}

/** One version of a calendar (the built-in version 1 of `vn-official` included), or undefined. */
export async function calendarVersion(db: Db, calendarId: string, version: number): Promise<CalendarVersion | undefined> {
  const s = await storedCalendar(db, calendarId, version);
  if (s) return fromStored(s);
  return calendarId === OFFICIAL_VIETNAM_CALENDAR_ID && version === OFFICIAL_VIETNAM_CALENDAR_VERSION ? builtInOfficialCalendar() : undefined;
}

/** The version of a calendar that was the newest at `at` (what a unit enrolled then pinned), or undefined. */
export async function calendarAsOf(db: Db, calendarId: string, at: Date): Promise<CalendarVersion | undefined> {
  const s = await storedCalendarAsOf(db, calendarId, at);
  if (s) return fromStored(s);
  return calendarId === OFFICIAL_VIETNAM_CALENDAR_ID ? builtInOfficialCalendar() : undefined;
}

/** What a unit pins at enrolment: the newest version of the default calendar, dates only. */
export async function pinnedDefaultCalendar(db: Db): Promise<PinnedCalendar> {
  const v = await latestCalendar(db, OFFICIAL_VIETNAM_CALENDAR_ID);
  return pinCalendar((v ?? builtInOfficialCalendar()).calendar);
}
