/**
 * The batch routes (app/batches.ts): preview a filter, start a confirmed batch, follow it (the same
 * request as `trienkhai batch …`); and amending a rollout's plan, which runs as a batch
 * (app/amendments.ts, `trienkhai rollout amend`). Who may start one is decided in access.ts (`batch.run`); which
 * units it reaches, by app/batches.ts (a committee: only the units it stands above).
 */
import { z } from 'zod';
import { batchStatus, previewBatch, rolloutBatches, startBatch, type BatchRequester } from '../app/batches';
import { newRequestId } from '../app/commands';
import { amendRollout, planVersions, previewAmendment } from '../app/amendments';
import { followHierarchy, previewFollow } from '../app/reshape';
import { applyCalendar, previewRollout as previewCalendarChange } from '../app/recalendar';
import { LocalDate } from '../domain/time';
import { requireRollout } from '../app/reads';
import { BatchAction, BatchFilter, Fingerprint } from '../domain/batches';
import { RequestId, UnitCode } from '../domain/codes';
import { Text } from '../domain/text';
import type { Principal } from '../app/tokens';
import { route, type Route } from './http';
import type { ApiDeps } from './routes';

const RolloutParams = z.strictObject({ rolloutId: z.string().min(1).max(100) });
/** What confirms a preview: its fingerprint; and this decision's ID and who decided, if not the token's label. */
const Confirm = { fingerprint: Fingerprint, batchId: RequestId.optional(), decidedBy: Text({ max: 200 }).optional() };
const Counts = z.object({ pending: z.number().int(), done: z.number().int(), unchanged: z.number().int(), refused: z.number().int() });
const Body = {
  filter: BatchFilter,
  action: BatchAction,
  reason: Text({ max: 2000, multiline: true }),
  committee: UnitCode.optional().describe("The deciding standing committee: the token's own unit for a committee token; required of ops for extend, direct and acknowledge"),
};
const Preview = z.object({
  rolloutId: z.string(),
  action: z.string(),
  title: z.object({ vi: z.string(), en: z.string() }),
  committee: z.string().nullable(),
  units: z.number().int(),
  sample: z.array(z.object({ code: z.string(), name: z.string(), level: z.string(), dueAt: z.string().nullable(), suspended: z.boolean() })),
  leftOut: z.number().int(),
  leftOutSample: z.array(z.string()),
  fingerprint: z.string().describe('Send it back to start the batch: it starts only if the filter still reaches exactly these units'),
});
const Status = z.object({
  batchId: z.string(),
  rolloutId: z.string(),
  action: z.string(),
  params: z.record(z.string(), z.unknown()),
  filter: z.record(z.string(), z.unknown()),
  committee: z.string().nullable(),
  decidedBy: z.string(),
  reason: z.string(),
  status: z.enum(['running', 'completed']),
  units: z.number().int(),
  counts: Counts,
  startedAt: z.string(),
  completedAt: z.string().nullable(),
  items: z.array(z.object({ unitCode: z.string(), status: z.enum(['pending', 'done', 'unchanged', 'refused']), message: z.string().nullable() })),
});

const requesterOf = (p: Principal): BatchRequester => (p.role === 'committee' ? { role: 'committee', unitCode: p.unitCode! } : { role: 'ops' });
const decidedByOf = (p: Principal, person?: string): string => (p.role === 'committee' ? `committee:${p.unitCode}/${person ?? p.label}` : `user:${person ?? p.label}`);

const AmendBody = {
  plan: z.record(z.string(), z.unknown()).describe('The whole amended plan (the same JSON as a plan file; the same id as the running plan)'),
  reason: Text({ max: 2000, multiline: true }),
  keepExtensions: z.boolean().default(true).describe("Keep a unit's own extension of a deadline the amendment moves (default), or set it by the new rule"),
};
const AmendPreview = z.object({
  rolloutId: z.string(),
  planId: z.string(),
  fromVersion: z.number().int(),
  toVersion: z.number().int(),
  planHash: z.string(),
  changes: z.array(z.object({ vi: z.string(), en: z.string() })),
  units: z.number().int(),
  steps: z.array(z.object({ stepId: z.string(), change: z.enum(['added', 'removed', 'changed']), units: z.number().int(), levels: z.array(z.string()).nullable() })),
  keepExtensions: z.boolean(),
  extended: z.number().int(),
  fingerprint: z.string(),
});

