/**
 * Commands: what a user can do (import, start, report, extend, acknowledge, direct, cancel), as one
 * function each. The CLI, the HTTP API and the dashboard (through the API) are thin layers over these.
 * Every input is validated completely before anything is recorded or started.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, SearchAttributeType, TypedSearchAttributes, defineSearchAttributeKey } from '@temporalio/common';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database';
import { canonicalJson } from '../db/links';
import { latestVersionOfUnit, levelsOfVersion, getUnit, subtree, type ImportResult } from '../db/hierarchy';
import { importOrganisation } from './hierarchies';
import { getRollout, getRolloutUnit } from '../db/queries';
import { DomainError } from '../domain/errors';
import { parseDocumentNumber } from '../domain/documents';
import { parentLevelsOf, type Unit } from '../domain/hierarchy';
import { parsePlan, validatePlanForHierarchy, type Plan } from '../domain/plan';
import { BUILT_IN_PLANS } from '../domain/default-plans';
import {
  reportSchemas,
  type AcknowledgeEscalationInput,
  type CancelResult,
  type CancelRolloutInput,
  type DirectEscalationInput,
  type EscalationActionResult,
  type ExtendDeadlineInput,
  type ExtendResult,
  type ReportResult,
  type StepReportInput,
} from '../domain/reports';
import { LocalDate, toLocalIso } from '../domain/time';
import {
  acknowledgeEscalationUpdate,
  cancelRolloutUpdate,
  changeUnitUpdate,
  directEscalationUpdate,
  extendDeadlineUpdate,
  reportStepUpdate,
  rolloutWorkflowId,
  TASK_QUEUE,
  unitWorkflowId,
} from '../workflows/definitions';
import { rolloutWorkflow } from '../workflows/rollout';
import { changeSchemas, type UnitChangeInput, type UnitChangeResult } from '../domain/changes';
import { executeUpdateWithRetry } from './update-retry';
import { z } from 'zod';
import { RolloutId, UnitCode } from '../domain/codes';
import { Text } from '../domain/text';

export interface Deps {
  db: Kysely<Database>;
  client: Client;
  taskQueue?: string;
  /** False where the server has no custom search attributes registered (the time-skipping test server). */
  searchAttributes?: boolean;
}

const ROLLOUT_SEARCH_ATTRIBUTE = defineSearchAttributeKey('TrienkhaiRollout', SearchAttributeType.KEYWORD);

/**
 * Import a hierarchy file (CSV or JSON) as a new version of each organisation (root) it holds, applying
 * whatever changes it implies (the callers that want a preview and confirmation use
 * app/hierarchies.ts importOrganisation). Throws DomainError listing every bad row.
 */
export async function importUnits(db: Kysely<Database>, fileName: string, content: string, importedBy: string, parsed?: Unit[]): Promise<ImportResult> {
  const { preview: _preview, ...result } = await importOrganisation(db, { fileName, content, confirm: true }, importedBy, parsed);
  return result;
}

/** A plan given as a built-in name or as parsed JSON. */
export function resolvePlan(plan: string | unknown): Plan {
  if (typeof plan === 'string') {
    const builtIn = BUILT_IN_PLANS[plan];
    if (!builtIn) throw DomainError.of('plan', `unknown built-in plan "${plan}" (built-in plans: ${Object.keys(BUILT_IN_PLANS).join(', ')}; or give a JSON file)`);
    return parsePlan(builtIn);
  }
  return parsePlan(plan);
}

export const StartRolloutRequest = z.strictObject({
  resolution: Text({ max: 60 }),
  resolutionDate: LocalDate,
  title: Text({ max: 500 }),
  rootUnit: UnitCode,
  plan: z.unknown(),
  rolloutId: RolloutId.optional(),
  hierarchyVersion: z.number().int().min(1).optional(),
  requestedBy: Text({ max: 200 }).default('user:ops'),
});
export type StartRolloutRequest = z.input<typeof StartRolloutRequest>;

