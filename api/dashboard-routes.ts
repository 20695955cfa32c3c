/**
 * Routes the dashboard needs beyond the CLI's: the data of the overview's charts, in a few grouped
 * queries (db/charts.ts) so the page stays fast on a 10,000-unit rollout.
 */
import { z } from 'zod';
import { levelKindCounts, openEscalationsSeries, type LevelKindRow } from '../db/charts';
import { getRollout } from '../db/queries';
import { HttpError, route, type Route } from './http';
import type { ApiDeps } from './routes';

const Count = z.number().int().min(0);

const Charts = z.object({
  rolloutId: z.string(),
  asOf: z.string().describe('ISO 8601 instant the counts were taken at'),
  levels: z.array(z.object({ depth: Count, level: z.string(), units: Count })).describe('Levels in hierarchy order, with their units'),
  studyCoverage: z.array(z.object({ level: z.string(), units: Count, done: Count, attended: Count, members: Count, coverage: z.number().min(0).describe('attended ÷ members, 0..1') })),
  plansIssued: z.array(z.object({ level: z.string(), units: Count, onTime: Count, late: Count, open: Count, waiting: Count, overdue: Count })).describe('issuePlan steps per level'),
  documentsIssued: z.array(z.object({ level: z.string(), documents: Count, byKind: z.record(z.string(), Count) })).describe('Steps completed with a document number, per level'),
  openEscalations: z
    .object({ bucket: z.enum(['day', 'hour', 'minute', 'second']), points: z.array(z.object({ at: z.string(), open: Count })) })
    .describe('Open escalations at the rollout start, at the end of each bucket (Vietnam days), and now'),
});

/** Sum rows of one level (a level may have several steps of a kind). */
function byLevel(rows: LevelKindRow[], keep: (r: LevelKindRow) => boolean): Map<string, LevelKindRow[]> {
  const m = new Map<string, LevelKindRow[]>();
  for (const r of rows) if (keep(r)) m.set(r.level, [...(m.get(r.level) ?? []), r]);
  return m;
}
const sum = (rows: LevelKindRow[], f: (r: LevelKindRow) => number): number => rows.reduce((a, r) => a + f(r), 0);

export function dashboardRoutes(deps: ApiDeps): Route[] {
  const { db } = deps;
  return [
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/charts',
      tag: 'rollouts',
      summary: "The overview's charts: study coverage, plans issued on time and documents issued per level; open escalations over time",
      action: 'rollout.overview',
      params: z.strictObject({ rolloutId: z.string().min(1).max(100) }),
      response: Charts,
      handler: async ({ params }) => {
        const r = await getRollout(db, params.rolloutId);
        if (!r) throw new HttpError(404, 'not_found', `no rollout "${params.rolloutId}"`);
        const now = new Date();
        const rows = await levelKindCounts(db, params.rolloutId, now);
        const levelUnits = await db
          .selectFrom('rollout_units')
          .select(['depth', 'level', (eb) => eb.fn.countAll<string>().as('n')])
          .where('rollout_id', '=', params.rolloutId)
          .groupBy(['depth', 'level'])
          .orderBy('depth')
          .orderBy('level')
          .execute();
        const levels = levelUnits.map((l) => ({ depth: l.depth, level: l.level, units: Number(l.n) }));
        const study = byLevel(rows, (x) => x.kind === 'studyConference');
        const plans = byLevel(rows, (x) => x.kind === 'issuePlan');
        const docs = byLevel(rows, (x) => x.documents > 0);
        const series = await openEscalationsSeries(db, params.rolloutId, new Date(r.started_at), now);
        return {
          rolloutId: params.rolloutId,
          asOf: now.toISOString(),
          levels,
          studyCoverage: levels
            .filter((l) => study.has(l.level))
            .map((l) => {
              const s = study.get(l.level)!;
              const attended = sum(s, (x) => x.attended);
              const members = sum(s, (x) => x.members);
              return { level: l.level, units: sum(s, (x) => x.units), done: sum(s, (x) => x.doneOnTime + x.doneLate), attended, members, coverage: members ? Math.min(1, attended / members) : 0 };
            }),
          plansIssued: levels
            .filter((l) => plans.has(l.level))
            .map((l) => {
              const p = plans.get(l.level)!;
              return {
                level: l.level,
                units: sum(p, (x) => x.units),
                onTime: sum(p, (x) => x.doneOnTime),
                late: sum(p, (x) => x.doneLate),
                open: sum(p, (x) => x.open),
                waiting: sum(p, (x) => x.waiting),
                overdue: sum(p, (x) => x.overdue),
              };
            }),
          documentsIssued: levels.map((l) => {
            const d = docs.get(l.level) ?? [];
            return { level: l.level, documents: sum(d, (x) => x.documents), byKind: Object.fromEntries(d.map((x) => [x.kind, x.documents])) };
          }),
          openEscalations: series,
        };
      },
    }),
  ] as Route[];
}
