/**
 * Every word the product shows about its own facts, Vietnamese first, in one table: the title and the
 * sentence of each event type (typed exhaustively over EVENT_TYPES: a new event type does not compile
 * until it has its wording), the step kinds, the levels and the actors. The timeline, the CLI, email
 * subjects, webhooks and the dashboard (served as GET /api/v1/wording) all read it from here; a test
 * fails if a second copy of any of these strings appears in the tree.
 */
import type { AnyNewEvent, EventType } from './events';
import type { StepKind } from './plan';
import { formatDurationHuman, formatLocal, formatLocalDate, type Lang } from './time';

/** One text in both languages. */
export interface Sentence {
  vi: string;
  en: string;
}

/** What each event type is called (an email's subject, a webhook's title, a timeline filter). */
export const EVENT_TITLES: { readonly [T in EventType]: Sentence } = {
  HierarchyImported: { vi: 'Nhập hệ thống tổ chức', en: 'Hierarchy imported' },
  RolloutStarted: { vi: 'Đợt triển khai bắt đầu', en: 'Rollout started' },
  UnitEnrolled: { vi: 'Đơn vị tham gia đợt triển khai', en: 'Unit enrolled' },
  DeadlineScheduled: { vi: 'Xác định hạn', en: 'Deadline scheduled' },
  StepOpened: { vi: 'Mở bước', en: 'Step opened' },
  ReminderSent: { vi: 'Nhắc hạn', en: 'Reminder' },
  DeadlineMissed: { vi: 'Quá hạn', en: 'Deadline missed' },
  Escalated: { vi: 'Báo cáo quá hạn', en: 'Escalation' },
  DeadlineExtended: { vi: 'Gia hạn', en: 'Deadline extended' },
  EscalationAcknowledged: { vi: 'Tiếp nhận báo cáo quá hạn', en: 'Escalation acknowledged' },
  EscalationDirected: { vi: 'Chỉ đạo', en: 'Directive' },
  StudySessionReported: { vi: 'Báo cáo học tập, quán triệt', en: 'Study session reported' },
  PlanDrafted: { vi: 'Trình dự thảo kế hoạch', en: 'Plan drafted' },
  PlanIssued: { vi: 'Ban hành kế hoạch', en: 'Plan issued' },
  PeriodicReportSubmitted: { vi: 'Báo cáo định kỳ', en: 'Periodic report' },
  InspectionRecorded: { vi: 'Kiểm tra, giám sát', en: 'Inspection recorded' },
  ReviewSubmitted: { vi: 'Sơ kết, tổng kết', en: 'Review submitted' },
  StepCompleted: { vi: 'Hoàn thành bước', en: 'Step completed' },
  UnitCompleted: { vi: 'Đơn vị đã hoàn thành mọi bước', en: 'Unit completed' },
  RolloutCompleted: { vi: 'Đợt triển khai hoàn thành', en: 'Rollout completed' },
  UnitCancelled: { vi: 'Dừng theo dõi đơn vị', en: 'Unit stopped' },
  RolloutCancelled: { vi: 'Đợt triển khai bị hủy', en: 'Rollout cancelled' },
  ClockSuspended: { vi: 'Tạm dừng tính hạn', en: 'Clock suspended' },
  ClockResumed: { vi: 'Tiếp tục tính hạn', en: 'Clock resumed' },
  PlanAmended: { vi: 'Áp dụng kế hoạch sửa đổi', en: 'Plan amended' },
  RolloutAmended: { vi: 'Sửa đổi kế hoạch triển khai', en: 'Rollout plan amended' },
  DeadlineReprojected: { vi: 'Tính lại hạn theo lịch nghỉ mới', en: 'Deadline recomputed for a new calendar' },
  UnitReshaped: { vi: 'Thay đổi tổ chức của đơn vị', en: 'Unit changed in the hierarchy' },
  UnitMerged: { vi: 'Đơn vị được hợp nhất', en: 'Unit merged' },
  UnitDissolved: { vi: 'Đơn vị giải thể', en: 'Unit dissolved' },
  StepsInherited: { vi: 'Tiếp nhận phần việc của đơn vị hợp nhất', en: 'Steps inherited from a merged unit' },
  ChildAdopted: { vi: 'Theo dõi thêm đơn vị trực thuộc', en: 'Child unit joined' },
  ChildReleased: { vi: 'Thôi theo dõi đơn vị trực thuộc', en: 'Child unit left' },
  RolloutHierarchyChanged: { vi: 'Đợt triển khai theo hệ thống tổ chức mới', en: 'Rollout follows a new hierarchy' },
  HierarchyChanged: { vi: 'Thay đổi hệ thống tổ chức', en: 'Hierarchy changed' },
  CalendarImported: { vi: 'Cập nhật lịch nghỉ', en: 'Calendar imported' },
  BatchStarted: { vi: 'Bắt đầu thao tác hàng loạt', en: 'Batch started' },
  BatchCompleted: { vi: 'Kết thúc thao tác hàng loạt', en: 'Batch completed' },
};