export interface StartRolloutResult {
  rolloutId: string;
  workflowId: string;
  alreadyStarted: boolean;
  hierarchyVersion: number;
  units: number;
  planId: string;
}

/** The default rollout ID: the resolution's identity (number + date) and the root, as a slug. */
export function defaultRolloutId(resolutionText: string, date: string, root: string): string {
  const slug = resolutionText
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, (c) => (c === 'đ' ? 'd' : 'D'))
    .replace(/[^A-Za-z0-9]+/g, '-');
  return `${slug}.${date}.${root}`;
}

/**
 * Start a rollout: validate the resolution number, the plan and the pinned hierarchy, then start the
 * rollout workflow. A repeated start (same ID) is harmless and reports `alreadyStarted`.
 */
export async function startRollout(deps: Deps, request: StartRolloutRequest): Promise<StartRolloutResult> {
  const parsed = StartRolloutRequest.safeParse(request);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const req = parsed.data;
  const doc = (() => {
    try {
      return parseDocumentNumber(req.resolution);
    } catch (e) {
      if (e instanceof DomainError) throw new DomainError(e.issues.map((i) => ({ path: 'resolution', message: i.message })));
      throw e;
    }
  })();
  const plan = resolvePlan(req.plan);
  // The latest version of the root's own organisation: another province's import is not this rollout's business.
  const version = req.hierarchyVersion ?? (await latestVersionOfUnit(deps.db, req.rootUnit));
  if (version === undefined) throw DomainError.of('root', `unit "${req.rootUnit}" is not in the latest hierarchy of any organisation: import it first (trienkhai units import <file>)`);
  const root = await getUnit(deps.db, version, req.rootUnit);
  if (!root) throw DomainError.of('root', `unit "${req.rootUnit}" is not in hierarchy version ${version}`);
  const units = await subtree(deps.db, version, req.rootUnit);
  // A plan may name levels this subtree lacks (a province-wide plan started at one district), but not
  // levels the hierarchy does not have at all: that is a typo.
  const levels = [...new Set([...units.map((u) => u.level), ...(await levelsOfVersion(deps.db, version))])];
  validatePlanForHierarchy(plan, levels, parentLevelsOf(units));

  const rolloutId = req.rolloutId ?? defaultRolloutId(doc.text, req.resolutionDate, req.rootUnit);
  const workflowId = rolloutWorkflowId(rolloutId);
  const base = { rolloutId, workflowId, units: units.length };
  /**
   * Only an identical repeat is harmless (a retry after a timeout); the same ID with another body is
   * a different rollout, refused with what differs.
   */
  const repeatOf = (existing: NonNullable<Awaited<ReturnType<typeof getRollout>>>): StartRolloutResult => {
    const was = (path: string, then: unknown, now: unknown) =>
      then === now
        ? []
        : [
            {
              path,
              message: `rollout ${rolloutId} already exists with ${path} ${JSON.stringify(then)}; this request has ${JSON.stringify(now)} (nothing was started; use another --id to start a different rollout)`,
            },
          ];
    const differs = [
      ...was('resolution', existing.resolution_text, doc.text),
      ...was('resolutionDate', String(existing.resolution_date), req.resolutionDate),
      ...was('title', existing.resolution_title, req.title),
      ...was('rootUnit', existing.root_unit, req.rootUnit),
      ...(req.hierarchyVersion !== undefined ? was('hierarchyVersion', existing.hierarchy_version, req.hierarchyVersion) : []),
      ...(canonicalJson(existing.plan) !== canonicalJson(plan)
        ? [{ path: 'plan', message: `rollout ${rolloutId} already exists with plan "${existing.plan_id}" as it was then; this request's plan "${plan.id}" is not the same (nothing was started)` }]
        : []),
    ];
    if (differs.length) throw new DomainError(differs, 'conflict');
    return { ...base, hierarchyVersion: existing.hierarchy_version, planId: existing.plan_id, alreadyStarted: true };
  };
  const existing = await getRollout(deps.db, rolloutId);
  if (existing) return repeatOf(existing);
  try {
    await deps.client.workflow.start(rolloutWorkflow, {
      taskQueue: deps.taskQueue ?? TASK_QUEUE,
      workflowId,
      args: [
        {
          rolloutId,
          resolution: { document: { text: doc.text, issuer: doc.issuer, type: doc.type, number: doc.number, date: req.resolutionDate }, title: req.title },
          plan,
          rootUnit: req.rootUnit,
          hierarchyVersion: version,
          units: units.length,
          requestedBy: req.requestedBy,
        },
      ],
      // Lets ops find a rollout in the Temporal Web UI; registered by `trienkhai up` (--search-attribute).
      ...(deps.searchAttributes === false ? {} : { typedSearchAttributes: new TypedSearchAttributes([{ key: ROLLOUT_SEARCH_ATTRIBUTE, value: rolloutId }]) }),
    });
    return { ...base, hierarchyVersion: version, planId: plan.id, alreadyStarted: false };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    // Started a moment ago by another request, not recorded yet: wait for its RolloutStarted (the
    // rollout workflow's first act), then compare as above.
    for (let waited = 0; waited < START_RECORD_WAIT_MS; waited += 250) {
      const recorded = await getRollout(deps.db, rolloutId);
      if (recorded) return repeatOf(recorded);
      await new Promise((r) => setTimeout(r, 250));
    }
    throw DomainError.conflict('rolloutId', `rollout ${rolloutId} is being started by another request and is not recorded yet; repeat the request in a moment (nothing was started by this one)`);
  }
}

