/**
 * The unit workflow's rules (workflows/unit-state.ts), pure: no Temporal, no database. Expected
 * instants are worked by hand from the plan below (Asia/Ho_Chi_Minh is UTC+7 with no DST, so a local
 * end of day is 16:59:59.999Z), so each assertion fails if the rule it names changes.
 */
import { DomainError } from '../../domain/errors';
import type { AncestorRef, UnitSnapshot } from '../../domain/events';
import { parsePlan, type StepKind } from '../../domain/plan';
import { reportSchemas, type StepReport } from '../../domain/reports';
import {
  blockedReason,
  escalationId,
  escalationRecipients,
  evaluateEscalationAction,
  evaluateExtension,
  evaluateReport,
  instancesFor,
  kindCompleted,
  nextTimerAt,
  openReady,
  pendingTimers,
  planStep,
  resolveDueDates,
  selectInstance,
  skipPastTimers,
  stepKey,
  type StepInstance,
  type UnitContext,
} from '../../workflows/unit-state';

const H = 3600_000;
const DAY = 24 * H;
const NO_HOLIDAYS: ReadonlySet<string> = new Set();

// 2022-07-01 08:00 local.
const START = Date.parse('2022-07-01T01:00:00Z');
/** The end of a local day, as an instant. */
const endOf = (ymd: string): number => Date.parse(`${ymd}T16:59:59.999Z`);

const PLAN = parsePlan({
  id: 'rules',
  title: 'Quy tắc',
  steps: [
    { id: 'study', kind: 'studyConference', title: 'Học tập', target: 0.75, deadline: { kind: 'afterStart', after: 'P30D' }, reminders: ['P7D', 'P1D'], escalation: { tiers: 2, interval: 'P7D' } },
    { id: 'draft', kind: 'draftPlan', title: 'Dự thảo', requires: ['study'], deadline: { kind: 'afterStart', after: 'P45D' }, reminders: [] },
    {
      id: 'issue',
      kind: 'issuePlan',
      title: 'Ban hành',
      requires: ['draft'],
      deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P30D' },
      reminders: [],
      escalation: { tiers: 3, interval: 'P7D' },
    },
    {
      id: 'report',
      kind: 'periodicReport',
      title: 'Báo cáo',
      deadline: { kind: 'absolute', at: '2022-12-31' },
      schedule: { every: 'P7D', count: 3 },
      reminders: [],
      escalation: { tiers: 1, interval: 'P7D' },
    },
    { id: 'inspect', kind: 'supervise', title: 'Kiểm tra', levels: ['huyen'], deadline: { kind: 'absolute', at: '2023-06-30' }, reminders: [] },
    { id: 'review', kind: 'review', title: 'Sơ kết', deadline: { kind: 'absolute', at: '2024-12-31' }, reminders: [] },
  ],
});

// Province P → district H → commune X → cell C (no standing committee) → group G (none either); and a sibling district H2.
const ref = (code: string, level: string, standingCommittee: boolean): AncestorRef => ({ code, name: `Đơn vị ${code}`, level, standingCommittee });
const P = ref('P', 'tinh', true);
const Hd = ref('P.H', 'huyen', true);
const X = ref('P.H.X', 'coso', true);
const C = ref('P.H.X.C', 'chibo', false);
const unit = (a: AncestorRef, parent: string | null, members: number): UnitSnapshot => ({ code: a.code, name: a.name, level: a.level, parent, members, standingCommittee: a.standingCommittee });

function ctxOf(u: UnitSnapshot, ancestors: AncestorRef[]): UnitContext {
  return { rolloutId: 'r1', unit: u, ancestors, plan: PLAN, rolloutStartedAt: START, childCount: 0 };
}
const cell = (): UnitContext => ctxOf(unit(C, X.code, 4), [X, Hd, P]);
const district = (): UnitContext => ctxOf(unit(Hd, P.code, 10), [P]);
const root = (): UnitContext => ctxOf(unit(P, null, 30), []);

