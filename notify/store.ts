/**
 * Reading and requeueing the outbox: what the CLI (`trienkhai notifications`) and the API
 * (`/api/v1/notifications`) show. "retrying" is a pending row that has been attempted at least once.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database';
import type { Channel } from './outbox';

export const NOTIFICATION_STATUSES = ['pending', 'retrying', 'delivered', 'failed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export interface NotificationView {
  notificationId: string;
  eventId: string;
  eventType: string;
  rolloutId: string | null;
  unitCode: string | null;
  recipientUnit: string;
  channel: Channel;
  address: string;
  idempotencyKey: string;
  status: NotificationStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

export interface NotificationFilter {
  notificationId?: string;
  rolloutId?: string;
  status?: NotificationStatus | 'all';
  recipient?: string;
  /** Only notifications whose recipient is this unit or under it (in the rollout's hierarchy). */
  within?: string;
  offset?: number;
  limit?: number;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

function filtered(db: Kysely<Database>, f: NotificationFilter) {
  let q = db.selectFrom('notification_outbox as o');
  if (f.notificationId) q = q.where('o.notification_id', '=', f.notificationId);
  if (f.rolloutId) q = q.where('o.rollout_id', '=', f.rolloutId);
  if (f.recipient) q = q.where('o.recipient_unit', '=', f.recipient);
  switch (f.status ?? 'all') {
    case 'pending':
      q = q.where('o.status', '=', 'pending').where('o.attempts', '=', 0);
      break;
    case 'retrying':
      q = q.where('o.status', '=', 'pending').where('o.attempts', '>', 0);
      break;
    case 'delivered':
    case 'failed':
      q = q.where('o.status', '=', f.status as 'delivered' | 'failed');
      break;
    case 'all':
      break;
  }
  if (f.within) {
    const u = f.within;
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('rollout_units as ru')
          .select(sql`1`.as('one'))
          .whereRef('ru.rollout_id', '=', 'o.rollout_id')
          .whereRef('ru.unit_code', '=', 'o.recipient_unit')
          .where(sql<boolean>`(ru.unit_code = ${u} or ru.ancestors @> jsonb_build_array(jsonb_build_object('code', ${u}::text)))`),
      ),
    );
  }
  return q;
}

/** Notifications, newest first. */
export async function listNotifications(db: Kysely<Database>, f: NotificationFilter = {}): Promise<{ total: number; items: NotificationView[] }> {
  const rows = await filtered(db, f)
    .selectAll('o')
    .orderBy('o.notification_id', 'desc')
    .offset(f.offset ?? 0)
    .limit(f.limit ?? 1000)
    .execute();
  const { n } = await filtered(db, f)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return {
    total: Number(n),
    items: rows.map((r) => ({
      notificationId: String(r.notification_id),
      eventId: r.event_id,
      eventType: r.event_type,
      rolloutId: r.rollout_id,
      unitCode: r.unit_code,
      recipientUnit: r.recipient_unit,
      channel: r.channel,
      address: r.address,
      idempotencyKey: r.idempotency_key,
      status: r.status === 'pending' && r.attempts > 0 ? 'retrying' : r.status,
      attempts: r.attempts,
      lastError: r.last_error,
      nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
      lastAttemptAt: iso(r.last_attempt_at),
      deliveredAt: iso(r.delivered_at),
      createdAt: iso(r.created_at)!,
    })),
  };
}

export async function getNotification(db: Kysely<Database>, id: string) {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  return db.selectFrom('notification_outbox').selectAll().where('notification_id', '=', id).executeTakeFirst();
}

/**
 * Requeue a notification now, with a fresh round of attempts (its last error is kept until the next
 * attempt). A delivered one is not sent again.
 */
export async function retryNotification(db: Kysely<Database>, id: string): Promise<'requeued' | 'delivered' | 'not_found'> {
  const row = await getNotification(db, id);
  if (!row) return 'not_found';
  const r = await db
    .updateTable('notification_outbox')
    .set({ status: 'pending', attempts: 0, next_attempt_at: sql<Date>`clock_timestamp()` })
    .where('notification_id', '=', id)
    .where('status', '<>', 'delivered')
    .executeTakeFirst();
  return r.numUpdatedRows ? 'requeued' : 'delivered';
}

/** Requeue every failed notification; returns how many. */
export async function retryFailed(db: Kysely<Database>): Promise<number> {
  const r = await db
    .updateTable('notification_outbox')
    .set({ status: 'pending', attempts: 0, next_attempt_at: sql<Date>`clock_timestamp()` })
    .where('status', '=', 'failed')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