/** How long a repeated start waits for a concurrent start's RolloutStarted before answering 409. */
const START_RECORD_WAIT_MS = 15_000;

/** Turn a rejected Update into the DomainError it carries (bad input → exit code 2). */
function unwrapUpdateError(e: unknown, where: string): never {
  if (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure) {
    const issues = (e.cause.details?.[0] as Array<{ path: string; message: string }> | undefined) ?? [{ path: '', message: e.cause.message }];
    throw new DomainError(issues);
  }
  if (e instanceof WorkflowNotFoundError) throw DomainError.of('unit', `${where} is not part of a running rollout (check the rollout id and unit code)`);
  throw e;
}

/** Send a unit's report for one of its steps. Returns the workflow's answer (duplicates return the first answer). */
export async function submitReport(deps: Deps, rolloutId: string, input: StepReportInput): Promise<ReportResult> {
  const parsed = reportSchemas().StepReport.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const report = parsed.data;
  // A report ID the audit record holds was recorded: answer as the first time did, also after the unit,
  // its subtree or the rollout has finished (and its workflow is gone), and years later.
  const first = await recordedReport(deps.db, rolloutId, report.unitCode, report.reportId);
  if (first) return first;
  const unit = await getRolloutUnit(deps.db, rolloutId, report.unitCode);
  if (!unit) {
    if (!(await getRollout(deps.db, rolloutId))) throw DomainError.notFound('rolloutId', `no rollout "${rolloutId}"`);
    throw DomainError.notFound('unitCode', `unit "${report.unitCode}" is not part of rollout ${rolloutId} (or has not been enrolled yet)`);
  }
  if (unit.status === 'completed')
    throw DomainError.of(
      'unitCode',
      `unit ${report.unitCode} completed all of its steps (and its subtree) on ${toLocalIso(new Date(unit.completed_at ?? 0))}; there is nothing left to report (nothing was recorded)`,
    );
  if (unit.status === 'cancelled') throw DomainError.of('unitCode', `the rollout was cancelled: unit ${report.unitCode} no longer takes reports (nothing was recorded)`);
  const handle = deps.client.workflow.getHandle(unitWorkflowId(rolloutId, report.unitCode));
  try {
    // No Temporal update ID: the workflow's own deduplication (which survives continue-as-new) answers a
    // repeated report ID with `duplicate: true`, so the user is told it counted once.
    return await executeUpdateWithRetry(handle, reportStepUpdate, [input], { db: deps.db });
  } catch (e) {
    // The workflow may have recorded it and finished in between.
    const recorded = await recordedReport(deps.db, rolloutId, report.unitCode, report.reportId);
    if (recorded) return recorded;
    return unwrapUpdateError(e, `unit ${report.unitCode} of rollout ${rolloutId}`);
  }
}