/** The step kinds of a plan. */
export const STEP_KIND_WORDING: { readonly [K in StepKind]: Sentence } = {
  studyConference: { vi: 'Hội nghị nghiên cứu, học tập, quán triệt', en: 'Study conference' },
  draftPlan: { vi: 'Dự thảo kế hoạch, chương trình hành động', en: 'Draft action plan' },
  issuePlan: { vi: 'Thông qua, ban hành kế hoạch', en: 'Approve and issue plan' },
  supervise: { vi: 'Kiểm tra, giám sát', en: 'Supervision / inspection' },
  periodicReport: { vi: 'Báo cáo định kỳ', en: 'Periodic report' },
  review: { vi: 'Sơ kết, tổng kết', en: 'Mid-term / final review' },
};

/**
 * Levels are data (a hierarchy file names its own), so this names the usual ones; any other level is
 * shown by its code.
 */
export const LEVEL_WORDING: Readonly<Record<string, Sentence>> = {
  tw: { vi: 'Trung ương', en: 'Central' },
  tinh: { vi: 'Cấp tỉnh', en: 'Province' },
  huyen: { vi: 'Cấp huyện', en: 'District' },
  xa: { vi: 'Cấp xã', en: 'Commune' },
  coso: { vi: 'Cấp cơ sở', en: 'Grassroots' },
  chibo: { vi: 'Chi bộ', en: 'Party cell' },
};

export const stepKindName = (kind: string, lang: Lang): string => (STEP_KIND_WORDING as Record<string, Sentence>)[kind]?.[lang] ?? kind;
export const levelName = (level: string, lang: Lang): string => LEVEL_WORDING[level]?.[lang] ?? level;
export const eventTitle = (type: EventType, lang: Lang): string => EVENT_TITLES[type][lang];

/** The whole table, as served to the browser. */
export function wordingTable() {
  return { eventTypes: EVENT_TITLES, stepKinds: STEP_KIND_WORDING, levels: LEVEL_WORDING };
}

const when = (iso: string, lang: Lang): string => formatLocal(new Date(iso), lang);
const day = (d: string, lang: Lang): string => formatLocalDate(d, lang);

/** One event as a sentence. */
export function describeEvent(e: AnyNewEvent, lang: Lang): string {
  return sentence(e)[lang];
}

