/**
 * The whole Bắc Giang 2022 timeline (seed 000) and a year of supervision, on the time-skipping test
 * server: who is reminded and escalated, when, to which standing committee, and what an extension and
 * a late completion change. Activities are in-memory (workflow unit test); the engine is real.
 *
 * The test server's clock starts at "now", so the plan's 2022 dates are moved forward by whole years
 * to the first July 22 still ahead; every date below is written relative to that year (Y).
 */
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { BAC_GIANG_2022_PLAN } from '../../domain/default-plans';
import { parsePlan } from '../../domain/plan';
import type { StepReportInput, ExtendDeadlineInput } from '../../domain/reports';
import { formatLocal } from '../../domain/time';
import { extendDeadlineUpdate, reportStepUpdate, unitStatusQuery, unitWorkflowId } from '../../workflows/definitions';
import { rolloutWorkflow } from '../../workflows/rollout';
import { memoryActivities, type MemoryStore } from '../helpers/memory-activities';
import { timeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { BG_UNITS, shiftPlanYears } from '../helpers/bac-giang';

Runtime.install({ logger: new DefaultLogger('WARN') });

const UNITS = BG_UNITS;

let env: TestWorkflowEnvironment;
let Y: number;
let store: MemoryStore;
const ROLLOUT = 'bg-2022';

/** An instant given as local (UTC+7) wall time in year Y. */
const local = (mmdd: string, hhmm = '09:00', year = Y): number => Date.parse(`${year}-${mmdd}T${hhmm}:00+07:00`);
const date = (mmdd: string, year = Y): string => `${year}-${mmdd}`;

async function at(mmdd: string, hhmm = '09:00', year = Y): Promise<void> {
  const now = await env.currentTimeMs();
  const target = local(mmdd, hhmm, year);
  if (target < now) throw new Error(`test timeline goes backwards: ${mmdd} ${hhmm}`);
  await env.sleep(target - now);
}

const handle = (code: string) => env.client.workflow.getHandle(unitWorkflowId(ROLLOUT, code));
let n = 0;
type ReportBody = StepReportInput extends infer T ? (T extends unknown ? Omit<T, 'reportId' | 'unitCode'> & { reportId?: string } : never) : never;
async function report(code: string, r: ReportBody) {
  return handle(code).executeUpdate(reportStepUpdate, { args: [{ reportId: r.reportId ?? `r${++n}`, unitCode: code, ...r } as StepReportInput] });
}
const study = (code: string, sessionDate: string, attended: number, makeup = false) => report(code, { stepId: 'study', kind: 'studyConference', sessionDate, attended, makeup });
const draft = (code: string, stepId: string, on: string) => report(code, { stepId, kind: 'draftPlan', draftedBy: 'Ban Tổ chức', title: 'Dự thảo kế hoạch', submittedOn: on });
const issue = (code: string, stepId: string, doc: string, on: string) => report(code, { stepId, kind: 'issuePlan', documentNumber: doc, issuedOn: on, title: 'Kế hoạch thực hiện' });

/** The validator's message of a rejected Update (nothing is recorded for it). */
async function rejection(p: Promise<unknown>): Promise<string> {
  // Timers of other units may record meanwhile; what a rejected report must not leave is a report.
  const recordedByPeople = () => store.events.filter((ev) => ev.actor !== 'system').length;
  const count = recordedByPeople();
  const e = await p.then(
    () => {
      throw new Error('expected the update to be rejected');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WorkflowUpdateFailedError);
  expect(recordedByPeople()).toBe(count);
  return (e as WorkflowUpdateFailedError).cause?.message ?? '';
}

/** The recorded events of a type, as readable lines: "when unit step detail". */
function lines(type: string, detail: (p: Record<string, unknown>) => string = () => ''): string[] {
  return store.events
    .filter((e) => e.type === type)
    .map((e) => `${formatLocal(new Date(e.occurredAt))} ${e.unitCode} ${(e.payload as { key?: string }).key ?? ''}${detail(e.payload as Record<string, unknown>)}`.trimEnd());
}

beforeAll(async () => {
  env = await timeSkippingEnv();
  const now = await env.currentTimeMs();
  Y = new Date(now).getUTCFullYear();
  if (Date.parse(`${Y}-07-22T00:00:00+07:00`) <= now + 86_400_000) Y += 1;
});
afterAll(async () => {
  await env?.teardown();
});

test('the Bắc Giang 2022 timeline: reminders, escalations routed up the tree, an extension, late completions, a year of supervision', async () => {
  store = memoryActivities(UNITS);
  const plan = parsePlan(shiftPlanYears(BAC_GIANG_2022_PLAN, Y - 2022));
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'bg', workflowBundle: await workflowBundle(), activities: store.activities });
  await worker.runUntil(async () => {
    await at('07-22');
    await env.client.workflow.start(rolloutWorkflow, {
      taskQueue: 'bg',
      workflowId: `rollout-${ROLLOUT}`,
      args: [
        {
          rolloutId: ROLLOUT,
          resolution: { document: { text: '21-NQ/TW', issuer: 'TW', type: 'NQ', number: 21, date: `${Y}-06-16` }, title: 'NQ 21' },
          plan,
          rootUnit: 'BG',
          hierarchyVersion: 1,
          requestedBy: 'user:ops',
        },
      ],
    });

    // Study: 100% by the end of August, make-up sessions included.
    await at('08-05');
    expect((await study('BG', date('08-05'), 1000)).status).toBe('done');
    await study('BG.YT', date('08-05'), 300);
    const partial = await study('BG.YT.BoHa', date('08-05'), 60);
    expect(partial).toMatchObject({ status: 'open', coverage: 0.6 });
    await study('BG.YT.BoHa.CB01', date('08-05'), 40);
    await study('BG.YT.DongTam', date('08-05'), 200);
    // A unit cannot report for another, nor more attendees than members who have not yet studied.
    expect(
      await rejection(
        handle('BG.YT').executeUpdate(reportStepUpdate, { args: [{ reportId: 'x1', unitCode: 'BG.YT.DongTam', stepId: 'study', kind: 'studyConference', sessionDate: date('08-05'), attended: 1 }] }),
      ),
    ).toBe('unitCode: unit BG.YT.DongTam cannot report for unit BG.YT: a unit may report only for its own steps');
    expect(await rejection(study('BG.YT.BoHa', date('08-05'), 41))).toBe('attended: 41 attendees is more than the 40 members who have not yet studied (60 of 100 already attended)');
    expect(await rejection(study('BG.YT.BoHa', date('08-06'), 1))).toMatch(/^sessionDate: .* is in the future/);
    expect(await rejection(report('BG.YT', { stepId: 'study', kind: 'studyConference', sessionDate: 'yesterday', attended: 1 } as never))).toMatch(/^report\.sessionDate: /);
    // The cascade: a district cannot issue its plan before the province has issued its own.
    expect(await rejection(issue('BG.YT', 'issue-lower', '12-KH/HU', date('08-05')))).toMatch(/opens when the parent unit BG .* has completed its issuePlan step/);

    await at('08-20');
    expect((await study('BG.YT.BoHa', date('08-20'), 40, true)).status).toBe('done');
    await study('BG.YT.BoHa.CB02', date('08-20'), 50);
    // The same report ID again counts once.
    const dup = await report('BG.YT.BoHa.CB02', { reportId: 'cb02-makeup', stepId: 'study', kind: 'studyConference', sessionDate: date('08-20'), attended: 5 });
    const again = await report('BG.YT.BoHa.CB02', { reportId: 'cb02-makeup', stepId: 'study', kind: 'studyConference', sessionDate: date('08-20'), attended: 5 });
    expect(again).toEqual({ ...dup, duplicate: true });
    expect((await handle('BG.YT.BoHa.CB02').query(unitStatusQuery)).steps[0]).toMatchObject({ key: 'study', status: 'open' });

    await at('09-05', '10:00');
    const late = await study('BG.LN', date('09-05'), 700);
    // Late by 4 days 10 hours: from the end of 31/8 to the report (workflow time, to within a second).
    expect(late.lateByMs! - (local('09-05', '10:00') - (local('09-01', '00:00') - 1))).toBeGreaterThanOrEqual(0);
    expect(late.lateByMs! - (local('09-05', '10:00') - (local('09-01', '00:00') - 1))).toBeLessThan(1000);

    await at('09-06', '10:00');
    const ext: ExtendDeadlineInput = {
      requestId: 'ext-1',
      stepId: 'study',
      committeeCode: 'BG.LN',
      until: date('09-20'),
      reason: 'Bão lũ, thị trấn đề nghị gia hạn',
      decision: 'Đồng ý gia hạn đến 20/9',
    };
    // Only a standing committee above the unit may extend its deadline.
    expect(await rejection(handle('BG.LN.PhuongSon').executeUpdate(extendDeadlineUpdate, { args: [{ ...ext, requestId: 'ext-0', committeeCode: 'BG.YT' }] }))).toBe(
      'committeeCode: BG.YT is not a standing committee above BG.LN.PhuongSon; it may be extended by BG.LN, BG',
    );
    const extended = await handle('BG.LN.PhuongSon').executeUpdate(extendDeadlineUpdate, { args: [ext] });
    expect(extended.resolvedEscalations).toHaveLength(1);
    await at('09-10');
    await draft('BG', 'draft-province', date('09-10'));
    await at('09-15');
    expect(await study('BG.LN.PhuongSon', date('09-15'), 700)).toMatchObject({ status: 'done', lateByMs: 0 });

    // The province issues its plan by the end of Q3; that opens the districts' plan steps.
    await at('09-28');
    await issue('BG', 'issue-province', '45-KH/TU', date('09-28'));
    await at('10-10');
    await draft('BG.YT', 'draft-lower', date('10-10'));
    // A district's plan cannot predate the province's.
    expect(await rejection(issue('BG.YT', 'issue-lower', '12-KH/HU', date('09-27')))).toMatch(/^issuedOn: .* is before the parent unit's plan/);
    expect(await rejection(issue('BG.YT', 'issue-lower', '12-KH/XX', date('10-10')))).toMatch(/unknown issuer "XX"/);
    expect(await rejection(issue('BG.YT', 'issue-lower', '12-BC/HU', date('10-10')))).toBe('documentNumber: 12-BC/HU is a BC document; step "issue-lower" accepts KH, CTr, CTHĐ');
    await at('10-20');
    await issue('BG.YT', 'issue-lower', '12-KH/HU', date('10-20'));
    await at('11-01');
    await draft('BG.YT.BoHa', 'draft-lower', date('11-01'));
    await at('11-10');
    await draft('BG.YT.DongTam', 'draft-lower', date('11-10'));
    await at('11-15');
    await issue('BG.YT.BoHa', 'issue-lower', '05-KH/ĐU', date('11-15'));
    await at('11-25');
    await draft('BG.LN', 'draft-lower', date('11-25'));
    await at('12-05', '15:00');
    const lnLate = await issue('BG.LN', 'issue-lower', '31-KH/HU', date('12-05'));
    expect(Math.round(lnLate.lateByMs! / 60_000)).toBe(Math.round((local('12-05', '15:00') - local('12-01', '00:00')) / 60_000));
    await at('12-31', '12:00');

    // Reminders 14 and 3 days before the end of 31/8 (i.e. at midnight) to every unit not done by then.
    expect(
      lines('ReminderSent')
        .filter((l) => l.includes(' study'))
        .sort(byTimeThenUnit),
    ).toEqual(
      [
        `18/08/${Y} 00:00 BG.YT.BoHa study`,
        `18/08/${Y} 00:00 BG.YT.BoHa.CB02 study`,
        `18/08/${Y} 00:00 BG.LN study`,
        `18/08/${Y} 00:00 BG.LN.PhuongSon study`,
        `29/08/${Y} 00:00 BG.YT.BoHa.CB02 study`,
        `29/08/${Y} 00:00 BG.LN study`,
        `29/08/${Y} 00:00 BG.LN.PhuongSon study`,
        // After the extension to 20/9, its reminders are recomputed from the new deadline (14 days before).
        `07/09/${Y} 00:00 BG.LN.PhuongSon study`,
      ].sort(byTimeThenUnit),
    );

    const esc = lines('Escalated', (p) => ` tier ${String(p.tier)} → ${(p.recipient as { code: string }).code}`);
    expect(esc.sort(byTimeThenUnit)).toEqual(
      [
        // Study missed on 31/8: a cell goes to its commune, a district to the province, a commune to its district.
        `01/09/${Y} 00:00 BG.YT.BoHa.CB02 study tier 1 → BG.YT.BoHa`,
        `01/09/${Y} 00:00 BG.LN study tier 1 → BG`,
        `01/09/${Y} 00:00 BG.LN.PhuongSon study tier 1 → BG.LN`,
        // A week later the next committee up hears of what is still overdue. BG.LN finished on 5/9 and
        // PhuongSon was extended on 6/9, so only the cell goes further; the province has nobody above it.
        `08/09/${Y} 00:00 BG.YT.BoHa.CB02 study tier 2 → BG.YT`,
        // Plans due 30/11: DongTam drafted but never issued; PhuongSon's steps never opened because its
        // district was late (the escalation says it was waiting for the parent); BG.LN issued on 5/12.
        `01/12/${Y} 00:00 BG.YT.DongTam issue-lower tier 1 → BG.YT`,
        `01/12/${Y} 00:00 BG.LN issue-lower tier 1 → BG`,
        `01/12/${Y} 00:00 BG.LN.PhuongSon draft-lower tier 1 → BG.LN`,
        `01/12/${Y} 00:00 BG.LN.PhuongSon issue-lower tier 1 → BG.LN`,
        `08/12/${Y} 00:00 BG.YT.DongTam issue-lower tier 2 → BG`,
        `08/12/${Y} 00:00 BG.LN.PhuongSon draft-lower tier 2 → BG`,
        `08/12/${Y} 00:00 BG.LN.PhuongSon issue-lower tier 2 → BG`,
      ].sort(byTimeThenUnit),
    );
    const waiting = store.events.filter((e) => e.type === 'DeadlineMissed' && e.unitCode === 'BG.LN.PhuongSon' && (e.payload as { key: string }).key === 'issue-lower');
    expect(waiting.map((e) => (e.payload as { waitingForParent: boolean }).waitingForParent)).toEqual([true]);

    // Extension: recorded with who decided and why; it resolved the open escalation.
    const extEvent = store.events.find((e) => e.type === 'DeadlineExtended')!;
    expect(extEvent).toMatchObject({
      unitCode: 'BG.LN.PhuongSon',
      actor: 'committee:BG.LN',
      payload: { reason: 'Bão lũ, thị trấn đề nghị gia hạn', decision: 'Đồng ý gia hạn đến 20/9', resolvedEscalations: [expect.stringContaining('BG.LN.PhuongSon/study')] },
    });
    // Late completion resolves the escalation and records how late it was.
    const lnDone = store.events.find((e) => e.type === 'StepCompleted' && e.unitCode === 'BG.LN' && (e.payload as { key: string }).key === 'study')!;
    expect(lnDone.payload).toMatchObject({ lateByMs: late.lateByMs, resolvedEscalations: [expect.stringContaining('BG.LN/study')] });

    // A year of supervision: annual reports due 15/12 of Y+1.
    await at('12-01', '09:00', Y + 1);
    const bgAnnual = {
      reportId: 'bg-annual-1',
      stepId: 'annual-report',
      kind: 'periodicReport' as const,
      period: String(Y + 1),
      indicators: { goodOrBetterPct: 91.5, newMembersPct: 3.4 },
      submittedOn: date('12-01', Y + 1),
    };
    const first = await report('BG', bgAnnual);
    expect(first).toMatchObject({ stepKey: 'annual-report#1', status: 'done', duplicate: false });
    await report('BG.YT', { stepId: 'annual-report', kind: 'periodicReport', period: String(Y + 1), indicators: { goodOrBetterPct: 93 }, submittedOn: date('12-01', Y + 1) });
    await at('12-20', '09:00', Y + 1);
    const annual = lines('Escalated', (p) => ` tier ${String(p.tier)} → ${(p.recipient as { code: string }).code}`).filter((l) => l.includes('annual-report'));
    expect(annual.sort(byTimeThenUnit)).toEqual(
      [
        `16/12/${Y + 1} 00:00 BG.LN annual-report#1 tier 1 → BG`,
        `16/12/${Y + 1} 00:00 BG.LN.PhuongSon annual-report#1 tier 1 → BG.LN`,
        `16/12/${Y + 1} 00:00 BG.YT.BoHa annual-report#1 tier 1 → BG.YT`,
        // DongTam never issued its plan, so its annual report never opened; it is still overdue.
        `16/12/${Y + 1} 00:00 BG.YT.DongTam annual-report#1 tier 1 → BG.YT`,
      ].sort(byTimeThenUnit),
    );
    // Supervision continues-as-new after each reporting period; the state, and report deduplication, carry over.
    const status = await handle('BG').query(unitStatusQuery);
    expect(status.run.continuedAsNew).toBeGreaterThanOrEqual(1);
    expect(status.steps.find((s) => s.key === 'annual-report#1')).toMatchObject({ status: 'done' });
    const eventsBefore = store.events.length;
    expect(await report('BG', bgAnnual)).toEqual({ ...first, duplicate: true });
    expect(store.events.length).toBe(eventsBefore);
    // The next period opened when the previous deadline passed; it can be reported now.
    expect(status.steps.find((s) => s.key === 'annual-report#2')).toMatchObject({ status: 'open' });
  });
});

function byTimeThenUnit(a: string, b: string): number {
  const key = (s: string) => s.replace(/^(\d\d)\/(\d\d)\/(\d{4}) (\d\d:\d\d)/, '$3$2$1$4 ');
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}
