/**
 * Records the workflow histories the replay test (test/replay.test.ts) replays: `npm run record-histories`.
 *
 * One small rollout (7 units, fan-out width 2) on the time-skipping test server with the in-memory
 * activities, driven through every path that matters for determinism: the rollout workflow; unit
 * workflows with reminders, missed deadlines, two escalation tiers, rejected updates, reports, a
 * duplicate report, an extension, the cascade signal (direct and forwarded by fan-out batches),
 * childCompleted signals, continue-as-new of a recurring periodic report (after a completed
 * occurrence and after its last escalation tier); and fanoutWorkflow batches.
 *
 * Then every run of every workflow execution in the tree is fetched — found by following the
 * ChildWorkflowExecutionStarted events from the rollout and each WorkflowExecutionContinuedAsNew to
 * the next run — and written as `<workflowType>-<short-name>-<run>.json` (`-<run>.<tag>.json` with
 * `--tag <tag>`), in the proto3 JSON form `temporal workflow show -o json` and the Web UI's download
 * produce. `broken/` gets the root unit's first run with the type of its first child changed, which
 * the current code cannot replay (see README.md). Finally every written file is replayed once, so a
 * recording that would not pass the replay test fails here.
 *
 * Run from the compiled output (`dist/test/histories/record.js`); it needs no database.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import type { Unit } from '../../domain/hierarchy';
import { parsePlan } from '../../domain/plan';
import type { ExtendDeadlineInput, StepReportInput } from '../../domain/reports';
import type { UnitChangeInput } from '../../domain/changes';
import {
  acknowledgeEscalationUpdate,
  cancelRolloutUpdate,
  changeUnitUpdate,
  directEscalationUpdate,
  extendDeadlineUpdate,
  reportStepUpdate,
  rolloutWorkflowId,
  unitWorkflowId,
} from '../../workflows/definitions';
import { rolloutWorkflow } from '../../workflows/rollout';
import { memoryActivities, type MemoryStore } from '../helpers/memory-activities';
import { timeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { historyFromJson, historyToJson } from '../../audit/history-json';
import { collectHistories, historyFileName, shortName, type CollectedRun } from '../../audit/histories';

const ROLLOUT = 'replay';
const TASK_QUEUE = 'record-histories';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Vietnam time (UTC+7): deadlines given as whole days end at local midnight. */
const LOCAL_OFFSET = 7 * HOUR;

const u = (code: string, level: string, parent: string | null, members: number, standingCommittee = true): Unit => ({ code, name: `Đơn vị ${code}`, level, parent, members, standingCommittee });
/**
 * P has two districts (≤ maxChildren: started directly); P.A has three communes (> maxChildren: two
 * fan-out batches of at most two); P.B.1 is a cell without a standing committee.
 */
const UNITS: Unit[] = [
  u('P', 'tinh', null, 10),
  u('P.A', 'huyen', 'P', 5),
  u('P.A.1', 'coso', 'P.A', 3),
  u('P.A.2', 'coso', 'P.A', 3),
  u('P.A.3', 'coso', 'P.A', 3),
  u('P.B', 'huyen', 'P', 4),
  u('P.B.1', 'chibo', 'P.B', 2, false),
];

const PLAN = parsePlan({
  id: 'replay',
  title: 'Replay histories',
  steps: [
    { id: 'study', kind: 'studyConference', title: 'Học tập, quán triệt', deadline: { kind: 'afterStart', after: 'P10D' }, reminders: ['P2D'], escalation: { tiers: 2, interval: 'P3D' } },
    {
      id: 'issue-province',
      kind: 'issuePlan',
      title: 'Tỉnh ủy ban hành kế hoạch',
      levels: ['tinh'],
      deadline: { kind: 'afterStart', after: 'P5D' },
      reminders: ['P1D'],
      escalation: { tiers: 1, interval: 'P2D' },
    },
    {
      id: 'issue-lower',
      kind: 'issuePlan',
      title: 'Cấp dưới ban hành kế hoạch',
      levels: ['huyen', 'coso', 'chibo'],
      opensAfterParent: 'issuePlan',
      deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P10D' },
      reminders: ['P2D'],
      escalation: { tiers: 2, interval: 'P3D' },
    },
    {
      id: 'report',
      kind: 'periodicReport',
      title: 'Báo cáo định kỳ',
      levels: ['tinh', 'huyen'],
      deadline: { kind: 'afterStart', after: 'P20D' },
      schedule: { every: 'P10D', count: 2 },
      reminders: ['P2D'],
      escalation: { tiers: 1, interval: 'P2D' },
    },
  ],
});

