// Every string of the dashboard, Vietnamese first; dates and times in Asia/Ho_Chi_Minh, dd/mm/yyyy.
// The words for the product's own facts (event types, step kinds, levels) come from the server.
import WORDING from './wording.js';

/** The grammar of unit codes and rollout IDs, as the server checks them (domain/codes.ts). */
export const CODES = WORDING.codes;

const STRINGS = {
  vi: {
    appTitle: 'Theo dõi triển khai nghị quyết',
    navRollouts: 'Đợt triển khai',
    navInbox: 'Hộp kiến nghị',
    navOverview: 'Tổng quan',
    navTree: 'Cây tổ chức',
    navTimeline: 'Diễn biến',
    login: 'Đăng nhập',
    logout: 'Đăng xuất',
    tokenLabel: 'Mã truy cập (token)',
    tokenHint: 'Mã do `trienkhai token issue` cấp, dạng tk_…',
    remember: 'Ghi nhớ trên máy này',
    loggedInAs: 'Đang dùng: {label} — {role}{unit}',
    role_ops: 'văn phòng cấp ủy (ops)',
    role_unit: 'đơn vị',
    role_committee: 'Ban Thường vụ',
    role_inspector: 'Ủy ban Kiểm tra',
    role_auditor: 'kiểm toán',
    loading: 'Đang tải…',
    error: 'Lỗi',
    forbidden: 'Không có quyền: {message}',
    notFound: 'Không tìm thấy: {message}',
    unauthorized: 'Mã truy cập không hợp lệ hoặc đã bị thu hồi.',
    needLogin: 'Hãy nhập mã truy cập để xem bảng điều khiển.',
    networkError: 'Không kết nối được máy chủ: {message}',
    rollouts: 'Các đợt triển khai',
    noRollouts: 'Chưa có đợt triển khai nào.',
    rolloutId: 'Mã đợt',
    resolution: 'Số nghị quyết',
    resolutionDate: 'Ngày ban hành',
    title: 'Trích yếu',
    plan: 'Kế hoạch',
    rootUnit: 'Đơn vị gốc',
    status: 'Trạng thái',
    startedAt: 'Bắt đầu',
    status_running: 'đang triển khai',
    status_completed: 'đã hoàn thành',
    status_cancelled: 'đã hủy',
    status_active: 'đang thực hiện',
    startRollout: 'Bắt đầu đợt triển khai',
    start: 'Bắt đầu',
    planBuiltIn: 'Kế hoạch có sẵn',
    planJson: 'hoặc dán kế hoạch (JSON)',
    planJsonInvalid: 'Kế hoạch không phải JSON hợp lệ: {message}',
    optional: 'không bắt buộc',
    started: 'Đã bắt đầu đợt {id}: {units} đơn vị.',
    alreadyStarted: 'Đợt {id} đã được bắt đầu trước đó.',
    overview: 'Tổng quan đợt triển khai',
    units: 'Đơn vị',
    completedUnits: 'Đơn vị hoàn thành',
    openEscalations: 'Kiến nghị đang mở',
    chartStudy: 'Tỷ lệ học tập, quán triệt theo cấp',
    chartPlans: 'Kế hoạch ban hành đúng hạn theo cấp',
    chartDocs: 'Văn bản đã ban hành theo cấp',
    chartEsc: 'Kiến nghị xử lý đang mở theo thời gian',
    unitsDone: '{done}/{units} đơn vị xong',
    membersStudied: '{attended}/{members} đảng viên',
    noData: 'Chưa có số liệu.',
    documents: 'văn bản',
    bucket_day: 'theo ngày',
    bucket_hour: 'theo giờ',
    bucket_minute: 'theo phút',
    bucket_second: 'theo giây',
    cancelRollout: 'Hủy đợt triển khai',
    cancelledUnits: 'Đơn vị dừng do hủy',
    stepsCount: '{n} bước',
    cancelReason: 'Lý do hủy',
    cancelConfirm: 'Hủy',
    cancelled: 'Đã hủy đợt triển khai.',
    notifications: 'Thông báo gửi không thành công',
    noFailedNotifications: 'Không có thông báo nào gửi lỗi.',
    notif_failed: 'lỗi',
    notif_retrying: 'đang thử lại',
    notif_pending: 'đang chờ',
    notif_delivered: 'đã gửi',
    attempts: 'Số lần',
    lastError: 'Lỗi gần nhất',
    nextAttempt: 'Thử lại lúc',
    channel: 'Kênh',
    recipient: 'Người nhận',
    event: 'Sự kiện',
    tree: 'Cây tổ chức',
    overdueOnly: 'Chỉ đơn vị quá hạn',
    loadMore: 'Tải thêm ({shown}/{total})',
    expand: 'Mở',
    collapse: 'Thu gọn',
    legend: 'Chú giải',
    state_onTime: 'xong đúng hạn',
    state_late: 'xong trễ hạn',
    state_open: 'đang mở',
    state_overdue: 'quá hạn',
    state_waiting: 'chờ cấp trên',
    state_cancelled: 'dừng (đã hủy)',
    noUnits: 'Không có đơn vị nào.',
    inbox: 'Hộp kiến nghị của Ban Thường vụ',
    inboxOf: 'Kiến nghị gửi Ban Thường vụ {code}',
    recipientPicker: 'Ban Thường vụ (mã đơn vị)',
    show: 'Xem',
    esc_open: 'Đang mở',
    esc_resolved: 'Đã xử lý',
    esc_all: 'Tất cả',
    unit: 'Đơn vị',
    step: 'Bước',
    tier: 'Lần',
    deadline: 'Hạn',
    overdueBy: 'Quá hạn',
    actions: 'Xử lý',
    noEscalations: 'Không có kiến nghị nào.',
    acknowledge: 'Đã nắm',
    acknowledged: 'Đã nắm lúc {at}',
    extend: 'Gia hạn',
    extendUntil: 'Gia hạn đến',
    reason: 'Lý do',
    decision: 'Ý kiến quyết định',
    direct: 'Chỉ đạo',
    directive: 'Nội dung chỉ đạo',
    respondBy: 'Báo cáo trước ngày',
    directives: '{n} chỉ đạo',
    send: 'Gửi',
    cancel: 'Thôi',
    extended: 'Đã gia hạn đến {at}.',
    acknowledgedDone: 'Đã ghi nhận.',
    directed: 'Đã gửi chỉ đạo.',
    notAvailable: 'Máy chủ này chưa hỗ trợ thao tác này.',
    resolution_extended: 'đã gia hạn',
    resolution_completed: 'đã hoàn thành (trễ)',
    resolution_cancelled: 'đợt triển khai đã hủy',
    self: '(tự báo cáo)',
    unitPage: 'Trang đơn vị',
    level: 'Cấp',
    members: 'Đảng viên',
    parent: 'Cấp trên',
    standingCommittee: 'Ban Thường vụ',
    yes: 'có',
    no: 'không',
    children: 'Đơn vị trực thuộc',
    steps: 'Các bước',
    due: 'Hạn',
    completed: 'Hoàn thành',
    lateBy: 'Trễ',
    attended: 'Đã học tập',
    reminders: 'Nhắc hạn',
    timeline: 'Diễn biến (từ sổ kiểm toán)',
    noTimeline: 'Chưa có sự kiện.',
    report: 'Báo cáo',
    reportFor: 'Báo cáo bước {step}',
    submit: 'Gửi báo cáo',
    recorded: 'Đã ghi nhận báo cáo.',
    duplicate: 'Báo cáo này đã được ghi nhận trước đó.',
    stepNowDone: 'Bước đã hoàn thành.',
    stepStillOpen: 'Bước vẫn đang mở.',
    coverage: 'tỷ lệ {p}',
    f_sessionDate: 'Ngày học tập',
    f_attended: 'Số đảng viên dự',
    f_makeup: 'Học bù',
    f_draftedBy: 'Cơ quan dự thảo',
    f_title: 'Trích yếu',
    f_submittedOn: 'Ngày trình',
    f_documentNumber: 'Số, ký hiệu văn bản',
    f_issuedOn: 'Ngày ban hành',
    f_period: 'Kỳ báo cáo',
    f_indicators: 'Chỉ tiêu (mỗi dòng: tên=giá trị)',
    f_documentDate: 'Ngày văn bản',
    f_inspectedOn: 'Ngày kiểm tra',
    f_inspector: 'Người/đoàn kiểm tra',
    f_findings: 'Kết quả kiểm tra',
    f_review: 'Loại',
    f_review_midterm: 'sơ kết',
    f_review_final: 'tổng kết',
    f_summary: 'Tóm tắt',
    f_until: 'Gia hạn đến',
    f_reason: 'Lý do',
    f_decision: 'Ý kiến quyết định',
    f_directive: 'Nội dung chỉ đạo',
    f_respondBy: 'Báo cáo trước ngày',
    v_required: 'Bắt buộc nhập.',
    v_date: 'Ngày không hợp lệ (dd/mm/yyyy).',
    v_intMin: 'Phải là số nguyên từ {min} trở lên.',
    v_maxLen: 'Tối đa {max} ký tự.',
    v_docNumber: 'Số văn bản dạng số-LOẠI/CƠ QUAN, ví dụ 45-KH/TU.',
    v_indicators: 'Mỗi dòng dạng tên=số.',
    v_json: 'Không phải JSON hợp lệ.',
    v_code: 'Mã chỉ gồm chữ, số, ".", "_" hoặc "-".',
    v_moreThanMembers: 'Nhiều hơn số đảng viên chưa học ({n}).',
    fixErrors: 'Hãy sửa các ô được đánh dấu.',
    serverRefused: 'Máy chủ từ chối: {message}',
    noReportableSteps: 'Không có bước nào bạn có thể báo cáo lúc này.',
    ms_days: '{n} ngày',
    ms_hours: '{n} giờ',
    ms_minutes: '{n} phút',
    ms_seconds: '{n} giây',
    refresh: 'Làm mới',
    asOf: 'Số liệu lúc {at}',
  },
  en: {
    appTitle: 'Resolution rollout tracker',
    navRollouts: 'Rollouts',
    navInbox: 'Escalation inbox',
    navOverview: 'Overview',
    navTree: 'Hierarchy tree',
    navTimeline: 'Timeline',
    login: 'Log in',
    logout: 'Log out',
    tokenLabel: 'Access token',
    tokenHint: 'Issued by `trienkhai token issue`, looks like tk_…',
    remember: 'Remember on this machine',
    loggedInAs: 'Signed in: {label} — {role}{unit}',
    role_ops: 'ops',
    role_unit: 'unit',
    role_committee: 'standing committee',
    role_inspector: 'inspection commission',
    role_auditor: 'auditor',
    loading: 'Loading…',
    error: 'Error',
    forbidden: 'Not allowed: {message}',
    notFound: 'Not found: {message}',
    unauthorized: 'The token is unknown or revoked.',
    needLogin: 'Enter an access token to use the dashboard.',
    networkError: 'Cannot reach the server: {message}',
    rollouts: 'Rollouts',
    noRollouts: 'No rollouts yet.',
    rolloutId: 'Rollout ID',
    resolution: 'Resolution number',
    resolutionDate: 'Issued on',
    title: 'Title',
    plan: 'Plan',
    rootUnit: 'Root unit',
    status: 'Status',
    startedAt: 'Started',
    status_running: 'running',
    status_completed: 'completed',
    status_cancelled: 'cancelled',
    status_active: 'active',
    startRollout: 'Start a rollout',
    start: 'Start',
    planBuiltIn: 'Built-in plan',
    planJson: 'or paste a plan (JSON)',
    planJsonInvalid: 'The plan is not valid JSON: {message}',
    optional: 'optional',
    started: 'Started rollout {id}: {units} units.',
    alreadyStarted: 'Rollout {id} was already started.',
    overview: 'Rollout overview',
    units: 'Units',
    completedUnits: 'Units completed',
    openEscalations: 'Open escalations',
    chartStudy: 'Study coverage by level',
    chartPlans: 'Plans issued on time by level',
    chartDocs: 'Documents issued per level',
    chartEsc: 'Open escalations over time',
    unitsDone: '{done}/{units} units done',
    membersStudied: '{attended}/{members} members',
    noData: 'No data yet.',
    documents: 'documents',
    bucket_day: 'daily',
    bucket_hour: 'hourly',
    bucket_minute: 'per minute',
    bucket_second: 'per second',
    cancelRollout: 'Cancel the rollout',
    cancelledUnits: 'Units stopped by the cancellation',
    stepsCount: '{n} steps',
    cancelReason: 'Reason for cancelling',
    cancelConfirm: 'Cancel it',
    cancelled: 'The rollout was cancelled.',
    notifications: 'Failed notification deliveries',
    noFailedNotifications: 'No failed deliveries.',
    notif_failed: 'failed',
    notif_retrying: 'retrying',
    notif_pending: 'pending',
    notif_delivered: 'delivered',
    attempts: 'Attempts',
    lastError: 'Last error',
    nextAttempt: 'Next attempt',
    channel: 'Channel',
    recipient: 'Recipient',
    event: 'Event',
    tree: 'Hierarchy tree',
    overdueOnly: 'Overdue units only',
    loadMore: 'Load more ({shown}/{total})',
    expand: 'Expand',
    collapse: 'Collapse',
    legend: 'Legend',
    state_onTime: 'done on time',
    state_late: 'done late',
    state_open: 'open',
    state_overdue: 'overdue',
    state_waiting: 'waiting for the parent',
    state_cancelled: 'stopped (cancelled)',
    noUnits: 'No units.',
    inbox: "Standing committee's escalation inbox",
    inboxOf: 'Escalations to the standing committee of {code}',
    recipientPicker: 'Standing committee (unit code)',
    show: 'Show',
    esc_open: 'Open',
    esc_resolved: 'Resolved',
    esc_all: 'All',
    unit: 'Unit',
    step: 'Step',
    tier: 'Tier',
    deadline: 'Deadline',
    overdueBy: 'Overdue by',
    actions: 'Actions',
    noEscalations: 'No escalations.',
    acknowledge: 'Acknowledge',
    acknowledged: 'Acknowledged {at}',
    extend: 'Extend',
    extendUntil: 'Extend until',
    reason: 'Reason',
    decision: 'Decision',
    direct: 'Direct',
    directive: 'Directive',
    respondBy: 'Respond by',
    directives: '{n} directive(s)',
    send: 'Send',
    cancel: 'Cancel',
    extended: 'Extended until {at}.',
    acknowledgedDone: 'Acknowledged.',
    directed: 'Directive sent.',
    notAvailable: 'This server does not offer that action yet.',
    resolution_extended: 'extended',
    resolution_completed: 'completed (late)',
    resolution_cancelled: 'rollout cancelled',
    self: '(about itself)',
    unitPage: 'Unit',
    level: 'Level',
    members: 'Members',
    parent: 'Parent',
    standingCommittee: 'Standing committee',
    yes: 'yes',
    no: 'no',
    children: 'Units under it',
    steps: 'Steps',
    due: 'Due',
    completed: 'Completed',
    lateBy: 'Late by',
    attended: 'Attended',
    reminders: 'Reminders',
    timeline: 'Timeline (from the audit record)',
    noTimeline: 'No events yet.',
    report: 'Report',
    reportFor: 'Report for step {step}',
    submit: 'Send report',
    recorded: 'Report recorded.',
    duplicate: 'This report had already been recorded.',
    stepNowDone: 'The step is done.',
    stepStillOpen: 'The step is still open.',
    coverage: 'coverage {p}',
    f_sessionDate: 'Session date',
    f_attended: 'Members who attended',
    f_makeup: 'Make-up session',
    f_draftedBy: 'Drafted by',
    f_title: 'Title',
    f_submittedOn: 'Submitted on',
    f_documentNumber: 'Document number',
    f_issuedOn: 'Issued on',
    f_period: 'Period',
    f_indicators: 'Indicators (one per line: name=value)',
    f_documentDate: 'Document date',
    f_inspectedOn: 'Inspected on',
    f_inspector: 'Inspector',
    f_findings: 'Findings',
    f_review: 'Review',
    f_review_midterm: 'mid-term',
    f_review_final: 'final',
    f_summary: 'Summary',
    f_until: 'Extend until',
    f_reason: 'Reason',
    f_decision: 'Decision',
    f_directive: 'Directive',
    f_respondBy: 'Respond by',
    v_required: 'Required.',
    v_date: 'Not a valid date.',
    v_intMin: 'Must be a whole number, at least {min}.',
    v_maxLen: 'At most {max} characters.',
    v_docNumber: 'A document number reads number-TYPE/ISSUER, e.g. 45-KH/TU.',
    v_indicators: 'One per line: name=number.',
    v_json: 'Not valid JSON.',
    v_code: 'Letters, digits, ".", "_" or "-" only.',
    v_moreThanMembers: 'More than the members who have not yet studied ({n}).',
    fixErrors: 'Please correct the marked fields.',
    serverRefused: 'The server refused: {message}',
    noReportableSteps: 'No step you may report right now.',
    ms_days: '{n} days',
    ms_hours: '{n} h',
    ms_minutes: '{n} min',
    ms_seconds: '{n} s',
    refresh: 'Refresh',
    asOf: 'As of {at}',
  },
};

