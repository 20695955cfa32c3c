/**
 * The HTTP API, route by route: what the CLI does, for e-office systems and the dashboard. Writes go
 * through the same operations (client/operations.ts) and the same zod schemas as the CLI; reads come
 * from the read model (db/queries.ts). Who may call what is decided in access.ts.
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { withRolloutAsOf } from '../db/as-of';
import { eventOfRow, verifyChain } from '../db/audit';
import type { Database } from '../db/database';
import { countEscalations, getRollout, isOverdue, getRolloutUnit, listEscalations, listRolloutUnits, listRollouts, rolloutProgress, unitCounts, unitSteps } from '../db/queries';
import { reportSchemas } from '../domain/reports';
import { LocalDate, parseDeadlineText, toLocalIso } from '../domain/time';
import { BUILT_IN_PLANS } from '../domain/default-plans';
import { DomainError } from '../domain/errors';
import { StartRolloutRequest, actOnEscalation, cancelRollout, resolvePlan, extendDeadline, importUnits, newRequestId, startRollout, submitReport, type Deps } from '../client/operations';
import { describeActor, describeEvent } from '../domain/wording';
import { ROLES, type Principal } from './access';
import { dashboardRoutes } from './dashboard-routes';
import { HttpError, Page, Paging, route, type Route } from './http';
import { notificationRoutes } from './notification-routes';

export interface ApiDeps {
  db: Kysely<Database>;
  /** The Temporal client, connected on first use (reads never need it). */
  client(): Promise<Client>;
}

const Iso = z.string().describe('ISO 8601 instant');
const iso = (d: Date | string | null | undefined): string | null => (d == null ? null : new Date(d).toISOString());
const Lang = z.enum(['vi', 'en']).default('vi');

const RolloutParams = z.strictObject({ rolloutId: z.string().min(1).max(100) });
const UnitParams = z.strictObject({ rolloutId: z.string().min(1).max(100), unitCode: z.string().min(1).max(64) });

const Rollout = z.object({
  rolloutId: z.string(),
  resolution: z.string(),
  resolutionDate: z.string(),
  title: z.string(),
  planId: z.string(),
  rootUnit: z.string(),
  hierarchyVersion: z.number().int(),
  status: z.string(),
  startedAt: Iso,
  completedAt: Iso.nullable(),
});
type RolloutRow = Awaited<ReturnType<typeof listRollouts>>[number];
const rolloutOf = (r: RolloutRow): z.infer<typeof Rollout> => ({
  rolloutId: r.rollout_id,
  resolution: r.resolution_text,
  resolutionDate: String(r.resolution_date),
  title: r.resolution_title,
  planId: r.plan_id,
  rootUnit: r.root_unit,
  hierarchyVersion: r.hierarchy_version,
  status: r.status,
  startedAt: iso(r.started_at)!,
  completedAt: iso(r.completed_at),
});

const StepState = z.object({ stepKey: z.string(), stepId: z.string(), kind: z.string(), status: z.string(), dueAt: Iso.nullable(), late: z.boolean(), overdue: z.boolean() });
const UnitSummary = z.object({
  unitCode: z.string(),
  name: z.string(),
  level: z.string(),
  parent: z.string().nullable(),
  depth: z.number().int(),
  children: z.number().int(),
  members: z.number().int(),
  status: z.string(),
  steps: z.array(StepState),
});

const Escalation = z.object({
  escalationId: z.string(),
  rolloutId: z.string(),
  unitCode: z.string(),
  unitName: z.string(),
  level: z.string(),
  stepKey: z.string(),
  tier: z.number().int(),
  recipient: z.object({ code: z.string(), name: z.string() }),
  self: z.boolean(),
  dueAt: Iso,
  openedAt: Iso,
  overdueMs: z.number().int().describe('How long past the deadline: until now while open, until completion once resolved'),
  status: z.enum(['open', 'resolved']),
  resolution: z.enum(['completed', 'extended', 'cancelled']).nullable(),
  resolvedAt: Iso.nullable(),
  resolvedBy: z.string().nullable(),
  acknowledgedAt: Iso.nullable(),
  acknowledgedBy: z.string().nullable(),
  acknowledgementNote: z.string().nullable(),
  directives: z.number().int().describe('How many times the committee has directed the unit on it'),
  lastDirective: z.string().nullable(),
  lastDirectedAt: Iso.nullable(),
  respondBy: z.string().nullable().describe('The date the last directive asks the unit to report back by'),
});

