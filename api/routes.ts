/**
 * The HTTP API, route by route: what the CLI does, for e-office systems and the dashboard. Writes go
 * through the same operations (client/operations.ts) and the same zod schemas as the CLI; reads come
 * from the read model (db/queries.ts). Who may call what is decided in access.ts.
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { verifyChain } from '../db/audit';
import type { Database } from '../db/database';
import { reportSchemas, type StepReportInput } from '../domain/reports';
import { LocalDate, parseDeadlineText, toLocalIso } from '../domain/time';
import { BUILT_IN_PLANS } from '../domain/default-plans';
import { DomainError } from '../domain/errors';
import { StartRolloutRequest, actOnEscalation, cancelRollout, changeUnit, resolvePlan, extendDeadline, newRequestId, startRollout, submitReport, type Deps } from '../app/commands';
import { HierarchyChangeRequest } from '../domain/hierarchy-changes';
import { ConfirmationRequired, ImportRequest, applyHierarchyChanges, importOrganisation, lineage, organisations } from '../app/hierarchies';
import { escalationsPage, requireRollout, requireRolloutUnit, rolloutOverview, rolloutOverviewAsOf, rolloutsPage, timelinePage, unitDetail, unitsPage } from '../app/reads';
import { Escalation, Instant, Overview, Page, PagingInput, Rollout, TimelineEntry, UnitDetail, UnitSummary } from '../app/views';
import { wordingTable } from '../domain/wording';
import { Text } from '../domain/text';
import { RequestId, UnitCode } from '../domain/codes';
import { ROLES, type Principal } from '../app/tokens';
import { dashboardRoutes } from './dashboard-routes';
import { HttpError, route, type Route } from './http';
import { notificationRoutes } from './notification-routes';
import { batchRoutes } from './batch-routes';
import { calendarRoutes } from './calendar-routes';

export interface ApiDeps {
  db: Kysely<Database>;
  /** The Temporal client, connected on first use (reads never need it). */
  client(): Promise<Client>;
}

const Iso = Instant;

const LineageStepView = z.object({
  from: z.string().nullable(),
  to: z.string().nullable(),
  kind: z.string(),
  effectiveFrom: z.string().nullable(),
  version: z.number().int(),
  organisation: z.string(),
  depth: z.number().int(),
});
const ImportPreviewView = z.object({
  needsConfirmation: z.boolean(),
  organisations: z.array(
    z.object({
      organisation: z.string(),
      kind: z.enum(['snapshot', 'delta']),
      previousVersion: z.number().int().nullable(),
      units: z.number().int(),
      changes: z.array(z.record(z.string(), z.unknown())),
      lines: z.array(z.object({ vi: z.string(), en: z.string() })),
      needsConfirmation: z.boolean(),
    }),
  ),
});
const Paging = PagingInput.shape;
const Lang = z.enum(['vi', 'en']).default('vi');

const RolloutParams = z.strictObject({ rolloutId: z.string().min(1).max(100) });
const UnitParams = z.strictObject({ rolloutId: z.string().min(1).max(100), unitCode: z.string().min(1).max(64) });

/** Load a unit of a rollout with its ancestors, for access checks; 404 if it is not in the rollout. */
const rolloutUnit = requireRolloutUnit;

/** The subtree a scoped principal is confined to, or undefined for ops and auditors. */
const scopeOf = (p: Principal): string | undefined => p.unitCode ?? undefined;

/**
 * A unit's report as the API takes it: one schema per step kind (the domain's, so the OpenAPI document
 * shows each), the unit given by the path, the report ID optional (one is made; send your own to retry).
 */
const ReportBody = (() => {
  const r = reportSchemas();
  const extra = { reportId: r.ExtendDeadline.shape.requestId.optional(), reportedBy: r.StudySessionReport.shape.reportedBy };
  const omit = { unitCode: true, reportId: true } as const;
  return z.discriminatedUnion('kind', [
    r.StudySessionReport.omit(omit).extend(extra),
    r.DraftReport.omit(omit).extend(extra),
    r.IssueReport.omit(omit).extend(extra),
    r.PeriodicReport.omit(omit).extend(extra),
    r.InspectionReport.omit(omit).extend(extra),
    r.ReviewReport.omit(omit).extend(extra),
  ]);
})();
const ReportAnswer = z.object({
  reportId: z.string(),
  duplicate: z.boolean().describe('true: this report ID was recorded before; this is the first answer, and nothing more was recorded'),
  stepKey: z.string(),
  status: z.enum(['open', 'done']),
  coverage: z.number().optional().describe('Study conferences: members who attended so far ÷ members'),
  lateByMs: z.number().int().optional(),
});

