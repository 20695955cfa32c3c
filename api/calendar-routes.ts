/**
 * The calendar routes: holiday calendars as versioned data (app/calendars.ts), and why a deadline is
 * the date it is (app/explain.ts). Who may call what is decided in access.ts (`calendar.*`, `unit.read`).
 */
import { z } from 'zod';
import { CalendarDetail, CalendarSummary, editCalendar, importCalendar, listCalendars, showCalendar } from '../app/calendars';
import { explainDeadline, explanationLines } from '../app/explain';
import { requireRolloutUnit } from '../app/reads';
import { LocalDate } from '../domain/time';
import { UploadedFile, route, type Route } from './http';
import type { ApiDeps } from './routes';

const WriteResult = z.object({
  calendarId: z.string(),
  version: z.number().int(),
  created: z.boolean().describe('False when the content was identical to the newest version: nothing stored'),
  previousVersion: z.number().int().nullable(),
  sha256: z.string(),
  years: z.array(z.number().int()),
  provisionalYears: z.array(z.number().int()),
  days: z.number().int(),
  message: z.object({ vi: z.string(), en: z.string() }),
});
const Words = z.object({ vi: z.string(), en: z.string() });

export function calendarRoutes(deps: ApiDeps): Route[] {
  const { db } = deps;
  return [
    route({
      method: 'GET',
      path: '/api/v1/calendars',
      tag: 'calendars',
      summary: 'The holiday calendars, each with its newest version (the official one built in until a version is stored); the same as `trienkhai calendar list`',
      action: 'calendar.read',
      response: z.array(CalendarSummary),
      handler: async () => listCalendars(db),
    }),
    route({
      method: 'GET',
      path: '/api/v1/calendars/{calendarId}',
      tag: 'calendars',
      summary: 'One calendar version: its days with their names, which years are announced or provisional; the same as `trienkhai calendar show`',
      action: 'calendar.read',
      params: z.strictObject({ calendarId: z.string().min(1).max(64) }),
      query: z.strictObject({ version: z.coerce.number().int().min(1).optional(), year: z.coerce.number().int().min(1900).max(2199).optional() }),
      response: CalendarDetail,
      handler: async ({ params, query }) =>
        showCalendar(db, params.calendarId, { ...(query.version !== undefined ? { version: query.version } : {}), ...(query.year !== undefined ? { year: query.year } : {}) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/calendars/import',
      tag: 'ops',
      summary: 'Import a calendar file (JSON) as the next version of its calendar; identical content stores nothing',
      action: 'calendar.write',
      maxBodyBytes: 20_000_000,
      body: UploadedFile,
      response: WriteResult,
      status: 201,
      handler: async ({ body, principal }) => importCalendar(db, body.fileName, body.content, `user:${principal.label}`),
    }),
    route({
      method: 'POST',
      path: '/api/v1/calendars/{calendarId}/days',
      tag: 'ops',
      summary: 'Add or remove one day (a day off, or a make-up working day) as a new version of the calendar',
      action: 'calendar.write',
      params: z.strictObject({ calendarId: z.string().min(1).max(64) }),
      body: z.strictObject({ action: z.enum(['add', 'remove']), date: LocalDate, kind: z.enum(['off', 'working']).optional(), reason: z.string().min(1).max(300) }),
      response: WriteResult,
      status: 201,
      handler: async ({ params, body, principal }) =>
        editCalendar(db, params.calendarId, { action: body.action, date: body.date, reason: body.reason, ...(body.kind ? { kind: body.kind } : {}) }, `user:${principal.label}`),
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/units/{unitCode}/steps/{stepKey}/explain',
      tag: 'rollouts',
      summary: "Why a unit's deadline is the date it is: the rule, the anchor, the calendar and the days it skipped, uncovered years, every extension; the same as `trienkhai explain`",
      params: z.strictObject({ rolloutId: z.string().min(1).max(100), unitCode: z.string().min(1).max(64), stepKey: z.string().min(1).max(80) }),
      response: z.object({
        rolloutId: z.string(),
        unitCode: z.string(),
        stepKey: z.string(),
        stepId: z.string(),
        title: z.string(),
        rule: z.object({ kind: z.string(), text: Words }),
        anchor: z.object({ what: Words, at: z.string().nullable() }).nullable(),
        calendar: z.object({ id: z.string(), version: z.number().int(), basis: z.enum(['enrolment', 'recalendar']) }).nullable(),
        workingDays: z.unknown(),
        computedDueAt: z.string().nullable(),
        currentDueAt: z.string().nullable(),
        history: z.array(z.object({ at: z.string(), type: z.string(), text: Words })),
        warnings: z.array(Words),
        lines: z.object({ vi: z.array(z.string()), en: z.array(z.string()) }).describe('The explanation as `trienkhai explain` prints it, line by line'),
      }),
      handler: async ({ params, require }) => {
        const u = await requireRolloutUnit(db, params.rolloutId, params.unitCode);
        require('unit.read', { unit: u.target });
        const x = await explainDeadline(db, params.rolloutId, params.unitCode, params.stepKey);
        return { ...x, lines: { vi: explanationLines(x, 'vi'), en: explanationLines(x, 'en') } };
      },
    }),
  ];
}