const RecalendarBody = {
  calendarId: Text({ max: 100 }).optional().describe('The calendar (default: vn-official)'),
  version: z.number().int().min(1).optional().describe('Its version (default: the newest)'),
  reason: Text({ max: 2000, multiline: true }),
};
const FollowBody = {
  toVersion: z.number().int().min(1).optional().describe("The hierarchy version to follow (default: the latest of the rollout's organisation)"),
  effectiveFrom: LocalDate.optional().describe("When the change took effect (default: the version's own date, else today)"),
  reason: Text({ max: 2000, multiline: true }),
};
const FollowPreviewOut = z.object({
  rolloutId: z.string(),
  fromVersion: z.number().int(),
  toVersion: z.number().int(),
  counts: z.object({ reshaped: z.number().int(), merged: z.number().int(), dissolved: z.number().int(), started: z.number().int(), adopted: z.number().int(), released: z.number().int() }),
  changes: z.array(z.object({ code: z.string(), op: z.enum(['adoptChild', 'reshape', 'merge', 'dissolve', 'releaseChild']) }).passthrough()),
  openStepsEnding: z.number().int(),
  openEscalations: z.number().int(),
  fingerprint: z.string(),
});

export function batchRoutes(deps: ApiDeps): Route[] {
  const { db } = deps;
  return [
    route({
      method: 'POST',
      path: '/api/v1/rollouts/{rolloutId}/amend/preview',
      tag: 'ops',
      summary: "Preview an amendment of a running rollout's plan: each change, the units per step it reaches; 409 if it removes a step some unit started (naming them). Nothing is recorded",
      action: 'rollout.amend',
      params: RolloutParams,
      body: z.strictObject(AmendBody),
      response: AmendPreview,
      handler: async ({ params, body, principal }) => previewAmendment(db, params.rolloutId, { ...body, decidedBy: decidedByOf(principal) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/rollouts/{rolloutId}/amend',
      tag: 'ops',
      summary:
        "Apply a previewed amendment (send the preview's fingerprint): recorded as the plan's next version (RolloutAmended), then every running unit applies it (a batch: follow it at /api/v1/batches/{batchId}). The same batchId again changes nothing",
      action: 'rollout.amend',
      params: RolloutParams,
      body: z.strictObject({ ...AmendBody, ...Confirm }),
      response: z.object({ rolloutId: z.string(), planId: z.string(), version: z.number().int(), planHash: z.string(), batchId: z.string(), units: z.number().int(), alreadyApplied: z.boolean() }),
      status: 202,
      handler: async ({ params, body, principal }) => {
        const { decidedBy, ...rest } = body;
        return amendRollout({ db, client: await deps.client() }, params.rolloutId, { ...rest, decidedBy: decidedByOf(principal, decidedBy) });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/rollouts/{rolloutId}/follow/preview',
      tag: 'ops',
      summary:
        "Preview making a running rollout follow a newer version of its organisation's hierarchy: each running unit's change (reshaped, merged into, dissolved, started, adopted, released), open steps and escalations concerned. Nothing is recorded",
      action: 'rollout.amend',
      params: RolloutParams,
      body: z.strictObject(FollowBody),
      response: FollowPreviewOut,
      handler: async ({ params, body, principal }) => previewFollow(db, params.rolloutId, { ...body, decidedBy: decidedByOf(principal) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/rollouts/{rolloutId}/follow',
      tag: 'ops',
      summary:
        "Apply a previewed hierarchy change to the running rollout (send the preview's fingerprint): RolloutHierarchyChanged, then each unit's change as a batch (follow it at /api/v1/batches/{batchId})",
      action: 'rollout.amend',
      params: RolloutParams,
      body: z.strictObject({ ...FollowBody, ...Confirm }),
      response: z.object({ rolloutId: z.string(), fromVersion: z.number().int(), toVersion: z.number().int(), batchId: z.string(), units: z.number().int(), alreadyApplied: z.boolean() }),
      status: 202,
      handler: async ({ params, body, principal }) => {
        const { decidedBy, ...rest } = body;
        return followHierarchy({ db, client: await deps.client() }, params.rolloutId, { ...rest, decidedBy: decidedByOf(principal, decidedBy) });
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/rollouts/{rolloutId}/recalendar/preview',
      tag: 'ops',
      summary: 'Preview a calendar version for a running rollout: per unit, each working-day deadline that would move (old and new). Nothing is recorded',
      action: 'rollout.amend',
      params: RolloutParams,
      body: z.strictObject(RecalendarBody),
      response: z.object({
        rolloutId: z.string(),
        calendar: z.object({ id: z.string(), version: z.number().int() }),
        units: z.array(z.object({ unitCode: z.string(), moved: z.array(z.object({ key: z.string(), previousDueAt: z.string(), newDueAt: z.string() })), keptExtensions: z.array(z.string()) })),
        unchanged: z.number().int(),
        fingerprint: z.string(),
      }),
      handler: async ({ params, body, principal }) => previewCalendarChange(db, params.rolloutId, { ...body, decidedBy: decidedByOf(principal) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/rollouts/{rolloutId}/recalendar',
      tag: 'ops',
      summary: "Apply a previewed calendar version to every running unit (send the preview's fingerprint): a batch; each moved deadline is recorded with both calendar versions",
      action: 'rollout.amend',
      params: RolloutParams,
      body: z.strictObject({ ...RecalendarBody, ...Confirm }),
      response: z.object({ batchId: z.string(), rolloutId: z.string(), units: z.number().int(), alreadyStarted: z.boolean() }),
      status: 202,
      handler: async ({ params, body, principal }) => {
        const { decidedBy, ...rest } = body;
        return applyCalendar({ db, client: await deps.client() }, params.rolloutId, { ...rest, decidedBy: decidedByOf(principal, decidedBy) });
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/plan',
      tag: 'rollouts',
      summary: 'The plan a rollout runs now, its version and hash, and every version before it (who, when, why, what changed); the same as `trienkhai plan show --rollout`',
      action: 'rollout.overview',
      params: RolloutParams,
      response: z.object({
        rolloutId: z.string(),
        planId: z.string(),
        version: z.number().int(),
        planHash: z.string(),
        plan: z.record(z.string(), z.unknown()),
        versions: z.array(z.object({ version: z.number().int(), at: z.string(), by: z.string(), reason: z.string().nullable(), changes: z.array(z.string()) })),
      }),
      handler: async ({ params }) => planVersions(db, params.rolloutId) as never,
    }),
    route({
      method: 'POST',
      path: '/api/v1/rollouts/{rolloutId}/batches/preview',
      tag: 'committees',
      summary: 'Preview a batch: how many running units the filter reaches (for a committee: only those it stands above), a sample, and the fingerprint that confirms it. Nothing is recorded',
      action: 'batch.run',
      params: RolloutParams,
      body: z.strictObject(Body),
      response: Preview,
      handler: async ({ params, body, principal }) => previewBatch(db, params.rolloutId, { ...body, decidedBy: decidedByOf(principal) }, requesterOf(principal)),
    }),
    route({
      method: 'POST',
      path: '/api/v1/rollouts/{rolloutId}/batches',
      tag: 'committees',
      summary:
        "Start a previewed batch (send the preview's fingerprint): the batch workflow applies the action to every unit, each as if alone, with the batch ID on its event. 409 if the units changed since the preview; the same batchId again starts nothing new",
      action: 'batch.run',
      params: RolloutParams,
      body: z.strictObject({ ...Body, ...Confirm }),
      response: z.object({ batchId: z.string(), rolloutId: z.string(), units: z.number().int(), alreadyStarted: z.boolean() }),
      status: 202,
      handler: async ({ params, body, principal }) => {
        const { decidedBy, batchId, ...rest } = body;
        return startBatch(
          { db, client: await deps.client() },
          params.rolloutId,
          { ...rest, decidedBy: decidedByOf(principal, decidedBy), batchId: batchId ?? newRequestId('batch') },
          requesterOf(principal),
        );
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/rollouts/{rolloutId}/batches',
      tag: 'committees',
      summary: "A rollout's batches, newest first (a committee token: those its committee decided)",
      params: RolloutParams,
      response: z.array(
        z.object({
          batchId: z.string(),
          action: z.string(),
          title: z.object({ vi: z.string(), en: z.string() }),
          counts: Counts,
          committee: z.string().nullable(),
          units: z.number().int(),
          status: z.enum(['running', 'completed']),
          decidedBy: z.string(),
          reason: z.string(),
          startedAt: z.string(),
        }),
      ),
      handler: async ({ params, principal, require }) => {
        await requireRollout(db, params.rolloutId);
        require('batch.read', principal.role === 'committee' ? { batch: { committee: principal.unitCode } } : {});
        const rows = await rolloutBatches(db, params.rolloutId, 200);
        return principal.role === 'committee' ? rows.filter((b) => b.committee === principal.unitCode) : rows;
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/batches/{batchId}',
      tag: 'committees',
      summary: "A batch's progress (counts per result) and its units' results, paged (`only`: done, unchanged, refused, pending)",
      params: z.strictObject({ batchId: RequestId }),
      query: z.strictObject({
        only: z.enum(['pending', 'done', 'unchanged', 'refused']).optional(),
        page: z.coerce.number().int().min(1).default(1),
        pageSize: z.coerce.number().int().min(1).max(500).default(100),
      }),
      response: Status,
      handler: async ({ params, query, require }) => {
        const st = await batchStatus(db, params.batchId, { ...(query.only ? { status: query.only } : {}), limit: query.pageSize, offset: (query.page - 1) * query.pageSize });
        require('batch.read', { batch: { committee: st.committee } });
        return st;
      },
    }),
  ] as Route[];
}