/** What a committee sends to extend a deadline: the domain's decision, less the committee (the token's unit). */
const ExtendBody = reportSchemas().ExtendDeadline.omit({ committeeCode: true, requestId: true, batchId: true }).extend({ requestId: reportSchemas().ExtendDeadline.shape.requestId.optional() });
const UnitChangeResponse = z.object({
  requestId: z.string(),
  duplicate: z.boolean(),
  unitCode: z.string(),
  op: z.string(),
  changed: z.boolean(),
  summary: z.object({ vi: z.string(), en: z.string() }),
  moved: z.array(z.object({ key: z.string(), previousDueAt: Iso.nullable(), newDueAt: Iso.nullable() })).optional(),
  at: Iso,
});
const ExtendResponse = z.object({ requestId: z.string(), stepKey: z.string(), previousDueAt: Iso, newDueAt: Iso, resolvedEscalations: z.array(z.string()), duplicate: z.boolean() });

/** The unit and its ancestors as the extension rule (domain/escalation.ts mayExtend) needs them. */
const extensionTarget = (u: Awaited<ReturnType<typeof rolloutUnit>>) => ({
  unit: { code: u.row.unit_code, name: u.row.name, level: u.row.level, standingCommittee: u.row.standing_committee },
  ancestors: u.ancestors.map((a) => ({ code: a.code, name: a.name, level: a.level ?? '', standingCommittee: a.standingCommittee === true })),
});

const EscalationParams = z.strictObject({ escalationId: z.string().min(1).max(300) });
const EscalationActionResponse = z.object({
  requestId: z.string(),
  escalationId: z.string(),
  stepKey: z.string(),
  action: z.enum(['acknowledged', 'directed']),
  at: z.string(),
  duplicate: z.boolean(),
});

