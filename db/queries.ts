/**
 * Reads of the read model. Every fact the CLI shows comes from here — never from Temporal visibility.
 * "Overdue" is derived at read time: not done and past its deadline.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './database';

export async function listRollouts(db: Kysely<Database>) {
  return db
    .selectFrom('rollouts')
    .select(['rollout_id', 'resolution_text', 'resolution_date', 'resolution_title', 'plan_id', 'root_unit', 'hierarchy_version', 'units', 'status', 'started_at', 'completed_at'])
    .orderBy('started_at', 'desc')
    .execute();
}

export async function getRollout(db: Kysely<Database>, rolloutId: string) {
  return db.selectFrom('rollouts').selectAll().where('rollout_id', '=', rolloutId).executeTakeFirst();
}

export interface LevelStepProgress {
  level: string;
  stepId: string;
  kind: string;
  units: number;
  done: number;
  doneLate: number;
  open: number;
  waiting: number;
  overdue: number;
  /** Study coverage for study steps: members who attended ÷ members. */
  attended: number;
  members: number;
}

/**
 * The overdue rule, in one place: a step is overdue when it is still pending (waiting or open), its
 * deadline has passed, and its unit's deadline clock runs. Done steps, steps closed by a cancellation,
 * and the steps of a unit whose clock is suspended (ClockSuspended: they move when it resumes) never are.
 */
export function isOverdue(status: string, dueAt: Date | string | null, now: Date | number, suspended = false): boolean {
  return !suspended && (status === 'waiting' || status === 'open') && dueAt !== null && new Date(dueAt).getTime() < new Date(now).getTime();
}
/** The same rule in SQL, for a unit_steps alias. */
export const overdueSql = (alias: string, now: Date) =>
  sql<boolean>`(${sql.ref(`${alias}.status`)} in ('waiting', 'open') and ${sql.ref(`${alias}.due_at`)} < ${now}
    and not exists (select 1 from rollout_units su where su.rollout_id = ${sql.ref(`${alias}.rollout_id`)} and su.unit_code = ${sql.ref(`${alias}.unit_code`)} and su.suspended_at is not null))`;

/**
 * Progress per level and step: how many units are done (on time / late), open, waiting, overdue.
 * The counters come from rollout_progress (its slots added up); only "overdue" (which depends on the
 * clock) is counted here.
 */
export async function rolloutProgress(db: Kysely<Database>, rolloutId: string, now: Date): Promise<LevelStepProgress[]> {
  const { rows } = await sql<{ level: string; step_id: string; kind: string; units: number; done: number; done_late: number; open: number; waiting: number; attended: string; members: string }>`
    select level, step_id, min(kind) as kind, min(depth) as depth, sum(units)::int as units, sum(done)::int as done, sum(done_late)::int as done_late, sum(open)::int as open,
           sum(waiting)::int as waiting, sum(attended)::text as attended, sum(members)::text as members
      from rollout_progress where rollout_id = ${rolloutId}
     group by level, step_id
     order by min(depth), step_id`.execute(db);
  const overdue = await sql<{ level: string; step_id: string; n: string }>`
    select u.level, s.step_id, count(*) as n
    from unit_steps s join rollout_units u on u.rollout_id = s.rollout_id and u.unit_code = s.unit_code
    where s.rollout_id = ${rolloutId} and ${overdueSql('s', now)}
    group by u.level, s.step_id`.execute(db);
  const late = new Map(overdue.rows.map((r) => [`${r.level}/${r.step_id}`, Number(r.n)]));
  return rows.map((r) => ({
    level: r.level,
    stepId: r.step_id,
    kind: r.kind,
    units: r.units,
    done: r.done,
    doneLate: r.done_late,
    open: r.open,
    waiting: r.waiting,
    overdue: late.get(`${r.level}/${r.step_id}`) ?? 0,
    attended: Number(r.attended),
    members: Number(r.members),
  }));
}

export async function unitCounts(db: Kysely<Database>, rolloutId: string) {
  const r = await db
    .selectFrom('rollout_units')
    .select((eb) => [
      eb.fn.countAll<string>().as('units'),
      sql<string>`count(*) filter (where status = 'completed')`.as('completed'),
      sql<string>`count(*) filter (where status = 'cancelled')`.as('cancelled'),
      sql<string>`count(*) filter (where status = 'merged')`.as('merged'),
      sql<string>`count(*) filter (where status = 'dissolved')`.as('dissolved'),
      sql<string>`count(*) filter (where suspended_at is not null and status = 'active')`.as('suspended'),
    ])
    .where('rollout_id', '=', rolloutId)
    .executeTakeFirstOrThrow();
  const open = await db
    .selectFrom('escalations')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('rollout_id', '=', rolloutId)
    .where('status', '=', 'open')
    .executeTakeFirstOrThrow();
  return {
    units: Number(r.units),
    completed: Number(r.completed),
    cancelled: Number(r.cancelled),
    merged: Number(r.merged),
    dissolved: Number(r.dissolved),
    suspended: Number(r.suspended),
    openEscalations: Number(open.n),
  };
}

export async function getRolloutUnit(db: Kysely<Database>, rolloutId: string, unitCode: string) {
  return db.selectFrom('rollout_units').selectAll().where('rollout_id', '=', rolloutId).where('unit_code', '=', unitCode).executeTakeFirst();
}

export async function unitSteps(db: Kysely<Database>, rolloutId: string, unitCode: string) {
  return db
    .selectFrom('unit_steps')
    .selectAll()
    .where('rollout_id', '=', rolloutId)
    .where('unit_code', '=', unitCode)
    .orderBy('due_at', (ob) => ob.asc().nullsLast())
    .orderBy('step_key')
    .execute();
}

