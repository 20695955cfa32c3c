/** `trienkhai notifications [list] | retry`: the outbox of reminders, escalations and extensions. */
import { DomainError } from '../../domain/errors';
import { formatLocal } from '../../domain/time';
import { NOTIFICATION_STATUSES, listNotifications, retryFailed, retryNotification, type NotificationStatus } from '../../notify/store';
import { defineCommand, defineGroup } from '../command';
import { UsageError } from '../errors';
import { table } from '../format';
import { JSON_OPTION, int } from '../options';
import { withSession } from '../session';

const list = defineCommand({
  name: 'list',
  default: true,
  summary: 'the notifications, newest first: status, attempts, next attempt, last error',
  positionals: [],
  options: {
    status: { type: 'string', value: 'pending|retrying|failed|delivered|all', description: 'which (default: all)' },
    rollout: { type: 'string', value: 'ROLLOUT_ID', description: 'of this rollout' },
    recipient: { type: 'string', value: 'CODE', description: 'to this unit' },
    limit: { type: 'string', value: 'N', integer: true, description: 'at most this many (default: 200)' },
    ...JSON_OPTION,
  },
  examples: ['trienkhai notifications --status failed'],
  async run({ values, io }) {
    const status = values.status ?? 'all';
    if (!([...NOTIFICATION_STATUSES, 'all'] as string[]).includes(status)) throw new UsageError(`--status must be one of ${[...NOTIFICATION_STATUSES, 'all'].join(', ')}; got "${status}"`);
    return withSession(async (s) => {
      const r = await listNotifications(s.db, {
        status: status as NotificationStatus | 'all',
        ...(values.rollout ? { rolloutId: values.rollout } : {}),
        ...(values.recipient ? { recipient: values.recipient } : {}),
        limit: int(values.limit) ?? 200,
      });
      if (values.json) io.out(JSON.stringify(r.items, null, 2));
      else if (r.items.length === 0) io.out('No notifications.');
      else {
        const at = (d: string | null): string => (d ? formatLocal(new Date(d)) : '');
        io.out(
          table(
            ['id', 'event', 'unit', 'to', 'channel', 'address', 'status', 'attempts', 'next / delivered', 'last error'],
            r.items.map((n) => [
              n.notificationId,
              n.eventType,
              n.unitCode ?? '',
              n.recipientUnit,
              n.channel,
              n.address,
              n.status,
              n.attempts,
              n.status === 'delivered' ? at(n.deliveredAt) : at(n.nextAttemptAt),
              (n.lastError ?? '').slice(0, 80),
            ]),
          ),
        );
        if (r.total > r.items.length) io.out(`(${r.items.length} of ${r.total}; --limit N for more)`);
      }
      return 0;
    });
  },
});

const retry = defineCommand({
  name: 'retry',
  summary: 'attempt a notification again now, or every failed one (--failed)',
  positionals: [{ name: 'ID', description: 'the notification (see: trienkhai notifications --status failed)' }],
  arity: 'give one notification ID, or --failed',
  options: { failed: { type: 'boolean', description: 'requeue every failed notification' } },
  examples: ['trienkhai notifications retry 1', 'trienkhai notifications retry --failed'],
  async run({ values, args: [id], io, usage }) {
    if ((!id && !values.failed) || (id && values.failed)) throw new UsageError(`give one notification ID, or --failed\n\nusage: ${usage}`);
    return withSession(async (s) => {
      if (!id) {
        const n = await retryFailed(s.db);
        io.out(`Requeued ${n} failed notification(s).`);
        return 0;
      }
      if (!/^\d{1,18}$/.test(id)) throw DomainError.of('ID', `"${id}" is not a notification ID (see: trienkhai notifications --status failed)`);
      const r = await retryNotification(s.db, id);
      if (r === 'not_found') throw DomainError.of('ID', `no notification ${id}`);
      if (r === 'delivered') throw DomainError.of('ID', `notification ${id} was already delivered; it is not sent again`);
      io.out(`Notification ${id} requeued: it is attempted again now.`);
      return 0;
    });
  },
});

export const notifications = defineGroup({ name: 'notifications', section: 'notifications', summary: "thông báo / notifications to units' contacts", commands: [list, retry] });
