/**
 * Batches (domain/batches.ts): preview a filter (count and sample), start a confirmed batch, watch
 * its progress, and apply one of its units. The CLI, the HTTP API and the batch workflow's activity
 * all go through these functions.
 *
 * Who a batch reaches is decided here once, by the single-unit rule (domain/escalation.ts mayExtend):
 * a committee's batch reaches only the units it stands above; a unit named explicitly (in `codes`, or
 * as `within`) that the committee may not act on refuses the whole batch, so nobody mistakes a
 * narrowed batch for the one they asked for. Ops reaches every unit, but an extension or an action
 * on escalations still needs the deciding committee, and units it does not stand above are left out
 * (and counted in the preview).
 */
import type { Kysely } from 'kysely';
import { DomainError } from '../domain/errors';
import { BatchRequest, BATCH_ACTION_WORDS, confirmFingerprint, COMMITTEE_ACTIONS, PREVIEW_SAMPLE, type BatchAction, type BatchItemStatus } from '../domain/batches';
import { mayExtend } from '../domain/escalation';
import { formatLocal, parseDeadlineText, toLocalIso } from '../domain/time';
import type { Database } from '../db/database';
import {
  batchCounts,
  batchFingerprint,
  batchItems,
  completeBatch,
  getBatch,
  insertBatch,
  listBatches,
  matchBatchUnits,
  pendingItems,
  settleItem,
  unitsOfRollout,
  type MatchedUnit,
  type NewBatch,
} from '../db/batches';
import { getRollout } from '../db/queries';
import { batchWorkflow } from '../workflows/batch';
import { batchWorkflowId, TASK_QUEUE } from '../workflows/definitions';
import { actOnEscalation, changeUnit, extendDeadline, newRequestId, type Deps } from './commands';
import type { UnitChangeInput } from '../domain/changes';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';

/** Who asks: ops (anything), or a standing committee (its unit's code). */
export type BatchRequester = { role: 'ops' } | { role: 'committee'; unitCode: string };

export interface BatchPreview {
  rolloutId: string;
  action: BatchAction['action'];
  /** The action in words, Vietnamese and English. */
  title: { vi: string; en: string };
  committee: string | null;
  units: number;
  sample: Array<{ code: string; name: string; level: string; dueAt: string | null; suspended: boolean }>;
  /** Units the filter matched that the deciding committee may not act on, left out. */
  leftOut: number;
  leftOutSample: string[];
  fingerprint: string;
}

function parseRequest(input: BatchRequest, now = new Date()) {
  const parsed = BatchRequest.safeParse(input);
  if (!parsed.success) throw DomainError.fromZod('', parsed.error);
  // A new deadline every unit would refuse is refused once, before anything is recorded.
  const a = parsed.data.action;
  if (a.action === 'extend') {
    let at: Date;
    try {
      at = parseDeadlineText(a.until).at;
    } catch (e) {
      throw DomainError.of('action.until', e instanceof Error ? e.message : String(e));
    }
    if (at.getTime() <= now.getTime()) throw DomainError.of('action.until', `the new deadline ${formatLocal(at)} has already passed`);
  }
  return parsed.data;
}

/** The deciding committee: the requester's own unit for a committee; given by ops for committee actions. */
function committeeOf(req: ReturnType<typeof parseRequest>, who: BatchRequester): string | null {
  if (who.role === 'committee') {
    if (req.committee !== undefined && req.committee !== who.unitCode)
      throw new DomainError({ path: 'committee', message: `a committee token for ${who.unitCode} decides as ${who.unitCode}, not ${req.committee}` }, 'forbidden');
    return who.unitCode;
  }
  if (COMMITTEE_ACTIONS.has(req.action.action) && req.committee === undefined)
    throw DomainError.of('committee', `${BATCH_ACTION_WORDS[req.action.action].en} is decided by a standing committee: name it (--committee CODE), one above the units`);
  return req.committee ?? null;
}

