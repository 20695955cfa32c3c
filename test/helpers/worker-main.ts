/**
 * A worker as its own process, for tests that kill it (test/fault/faults.test.ts): what `trienkhai
 * worker` runs (worker/worker.ts `createWorker`, the activities with the notification outbox), given
 * its servers by the environment and a prebuilt workflow bundle, so a restarted worker is up in a
 * second or two instead of bundling again. Started through test/helpers/run-ts.js (see
 * test/helpers/worker-process.ts). Prints "worker ready" once it polls; SIGTERM shuts it down.
 *
 * TEMPORAL_ADDRESS, DATABASE_URL: the servers; TRIENKHAI_WORKFLOW_BUNDLE: a file holding the bundle's code.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { connect } from '../../db/connect';
import { createWorker } from '../../worker/worker';

async function main(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS;
  const databaseUrl = process.env.DATABASE_URL;
  const codePath = process.env.TRIENKHAI_WORKFLOW_BUNDLE;
  if (!address || !databaseUrl || !codePath) throw new Error('TEMPORAL_ADDRESS, DATABASE_URL and TRIENKHAI_WORKFLOW_BUNDLE are needed');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const db = connect(databaseUrl);
  const connection = await NativeConnection.connect({ address });
  const worker = await createWorker({ connection, db, workflowBundle: { codePath } });
  process.on('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  process.stdout.write('worker ready\n');
  try {
    await running;
  } finally {
    await connection.close().catch(() => undefined);
    await db.destroy().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`worker failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
