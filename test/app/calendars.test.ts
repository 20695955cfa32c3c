/**
 * Calendars as versioned data (app/calendars.ts, db/calendars.ts) on a real PostgreSQL: the built-in
 * official calendar until one is stored, imports and edits as new versions with a CalendarImported
 * event in the same transaction, identical content stored once, bad files refused naming field and line.
 */
import { sql } from 'kysely';
import { DomainError } from '../../domain/errors';
import { OFFICIAL_VIETNAM_CALENDAR_VERSION, officialVietnamCalendar } from '../../domain/calendar';
import { tablePrivileges } from '../../db/privileges';
import { APP_ROLE } from '../../stack/postgres';
import { editCalendar, importCalendar, latestCalendar, listCalendars, parseCalendarText, pinnedDefaultCalendar, showCalendar } from '../../app/calendars';
import { domainError } from '../helpers/domain-error';
import { freshDatabase, type TestDb } from '../helpers/db';

let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => t.close());

const file = (over: Record<string, unknown> = {}) =>
  JSON.stringify(
    {
      id: 'vn-hanoi',
      version: 1,
      years: [
        { year: 2030, status: 'announced' },
        { year: 2031, status: 'provisional' },
      ],
      days: [
        { date: '2030-10-10', kind: 'off', note: 'Ngày Giải phóng Thủ đô' },
        { date: '2030-01-01', kind: 'off', note: 'Tết Dương lịch' },
      ],
      ...over,
    },
    null,
    2,
  );

async function rejects(p: Promise<unknown>): Promise<DomainError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(DomainError);
  return e as DomainError;
}

test('before anything is stored the official calendar is the built-in one (nothing seeded)', async () => {
  const list = await listCalendars(t.db);
  expect(list).toEqual([expect.objectContaining({ id: 'vn-official', version: OFFICIAL_VIETNAM_CALENDAR_VERSION, builtIn: true, default: true, versions: 0 })]);
  expect((await t.db.selectFrom('calendar_versions').selectAll().execute()).length).toBe(0);
  const pin = await pinnedDefaultCalendar(t.db);
  expect(pin).toMatchObject({ id: 'vn-official', version: 1 });
  expect(pin.daysOff).toContain('2026-02-17');
  expect(pin.workingDays).toEqual(['2024-05-04', '2025-02-08', '2025-04-26']);
  const show = await showCalendar(t.db, 'vn-official', { year: 2028 });
  expect(show.coverage).toBe('provisional');
  expect(show.days.find((d) => d.date === '2028-01-26')).toMatchObject({ kind: 'off', note: expect.stringContaining('Tết Nguyên đán') });
  expect((await showCalendar(t.db, 'vn-official', { year: 2050 })).coverage).toBe('uncovered');
});

test('an import stores version 1 with a CalendarImported event; the same content again stores nothing', async () => {
  const r = await importCalendar(t.db, 'hanoi.json', file(), 'user:ops');
  expect(r).toMatchObject({ calendarId: 'vn-hanoi', version: 1, created: true, previousVersion: null, years: [2030, 2031], provisionalYears: [2031], days: 2 });
  const again = await importCalendar(t.db, 'hanoi-copy.json', file({ version: 7, days: [...JSON.parse(file()).days].reverse() }), 'user:ops');
  expect(again).toMatchObject({ version: 1, created: false });
  expect(again.message.vi).toMatch(/không thay đổi/);
  const events = await t.db.selectFrom('events').selectAll().where('stream_id', '=', 'calendar/vn-hanoi').execute();
  expect(events.map((e) => [e.type, e.stream_seq])).toEqual([['CalendarImported', 1]]);
  expect(events[0]!.payload).toMatchObject({ calendarId: 'vn-hanoi', version: 1, sha256: r.sha256, source: 'hanoi.json', importedBy: 'user:ops' });
  const stored = await t.db.selectFrom('calendar_versions').selectAll().execute();
  // Normalised: days in date order.
  expect((stored[0]!.content as { days: Array<{ date: string }> }).days.map((d) => d.date)).toEqual(['2030-01-01', '2030-10-10']);
});

