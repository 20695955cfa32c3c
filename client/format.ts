/**
 * Terminal output: aligned tables and bilingual labels (Vietnamese first, English with --lang en).
 */
import type { Lang } from '../domain/time';

/** Visible width: NFC Vietnamese letters are one code point each; combining marks take no column. */
function width(s: string): number {
  return [...s.normalize('NFC')].filter((c) => !/\p{M}/u.test(c)).length;
}

function pad(s: string, n: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, n - width(s)));
  return right ? fill + s : s + fill;
}

/** Render rows as an aligned table; numeric-looking columns are right-aligned. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i] ?? ''))));
  const numeric = headers.map((_, i) => cells.length > 0 && cells.every((r) => /^-?[\d.,%]+$|^—$/.test(r[i] ?? '')));
  const line = (r: string[]): string =>
    r
      .map((c, i) => pad(c, widths[i]!, numeric[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...cells.map(line)].join('\n');
}

const LABELS = {
  rollout: { vi: 'Đợt triển khai', en: 'Rollout' },
  plan: { vi: 'Kế hoạch', en: 'Plan' },
  hierarchy: { vi: 'phiên bản hệ thống tổ chức', en: 'hierarchy version' },
  started: { vi: 'bắt đầu', en: 'started' },
  status: { vi: 'Trạng thái', en: 'Status' },
  name: { vi: 'Tên', en: 'Name' },
  units: { vi: 'Đơn vị', en: 'Units' },
  completed: { vi: 'hoàn thành', en: 'completed' },
  enrolled: { vi: 'đã khởi tạo', en: 'enrolled so far' },
  openEscalations: { vi: 'kiến nghị xử lý đang mở', en: 'open escalations' },
  level: { vi: 'Cấp', en: 'Level' },
  step: { vi: 'Bước', en: 'Step' },
  done: { vi: 'Xong', en: 'Done' },
  late: { vi: 'Trễ', en: 'Late' },
  open: { vi: 'Đang mở', en: 'Open' },
  waiting: { vi: 'Chờ', en: 'Waiting' },
  overdue: { vi: 'Quá hạn', en: 'Overdue' },
  coverage: { vi: 'Tỷ lệ học tập', en: 'Study coverage' },
  due: { vi: 'Hạn', en: 'Due' },
  completedAt: { vi: 'Hoàn thành lúc', en: 'Completed' },
  lateBy: { vi: 'Trễ', en: 'Late by' },
  detail: { vi: 'Chi tiết', en: 'Detail' },
  unit: { vi: 'Đơn vị', en: 'Unit' },
  tier: { vi: 'Cấp độ', en: 'Tier' },
  recipient: { vi: 'Gửi Ban Thường vụ', en: 'To standing committee' },
  opened: { vi: 'Lúc', en: 'Opened' },
  resolution: { vi: 'Kết quả', en: 'Resolution' },
  overdueUnits: { vi: 'Các bước quá hạn', en: 'Overdue steps' },
  running: { vi: 'đang triển khai', en: 'running' },
  finished: { vi: 'đã hoàn thành', en: 'completed' },
  stepOpen: { vi: 'đang mở', en: 'open' },
  stepWaiting: { vi: 'chờ', en: 'waiting' },
  stepDone: { vi: 'xong', en: 'done' },
  stepOverdue: { vi: 'QUÁ HẠN', en: 'OVERDUE' },
  resolvedCompleted: { vi: 'đã hoàn thành (muộn)', en: 'completed late' },
  resolvedExtended: { vi: 'đã gia hạn', en: 'extended' },
  resolvedCancelled: { vi: 'đã hủy đợt triển khai', en: 'rollout cancelled' },
  acknowledged: { vi: 'đã tiếp nhận', en: 'acknowledged' },
  directed: { vi: 'chỉ đạo', en: 'directed' },
  cancelled: { vi: 'đã hủy', en: 'cancelled' },
  stoppedByCancel: { vi: 'dừng do hủy', en: 'stopped by the cancellation' },
  mergedUnits: { vi: 'đã hợp nhất', en: 'merged' },
  dissolvedUnits: { vi: 'đã giải thể', en: 'dissolved' },
  suspendedUnits: { vi: 'tạm dừng tính hạn', en: 'clock suspended' },
  id: { vi: 'Mã', en: 'ID' },
  none: { vi: '(không có)', en: '(none)' },
} as const;

export type LabelKey = keyof typeof LABELS;

export function label(key: LabelKey, lang: Lang): string {
  return LABELS[key][lang];
}

export function percent(n: number, d: number): string {
  return d === 0 ? '—' : `${((100 * n) / d).toFixed(1)}%`;
}
