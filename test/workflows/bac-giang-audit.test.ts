/**
 * The audit requirements on the Bắc Giang 2022 timeline, on the time-skipping test server with the real
 * workflows and the REAL PostgreSQL activities (every event goes through the event store, the hash chain
 * and the projection):
 *
 * 1. as-of: after the timeline has run, the rollout is folded from its events as it stood at four
 *    instants (before the study deadline, just after the province's plan deadline, just after 30 Nov and
 *    a week later) with the same reads as `trienkhai audit as-of`, and compared with the state worked out
 *    by hand from the plan;
 * 2. rebuild: a second rollout whose worker is shut down part-way; its timers come due while no worker
 *    runs and are handled by a new worker; at the end the read model is rebuilt from the events and
 *    must be identical, and the hash chain must verify.
 *
 * The test server's clock starts at "now", so the plan's 2022 dates are moved forward by whole years to
 * the first July 22 still ahead (Y); all times below are local (UTC+7) wall time.
 *
 * Deadlines of the bac-giang-2022 plan (domain/default-plans.ts), shifted to Y:
 * - study (every level): "2022-08" → the end of 31/08/Y; reminders 14 and 3 days before; overdue 1 ms
 *   later, i.e. at 01/09 00:00, when tier 1 goes to the nearest standing committee above the unit (a cell
 *   has none, so its commune), and tier 2 a week later (08/09 00:00) to the next committee up;
 * - draft-province / issue-province (tinh): "2022-Q3" → the end of 30/09/Y; the province is the root
 *   of the rollout, so its own overdue step is escalated to itself (self, one tier only);
 * - draft-lower / issue-lower (huyen, coso): open only once the parent unit has issued its plan (the
 *   cascade); issue-lower also requires draft-lower; both due at the end of 30/11/Y whether open or not,
 *   so tier 1 at 01/12 00:00 and tier 2 at 08/12 00:00;
 * - a chi bộ (cell) has the study step only.
 */
import type { Duration } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { sql, type Kysely } from 'kysely';
import { workerActivities } from '../../worker/worker';
import { withRolloutAsOf } from '../../db/as-of';
import { verifyChain } from '../../db/audit';
import type { Database } from '../../db/database';
import { importHierarchy } from '../../db/hierarchy';
import { getRollout, getRolloutUnit, isOverdue, listEscalations, overdueUnits, rolloutProgress, unitCounts, unitSteps } from '../../db/queries';
import { readModelDigest, rebuildReadModel } from '../../db/rebuild';
import { BAC_GIANG_2022_PLAN } from '../../domain/default-plans';
import { levelsOf } from '../../domain/hierarchy';
import { parsePlan, type PlanInput } from '../../domain/plan';
import type { ExtendDeadlineInput, StepReportInput } from '../../domain/reports';
import { extendDeadlineUpdate, reportStepUpdate, rolloutWorkflowId, unitWorkflowId } from '../../workflows/definitions';
import { rolloutWorkflow } from '../../workflows/rollout';
import { freshDatabase, type TestDb } from '../helpers/db';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { BG_UNITS, shiftPlanYears } from '../helpers/bac-giang';
import { until } from '../helpers/wait';

const useEnv = useTimeSkippingEnv();

const UNITS = BG_UNITS;

/** An instant given as local (UTC+7) wall time. */
const local = (year: number, mmdd: string, hhmm = '09:00'): number => Date.parse(`${year}-${mmdd}T${hhmm}:00+07:00`);

/** The first July 22 (local) at least a day ahead of the test server's clock. */
async function nextJuly22Year(): Promise<number> {
  const now = await useEnv().currentTimeMs();
  let y = new Date(now).getUTCFullYear();
  if (local(y, '07-22', '00:00') <= now + 86_400_000) y += 1;
  return y;
}

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> => until(what, probe, timeoutMs, 100);

type ReportBody = StepReportInput extends infer T ? (T extends unknown ? Omit<T, 'reportId' | 'unitCode'> : never) : never;