/** A unit's instances at enrolment, with the deadlines computable then. */
function enrolled(ctx: UnitContext, parentCompleted: Partial<Record<StepKind, number>> = {}): StepInstance[] {
  const steps = instancesFor(ctx.plan, ctx.unit.level);
  resolveDueDates(ctx, steps, parentCompleted, NO_HOLIDAYS);
  return steps;
}
const byKey = (steps: StepInstance[], key: string): StepInstance => {
  const s = steps.find((i) => i.key === key);
  if (!s) throw new Error(`no instance ${key}`);
  return s;
};
const done = (inst: StepInstance, at = START + DAY): void => {
  inst.status = 'done';
  inst.completedAt = at;
};

/** The messages of the DomainError `fn` throws (fails if it throws nothing or something else). */
function refusal(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e.issues.map((i) => ({ path: String(i.path), message: i.message }));
    throw e;
  }
  throw new Error('expected a refusal, got none');
}

const report = (input: Record<string, unknown>): StepReport => reportSchemas().StepReport.parse({ reportId: 'r', ...input });
const NOW = START + DAY; // 2022-07-02 08:00 local

describe('instances and keys', () => {
  test('a unit gets the steps of its level, one instance per occurrence, keyed stepId#n for recurring ones', () => {
    expect(instancesFor(PLAN, 'chibo').map((i) => i.key)).toEqual(['study', 'draft', 'issue', 'report#1', 'report#2', 'report#3', 'review']);
    expect(instancesFor(PLAN, 'huyen').map((i) => i.key)).toEqual(['study', 'draft', 'issue', 'report#1', 'report#2', 'report#3', 'inspect', 'review']);
    const fresh = instancesFor(PLAN, 'chibo')[3]!;
    expect(fresh).toMatchObject({
      stepId: 'report',
      kind: 'periodicReport',
      occurrence: 0,
      status: 'waiting',
      dueAt: null,
      timersDone: 0,
      missed: false,
      openEscalations: [],
      attended: 0,
      completedAt: null,
    });
    expect(stepKey('report', 2, true)).toBe('report#3');
    expect(stepKey('study', 0, false)).toBe('study');
  });

  test('planStep finds a step by id and refuses an unknown one', () => {
    expect(planStep(PLAN, 'draft').kind).toBe('draftPlan');
    expect(() => planStep(PLAN, 'nope')).toThrow(/plan has no step nope/);
  });
});

