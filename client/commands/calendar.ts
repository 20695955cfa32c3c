/** `trienkhai calendar`: holiday calendars as versioned data (list, show, import, add-day, remove-day). */
import { basename } from 'node:path';
import { editCalendar, importCalendar, listCalendars, parseCalendarText, showCalendar, type CalendarWriteResult } from '../../app/calendars';
import { formatLocalDate } from '../../domain/time';
import { defineCommand, defineGroup, type Io } from '../command';
import { readInputFile } from '../files';
import { BY_OPS, JSON_OPTION, LANG_OPTION, int, langOf } from '../options';
import { withSession } from '../session';

const list = defineCommand({
  name: 'list',
  summary: 'the calendars, each with its newest version and the years it covers',
  positionals: [],
  options: { ...JSON_OPTION, ...LANG_OPTION },
  examples: ['trienkhai calendar list'],
  async run({ values, io }) {
    const lang = langOf(values);
    return withSession(async (s) => {
      const r = await listCalendars(s.db);
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else
        for (const c of r) {
          const prov = c.provisionalYears.length ? `${c.provisionalYears[0]}–${c.provisionalYears[c.provisionalYears.length - 1]}` : '—';
          io.out(
            lang === 'vi'
              ? `${c.id}  phiên bản ${c.version}${c.builtIn ? ' (có sẵn)' : ''}${c.default ? ' [mặc định]' : ''}  năm ${c.years.from}–${c.years.to}; tạm tính: ${prov}`
              : `${c.id}  version ${c.version}${c.builtIn ? ' (built-in)' : ''}${c.default ? ' [default]' : ''}  years ${c.years.from}–${c.years.to}; provisional: ${prov}`,
          );
        }
      return 0;
    });
  },
});

const show = defineCommand({
  name: 'show',
  summary: 'the days of one calendar version with their names, and which years are announced or provisional',
  positionals: [{ name: 'CALENDAR_ID', required: true, description: 'e.g. vn-official' }],
  arity: 'give the calendar ID as the one argument',
  options: {
    version: { type: 'string', value: 'N', integer: true, description: 'a version (default: the newest)' },
    year: { type: 'string', value: 'YYYY', integer: true, description: 'only the days of this year' },
    ...JSON_OPTION,
    ...LANG_OPTION,
  },
  examples: ['trienkhai calendar show vn-official --year 2028'],
  async run({ values, args: [id], io }) {
    const lang = langOf(values);
    const version = int(values.version);
    const year = int(values.year);
    return withSession(async (s) => {
      const r = await showCalendar(s.db, id, { ...(version !== undefined ? { version } : {}), ...(year !== undefined ? { year } : {}) });
      if (values.json) {
        io.out(JSON.stringify(r, null, 2));
        return 0;
      }
      const vi = lang === 'vi';
      const status = (st: string): string => (vi ? ({ announced: 'đã công bố', provisional: 'tạm tính', uncovered: 'không có dữ liệu' }[st] ?? st) : st);
      io.out(`${r.calendar.id} ${vi ? 'phiên bản' : 'version'} ${r.version}${r.calendar.builtIn ? (vi ? ' (có sẵn)' : ' (built-in)') : ''} — ${r.source}`);
      if (r.year !== null) io.out(`${vi ? 'Năm' : 'Year'} ${r.year}: ${status(r.coverage ?? 'uncovered')}`);
      else io.out(r.years.map((y) => `${y.year} ${status(y.status)}`).join(', '));
      for (const d of r.days) io.out(`  ${formatLocalDate(d.date, lang)} (${d.weekday[lang]})  ${d.kind === 'off' ? (vi ? 'nghỉ' : 'off') : vi ? 'làm bù' : 'worked'}  ${d.note}`);
      return 0;
    });
  },
});

function printWrite(io: Io, r: CalendarWriteResult, json: boolean | undefined, lang: 'vi' | 'en'): number {
  if (json) io.out(JSON.stringify(r, null, 2));
  else io.out(r.message[lang]);
  return 0;
}

const importCommand = defineCommand({
  name: 'import',
  summary: 'import a calendar file (JSON) as the next version of its calendar',
  description: 'The whole file is checked first; every bad field is named with its line and nothing is recorded. A file identical to the newest version stores nothing.',
  positionals: [{ name: 'FILE', required: true, description: 'a .json file: { id, version, years: [{year, status}], days: [{date, kind, note}] }' }],
  arity: 'give exactly one file',
  options: { ...BY_OPS, ...JSON_OPTION, ...LANG_OPTION },
  examples: ['trienkhai calendar import examples/calendars/vn-hanoi.json'],
  async run({ values, args: [file], io }) {
    const lang = langOf(values);
    const content = readInputFile(file);
    // Check the whole file before touching the database: bad input is reported even with no stack running.
    parseCalendarText(basename(file), content);
    return withSession(async (s) => printWrite(io, await importCalendar(s.db, basename(file), content, `user:${values.by ?? 'ops'}`), values.json, lang));
  },
});

const dayOptions = {
  date: { type: 'string', value: 'YYYY-MM-DD', required: true, description: 'the day', fills: ['date'] },
  reason: { type: 'string', value: 'TEXT', required: true, description: 'why (the note of an added day; recorded)', fills: ['reason'] },
  ...BY_OPS,
  ...JSON_OPTION,
  ...LANG_OPTION,
} as const;

const addDay = defineCommand({
  name: 'add-day',
  summary: 'add a day off (or, with --working, a make-up working Saturday or Sunday) as a new version',
  positionals: [{ name: 'CALENDAR_ID', required: true, description: 'e.g. vn-official' }],
  arity: 'give the calendar ID as the one argument',
  options: { ...dayOptions, working: { type: 'boolean', description: 'a make-up working day (ngày làm bù), not a day off', fills: ['kind'] } },
  examples: ['trienkhai calendar add-day vn-official --date 2026-09-01 --reason "Thông báo nghỉ lễ Quốc khánh 2026"'],
  async run({ values, args: [id], io }) {
    const lang = langOf(values);
    return withSession(async (s) =>
      printWrite(
        io,
        await editCalendar(s.db, id, { action: 'add', date: values.date, kind: values.working ? 'working' : 'off', reason: values.reason }, `user:${values.by ?? 'ops'}`),
        values.json,
        lang,
      ),
    );
  },
});

const removeDay = defineCommand({
  name: 'remove-day',
  summary: 'remove a listed day (a day off or a make-up working day) as a new version',
  positionals: [{ name: 'CALENDAR_ID', required: true, description: 'e.g. vn-official' }],
  arity: 'give the calendar ID as the one argument',
  options: dayOptions,
  examples: ['trienkhai calendar remove-day vn-official --date 2027-09-03 --reason "Thông báo chọn 1/9"'],
  async run({ values, args: [id], io }) {
    const lang = langOf(values);
    return withSession(async (s) => printWrite(io, await editCalendar(s.db, id, { action: 'remove', date: values.date, reason: values.reason }, `user:${values.by ?? 'ops'}`), values.json, lang));
  },
});

export const calendar = defineGroup({ name: 'calendar', section: 'ops', summary: 'lịch nghỉ / holiday calendars', commands: [list, show, importCommand, addDay, removeDay] });