export interface EscalationFilter {
  rolloutId?: string;
  recipient?: string;
  unitCode?: string;
  status?: 'open' | 'resolved';
  /** Only escalations of units in this unit's subtree (the unit included). */
  within?: string;
  limit?: number;
  offset?: number;
}

/** `u` is `within` or under it (by the ancestors recorded when it enrolled). */
const underUnit = (within: string) => sql<boolean>`(u.unit_code = ${within} or u.ancestors @> ${JSON.stringify([{ code: within }])}::jsonb)`;

export async function listEscalations(db: Kysely<Database>, f: EscalationFilter) {
  let q = db
    .selectFrom('escalations as e')
    .innerJoin('rollout_units as u', (j) => j.onRef('u.rollout_id', '=', 'e.rollout_id').onRef('u.unit_code', '=', 'e.unit_code'))
    .select([
      'e.escalation_id',
      'e.rollout_id',
      'e.unit_code',
      'u.name as unit_name',
      'u.level as unit_level',
      'e.step_key',
      'e.tier',
      'e.recipient_code',
      'e.recipient_name',
      'e.self',
      'e.due_at',
      'e.opened_at',
      'e.status',
      'e.resolution',
      'e.resolved_at',
      'e.resolved_by',
      'e.late_by_ms',
      'e.acknowledged_at',
      'e.acknowledged_by',
      'e.acknowledgement_note',
      'e.directives',
      'e.last_directive',
      'e.last_directed_at',
      'e.respond_by',
    ])
    .orderBy('e.opened_at')
    .orderBy('e.unit_code')
    .orderBy('e.tier');
  if (f.rolloutId) q = q.where('e.rollout_id', '=', f.rolloutId);
  if (f.recipient) q = q.where('e.recipient_code', '=', f.recipient);
  if (f.unitCode) q = q.where('e.unit_code', '=', f.unitCode);
  if (f.status) q = q.where('e.status', '=', f.status);
  if (f.within) q = q.where(underUnit(f.within));
  return q
    .limit(f.limit ?? 1000)
    .offset(f.offset ?? 0)
    .execute();
}

/** How many escalations match (for paging). */
export async function countEscalations(db: Kysely<Database>, f: EscalationFilter): Promise<number> {
  let q = db
    .selectFrom('escalations as e')
    .innerJoin('rollout_units as u', (j) => j.onRef('u.rollout_id', '=', 'e.rollout_id').onRef('u.unit_code', '=', 'e.unit_code'))
    .select((eb) => eb.fn.countAll<string>().as('n'));
  if (f.rolloutId) q = q.where('e.rollout_id', '=', f.rolloutId);
  if (f.recipient) q = q.where('e.recipient_code', '=', f.recipient);
  if (f.unitCode) q = q.where('e.unit_code', '=', f.unitCode);
  if (f.status) q = q.where('e.status', '=', f.status);
  if (f.within) q = q.where(underUnit(f.within));
  return Number((await q.executeTakeFirstOrThrow()).n);
}

export interface UnitListFilter {
  /** Direct children of this unit (the tree, one level at a time). */
  parent?: string;
  /** Any depth under this unit (with `overdueOnly`: the overdue units of a subtree). */
  within?: string;
  overdueOnly?: boolean;
  now: Date;
  offset: number;
  limit: number;
}

/** Units of a rollout with a summary of their steps, paged: the hierarchy tree and the overdue filter. */
export async function listRolloutUnits(db: Kysely<Database>, rolloutId: string, f: UnitListFilter) {
  const base = () => {
    let q = db.selectFrom('rollout_units as u').where('u.rollout_id', '=', rolloutId);
    if (f.parent !== undefined) q = q.where('u.parent_code', '=', f.parent);
    if (f.within !== undefined) q = q.where(underUnit(f.within));
    if (f.overdueOnly) q = q.where(sql<boolean>`exists (select 1 from unit_steps s where s.rollout_id = u.rollout_id and s.unit_code = u.unit_code and ${overdueSql('s', f.now)})`);
    return q;
  };
  const total = Number(
    (
      await base()
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
  const items = await base()
    .select(['u.unit_code', 'u.name', 'u.level', 'u.parent_code', 'u.depth', 'u.children', 'u.members', 'u.status'])
    .select(
      sql<Array<{ stepKey: string; stepId: string; kind: string; status: string; dueAt: string | null; late: boolean; overdue: boolean }>>`(
      select coalesce(json_agg(json_build_object('stepKey', s.step_key, 'stepId', s.step_id, 'kind', s.kind, 'status', s.status, 'dueAt', s.due_at,
        'late', coalesce(s.late_by_ms, 0) > 0, 'overdue', coalesce(${overdueSql('s', f.now)}, false)) order by s.due_at nulls last, s.step_key), '[]'::json)
      from unit_steps s where s.rollout_id = u.rollout_id and s.unit_code = u.unit_code)`.as('steps'),
    )
    .orderBy('u.depth')
    .orderBy('u.unit_code')
    .offset(f.offset)
    .limit(f.limit)
    .execute();
  return { total, items };
}

/** Units of a rollout with at least one overdue step, for the status listing. */
export async function overdueUnits(db: Kysely<Database>, rolloutId: string, now: Date, limit = 50) {
  return db
    .selectFrom('unit_steps as s')
    .innerJoin('rollout_units as u', (j) => j.onRef('u.rollout_id', '=', 's.rollout_id').onRef('u.unit_code', '=', 's.unit_code'))
    .select(['s.unit_code', 'u.name', 'u.level', 's.step_key', 's.due_at', 's.status'])
    .where('s.rollout_id', '=', rolloutId)
    .where(overdueSql('s', now))
    .orderBy('s.due_at')
    .orderBy('s.unit_code')
    .limit(limit)
    .execute();
}
