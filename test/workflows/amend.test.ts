/**
 * Applying an amended plan to one unit (workflows/changes/amend.ts), pure: no Temporal. Instants are
 * worked by hand (Asia/Ho_Chi_Minh is UTC+7 with no DST, so a local end of day is 16:59:59.999Z).
 */
import { DomainError } from '../../domain/errors';
import type { AncestorRef, UnitSnapshot } from '../../domain/events';
import { parsePlan, type PlanInput, type StepKind } from '../../domain/plan';
import { evaluateAmendment, type AmendmentOptions } from '../../workflows/changes/amend';
import { instancesFor, pendingTimers, resolveDueDates, type StepInstance, type UnitContext } from '../../workflows/unit-state';

const NO_HOLIDAYS: ReadonlySet<string> = new Set();
// 2022-07-01 08:00 local.
const START = Date.parse('2022-07-01T01:00:00Z');
/** The end of a local day, as an instant. */
const endOf = (ymd: string): number => Date.parse(`${ymd}T16:59:59.999Z`);
/** Local noon of a day. */
const noon = (ymd: string): number => Date.parse(`${ymd}T05:00:00Z`);
// The province issued its plan on 20 Jul 2022, 10:00 local.
const PARENT_ISSUED = Date.parse('2022-07-20T03:00:00Z');
const PARENT_DONE: Partial<Record<StepKind, number>> = { issuePlan: PARENT_ISSUED };

const BASE: PlanInput = {
  id: 'nq-01',
  title: 'Kế hoạch triển khai',
  steps: [
    { id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'P30D' }, reminders: ['P7D', 'P1D'], escalation: { tiers: 2, interval: 'P7D' } },
    { id: 'issue-province', kind: 'issuePlan', title: 'Tỉnh ban hành', levels: ['tinh'], deadline: { kind: 'afterStart', after: 'P45D' }, reminders: [] },
    { id: 'issue-district', kind: 'issuePlan', title: 'Huyện ban hành', levels: ['huyen'], deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P30D' }, reminders: [] },
    { id: 'report', kind: 'periodicReport', title: 'Báo cáo', deadline: { kind: 'absolute', at: '2022-12-31' }, schedule: { every: 'P7D', count: 3 }, reminders: [] },
  ],
};
const PLAN = parsePlan(BASE);

/** The base plan with some steps changed (by id; null removes), and steps added at the end. */
function amended(steps: Record<string, Record<string, unknown> | null>, added: PlanInput['steps'] = []) {
  const out = BASE.steps.flatMap((s) => (steps[s.id] === null ? [] : [{ ...s, ...(steps[s.id] ?? {}) }]));
  return parsePlan({ ...BASE, steps: [...out, ...added] });
}

const ref = (code: string, level: string): AncestorRef => ({ code, name: `Đơn vị ${code}`, level, standingCommittee: true });
const P = ref('P', 'tinh');
const Hd = ref('P.H', 'huyen');
const snapshot = (a: AncestorRef, parent: string | null): UnitSnapshot => ({ code: a.code, name: a.name, level: a.level, parent, members: 10, standingCommittee: true });
const province = (): UnitContext => ({ rolloutId: 'r1', unit: snapshot(P, null), ancestors: [], plan: PLAN, rolloutStartedAt: START, childCount: 1 });
const district = (): UnitContext => ({ rolloutId: 'r1', unit: snapshot(Hd, P.code), ancestors: [P], plan: PLAN, rolloutStartedAt: START, childCount: 0 });