const TimelineEntry = z.object({ chainSeq: z.number().int(), occurredAt: z.string(), recordedAt: z.string(), unit: z.string().nullable(), actor: z.string(), by: z.string(), type: z.string(), text: z.string(), eventId: z.string() });

const Progress = z.array(
  z.object({ level: z.string(), stepId: z.string(), kind: z.string(), units: z.number().int(), done: z.number().int(), doneLate: z.number().int(), open: z.number().int(), waiting: z.number().int(), overdue: z.number().int(), attended: z.number(), members: z.number() }),
);
const Overview = z.object({ rollout: Rollout, counts: z.object({ units: z.number().int(), completed: z.number().int(), cancelled: z.number().int().describe('Units stopped by a cancellation before they finished'), openEscalations: z.number().int() }), progress: Progress, asOf: Iso });

const UnitDetail = z.object({
  rolloutId: z.string(),
  unit: z.object({ unitCode: z.string(), name: z.string(), level: z.string(), parent: z.string().nullable(), members: z.number().int(), standingCommittee: z.boolean(), children: z.number().int(), status: z.string(), ancestors: z.array(z.object({ code: z.string(), name: z.string() })) }),
  steps: z.array(
    z.object({ stepKey: z.string(), stepId: z.string(), kind: z.string(), occurrence: z.number().int(), status: z.string(), dueAt: Iso.nullable(), originalDueAt: Iso.nullable(), completedAt: Iso.nullable(), lateByMs: z.number().nullable(), overdue: z.boolean(), attended: z.number().int(), remindersSent: z.number().int() }),
  ),
});

/** Load a unit of a rollout with its ancestors, for access checks; 404 if it is not in the rollout. */
async function rolloutUnit(db: Kysely<Database>, rolloutId: string, unitCode: string) {
  const u = await getRolloutUnit(db, rolloutId, unitCode);
  if (!u) {
    if (!(await getRollout(db, rolloutId))) throw new HttpError(404, 'not_found', `no rollout "${rolloutId}"`);
    throw new HttpError(404, 'not_found', `unit "${unitCode}" is not part of rollout ${rolloutId}`);
  }
  const ancestors = (u.ancestors as Array<{ code: string; name: string }>) ?? [];
  return { row: u, target: { code: u.unit_code, ancestors: ancestors.map((a) => a.code) }, ancestors };
}

async function requireRollout(db: Kysely<Database>, rolloutId: string) {
  const r = await getRollout(db, rolloutId);
  if (!r) throw new HttpError(404, 'not_found', `no rollout "${rolloutId}"`);
  return r;
}

/** The subtree a scoped principal is confined to, or undefined for ops and auditors. */
const scopeOf = (p: Principal): string | undefined => p.unitCode ?? undefined;

function escalationOf(e: Awaited<ReturnType<typeof listEscalations>>[number], now: Date): z.infer<typeof Escalation> {
  const due = new Date(e.due_at).getTime();
  return {
    escalationId: e.escalation_id,
    rolloutId: e.rollout_id,
    unitCode: e.unit_code,
    unitName: e.unit_name,
    level: e.unit_level,
    stepKey: e.step_key,
    tier: e.tier,
    recipient: { code: e.recipient_code, name: e.recipient_name },
    self: e.self,
    dueAt: iso(e.due_at)!,
    openedAt: iso(e.opened_at)!,
    overdueMs: Math.max(0, e.status === 'open' ? now.getTime() - due : Number(e.late_by_ms ?? (e.resolved_at ? new Date(e.resolved_at).getTime() - due : 0))),
    status: e.status,
    resolution: e.resolution,
    resolvedAt: iso(e.resolved_at),
    resolvedBy: e.resolved_by,
    acknowledgedAt: iso(e.acknowledged_at),
    acknowledgedBy: e.acknowledged_by,
    acknowledgementNote: e.acknowledgement_note,
    directives: e.directives,
    lastDirective: e.last_directive,
    lastDirectedAt: iso(e.last_directed_at),
    respondBy: e.respond_by === null ? null : String(e.respond_by),
  };
}

