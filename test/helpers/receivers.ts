/**
 * Real local receivers for notification tests: an HTTP webhook receiver (node:http) and an SMTP sink
 * (smtp-server), each on an ephemeral port, each able to go down and come back on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The answer to one request: `ok` (200), a status, or `drop` (the connection is destroyed without an
 * answer). The receiver records every request before answering.
 */
export type Answer = 'ok' | 'drop' | number;

/** A local server that can go down and come back on the same port. */
abstract class LocalReceiver {
  port = 0;
  abstract start(): Promise<this>;
  abstract stop(): Promise<void>;

  /** Take a free port and leave nothing listening on it (the receiver is "down"). */
  async reserve(): Promise<this> {
    await this.start();
    await this.stop();
    return this;
  }

  /** Listen on this.port (0: any free one, remembered for the next start). */
  protected async listen(server: { once(e: 'error', f: (e: Error) => void): unknown; listen(port: number, host: string, cb: () => void): unknown }, address: () => AddressInfo): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = address().port;
  }
}

export class WebhookReceiver extends LocalReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Decides the answer per request; default: 200. */
  answer: (r: ReceivedWebhook) => Answer = () => 'ok';
  private server: Server | undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(): Promise<this> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: ReceivedWebhook = { path: req.url ?? '', headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body: Buffer.concat(chunks).toString('utf8') };
        this.received.push(r);
        const a = this.answer(r);
        if (a === 'drop') return void req.socket.destroy();
        res.writeHead(a === 'ok' ? 200 : a, { 'content-type': 'text/plain' });
        res.end(a === 'ok' ? 'ok' : `status ${a}`);
      });
    });
    await this.listen(server, () => server.address() as AddressInfo);
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export class SmtpSink extends LocalReceiver {
  readonly received: ReceivedMail[] = [];
  private server: SMTPServer | undefined;

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await this.listen(server, () => server.server.address() as AddressInfo);
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** A header of a raw RFC 5322 message (unfolded). */
export function mailHeader(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head);
  return m?.[1]?.trim();
}

/** The text body of a simple (single-part) message, quoted-printable or base64 decoded. */
export function mailText(raw: string): string {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join('\n\n');
  const enc = (mailHeader(`${head}\n\n`, 'Content-Transfer-Encoding') ?? '').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const soft = body.replace(/=\r?\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < soft.length; i++) {
      if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
        bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(...Buffer.from(soft[i]!, 'utf8'));
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return body;
}