/** Driving one rollout through its timeline: the clock, unit reports and committee decisions. */
function rolloutDriver(rolloutId: string, year: number) {
  const env = useEnv();
  let n = 0;
  const handle = (code: string) => env.client.workflow.getHandle(unitWorkflowId(rolloutId, code));
  const report = (code: string, r: ReportBody) => handle(code).executeUpdate(reportStepUpdate, { args: [{ reportId: `${rolloutId}-r${++n}`, unitCode: code, ...r } as StepReportInput] });
  const date = (mmdd: string): string => `${year}-${mmdd}`;
  return {
    date,
    /** Sleep (time-skipping) until the local wall time `mmdd hhmm` of the rollout's year. */
    async at(mmdd: string, hhmm = '09:00'): Promise<void> {
      const now = await env.currentTimeMs();
      const target = local(year, mmdd, hhmm);
      if (target < now) throw new Error(`test timeline goes backwards: ${mmdd} ${hhmm}`);
      await env.sleep(target - now);
    },
    start: (plan: PlanInput, hierarchyVersion: number, taskQueue: string, extra: { workflowTaskTimeout?: Duration } = {}) =>
      env.client.workflow.start(rolloutWorkflow, {
        taskQueue,
        workflowId: rolloutWorkflowId(rolloutId),
        ...extra,
        args: [
          {
            rolloutId,
            resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: `${year}-06-16` }, title: 'Nghị quyết 21-NQ/TW' },
            plan: parsePlan(plan),
            rootUnit: 'BG',
            hierarchyVersion,
            units: UNITS.length,
            requestedBy: 'user:ops',
          },
        ],
      }),
    study: (code: string, on: string, attended: number, makeup = false) => report(code, { stepId: 'study', kind: 'studyConference', sessionDate: date(on), attended, makeup }),
    draft: (code: string, stepId: string, on: string) => report(code, { stepId, kind: 'draftPlan', draftedBy: 'Ban Tổ chức', title: 'Dự thảo kế hoạch', submittedOn: date(on) }),
    issue: (code: string, stepId: string, doc: string, on: string) => report(code, { stepId, kind: 'issuePlan', documentNumber: doc, issuedOn: date(on), title: 'Kế hoạch thực hiện' }),
    extend: (code: string, input: ExtendDeadlineInput) => handle(code).executeUpdate(extendDeadlineUpdate, { args: [input] }),
    /** Stop every workflow of the rollout still running, so that its later timers do not need a worker. */
    async terminateAll(): Promise<void> {
      for (const id of [rolloutWorkflowId(rolloutId), ...UNITS.map((x) => unitWorkflowId(rolloutId, x.code))]) {
        await env.client.workflow
          .getHandle(id)
          .terminate('test over')
          .catch(() => undefined); // already finished (a cell that studied)
      }
    },
  };
}

async function importUnits(db: Kysely<Database>): Promise<number> {
  const r = await importHierarchy(db, UNITS, { source: 'bac-giang-audit.test.ts', content: JSON.stringify(UNITS), importedBy: 'user:ops', levels: levelsOf(UNITS) });
  return r.version;
}

let t1: TestDb;
let t2: TestDb;
beforeAll(async () => {
  [t1, t2] = await Promise.all([freshDatabase(), freshDatabase()]);
});
afterAll(async () => {
  await Promise.all([t1?.close(), t2?.close()]);
});

// ------------------------------------------------------------------------------------------------------
// 1. as-of

const R1 = 'bg-2022-asof';

/**
 * One unit's step as a line: status; "late" when completed after its deadline; "overdue" when not done
 * and past its deadline at that instant (as `rollout status` shows it); attendance for the study step.
 */
function stepLine(s: { status: string; due_at: Date | null; late_by_ms: string | null; kind: string; attended: number }, members: number, at: number): string {
  const late = s.status === 'done' && Number(s.late_by_ms) > 0 ? ' late' : '';
  const overdue = isOverdue(s.status, s.due_at, at) ? ' overdue' : '';
  const attended = s.kind === 'studyConference' ? ` ${s.attended}/${members}` : '';
  return `${s.status}${late}${overdue}${attended}`;
}

const PLAN_STEPS = new Set(['study', 'draft-province', 'issue-province', 'draft-lower', 'issue-lower']);

/** Everything `audit as-of` shows, folded from the events up to `at`, in a comparable form. */
async function asOf(db: Kysely<Database>, rolloutId: string, at: number) {
  const when = new Date(at);
  return withRolloutAsOf(db, rolloutId, when, async (trx) => {
    const rollout = await getRollout(trx, rolloutId);
    const counts = await unitCounts(trx, rolloutId);
    const progress = (await rolloutProgress(trx, rolloutId, when))
      .filter((p) => PLAN_STEPS.has(p.stepId))
      .map(
        (p) =>
          `${p.level} ${p.stepId}: ${p.done}/${p.units} done (${p.doneLate} late), ${p.open} open, ${p.waiting} waiting, ${p.overdue} overdue${p.kind === 'studyConference' ? `, studied ${p.attended}/${p.members}` : ''}`,
      )
      .sort();
    const steps: Record<string, Record<string, string>> = {};
    const unitStatus: Record<string, string> = {};
    for (const { code } of UNITS) {
      const unit = await getRolloutUnit(trx, rolloutId, code);
      if (!unit) continue;
      unitStatus[code] = unit.status;
      steps[code] = Object.fromEntries((await unitSteps(trx, rolloutId, code)).filter((s) => PLAN_STEPS.has(s.step_key)).map((s) => [s.step_key, stepLine(s, unit.members, at)]));
    }
    const fmt = (e: Awaited<ReturnType<typeof listEscalations>>[number]) => `${e.unit_code} ${e.step_key} tier ${e.tier} → ${e.recipient_code}${e.self ? ' (self)' : ''}`;
    const all = await listEscalations(trx, { rolloutId });
    const open = (await listEscalations(trx, { rolloutId, status: 'open' })).map(fmt).sort();
    const escalations = all.map((e) => `${fmt(e)}: ${e.status === 'open' ? 'open' : `resolved (${e.resolution})`}`).sort();
    const overdue = (await overdueUnits(trx, rolloutId, when, 1000)).map((o) => `${o.unit_code} ${o.step_key}`).sort();
    return { rolloutStatus: rollout?.status, counts, unitStatus, steps, progress, openEscalations: open, escalations, overdue };
  });
}