const EscalationParams = z.strictObject({ escalationId: z.string().min(1).max(300) });
const EscalationActionResponse = z.object({ requestId: z.string(), escalationId: z.string(), stepKey: z.string(), action: z.enum(['acknowledged', 'directed']), at: z.string(), duplicate: z.boolean() });

/** The escalation a committee acts on: 404 if unknown, 403 unless addressed to the token's unit, 409 once resolved. */
async function openEscalationFor(db: Kysely<Database>, escalationId: string, require: (a: 'escalation.act', t: { unit: { code: string; ancestors: ReadonlyArray<string> }; recipientCode: string }) => void) {
  const esc = await db.selectFrom('escalations').selectAll().where('escalation_id', '=', escalationId).executeTakeFirst();
  if (!esc) throw new HttpError(404, 'not_found', `no escalation "${escalationId}"`);
  const u = await rolloutUnit(db, esc.rollout_id, esc.unit_code);
  require('escalation.act', { unit: u.target, recipientCode: esc.recipient_code });
  if (esc.status !== 'open') throw new HttpError(409, 'conflict', `the escalation is already ${esc.status} (${esc.resolution ?? ''})`);
  return esc;
}

export function createRoutes(deps: ApiDeps): Route[] {
  const { db } = deps;
  const ops = async (): Promise<Deps> => ({ db, client: await deps.client() });

  return [
    route({
      method: 'GET',
      path: '/api/v1/me',
      tag: 'tokens',
      summary: 'Who this token is: role and unit',
      response: z.object({ tokenId: z.string(), role: z.enum(ROLES), unitCode: z.string().nullable(), label: z.string() }),
      handler: async ({ principal }) => principal,
    }),
    route({
      method: 'POST',
      path: '/api/v1/units/import',
      tag: 'ops',
      summary: 'Import a hierarchy (CSV or JSON text, the same columns as `trienkhai units import`) as a new version',
      action: 'units.import',
      maxBodyBytes: 20_000_000,
      body: z.strictObject({ fileName: z.string().min(1).max(200).regex(/\.(csv|json)$/i, 'name the file .csv or .json'), content: z.string().min(1) }),
      response: z.object({ version: z.number().int(), units: z.number().int(), levels: z.array(z.string()), roots: z.array(z.string()) }),
      status: 201,
      handler: async ({ body, principal }) => {
        const r = await importUnits(db, body.fileName, body.content, `user:${principal.label}`);
        return { version: r.version, units: r.units, levels: r.levels, roots: r.roots };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts',
      tag: 'rollouts',
      summary: 'Rollouts (for a scoped token: those its unit takes part in)',
      query: z.strictObject(Paging),
      response: Page(Rollout),
      handler: async ({ query, principal }) => {
        let all = await listRollouts(db);
        const scope = scopeOf(principal);
        if (scope) {
          const mine = new Set((await db.selectFrom('rollout_units').select('rollout_id').where('unit_code', '=', scope).execute()).map((r) => r.rollout_id));
          all = all.filter((r) => mine.has(r.rollout_id));
        }
        const start = (query.page - 1) * query.pageSize;
        return { items: all.slice(start, start + query.pageSize).map(rolloutOf), page: query.page, pageSize: query.pageSize, total: all.length };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/rollouts',
      tag: 'ops',
      summary: 'Start a rollout (the same request as `trienkhai rollout start`); repeating it with the same ID is harmless',
      action: 'rollout.start',
      body: StartRolloutRequest.omit({ requestedBy: true }),
      response: z.object({ rolloutId: z.string(), workflowId: z.string(), hierarchyVersion: z.number().int(), units: z.number().int(), planId: z.string(), alreadyStarted: z.boolean() }),
      status: 201,
      handler: async ({ body, principal }) => startRollout(await ops(), { ...body, requestedBy: `user:${principal.label}` }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/plans',
      tag: 'plans',
      summary: 'The built-in plans a rollout can be started with (`plan` in POST /api/v1/rollouts); the same as `trienkhai plan show`',
      response: z.array(z.object({ id: z.string(), title: z.string(), steps: z.number().int() })),
      handler: async () => Object.keys(BUILT_IN_PLANS).map((name) => {
        const plan = resolvePlan(name);
        return { id: name, title: plan.title, steps: plan.steps.length };
      }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/plans/{planId}',
      tag: 'plans',
      summary: 'A built-in plan in full: its steps, deadlines, reminders and escalation tiers',
      params: z.strictObject({ planId: z.string().min(1).max(100) }),
      response: z.record(z.string(), z.unknown()),
      handler: async ({ params }) => {
        if (!BUILT_IN_PLANS[params.planId]) throw new HttpError(404, 'not_found', `no built-in plan "${params.planId}" (there are: ${Object.keys(BUILT_IN_PLANS).join(', ')})`);
        return resolvePlan(params.planId) as unknown as Record<string, unknown>;
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/plans/check',
      tag: 'plans',
      summary: 'Check a plan (the same JSON as a plan file) without starting anything, like `trienkhai plan check`; a bad plan is a 400 naming each field',
      body: z.strictObject({ plan: z.record(z.string(), z.unknown()) }),
      response: z.object({ valid: z.literal(true), id: z.string(), title: z.string(), steps: z.number().int() }),
      handler: async ({ body }) => {
        try {
          const plan = resolvePlan(body.plan);
          return { valid: true as const, id: plan.id, title: plan.title, steps: plan.steps.length };
        } catch (e) {
          if (!(e instanceof DomainError)) throw e;
          const issues = e.issues.map((i) => ({ path: `body.${i.path.startsWith('plan') ? i.path : `plan.${i.path}`}`, message: i.message }));
          throw new HttpError(400, 'bad_request', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
        }
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}',
      tag: 'rollouts',
      summary: 'Where a whole rollout stands: counts, and progress per level and step (study coverage, plans issued, overdue)',
      action: 'rollout.overview',
      params: RolloutParams,
      response: Overview,
      handler: async ({ params }) => {
        const r = await requireRollout(db, params.rolloutId);
        const now = new Date();
        return { rollout: rolloutOf(r), counts: await unitCounts(db, params.rolloutId), progress: await rolloutProgress(db, params.rolloutId, now), asOf: now.toISOString() };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/units',
      tag: 'rollouts',
      summary: 'The hierarchy tree, one level at a time (`parent`), or the overdue units of a subtree (`overdue=true`, `within`); paged',
      params: RolloutParams,
      query: z.strictObject({ parent: z.string().max(64).optional(), within: z.string().max(64).optional(), overdue: z.enum(['true', 'false']).optional(), ...Paging }),
      response: Page(UnitSummary),
      handler: async ({ params, query, principal, require }) => {
        const r = await requireRollout(db, params.rolloutId);
        const anchor = query.parent ?? query.within ?? scopeOf(principal) ?? r.root_unit;
        require('unit.read', { unit: (await rolloutUnit(db, params.rolloutId, anchor)).target });
        // The overdue filter and `within` look at the whole subtree; otherwise one level: the anchor's children.
        const wholeSubtree = query.overdue === 'true' || (query.within !== undefined && query.parent === undefined);
        const { total, items } = await listRolloutUnits(db, params.rolloutId, {
          ...(wholeSubtree ? { within: anchor } : { parent: anchor }),
          overdueOnly: query.overdue === 'true',
          now: new Date(),
          offset: (query.page - 1) * query.pageSize,
          limit: query.pageSize,
        });
        return {
          items: items.map((u) => ({ unitCode: u.unit_code, name: u.name, level: u.level, parent: u.parent_code, depth: u.depth, children: u.children, members: u.members, status: u.status, steps: u.steps.map((s) => ({ ...s, dueAt: iso(s.dueAt) })) })),
          page: query.page,
          pageSize: query.pageSize,
          total,
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/units/{unitCode}',
      tag: 'rollouts',
      summary: "A unit's page: the unit, its ancestors and every step",
      params: UnitParams,
      response: UnitDetail,
      handler: async ({ params, require }) => {
        const u = await rolloutUnit(db, params.rolloutId, params.unitCode);
        require('unit.read', { unit: u.target });
        const now = Date.now();
        const steps = await unitSteps(db, params.rolloutId, params.unitCode);
        return {
          rolloutId: params.rolloutId,
          unit: { unitCode: u.row.unit_code, name: u.row.name, level: u.row.level, parent: u.row.parent_code, members: u.row.members, standingCommittee: u.row.standing_committee, children: u.row.children, status: u.row.status, ancestors: u.ancestors.map((a) => ({ code: a.code, name: a.name })) },
          steps: steps.map((s) => ({
            stepKey: s.step_key,
            stepId: s.step_id,
            kind: s.kind,
            occurrence: s.occurrence,
            status: s.status,
            dueAt: iso(s.due_at),
            originalDueAt: iso(s.original_due_at),
            completedAt: iso(s.completed_at),
            lateByMs: s.late_by_ms === null ? null : Number(s.late_by_ms),
            overdue: isOverdue(s.status, s.due_at, now),
            attended: s.attended,
            remindersSent: s.reminders_sent,
          })),
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/units/{unitCode}/timeline',
      tag: 'audit',
      summary: "A unit's story from the audit record: reports, reminders, missed deadlines, escalations, extensions, completions",
      params: UnitParams,
      query: z.strictObject({ lang: Lang }),
      response: z.array(TimelineEntry),
      handler: async ({ params, query, require }) => {
        const u = await rolloutUnit(db, params.rolloutId, params.unitCode);
        require('unit.read', { unit: u.target });
        return timeline(db, params.rolloutId, params.unitCode, query.lang);
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/rollouts/{rolloutId}/units/{unitCode}/reports',
      tag: 'units',
      summary: "A unit's report for one of its steps (an inspector's for a supervise step); the same fields as `trienkhai report --file`. `reportId` makes it idempotent",
      params: UnitParams,
      body: z.record(z.string(), z.unknown()).describe('A StepReport without unitCode (taken from the path): see the CLI for each kind'),
      response: z.object({ duplicate: z.boolean() }).passthrough(),
      status: 201,
      handler: async ({ params, body, principal, require }) => {
        const u = await rolloutUnit(db, params.rolloutId, params.unitCode);
        if ('unitCode' in body && body.unitCode !== params.unitCode) throw new HttpError(400, 'bad_request', 'body.unitCode: the unit is given by the path', [{ path: 'body.unitCode', message: `the path names ${params.unitCode}` }]);
        require('report.submit', { unit: u.target, stepKind: typeof body.kind === 'string' ? body.kind : '' });
        const input = { reportId: newRequestId('api'), reportedBy: principal.label, ...body, unitCode: params.unitCode };
        const parsed = reportSchemas().StepReport.safeParse(input);
        if (!parsed.success) {
          const issues = parsed.error.issues.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message }));
          throw new HttpError(400, 'bad_request', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
        }
        return (await submitReport(await ops(), params.rolloutId, input as never)) as unknown as { duplicate: boolean };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/escalations',
      tag: 'committees',
      summary: "Escalations, newest last: a standing committee's inbox is `recipient=<its unit>&status=open`; a scoped token sees only its subtree",
      query: z.strictObject({ rolloutId: z.string().max(100).optional(), recipient: z.string().max(64).optional(), unit: z.string().max(64).optional(), status: z.enum(['open', 'resolved', 'all']).default('open'), ...Paging }),
      response: Page(Escalation),
      handler: async ({ query, principal }) => {
        const f = {
          ...(query.rolloutId ? { rolloutId: query.rolloutId } : {}),
          ...(query.recipient ? { recipient: query.recipient } : {}),
          ...(query.unit ? { unitCode: query.unit } : {}),
          ...(query.status !== 'all' ? { status: query.status } : {}),
          ...(scopeOf(principal) ? { within: scopeOf(principal)! } : {}),
        };
        const now = new Date();
        const rows = await listEscalations(db, { ...f, offset: (query.page - 1) * query.pageSize, limit: query.pageSize });
        return { items: rows.map((e) => escalationOf(e, now)), page: query.page, pageSize: query.pageSize, total: await countEscalations(db, f) };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/escalations/{escalationId}/extend',
      tag: 'committees',
      summary: 'The standing committee an escalation is addressed to extends the deadline, with a reason; the escalation is resolved',
      params: EscalationParams,
      body: z.strictObject({ until: z.string().min(1).max(40).describe('A date (end of that day, Vietnam time) or an ISO instant'), reason: z.string().min(1).max(2000), decision: z.string().max(2000).optional(), decidedBy: z.string().max(200).optional(), requestId: z.string().max(100).optional() }),
      response: z.object({ stepKey: z.string(), previousDueAt: Iso, newDueAt: Iso, resolvedEscalations: z.array(z.string()), duplicate: z.boolean() }).passthrough(),
      status: 201,
      handler: async ({ params, body, principal, require }) => {
        const esc = await openEscalationFor(db, params.escalationId, require);
        const step = await db.selectFrom('unit_steps').select(['step_id', 'occurrence']).where('rollout_id', '=', esc.rollout_id).where('unit_code', '=', esc.unit_code).where('step_key', '=', esc.step_key).executeTakeFirstOrThrow();
        let until: string;
        try {
          until = parseDeadlineText(body.until).at.toISOString();
        } catch (e) {
          throw new HttpError(400, 'bad_request', `body.until: ${e instanceof Error ? e.message : String(e)}`, [{ path: 'body.until', message: e instanceof Error ? e.message : String(e) }]);
        }
        const r = await extendDeadline(await ops(), esc.rollout_id, esc.unit_code, {
          requestId: body.requestId ?? newRequestId('api-ext'),
          stepId: step.step_id,
          occurrence: step.occurrence,
          committeeCode: principal.unitCode!,
          until,
          reason: body.reason,
          ...(body.decision ? { decision: body.decision } : {}),
          decidedBy: body.decidedBy ?? principal.label,
        } as never);
        return r as unknown as { stepKey: string; previousDueAt: string; newDueAt: string; resolvedEscalations: string[]; duplicate: boolean };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/escalations/{escalationId}/acknowledge',
      tag: 'committees',
      summary: 'The standing committee an escalation is addressed to acknowledges it (đã tiếp nhận); it stays open until the step is done or extended',
      params: EscalationParams,
      body: z.strictObject({ note: z.string().max(2000).optional(), decidedBy: z.string().max(200).optional(), requestId: z.string().max(100).optional() }),
      response: EscalationActionResponse,
      status: 201,
      handler: async ({ params, body, principal, require }) => {
        const esc = await openEscalationFor(db, params.escalationId, require);
        if (esc.acknowledged_at && !body.requestId) throw new HttpError(409, 'conflict', `the escalation was already acknowledged at ${toLocalIso(new Date(esc.acknowledged_at))} by ${esc.acknowledged_by}`);
        return actOnEscalation(await ops(), 'acknowledge', {
          requestId: body.requestId ?? newRequestId('api-ack'),
          escalationId: esc.escalation_id,
          committeeCode: principal.unitCode!,
          ...(body.note?.trim() ? { note: body.note } : {}),
          decidedBy: body.decidedBy ?? principal.label,
        });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/escalations/{escalationId}/direct',
      tag: 'committees',
      summary: 'The standing committee an escalation is addressed to directs the unit (chỉ đạo), optionally with a date to report back by; it stays open',
      params: EscalationParams,
      body: z.strictObject({ directive: z.string().min(1).max(2000), respondBy: LocalDate.optional().describe('YYYY-MM-DD'), decidedBy: z.string().max(200).optional(), requestId: z.string().max(100).optional() }),
      response: EscalationActionResponse,
      status: 201,
      handler: async ({ params, body, principal, require }) => {
        const esc = await openEscalationFor(db, params.escalationId, require);
        return actOnEscalation(await ops(), 'direct', {
          requestId: body.requestId ?? newRequestId('api-dir'),
          escalationId: esc.escalation_id,
          committeeCode: principal.unitCode!,
          directive: body.directive,
          ...(body.respondBy ? { respondBy: body.respondBy } : {}),
          decidedBy: body.decidedBy ?? principal.label,
        });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/rollouts/{rolloutId}/cancel',
      tag: 'ops',
      summary: 'Cancel a rollout, with a reason: recorded at once; each running unit records it and stops (409 once completed or cancelled)',
      action: 'rollout.cancel',
      params: RolloutParams,
      body: z.strictObject({ reason: z.string().min(1).max(2000), requestId: z.string().max(100).optional() }),
      response: z.object({ requestId: z.string(), rolloutId: z.string(), cancelledAt: z.string(), duplicate: z.boolean() }),
      handler: async ({ params, body, principal }) => {
        const r = await requireRollout(db, params.rolloutId);
        if (r.status !== 'running' && !body.requestId) throw new HttpError(409, 'conflict', `rollout ${params.rolloutId} is already ${r.status}`);
        return cancelRollout(await ops(), params.rolloutId, { requestId: body.requestId ?? newRequestId('api-cancel'), reason: body.reason, requestedBy: `user:${principal.label}` });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/timeline',
      tag: 'audit',
      summary: "The whole rollout's story from the audit record",
      action: 'rollout.overview',
      params: RolloutParams,
      query: z.strictObject({ lang: Lang }),
      response: z.array(TimelineEntry),
      handler: async ({ params, query }) => {
        await requireRollout(db, params.rolloutId);
        return timeline(db, params.rolloutId, undefined, query.lang);
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/as-of',
      tag: 'audit',
      summary: 'The rollout as it stood at an instant, folded from the events up to it (`at`: a date, i.e. the end of that day, or an ISO instant)',
      action: 'rollout.overview',
      params: RolloutParams,
      query: z.strictObject({ at: z.string().min(1).max(40) }),
      response: Overview,
      handler: async ({ params, query }) => {
        await requireRollout(db, params.rolloutId);
        let at: Date;
        try {
          at = parseDeadlineText(query.at).at;
        } catch (e) {
          throw new HttpError(400, 'bad_request', `query.at: ${e instanceof Error ? e.message : String(e)}`, [{ path: 'query.at', message: e instanceof Error ? e.message : String(e) }]);
        }
        return withRolloutAsOf(db, params.rolloutId, at, async (trx) => {
          const r = await getRollout(trx, params.rolloutId);
          if (!r) throw new HttpError(404, 'not_found', `rollout ${params.rolloutId} had not started by ${at.toISOString()}`);
          return { rollout: rolloutOf(r), counts: await unitCounts(trx, params.rolloutId), progress: await rolloutProgress(trx, params.rolloutId, at), asOf: at.toISOString() };
        });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/audit/verify',
      tag: 'audit',
      summary: 'Prove the audit record intact (hash chain); each problem pinned to its row',
      action: 'rollout.overview',
      response: z.object({ ok: z.boolean(), events: z.number().int(), head: z.object({ seq: z.number().int(), hash: z.string() }), problems: z.array(z.object({ kind: z.string(), chainSeq: z.number().int(), eventId: z.string().nullable(), message: z.string() })) }),
      handler: async () => verifyChain(db),
    }),
    ...notificationRoutes(deps),
    ...dashboardRoutes(deps),
  ] as Route[];
}

async function timeline(db: Kysely<Database>, rolloutId: string, unit: string | undefined, lang: 'vi' | 'en'): Promise<Array<z.infer<typeof TimelineEntry>>> {
  let q = db.selectFrom('events').selectAll().where('rollout_id', '=', rolloutId).orderBy('chain_seq');
  if (unit) q = q.where('unit_code', '=', unit);
  return (await q.execute()).map((r) => ({
    chainSeq: Number(r.chain_seq),
    occurredAt: toLocalIso(new Date(r.occurred_at)),
    recordedAt: toLocalIso(new Date(r.recorded_at)),
    unit: r.unit_code,
    actor: r.actor,
    by: describeActor(r.actor, lang),
    type: r.type,
    text: describeEvent(eventOfRow(r), lang),
    eventId: r.event_id,
  }));
}