// ---- the scenario ------------------------------------------------------------------------------------

async function drive(env: TestWorkflowEnvironment, store: MemoryStore): Promise<void> {
  // Start at 09:00 local time of the next day, so "day n" below means the same thing on every recording.
  const now0 = await env.currentTimeMs();
  const day0 = Math.floor((now0 + LOCAL_OFFSET) / DAY) * DAY + DAY - LOCAL_OFFSET; // next local midnight
  const at = async (day: number, hour = 9): Promise<void> => {
    const target = day0 + day * DAY + hour * HOUR;
    const now = await env.currentTimeMs();
    if (target < now) throw new Error(`scenario goes backwards: day ${day} ${hour}:00`);
    await env.sleep(target - now);
  };
  const date = (day: number): string => new Date(day0 + day * DAY + LOCAL_OFFSET).toISOString().slice(0, 10);
  const handle = (code: string) => env.client.workflow.getHandle(unitWorkflowId(ROLLOUT, code));
  let n = 0;
  const report = (code: string, body: Record<string, unknown>) => handle(code).executeUpdate(reportStepUpdate, { args: [{ reportId: `${code}-${++n}`, unitCode: code, ...body } as StepReportInput] });
  const study = (code: string, day: number, attended: number, reportId?: string) =>
    report(code, { stepId: 'study', kind: 'studyConference', sessionDate: date(day), attended, ...(reportId ? { reportId } : {}) });
  const issue = (code: string, stepId: string, doc: string, day: number) => report(code, { stepId, kind: 'issuePlan', documentNumber: doc, issuedOn: date(day), title: 'Kế hoạch thực hiện' });
  const periodic = (code: string, occurrence: number, day: number) =>
    report(code, { stepId: 'report', kind: 'periodicReport', occurrence, period: `kỳ ${occurrence + 1}`, indicators: { pct: 90 + occurrence }, submittedOn: date(day) });
  const rejected = async (p: Promise<unknown>): Promise<void> => {
    const e = await p.then(
      () => new Error('expected the update to be rejected'),
      (err: unknown) => err,
    );
    if (!(e instanceof WorkflowUpdateFailedError)) throw e;
  };
  /**
   * Report a periodic report that makes the unit continue-as-new, and wait for the new run, so the next
   * Update goes to it. (Polls in real time: the test server's time skipping is not needed, and after a
   * unit with fan-out batches has finished it stops skipping for a while.)
   */
  const periodicThenContinue = async (code: string, occurrence: number, day: number): Promise<void> => {
    const before = (await handle(code).describe()).runId;
    await periodic(code, occurrence, day);
    for (let waited = 0; (await handle(code).describe()).runId === before; waited += 50) {
      if (waited > 10_000) throw new Error(`${code} did not continue-as-new after report #${occurrence + 1}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  await at(0);
  const rollout = await env.client.workflow.start(rolloutWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: rolloutWorkflowId(ROLLOUT),
    args: [
      {
        rolloutId: ROLLOUT,
        resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: date(-30) }, title: 'NQ 21' },
        plan: PLAN,
        rootUnit: 'P',
        hierarchyVersion: 1,
        requestedBy: 'user:recorder',
        maxChildren: 2,
      },
    ],
  });

  // Validator rejections: nothing is recorded (a rejected Update leaves no trace in the history either).
  await at(0, 10);
  await rejected(issue('P.A', 'issue-lower', '12-KH/HU', 0)); // the cascade: P has not issued its plan yet
  await rejected(report('P.A', { stepId: 'study', kind: 'studyConference', sessionDate: 'yesterday', attended: 1 })); // schema

  // Day 1: the province studies and issues its plan (the cascade opens the districts' plan steps).
  await at(1);
  await study('P', 1, 10);
  await issue('P', 'issue-province', '45-KH/TU', 1);
  await study('P.A', 1, 5);
  const first = await study('P.B', 1, 4, 'pb-study');
  const again = await study('P.B', 1, 4, 'pb-study'); // a duplicate: answered from memory, nothing recorded
  if (!again.duplicate || first.duplicate) throw new Error('the duplicate report was not recognised');

  // Day 2: the districts issue theirs (P.A's reaches its communes through the fan-out batches).
  await at(2);
  await issue('P.A', 'issue-lower', '12-KH/HU', 2);
  await issue('P.B', 'issue-lower', '07-KH/HU', 2);

  // Day 3: communes and the cell issue; two communes study. P.A.3 and P.B.1 stay behind on study.
  await at(3);
  for (const code of ['P.A.1', 'P.A.2', 'P.A.3']) await issue(code, 'issue-lower', '05-KH/ĐU', 3);
  await issue('P.B.1', 'issue-lower', '03-KH/CB', 3);
  await study('P.A.1', 3, 3);
  await study('P.A.2', 3, 3);

  // Day 9 00:00 reminders; day 11 00:00 missed and escalated (tier 1) for P.A.3 and P.B.1.
  // Day 12: P.A extends P.A.3's deadline (resolving its escalation); P.B may not.
  await at(12);
  const ext: ExtendDeadlineInput = { requestId: 'ext-1', stepId: 'study', committeeCode: 'P.A', until: date(25), reason: 'Bão lũ', decision: 'Đồng ý gia hạn' };
  await rejected(handle('P.A.3').executeUpdate(extendDeadlineUpdate, { args: [{ ...ext, requestId: 'ext-0', committeeCode: 'P.B' }] }));
  await handle('P.A.3').executeUpdate(extendDeadlineUpdate, { args: [ext] });

  // Day 14 00:00: tier 2 for P.B.1. Day 15: it studies, late; day 16: P.A.3 studies, within the extension.
  await at(15);
  await study('P.B.1', 15, 2);
  await at(16);
  await study('P.A.3', 16, 3);

  // Periodic report #1 due at the end of day 20: P and P.A report on day 19 (each continues-as-new);
  // P.B misses it (day 21 00:00: missed, its only escalation tier, continue-as-new).
  await at(19);
  await periodicThenContinue('P', 0, 19);
  await periodicThenContinue('P.A', 0, 19);

  // Day 22: report #2 (open since day 21). P continues-as-new again (its children are not done); P.B
  // files #1 late (continue-as-new) and #2 and finishes; P.A finishes last, then P and the rollout.
  await at(22);
  await periodicThenContinue('P', 1, 22);
  await periodicThenContinue('P.B', 0, 22);
  await periodic('P.B', 1, 22);
  await periodic('P.A', 1, 22);

  const result = await rollout.result();
  process.stdout.write(`rollout finished: ${JSON.stringify(result)}; ${store.events.length} domain events\n`);
  const types = new Set(store.events.map((e) => e.type));
  for (const t of ['ReminderSent', 'DeadlineMissed', 'Escalated', 'DeadlineExtended', 'StepCompleted', 'DeadlineScheduled', 'UnitCompleted', 'RolloutCompleted'] as const) {
    if (!types.has(t)) throw new Error(`the scenario did not produce a ${t} event`);
  }
  if (!store.events.some((e) => e.type === 'Escalated' && (e.payload as { tier: number }).tier === 2)) throw new Error('no second escalation tier');
}

/**
 * The `actions` scenario (`--scenario actions`, recorded with tag `actions`): what a committee does short
 * of extending, and a cancellation that reaches all seven units. Day 11: P.A.3 and P.B.1 are escalated (tier 1); day 12: P.A
 * acknowledges P.A.3's escalation (a second acknowledgement and one by the wrong committee are
 * rejected) and directs it twice; P.B directs P.B.1; day 13: ops cancels the rollout, which runs down
 * the tree through P.A's fan-out batches, and a second cancellation is rejected.
 */
/** The start shared by the tagged scenarios: a clock in local days, handles, and the rollout started at day 0. */
async function startScenario(env: TestWorkflowEnvironment) {
  const now0 = await env.currentTimeMs();
  const day0 = Math.floor((now0 + LOCAL_OFFSET) / DAY) * DAY + DAY - LOCAL_OFFSET;
  const at = async (day: number, hour = 9): Promise<void> => {
    const target = day0 + day * DAY + hour * HOUR;
    await env.sleep(Math.max(1, target - (await env.currentTimeMs())));
  };
  const date = (day: number): string => new Date(day0 + day * DAY + LOCAL_OFFSET).toISOString().slice(0, 10);
  const handle = (code: string) => env.client.workflow.getHandle(unitWorkflowId(ROLLOUT, code));
  const rejected = async (p: Promise<unknown>): Promise<void> => {
    const e = await p.then(
      () => new Error('expected the update to be rejected'),
      (err: unknown) => err,
    );
    if (!(e instanceof WorkflowUpdateFailedError)) throw e;
  };
  await at(0);
  const rollout = await env.client.workflow.start(rolloutWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: rolloutWorkflowId(ROLLOUT),
    args: [
      {
        rolloutId: ROLLOUT,
        resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: date(-30) }, title: 'NQ 21' },
        plan: PLAN,
        rootUnit: 'P',
        hierarchyVersion: 1,
        requestedBy: 'user:recorder',
        maxChildren: 2,
      },
    ],
  });
  return { at, date, handle, rejected, rollout };
}

async function driveActions(env: TestWorkflowEnvironment, store: MemoryStore): Promise<void> {
  const { at, date, handle, rejected, rollout } = await startScenario(env);
  await at(1);
  for (const code of ['P', 'P.A', 'P.B', 'P.A.1', 'P.A.2']) {
    await handle(code).executeUpdate(reportStepUpdate, {
      args: [{ reportId: `${code}-study`, unitCode: code, stepId: 'study', kind: 'studyConference', sessionDate: date(1), attended: 2 } as StepReportInput],
    });
  }
  await at(12);
  const escalationOf = (code: string): string => {
    const e = store.events.find((x) => x.type === 'Escalated' && x.unitCode === code);
    if (!e) throw new Error(`no escalation for ${code}`);
    return (e.payload as { escalationId: string }).escalationId;
  };
  const a3 = escalationOf('P.A.3');
  await rejected(handle('P.A.3').executeUpdate(acknowledgeEscalationUpdate, { args: [{ requestId: 'ack-0', escalationId: a3, committeeCode: 'P.B' }] }));
  await handle('P.A.3').executeUpdate(acknowledgeEscalationUpdate, { args: [{ requestId: 'ack-1', escalationId: a3, committeeCode: 'P.A', note: 'Đã tiếp nhận' }] });
  await rejected(handle('P.A.3').executeUpdate(acknowledgeEscalationUpdate, { args: [{ requestId: 'ack-2', escalationId: a3, committeeCode: 'P.A' }] }));
  await handle('P.A.3').executeUpdate(directEscalationUpdate, { args: [{ requestId: 'dir-1', escalationId: a3, committeeCode: 'P.A', directive: 'Tổ chức học tập bù', respondBy: date(15) }] });
  await handle('P.A.3').executeUpdate(directEscalationUpdate, { args: [{ requestId: 'dir-2', escalationId: a3, committeeCode: 'P.A', directive: 'Báo cáo kết quả' }] });
  await handle('P.B.1').executeUpdate(directEscalationUpdate, { args: [{ requestId: 'dir-3', escalationId: escalationOf('P.B.1'), committeeCode: 'P.B', directive: 'Khẩn trương học tập' }] });
  await at(13);
  const cancels = env.client.workflow.getHandle(rolloutWorkflowId(ROLLOUT));
  await cancels.executeUpdate(cancelRolloutUpdate, { args: [{ requestId: 'cancel-1', reason: 'Thay thế bằng nghị quyết mới', requestedBy: 'user:recorder' }] });
  await rejected(cancels.executeUpdate(cancelRolloutUpdate, { args: [{ requestId: 'cancel-2', reason: 'again', requestedBy: 'user:recorder' }] }));
  const result = await rollout.result();
  process.stdout.write(`rollout finished: ${JSON.stringify(result)}; ${store.events.length} domain events\n`);
  for (const t of ['EscalationAcknowledged', 'EscalationDirected', 'RolloutCancelled', 'UnitCancelled'] as const) {
    if (!store.events.some((e) => e.type === t)) throw new Error(`the scenario did not produce a ${t} event`);
  }
  // Every unit still had steps to do (plans, reports), so every one is cancelled; the cancellation reaches
  // the lower units after the rollout has returned: wait for it, in real time.
  const cancelledUnits = () =>
    store.events
      .filter((e) => e.type === 'UnitCancelled')
      .map((e) => e.unitCode)
      .sort();
  for (let waited = 0; cancelledUnits().length < UNITS.length && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  const cancelled = cancelledUnits();
  if (
    cancelled.join() !==
    UNITS.map((u) => u.code)
      .sort()
      .join()
  )
    throw new Error(`unexpected cancelled units: ${cancelled.join()}`);
}

/**
 * The `changes` scenario (`--scenario changes`, tag `changes`): changes to running units (issue 10).
 * Day 1: P, P.A, P.B, P.A.1 and P.A.2 study; day 2: ops suspends P.A.3's clock (a second suspension
 * changes nothing); day 8: P.B.1 is no longer followed (cancel-unit; the root cannot be); day 14: P.A.3's
 * clock resumes, its deadline moves by twelve days, and it is escalated only after that; day 30: ops
 * cancels the rollout.
 */
async function driveChanges(env: TestWorkflowEnvironment, store: MemoryStore): Promise<void> {
  const { at, date, handle, rejected, rollout } = await startScenario(env);
  const change = (code: string, body: Record<string, unknown>) =>
    handle(code).executeUpdate(changeUnitUpdate, { args: [{ decidedBy: 'user:recorder', reason: 'Mưa lũ', ...body } as UnitChangeInput] });
  await at(1);
  for (const code of ['P', 'P.A', 'P.B', 'P.A.1', 'P.A.2']) {
    await handle(code).executeUpdate(reportStepUpdate, {
      args: [{ reportId: `${code}-study`, unitCode: code, stepId: 'study', kind: 'studyConference', sessionDate: date(1), attended: 2 } as StepReportInput],
    });
  }
  await at(2);
  await change('P.A.3', { op: 'suspend', requestId: 'sus-1' });
  await change('P.A.3', { op: 'suspend', requestId: 'sus-2' });
  await at(8);
  await rejected(change('P', { op: 'cancelUnit', requestId: 'cu-0' }));
  await change('P.B.1', { op: 'cancelUnit', requestId: 'cu-1', reason: 'Đơn vị tạm ngừng hoạt động' });
  await at(14);
  await change('P.A.3', { op: 'resume', requestId: 'res-1', reason: 'Đã khắc phục' });
  await at(30);
  const cancels = env.client.workflow.getHandle(rolloutWorkflowId(ROLLOUT));
  await cancels.executeUpdate(cancelRolloutUpdate, { args: [{ requestId: 'cancel-1', reason: 'Kết thúc ghi lịch sử', requestedBy: 'user:recorder' }] });
  await rollout.result();
  for (const t of ['ClockSuspended', 'ClockResumed', 'UnitCancelled', 'Escalated'] as const) {
    if (!store.events.some((e) => e.type === t)) throw new Error(`the scenario did not produce a ${t} event`);
  }
  const resumed = store.events.find((e) => e.type === 'ClockResumed');
  if ((resumed?.payload as { moved: unknown[] }).moved.length !== 1) throw new Error('resume moved no deadline');
  for (let waited = 0; !store.events.some((e) => e.type === 'UnitCancelled' && e.unitCode === 'P.A.3') && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * The `living` scenario (`--scenario living`, tag `living`): a running rollout follows a change of its
 * hierarchy and an amended plan (issue 10), each change sent as the batches send them. Day 1: most
 * units study; day 12 (P.A.3 and P.B.1 escalated): the plan is amended (the lower levels get 15 more
 * days to issue theirs); P.A.3 moves under P.B (reshaped: its escalation rerouted; P.B adopts it,
 * P.A releases it); P.A.2 is merged into P.A.1, which inherits its attendance; P.B.1 is dissolved; the
 * root refuses to be dissolved; day 20: ops cancels the rollout.
 */
async function driveLiving(env: TestWorkflowEnvironment, store: MemoryStore): Promise<void> {
  const { at, date, handle, rejected, rollout } = await startScenario(env);
  const change = (code: string, body: Record<string, unknown>) =>
    handle(code).executeUpdate(changeUnitUpdate, { args: [{ decidedBy: 'user:recorder', reason: 'Sắp xếp tổ chức', batchId: 'living-1', ...body } as UnitChangeInput] });
  await at(1);
  for (const code of ['P', 'P.A', 'P.B', 'P.A.1', 'P.A.2']) {
    await handle(code).executeUpdate(reportStepUpdate, {
      args: [{ reportId: `${code}-study`, unitCode: code, stepId: 'study', kind: 'studyConference', sessionDate: date(1), attended: code === 'P.A.2' ? 1 : 2 } as StepReportInput],
    });
  }
  await at(12);
  const amended = parsePlan({ ...PLAN, steps: PLAN.steps.map((st) => (st.id === 'issue-lower' ? { ...st, deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P25D' } } : st)) });
  for (const code of ['P', 'P.A', 'P.B', 'P.A.1', 'P.A.2', 'P.A.3', 'P.B.1'])
    await change(code, { op: 'amend', requestId: `amend-${code}`, planVersion: 2, planHash: 'a'.repeat(64), plan: amended, keepExtensions: true });
  const p = { code: 'P', name: 'Đơn vị P', level: 'tinh', standingCommittee: true };
  const pb = { code: 'P.B', name: 'Đơn vị P.B', level: 'huyen', standingCommittee: true };
  await change('P.A.3', { op: 'reshape', requestId: 'move-1', effectiveFrom: date(12), hierarchyVersion: 2, unit: { ...UNITS[4]!, parent: 'P.B' }, ancestors: [pb, p] });
  await change('P.B', { op: 'adoptChild', requestId: 'adopt-1', child: 'P.A.3', start: false });
  await change('P.A', { op: 'releaseChild', requestId: 'release-1', child: 'P.A.3' });
  const merged = await change('P.A.2', { op: 'merge', requestId: 'merge-1', effectiveFrom: date(12), hierarchyVersion: 2, successor: 'P.A.1' });
  await change('P.A.1', { op: 'inherit', requestId: 'inherit-1', effectiveFrom: date(12), from: 'P.A.2', handover: merged.handover });
  await rejected(change('P', { op: 'dissolve', requestId: 'dissolve-0', effectiveFrom: date(12), hierarchyVersion: 2 }));
  await change('P.B.1', { op: 'dissolve', requestId: 'dissolve-1', effectiveFrom: date(12), hierarchyVersion: 2 });
  await at(20);
  const cancels = env.client.workflow.getHandle(rolloutWorkflowId(ROLLOUT));
  await cancels.executeUpdate(cancelRolloutUpdate, { args: [{ requestId: 'cancel-1', reason: 'Kết thúc ghi lịch sử', requestedBy: 'user:recorder' }] });
  await rollout.result();
  for (const t of ['PlanAmended', 'UnitReshaped', 'ChildAdopted', 'ChildReleased', 'UnitMerged', 'StepsInherited', 'UnitDissolved'] as const) {
    if (!store.events.some((e) => e.type === t)) throw new Error(`the scenario did not produce a ${t} event`);
  }
  for (let waited = 0; !store.events.some((e) => e.type === 'UnitCancelled' && e.unitCode === 'P.A.3') && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
}

/**
 * The root unit's first run, edited the way an incompatible code change would look: the history says
 * its first child was started as a fanoutWorkflow; the current code starts a unitWorkflow there.
 * Replaying it is a nondeterminism error ("[TMPRL1100] Child workflow type of scheduled event
 * 'fanoutWorkflow' does not match child workflow type of command 'unitWorkflow'"). The same kind of
 * error comes from a changed activity type, child workflow ID, or a command added or removed; a changed
 * timer duration or signal name is not checked by the SDK (see README.md).
 */
function breakHistory(history: History): History {
  const copy = historyFromJson(JSON.parse(historyToJson(history)));
  const start = copy.events?.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)?.startChildWorkflowExecutionInitiatedEventAttributes;
  if (start?.workflowType?.name !== 'unitWorkflow') throw new Error(`expected the root to start a unitWorkflow first, got ${start?.workflowType?.name}`);
  start.workflowType.name = 'fanoutWorkflow';
  return copy;
}

function repoRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'trienkhai') return dir;
  }
  throw new Error('cannot find the trienkhai package root');
}

const SCENARIOS = { main: drive, actions: driveActions, changes: driveChanges, living: driveLiving } as const;
type Scenario = keyof typeof SCENARIOS;

function parseArgs(argv: string[]): { tag: string | undefined; scenario: Scenario } {
  const usage = 'usage: record-histories [--tag <letters, digits or _>] [--scenario main|actions|changes|living]';
  const i = argv.indexOf('--tag');
  const s = argv.indexOf('--scenario');
  const scenario = (s >= 0 ? argv[s + 1] : 'main') as Scenario;
  if (!(scenario in SCENARIOS)) throw new Error(usage);
  // Another scenario than the main one is always a tagged set (by default tagged with its name).
  const tag = i >= 0 ? argv[i + 1] : scenario === 'main' ? undefined : scenario;
  // No '-' or '.': a tag must not make a tagged file name look like an untagged one (…-<run>.json).
  if (i >= 0 && (!tag || !/^[A-Za-z0-9_]+$/.test(tag))) throw new Error(usage);
  return { tag, scenario };
}

async function main(): Promise<void> {
  const { tag, scenario } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await timeSkippingEnv();
  let runs: CollectedRun[];
  try {
    const store = memoryActivities(UNITS);
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUE, workflowBundle: await workflowBundle(), activities: store.activities });
    await worker.runUntil(SCENARIOS[scenario](env, store));
    runs = (await collectHistories(env.client, rolloutWorkflowId(ROLLOUT))).runs;
  } finally {
    await env.teardown();
  }
  const recordedMs = Date.now() - started;

  const dir = path.join(repoRoot(), 'test', 'histories');
  fs.mkdirSync(path.join(dir, 'broken'), { recursive: true });
  // This recording replaces the set it owns (same tag) and leaves every other committed history alone.
  const owned = tag ? new RegExp(`-\\d+\\.${tag}\\.json$`) : /-\d+\.json$/;
  for (const f of fs.readdirSync(dir)) if (owned.test(f)) fs.rmSync(path.join(dir, f));
  const written: string[] = [];
  for (const r of runs) {
    const file = historyFileName(r, tag);
    if (written.includes(file)) throw new Error(`two runs map to ${file}`);
    fs.writeFileSync(path.join(dir, file), historyToJson(r.history));
    written.push(file);
  }
  const victim = runs.find((r) => r.workflowType === 'unitWorkflow' && r.run === 1 && shortName(r.workflowId) === 'P');
  if (!victim) throw new Error('no first run of the root unit to break');
  const brokenFile = path.join(dir, 'broken', `unitWorkflow-P-1.child-type-changed${tag ? `.${tag}` : ''}.json`);
  fs.writeFileSync(brokenFile, historyToJson(breakHistory(victim.history)));

  // Replay what was written: every good history must replay, the broken one must not.
  const read = (file: string) => ({ workflowId: path.basename(file, '.json'), history: historyFromJson(JSON.parse(fs.readFileSync(file, 'utf8'))) });
  const replay = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, [...written.map((f) => read(path.join(dir, f))), read(brokenFile)]);
  const errors: string[] = [];
  let i = 0;
  for await (const res of replay) {
    const isBroken = i++ === written.length;
    if (isBroken ? !(res.error instanceof DeterminismViolationError) : res.error) errors.push(`${res.workflowId}: ${res.error ? res.error.message : 'replayed, but it was meant to fail'}`);
  }
  if (errors.length) throw new Error(`replay check failed:\n${errors.join('\n')}`);

  const count = (type: string) => runs.filter((r) => r.workflowType === type).length;
  const size = (f: string) => fs.statSync(path.join(dir, f)).size;
  process.stdout.write(
    `recorded in ${(recordedMs / 1000).toFixed(1)}s: ${runs.length} histories (${count('rolloutWorkflow')} rollout, ${count('unitWorkflow')} unit runs of which ${runs.filter((r) => r.run > 1).length} after continue-as-new, ${count('fanoutWorkflow')} fan-out), ` +
      `${(written.reduce((s, f) => s + size(f), 0) / 1024).toFixed(0)} KB, into ${path.relative(process.cwd(), dir) || '.'}; all replay, ${path.relative(dir, brokenFile)} does not\n`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
