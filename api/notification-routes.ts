/**
 * The notification routes: the outbox (what was sent, what is failing), retries, and unit contacts.
 * Who may call what is decided in access.ts (`notification.*`, `contacts.*`).
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/database';
import { getAncestors, latestVersionOfUnit } from '../db/hierarchy';
import { importContacts, listContacts, parseContactsFile } from '../notify/contacts';
import { CHANNELS } from '../notify/outbox';
import { NOTIFICATION_STATUSES, listNotifications, retryNotification } from '../notify/store';
import { Page, PagingInput } from '../app/views';
import { HttpError, UploadedFile, route, type Route } from './http';
import type { ApiDeps } from './routes';

const Iso = z.string().describe('ISO 8601 instant');

export const Notification = z.object({
  notificationId: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  rolloutId: z.string().nullable(),
  unitCode: z.string().nullable().describe('The unit the event is about'),
  recipientUnit: z.string().describe('The unit told (through its contacts)'),
  channel: z.enum(CHANNELS as ['email', 'webhook']),
  address: z.string(),
  idempotencyKey: z.string().describe('Sent with every attempt (Idempotency-Key header; Message-ID of emails): receivers deduplicate on it'),
  status: z
    .enum(NOTIFICATION_STATUSES)
    .describe('pending: not yet attempted; retrying: attempted, failed, will be retried; delivered; failed: gave up after the maximum number of attempts (retry by hand)'),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  nextAttemptAt: Iso.nullable(),
  lastAttemptAt: Iso.nullable(),
  deliveredAt: Iso.nullable(),
  createdAt: Iso,
});

const ContactOut = z.object({ unitCode: z.string(), channel: z.enum(CHANNELS as ['email', 'webhook']), address: z.string(), name: z.string(), createdAt: Iso });

/** A unit with its ancestors' codes (in a rollout's pinned hierarchy, else the latest), for access checks. */
async function unitTarget(db: Kysely<Database>, code: string, rolloutId?: string): Promise<{ code: string; ancestors: string[]; known: boolean }> {
  if (rolloutId) {
    const ru = await db.selectFrom('rollout_units').select('ancestors').where('rollout_id', '=', rolloutId).where('unit_code', '=', code).executeTakeFirst();
    if (ru) return { code, ancestors: (ru.ancestors as Array<{ code: string }>).map((a) => a.code), known: true };
  }
  const version = await latestVersionOfUnit(db, code);
  if (version === undefined) return { code, ancestors: [], known: false };
  return { code, ancestors: (await getAncestors(db, version, code)).map((a) => a.code), known: true };
}

export function notificationRoutes(deps: ApiDeps): Route[] {
  const { db } = deps;
  return [
    route({
      method: 'GET',
      path: '/api/v1/notifications',
      tag: 'notifications',
      summary:
        "Notifications (reminders, escalations, extensions sent to units' contacts), newest first, with delivery status, attempts and the last error; a scoped token sees those addressed to its unit or below",
      query: z.strictObject({
        rolloutId: z.string().max(100).optional(),
        status: z.enum([...NOTIFICATION_STATUSES, 'all']).default('all'),
        recipient: z.string().max(64).optional(),
        ...PagingInput.shape,
      }),
      response: Page(Notification),
      handler: async ({ query, principal, require }) => {
        require('notification.read', principal.unitCode ? { unit: { code: principal.unitCode, ancestors: [] } } : {});
        if (query.recipient && principal.unitCode) require('notification.read', { unit: await unitTarget(db, query.recipient, query.rolloutId) });
        const r = await listNotifications(db, {
          ...(query.rolloutId ? { rolloutId: query.rolloutId } : {}),
          ...(query.recipient ? { recipient: query.recipient } : {}),
          ...(principal.unitCode ? { within: principal.unitCode } : {}),
          status: query.status,
          offset: (query.page - 1) * query.pageSize,
          limit: query.pageSize,
        });
        return { items: r.items, page: query.page, pageSize: query.pageSize, total: r.total };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/notifications/{notificationId}/retry',
      tag: 'notifications',
      summary: 'Requeue a notification now, with a fresh round of attempts (a failed one, or a pending one to try at once); 409 if it was already delivered',
      action: 'notification.retry',
      params: z.strictObject({ notificationId: z.string().regex(/^\d{1,18}$/, 'a notification ID is a number') }),
      response: Notification,
      handler: async ({ params }) => {
        const outcome = await retryNotification(db, params.notificationId);
        if (outcome === 'not_found') throw new HttpError(404, 'not_found', `no notification ${params.notificationId}`);
        if (outcome === 'delivered') throw new HttpError(409, 'conflict', `notification ${params.notificationId} was already delivered; it is not sent again`);
        return (await listNotifications(db, { notificationId: params.notificationId })).items[0]!;
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/contacts/import',
      tag: 'ops',
      summary: 'Import unit contacts (CSV or JSON text with columns unit, channel, address, name); replaces the contacts of the units the file lists',
      action: 'contacts.import',
      maxBodyBytes: 5_000_000,
      body: UploadedFile,
      response: z.object({ units: z.array(z.string()), contacts: z.number().int(), replaced: z.number().int(), hierarchyVersion: z.number().int() }),
      status: 201,
      handler: async ({ body }) => importContacts(db, parseContactsFile(body.fileName, body.content)),
    }),
    route({
      method: 'GET',
      path: '/api/v1/units/{unitCode}/contacts',
      tag: 'units',
      summary: "A unit's contacts (the unit must be in the latest hierarchy)",
      params: z.strictObject({ unitCode: z.string().min(1).max(64) }),
      response: z.array(ContactOut),
      handler: async ({ params, require }) => {
        const unit = await unitTarget(db, params.unitCode);
        if (!unit.known) throw new HttpError(404, 'not_found', `unit "${params.unitCode}" is not in the latest hierarchy`);
        require('contacts.read', { unit });
        return listContacts(db, params.unitCode);
      },
    }),
  ] as Route[];
}
