/**
 * The diff between two versions of a plan (domain/plan-diff.ts): what it finds, what it refuses,
 * how it reads, and the canonical JSON callers hash.
 */
import { DomainError } from '../../domain/errors';
import { parsePlan, type PlanInput } from '../../domain/plan';
import { canonicalPlanJson, describeDeadlineRule, describePlanDiff, diffPlans } from '../../domain/plan-diff';

const BASE: PlanInput = {
  id: 'nq-01',
  title: 'Kế hoạch triển khai',
  steps: [
    { id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: 'P30D' }, reminders: ['P7D', 'P1D'] },
    { id: 'issue-province', kind: 'issuePlan', title: 'Tỉnh ban hành', levels: ['tinh'], deadline: { kind: 'afterStart', after: 'P45D' } },
    { id: 'issue-district', kind: 'issuePlan', title: 'Huyện ban hành', levels: ['huyen', 'xa'], deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P30D' } },
    { id: 'report', kind: 'periodicReport', title: 'Báo cáo', deadline: { kind: 'absolute', at: '2022-12-31' }, schedule: { every: 'P7D', count: 3 } },
  ],
};

/** The base plan with some steps changed (by id), and optionally other plan fields. */
function variant(steps: Record<string, Record<string, unknown> | null>, extra: Partial<PlanInput> = {}, added: PlanInput['steps'] = []) {
  const out = BASE.steps.flatMap((s) => (steps[s.id] === null ? [] : [{ ...s, ...(steps[s.id] ?? {}) }]));
  return parsePlan({ ...BASE, ...extra, steps: [...out, ...added] });
}

const base = parsePlan(BASE);

test('the same plan, steps and levels reordered, is no change', () => {
  const same = parsePlan({ ...BASE, steps: [...BASE.steps].reverse().map((s) => (s.id === 'issue-district' ? { ...s, levels: ['xa', 'huyen'] } : s)) });
  const diff = diffPlans(base, same);
  expect(diff).toEqual({ planId: 'nq-01', added: [], removed: [], changed: [], empty: true });
  expect(describePlanDiff(diff)).toEqual([]);
});

test('a deadline moved for some levels: one field change, read in both languages', () => {
  const diff = diffPlans(base, variant({ 'issue-district': { deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'P45D' } } }));
  expect(diff.empty).toBe(false);
  expect(diff.changed).toHaveLength(1);
  expect(diff.changed[0]).toMatchObject({ stepId: 'issue-district', index: 2, changes: [{ field: 'deadline', from: { after: 'P30D' }, to: { after: 'P45D' } }] });
  expect(describePlanDiff(diff)).toEqual([
    {
      vi: 'Bước issue-district: hạn đổi từ «30 ngày sau khi cấp trên hoàn thành bước “Thông qua, ban hành kế hoạch”» thành «45 ngày sau khi cấp trên hoàn thành bước “Thông qua, ban hành kế hoạch”»',
      en: 'Step issue-district: deadline changed from «30 days after the parent unit completes its “Approve and issue plan” step» to «45 days after the parent unit completes its “Approve and issue plan” step»',
    },
  ]);
});