test('editing adds or removes one day as a new version; refusals name the problem', async () => {
  const add = await editCalendar(t.db, 'vn-hanoi', { action: 'add', date: '2030-09-03', reason: 'Nghỉ bù Quốc khánh' }, 'user:ops');
  expect(add).toMatchObject({ version: 2, created: true, previousVersion: 1, days: 3 });
  const mk = await editCalendar(t.db, 'vn-hanoi', { action: 'add', date: '2030-09-07', kind: 'working', reason: 'Làm bù' }, 'user:ops');
  expect(mk.version).toBe(3);
  const rm = await editCalendar(t.db, 'vn-hanoi', { action: 'remove', date: '2030-09-07', reason: 'Hủy làm bù' }, 'user:ops');
  expect(rm.version).toBe(4);
  expect((await domainErrorOf(editCalendar(t.db, 'vn-hanoi', { action: 'add', date: '2030-09-03', reason: 'x' }, 'user:ops'))).message).toMatch(/already listed/);
  expect((await domainErrorOf(editCalendar(t.db, 'vn-hanoi', { action: 'remove', date: '2030-05-05', reason: 'x' }, 'user:ops'))).message).toMatch(/not listed/);
  expect((await domainErrorOf(editCalendar(t.db, 'vn-hanoi', { action: 'add', date: '2040-01-02', reason: 'x' }, 'user:ops'))).message).toMatch(/2040 is not a year/);
  expect((await domainErrorOf(editCalendar(t.db, 'vn-hanoi', { action: 'add', date: '2030-09-04', kind: 'working', reason: 'x' }, 'user:ops'))).message).toMatch(/weekday/);
  const missing = await domainErrorOf(editCalendar(t.db, 'vn-nowhere', { action: 'add', date: '2030-09-04', reason: 'x' }, 'user:ops'));
  expect(missing.kind).toBe('not_found');
  const show = await showCalendar(t.db, 'vn-hanoi', { version: 2 });
  expect(show.days.map((d) => d.date)).toEqual(['2030-01-01', '2030-09-03', '2030-10-10']);
  expect(show.source).toMatch(/add 2030-09-03 \(off\): Nghỉ bù Quốc khánh/);
  expect((await domainErrorOf(showCalendar(t.db, 'vn-hanoi', { version: 9 }))).message).toMatch(/no version 9/);
  expect((await latestCalendar(t.db, 'vn-hanoi'))!.calendar.version).toBe(4);
});

test('the official calendar: importing the built-in content stores nothing; an edit stores version 2, which units pin from then on', async () => {
  const same = await importCalendar(t.db, 'official.json', JSON.stringify(officialVietnamCalendar()), 'user:ops');
  expect(same).toMatchObject({ created: false, version: 1 });
  const r = await editCalendar(t.db, 'vn-official', { action: 'add', date: '2026-12-31', reason: 'Nghỉ theo thông báo (thử)' }, 'user:ops');
  expect(r).toMatchObject({ version: 2, created: true, previousVersion: 1 });
  expect(await pinnedDefaultCalendar(t.db)).toMatchObject({ id: 'vn-official', version: 2 });
  expect((await listCalendars(t.db)).map((c) => [c.id, c.version, c.builtIn])).toEqual([
    ['vn-hanoi', 4, false],
    ['vn-official', 2, false],
  ]);
});

test('calendar versions are reference data: the application role may insert and read, never rewrite', async () => {
  expect((await tablePrivileges(t.db, APP_ROLE)).calendar_versions).toEqual(['INSERT', 'SELECT']);
  await expect(sql`update calendar_versions set source = 'x'`.execute(t.db)).rejects.toThrow(/permission denied/);
  await expect(sql`delete from calendar_versions`.execute(t.db)).rejects.toThrow(/permission denied/);
});

test('bad files are refused naming the field and its line', () => {
  const e = domainError(() =>
    parseCalendarText(
      'x.json',
      file({
        days: [
          { date: '2030-02-30', kind: 'off', note: 'a' },
          { date: '2030-01-01', kind: 'off', note: 'a' },
          { date: '2030-01-01', kind: 'off', note: 'b' },
          { date: '2035-01-01', kind: 'off', note: 'c' },
        ],
      }),
    ),
  );
  const paths = e.issues.map((i) => i.path);
  expect(paths).toEqual(
    expect.arrayContaining([expect.stringMatching(/^days\[0\]\.date \(line \d+\)$/), expect.stringMatching(/^days\[2\]\.date \(line \d+\)$/), expect.stringMatching(/^days\[3\]\.date/)]),
  );
  expect(e.message).toMatch(/listed twice/);
  expect(e.message).toMatch(/outside the calendar's years/);
  expect(domainError(() => parseCalendarText('x.json', file({ years: [{ year: 1800, status: 'announced' }] }))).message).toMatch(/years\[0\]\.year \(line 6\)/);
  expect(domainError(() => parseCalendarText('x.json', '{ "id": "a",\n  "version": 1,\n  oops }')).issues[0]!.path).toBe('line 3, column 3');
  expect(domainError(() => parseCalendarText('x.csv', '{}')).message).toMatch(/JSON/);
  expect(domainError(() => parseCalendarText('x.json', '{"id":"a","id":"b"}')).message).toMatch(/given twice/);
});

test('fuzz: any text given to the import door is parsed or refused as a DomainError, never anything else', () => {
  const base = file();
  let seed = 42;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const alphabet = ['{', '}', '[', ']', '"', ',', ':', '0', '9', '-', 'x', '\n', ' ', '\\', 'é', '\u0000', 'true', 'null', '2030-13-01'];
  for (let i = 0; i < 400; i++) {
    const chars = [...base];
    const edits = 1 + rnd(4);
    for (let k = 0; k < edits; k++) {
      const at = rnd(chars.length);
      if (rnd(2)) chars.splice(at, 1 + rnd(3));
      else chars.splice(at, 0, alphabet[rnd(alphabet.length)]!);
    }
    try {
      parseCalendarText('f.json', chars.join(''));
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).issues.length).toBeGreaterThan(0);
    }
  }
});

async function domainErrorOf(p: Promise<unknown>): Promise<DomainError> {
  return rejects(p);
}