describe('deadlines and the cascade', () => {
  test('start-relative and absolute deadlines are known at enrolment; a cascade deadline waits for the parent', () => {
    const steps = enrolled(cell());
    expect(byKey(steps, 'study').dueAt).toBe(endOf('2022-07-31')); // 30 days after 1 July, end of that local day
    expect(byKey(steps, 'draft').dueAt).toBe(endOf('2022-08-15'));
    expect(byKey(steps, 'issue').dueAt).toBeNull(); // relative to the parent's issuePlan, not done yet
    expect(byKey(steps, 'report#1').dueAt).toBe(endOf('2022-12-31'));
    expect(byKey(steps, 'report#2').dueAt).toBe(endOf('2022-12-31') + 7 * DAY); // occurrence k is k × every later
    expect(byKey(steps, 'report#3').dueAt).toBe(endOf('2022-12-31') + 14 * DAY);
  });

  test('the cascade deadline is set from the parent completing, and an already-set deadline is never recomputed', () => {
    const ctx = cell();
    const steps = enrolled(ctx);
    const parentIssued = Date.parse('2022-08-10T03:00:00Z'); // 10 Aug, 10:00 local
    const study = byKey(steps, 'study');
    study.dueAt = 42; // e.g. after an extension
    resolveDueDates(ctx, steps, { issuePlan: parentIssued }, NO_HOLIDAYS);
    expect(byKey(steps, 'issue').dueAt).toBe(endOf('2022-09-09'));
    expect(study.dueAt).toBe(42);
  });

  test('the root has no parent: its cascade deadline is anchored on the rollout start', () => {
    expect(byKey(enrolled(root()), 'issue').dueAt).toBe(endOf('2022-07-31'));
  });

  test('blockedReason: the cascade, then required steps, then the previous period', () => {
    const ctx = cell();
    const steps = enrolled(ctx);
    expect(blockedReason(ctx, steps, byKey(steps, 'study'), {}, NOW)).toBeUndefined();
    expect(blockedReason(ctx, steps, byKey(steps, 'issue'), {}, NOW)).toBe(
      'step "issue" opens when the parent unit P.H.X (Đơn vị P.H.X) has completed its issuePlan step (the cascade); it has not yet',
    );
    expect(blockedReason(ctx, steps, byKey(steps, 'issue'), { issuePlan: NOW }, NOW)).toBe('step "issue" requires step "draft" to be completed first');
    expect(blockedReason(ctx, steps, byKey(steps, 'draft'), {}, NOW)).toBe('step "draft" requires step "study" to be completed first');
    const r1 = byKey(steps, 'report#1').dueAt!;
    expect(blockedReason(ctx, steps, byKey(steps, 'report#2'), {}, r1)).toMatch(/^occurrence 2 of step "report" opens after .* \(the previous period's deadline\)$/); // not at the deadline itself
    expect(blockedReason(ctx, steps, byKey(steps, 'report#2'), {}, r1 + 1)).toBeUndefined(); // just after it
    byKey(steps, 'report#1').dueAt = null;
    expect(blockedReason(ctx, steps, byKey(steps, 'report#2'), {}, r1 + 1)).toMatch(/previous period's deadline, which is not set yet/);
  });

  test('openReady opens what is ready, with why, and cascades through requirements in one call', () => {
    const ctx = cell();
    const steps = enrolled(ctx);
    const opened = (list: ReturnType<typeof openReady>) => list.map((o) => `${o.inst.key}:${o.reason}`);
    expect(opened(openReady(ctx, steps, {}, NOW))).toEqual(['study:requirementsMet', 'report#1:requirementsMet', 'review:requirementsMet']);
    expect(byKey(steps, 'draft').status).toBe('waiting');
    expect(openReady(ctx, steps, {}, NOW)).toEqual([]); // nothing new: already open ones are not reopened
    done(byKey(steps, 'study'));
    expect(opened(openReady(ctx, steps, {}, NOW))).toEqual(['draft:requirementsMet']);
    done(byKey(steps, 'draft'));
    expect(opened(openReady(ctx, steps, {}, NOW))).toEqual([]); // issue still waits for the parent
    expect(opened(openReady(ctx, steps, { issuePlan: NOW }, NOW))).toEqual(['issue:parentCompleted']);
    expect(opened(openReady(ctx, steps, {}, byKey(steps, 'report#1').dueAt! + 1))).toEqual(['report#2:schedule']);
  });

  test('at the root, a cascade step opens on its requirements alone', () => {
    const ctx = root();
    const steps = enrolled(ctx);
    openReady(ctx, steps, {}, NOW);
    done(byKey(steps, 'study'));
    done(byKey(steps, 'draft'));
    expect(openReady(ctx, steps, {}, NOW).map((o) => `${o.inst.key}:${o.reason}`)).toEqual(['issue:requirementsMet']);
  });

  test('kindCompleted: every instance of the kind is done (what the children wait for); a kind the unit lacks is not', () => {
    const steps = enrolled(cell());
    expect(kindCompleted(steps, 'periodicReport')).toBe(false);
    done(byKey(steps, 'report#1'));
    done(byKey(steps, 'report#2'));
    expect(kindCompleted(steps, 'periodicReport')).toBe(false);
    done(byKey(steps, 'report#3'));
    expect(kindCompleted(steps, 'periodicReport')).toBe(true);
    expect(kindCompleted(steps, 'supervise')).toBe(false); // cells have no inspection step
  });
});

describe('timers', () => {
  const D = endOf('2022-07-31');

  test('pendingTimers: reminders before the deadline, the deadline 1 ms after it, tier 1 with it and each later tier an interval on', () => {
    const ctx = cell();
    const study = byKey(enrolled(ctx), 'study');
    expect(pendingTimers(ctx, study)).toEqual([
      { at: D - 7 * DAY, action: 'remind', index: 0, offset: 'P7D' },
      { at: D - DAY, action: 'remind', index: 1, offset: 'P1D' },
      { at: D + 1, action: 'deadline' },
      { at: D + 1, action: 'escalate', tier: 1 },
      { at: D + 1 + 7 * DAY, action: 'escalate', tier: 2 },
    ]);
    study.timersDone = 3;
    expect(pendingTimers(ctx, study).map((e) => e.action)).toEqual(['escalate', 'escalate']);
    expect(pendingTimers(ctx, byKey(enrolled(ctx), 'issue'))).toEqual([]); // no deadline yet
    done(study);
    expect(pendingTimers(ctx, study)).toEqual([]); // a done step has no timers
  });

  test('nextTimerAt: the earliest pending entry of any step, or the opening of the next period; undefined when nothing is left', () => {
    const ctx = cell();
    const steps = enrolled(ctx);
    expect(nextTimerAt(ctx, steps, NOW)).toBe(D - 7 * DAY); // study's first reminder
    byKey(steps, 'study').timersDone = 5;
    expect(nextTimerAt(ctx, steps, NOW)).toBe(endOf('2022-08-15') + 1); // draft's deadline (it has no reminders)
    for (const s of steps) if (s.key !== 'report#2') s.timersDone = 99;
    const r1 = byKey(steps, 'report#1').dueAt!;
    byKey(steps, 'report#2').timersDone = 99;
    // report#2 waits for report#1's deadline to pass: the workflow must wake up then to open it.
    expect(nextTimerAt(ctx, steps, NOW)).toBe(r1 + 1);
    // Once that instant is past, the next is report#3's opening (after report#2's deadline)…
    expect(nextTimerAt(ctx, steps, r1 + 1)).toBe(r1 + 7 * DAY + 1);
    // …and once that is past too, a period still waiting is blocked by something else: no wake-up for it.
    expect(nextTimerAt(ctx, steps, r1 + 7 * DAY + 1)).toBeUndefined();
  });

  test('skipPastTimers (after an extension) marks as handled exactly the entries at or before now', () => {
    const ctx = cell();
    const study = byKey(enrolled(ctx), 'study');
    skipPastTimers(ctx, study, D - DAY); // the second reminder's instant itself counts as past
    expect(study.timersDone).toBe(2);
    skipPastTimers(ctx, study, D - DAY - 1);
    expect(study.timersDone).toBe(1);
    skipPastTimers(ctx, study, D + 1);
    expect(study.timersDone).toBe(4);
  });

  test('escalationId is derived from the rollout, unit, step, deadline and tier: the same facts give the same id, a new deadline a new one', () => {
    const ctx = cell();
    const study = byKey(enrolled(ctx), 'study');
    expect(escalationId(ctx, study, 1)).toBe('r1/P.H.X.C/study/2022-07-31T16:59:59.999Z/t1');
    expect(escalationId(ctx, study, 2)).toBe('r1/P.H.X.C/study/2022-07-31T16:59:59.999Z/t2');
    study.dueAt = D + DAY;
    expect(escalationId(ctx, study, 1)).toBe('r1/P.H.X.C/study/2022-08-01T16:59:59.999Z/t1');
  });
});

describe('escalation routing', () => {
  test('tier 1 goes to the nearest ancestor with a standing committee, skipping those without; each tier one further up', () => {
    const group = unit(ref('P.H.X.C.G', 'to', false), C.code, 3);
    expect(escalationRecipients(group, [C, X, Hd, P], 2).map((r) => `${r.tier}:${r.code}:${r.self}`)).toEqual(['1:P.H.X:false', '2:P.H:false']);
    expect(escalationRecipients(unit(C, X.code, 4), [X, Hd, P], 3).map((r) => r.code)).toEqual(['P.H.X', 'P.H', 'P']);
  });

  test('no tier beyond the top committee; the root is told about itself', () => {
    expect(escalationRecipients(unit(Hd, P.code, 10), [P], 3).map((r) => r.code)).toEqual(['P']);
    expect(escalationRecipients(unit(P, null, 30), [], 2)).toEqual([{ code: 'P', name: 'Đơn vị P', level: 'tinh', standingCommittee: true, tier: 1, self: true }]);
  });
});

describe('selecting the instance a request is about', () => {
  test('the named occurrence, else the oldest not done, else the last', () => {
    const ctx = cell();
    const steps = enrolled(ctx);
    expect(selectInstance(ctx, steps, 'report', undefined).key).toBe('report#1');
    done(byKey(steps, 'report#1'));
    expect(selectInstance(ctx, steps, 'report', undefined).key).toBe('report#2');
    expect(selectInstance(ctx, steps, 'report', 2).key).toBe('report#3');
    done(byKey(steps, 'report#2'));
    done(byKey(steps, 'report#3'));
    expect(selectInstance(ctx, steps, 'report', undefined).key).toBe('report#3');
  });

  test('an unknown step, a step of another level and an occurrence out of range are refused, naming the field', () => {
    const ctx = cell();
    const steps = enrolled(ctx);
    expect(refusal(() => selectInstance(ctx, steps, 'nope', undefined))).toEqual([
      { path: 'stepId', message: 'the plan has no step "nope" (this unit\'s steps: study, draft, issue, report, review)' },
    ]);
    expect(refusal(() => selectInstance(ctx, steps, 'inspect', undefined))).toEqual([
      { path: 'stepId', message: 'step "inspect" does not apply to unit P.H.X.C at level "chibo" (its steps: study, draft, issue, report, review)' },
    ]);
    expect(refusal(() => selectInstance(ctx, steps, 'report', 3))).toEqual([{ path: 'occurrence', message: 'step "report" has occurrences 0..2, not 3' }]);
  });
});

describe('evaluateReport', () => {
  /** The cell with study open (and done where a test needs later steps). */
  function cellState() {
    const ctx = cell();
    const steps = enrolled(ctx);
    openReady(ctx, steps, {}, NOW);
    return { ctx, steps };
  }
  const study = (attended: number, extra: Record<string, unknown> = {}) => report({ unitCode: C.code, stepId: 'study', kind: 'studyConference', sessionDate: '2022-07-02', attended, ...extra });

  test('study: attendance accumulates; the step completes when the target share (75%) is reached, not before', () => {
    const { ctx, steps } = cellState();
    const first = evaluateReport(ctx, steps, {}, {}, study(2), NOW);
    expect(first).toMatchObject({
      completes: false,
      documentDate: null,
      event: { type: 'StudySessionReported', payload: { sessionDate: '2022-07-02', attended: 2, makeup: false, totalAttended: 2, members: 4 } },
    });
    expect(first.inst.key).toBe('study');
    byKey(steps, 'study').attended = 2;
    const second = evaluateReport(ctx, steps, {}, {}, study(1, { makeup: true }), NOW);
    expect(second).toMatchObject({ completes: true, event: { payload: { attended: 1, makeup: true, totalAttended: 3, members: 4 } } }); // 3 of 4 = exactly 75%
    expect(byKey(steps, 'study').attended).toBe(2); // evaluation changes nothing
  });

  test('study: more attendees than members yet to study, or a session in the future, is refused', () => {
    const { ctx, steps } = cellState();
    byKey(steps, 'study').attended = 3;
    expect(refusal(() => evaluateReport(ctx, steps, {}, {}, study(2), NOW))).toEqual([
      { path: 'attended', message: '2 attendees is more than the 1 members who have not yet studied (3 of 4 already attended)' },
    ]);
    expect(refusal(() => evaluateReport(ctx, steps, {}, {}, study(1, { sessionDate: '2022-07-03' }), NOW))).toEqual([
      { path: 'sessionDate', message: expect.stringMatching(/is in the future \(today is /) },
    ]);
  });

  test('draftPlan: recorded and done once study is; refused while study is not', () => {
    const { ctx, steps } = cellState();
    const draft = report({ unitCode: C.code, stepId: 'draft', kind: 'draftPlan', draftedBy: 'Ban Tuyên giáo', title: 'Dự thảo kế hoạch', submittedOn: '2022-07-02' });
    expect(refusal(() => evaluateReport(ctx, steps, {}, {}, draft, NOW))).toEqual([{ path: 'stepId', message: 'step "draft" requires step "study" to be completed first' }]);
    done(byKey(steps, 'study'));
    expect(evaluateReport(ctx, steps, {}, {}, draft, NOW)).toMatchObject({
      completes: true,
      documentDate: null,
      event: { type: 'PlanDrafted', payload: { draftedBy: 'Ban Tuyên giáo', title: 'Dự thảo kế hoạch', submittedOn: '2022-07-02' } },
    });
  });

  test('issuePlan: a plan document (KH) on or after the parent plan’s date completes it and keeps its date; other types, earlier dates and the cascade refuse', () => {
    const { ctx, steps } = cellState();
    done(byKey(steps, 'study'));
    done(byKey(steps, 'draft'));
    const issue = (documentNumber: string, issuedOn: string) => report({ unitCode: C.code, stepId: 'issue', kind: 'issuePlan', documentNumber, issuedOn, title: 'Kế hoạch thực hiện' });
    const now = Date.parse('2022-08-20T03:00:00Z');
    expect(refusal(() => evaluateReport(ctx, steps, {}, {}, issue('09-KH/ĐU', '2022-08-15'), now))[0]!.message).toMatch(/opens when the parent unit P\.H\.X .* has completed its issuePlan step/);
    const parentDone = { issuePlan: Date.parse('2022-08-10T03:00:00Z') };
    const parentDate = { issuePlan: '2022-08-10' };
    expect(evaluateReport(ctx, steps, parentDone, parentDate, issue('09-KH/ĐU', '2022-08-15'), now)).toMatchObject({
      completes: true,
      documentDate: '2022-08-15',
      event: { type: 'PlanIssued', payload: { document: { text: '09-KH/ĐU', issuer: 'ĐU', type: 'KH', number: 9, date: '2022-08-15' }, title: 'Kế hoạch thực hiện' } },
    });
    expect(evaluateReport(ctx, steps, parentDone, parentDate, issue('09-KH/ĐU', '2022-08-10'), now).completes).toBe(true); // the same day as the parent's is fine
    expect(refusal(() => evaluateReport(ctx, steps, parentDone, parentDate, issue('09-KH/ĐU', '2022-08-09'), now))).toEqual([
      { path: 'issuedOn', message: expect.stringMatching(/is before the parent unit's plan/) },
    ]);
    expect(refusal(() => evaluateReport(ctx, steps, parentDone, parentDate, issue('09-BC/ĐU', '2022-08-15'), now))).toEqual([
      { path: 'documentNumber', message: '09-BC/ĐU is a BC document; step "issue" accepts KH, CTr, CTHĐ' },
    ]);
  });

  test('periodicReport: each occurrence in turn, with or without a document', () => {
    const { ctx, steps } = cellState();
    const periodic = (extra: Record<string, unknown>) =>
      report({ unitCode: C.code, stepId: 'report', kind: 'periodicReport', period: '2022-H2', indicators: { units: 3 }, submittedOn: '2022-07-02', ...extra });
    expect(evaluateReport(ctx, steps, {}, {}, periodic({}), NOW)).toMatchObject({
      completes: true,
      documentDate: null,
      event: { type: 'PeriodicReportSubmitted', payload: { period: '2022-H2', indicators: { units: 3 }, submittedOn: '2022-07-02', document: null } },
    });
    const withDoc = evaluateReport(ctx, steps, {}, {}, periodic({ documentNumber: '12-BC/CB', documentDate: '2022-07-01' }), NOW);
    expect(withDoc.event.payload).toMatchObject({ document: { type: 'BC', number: 12, issuer: 'CB', date: '2022-07-01' } });
    expect(withDoc.inst.key).toBe('report#1');
    // The second period cannot be reported before the first period's deadline has passed.
    expect(refusal(() => evaluateReport(ctx, steps, {}, {}, periodic({ occurrence: 1 }), NOW))[0]!.message).toMatch(/^occurrence 2 of step "report" opens after /);
  });

  test('supervise: only for levels that have it; recorded as an inspection', () => {
    const ctx = district();
    const steps = enrolled(ctx);
    const inspect = report({ unitCode: Hd.code, stepId: 'inspect', kind: 'supervise', inspectedOn: '2022-07-02', inspector: 'UBKT', findings: 'Đạt' });
    expect(evaluateReport(ctx, steps, {}, {}, inspect, NOW)).toMatchObject({
      completes: true,
      event: { type: 'InspectionRecorded', payload: { inspectedOn: '2022-07-02', inspector: 'UBKT', findings: 'Đạt' } },
    });
    const { ctx: cctx, steps: csteps } = cellState();
    expect(refusal(() => evaluateReport(cctx, csteps, {}, {}, { ...inspect, unitCode: C.code }, NOW))[0]).toMatchObject({
      path: 'stepId',
      message: expect.stringMatching(/does not apply to unit P\.H\.X\.C at level "chibo"/),
    });
  });

  test('review: a BC document completes it with its date; a plan document does not', () => {
    const { ctx, steps } = cellState();
    const review = (documentNumber: string) => report({ unitCode: C.code, stepId: 'review', kind: 'review', review: 'midterm', documentNumber, issuedOn: '2022-07-02', summary: 'Sơ kết' });
    expect(evaluateReport(ctx, steps, {}, {}, review('30-BC/CB'), NOW)).toMatchObject({
      completes: true,
      documentDate: '2022-07-02',
      event: { type: 'ReviewSubmitted', payload: { review: 'midterm', summary: 'Sơ kết', document: { type: 'BC', number: 30 } } },
    });
    expect(refusal(() => evaluateReport(ctx, steps, {}, {}, review('30-KH/CB'), NOW))).toEqual([{ path: 'documentNumber', message: '30-KH/CB is a KH document; step "review" accepts BC' }]);
  });

  test('refused for any kind: another unit, the wrong kind for the step, a step already done (a duplicate report)', () => {
    const { ctx, steps } = cellState();
    expect(refusal(() => evaluateReport(ctx, steps, {}, {}, { ...study(1), unitCode: X.code }, NOW))).toEqual([
      { path: 'unitCode', message: 'unit P.H.X cannot report for unit P.H.X.C: a unit may report only for its own steps' },
    ]);
    const wrongKind = report({ unitCode: C.code, stepId: 'study', kind: 'draftPlan', draftedBy: 'x', title: 'x', submittedOn: '2022-07-02' });
    expect(refusal(() => evaluateReport(ctx, steps, {}, {}, wrongKind, NOW))).toEqual([{ path: 'kind', message: 'step "study" is a studyConference step; this report is a draftPlan report' }]);
    done(byKey(steps, 'study'), Date.parse('2022-07-02T01:00:00Z'));
    expect(refusal(() => evaluateReport(ctx, steps, {}, {}, study(1), NOW))).toEqual([{ path: 'stepId', message: expect.stringMatching(/^step "study" was already completed on /) }]);
  });
});

describe('evaluateExtension: only a standing committee above the unit may extend, to a later deadline still ahead', () => {
  const D = endOf('2022-07-31');
  const req = (committeeCode: string, until = '2022-08-15', stepId = 'study') => ({ requestId: 'x', stepId, committeeCode, until, reason: 'Lũ lụt' });

  test('each committee above the unit may; the new deadline is the instant `until` names', () => {
    const ctx = cell();
    const steps = enrolled(ctx);
    for (const c of ['P.H.X', 'P.H', 'P']) expect(evaluateExtension(ctx, steps, req(c), NOW)).toEqual({ inst: byKey(steps, 'study'), newDueAt: endOf('2022-08-15') });
  });

  test('the unit itself, a sibling, a unit below and a stranger may not', () => {
    const ctx = cell();
    const steps = enrolled(ctx);
    for (const c of ['P.H.X.C', 'P.H2', 'P.H.X.C.G', 'Q']) {
      expect(refusal(() => evaluateExtension(ctx, steps, req(c), NOW))).toEqual([
        { path: 'committeeCode', message: `${c} is not a standing committee above P.H.X.C; it may be extended by P.H.X, P.H, P` },
      ]);
    }
    // An ancestor without a standing committee (a cell above a group) may not either.
    const group = ctxOf(unit(ref('P.H.X.C.G', 'to', false), C.code, 3), [C, X, Hd, P]);
    expect(refusal(() => evaluateExtension(group, enrolled(group), req('P.H.X.C'), NOW))[0]!.message).toBe('P.H.X.C is not a standing committee above P.H.X.C.G; it may be extended by P.H.X, P.H, P');
  });

  test('the root, with nobody above it, is extended by its own committee', () => {
    const ctx = root();
    const steps = enrolled(ctx);
    expect(evaluateExtension(ctx, steps, req('P'), NOW).newDueAt).toBe(endOf('2022-08-15'));
  });

  test('refused: a done step, a step with no deadline yet, an unreadable date, a date not later, a date already past', () => {
    const ctx = cell();
    const steps = enrolled(ctx);
    expect(refusal(() => evaluateExtension(ctx, steps, req('P.H', '2022-08-15', 'issue'), NOW))).toEqual([
      { path: 'stepId', message: 'step "issue" has no deadline yet (it waits for the parent unit)' },
    ]);
    expect(refusal(() => evaluateExtension(ctx, steps, req('P.H', 'soon-ish'), NOW))[0]!.path).toBe('until');
    expect(refusal(() => evaluateExtension(ctx, steps, req('P.H', '2022-07-31'), NOW))).toEqual([{ path: 'until', message: expect.stringMatching(/must be later than the current one/) }]); // the same instant
    expect(evaluateExtension(ctx, steps, req('P.H', '2022-08-01T00:00+07:00'), NOW).newDueAt).toBe(D + 1); // 1 ms later is later
    expect(refusal(() => evaluateExtension(ctx, steps, req('P.H', '2022-08-15'), endOf('2022-08-15')))).toEqual([{ path: 'until', message: expect.stringMatching(/has already passed/) }]);
    done(byKey(steps, 'study'));
    expect(refusal(() => evaluateExtension(ctx, steps, req('P.H'), NOW))).toEqual([{ path: 'stepId', message: 'step "study" is already completed; there is no deadline to extend' }]);
  });
});

describe('evaluateEscalationAction: only the committee the escalation is addressed to, on an open escalation, acknowledging once', () => {
  function escalated() {
    const ctx = cell();
    const steps = enrolled(ctx);
    const study = byKey(steps, 'study');
    const t1 = escalationId(ctx, study, 1);
    const t2 = escalationId(ctx, study, 2);
    study.openEscalations = [t1, t2];
    return { ctx, steps, study, t1, t2 };
  }

  test('tier 1 is for the nearest committee (the commune), tier 2 for the next (the district); directing is for them too', () => {
    const { ctx, steps, study, t1, t2 } = escalated();
    expect(evaluateEscalationAction(ctx, steps, { escalationId: t1, committeeCode: 'P.H.X' }, 'acknowledge').inst).toBe(study);
    expect(evaluateEscalationAction(ctx, steps, { escalationId: t2, committeeCode: 'P.H' }, 'direct').inst).toBe(study);
    expect(refusal(() => evaluateEscalationAction(ctx, steps, { escalationId: t1, committeeCode: 'P.H' }, 'acknowledge'))).toEqual([
      { path: 'committeeCode', message: `escalation "${t1}" is addressed to P.H.X, not P.H` },
    ]);
    expect(refusal(() => evaluateEscalationAction(ctx, steps, { escalationId: t2, committeeCode: 'P.H.X' }, 'direct'))[0]!.message).toBe(`escalation "${t2}" is addressed to P.H, not P.H.X`);
  });

  test('an escalation not open on the unit (resolved, or unknown) is refused; so is a tier beyond the policy', () => {
    const { ctx, steps, study, t1 } = escalated();
    expect(refusal(() => evaluateEscalationAction(ctx, steps, { escalationId: 'r1/P.H.X.C/study/x/t1', committeeCode: 'P.H.X' }, 'acknowledge'))).toEqual([
      { path: 'escalationId', message: 'escalation "r1/P.H.X.C/study/x/t1" is not open on P.H.X.C (resolved already, or unknown)' },
    ]);
    const t3 = escalationId(ctx, study, 3);
    study.openEscalations.push(t3);
    expect(refusal(() => evaluateEscalationAction(ctx, steps, { escalationId: t3, committeeCode: 'P' }, 'acknowledge'))[0]!.message).toBe(`escalation "${t3}" is addressed to nobody, not P`);
    study.openEscalations = study.openEscalations.filter((e) => e !== t1);
    expect(refusal(() => evaluateEscalationAction(ctx, steps, { escalationId: t1, committeeCode: 'P.H.X' }, 'acknowledge'))[0]!.path).toBe('escalationId');
  });

  test('an acknowledgement is made once; directives may follow it', () => {
    const { ctx, steps, study, t1 } = escalated();
    study.acknowledged = [t1];
    expect(refusal(() => evaluateEscalationAction(ctx, steps, { escalationId: t1, committeeCode: 'P.H.X' }, 'acknowledge'))).toEqual([
      { path: 'escalationId', message: `escalation "${t1}" has already been acknowledged` },
    ]);
    expect(evaluateEscalationAction(ctx, steps, { escalationId: t1, committeeCode: 'P.H.X' }, 'direct').inst).toBe(study);
  });
});
