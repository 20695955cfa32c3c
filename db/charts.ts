/**
 * What the dashboard's overview charts show, read from the read model in two grouped queries, so they
 * stay fast on a 10,000-unit rollout:
 * - per level (in hierarchy order) and step kind: units, done on time / late, open, waiting, overdue,
 *   members who attended, documents recorded — study coverage, plans issued on time and documents
 *   issued per level are all cuts of it;
 * - open escalations over time: how many were open at the end of each bucket (a Vietnam day; an hour,
 *   a minute or a second for a rollout younger than 12 days, 12 hours or 12 minutes), at most
 *   MAX_POINTS points.
 *
 * "Overdue" is derived at read time, as everywhere: not done and past its deadline.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './database';
import { overdueSql } from './queries';
import { endOfLocalDay, localDateOf } from '../domain/time';

export interface LevelKindRow {
  depth: number;
  level: string;
  kind: string;
  units: number;
  doneOnTime: number;
  doneLate: number;
  open: number;
  waiting: number;
  overdue: number;
  /** Sum over the units' steps of members who attended (study conferences). */
  attended: number;
  /** Sum of the members of the units that have a step of this kind. */
  members: number;
  /** Steps completed with a document (a plan, a report, a review) recorded. */
  documents: number;
}

/** Per level and step kind, in hierarchy order: one grouped query over unit_steps. */
export async function levelKindCounts(db: Kysely<Database>, rolloutId: string, now: Date): Promise<LevelKindRow[]> {
  const r = await sql<{
    depth: number;
    level: string;
    kind: string;
    units: string;
    on_time: string;
    late: string;
    open: string;
    waiting: string;
    overdue: string;
    attended: string | null;
    members: string | null;
    documents: string;
  }>`
    select u.depth, u.level, s.kind,
      count(*) as units,
      count(*) filter (where s.status = 'done' and coalesce(s.late_by_ms, 0) <= 0) as on_time,
      count(*) filter (where s.status = 'done' and coalesce(s.late_by_ms, 0) > 0) as late,
      count(*) filter (where s.status = 'open' and not coalesce(s.due_at < ${now}, false)) as open,
      count(*) filter (where s.status = 'waiting' and not coalesce(s.due_at < ${now}, false)) as waiting,
      count(*) filter (where ${overdueSql('s', now)}) as overdue,
      sum(s.attended) as attended,
      sum(u.members) as members,
      count(s.document_text) as documents
    from unit_steps s join rollout_units u on u.rollout_id = s.rollout_id and u.unit_code = s.unit_code
    where s.rollout_id = ${rolloutId}
    group by u.depth, u.level, s.kind
    order by u.depth, u.level, s.kind`.execute(db);
  return r.rows.map((x) => ({
    depth: Number(x.depth),
    level: x.level,
    kind: x.kind,
    units: Number(x.units),
    doneOnTime: Number(x.on_time),
    doneLate: Number(x.late),
    open: Number(x.open),
    waiting: Number(x.waiting),
    overdue: Number(x.overdue),
    attended: Number(x.attended ?? 0),
    members: Number(x.members ?? 0),
    documents: Number(x.documents),
  }));
}

export const MAX_POINTS = 120;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export type Bucket = 'day' | 'hour' | 'minute' | 'second';

/** The instants the series is sampled at: the rollout's start, the end of each bucket, and now. */
export function seriesPoints(start: Date, now: Date, maxPoints = MAX_POINTS): { bucket: Bucket; step: number; first: number; points: number[] } {
  const span = Math.max(0, now.getTime() - start.getTime());
  // The coarsest bucket that still gives a dozen points: days for a rollout of months, seconds for a demo.
  const bucket: Bucket = span >= 12 * DAY ? 'day' : span >= 12 * HOUR ? 'hour' : span >= 12 * MINUTE ? 'minute' : 'second';
  const unit = { day: DAY, hour: HOUR, minute: MINUTE, second: SECOND }[bucket];
  // The end of the first bucket: the end of the start's Vietnam day (hours and minutes are whole in UTC+7 too).
  const first = bucket === 'day' ? endOfLocalDay(localDateOf(start)).getTime() + 1 : Math.floor(start.getTime() / unit) * unit + unit;
  const buckets = Math.max(1, Math.ceil((now.getTime() - first) / unit) + 1);
  const step = unit * Math.ceil(buckets / (maxPoints - 2));
  const points = [start.getTime()];
  for (let t = first; t < now.getTime(); t += step) points.push(t);
  points.push(now.getTime());
  return { bucket, step, first, points };
}

export interface EscalationPoint {
  at: string;
  open: number;
}

/**
 * Open escalations at each sample instant. One grouped query: escalations opened and resolved per
 * sample index (the first sample at or after the instant), summed up cumulatively here.
 */
export async function openEscalationsSeries(db: Kysely<Database>, rolloutId: string, start: Date, now: Date): Promise<{ bucket: Bucket; points: EscalationPoint[] }> {
  const { bucket, step, first, points } = seriesPoints(start, now);
  const last = points.length - 1;
  // Index of the first sample at or after t: 0 for t ≤ start, then 1 + ceil((t - first) / step), at most `last` (now).
  const idx = (col: 'opened_at' | 'resolved_at') =>
    sql<number>`least(${last}::int, case when ${sql.ref(col)} <= ${start} then 0 else 1 + greatest(0, ceil((extract(epoch from ${sql.ref(col)}) * 1000 - ${first}::float8) / ${step}::float8))::int end)`;
  const r = await sql<{ k: 'o' | 'r'; i: number; n: string }>`
    select 'o' as k, ${idx('opened_at')} as i, count(*) as n from escalations where rollout_id = ${rolloutId} and opened_at <= ${now} group by 2
    union all
    select 'r' as k, ${idx('resolved_at')} as i, count(*) as n from escalations where rollout_id = ${rolloutId} and resolved_at is not null and resolved_at <= ${now} group by 2`.execute(db);
  const delta = new Array<number>(points.length).fill(0);
  for (const row of r.rows) delta[Number(row.i)]! += (row.k === 'o' ? 1 : -1) * Number(row.n);
  let open = 0;
  return {
    bucket,
    points: points.map((t, i) => {
      open += delta[i]!;
      return { at: new Date(t).toISOString(), open };
    }),
  };
}