test('as-of: the Bắc Giang 2022 rollout as it stood before the study deadline, after the province plan deadline and after 30 Nov, folded from its events', async () => {
  const Y = await nextJuly22Year();
  const tl = rolloutDriver(R1, Y);
  const version = await importUnits(t1.db);
  const worker = await Worker.create({ connection: useEnv().nativeConnection, taskQueue: 'bg-asof', workflowBundle: await workflowBundle(), activities: workerActivities({ db: t1.db }) });
  try {
    await worker.runUntil(async () => {
      await tl.at('07-22');
      await tl.start(shiftPlanYears(BAC_GIANG_2022_PLAN, Y - 2022), version, 'bg-asof');

      await tl.at('08-05');
      await tl.study('BG', '08-05', 1000);
      await tl.study('BG.YT', '08-05', 300);
      await tl.study('BG.YT.BoHa', '08-05', 60); // 60 of 100: still open
      await tl.study('BG.YT.BoHa.CB01', '08-05', 40); // the cell's only step: CB01 is finished
      await tl.study('BG.YT.DongTam', '08-05', 200);
      await tl.at('08-20');
      await tl.study('BG.YT.BoHa', '08-20', 40, true); // make-up session: 100/100, on time
      await tl.study('BG.YT.BoHa.CB02', '08-20', 50); // 50 of 60: still open
      // ← instant A (25/08 12:00)
      // 01/09 00:00: study missed by CB02, BG.LN, PhuongSon → tier 1 to BoHa, BG, BG.LN.
      await tl.at('09-05', '10:00');
      await tl.study('BG.LN', '09-05', 700); // late: resolves its tier-1 escalation
      await tl.at('09-06', '10:00');
      // The district's committee extends PhuongSon's study to 20/9: its tier-1 escalation is resolved, and
      // no tier 2 follows on 08/09 (its timers restart from the new deadline).
      await tl.extend('BG.LN.PhuongSon', {
        requestId: 'ext-ps-study',
        stepId: 'study',
        committeeCode: 'BG.LN',
        until: tl.date('09-20'),
        reason: 'Bão lũ, thị trấn đề nghị gia hạn',
        decision: 'Đồng ý gia hạn đến 20/9',
      });
      // 08/09 00:00: CB02 still short → tier 2 to the next committee up, BG.YT.
      await tl.at('09-10');
      await tl.draft('BG', 'draft-province', '09-10');
      await tl.at('09-15');
      await tl.study('BG.LN.PhuongSon', '09-15', 700); // within the extension: not late
      // 01/10 00:00: the province has not issued its plan (due end of Q3) → escalated to itself.
      // ← instant B (01/10 08:00)
      await tl.at('10-03');
      await tl.issue('BG', 'issue-province', '45-KH/TU', '10-03'); // late; opens the districts' draft-lower
      await tl.at('10-10');
      await tl.draft('BG.YT', 'draft-lower', '10-10');
      await tl.at('10-15');
      await tl.study('BG.YT.BoHa.CB02', '10-15', 10, true); // 60/60, late: resolves tiers 1 and 2; CB02 finished
      await tl.at('10-20');
      await tl.issue('BG.YT', 'issue-lower', '12-KH/HU', '10-20'); // opens BoHa's and DongTam's draft-lower
      await tl.at('11-01');
      await tl.draft('BG.YT.BoHa', 'draft-lower', '11-01');
      await tl.at('11-10');
      await tl.draft('BG.YT.DongTam', 'draft-lower', '11-10'); // …and never issues
      await tl.at('11-15');
      await tl.issue('BG.YT.BoHa', 'issue-lower', '05-KH/ĐU', '11-15');
      await tl.at('11-25');
      await tl.draft('BG.LN', 'draft-lower', '11-25');
      // 01/12 00:00: plans due 30/11 missed: BG.LN issue-lower → BG; DongTam issue-lower → BG.YT;
      // PhuongSon draft-lower and issue-lower (still waiting for BG.LN's plan) → BG.LN.
      // ← instant D (03/12 09:00)
      await tl.at('12-05', '15:00');
      await tl.issue('BG.LN', 'issue-lower', '31-KH/HU', '12-05'); // late; opens PhuongSon's draft-lower
      // 08/12 00:00: tier 2 of what is still overdue: DongTam issue-lower, PhuongSon draft-lower and
      // issue-lower, all to the province (BG.LN finished on 5/12).
      // ← instant C (10/12 09:00)
      await tl.at('12-12');
      // Timers append their events asynchronously: wait until the last ones (08/12) are in the log.
      await waitFor('the 08/12 escalations in the read model', async () => {
        const n = await t1.db
          .selectFrom('escalations')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('rollout_id', '=', R1)
          .executeTakeFirstOrThrow();
        return Number(n.n) >= 12;
      });
    });
  } finally {
    await tl.terminateAll();
  }

  const liveBefore = await readModelDigest(t1.db);

  // ---- A: 25/08 12:00, before the study deadline (end of 31/08) -----------------------------------------
  // Studied by then: BG 1000/1000, BG.YT 300/300, BoHa 60+40 (make-up on 20/8), CB01 40/40, DongTam
  // 200/200; CB02 50/60; BG.LN and PhuongSon nothing. Nothing is overdue, nobody escalated. The province
  // has not drafted (draft-province open; issue-province waits for it); the lower levels' plan steps wait
  // for the cascade.
  const A = await asOf(t1.db, R1, local(Y, '08-25', '12:00'));
  expect(A.rolloutStatus).toBe('running');
  expect(A.counts).toEqual({ units: 8, completed: 1, cancelled: 0, merged: 0, dissolved: 0, suspended: 0, openEscalations: 0 }); // CB01 finished on 5/8
  expect(A.unitStatus).toEqual({
    BG: 'active',
    'BG.YT': 'active',
    'BG.YT.BoHa': 'active',
    'BG.YT.BoHa.CB01': 'completed',
    'BG.YT.BoHa.CB02': 'active',
    'BG.YT.DongTam': 'active',
    'BG.LN': 'active',
    'BG.LN.PhuongSon': 'active',
  });
  expect(A.steps).toEqual({
    BG: { study: 'done 1000/1000', 'draft-province': 'open', 'issue-province': 'waiting' },
    'BG.YT': { study: 'done 300/300', 'draft-lower': 'waiting', 'issue-lower': 'waiting' },
    'BG.YT.BoHa': { study: 'done 100/100', 'draft-lower': 'waiting', 'issue-lower': 'waiting' },
    'BG.YT.BoHa.CB01': { study: 'done 40/40' },
    'BG.YT.BoHa.CB02': { study: 'open 50/60' },
    'BG.YT.DongTam': { study: 'done 200/200', 'draft-lower': 'waiting', 'issue-lower': 'waiting' },
    'BG.LN': { study: 'open 0/700', 'draft-lower': 'waiting', 'issue-lower': 'waiting' },
    'BG.LN.PhuongSon': { study: 'open 0/700', 'draft-lower': 'waiting', 'issue-lower': 'waiting' },
  });
  expect(A.progress).toEqual(
    [
      // Coverage per level: huyen 300 of 300+700; coso 100+200 of 100+200+700; chibo 40+50 of 40+60.
      'tinh study: 1/1 done (0 late), 0 open, 0 waiting, 0 overdue, studied 1000/1000',
      'huyen study: 1/2 done (0 late), 1 open, 0 waiting, 0 overdue, studied 300/1000',
      'coso study: 2/3 done (0 late), 1 open, 0 waiting, 0 overdue, studied 300/1000',
      'chibo study: 1/2 done (0 late), 1 open, 0 waiting, 0 overdue, studied 90/100',
      'tinh draft-province: 0/1 done (0 late), 1 open, 0 waiting, 0 overdue',
      'tinh issue-province: 0/1 done (0 late), 0 open, 1 waiting, 0 overdue',
      'huyen draft-lower: 0/2 done (0 late), 0 open, 2 waiting, 0 overdue',
      'huyen issue-lower: 0/2 done (0 late), 0 open, 2 waiting, 0 overdue',
      'coso draft-lower: 0/3 done (0 late), 0 open, 3 waiting, 0 overdue',
      'coso issue-lower: 0/3 done (0 late), 0 open, 3 waiting, 0 overdue',
    ].sort(),
  );
  expect(A.escalations).toEqual([]);
  expect(A.overdue).toEqual([]);

  // ---- B: 01/10 08:00, just after the province's plan deadline (end of 30/09) ----------------------------
  // Study: BG.LN completed late on 5/9; PhuongSon on 15/9, within its extension to 20/9 (not late); CB02
  // is still at 50/60 and overdue, escalated to BoHa (1/9) and BG.YT (8/9). The province drafted on 10/9
  // but has not issued: overdue since 01/10 00:00, escalated to itself. Its plan not being issued, no
  // district's or commune's plan step has opened.
  const B = await asOf(t1.db, R1, local(Y, '10-01', '08:00'));
  expect(B.counts).toEqual({ units: 8, completed: 1, cancelled: 0, merged: 0, dissolved: 0, suspended: 0, openEscalations: 3 });
  expect(B.unitStatus['BG.YT.BoHa.CB02']).toBe('active');
  expect(B.steps).toEqual({
    BG: { study: 'done 1000/1000', 'draft-province': 'done', 'issue-province': 'open overdue' },
    'BG.YT': { study: 'done 300/300', 'draft-lower': 'waiting', 'issue-lower': 'waiting' },
    'BG.YT.BoHa': { study: 'done 100/100', 'draft-lower': 'waiting', 'issue-lower': 'waiting' },
    'BG.YT.BoHa.CB01': { study: 'done 40/40' },
    'BG.YT.BoHa.CB02': { study: 'open overdue 50/60' },
    'BG.YT.DongTam': { study: 'done 200/200', 'draft-lower': 'waiting', 'issue-lower': 'waiting' },
    'BG.LN': { study: 'done late 700/700', 'draft-lower': 'waiting', 'issue-lower': 'waiting' },
    'BG.LN.PhuongSon': { study: 'done 700/700', 'draft-lower': 'waiting', 'issue-lower': 'waiting' },
  });
  expect(B.progress).toEqual(
    [
      'tinh study: 1/1 done (0 late), 0 open, 0 waiting, 0 overdue, studied 1000/1000',
      'huyen study: 2/2 done (1 late), 0 open, 0 waiting, 0 overdue, studied 1000/1000',
      'coso study: 3/3 done (0 late), 0 open, 0 waiting, 0 overdue, studied 1000/1000',
      'chibo study: 1/2 done (0 late), 1 open, 0 waiting, 1 overdue, studied 90/100',
      'tinh draft-province: 1/1 done (0 late), 0 open, 0 waiting, 0 overdue',
      'tinh issue-province: 0/1 done (0 late), 1 open, 0 waiting, 1 overdue',
      'huyen draft-lower: 0/2 done (0 late), 0 open, 2 waiting, 0 overdue',
      'huyen issue-lower: 0/2 done (0 late), 0 open, 2 waiting, 0 overdue',
      'coso draft-lower: 0/3 done (0 late), 0 open, 3 waiting, 0 overdue',
      'coso issue-lower: 0/3 done (0 late), 0 open, 3 waiting, 0 overdue',
    ].sort(),
  );
  expect(B.openEscalations).toEqual(['BG issue-province tier 1 → BG (self)', 'BG.YT.BoHa.CB02 study tier 1 → BG.YT.BoHa', 'BG.YT.BoHa.CB02 study tier 2 → BG.YT'].sort());
  expect(B.escalations).toEqual(
    [
      'BG issue-province tier 1 → BG (self): open',
      'BG.YT.BoHa.CB02 study tier 1 → BG.YT.BoHa: open',
      'BG.YT.BoHa.CB02 study tier 2 → BG.YT: open',
      'BG.LN study tier 1 → BG: resolved (completed)',
      'BG.LN.PhuongSon study tier 1 → BG.LN: resolved (extended)',
    ].sort(),
  );
  expect(B.overdue).toEqual(['BG issue-province', 'BG.YT.BoHa.CB02 study'].sort());

  // ---- D: 03/12 09:00, just after the lower levels' plan deadline (end of 30/11) --------------------------
  // The province issued on 3/10 (late); CB02 finished late on 15/10. BG.YT drafted 10/10 and issued
  // 20/10; BoHa drafted 1/11 and issued 15/11; DongTam drafted 10/11 but never issued; BG.LN drafted
  // 25/11 but had not issued by 30/11, so PhuongSon's plan steps never opened and are overdue while
  // still waiting. Tier 1 of each went out on 01/12: to BG.YT, BG, BG.LN, BG.LN.
  const D = await asOf(t1.db, R1, local(Y, '12-03', '09:00'));
  expect(D.counts).toEqual({ units: 8, completed: 2, cancelled: 0, merged: 0, dissolved: 0, suspended: 0, openEscalations: 4 });
  expect(D.unitStatus['BG.YT.BoHa.CB02']).toBe('completed');
  expect(D.steps).toEqual({
    BG: { study: 'done 1000/1000', 'draft-province': 'done', 'issue-province': 'done late' },
    'BG.YT': { study: 'done 300/300', 'draft-lower': 'done', 'issue-lower': 'done' },
    'BG.YT.BoHa': { study: 'done 100/100', 'draft-lower': 'done', 'issue-lower': 'done' },
    'BG.YT.BoHa.CB01': { study: 'done 40/40' },
    'BG.YT.BoHa.CB02': { study: 'done late 60/60' },
    'BG.YT.DongTam': { study: 'done 200/200', 'draft-lower': 'done', 'issue-lower': 'open overdue' },
    'BG.LN': { study: 'done late 700/700', 'draft-lower': 'done', 'issue-lower': 'open overdue' },
    'BG.LN.PhuongSon': { study: 'done 700/700', 'draft-lower': 'waiting overdue', 'issue-lower': 'waiting overdue' },
  });
  expect(D.progress).toEqual(
    [
      'tinh study: 1/1 done (0 late), 0 open, 0 waiting, 0 overdue, studied 1000/1000',
      'huyen study: 2/2 done (1 late), 0 open, 0 waiting, 0 overdue, studied 1000/1000',
      'coso study: 3/3 done (0 late), 0 open, 0 waiting, 0 overdue, studied 1000/1000',
      'chibo study: 2/2 done (1 late), 0 open, 0 waiting, 0 overdue, studied 100/100',
      'tinh draft-province: 1/1 done (0 late), 0 open, 0 waiting, 0 overdue',
      // Plans issued per level: the province (late), 1 of 2 districts, 1 of 3 communes.
      'tinh issue-province: 1/1 done (1 late), 0 open, 0 waiting, 0 overdue',
      'huyen draft-lower: 2/2 done (0 late), 0 open, 0 waiting, 0 overdue',
      'huyen issue-lower: 1/2 done (0 late), 1 open, 0 waiting, 1 overdue',
      'coso draft-lower: 2/3 done (0 late), 0 open, 1 waiting, 1 overdue',
      'coso issue-lower: 1/3 done (0 late), 1 open, 1 waiting, 2 overdue',
    ].sort(),
  );
  expect(D.openEscalations).toEqual(
    ['BG.LN issue-lower tier 1 → BG', 'BG.LN.PhuongSon draft-lower tier 1 → BG.LN', 'BG.LN.PhuongSon issue-lower tier 1 → BG.LN', 'BG.YT.DongTam issue-lower tier 1 → BG.YT'].sort(),
  );
  expect(D.escalations).toEqual(
    [
      'BG issue-province tier 1 → BG (self): resolved (completed)',
      'BG.YT.BoHa.CB02 study tier 1 → BG.YT.BoHa: resolved (completed)',
      'BG.YT.BoHa.CB02 study tier 2 → BG.YT: resolved (completed)',
      'BG.LN study tier 1 → BG: resolved (completed)',
      'BG.LN.PhuongSon study tier 1 → BG.LN: resolved (extended)',
      'BG.LN issue-lower tier 1 → BG: open',
      'BG.LN.PhuongSon draft-lower tier 1 → BG.LN: open',
      'BG.LN.PhuongSon issue-lower tier 1 → BG.LN: open',
      'BG.YT.DongTam issue-lower tier 1 → BG.YT: open',
    ].sort(),
  );
  expect(D.overdue).toEqual(['BG.LN issue-lower', 'BG.LN.PhuongSon draft-lower', 'BG.LN.PhuongSon issue-lower', 'BG.YT.DongTam issue-lower'].sort());

  // ---- C: 10/12 09:00, after tier 2 of the plan deadlines (08/12) -----------------------------------------
  // BG.LN issued on 5/12 (late): its escalation is resolved, and PhuongSon's draft-lower opened (overdue;
  // issue-lower still waits for the draft). Tier 2 of DongTam's and PhuongSon's plan steps went to BG.
  const C = await asOf(t1.db, R1, local(Y, '12-10', '09:00'));
  expect(C.counts).toEqual({ units: 8, completed: 2, cancelled: 0, merged: 0, dissolved: 0, suspended: 0, openEscalations: 6 });
  expect(C.steps).toEqual({
    ...D.steps,
    'BG.LN': { study: 'done late 700/700', 'draft-lower': 'done', 'issue-lower': 'done late' },
    'BG.LN.PhuongSon': { study: 'done 700/700', 'draft-lower': 'open overdue', 'issue-lower': 'waiting overdue' },
  });
  expect(C.progress).toEqual(
    [
      'tinh study: 1/1 done (0 late), 0 open, 0 waiting, 0 overdue, studied 1000/1000',
      'huyen study: 2/2 done (1 late), 0 open, 0 waiting, 0 overdue, studied 1000/1000',
      'coso study: 3/3 done (0 late), 0 open, 0 waiting, 0 overdue, studied 1000/1000',
      'chibo study: 2/2 done (1 late), 0 open, 0 waiting, 0 overdue, studied 100/100',
      'tinh draft-province: 1/1 done (0 late), 0 open, 0 waiting, 0 overdue',
      'tinh issue-province: 1/1 done (1 late), 0 open, 0 waiting, 0 overdue',
      'huyen draft-lower: 2/2 done (0 late), 0 open, 0 waiting, 0 overdue',
      'huyen issue-lower: 2/2 done (1 late), 0 open, 0 waiting, 0 overdue',
      'coso draft-lower: 2/3 done (0 late), 1 open, 0 waiting, 1 overdue',
      'coso issue-lower: 1/3 done (0 late), 1 open, 1 waiting, 2 overdue',
    ].sort(),
  );
  expect(C.openEscalations).toEqual(
    [
      'BG.LN.PhuongSon draft-lower tier 1 → BG.LN',
      'BG.LN.PhuongSon draft-lower tier 2 → BG',
      'BG.LN.PhuongSon issue-lower tier 1 → BG.LN',
      'BG.LN.PhuongSon issue-lower tier 2 → BG',
      'BG.YT.DongTam issue-lower tier 1 → BG.YT',
      'BG.YT.DongTam issue-lower tier 2 → BG',
    ].sort(),
  );
  expect(C.escalations).toHaveLength(12);
  expect(C.escalations).toContain('BG.LN issue-lower tier 1 → BG: resolved (completed)');
  expect(C.overdue).toEqual(['BG.LN.PhuongSon draft-lower', 'BG.LN.PhuongSon issue-lower', 'BG.YT.DongTam issue-lower'].sort());

  // Folding happens in a transaction that is rolled back: the live read model is untouched, and folding
  // everything (as of now) gives exactly the live read model.
  expect((await readModelDigest(t1.db)).digest).toBe(liveBefore.digest);
  const now = await useEnv().currentTimeMs();
  expect(await withRolloutAsOf(t1.db, R1, new Date(now), (trx) => readModelDigest(trx))).toEqual(liveBefore);
  expect(await verifyChain(t1.db)).toMatchObject({ ok: true, problems: [] });
});