/** The escalation a committee acts on: 404 if unknown, 403 unless addressed to the token's unit, 409 once resolved. */
async function openEscalationFor(
  db: Kysely<Database>,
  escalationId: string,
  require: (a: 'escalation.act', t: { unit: { code: string; ancestors: ReadonlyArray<string> }; recipientCode: string }) => void,
) {
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
      summary:
        "Import one organisation's hierarchy (CSV or JSON text, the same columns as `trienkhai units import`): a snapshot (one new version per root) or a delta; an import that moves, adds or removes units of an organisation already imported answers 409 with the diff unless `confirm: true`",
      action: 'units.import',
      maxBodyBytes: 20_000_000,
      body: ImportRequest,
      response: z.object({
        version: z.number().int(),
        units: z.number().int(),
        levels: z.array(z.string()),
        roots: z.array(z.string()),
        versions: z.array(z.object({ organisation: z.string(), version: z.number().int(), previousVersion: z.number().int().nullable(), units: z.number().int() })),
        preview: ImportPreviewView,
      }),
      status: 201,
      errors: { 409: 'the import implies changes to an organisation already imported: `details` holds the diff; send `confirm: true` to apply' },
      handler: async ({ body, principal }) => {
        try {
          return await importOrganisation(db, body, `user:${principal.label}`);
        } catch (e) {
          if (e instanceof ConfirmationRequired) throw new HttpError(409, 'confirmation_required', e.issues.map((i) => i.message).join('; '), e.issues, e.preview);
          throw e;
        }
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/hierarchies/{organisation}/changes',
      tag: 'ops',
      summary: 'Apply a dated change to one organisation (the same file as `trienkhai units change`); `dryRun: true` only checks it and shows what it does',
      action: 'units.import',
      params: z.strictObject({ organisation: UnitCode }),
      body: HierarchyChangeRequest.omit({ organisation: true, decidedBy: true }).extend({
        decidedBy: HierarchyChangeRequest.shape.decidedBy.optional(),
        dryRun: z.boolean().optional().describe('only check the change and show what it does (nothing stored)'),
      }),
      response: z.object({
        dryRun: z.boolean(),
        organisation: z.string(),
        effectiveFrom: z.string(),
        previousVersion: z.number().int(),
        version: z.number().int().nullable(),
        units: z.number().int(),
        changes: z.array(z.record(z.string(), z.unknown())),
        lines: z.array(z.object({ vi: z.string(), en: z.string() })),
        lineage: z.array(z.object({ from: z.string().nullable(), to: z.string().nullable(), kind: z.string() })),
      }),
      status: 201,
      handler: async ({ params, body, principal }) => {
        const { dryRun, ...rest } = body;
        return applyHierarchyChanges(db, { ...rest, decidedBy: rest.decidedBy ?? `user:${principal.label}`, organisation: params.organisation }, { dryRun: dryRun === true });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/units/{code}/lineage',
      tag: 'ops',
      summary: 'What a unit became (merged, split, dissolved) and what it came from; `before` follows back only the changes effective on or after that day',
      params: z.strictObject({ code: UnitCode }),
      query: z.strictObject({ before: LocalDate.optional() }),
      response: z.object({
        code: z.string(),
        home: z.object({ organisation: z.string(), latestVersion: z.number().int(), current: z.boolean() }).nullable(),
        successors: z.array(LineageStepView),
        predecessors: z.array(LineageStepView),
        current: z.array(z.string()),
      }),
      handler: async ({ params, query }) => lineage(db, params.code, query.before),
    }),
    route({
      method: 'GET',
      path: '/api/v1/organisations',
      tag: 'ops',
      summary: 'The organisations (root units) and their latest hierarchy versions (the same as `trienkhai units organisations`)',
      response: z.array(
        z.object({
          organisation: z.string(),
          name: z.string(),
          latestVersion: z.number().int(),
          kind: z.string(),
          units: z.number().int(),
          effectiveFrom: z.string().nullable(),
          importedAt: z.string(),
        }),
      ),
      handler: async () => organisations(db),
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts',
      tag: 'rollouts',
      summary: 'Rollouts (for a scoped token: those its unit takes part in)',
      query: z.strictObject(Paging),
      response: Page(Rollout),
      handler: async ({ query, principal }) => {
        const scope = scopeOf(principal);
        return rolloutsPage(db, scope ? { takingPart: scope } : {}, query);
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
      path: '/api/v1/wording',
      tag: 'plans',
      summary: 'The words for event types, step kinds and levels, Vietnamese and English (the table the CLI, emails and dashboard use)',
      public: true,
      response: z.object({
        eventTypes: z.record(z.string(), z.object({ vi: z.string(), en: z.string() })),
        stepKinds: z.record(z.string(), z.object({ vi: z.string(), en: z.string() })),
        levels: z.record(z.string(), z.object({ vi: z.string(), en: z.string() })),
      }),
      handler: async () => wordingTable(),
    }),
    route({
      method: 'GET',
      path: '/api/v1/plans',
      tag: 'plans',
      summary: 'The built-in plans a rollout can be started with (`plan` in POST /api/v1/rollouts); the same as `trienkhai plan show`',
      response: z.array(z.object({ id: z.string(), title: z.string(), steps: z.number().int() })),
      handler: async () =>
        Object.keys(BUILT_IN_PLANS).map((name) => {
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
      handler: async ({ params }) => rolloutOverview(db, params.rolloutId),
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
        return unitsPage(db, params.rolloutId, { ...(wholeSubtree ? { within: anchor } : { parent: anchor }), overdueOnly: query.overdue === 'true' }, { page: query.page, pageSize: query.pageSize });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/units/{unitCode}',
      tag: 'rollouts',
      summary: "A unit's page: the unit, its ancestors, every step and every escalation about it",
      params: UnitParams,
      response: UnitDetail,
      handler: async ({ params, require }) => {
        const u = await rolloutUnit(db, params.rolloutId, params.unitCode);
        require('unit.read', { unit: u.target });
        return unitDetail(db, params.rolloutId, params.unitCode);
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/units/{unitCode}/timeline',
      tag: 'audit',
      summary: "A unit's story from the audit record: reports, reminders, missed deadlines, escalations, extensions, completions; paged",
      params: UnitParams,
      query: z.strictObject({ lang: Lang, ...Paging }),
      response: Page(TimelineEntry),
      handler: async ({ params, query, require }) => {
        const u = await rolloutUnit(db, params.rolloutId, params.unitCode);
        require('unit.read', { unit: u.target });
        return timelinePage(db, params.rolloutId, params.unitCode, query.lang, { page: query.page, pageSize: query.pageSize });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/rollouts/{rolloutId}/units/{unitCode}/reports',
      tag: 'units',
      summary: "A unit's report for one of its steps (an inspector's for a supervise step); the same fields as `trienkhai report --file`. `reportId` makes it idempotent",
      params: UnitParams,
      body: ReportBody,
      response: ReportAnswer,
      status: 201,
      handler: async ({ params, body, principal, require }) => {
        const u = await rolloutUnit(db, params.rolloutId, params.unitCode);
        require('report.submit', { unit: u.target, stepKind: body.kind });
        return submitReport(await ops(), params.rolloutId, {
          ...body,
          reportId: body.reportId ?? newRequestId('api'),
          reportedBy: body.reportedBy ?? principal.label,
          unitCode: params.unitCode,
        } as StepReportInput);
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/escalations',
      tag: 'committees',
      summary: "Escalations, newest last: a standing committee's inbox is `recipient=<its unit>&status=open`; a scoped token sees only its subtree",
      query: z.strictObject({
        rolloutId: z.string().max(100).optional(),
        recipient: z.string().max(64).optional(),
        unit: z.string().max(64).optional(),
        status: z.enum(['open', 'resolved', 'all']).default('open'),
        ...Paging,
      }),
      response: Page(Escalation),
      handler: async ({ query, principal }) => {
        const f = {
          ...(query.rolloutId ? { rolloutId: query.rolloutId } : {}),
          ...(query.recipient ? { recipient: query.recipient } : {}),
          ...(query.unit ? { unitCode: query.unit } : {}),
          ...(query.status !== 'all' ? { status: query.status } : {}),
          ...(scopeOf(principal) ? { within: scopeOf(principal)! } : {}),
        };
        return escalationsPage(db, f, { page: query.page, pageSize: query.pageSize });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/escalations/{escalationId}/extend',
      tag: 'committees',
      summary: 'The standing committee an escalation is addressed to extends the deadline, with a reason; the escalation is resolved',
      params: EscalationParams,
      body: z.strictObject({
        until: z.string().min(1).max(40).describe('A date (end of that day, Vietnam time) or an ISO instant'),
        reason: z.string().min(1).max(2000),
        decision: z.string().max(2000).optional(),
        decidedBy: z.string().max(200).optional(),
        requestId: z.string().max(100).optional(),
      }),
      response: z.object({ stepKey: z.string(), previousDueAt: Iso, newDueAt: Iso, resolvedEscalations: z.array(z.string()), duplicate: z.boolean() }).passthrough(),
      status: 201,
      handler: async ({ params, body, principal, require }) => {
        const esc = await openEscalationFor(db, params.escalationId, require);
        const step = await db
          .selectFrom('unit_steps')
          .select(['step_id', 'occurrence'])
          .where('rollout_id', '=', esc.rollout_id)
          .where('unit_code', '=', esc.unit_code)
          .where('step_key', '=', esc.step_key)
          .executeTakeFirstOrThrow();
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
      path: '/api/v1/rollouts/{rolloutId}/units/{unitCode}/extend',
      tag: 'committees',
      summary:
        "A standing committee above the unit extends one of its deadlines (gia hạn), with a reason, whether or not an escalation has reached it yet; the step's open escalations are resolved and its timers reset. The same rule as `trienkhai extend`",
      params: UnitParams,
      body: ExtendBody,
      response: ExtendResponse,
      status: 201,
      handler: async ({ params, body, principal, require }) => {
        const u = await rolloutUnit(db, params.rolloutId, params.unitCode);
        require('deadline.extend', { extension: extensionTarget(u) });
        return extendDeadline(await ops(), params.rolloutId, params.unitCode, {
          ...body,
          requestId: body.requestId ?? newRequestId('api-ext'),
          committeeCode: principal.unitCode!,
          decidedBy: body.decidedBy ?? principal.label,
        });
      },
    }),
    ...(
      [
        ['suspend', 'suspend', "Stop the unit's deadline clock (floods, a merger in progress): no reminder, deadline or escalation fires until it resumes. The same as `trienkhai rollout suspend`"],
        ['resume', 'resume', "Restart the unit's deadline clock: every unfinished deadline moves by the time suspended. The same as `trienkhai rollout resume`"],
        ['cancelUnit', 'cancel', 'Stop following the unit and its subtree (not the root: cancel the rollout). The same as `trienkhai rollout cancel-unit`'],
      ] as const
    ).map(([op, verb, summary]) =>
      route({
        method: 'POST',
        path: `/api/v1/rollouts/{rolloutId}/units/{unitCode}/${verb}`,
        tag: 'committees',
        summary: `${summary}. Ops, or a standing committee above the unit`,
        params: UnitParams,
        body: z.strictObject({ reason: Text({ max: 2000, multiline: true }), decidedBy: Text({ max: 200 }).optional(), requestId: RequestId.optional() }),
        response: UnitChangeResponse,
        status: 201,
        handler: async ({ params, body, principal, require }) => {
          const u = await rolloutUnit(db, params.rolloutId, params.unitCode);
          require('unit.change', { extension: extensionTarget(u) });
          const who = principal.role === 'committee' ? `committee:${principal.unitCode}${body.decidedBy ? `/${body.decidedBy}` : ''}` : `user:${body.decidedBy ?? principal.label}`;
          return changeUnit(await ops(), params.rolloutId, params.unitCode, { op, requestId: body.requestId ?? newRequestId(`api-${verb}`), reason: body.reason, decidedBy: who });
        },
      }),
    ),
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
        if (esc.acknowledged_at && !body.requestId)
          throw new HttpError(409, 'conflict', `the escalation was already acknowledged at ${toLocalIso(new Date(esc.acknowledged_at))} by ${esc.acknowledged_by}`);
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
      body: z.strictObject({
        directive: z.string().min(1).max(2000),
        respondBy: LocalDate.optional().describe('YYYY-MM-DD'),
        decidedBy: z.string().max(200).optional(),
        requestId: z.string().max(100).optional(),
      }),
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
        return cancelRollout(await ops(), params.rolloutId, { requestId: body.requestId ?? newRequestId('api-cancel'), reason: body.reason, requestedBy: `user:${principal.label}` });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/timeline',
      tag: 'audit',
      summary: "The whole rollout's story from the audit record; paged",
      action: 'rollout.overview',
      params: RolloutParams,
      query: z.strictObject({ lang: Lang, ...Paging }),
      response: Page(TimelineEntry),
      handler: async ({ params, query }) => timelinePage(db, params.rolloutId, undefined, query.lang, { page: query.page, pageSize: query.pageSize }),
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
        let at: Date;
        try {
          at = parseDeadlineText(query.at).at;
        } catch (e) {
          throw new HttpError(400, 'bad_request', `query.at: ${e instanceof Error ? e.message : String(e)}`, [{ path: 'query.at', message: e instanceof Error ? e.message : String(e) }]);
        }
        return rolloutOverviewAsOf(db, params.rolloutId, at);
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/audit/verify',
      tag: 'audit',
      summary: 'Prove the audit record intact (hash chain); each problem pinned to its row',
      action: 'rollout.overview',
      response: z.object({
        ok: z.boolean(),
        events: z.number().int(),
        head: z.object({ seq: z.number().int(), hash: z.string() }),
        problems: z.array(z.object({ kind: z.string(), chainSeq: z.number().int(), eventId: z.string().nullable(), message: z.string() })),
      }),
      handler: async () => verifyChain(db),
    }),
    ...batchRoutes(deps),
    ...notificationRoutes(deps),
    ...calendarRoutes(deps),
    ...dashboardRoutes(deps),
  ] as Route[];
}