/** The units the batch reaches, after the filter and the rights; refuses what it may not reach. */
async function resolveUnits(db: Kysely<Database>, rolloutId: string, req: ReturnType<typeof parseRequest>, who: BatchRequester, now: Date) {
  const rollout = await getRollout(db, rolloutId);
  if (!rollout) throw DomainError.notFound('rolloutId', `no rollout "${rolloutId}"`);
  if (rollout.status !== 'running') throw DomainError.conflict('rolloutId', `rollout ${rolloutId} is ${rollout.status === 'completed' ? 'completed' : 'cancelled'}: nothing more can change in it`);
  const f = req.filter;
  const named = [...(f.codes ?? []), ...(f.within !== undefined ? [f.within] : [])];
  const known = await unitsOfRollout(db, rolloutId, named);
  const issues = [
    ...(f.within !== undefined && !known.has(f.within) ? [{ path: 'filter.within', message: `unit "${f.within}" is not part of rollout ${rolloutId}` }] : []),
    ...(f.codes ?? []).flatMap((c, i) => (known.has(c) ? [] : [{ path: `filter.codes[${i}]`, message: `unit "${c}" is not part of rollout ${rolloutId}` }])),
  ];
  if (issues.length) throw new DomainError(issues, 'not_found');
  if (f.step !== undefined && !(rollout.plan as { steps: Array<{ id: string }> }).steps.some((s) => s.id === f.step))
    throw DomainError.of('filter.step', `the plan of ${rolloutId} has no step "${f.step}" (its steps: ${(rollout.plan as { steps: Array<{ id: string }> }).steps.map((s) => s.id).join(', ')})`);
  const committee = committeeOf(req, who);
  const matched = await matchBatchUnits(db, rolloutId, f, now, who.role === 'committee' ? who.unitCode : undefined);
  // The single-unit rule: a committee acts on the units it stands above.
  const reachable = (u: MatchedUnit) => committee === null || mayExtend(committee, { code: u.code, name: u.name, level: u.level, standingCommittee: u.standingCommittee }, u.ancestors);
  if (committee !== null) {
    // A unit named explicitly that the committee may not act on refuses the whole batch (its own unit
    // may be the subtree, `within`, not a target).
    const outside = await outsideOf(db, rolloutId, committee, named);
    const refused = [
      ...(f.within !== undefined && f.within !== committee && outside.has(f.within) ? [{ path: 'filter.within', code: f.within }] : []),
      ...(f.codes ?? []).flatMap((c, i) => (outside.has(c) ? [{ path: `filter.codes[${i}]`, code: c }] : [])),
    ];
    if (refused.length)
      throw new DomainError(
        refused.map((r) => ({ path: r.path, message: `${committee} is not a standing committee above ${r.code}: it may not act on it (nothing was started)` })),
        who.role === 'committee' ? 'forbidden' : 'invalid',
      );
  }
  const inReach = matched.filter(reachable);
  const leftOut = matched.filter((u) => !reachable(u));
  return { rollout, committee, inReach, leftOut };
}

/** Of the named codes, those under no standing-committee reach of `committee` (it is not above them). */
async function outsideOf(db: Kysely<Database>, rolloutId: string, committee: string, codes: string[]): Promise<Set<string>> {
  if (!codes.length) return new Set();
  const rows = await db
    .selectFrom('rollout_units')
    .select(['unit_code', 'name', 'level', 'standing_committee', 'ancestors'])
    .where('rollout_id', '=', rolloutId)
    .where('unit_code', 'in', codes)
    .execute();
  const out = new Set<string>();
  for (const r of rows) {
    const ancestors = r.ancestors as Array<{ code: string; name: string; level: string; standingCommittee: boolean }>;
    if (!mayExtend(committee, { code: r.unit_code, name: r.name, level: r.level, standingCommittee: r.standing_committee }, ancestors)) out.add(r.unit_code);
  }
  return out;
}