/** Both languages of one event's sentence. */
export function sentence(e: AnyNewEvent): Sentence {
  switch (e.type) {
    case 'HierarchyImported':
      return { vi: `Nhập hệ thống tổ chức phiên bản ${e.payload.version}: ${e.payload.units} đơn vị`, en: `Hierarchy version ${e.payload.version} imported: ${e.payload.units} units` };
    case 'RolloutStarted': {
      const r = e.payload;
      return {
        vi: `Bắt đầu triển khai ${r.resolution.document.text} (${day(r.resolution.document.date, 'vi')}) theo kế hoạch ${r.planId}, từ ${r.rootUnit}`,
        en: `Rollout of ${r.resolution.document.text} (${day(r.resolution.document.date, 'en')}) started with plan ${r.planId}, from ${r.rootUnit}`,
      };
    }
    case 'UnitEnrolled':
      return { vi: `${e.payload.unit.name} tham gia với ${e.payload.steps.length} bước`, en: `${e.payload.unit.name} enrolled with ${e.payload.steps.length} steps` };
    case 'DeadlineScheduled':
      return { vi: `Hạn bước ${e.payload.key}: ${when(e.payload.dueAt, 'vi')} (${e.payload.basis})`, en: `Deadline of ${e.payload.key} set to ${when(e.payload.dueAt, 'en')} (${e.payload.basis})` };
    case 'StepOpened':
      return { vi: `Bước ${e.payload.key} được mở`, en: `Step ${e.payload.key} opened` };
    case 'ReminderSent':
      return { vi: `Nhắc hạn bước ${e.payload.key} (hạn ${when(e.payload.dueAt, 'vi')})`, en: `Reminder for ${e.payload.key} (due ${when(e.payload.dueAt, 'en')})` };
    case 'DeadlineMissed':
      return {
        vi: `Quá hạn bước ${e.payload.key} (hạn ${when(e.payload.dueAt, 'vi')})${e.payload.waitingForParent ? ', khi còn chờ kế hoạch của cấp trên' : ''}`,
        en: `Missed the deadline of ${e.payload.key} (${when(e.payload.dueAt, 'en')})${e.payload.waitingForParent ? ', while still waiting for the parent unit' : ''}`,
      };
    case 'Escalated':
      return {
        vi: `Báo cáo Ban Thường vụ ${e.payload.recipient.name} (${e.payload.recipient.code}), lần ${e.payload.tier}, về việc quá hạn bước ${e.payload.key}`,
        en: `Escalated to the standing committee of ${e.payload.recipient.name} (${e.payload.recipient.code}), tier ${e.payload.tier}, for ${e.payload.key}`,
      };
    case 'DeadlineExtended':
      return {
        vi: `${e.payload.decidedBy} gia hạn bước ${e.payload.key} từ ${when(e.payload.previousDueAt, 'vi')} đến ${when(e.payload.newDueAt, 'vi')}. Lý do: ${e.payload.reason}${e.payload.decision ? `. Quyết định: ${e.payload.decision}` : ''}`,
        en: `${e.payload.decidedBy} extended ${e.payload.key} from ${when(e.payload.previousDueAt, 'en')} to ${when(e.payload.newDueAt, 'en')}. Reason: ${e.payload.reason}${e.payload.decision ? `. Decision: ${e.payload.decision}` : ''}`,
      };
    case 'EscalationAcknowledged':
      return {
        vi: `Ban Thường vụ ${e.payload.by} tiếp nhận báo cáo quá hạn bước ${e.payload.key}${e.payload.note ? `. Ghi chú: ${e.payload.note}` : ''}`,
        en: `The standing committee of ${e.payload.by} acknowledged the escalation for ${e.payload.key}${e.payload.note ? `. Note: ${e.payload.note}` : ''}`,
      };
    case 'EscalationDirected':
      return {
        vi: `Ban Thường vụ ${e.payload.by} chỉ đạo về bước ${e.payload.key}: ${e.payload.directive}${e.payload.respondBy ? ` (báo cáo trước ${day(e.payload.respondBy, 'vi')})` : ''}`,
        en: `The standing committee of ${e.payload.by} directed on ${e.payload.key}: ${e.payload.directive}${e.payload.respondBy ? ` (report back by ${day(e.payload.respondBy, 'en')})` : ''}`,
      };
    case 'StudySessionReported': {
      const p = e.payload;
      return {
        vi: `Báo cáo học tập ngày ${day(p.sessionDate, 'vi')}${p.makeup ? ' (học bù)' : ''}: ${p.attended} đảng viên dự; lũy kế ${p.totalAttended}/${p.members}`,
        en: `Study session on ${day(p.sessionDate, 'en')}${p.makeup ? ' (make-up)' : ''}: ${p.attended} members attended; ${p.totalAttended}/${p.members} so far`,
      };
    }
    case 'PlanDrafted':
      return {
        vi: `${e.payload.draftedBy} trình dự thảo «${e.payload.title}» ngày ${day(e.payload.submittedOn, 'vi')}`,
        en: `${e.payload.draftedBy} submitted the draft "${e.payload.title}" on ${day(e.payload.submittedOn, 'en')}`,
      };
    case 'PlanIssued':
      return {
        vi: `Ban hành ${e.payload.document.text} ngày ${day(e.payload.document.date, 'vi')}: «${e.payload.title}»`,
        en: `Issued ${e.payload.document.text} on ${day(e.payload.document.date, 'en')}: "${e.payload.title}"`,
      };
    case 'PeriodicReportSubmitted':
      return {
        vi: `Báo cáo định kỳ ${e.payload.period}${e.payload.document ? ` (${e.payload.document.text})` : ''}`,
        en: `Periodic report ${e.payload.period}${e.payload.document ? ` (${e.payload.document.text})` : ''}`,
      };
    case 'InspectionRecorded':
      return {
        vi: `${e.payload.inspector} kiểm tra ngày ${day(e.payload.inspectedOn, 'vi')}: ${e.payload.findings}`,
        en: `${e.payload.inspector} inspected on ${day(e.payload.inspectedOn, 'en')}: ${e.payload.findings}`,
      };
    case 'ReviewSubmitted':
      return {
        vi: `${e.payload.review === 'final' ? 'Tổng kết' : 'Sơ kết'}: ${e.payload.document.text} — ${e.payload.summary}`,
        en: `${e.payload.review === 'final' ? 'Final' : 'Mid-term'} review: ${e.payload.document.text} — ${e.payload.summary}`,
      };
    case 'StepCompleted': {
      const late = e.payload.lateByMs > 0;
      return {
        vi: `Hoàn thành bước ${e.payload.key}${late ? `, trễ ${formatDurationHuman(e.payload.lateByMs, 'vi')}` : ' đúng hạn'}${e.payload.resolvedEscalations.length ? `; khép lại ${e.payload.resolvedEscalations.length} báo cáo quá hạn` : ''}`,
        en: `Completed ${e.payload.key}${late ? `, ${formatDurationHuman(e.payload.lateByMs, 'en')} late` : ' on time'}${e.payload.resolvedEscalations.length ? `; ${e.payload.resolvedEscalations.length} escalation(s) resolved` : ''}`,
      };
    }
    case 'UnitCompleted':
      return { vi: `Đơn vị và các đơn vị trực thuộc đã hoàn thành mọi bước`, en: `The unit and its subtree completed every step` };
    case 'RolloutCompleted':
      return { vi: 'Đợt triển khai hoàn thành', en: 'The rollout completed' };
    case 'UnitCancelled':
      return {
        vi: `Dừng theo dõi do đợt triển khai bị hủy${e.payload.openSteps.length ? `; ${e.payload.openSteps.length} bước chưa hoàn thành được khép lại (${e.payload.openSteps.join(', ')})` : ''}`,
        en: `Stopped because the rollout was cancelled${e.payload.openSteps.length ? `; ${e.payload.openSteps.length} unfinished step(s) closed (${e.payload.openSteps.join(', ')})` : ''}`,
      };
    case 'RolloutCancelled':
      return { vi: `Hủy đợt triển khai. Lý do: ${e.payload.reason}`, en: `The rollout was cancelled. Reason: ${e.payload.reason}` };
    case 'ClockSuspended':
      return { vi: `Tạm dừng tính hạn (${e.payload.decidedBy}). Lý do: ${e.payload.reason}`, en: `Deadline clock suspended (${e.payload.decidedBy}). Reason: ${e.payload.reason}` };
    case 'ClockResumed':
      return {
        vi: `Tiếp tục tính hạn sau ${formatDurationHuman(e.payload.suspendedMs, 'vi')} tạm dừng; ${e.payload.moved.length} hạn được lùi tương ứng`,
        en: `Deadline clock resumed after ${formatDurationHuman(e.payload.suspendedMs, 'en')}; ${e.payload.moved.length} deadline(s) moved by as much`,
      };
    case 'PlanAmended':
      return {
        vi: `Áp dụng kế hoạch ${e.payload.planId} phiên bản ${e.payload.planVersion}: thêm ${e.payload.added.length}, bỏ ${e.payload.removed.length}, dời hạn ${e.payload.moved.length} bước. Lý do: ${e.payload.reason}`,
        en: `Plan ${e.payload.planId} version ${e.payload.planVersion} applied: ${e.payload.added.length} added, ${e.payload.removed.length} removed, ${e.payload.moved.length} moved. Reason: ${e.payload.reason}`,
      };
    case 'RolloutAmended':
      return {
        vi: `Sửa đổi kế hoạch ${e.payload.planId} từ phiên bản ${e.payload.fromVersion} lên ${e.payload.toVersion} (${e.payload.units} đơn vị). Lý do: ${e.payload.reason}`,
        en: `Plan ${e.payload.planId} amended from version ${e.payload.fromVersion} to ${e.payload.toVersion} (${e.payload.units} units). Reason: ${e.payload.reason}`,
      };
    case 'DeadlineReprojected':
      return {
        vi: `Hạn bước ${e.payload.key} tính lại theo lịch ${e.payload.calendar.id} phiên bản ${e.payload.calendar.toVersion}: từ ${when(e.payload.previousDueAt, 'vi')} thành ${when(e.payload.newDueAt, 'vi')}`,
        en: `Deadline of ${e.payload.key} recomputed for calendar ${e.payload.calendar.id} version ${e.payload.calendar.toVersion}: from ${when(e.payload.previousDueAt, 'en')} to ${when(e.payload.newDueAt, 'en')}`,
      };
    case 'UnitReshaped':
      return {
        vi: `Từ ${day(e.payload.effectiveFrom, 'vi')}, ${e.payload.unit.name} trực thuộc ${e.payload.ancestors[0]?.name ?? '(không)'}${e.payload.rerouted.length ? `; ${e.payload.rerouted.length} báo cáo quá hạn chuyển theo tổ chức mới` : ''}`,
        en: `From ${day(e.payload.effectiveFrom, 'en')}, ${e.payload.unit.name} comes under ${e.payload.ancestors[0]?.name ?? '(none)'}${e.payload.rerouted.length ? `; ${e.payload.rerouted.length} escalation(s) rerouted along the new tree` : ''}`,
      };
    case 'UnitMerged':
      return {
        vi: `Từ ${day(e.payload.effectiveFrom, 'vi')}, hợp nhất vào ${e.payload.successor}; ${e.payload.openSteps.length} bước chưa xong chuyển sang đơn vị mới`,
        en: `From ${day(e.payload.effectiveFrom, 'en')}, merged into ${e.payload.successor}; ${e.payload.openSteps.length} open step(s) passed on`,
      };
    case 'UnitDissolved':
      return {
        vi: `Từ ${day(e.payload.effectiveFrom, 'vi')}, đơn vị giải thể; ${e.payload.openSteps.length} bước chưa xong được khép lại`,
        en: `From ${day(e.payload.effectiveFrom, 'en')}, the unit was dissolved; ${e.payload.openSteps.length} open step(s) closed`,
      };
    case 'StepsInherited':
      return {
        vi: `Tiếp nhận từ ${e.payload.from} ${e.payload.steps.length} bước (kết quả học tập, báo cáo quá hạn còn mở)`,
        en: `Took over ${e.payload.steps.length} step(s) from ${e.payload.from} (attendance, open escalations)`,
      };
    case 'ChildAdopted':
      return { vi: `Theo dõi thêm đơn vị trực thuộc ${e.payload.child}`, en: `Now follows child unit ${e.payload.child}` };
    case 'ChildReleased':
      return { vi: `Thôi theo dõi đơn vị trực thuộc ${e.payload.child}`, en: `No longer follows child unit ${e.payload.child}` };
    case 'RolloutHierarchyChanged':
      return {
        vi: `Từ ${day(e.payload.effectiveFrom, 'vi')}, đợt triển khai theo hệ thống tổ chức ${e.payload.organisation} phiên bản ${e.payload.toVersion} (trước là ${e.payload.fromVersion})`,
        en: `From ${day(e.payload.effectiveFrom, 'en')}, the rollout follows hierarchy ${e.payload.organisation} version ${e.payload.toVersion} (was ${e.payload.fromVersion})`,
      };
    case 'HierarchyChanged':
      return {
        vi: `Thay đổi tổ chức ${e.payload.organisation} từ ${day(e.payload.effectiveFrom, 'vi')} (${e.payload.operations.length} thao tác), phiên bản ${e.payload.version}. Lý do: ${e.payload.reason}`,
        en: `Hierarchy ${e.payload.organisation} changed from ${day(e.payload.effectiveFrom, 'en')} (${e.payload.operations.length} operation(s)), version ${e.payload.version}. Reason: ${e.payload.reason}`,
      };
    case 'CalendarImported':
      return { vi: `Lịch nghỉ ${e.payload.calendarId} phiên bản ${e.payload.version}`, en: `Calendar ${e.payload.calendarId} version ${e.payload.version}` };
    case 'BatchStarted':
      return {
        vi: `Thao tác hàng loạt ${e.payload.batchId} (${e.payload.action}) cho ${e.payload.units} đơn vị. Lý do: ${e.payload.reason}`,
        en: `Batch ${e.payload.batchId} (${e.payload.action}) on ${e.payload.units} units. Reason: ${e.payload.reason}`,
      };
    case 'BatchCompleted':
      return {
        vi: `Kết thúc thao tác hàng loạt ${e.payload.batchId}: ${e.payload.done} xong, ${e.payload.unchanged} không đổi, ${e.payload.refused} bị từ chối`,
        en: `Batch ${e.payload.batchId} finished: ${e.payload.done} done, ${e.payload.unchanged} unchanged, ${e.payload.refused} refused`,
      };
  }
}

/** Who did it, in words. */
export function describeActor(actor: string, lang: Lang): string {
  if (actor === 'system') return lang === 'vi' ? 'hệ thống (hẹn giờ)' : 'system (timer)';
  const [kind, rest] = actor.split(/:(.*)/s);
  const who = rest ?? '';
  if (kind === 'unit') return lang === 'vi' ? `đơn vị ${who}` : `unit ${who}`;
  if (kind === 'committee') return lang === 'vi' ? `Ban Thường vụ ${who}` : `committee ${who}`;
  if (kind === 'user') return lang === 'vi' ? `người dùng ${who}` : `user ${who}`;
  return actor;
}