// ------------------------------------------------------------------------------------------------------
// 2. rebuild after a rollout whose worker was restarted part-way

const R2 = 'bg-2022-restart';

test('rebuild: after a rollout whose worker was shut down part-way (timers came due with no worker), the read model rebuilt from the events is identical', async () => {
  const env = useEnv();
  const Y = await nextJuly22Year(); // the year after test 1's
  const tl = rolloutDriver(R2, Y);
  const db = t2.db;
  const version = await importUnits(db);
  const count = async (type?: string): Promise<number> => {
    let q = db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('n'));
    if (type) q = q.where('type', '=', type);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  // The first study reminder: 14 days before the end of 31/08, i.e. 17/08 23:59:59.999.
  const firstReminder = local(Y, '08-31', '23:59') + 59_999 - 14 * 86_400_000;
  let shutDownAt = new Date();
  const newWorker = (options: { maxCachedWorkflows?: number } = {}) =>
    workflowBundle().then((workflowBundle) => Worker.create({ connection: env.nativeConnection, taskQueue: 'bg-restart', workflowBundle, activities: workerActivities({ db }), ...options }));

  try {
    // The first worker keeps no workflow cache, hence no sticky task queue. The time-skipping test server
    // ignores ShutdownWorker and has no sticky schedule-to-start timeout, so the tasks of a cached
    // worker's workflows would wait on its sticky queue forever once it is gone; a real server moves
    // them to the shared queue, which is where this worker's tasks are from the start. Without a cache
    // the SDK drops local activities still in flight when it evicts the run (enrolment reads the unit
    // through one), and the server retries the workflow task after its timeout: a short one (inherited
    // by the unit workflows) keeps that to seconds.
    const first = await newWorker({ maxCachedWorkflows: 0 });
    const firstRun = first.run();
    await tl.at('07-22');
    await tl.start(shiftPlanYears(BAC_GIANG_2022_PLAN, Y - 2022), version, 'bg-restart', { workflowTaskTimeout: '2s' });
    await tl.at('08-05');
    await tl.study('BG', '08-05', 1000);
    await tl.study('BG.YT', '08-05', 300);
    await tl.study('BG.YT.BoHa', '08-05', 100);
    await tl.study('BG.YT.BoHa.CB01', '08-05', 40);
    await tl.study('BG.YT.DongTam', '08-05', 200);
    // BG.LN, PhuongSon and CB02 have not studied.
    await tl.at('08-10');
    await waitFor('all 8 units enrolled', async () => (await count('UnitEnrolled')) === 8);

    // ---- the worker goes down on 10/08 -------------------------------------------------------------------
    first.shutdown();
    await firstRun;
    const eventsAtShutdown = await count();
    shutDownAt = new Date();

    // Time moves on with no worker: the next timers are the study reminders 14 days before the end of
    // 31/08 (17/08 23:59:59.999) of the three units that have not studied. They fire; nobody handles them
    // (the server stops skipping time while their workflow tasks wait), and nothing is recorded.
    const advancing = tl.at('09-02');
    await waitFor('the server clock to reach the reminders', async () => (await env.currentTimeMs()) > firstReminder);
    expect(await count()).toBe(eventsAtShutdown);
    expect(await count('ReminderSent')).toBe(0);

    // ---- a new worker (with the usual cache) comes up and the rollout carries on ---------------------------
    const second = await newWorker();
    await second.runUntil(async () => {
      await advancing;
      // 01/09 00:00: study missed by BG.LN, PhuongSon, CB02 → tier 1 to BG, BG.LN, BoHa.
      await tl.at('09-03');
      await tl.study('BG.LN.PhuongSon', '09-03', 700); // late
      await tl.at('09-05');
      await tl.study('BG.LN', '09-05', 700); // late
      // 08/09 00:00: CB02 still overdue → tier 2 to BG.YT.
      await tl.at('09-10');
      await tl.draft('BG', 'draft-province', '09-10');
      await tl.at('09-20');
      await tl.issue('BG', 'issue-province', '45-KH/TU', '09-20'); // on time; opens the districts' plan steps
      await tl.at('10-01');
      await tl.study('BG.YT.BoHa.CB02', '10-01', 60, true); // late: resolves tiers 1 and 2
      await tl.at('10-10');
      await tl.draft('BG.YT', 'draft-lower', '10-10');
      await tl.at('10-20');
      await tl.issue('BG.YT', 'issue-lower', '12-KH/HU', '10-20');
      await tl.at('11-01');
      await tl.draft('BG.YT.BoHa', 'draft-lower', '11-01');
      await tl.at('11-15');
      await tl.issue('BG.YT.BoHa', 'issue-lower', '05-KH/ĐU', '11-15');
      // BG.LN and DongTam never draft, so PhuongSon's plan steps never open. 01/12 00:00, tier 1:
      // BG.LN draft-lower and issue-lower → BG (nobody above BG: no tier 2); DongTam both → BG.YT;
      // PhuongSon both → BG.LN. 08/12 00:00, tier 2: DongTam's and PhuongSon's four → BG.
      await tl.at('12-10');
      await waitFor('the 08/12 escalations in the read model', async () => {
        const n = await db
          .selectFrom('escalations')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow();
        return Number(n.n) >= 14;
      });
    });
  } finally {
    await tl.terminateAll();
  }

  // The reminders whose timers fired while no worker ran were recorded by the new worker, once each.
  const reminders = await db
    .selectFrom('events')
    .select(['unit_code', 'occurred_at', 'recorded_at', sql<string>`payload->>'offset'`.as('offset')])
    .where('type', '=', 'ReminderSent')
    .where(sql<string>`payload->>'key'`, '=', 'study')
    .execute();
  const fortnightBefore = reminders.filter((r) => r.offset === 'P14D');
  expect(fortnightBefore.map((r) => r.unit_code).sort()).toEqual(['BG.LN', 'BG.LN.PhuongSon', 'BG.YT.BoHa.CB02']);
  for (const r of fortnightBefore) {
    expect(new Date(r.occurred_at).getTime()).toBeGreaterThan(firstReminder);
    expect(new Date(r.recorded_at).getTime()).toBeGreaterThanOrEqual(shutDownAt.getTime());
  }
  // The reminders 3 days before (28/08 23:59:59.999) came while the second worker ran.
  expect(
    reminders
      .filter((r) => r.offset === 'P3D')
      .map((r) => r.unit_code)
      .sort(),
  ).toEqual(['BG.LN', 'BG.LN.PhuongSon', 'BG.YT.BoHa.CB02']);
  expect(reminders).toHaveLength(6);

  // ---- the read model, hand-counted ------------------------------------------------------------------------
  // Steps per unit: tinh 13 (study, draft/issue-province, 8 annual reports, 2 reviews); huyen 13 (study,
  // draft/issue-lower, 8 annual reports, 2 reviews); coso 11 (no reviews); chibo 1 (study):
  // 13 + 2×13 + 3×11 + 2×1 = 74. Progress per (level, step): 6 + 6 + 4 + 1 = 17 (each spread over the
  // slots of the units counted in it: one slot per unit, db/projection.ts slotOf).
  // Escalations: study 3 + 1 (CB02 tier 2); plans 2 (BG.LN) + 4 (DongTam) + 4 (PhuongSon) = 14.
  const digest = await readModelDigest(db);
  const { rollout_progress: _slots, ...rowCounts } = Object.fromEntries(Object.entries(digest.tables).map(([k, v]) => [k, v.rows]));
  expect(rowCounts).toEqual({ rollouts: 1, rollout_units: 8, unit_steps: 74, escalations: 14 });
  const perStep = await sql<{ n: number }>`select count(distinct (level, step_id))::int as n from rollout_progress`.execute(db);
  expect(perStep.rows[0]!.n).toBe(17);
  const done = await db.selectFrom('unit_steps').select(['unit_code', 'step_key', 'late_by_ms']).where('status', '=', 'done').orderBy('unit_code').orderBy('step_key').execute();
  expect(done.map((s) => `${s.unit_code} ${s.step_key}${Number(s.late_by_ms) > 0 ? ' late' : ''}`)).toEqual(
    [
      'BG draft-province',
      'BG issue-province',
      'BG study',
      'BG.LN study late',
      'BG.LN.PhuongSon study late',
      'BG.YT draft-lower',
      'BG.YT issue-lower',
      'BG.YT study',
      'BG.YT.BoHa draft-lower',
      'BG.YT.BoHa issue-lower',
      'BG.YT.BoHa study',
      'BG.YT.BoHa.CB01 study',
      'BG.YT.BoHa.CB02 study late',
      'BG.YT.DongTam study',
    ].sort(),
  );
  const escalations = await listEscalations(db, { rolloutId: R2 });
  expect(escalations.map((e) => `${e.unit_code} ${e.step_key} tier ${e.tier} → ${e.recipient_code}: ${e.status}`).sort()).toEqual(
    [
      'BG.LN study tier 1 → BG: resolved',
      'BG.LN.PhuongSon study tier 1 → BG.LN: resolved',
      'BG.YT.BoHa.CB02 study tier 1 → BG.YT.BoHa: resolved',
      'BG.YT.BoHa.CB02 study tier 2 → BG.YT: resolved',
      'BG.LN draft-lower tier 1 → BG: open',
      'BG.LN issue-lower tier 1 → BG: open',
      'BG.YT.DongTam draft-lower tier 1 → BG.YT: open',
      'BG.YT.DongTam issue-lower tier 1 → BG.YT: open',
      'BG.YT.DongTam draft-lower tier 2 → BG: open',
      'BG.YT.DongTam issue-lower tier 2 → BG: open',
      'BG.LN.PhuongSon draft-lower tier 1 → BG.LN: open',
      'BG.LN.PhuongSon issue-lower tier 1 → BG.LN: open',
      'BG.LN.PhuongSon draft-lower tier 2 → BG: open',
      'BG.LN.PhuongSon issue-lower tier 2 → BG: open',
    ].sort(),
  );
  expect(await unitCounts(db, R2)).toEqual({ units: 8, completed: 2, cancelled: 0, merged: 0, dissolved: 0, suspended: 0, openEscalations: 10 }); // CB01, CB02

  // ---- rebuild -------------------------------------------------------------------------------------------
  const events = await count();
  const rebuilt = await rebuildReadModel(db);
  expect(rebuilt.events).toBe(events);
  expect(rebuilt.before).toEqual(digest);
  expect(rebuilt.after).toEqual(digest);
  expect(rebuilt.equal).toBe(true);
  expect(await readModelDigest(db)).toEqual(digest);
  expect(await verifyChain(db)).toMatchObject({ ok: true, events, problems: [] });

  // The comparison can fail: a read model edited behind the log's back differs from its rebuild, and the
  // rebuild (kept) is the one derived from the events.
  await db
    .updateTable('escalations')
    .set({ status: 'resolved', resolution: 'extended' })
    .where('rollout_id', '=', R2)
    .where('unit_code', '=', 'BG.YT.DongTam')
    .where('tier', '=', 2)
    .where('step_key', '=', 'issue-lower')
    .execute();
  const again = await rebuildReadModel(db);
  expect(again.equal).toBe(false);
  expect(again.before.tables.escalations!.digest).not.toBe(digest.tables.escalations!.digest);
  expect(again.after).toEqual(digest);
});