const sampleOf = (units: MatchedUnit[]) =>
  units.slice(0, PREVIEW_SAMPLE).map((u) => ({ code: u.code, name: u.name, level: u.level, dueAt: u.dueAt === null ? null : toLocalIso(u.dueAt), suspended: u.suspended }));

/** What a batch would do: how many units, a sample, who is left out, and the fingerprint that confirms it. */
export async function previewBatch(db: Kysely<Database>, rolloutId: string, input: BatchRequest, who: BatchRequester, now = new Date()): Promise<BatchPreview> {
  const req = parseRequest(input, now);
  const { committee, inReach, leftOut } = await resolveUnits(db, rolloutId, req, who, now);
  return {
    rolloutId,
    action: req.action.action,
    title: BATCH_ACTION_WORDS[req.action.action],
    committee,
    units: inReach.length,
    sample: sampleOf(inReach),
    leftOut: leftOut.length,
    leftOutSample: leftOut.slice(0, PREVIEW_SAMPLE).map((u) => u.code),
    fingerprint: batchFingerprint({ action: req.action, committee, codes: inReach.map((u) => u.code) }),
  };
}

export interface BatchStarted {
  batchId: string;
  rolloutId: string;
  units: number;
  /** The same batch ID was started before: nothing new was started. */
  alreadyStarted: boolean;
}

/**
 * Start a confirmed batch: the filter must still match exactly the previewed units (the fingerprint),
 * else nothing starts and the caller is asked to preview again. A repeat with the same batch ID is
 * harmless (the workflow is started if a first attempt recorded the batch but could not start it).
 */
export async function startBatch(deps: Deps, rolloutId: string, input: BatchRequest, who: BatchRequester, now = new Date()): Promise<BatchStarted> {
  const req = parseRequest(input, now);
  if (req.batchId !== undefined && req.batchId.length > 80) throw DomainError.of('batchId', 'a batch ID is at most 80 characters (each unit gets `<batchId>:<n>` as its request ID)');
  const existing = req.batchId ? await getBatch(deps.db, req.batchId) : undefined;
  if (existing) {
    if (existing.rollout_id !== rolloutId) throw DomainError.conflict('batchId', `batch ${existing.batch_id} belongs to rollout ${existing.rollout_id}`);
    if (req.fingerprint !== undefined && req.fingerprint !== existing.fingerprint)
      throw DomainError.conflict('batchId', `batch ${existing.batch_id} was started with other units or another action; use another batch ID`);
    await runWorkflow(deps, existing.batch_id);
    return { batchId: existing.batch_id, rolloutId, units: existing.units, alreadyStarted: true };
  }
  if (req.fingerprint === undefined) confirmFingerprint(undefined, '', '');
  const { committee, inReach } = await resolveUnits(deps.db, rolloutId, req, who, now);
  const codes = inReach.map((u) => u.code);
  confirmFingerprint(req.fingerprint, batchFingerprint({ action: req.action, committee, codes }), `the units this filter reaches changed (now ${codes.length})`);
  if (!codes.length) throw DomainError.of('filter', 'the filter matches no running unit the batch may act on; nothing to do');
  const { action, ...params } = req.action;
  return createBatch(deps, {
    batchId: req.batchId ?? newRequestId('batch'),
    rolloutId,
    action,
    params,
    filter: req.filter as Record<string, unknown>,
    committee,
    decidedBy: req.decidedBy,
    reason: req.reason,
    codes,
  });
}

/**
 * Record a batch (its items and BatchStarted) and start its workflow: for a confirmed user batch, and
 * for the application's own (a plan amendment applied to every running unit).
 */
