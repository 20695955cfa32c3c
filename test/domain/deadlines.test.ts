import { occurrenceDeadline, resolveDeadline, stepTimeline } from '../../domain/deadlines';
import { vietnamHolidayCalendar } from '../../domain/holidays';
import { parsePlan } from '../../domain/plan';
import { toLocalIso } from '../../domain/time';

const holidays = vietnamHolidayCalendar();
const at = (iso: string) => Date.parse(iso);
const local = (ms: number | undefined) => (ms === undefined ? undefined : toLocalIso(new Date(ms)));
const anchors = { rolloutStartedAt: at('2022-07-22T09:00:00+07:00'), parentCompletedAt: { issuePlan: at('2022-09-28T16:30:00+07:00') }, holidays };

describe('deadline rules, in Asia/Ho_Chi_Minh', () => {
  test('"within August 2022" is the end of 31 August, local time', () => {
    expect(local(resolveDeadline({ kind: 'absolute', at: '2022-08' }, anchors))).toBe('2022-08-31T23:59:59.999+07:00');
    expect(local(resolveDeadline({ kind: 'absolute', at: '2022-Q3' }, anchors))).toBe('2022-09-30T23:59:59.999+07:00');
  });

  test('whole days after an anchor end at the end of that local day; time durations are exact', () => {
    expect(local(resolveDeadline({ kind: 'afterStart', after: 'P30D' }, anchors))).toBe('2022-08-21T23:59:59.999+07:00');
    expect(local(resolveDeadline({ kind: 'afterStart', after: 'PT5M' }, anchors))).toBe('2022-07-22T09:05:00.000+07:00');
  });

  test('the cascade: relative to the parent completing a step, unknown until it has', () => {
    expect(local(resolveDeadline({ kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P30D' }, anchors))).toBe('2022-10-28T23:59:59.999+07:00');
    expect(resolveDeadline({ kind: 'afterParentStep', stepKind: 'draftPlan', after: 'P30D' }, anchors)).toBeUndefined();
  });

  test('working days skip weekends and Tết', () => {
    // Tết 2023: 20–26 January were days off; 19 Jan 2023 was a Thursday.
    const tet = { ...anchors, rolloutStartedAt: at('2023-01-19T10:00:00+07:00') };
    expect(local(resolveDeadline({ kind: 'afterStart', workingDays: 2 }, tet))).toBe('2023-01-30T23:59:59.999+07:00');
  });

  test('occurrences of a recurring step fall one period apart, month ends kept', () => {
    const plan = parsePlan({ id: 'p', title: 't', steps: [{ id: 'r', kind: 'periodicReport', title: 'r', deadline: { kind: 'absolute', at: '2023-12-15' }, schedule: { every: 'P1Y', count: 3 } }] });
    const first = resolveDeadline(plan.steps[0]!.deadline, anchors)!;
    expect([0, 1, 2].map((k) => local(occurrenceDeadline(plan.steps[0]!, first, k)))).toEqual(['2023-12-15T23:59:59.999+07:00', '2024-12-15T23:59:59.999+07:00', '2025-12-15T23:59:59.999+07:00']);
  });

  test('the timeline of a step: reminders before, the deadline, then each escalation tier', () => {
    const due = at('2022-08-31T23:59:59.999+07:00');
    const t = stepTimeline({ reminders: ['P14D', 'P3D'], escalation: { tiers: 3, interval: 'P7D' } }, due);
    expect(t.map((e) => `${e.action}${'tier' in e ? e.tier : ''} ${local(e.at)}`)).toEqual([
      'remind 2022-08-17T23:59:59.999+07:00',
      'remind 2022-08-28T23:59:59.999+07:00',
      'deadline 2022-09-01T00:00:00.000+07:00',
      'escalate1 2022-09-01T00:00:00.000+07:00',
      'escalate2 2022-09-08T00:00:00.000+07:00',
      'escalate3 2022-09-15T00:00:00.000+07:00',
    ]);
  });
});
