/**
 * The outbox: for each freshly recorded event that notifies a unit (recipients.ts), one row per
 * contact of that unit, inserted in the same transaction as the event (db/event-store.ts). So a
 * notification exists exactly when its event does; the dispatcher delivers it later, at least once.
 *
 * Never called for duplicates, a read-model rebuild or an as-of fold: those only project.
 */
import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AnyNewEvent } from '../domain/events';
import type { Database } from '../db/database';
import { renderMessage, type UnitRef } from './message';
import { recipientOf } from './recipients';
import { recipientUnitsOf } from './recipient-units';

export type Channel = 'email' | 'webhook';
export const CHANNELS: ReadonlyArray<Channel> = ['email', 'webhook'];

/**
 * The idempotency key a receiver deduplicates on: deterministic in (event, channel, address), so the
 * same notification always carries the same key, however often it is sent.
 */
export function idempotencyKey(eventId: string, channel: Channel, address: string): string {
  return `tkn_${createHash('sha256').update(`${eventId}|${channel}|${address}`).digest('hex').slice(0, 40)}`;
}

/** Write the outbox rows an event causes (none if it notifies nobody, or the unit has no contacts). */
export async function enqueueNotifications(trx: Transaction<Database>, e: AnyNewEvent): Promise<number> {
  const recipient = recipientOf(e);
  if (!recipient) return 0;
  // A unit merged away since the rollout pinned its hierarchy is told through its successors.
  const units = await recipientUnitsOf(trx, recipient);
  const contacts = await trx
    .selectFrom('unit_contacts')
    .select(['unit_code', 'channel', 'address'])
    .where('unit_code', 'in', units)
    .orderBy('unit_code')
    .orderBy('channel')
    .orderBy('address')
    .execute();
  if (contacts.length === 0) return 0;
  const name = async (code: string | null): Promise<UnitRef | null> => {
    if (!code) return null;
    const inRollout = e.rolloutId ? await trx.selectFrom('rollout_units').select('name').where('rollout_id', '=', e.rolloutId).where('unit_code', '=', code).executeTakeFirst() : undefined;
    const found = inRollout ?? (await trx.selectFrom('hierarchy_units').select('name').where('code', '=', code).orderBy('version', 'desc').limit(1).executeTakeFirst());
    return { code, name: found?.name ?? null };
  };
  const refs = new Map<string, UnitRef>();
  for (const u of units) refs.set(u, (await name(u))!);
  const unitRef = await name(e.unitCode);
  const rollout = e.rolloutId ? await trx.selectFrom('rollouts').select('resolution_title').where('rollout_id', '=', e.rolloutId).executeTakeFirst() : undefined;
  const rows = contacts.map((c) => {
    const key = idempotencyKey(e.eventId, c.channel, c.address);
    const message = renderMessage(e, { idempotencyKey: key, recipient: refs.get(c.unit_code)!, unit: unitRef, rolloutTitle: rollout?.resolution_title ?? null });
    return {
      event_id: e.eventId,
      event_type: e.type,
      rollout_id: e.rolloutId,
      unit_code: e.unitCode,
      recipient_unit: c.unit_code,
      channel: c.channel,
      address: c.address,
      idempotency_key: key,
      payload: JSON.stringify(message),
      last_error: null,
      last_attempt_at: null,
      delivered_at: null,
    };
  });
  const inserted = await trx
    .insertInto('notification_outbox')
    .values(rows)
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('notification_id')
    .execute();
  return inserted.length;
}
