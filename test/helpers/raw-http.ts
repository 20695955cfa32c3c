/**
 * Requests exactly as written, for testing the HTTP doors: `request` (node:http, a raw path and raw
 * body bytes, no URL normalisation) and `rawSocket` (the bytes on the wire, for what node:http itself
 * would refuse to send). Both give up after `timeoutMs` with an error naming the request.
 */
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined if it is not JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export function request(base: string, method: string, path: string, opts: { headers?: OutgoingHttpHeaders; body?: Buffer | string; chunks?: Buffer[]; timeoutMs?: number } = {}): Promise<RawResponse> {
  const url = new URL(base);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: opts.headers ?? {}, agent: false, insecureHTTPParser: false });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${method} ${path.slice(0, 200)}`));
    }, timeoutMs);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parse(text) });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${method} ${path.slice(0, 200)}: ${e.message}`));
    });
    // A server may answer (and close) before it has read a body it refuses: that is not an error here.
    req.on('socket', (s) => s.on('error', () => undefined));
    if (opts.chunks) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else req.end(opts.body);
  });
}

/** Write `bytes` on a fresh connection and read the answer until the server closes it (or `timeoutMs`). */
export function rawSocket(base: string, bytes: Buffer | string, timeoutMs = 20_000): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect({ host: url.hostname, port: Number(url.port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${JSON.stringify(String(bytes).slice(0, 200))}`));
    }, timeoutMs);
    s.on('connect', () => s.write(bytes));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = all.split('\r\n\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const text = rest.join('\r\n\r\n');
      resolve({ status: m ? Number(m[1]) : 0, headers, text, json: parse(text) });
    });
  });
}