export async function createBatch(deps: Deps, b: Omit<NewBatch, 'fingerprint'>): Promise<BatchStarted> {
  await insertBatch(deps.db, { ...b, fingerprint: batchFingerprint({ action: { action: b.action, ...b.params }, committee: b.committee, codes: b.codes }) });
  await runWorkflow(deps, b.batchId);
  return { batchId: b.batchId, rolloutId: b.rolloutId, units: b.codes.length, alreadyStarted: false };
}

async function runWorkflow(deps: Deps, batchId: string): Promise<void> {
  try {
    await deps.client.workflow.start(batchWorkflow, { taskQueue: deps.taskQueue ?? TASK_QUEUE, workflowId: batchWorkflowId(batchId), args: [{ batchId }] });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
  }
}

export interface BatchStatus {
  batchId: string;
  rolloutId: string;
  action: string;
  params: Record<string, unknown>;
  filter: Record<string, unknown>;
  committee: string | null;
  decidedBy: string;
  reason: string;
  status: 'running' | 'completed';
  units: number;
  counts: Record<BatchItemStatus, number>;
  startedAt: string;
  completedAt: string | null;
  items: Array<{ unitCode: string; status: BatchItemStatus; message: string | null }>;
}

/** A batch and its progress, with a page of its units' results (optionally of one status). */
export async function batchStatus(db: Kysely<Database>, batchId: string, f: { status?: BatchItemStatus; limit?: number; offset?: number } = {}): Promise<BatchStatus> {
  const b = await getBatch(db, batchId);
  if (!b) throw DomainError.notFound('batchId', `no batch "${batchId}"`);
  const items = await batchItems(db, batchId, { ...(f.status ? { status: f.status } : {}), limit: f.limit ?? 100, offset: f.offset ?? 0 });
  return {
    batchId: b.batch_id,
    rolloutId: b.rollout_id,
    action: b.action,
    params: b.params,
    filter: b.filter,
    committee: b.committee,
    decidedBy: b.decided_by,
    reason: b.reason,
    status: b.status,
    units: b.units,
    counts: await batchCounts(db, batchId),
    startedAt: toLocalIso(new Date(b.created_at)),
    completedAt: b.completed_at ? toLocalIso(new Date(b.completed_at)) : null,
    items: items.map((i) => ({ unitCode: i.unit_code, status: i.status, message: i.message })),
  };
}

export async function rolloutBatches(db: Kysely<Database>, rolloutId: string, limit = 50, offset = 0) {
  const rows = await listBatches(db, rolloutId, limit, offset);
  const counts = new Map(await Promise.all(rows.map(async (b) => [b.batch_id, await batchCounts(db, b.batch_id)] as const)));
  return rows.map((b) => ({
    batchId: b.batch_id,
    action: b.action,
    title: BATCH_ACTION_WORDS[b.action as keyof typeof BATCH_ACTION_WORDS] ?? { vi: b.action, en: b.action },
    counts: counts.get(b.batch_id)!,
    committee: b.committee,
    units: b.units,
    status: b.status,
    decidedBy: b.decided_by,
    reason: b.reason,
    startedAt: toLocalIso(new Date(b.created_at)),
  }));
}

/** Items applied at once by one slice (each is one Update to one unit workflow). */
const CONCURRENCY = 8;

/**
 * Apply the next `size` pending units of a batch (the batch workflow's activity calls this until it
 * says `finished`). Each unit's request ID is `<batchId>:<n>`, so applying an item again (a retried
 * activity) is answered by the unit as the first time and records nothing more.
 */
export async function runBatchSlice(deps: Deps, batchId: string, size: number, progress: () => void = () => undefined): Promise<{ finished: boolean; counts: Record<BatchItemStatus, number> }> {
  const b = await getBatch(deps.db, batchId);
  if (!b) throw DomainError.notFound('batchId', `no batch "${batchId}"`);
  const items = await pendingItems(deps.db, batchId, size);
  for (let i = 0; i < items.length; i += CONCURRENCY) {
    await Promise.all(
      items.slice(i, i + CONCURRENCY).map(async (item) => {
        const outcome = await applyItem(deps, b, item.seq, item.unit_code, (item.input as Record<string, unknown> | null) ?? undefined);
        await settleItem(deps.db, batchId, item.seq, outcome);
        progress();
      }),
    );
  }
  if (items.length === size) return { finished: false, counts: await batchCounts(deps.db, batchId) };
  return { finished: true, counts: await completeBatch(deps.db, batchId, b.decided_by) };
}

