/**
 * A new holiday calendar for one unit (workflows/changes/recalendar.ts and the `recalendar` change of
 * workflows/unit-changes.ts), pure: no Temporal. Instants worked by hand (Asia/Ho_Chi_Minh is UTC+7
 * with no DST, so a local end of day is 16:59:59.999Z).
 */
import type { PinnedCalendar } from '../../domain/calendar';
import { changeSchemas } from '../../domain/changes';
import type { AncestorRef, UnitSnapshot } from '../../domain/events';
import { parsePlan, type StepKind } from '../../domain/plan';
import { evaluateRecalendar } from '../../workflows/changes/recalendar';
import { evaluateChange, type ChangeableState } from '../../workflows/unit-changes';
import { holidaysOf, instancesFor, pendingTimers, resolveDueDates, type StepInstance, type UnitContext } from '../../workflows/unit-state';

// 2030-07-01 (a Monday) 08:00 local.
const START = Date.parse('2030-07-01T01:00:00Z');
const endOf = (ymd: string): number => Date.parse(`${ymd}T16:59:59.999Z`);
const noon = (ymd: string): number => Date.parse(`${ymd}T05:00:00Z`);
// The province issued its plan on Wednesday 3 Jul 2030.
const PARENT_DONE: Partial<Record<StepKind, number>> = { issuePlan: Date.parse('2030-07-03T03:00:00Z') };

