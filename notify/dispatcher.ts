/**
 * The dispatcher: delivers the outbox (outbox.ts), at least once, with retries.
 *
 * - Claim: one statement takes up to `batchSize` due rows with `FOR UPDATE SKIP LOCKED`, counts the
 *   attempt and leases the rows (`next_attempt_at` moves `leaseMs` ahead), so several dispatchers
 *   (one per `up`/`worker` process) never send the same row at the same time, and a row whose
 *   dispatcher died mid-attempt is taken up again when its lease runs out.
 * - Deliver: webhook (webhook.ts) or email (email.ts), outside any transaction.
 * - Record: `delivered` only after the receiver accepted it (2xx / SMTP accepted). On failure the
 *   next attempt is `backoffBaseMs × 2^(attempt-1)` later (capped at `backoffMaxMs`, ± jitter); after
 *   `maxAttempts` the row is `failed` (visible; `trienkhai notifications retry` requeues it). The
 *   outcome is written only if the row is still the attempt this dispatcher claimed.
 * - A channel that is not configured (no SMTP server, no webhook secret) is not attempted; its
 *   rows stay pending and say why in `last_error`.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database';
import { createEmailSender, type EmailConfig, type EmailSender } from './email';
import type { NotificationMessage } from './message';
import type { Channel } from './outbox';
import { postWebhook, type DeliveryOutcome } from './webhook';
import { webhookAllowPrivateFromEnv, type WebhookAllowPrivate } from './webhook-address';

export interface DispatcherConfig {
  /** HMAC secret for webhooks; without it webhook rows are not attempted. */
  webhookSecret: string | null;
  /** SMTP; without it email rows are not attempted. */
  email: EmailConfig | null;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** ± this fraction of each delay, so many failed rows do not all retry at the same instant. */
  jitter: number;
  pollMs: number;
  batchSize: number;
  webhookTimeoutMs: number;
  /** How long a claimed row is kept from other dispatchers (longer than any attempt takes). */
  leaseMs: number;
  /** Private addresses webhooks may go to (webhook-address.ts); default: TRIENKHAI_WEBHOOK_ALLOW_PRIVATE, else none. */
  webhookAllowPrivate: WebhookAllowPrivate;
}

export const DEFAULT_DISPATCHER_CONFIG: DispatcherConfig = {
  webhookSecret: null,
  email: null,
  maxAttempts: 12,
  backoffBaseMs: 10_000,
  backoffMaxMs: 3_600_000,
  jitter: 0.1,
  pollMs: 1_000,
  batchSize: 20,
  webhookTimeoutMs: 10_000,
  leaseMs: 120_000,
  webhookAllowPrivate: [],
};

export const NO_SMTP = 'no SMTP server configured (TRIENKHAI_SMTP_URL); not attempted';
export const NO_WEBHOOK_SECRET = 'no webhook secret configured (TRIENKHAI_WEBHOOK_SECRET); not attempted';