/** A unit's instances as enrolled, with the deadlines known once the province has issued its plan. */
function enrolled(ctx: UnitContext, parentCompleted = PARENT_DONE): StepInstance[] {
  const steps = instancesFor(ctx.plan, ctx.unit.level);
  resolveDueDates(ctx, steps, parentCompleted, NO_HOLIDAYS);
  return steps;
}
const byKey = (steps: StepInstance[], key: string): StepInstance => steps.find((s) => s.key === key)!;
const opts = (now: number, more: Partial<AmendmentOptions> = {}): AmendmentOptions => ({ keepExtensions: true, now, parentCompleted: PARENT_DONE, holidays: NO_HOLIDAYS, ...more });
const DISTRICT_45 = { 'issue-district': { deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P45D' } } };

test('a deadline moved for one level only: the district moves, the province has nothing to do', () => {
  const to = amended(DISTRICT_45);
  const ctx = district();
  const steps = enrolled(ctx);
  expect(byKey(steps, 'issue-district').dueAt).toBe(endOf('2022-08-19'));
  const before = JSON.stringify(steps);
  const d = evaluateAmendment(ctx, steps, to, opts(noon('2022-07-25')));
  expect(d.changed).toBe(true);
  expect(d.moved).toEqual([{ key: 'issue-district', previousDueAt: endOf('2022-08-19'), newDueAt: endOf('2022-09-03') }]);
  expect(byKey(d.steps, 'issue-district').dueAt).toBe(endOf('2022-09-03'));
  expect(d.added).toEqual([]);
  expect(d.removed).toEqual([]);
  expect(d.ctx.plan).toBe(to);
  // Nothing passed in changed.
  expect(JSON.stringify(steps)).toBe(before);
  expect(ctx.plan).toBe(PLAN);

  const p = evaluateAmendment(province(), enrolled(province()), to, opts(noon('2022-07-25')));
  expect(p).toMatchObject({ changed: false, moved: [], added: [], removed: [], retimed: [], keptExtensions: [] });
  expect(p.ctx.plan).toBe(to);
});

test('a step added at a level: waiting, its deadline resolved (a cascade one once the parent has completed)', () => {
  const to = amended({}, [
    { id: 'inspect', kind: 'supervise', title: 'Kiểm tra', levels: ['huyen'], deadline: { kind: 'afterStart', after: 'P60D' }, reminders: [] },
    { id: 'draft-district', kind: 'draftPlan', title: 'Dự thảo', levels: ['huyen'], deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P10D' }, reminders: [] },
  ]);
  const d = evaluateAmendment(district(), enrolled(district()), to, opts(noon('2022-07-25')));
  expect(d.added).toEqual([
    { key: 'inspect', stepId: 'inspect', kind: 'supervise', occurrence: 0, status: 'waiting', dueAt: endOf('2022-08-30') },
    { key: 'draft-district', stepId: 'draft-district', kind: 'draftPlan', occurrence: 0, status: 'waiting', dueAt: endOf('2022-07-30') },
  ]);
  expect(d.steps.map((s) => s.key)).toEqual(['study', 'issue-district', 'report#1', 'report#2', 'report#3', 'inspect', 'draft-district']);
  expect(byKey(d.steps, 'inspect')).toMatchObject({ status: 'waiting', timersDone: 0, attended: 0, completedAt: null });

  // Before the province has issued its plan the cascade deadline is not known yet.
  const early = evaluateAmendment(district(), enrolled(district(), {}), to, opts(noon('2022-07-10'), { parentCompleted: {} }));
  expect(early.added.map((a) => [a.key, a.dueAt])).toEqual([
    ['inspect', endOf('2022-08-30')],
    ['draft-district', null],
  ]);
  // The province is not at that level.
  expect(evaluateAmendment(province(), enrolled(province()), to, opts(noon('2022-07-25'))).added).toEqual([]);
});

test('removing a step the unit has started is refused, naming the step and the unit; one not started is removed', () => {
  const to = amended({ study: null });
  const started = enrolled(district());
  Object.assign(byKey(started, 'study'), { status: 'open', attended: 3 });
  let err: unknown;
  try {
    evaluateAmendment(district(), started, to, opts(noon('2022-07-25')));
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).kind).toBe('conflict');
  expect((err as DomainError).issues).toEqual([{ path: 'plan.steps', message: 'step study has been started by unit P.H (Đơn vị P.H): 3 members have attended; it cannot be removed' }]);

  // A level dropped from a step the unit has completed: refused too, pointing at the levels.
  const done = enrolled(district());
  Object.assign(byKey(done, 'issue-district'), { status: 'done', completedAt: noon('2022-08-01'), documentDate: '2022-08-01' });
  expect(() => evaluateAmendment(district(), done, amended({ 'issue-district': { levels: ['xa'] } }), opts(noon('2022-08-02')))).toThrow(
    'plan.steps[2].levels: step issue-district has been started by unit P.H (Đơn vị P.H): it is completed; it cannot be removed',
  );

  // Open with nobody attended yet (its deadline missed, escalated): removed, its escalation resolved.
  const open = enrolled(district());
  Object.assign(byKey(open, 'study'), { status: 'open', missed: true, timersDone: 4, openEscalations: ['r1/P.H/study/x/t1'] });
  const d = evaluateAmendment(district(), open, to, opts(noon('2022-08-02')));
  expect(d.removed).toEqual(['study']);
  expect(d.resolvedEscalations).toEqual(['r1/P.H/study/x/t1']);
  expect(d.steps.map((s) => s.key)).toEqual(['issue-district', 'report#1', 'report#2', 'report#3']);
  expect(d.changed).toBe(true);
});

test("a unit's extension is kept over a moved deadline, unless overridden or the new rule gives more time", () => {
  const steps = enrolled(district());
  Object.assign(byKey(steps, 'issue-district'), { status: 'open', dueAt: endOf('2022-09-30'), extended: true });
  const now = noon('2022-08-10');

  const kept = evaluateAmendment(district(), steps, amended(DISTRICT_45), opts(now));
  expect(kept.keptExtensions).toEqual(['issue-district']);
  expect(kept.moved).toEqual([]);
  expect(byKey(kept.steps, 'issue-district')).toMatchObject({ dueAt: endOf('2022-09-30'), extended: true });
  expect(kept.changed).toBe(true);

  const overridden = evaluateAmendment(district(), steps, amended(DISTRICT_45), opts(now, { keepExtensions: false }));
  expect(overridden.keptExtensions).toEqual([]);
  expect(overridden.moved).toEqual([{ key: 'issue-district', previousDueAt: endOf('2022-09-30'), newDueAt: endOf('2022-09-03') }]);
  expect(byKey(overridden.steps, 'issue-district').extended).toBeUndefined();

  // 90 days after the province's plan is 18 Oct, later than the extension: the rule wins.
  const later = evaluateAmendment(district(), steps, amended({ 'issue-district': { deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P90D' } } }), opts(now));
  expect(later.keptExtensions).toEqual([]);
  expect(later.moved).toEqual([{ key: 'issue-district', previousDueAt: endOf('2022-09-30'), newDueAt: endOf('2022-10-18') }]);
});

test('reminders changed: reminders already sent or already past are not sent again; the new future one is pending', () => {
  // Study is due at the end of 31 Jul; its 7-day reminder (end of 24 Jul) has been sent.
  const steps = enrolled(district());
  Object.assign(byKey(steps, 'study'), { status: 'open', timersDone: 1 });
  expect(byKey(steps, 'study').dueAt).toBe(endOf('2022-07-31'));
  const d = evaluateAmendment(district(), steps, amended({ study: { reminders: ['P10D', 'P7D', 'P3D'] } }), opts(noon('2022-07-26')));
  expect(d.retimed).toEqual(['study']);
  expect(d.moved).toEqual([]);
  const study = byKey(d.steps, 'study');
  // P10D (end of 21 Jul) is past and P7D was sent: both handled; P3D (end of 28 Jul) comes next.
  expect(study.timersDone).toBe(2);
  expect(pendingTimers(d.ctx, study)[0]).toEqual({ at: endOf('2022-07-28'), action: 'remind', index: 2, offset: 'P3D' });
});

test('escalation changed after the deadline: tiers already sent stay sent, a tier now due goes out', () => {
  // Overdue since 1 Aug 00:00 local; tiers 1 (1 Aug) and 2 (8 Aug) sent; now 10 Aug.
  const steps = enrolled(district());
  Object.assign(byKey(steps, 'study'), { status: 'open', missed: true, timersDone: 5, openEscalations: ['e1', 'e2'] });
  const ctx = district();
  expect(pendingTimers(ctx, byKey(steps, 'study'))).toEqual([]);
  const d = evaluateAmendment(ctx, steps, amended({ study: { escalation: { tiers: 3, interval: 'P3D' } } }), opts(noon('2022-08-10')));
  const study = byKey(d.steps, 'study');
  expect(d.retimed).toEqual(['study']);
  expect(study).toMatchObject({ timersDone: 5, missed: true, openEscalations: ['e1', 'e2'] });
  // Tier 3 is now due 7 Aug 00:00 local, already past: it fires at the next wake.
  expect(pendingTimers(d.ctx, study)).toEqual([{ at: endOf('2022-08-06') + 1, action: 'escalate', tier: 3 }]);
});

test('a deadline moved to the future is like an extension; one moved into the past makes the step overdue', () => {
  const steps = enrolled(district());
  Object.assign(byKey(steps, 'study'), { status: 'open', missed: true, timersDone: 4, openEscalations: ['e1'] });
  const later = evaluateAmendment(district(), steps, amended({ study: { deadline: { kind: 'afterStart', after: 'P60D' } } }), opts(noon('2022-08-05')));
  expect(later.moved).toEqual([{ key: 'study', previousDueAt: endOf('2022-07-31'), newDueAt: endOf('2022-08-30') }]);
  expect(later.resolvedEscalations).toEqual(['e1']);
  expect(byKey(later.steps, 'study')).toMatchObject({ missed: false, openEscalations: [], timersDone: 0 });
  expect(pendingTimers(later.ctx, byKey(later.steps, 'study'))[0]).toMatchObject({ action: 'remind', offset: 'P7D', at: endOf('2022-08-23') });

  const fresh = enrolled(district());
  Object.assign(byKey(fresh, 'study'), { status: 'open' });
  const earlier = evaluateAmendment(district(), fresh, amended({ study: { deadline: { kind: 'afterStart', after: 'P10D' } } }), opts(noon('2022-07-20')));
  const study = byKey(earlier.steps, 'study');
  expect(study.dueAt).toBe(endOf('2022-07-11'));
  // Both reminders are past (skipped); the deadline has not fired: it is next, at once.
  expect(study.timersDone).toBe(2);
  expect(pendingTimers(earlier.ctx, study)[0]).toEqual({ at: endOf('2022-07-11') + 1, action: 'deadline' });
});

test('done steps never change', () => {
  const steps = enrolled(district());
  Object.assign(byKey(steps, 'study'), { status: 'done', attended: 10, completedAt: noon('2022-07-28'), timersDone: 2 });
  const before = { ...byKey(steps, 'study') };
  const d = evaluateAmendment(
    district(),
    steps,
    amended({ study: { deadline: { kind: 'afterStart', after: 'P10D' }, reminders: ['P3D'], escalation: { tiers: 1, interval: 'P1D' } } }),
    opts(noon('2022-08-01')),
  );
  expect(byKey(d.steps, 'study')).toEqual(before);
  expect(byKey(d.steps, 'study')).not.toBe(byKey(steps, 'study'));
  expect(d).toMatchObject({ moved: [], retimed: [], keptExtensions: [] });
  // The unit's step changed in the plan, so the unit records that it follows the new version.
  expect(d.changed).toBe(true);
});

test("a recurring step's occurrences move together; one already done stays", () => {
  const steps = enrolled(district());
  expect(['report#1', 'report#2', 'report#3'].map((k) => byKey(steps, k).dueAt)).toEqual([endOf('2022-12-31'), endOf('2023-01-07'), endOf('2023-01-14')]);
  Object.assign(byKey(steps, 'report#1'), { status: 'done', completedAt: noon('2022-11-30') });
  const d = evaluateAmendment(district(), steps, amended({ report: { deadline: { kind: 'absolute', at: '2022-12-15' } } }), opts(noon('2022-12-01')));
  expect(d.moved).toEqual([
    { key: 'report#2', previousDueAt: endOf('2023-01-07'), newDueAt: endOf('2022-12-22') },
    { key: 'report#3', previousDueAt: endOf('2023-01-14'), newDueAt: endOf('2022-12-29') },
  ]);
  expect(byKey(d.steps, 'report#1').dueAt).toBe(endOf('2022-12-31'));
});

test("a change of a step's kind is refused before anything is computed", () => {
  expect(() => evaluateAmendment(district(), enrolled(district()), amended({ study: { kind: 'review', target: undefined } }), opts(noon('2022-07-25')))).toThrow(
    /plan\.steps\[0\]\.kind: .*remove the step and add a new one/,
  );
});

test("the plan's own holidays changed: working-day deadlines are counted again, others stay", () => {
  const withWorkingDays: PlanInput = { ...BASE, steps: [...BASE.steps, { id: 'wd', kind: 'supervise', title: 'Kiểm tra', deadline: { kind: 'afterStart', workingDays: 5 }, reminders: [] }] };
  const from = parsePlan(withWorkingDays);
  const to = parsePlan({ ...withWorkingDays, holidays: ['2022-07-05'] });
  const ctx: UnitContext = { ...district(), plan: from };
  const steps = enrolled(ctx);
  // Friday 1 Jul + 5 working days = Friday 8 Jul; with Tuesday 5 Jul off, Monday 11 Jul.
  expect(byKey(steps, 'wd').dueAt).toBe(endOf('2022-07-08'));
  const d = evaluateAmendment(ctx, steps, to, opts(noon('2022-07-02'), { holidays: new Set(['2022-07-05']) }));
  expect(d.moved).toEqual([{ key: 'wd', previousDueAt: endOf('2022-07-08'), newDueAt: endOf('2022-07-11') }]);
  expect(d.changed).toBe(true);
});