const PLAN = parsePlan({
  id: 'nq-cal',
  title: 'Kế hoạch',
  steps: [
    { id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', workingDays: 5 }, reminders: ['P1D'], escalation: { tiers: 1, interval: 'P3D' } },
    { id: 'issue', kind: 'issuePlan', title: 'Ban hành', deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', workingDays: 3 }, reminders: [] },
    { id: 'draft', kind: 'draftPlan', title: 'Dự thảo', deadline: { kind: 'afterStart', after: 'P10D' }, reminders: [] },
    { id: 'report', kind: 'periodicReport', title: 'Báo cáo', deadline: { kind: 'absolute', at: '2030-12-31' }, reminders: [] },
  ],
});

const ref = (code: string, level: string): AncestorRef => ({ code, name: `Đơn vị ${code}`, level, standingCommittee: true });
const P = ref('P', 'tinh');
const snapshot = (a: AncestorRef, parent: string | null): UnitSnapshot => ({ code: a.code, name: a.name, level: a.level, parent, members: 10, standingCommittee: true });

const cal = (version: number, daysOff: string[], more: Partial<PinnedCalendar> = {}): PinnedCalendar => ({
  id: 'vn-test',
  version,
  daysOff,
  workingDays: [],
  years: [2030, 2031],
  provisionalYears: [2031],
  ...more,
});
const V1 = cal(1, []);
const district = (calendar: PinnedCalendar | null = V1): UnitContext => ({
  rolloutId: 'r1',
  unit: snapshot(ref('P.H', 'huyen'), 'P'),
  ancestors: [P],
  plan: PLAN,
  rolloutStartedAt: START,
  childCount: 0,
  ...(calendar ? { calendar } : {}),
});
function enrolled(ctx: UnitContext): StepInstance[] {
  const steps = instancesFor(ctx.plan, ctx.unit.level);
  resolveDueDates(ctx, steps, PARENT_DONE, holidaysOf(ctx, ctx.plan));
  return steps;
}
const byKey = (steps: StepInstance[], key: string): StepInstance => steps.find((s) => s.key === key)!;
const opts = (now: number) => ({ now, parentCompleted: PARENT_DONE });

test('under the pinned calendar: 5 working days after Mon 1 Jul is Mon 8 Jul; 3 after Wed 3 Jul is Mon 8 Jul', () => {
  const steps = enrolled(district());
  expect(byKey(steps, 'study').dueAt).toBe(endOf('2030-07-08'));
  expect(byKey(steps, 'issue').dueAt).toBe(endOf('2030-07-08'));
});

test('a new day off moves every working-day deadline that crosses it, from the same anchor; calendar-day and absolute ones stay', () => {
  const ctx = district();
  const steps = enrolled(ctx);
  const before = JSON.stringify(steps);
  const v2 = cal(2, ['2030-07-05']);
  const eff = evaluateRecalendar(ctx, steps, v2, opts(noon('2030-07-02')));
  expect(eff.changed).toBe(true);
  expect(eff.moved).toEqual([
    { key: 'study', previousDueAt: endOf('2030-07-08'), newDueAt: endOf('2030-07-09') },
    { key: 'issue', previousDueAt: endOf('2030-07-08'), newDueAt: endOf('2030-07-09') },
  ]);
  expect(byKey(eff.steps, 'draft').dueAt).toBe(byKey(steps, 'draft').dueAt);
  expect(byKey(eff.steps, 'report').dueAt).toBe(byKey(steps, 'report').dueAt);
  expect(eff.ctx.calendar).toBe(v2);
  // Nothing passed in changed.
  expect(JSON.stringify(steps)).toBe(before);
  expect(ctx.calendar).toBe(V1);
});

test('a make-up Saturday shortens a working-day deadline', () => {
  const ctx = district();
  const eff = evaluateRecalendar(ctx, enrolled(ctx), cal(2, [], { workingDays: ['2030-07-06'] }), opts(noon('2030-07-02')));
  expect(eff.moved.map((m) => [m.key, m.newDueAt])).toEqual([
    ['study', endOf('2030-07-06')],
    ['issue', endOf('2030-07-06')],
  ]);
});

test('an extended deadline keeps the committee date; a done step never moves; unchanged days move nothing', () => {
  const ctx = district();
  const steps = enrolled(ctx);
  byKey(steps, 'study').extended = true;
  byKey(steps, 'study').dueAt = endOf('2030-07-20');
  Object.assign(byKey(steps, 'issue'), { status: 'done', completedAt: noon('2030-07-04') });
  const eff = evaluateRecalendar(ctx, steps, cal(2, ['2030-07-05']), opts(noon('2030-07-04')));
  expect(eff.changed).toBe(false);
  expect(eff.moved).toEqual([]);
  expect(byKey(eff.steps, 'study').dueAt).toBe(endOf('2030-07-20'));

  const same = evaluateRecalendar(ctx, enrolled(ctx), cal(2, ['2030-08-20']), opts(noon('2030-07-02')));
  expect(same).toMatchObject({ changed: false, moved: [] });
});

test('timers: a deadline that fired and moves to the future is no longer missed, its escalation resolved; nothing fires again', () => {
  const ctx = district();
  const steps = enrolled(ctx);
  const study = byKey(steps, 'study');
  // Day after the deadline: reminder, deadline and tier 1 handled; an escalation open.
  Object.assign(study, { status: 'open', timersDone: 3, missed: true, openEscalations: ['esc-1'] });
  const now = noon('2030-07-09');
  const eff = evaluateRecalendar(ctx, steps, cal(2, ['2030-07-05', '2030-07-08', '2030-07-09']), opts(now));
  const moved = byKey(eff.steps, 'study');
  expect(moved.dueAt).toBe(endOf('2030-07-11'));
  expect(moved.missed).toBe(false);
  expect(moved.openEscalations).toEqual([]);
  expect(eff.resolvedEscalations).toEqual(['esc-1']);
  // The reminder (a day before, 10 Jul) is still to come; then the deadline.
  expect(pendingTimers(eff.ctx, moved).map((t) => t.action)).toEqual(['remind', 'deadline', 'escalate']);

  // Moved but still in the past: what was handled stays handled.
  const late = evaluateRecalendar(ctx, steps, cal(2, ['2030-07-05']), opts(noon('2030-07-15')));
  expect(byKey(late.steps, 'study').dueAt).toBe(endOf('2030-07-09'));
  expect(pendingTimers(late.ctx, byKey(late.steps, 'study'))).toEqual([]);
});

test('a unit with no pinned calendar (recorded before calendars were data) moves from the legacy set: fromVersion null', () => {
  const ctx = district(null);
  const steps = enrolled(ctx);
  const state: ChangeableState = { ctx, steps };
  const req = changeSchemas().UnitChange.parse({ op: 'recalendar', requestId: 'rc-1', decidedBy: 'user:ops', reason: 'Lịch mới', calendar: cal(3, ['2030-07-05']) });
  const eff = evaluateChange(state, req, noon('2030-07-02'), { parentCompleted: PARENT_DONE, calendarFor: (p) => holidaysOf(ctx, p) });
  expect(eff.changed).toBe(true);
  expect(eff.events.map((e) => e.type)).toEqual(['DeadlineReprojected', 'DeadlineReprojected']);
  expect(eff.events[0]!.payload).toMatchObject({ key: 'study', calendar: { id: 'vn-test', fromVersion: null, toVersion: 3 }, decidedBy: 'user:ops', reason: 'Lịch mới' });
  eff.apply(state);
  expect(state.ctx.calendar?.version).toBe(3);
  expect(byKey(state.steps, 'study').dueAt).toBe(endOf('2030-07-09'));
  // The same calendar again: nothing moves, nothing recorded.
  const again = evaluateChange(state, { ...req, requestId: 'rc-2' }, noon('2030-07-02'), { parentCompleted: PARENT_DONE, calendarFor: (p) => holidaysOf(state.ctx, p) });
  expect(again).toMatchObject({ changed: false, events: [] });
});
