/**
 * Email delivery over SMTP (nodemailer). The message carries `Message-ID: <idempotency key@trienkhai>`
 * and `X-Trienkhai-Idempotency-Key`, so a mail system (or a person) can recognise a resend of the same
 * notification. An attempt succeeds when the SMTP server accepted the message.
 */
import nodemailer from 'nodemailer';
import type { DeliveryOutcome } from './webhook';

export interface EmailConfig {
  /** e.g. `smtp://127.0.0.1:2525`, `smtps://user:pass@mail.example.vn:465` */
  url: string;
  from: string;
  timeoutMs?: number;
}

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  idempotencyKey: string;
  eventType: string;
}

export interface EmailSender {
  send(m: EmailMessage): Promise<DeliveryOutcome>;
  close(): void;
}

export const messageIdOf = (idempotencyKey: string): string => `<${idempotencyKey}@trienkhai>`;

export function createEmailSender(config: EmailConfig): EmailSender {
  const timeout = config.timeoutMs ?? 10_000;
  const transport = nodemailer.createTransport({ url: config.url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout * 2 });
  return {
    async send(m) {
      try {
        await transport.sendMail({
          from: config.from,
          to: m.to,
          subject: m.subject,
          text: m.text,
          messageId: messageIdOf(m.idempotencyKey),
          headers: { 'X-Trienkhai-Idempotency-Key': m.idempotencyKey, 'X-Trienkhai-Event': m.eventType },
        });
        return { ok: true };
      } catch (e) {
        const code = (e as { code?: string; responseCode?: number }).code;
        return { ok: false, error: `${code ? `${code}: ` : ''}${e instanceof Error ? e.message : String(e)}` };
      }
    },
    close: () => transport.close(),
  };
}