const REPORT_EVENTS = ['StudySessionReported', 'PlanDrafted', 'PlanIssued', 'PeriodicReportSubmitted', 'InspectionRecorded', 'ReviewSubmitted'] as const;

/**
 * The answer a recorded report got, rebuilt from the audit record: the report's event, and the
 * StepCompleted the same report recorded right after it (the workflow emits them together).
 */
export async function recordedReport(db: Kysely<Database>, rolloutId: string, unitCode: string, reportId: string): Promise<ReportResult | undefined> {
  const row = await db
    .selectFrom('events')
    .select(['stream_id', 'stream_seq', 'type', 'payload'])
    .where('rollout_id', '=', rolloutId)
    .where('unit_code', '=', unitCode)
    .where('type', 'in', [...REPORT_EVENTS])
    .where(sql<boolean>`payload->>'reportId' = ${reportId}`)
    .orderBy('stream_seq')
    .executeTakeFirst();
  if (!row) return undefined;
  const p = row.payload as { key: string; totalAttended?: number; members?: number };
  const done = await db
    .selectFrom('events')
    .select(['payload'])
    .where('stream_id', '=', row.stream_id)
    .where('stream_seq', '=', row.stream_seq + 1)
    .where('type', '=', 'StepCompleted')
    .executeTakeFirst();
  const completed = done && (done.payload as { key: string }).key === p.key ? (done.payload as { lateByMs: number }) : undefined;
  return {
    reportId,
    duplicate: true,
    stepKey: p.key,
    status: completed ? 'done' : 'open',
    ...(row.type === 'StudySessionReported' ? { coverage: p.members ? (p.totalAttended ?? 0) / p.members : 1 } : {}),
    ...(completed ? { lateByMs: completed.lateByMs } : {}),
  };
}

/** A standing committee extends a unit's deadline. */
export async function extendDeadline(deps: Deps, rolloutId: string, unitCode: string, input: ExtendDeadlineInput): Promise<ExtendResult> {
  const parsed = reportSchemas().ExtendDeadline.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const handle = deps.client.workflow.getHandle(unitWorkflowId(rolloutId, unitCode));
  try {
    return await executeUpdateWithRetry(handle, extendDeadlineUpdate, [input], { db: deps.db });
  } catch (e) {
    return unwrapUpdateError(e, `unit ${unitCode} of rollout ${rolloutId}`);
  }
}

/**
 * A change to one running unit beyond reports (domain/changes.ts): suspend or resume its deadline
 * clock, stop following it. The unit must be part of the rollout; its workflow decides the rest.
 */
export async function changeUnit(deps: Deps, rolloutId: string, unitCode: string, input: UnitChangeInput): Promise<UnitChangeResult> {
  const parsed = changeSchemas().UnitChange.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  if (!(await getRolloutUnit(deps.db, rolloutId, unitCode))) throw DomainError.notFound('unitCode', `unit "${unitCode}" is not part of rollout ${rolloutId}`);
  const handle = deps.client.workflow.getHandle(unitWorkflowId(rolloutId, unitCode));
  try {
    return await executeUpdateWithRetry(handle, changeUnitUpdate, [input], { db: deps.db });
  } catch (e) {
    return unwrapUpdateError(e, `unit ${unitCode} of rollout ${rolloutId}`);
  }
}

