/**
 * A real stack for the HTTP tests, one per test file: fresh PostgreSQL, a Temporal dev server, a
 * worker, and the API server (serving the dashboard's files when asked). Nothing is faked.
 */
import { mkdtempSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startApiServer, type ApiServer } from '../../api/server';
import { createWorker } from '../../worker/worker';
import { freshDatabase, type TestDb } from './db';
import { testDevServer, workflowBundle } from './temporal';

/** The small hierarchy the HTTP tests share: P (tinh) → P.A, P.B (huyen) → P.A.1, P.B.1 (coso) → P.A.1.C (chibo, no committee). */
export const HIERARCHY = `code,name,level,parent,members,standing_committee
P,Đảng bộ tỉnh,tinh,,20,true
P.A,Đảng bộ huyện A,huyen,P,8,true
P.A.1,Đảng bộ xã A1,coso,P.A,5,true
P.A.1.C,Chi bộ thôn C,chibo,P.A.1,2,false
P.B,Đảng bộ huyện B,huyen,P,6,true
P.B.1,Đảng bộ xã B1,coso,P.B,4,true
`;

export interface Res {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface ApiStack {
  t: TestDb;
  api: ApiServer;
  client: Client;
  /** Tokens by name (`ops`, `unit`, …), filled in by the test file. */
  tokens: Record<string, string>;
  /** A request as `who` (a name in `tokens`, or a raw token; null for none), with a JSON body or raw text. */
  call(method: 'GET' | 'POST', path: string, who: string | null, body?: unknown, raw?: string): Promise<Res>;
  close(): Promise<void>;
}

export async function startApiStack(opts: { staticFiles?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean> } = {}): Promise<ApiStack> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = mkdtempSync(join(tmpdir(), 'trienkhai-api-'));
  const t = await freshDatabase();
  const server = await testDevServer(join(dir, 'temporal'));
  const native = await NativeConnection.connect({ address: server.address });
  const worker = await createWorker({ connection: native, db: t.db, workflowBundle: await workflowBundle() });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const api = await startApiServer({ db: t.db, client: async () => client, ...(opts.staticFiles ? { staticFiles: opts.staticFiles } : {}) });
  const tokens: Record<string, string> = {};
  return {
    t,
    api,
    client,
    tokens,
    async call(method, path, who, body, raw) {
      const headers: Record<string, string> = {};
      if (who) headers.authorization = `Bearer ${tokens[who] ?? who}`;
      if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
      const r = await fetch(`${api.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}) });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
    async close() {
      await api.close();
      worker.shutdown();
      await running;
      await connection.close();
      await native.close();
      await server.stop();
      await t.close();
    },
  };
}
