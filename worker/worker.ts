/**
 * The worker: runs the workflows (bundled once for Temporal's sandbox) and the activities.
 */
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import { createActivities } from '../activities';
import type { Database } from '../db/database';
import { enqueueNotifications } from '../notify/outbox';
import { TASK_QUEUE } from '../workflows/definitions';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Modules evaluated once per worker and shared by every workflow in the reusable V8 context, instead
 * of once per workflow: zod is about 1 MB of code, and with thousands of unit workflows cached,
 * re-evaluating it per workflow cost megabytes of heap and tens of milliseconds each. zod holds no
 * per-workflow state. Our own schemas are not preloaded: the SDK deep-freezes shared modules, and a
 * zod schema initialises parts of itself lazily on first use.
 */
export const PRELOAD_MODULES = ['zod'];

export interface CreateWorkerOptions {
  connection: NativeConnection;
  db: Kysely<Database>;
  namespace?: string;
  taskQueue?: string;
  /** Reuse a prebuilt bundle (tests bundle once per file). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  extra?: Partial<WorkerOptions>;
}

/** The activities as every worker runs them: the notification outbox rides on each append. */
export function workerActivities({ db }: { db: Kysely<Database> }): ReturnType<typeof createActivities> {
  return createActivities({ db, afterAppend: enqueueNotifications });
}

export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: PRELOAD_MODULES } }),
    activities: workerActivities({ db: opts.db }),
    // Many units share one deadline instant (e.g. end of November): keep the database pool busy but bounded.
    maxConcurrentActivityTaskExecutions: 20,
    ...opts.extra,
  });
}