test('steps added and removed, and every other field of a kept step', () => {
  const to = variant(
    {
      study: { title: 'Học tập, quán triệt', reminders: ['P3D'], escalation: { tiers: 3, interval: 'P5D' }, target: 0.9, levels: ['tinh', 'huyen'] },
      'issue-province': null,
      'issue-district': { requires: ['study'], opensAfterParent: 'studyConference', documentTypes: ['KH'] },
    },
    { title: 'Kế hoạch (sửa đổi)', holidays: ['2022-09-05'] },
    [{ id: 'inspect', kind: 'supervise', title: 'Kiểm tra', levels: ['huyen'], deadline: { kind: 'afterStart', workingDays: 20 } }],
  );
  const diff = diffPlans(base, to);
  expect(diff.added.map((a) => [a.step.id, a.index])).toEqual([['inspect', 3]]);
  expect(diff.removed.map((r) => [r.step.id, r.index])).toEqual([['issue-province', 1]]);
  expect(diff.changed.map((c) => [c.stepId, c.changes.map((f) => f.field)])).toEqual([
    ['study', ['title', 'levels', 'reminders', 'escalation', 'target']],
    ['issue-district', ['requires', 'opensAfterParent', 'documentTypes']],
  ]);
  expect(diff.title).toEqual({ from: 'Kế hoạch triển khai', to: 'Kế hoạch (sửa đổi)' });
  expect(diff.holidays).toEqual({ added: ['2022-09-05'], removed: [] });
  const vi = describePlanDiff(diff).map((l) => l.vi);
  expect(vi).toEqual([
    'Tên kế hoạch đổi từ «Kế hoạch triển khai» thành «Kế hoạch (sửa đổi)»',
    'Thêm ngày nghỉ: 2022-09-05',
    'Bỏ bước issue-province («Tỉnh ban hành»)',
    'Thêm bước inspect («Kiểm tra», Kiểm tra, giám sát, Cấp huyện): hạn 20 ngày làm việc sau khi bắt đầu triển khai',
    'Bước study: tên đổi từ «Học tập» thành «Học tập, quán triệt»',
    'Bước study: cấp áp dụng đổi từ «mọi cấp» thành «Cấp tỉnh, Cấp huyện»',
    'Bước study: nhắc hạn đổi từ «7 ngày trước hạn, 1 ngày trước hạn» thành «3 ngày trước hạn»',
    'Bước study: báo cáo vượt cấp đổi từ «2 cấp, cách nhau 7 ngày» thành «3 cấp, cách nhau 5 ngày»',
    'Bước study: tỷ lệ tham dự đổi từ «mặc định (100%)» thành «90%»',
    'Bước issue-district: bước phải xong trước đổi từ «không có» thành «study»',
    'Bước issue-district: mở khi cấp trên xong bước đổi từ «theo hạn» thành «Hội nghị nghiên cứu, học tập, quán triệt»',
    'Bước issue-district: loại văn bản đổi từ «không có» thành «KH»',
  ]);
  expect(describePlanDiff(diff)[6]!.en).toBe('Step study: reminders changed from «7 days before, 1 day before» to «3 days before»');
});

test("a step's kind or schedule cannot change: remove the step and add a new one", () => {
  const refused = (to: ReturnType<typeof parsePlan>): DomainError => {
    try {
      diffPlans(base, to);
    } catch (e) {
      if (e instanceof DomainError) return e;
      throw e;
    }
    throw new Error('not refused');
  };
  const kind = refused(variant({ study: { kind: 'review' } }));
  expect(kind.issues).toEqual([{ path: 'plan.steps[0].kind', message: expect.stringContaining('remove the step and add a new one') }]);
  expect(kind.issues[0]!.message).toContain('step "study" is a studyConference step');
  const schedule = refused(variant({ report: { schedule: { every: 'P14D', count: 3 } } }));
  expect(schedule.issues).toEqual([{ path: 'plan.steps[3].schedule', message: expect.stringContaining('(3 × P7D → 3 × P14D)') }]);
  expect(schedule.issues[0]!.message).toContain('remove the step and add a new one');
  expect(refused(variant({ report: { schedule: undefined } })).issues[0]!.path).toBe('plan.steps[3].schedule');
  expect(refused(parsePlan({ ...BASE, id: 'nq-02' })).issues[0]!.path).toBe('plan.id');
});

test('deadline rules in words', () => {
  expect(describeDeadlineRule({ kind: 'absolute', at: '2022-08' }, 'vi')).toBe('chậm nhất 2022-08');
  expect(describeDeadlineRule({ kind: 'afterStart', after: 'P1M2D' }, 'en')).toBe('1 month 2 days after the rollout starts');
  expect(describeDeadlineRule({ kind: 'afterStart', after: 'PT5M' }, 'vi')).toBe('5 phút sau khi bắt đầu triển khai');
  expect(describeDeadlineRule({ kind: 'afterStart', workingDays: 1 }, 'en')).toBe('1 working day after the rollout starts');
});

test('canonical JSON: the same plan whatever the key order, another plan another text', () => {
  const shuffled = parsePlan({
    steps: BASE.steps.map((s) => Object.fromEntries(Object.entries(s).reverse())),
    title: BASE.title,
    id: BASE.id,
  });
  expect(canonicalPlanJson(shuffled)).toBe(canonicalPlanJson(base));
  expect(canonicalPlanJson(base).startsWith('{"holidays":[],"id":"nq-01","steps":[{"deadline":{"after":"P30D","kind":"afterStart"},')).toBe(true);
  expect(canonicalPlanJson(variant({ study: { reminders: ['P7D'] } }))).not.toBe(canonicalPlanJson(base));
});