/** An escalation as the read model knows it (the unit it is about, the committee it is addressed to). */
export async function findEscalation(db: Kysely<Database>, escalationId: string) {
  const e = await db.selectFrom('escalations').selectAll().where('escalation_id', '=', escalationId).executeTakeFirst();
  if (!e) throw DomainError.of('escalationId', `no escalation "${escalationId}" (list them with "trienkhai escalations")`);
  return e;
}

/**
 * The committee an escalation is addressed to acknowledges it, or directs the unit. The escalation is
 * found in the read model; the unit's workflow checks it is still open and addressed to that committee.
 */
export async function actOnEscalation(deps: Deps, action: 'acknowledge' | 'direct', input: AcknowledgeEscalationInput | DirectEscalationInput): Promise<EscalationActionResult> {
  const schema = action === 'acknowledge' ? reportSchemas().AcknowledgeEscalation : reportSchemas().DirectEscalation;
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const esc = await findEscalation(deps.db, parsed.data.escalationId);
  if (esc.status !== 'open') throw DomainError.of('escalationId', `escalation "${esc.escalation_id}" is already resolved (${esc.resolution ?? 'resolved'}); nothing to ${action}`);
  const handle = deps.client.workflow.getHandle(unitWorkflowId(esc.rollout_id, esc.unit_code));
  try {
    return await executeUpdateWithRetry(handle, action === 'acknowledge' ? acknowledgeEscalationUpdate : directEscalationUpdate, [input as never], { db: deps.db });
  } catch (e) {
    return unwrapUpdateError(e, `unit ${esc.unit_code} of rollout ${esc.rollout_id}`);
  }
}

/** Ops cancels a rollout: recorded at once; the running units stop as the cancellation reaches them. */
export async function cancelRollout(deps: Deps, rolloutId: string, input: CancelRolloutInput): Promise<CancelResult> {
  const parsed = reportSchemas().CancelRollout.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  const r = await getRollout(deps.db, rolloutId);
  if (!r) throw DomainError.notFound('rolloutId', `no rollout "${rolloutId}"`);
  // A retried cancellation (same request ID) is answered as the first one was, from the audit record.
  const first = await recordedCancellation(deps.db, rolloutId);
  if (first && first.requestId === parsed.data.requestId) return answerOf(first);
  if (r.status === 'completed') throw DomainError.conflict('rolloutId', `rollout ${rolloutId} has already completed; there is nothing to cancel`);
  if (first || r.status === 'cancelled')
    throw DomainError.conflict(
      'rolloutId',
      `rollout ${rolloutId} was already cancelled at ${first?.cancelledAt ?? toLocalIso(new Date(r.completed_at!))}${first?.requestedBy ? ` by ${first.requestedBy}` : ''}`,
    );
  const handle = deps.client.workflow.getHandle(rolloutWorkflowId(rolloutId));
  try {
    return await executeUpdateWithRetry(handle, cancelRolloutUpdate, [input], { db: deps.db });
  } catch (e) {
    const recorded = await recordedCancellation(deps.db, rolloutId);
    if (recorded && recorded.requestId === parsed.data.requestId) return answerOf(recorded);
    return unwrapUpdateError(e, `rollout ${rolloutId}`);
  }
}

const answerOf = ({ requestedBy: _, ...answer }: CancelResult & { requestedBy: string }): CancelResult => answer;

/** The rollout's cancellation as the audit record holds it (its request ID since the patch that records it). */
async function recordedCancellation(db: Kysely<Database>, rolloutId: string): Promise<(CancelResult & { requestedBy: string }) | undefined> {
  const row = await db.selectFrom('events').select(['payload', 'occurred_at']).where('rollout_id', '=', rolloutId).where('type', '=', 'RolloutCancelled').executeTakeFirst();
  if (!row) return undefined;
  const p = row.payload as { requestId?: string; requestedBy: string };
  return { requestId: p.requestId ?? '', duplicate: true, rolloutId, cancelledAt: toLocalIso(new Date(row.occurred_at)), requestedBy: p.requestedBy };
}

export function newRequestId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}