const KEY = 'trienkhai.lang';
export const LANGS = ['vi', 'en'];

export function getLang() {
  const l = localStorage.getItem(KEY);
  return LANGS.includes(l) ? l : 'vi';
}

export function setLang(lang) {
  localStorage.setItem(KEY, LANGS.includes(lang) ? lang : 'vi');
  document.documentElement.lang = getLang();
}

/** A UI string with {placeholders} filled in. */
export function t(key, params = {}) {
  const s = STRINGS[getLang()][key] ?? STRINGS.vi[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (params[k] === undefined ? `{${k}}` : String(params[k])));
}

/** A step kind in the product's words (the server's wording table, domain/wording.ts). */
export function kindLabel(kind) {
  return WORDING.stepKinds[kind]?.[getLang()] ?? kind;
}

/** A level code (tinh, huyen, …) in words; a level the table does not know is shown by its code. */
export function levelLabel(level) {
  return WORDING.levels[level]?.[getLang()] ?? level;
}

/** What an event type is called. */
export function eventTypeLabel(type) {
  return WORDING.eventTypes[type]?.[getLang()] ?? type;
}

const TZ = 'Asia/Ho_Chi_Minh';
const parts = (d, withTime) =>
  Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : {}) })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );

/** dd/mm/yyyy HH:mm in Vietnam time. */
export function fmtDateTime(iso) {
  if (!iso) return '—';
  const p = parts(new Date(iso), true);
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/** dd/mm/yyyy in Vietnam time. */
export function fmtDate(iso) {
  if (!iso) return '—';
  const p = parts(new Date(iso), false);
  return `${p.day}/${p.month}/${p.year}`;
}

/** A YYYY-MM-DD local date (as the API takes them) shown as dd/mm/yyyy. */
export function fmtLocalDate(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd ?? '');
  return m ? `${m[3]}/${m[2]}/${m[1]}` : (ymd ?? '—');
}

/** Today in Vietnam as YYYY-MM-DD. */
export function todayLocal() {
  const p = parts(new Date(), false);
  return `${p.year}-${p.month}-${p.day}`;
}

/** A duration in the largest whole units: "2 ngày 3 giờ", "45 giây". */
export function fmtDuration(ms) {
  if (ms == null) return '—';
  const s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return [t('ms_days', { n: d }), h ? t('ms_hours', { n: h }) : ''].filter(Boolean).join(' ');
  if (h) return [t('ms_hours', { n: h }), m ? t('ms_minutes', { n: m }) : ''].filter(Boolean).join(' ');
  if (m) return t('ms_minutes', { n: m });
  return t('ms_seconds', { n: s });
}

export function fmtPercent(x) {
  return `${(Math.round(x * 1000) / 10).toLocaleString(getLang() === 'vi' ? 'vi-VN' : 'en-GB')}%`;
}

/** Keys missing from either language (for a console check: both lists should be empty). */
export function missingKeys() {
  const vi = Object.keys(STRINGS.vi);
  const en = Object.keys(STRINGS.en);
  return { en: vi.filter((k) => !en.includes(k)), vi: en.filter((k) => !vi.includes(k)) };
}
