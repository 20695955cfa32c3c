/**
 * The stack a benchmark runs on, started from the project's own code: embedded PostgreSQL (migrated,
 * plus the baselines' plain tables), a Temporal dev server, and both workflow bundles built once so a
 * fresh worker per measurement starts in a moment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { sql, type Kysely } from 'kysely';
import { connect } from '../db/connect';
import type { Database } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { APP_ROLE, ensurePostgres } from '../stack/postgres';
import { startTemporalDevServer } from '../stack/temporal-server';
import { PRELOAD_MODULES, WORKFLOWS_PATH } from '../worker/worker';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions';

export interface BenchStack {
  dir: string;
  dbUrl: string;
  db: Kysely<Database>;
  native: NativeConnection;
  client: Client;
  bundles: { trienkhai: WorkflowBundleWithSourceMap; bare: WorkflowBundleWithSourceMap };
  stop(): Promise<void>;
}

export const BARE_QUEUE = 'bench-bare';

/** Plain tables: the bare workflows' rows, and the raw event rows the append benchmarks compare with (no constraint but a key). */
const BASELINE_TABLES = [
  `create table bench_rows (run text not null, kind text not null, code text not null, at timestamptz not null default now(), primary key (run, kind, code))`,
  `create table bench_raw_events (event_id text primary key, stream_id text not null, stream_seq int not null, type text not null, rollout_id text, unit_code text,
     actor text not null, occurred_at timestamptz not null, payload jsonb not null)`,
];

export async function startBenchStack(opts: { persistent: boolean; log: (s: string) => void }): Promise<BenchStack> {
  const dir = mkdtempSync(join(tmpdir(), 'trienkhai-bench-'));
  const quiet = (): undefined => undefined;
  const pg = await ensurePostgres({ dataDir: join(dir, 'pg'), port: 0, log: quiet });
  const temporal = await startTemporalDevServer({
    dataDir: join(dir, 'temporal'),
    port: 0,
    persistent: opts.persistent,
    ui: false,
    searchAttributes: { ...SEARCH_ATTRIBUTES },
    log: quiet,
  });
  const db = connect(pg.url, { max: 20 });
  await migrateToLatest(db, { ownerUrl: pg.ownerUrl });
  const owner = connect(pg.ownerUrl, { max: 1 });
  for (const t of BASELINE_TABLES) await sql.raw(t).execute(owner);
  if (pg.separated) await sql`grant select, insert, delete on bench_rows, bench_raw_events to ${sql.id(APP_ROLE)}`.execute(owner);
  await owner.destroy();
  opts.log('bundling the workflows (trienkhai and bare)');
  const quietLogger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };
  const [trienkhai, bare] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, preloadModules: PRELOAD_MODULES, logger: quietLogger }),
    bundleWorkflowCode({ workflowsPath: require.resolve('./bare/workflows'), logger: quietLogger }),
  ]);
  const native = await NativeConnection.connect({ address: temporal.address });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  return {
    dir,
    dbUrl: pg.url,
    db,
    native,
    client,
    bundles: { trienkhai, bare },
    async stop() {
      await connection.close();
      await native.close();
      await db.destroy();
      await temporal.stop();
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
