/**
 * Plans that ship with trienkhai, as data.
 *
 * `bac-giang-2022` encodes the four standard steps of the brief with the Bắc Giang 2022 timeline
 * (seed 000): study 100% by 31 Aug; the province issues its plans by the end of Q3 (30 Sep); every
 * level issues its own plan, built on its parent's, by 30 Nov; annual reports after that, and the
 * mid-term (2025) and final (2030) reviews of resolution 21-NQ/TW's targets. Its level codes match
 * examples/bac-giang-2022 (tinh → huyen → coso → chibo).
 *
 * `demo` is the same shape compressed into minutes, relative to the rollout's start, so reminders and
 * escalations happen while you watch (`npm start`).
 */
import type { PlanInput } from './plan';

export const BAC_GIANG_2022_PLAN: PlanInput = {
  id: 'bac-giang-2022',
  title: 'Triển khai Nghị quyết Hội nghị Trung ương 5 khóa XIII (Bắc Giang, 2022)',
  steps: [
    {
      id: 'study',
      kind: 'studyConference',
      title: 'Học tập, quán triệt nghị quyết (100% cán bộ, đảng viên)',
      deadline: { kind: 'absolute', at: '2022-08' },
      target: 1,
      reminders: ['P14D', 'P3D'],
      escalation: { tiers: 2, interval: 'P7D' },
    },
    {
      id: 'draft-province',
      kind: 'draftPlan',
      title: 'Dự thảo kế hoạch, chương trình hành động của Tỉnh ủy',
      levels: ['tinh'],
      deadline: { kind: 'absolute', at: '2022-Q3' },
      reminders: ['P14D'],
    },
    {
      id: 'issue-province',
      kind: 'issuePlan',
      title: 'Ban Thường vụ Tỉnh ủy thông qua, ban hành kế hoạch',
      levels: ['tinh'],
      requires: ['draft-province'],
      deadline: { kind: 'absolute', at: '2022-Q3' },
      reminders: ['P14D', 'P3D'],
    },
    {
      id: 'draft-lower',
      kind: 'draftPlan',
      title: 'Dự thảo kế hoạch cụ thể hóa của cấp ủy',
      levels: ['huyen', 'coso'],
      opensAfterParent: 'issuePlan',
      deadline: { kind: 'absolute', at: '2022-11-30' },
      reminders: ['P14D'],
    },
    {
      id: 'issue-lower',
      kind: 'issuePlan',
      title: 'Ban hành kế hoạch thực hiện (trên cơ sở kế hoạch của cấp trên)',
      levels: ['huyen', 'coso'],
      requires: ['draft-lower'],
      opensAfterParent: 'issuePlan',
      deadline: { kind: 'absolute', at: '2022-11-30' },
      reminders: ['P14D', 'P3D'],
    },
    {
      id: 'annual-report',
      kind: 'periodicReport',
      title: 'Báo cáo kết quả thực hiện hằng năm',
      levels: ['tinh', 'huyen', 'coso'],
      requires: ['issue-province', 'issue-lower'],
      deadline: { kind: 'absolute', at: '2023-12-15' },
      schedule: { every: 'P1Y', count: 8 },
      reminders: ['P14D'],
    },
    {
      id: 'midterm-review',
      kind: 'review',
      title: 'Sơ kết giữa nhiệm kỳ (mục tiêu năm 2025)',
      levels: ['tinh', 'huyen'],
      deadline: { kind: 'absolute', at: '2025-12' },
      reminders: ['P30D'],
    },
    {
      id: 'final-review',
      kind: 'review',
      title: 'Tổng kết thực hiện nghị quyết (mục tiêu năm 2030)',
      levels: ['tinh', 'huyen'],
      deadline: { kind: 'absolute', at: '2030-12' },
      reminders: ['P30D'],
    },
  ],
};

/** The demo plan: the same steps, minutes apart, relative to the rollout's start. */
export const DEMO_PLAN: PlanInput = {
  id: 'demo',
  title: 'Demo: triển khai trong vài phút',
  steps: [
    { id: 'study', kind: 'studyConference', title: 'Học tập, quán triệt nghị quyết', deadline: { kind: 'afterStart', after: 'PT3M' }, reminders: ['PT1M'], escalation: { tiers: 2, interval: 'PT1M' } },
    {
      id: 'draft-province',
      kind: 'draftPlan',
      title: 'Dự thảo kế hoạch của Tỉnh ủy',
      levels: ['tinh'],
      deadline: { kind: 'afterStart', after: 'PT2M' },
      reminders: ['PT1M'],
      escalation: { tiers: 1, interval: 'PT1M' },
    },
    {
      id: 'issue-province',
      kind: 'issuePlan',
      title: 'Ban hành kế hoạch của Tỉnh ủy',
      levels: ['tinh'],
      requires: ['draft-province'],
      deadline: { kind: 'afterStart', after: 'PT3M' },
      reminders: ['PT1M'],
      escalation: { tiers: 1, interval: 'PT1M' },
    },
    {
      id: 'draft-lower',
      kind: 'draftPlan',
      title: 'Dự thảo kế hoạch của cấp ủy',
      levels: ['huyen', 'coso'],
      opensAfterParent: 'issuePlan',
      deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'PT2M' },
      reminders: ['PT1M'],
      escalation: { tiers: 2, interval: 'PT1M' },
    },
    {
      id: 'issue-lower',
      kind: 'issuePlan',
      title: 'Ban hành kế hoạch của cấp ủy',
      levels: ['huyen', 'coso'],
      requires: ['draft-lower'],
      deadline: { kind: 'afterParentStep', stepKind: 'issuePlan', after: 'PT4M' },
      reminders: ['PT2M', 'PT1M'],
      escalation: { tiers: 2, interval: 'PT2M' },
    },
    {
      id: 'report',
      kind: 'periodicReport',
      title: 'Báo cáo định kỳ',
      levels: ['tinh', 'huyen'],
      deadline: { kind: 'afterStart', after: 'PT12M' },
      schedule: { every: 'PT5M', count: 2 },
      reminders: ['PT2M'],
      escalation: { tiers: 1, interval: 'PT2M' },
    },
  ],
};

export const BUILT_IN_PLANS: Record<string, PlanInput> = { 'bac-giang-2022': BAC_GIANG_2022_PLAN, demo: DEMO_PLAN };
