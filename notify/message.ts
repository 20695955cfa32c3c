/**
 * What a notification says: a subject and a plain text (Vietnamese first, then English) for email,
 * and a JSON body for webhooks. Rendered once, when the notification is written to the outbox, so
 * every retry sends exactly the same message. Times are Asia/Ho_Chi_Minh local ISO (`toLocalIso`).
 */
import type { AnyNewEvent } from '../domain/events';
import { formatLocal, toLocalIso } from '../domain/time';
import { EVENT_TITLES, sentence } from '../domain/wording';

export interface UnitRef {
  code: string;
  name: string | null;
}

export interface WebhookBody {
  /** Always `trienkhai.notification`; `version` changes only incompatibly. */
  kind: 'trienkhai.notification';
  version: 1;
  idempotencyKey: string;
  eventId: string;
  eventType: string;
  occurredAt: string;
  rolloutId: string | null;
  rolloutTitle: string | null;
  unit: UnitRef | null;
  recipient: UnitRef;
  step: string | null;
  /** The deadline concerned (for an extension: the new one), local ISO (+07:00). */
  dueAt: string | null;
  previousDueAt: string | null;
  escalation: { escalationId: string; tier: number } | null;
  text: { vi: string; en: string };
}

export interface NotificationMessage {
  subject: string;
  text: string;
  body: WebhookBody;
}

const named = (u: UnitRef): string => (u.name ? `${u.name} (${u.code})` : u.code);

export function renderMessage(e: AnyNewEvent, ctx: { idempotencyKey: string; recipient: UnitRef; unit: UnitRef | null; rolloutTitle: string | null }): NotificationMessage {
  const p = e.payload as Record<string, unknown>;
  const str = (k: string): string | null => (typeof p[k] === 'string' ? (p[k] as string) : null);
  const due = e.type === 'DeadlineExtended' ? str('newDueAt') : str('dueAt');
  const previous = e.type === 'DeadlineExtended' ? str('previousDueAt') : null;
  const escalation = e.type === 'Escalated' ? { escalationId: e.payload.escalationId, tier: e.payload.tier } : null;
  const step = str('key');
  const text = sentence(e);
  const title = EVENT_TITLES[e.type];
  const about = ctx.unit ? ctx.unit.code : ctx.recipient.code;
  const subject = `[trienkhai] ${title.vi} / ${title.en}: ${about}${step ? ` — ${step}` : ''}${due ? ` (${formatLocal(new Date(due), 'vi')})` : ''}`;
  const lines = (lang: 'vi' | 'en'): string[] => {
    const vi = lang === 'vi';
    return [
      `${vi ? 'Kính gửi' : 'To'}: ${named(ctx.recipient)}`,
      ...(e.rolloutId ? [`${vi ? 'Đợt triển khai' : 'Rollout'}: ${e.rolloutId}${ctx.rolloutTitle ? ` — ${ctx.rolloutTitle}` : ''}`] : []),
      ...(ctx.unit ? [`${vi ? 'Đơn vị' : 'Unit'}: ${named(ctx.unit)}`] : []),
      ...(step ? [`${vi ? 'Bước' : 'Step'}: ${step}`] : []),
      ...(due ? [`${vi ? 'Hạn' : 'Due'}: ${formatLocal(new Date(due), lang)} (${toLocalIso(new Date(due))})`] : []),
      '',
      text[lang],
    ];
  };
  const body: WebhookBody = {
    kind: 'trienkhai.notification',
    version: 1,
    idempotencyKey: ctx.idempotencyKey,
    eventId: e.eventId,
    eventType: e.type,
    occurredAt: toLocalIso(new Date(e.occurredAt)),
    rolloutId: e.rolloutId,
    rolloutTitle: ctx.rolloutTitle,
    unit: ctx.unit,
    recipient: ctx.recipient,
    step,
    dueAt: due ? toLocalIso(new Date(due)) : null,
    previousDueAt: previous ? toLocalIso(new Date(previous)) : null,
    escalation,
    text,
  };
  return { subject, text: [...lines('vi'), '', '— English —', '', ...lines('en'), '', `Idempotency-Key: ${ctx.idempotencyKey}`].join('\n'), body };
}