/** A unit started by a change (a merger's new successor) enrols within moments; wait for it (up to two minutes). */
async function awaitEnrolled(deps: Deps, rolloutId: string, code: string): Promise<void> {
  for (let waited = 0; waited < 120_000; waited += 500) {
    if (await deps.db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', rolloutId).where('unit_code', '=', code).executeTakeFirst()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  // Not a refusal: the activity fails and the batch workflow retries the slice.
  throw new Error(`${code} has not enrolled in rollout ${rolloutId} within two minutes; the batch will try again`);
}

type Outcome = { status: Exclude<BatchItemStatus, 'pending'>; message: string; result?: unknown };
type BatchRow = NonNullable<Awaited<ReturnType<typeof getBatch>>>;

/** One unit of a batch: its single-unit decision, with the batch's ID; a refusal is its answer, not a failure. */
async function applyItem(deps: Deps, b: BatchRow, seq: number, unitCode: string, input?: Record<string, unknown>): Promise<Outcome> {
  const requestId = `${b.batch_id}:${seq}`;
  const p = b.params as Record<string, unknown>;
  // The person recorded for the committee (`committee:<code>/<person>` on the unit's event).
  const person = b.decided_by.replace(/^committee:[^/]*\/?/, '').replace(/^user:/, '');
  try {
    switch (b.action) {
      case 'extend': {
        const r = await extendDeadline(deps, b.rollout_id, unitCode, {
          requestId,
          batchId: b.batch_id,
          stepId: p.step as string,
          ...(p.occurrence !== undefined ? { occurrence: p.occurrence as number } : {}),
          committeeCode: b.committee!,
          until: p.until as string,
          reason: b.reason,
          ...(p.decision !== undefined ? { decision: p.decision as string } : {}),
          ...(person ? { decidedBy: person } : {}),
        });
        return { status: 'done', message: `${r.stepKey}: ${formatLocal(new Date(r.previousDueAt))} → ${formatLocal(new Date(r.newDueAt))}`, result: r };
      }
      case 'direct':
      case 'acknowledge': {
        const open = await deps.db
          .selectFrom('escalations as e')
          .innerJoin('unit_steps as s', (j) => j.onRef('s.rollout_id', '=', 'e.rollout_id').onRef('s.unit_code', '=', 'e.unit_code').onRef('s.step_key', '=', 'e.step_key'))
          .select(['e.escalation_id', 'e.acknowledged_at'])
          .where('e.rollout_id', '=', b.rollout_id)
          .where('e.unit_code', '=', unitCode)
          .where('e.status', '=', 'open')
          .where('e.recipient_code', '=', b.committee!)
          .$if(p.step !== undefined, (q) => q.where('s.step_id', '=', p.step as string))
          .orderBy('e.escalation_id')
          .execute();
        const todo = b.action === 'acknowledge' ? open.filter((e) => e.acknowledged_at === null) : open;
        if (!todo.length)
          return { status: 'unchanged', message: `no open escalation of ${unitCode} addressed to ${b.committee}${b.action === 'acknowledge' && open.length ? ' that is not acknowledged yet' : ''}` };
        const done: string[] = [];
        for (const [k, e] of todo.entries()) {
          const common = { requestId: `${requestId}.${k + 1}`, batchId: b.batch_id, escalationId: e.escalation_id, committeeCode: b.committee!, ...(person ? { decidedBy: person } : {}) };
          if (b.action === 'acknowledge') await actOnEscalation(deps, 'acknowledge', { ...common, ...(p.note !== undefined ? { note: p.note as string } : {}) });
          else await actOnEscalation(deps, 'direct', { ...common, directive: p.directive as string, ...(p.respondBy !== undefined ? { respondBy: p.respondBy as string } : {}) });
          done.push(e.escalation_id);
        }
        return { status: 'done', message: `${done.length} escalation(s) ${b.action === 'acknowledge' ? 'acknowledged' : 'directed'}`, result: { escalations: done } };
      }
      case 'suspend':
      case 'resume':
      case 'cancelUnit': {
        const r = await changeUnit(deps, b.rollout_id, unitCode, { op: b.action, requestId, batchId: b.batch_id, decidedBy: b.decided_by, reason: b.reason });
        return { status: r.changed ? 'done' : 'unchanged', message: r.summary.vi, result: r };
      }
      case 'amend': {
        // The application's own batch (app/amendments.ts): the amended plan, to every running unit.
        const r = await changeUnit(deps, b.rollout_id, unitCode, {
          op: 'amend',
          requestId,
          batchId: b.batch_id,
          decidedBy: b.decided_by,
          reason: b.reason,
          planVersion: p.planVersion as number,
          planHash: p.planHash as string,
          plan: p.plan,
          keepExtensions: p.keepExtensions as boolean,
        });
        return { status: r.changed ? 'done' : 'unchanged', message: r.summary.vi, result: r };
      }
      case 'recalendar': {
        // The application's own batch (app/recalendar.ts): a calendar version, to every running unit.
        const r = await changeUnit(deps, b.rollout_id, unitCode, { op: 'recalendar', requestId, batchId: b.batch_id, decidedBy: b.decided_by, reason: b.reason, calendar: p.calendar as never });
        return { status: r.changed ? 'done' : 'unchanged', message: r.summary.vi, result: r };
      }
      case 'hierarchy': {
        // The application's own batch (app/reshape.ts): each unit's change of a hierarchy change followed.
        const change = { ...(input as Record<string, unknown>), requestId, batchId: b.batch_id, decidedBy: b.decided_by, reason: b.reason } as UnitChangeInput;
        const r = await changeUnit(deps, b.rollout_id, unitCode, change);
        if (change.op !== 'merge' || !r.handover) return { status: r.changed ? 'done' : 'unchanged', message: r.summary.vi, result: r };
        // The successor takes over what the merged unit had done (enrolled first, if it is new).
        const successor = change.successor;
        await awaitEnrolled(deps, b.rollout_id, successor);
        const inherited = await changeUnit(deps, b.rollout_id, successor, {
          op: 'inherit',
          requestId: `${requestId}.inherit`,
          batchId: b.batch_id,
          decidedBy: b.decided_by,
          reason: b.reason,
          effectiveFrom: change.effectiveFrom,
          from: unitCode,
          handover: r.handover,
        });
        return { status: 'done', message: `${r.summary.vi}; ${successor}: ${inherited.summary.vi}`, result: { merged: r, inherited } };
      }
      default:
        return { status: 'refused', message: `this engine version cannot apply a batch action "${b.action}"` };
    }
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    // A unit that finished (or ended) after the batch listed it has nothing left to change.
    const now = await deps.db.selectFrom('rollout_units').select(['status']).where('rollout_id', '=', b.rollout_id).where('unit_code', '=', unitCode).executeTakeFirst();
    if (now && now.status !== 'active')
      return { status: 'unchanged', message: `${unitCode} ${UNIT_ENDED[now.status] ?? now.status} trước khi thao tác tới; không còn gì để thay đổi / ended before the batch reached it` };
    return { status: 'refused', message: e.message };
  }
}

const UNIT_ENDED: Record<string, string> = { completed: 'đã hoàn thành', cancelled: 'đã thôi theo dõi', merged: 'đã hợp nhất', dissolved: 'đã giải thể' };