/** The delay before attempt `attempt + 1`, after `attempt` failed attempts (1, 2, …). */
export function backoffMs(attempt: number, cfg: Pick<DispatcherConfig, 'backoffBaseMs' | 'backoffMaxMs' | 'jitter'>, random: () => number = Math.random): number {
  const raw = Math.min(cfg.backoffMaxMs, cfg.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(0, Math.round(raw * (1 + cfg.jitter * (2 * random() - 1))));
}

export interface DispatchResult {
  claimed: number;
  delivered: number;
  /** Failed attempts that will be retried. */
  retrying: number;
  /** Rows that reached the maximum number of attempts now. */
  failed: number;
}

type OutboxRow = { notification_id: string; channel: Channel; address: string; idempotency_key: string; event_type: string; payload: unknown; attempts: number };

export class Dispatcher {
  readonly config: DispatcherConfig;
  private readonly email: EmailSender | null;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    config: Partial<DispatcherConfig> = {},
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.config = { ...DEFAULT_DISPATCHER_CONFIG, webhookAllowPrivate: webhookAllowPrivateFromEnv(), ...config };
    this.email = this.config.email ? createEmailSender({ timeoutMs: this.config.webhookTimeoutMs, ...this.config.email }) : null;
  }

  /** The channels this dispatcher can deliver. */
  get channels(): Channel[] {
    return [...(this.config.webhookSecret ? (['webhook'] as const) : []), ...(this.email ? (['email'] as const) : [])];
  }

  /** Say, on rows no one has attempted yet, why a channel is not being delivered. */
  private async markUnconfigured(): Promise<void> {
    const missing: Array<[Channel, string]> = [];
    if (!this.config.webhookSecret) missing.push(['webhook', NO_WEBHOOK_SECRET]);
    if (!this.email) missing.push(['email', NO_SMTP]);
    for (const [channel, reason] of missing) {
      await this.db
        .updateTable('notification_outbox')
        .set({ last_error: reason })
        .where('status', '=', 'pending')
        .where('channel', '=', channel)
        .where('attempts', '=', 0)
        .where('last_error', 'is', null)
        .execute();
    }
  }

  /** Claim the due rows and deliver them, once. */
  async runOnce(): Promise<DispatchResult> {
    await this.markUnconfigured();
    const result: DispatchResult = { claimed: 0, delivered: 0, retrying: 0, failed: 0 };
    const channels = this.channels;
    if (channels.length === 0) return result;
    const { rows } = await sql<OutboxRow>`
      update notification_outbox o
      set attempts = o.attempts + 1, last_attempt_at = clock_timestamp(), next_attempt_at = clock_timestamp() + make_interval(secs => ${this.config.leaseMs / 1000})
      where o.notification_id in (
        select notification_id from notification_outbox
        where status = 'pending' and next_attempt_at <= clock_timestamp() and channel = any(${channels})
        order by next_attempt_at, notification_id
        limit ${this.config.batchSize}
        for update skip locked)
      returning o.notification_id, o.channel, o.address, o.idempotency_key, o.event_type, o.payload, o.attempts`.execute(this.db);
    result.claimed = rows.length;
    await Promise.all(
      rows.map(async (row) => {
        const outcome = await this.deliver(row);
        const status = await this.record(row, outcome);
        if (status) result[status] += 1;
      }),
    );
    if (result.claimed) this.log(`notifications: ${result.delivered} delivered, ${result.retrying} to retry, ${result.failed} failed after ${this.config.maxAttempts} attempts`);
    return result;
  }

  private async deliver(row: OutboxRow): Promise<DeliveryOutcome> {
    const message = row.payload as NotificationMessage;
    if (row.channel === 'webhook') {
      if (!this.config.webhookSecret) return { ok: false, error: NO_WEBHOOK_SECRET };
      return postWebhook(
        { url: row.address, body: JSON.stringify(message.body), idempotencyKey: row.idempotency_key, eventType: row.event_type },
        this.config.webhookSecret,
        this.config.webhookTimeoutMs,
        { allowPrivate: this.config.webhookAllowPrivate },
      );
    }
    if (!this.email) return { ok: false, error: NO_SMTP };
    return this.email.send({ to: row.address, subject: message.subject, text: message.text, idempotencyKey: row.idempotency_key, eventType: row.event_type });
  }

  private async record(row: OutboxRow, outcome: DeliveryOutcome): Promise<'delivered' | 'retrying' | 'failed' | undefined> {
    const mine = () => this.db.updateTable('notification_outbox').where('notification_id', '=', row.notification_id).where('attempts', '=', row.attempts).where('status', '=', 'pending');
    if (outcome.ok) {
      const r = await mine()
        .set({ status: 'delivered', delivered_at: sql<Date>`clock_timestamp()`, next_attempt_at: sql<Date>`clock_timestamp()`, last_error: null })
        .executeTakeFirst();
      return r.numUpdatedRows ? 'delivered' : undefined;
    }
    const error = outcome.error.slice(0, 1000);
    if (row.attempts >= this.config.maxAttempts) {
      const r = await mine().set({ status: 'failed', last_error: error }).executeTakeFirst();
      return r.numUpdatedRows ? 'failed' : undefined;
    }
    const delay = backoffMs(row.attempts, this.config);
    const r = await mine()
      .set({ last_error: error, next_attempt_at: sql<Date>`clock_timestamp() + make_interval(secs => ${delay / 1000})` })
      .executeTakeFirst();
    return r.numUpdatedRows ? 'retrying' : undefined;
  }

  /** Run until `stop()`: a batch, again at once while batches come back full, else wait `pollMs`. */
  start(): this {
    if (this.loop) return this;
    this.loop = (async () => {
      while (!this.stopped) {
        let full = false;
        try {
          full = (await this.runOnce()).claimed >= this.config.batchSize;
        } catch (e) {
          if (!this.stopped) this.log(`notifications: dispatch failed: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (full || this.stopped) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.config.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    })();
    return this;
  }

  /** Stop after the attempts in flight have been recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.email?.close();
  }
}
