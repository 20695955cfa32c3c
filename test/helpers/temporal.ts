/**
 * Temporal test environments backed by real servers the project obtains itself (stack/).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { resolveTestServer } from '../../stack/temporal-binaries';
import { PRELOAD_MODULES } from '../../worker/worker';

process.env.TRIENKHAI_SKIP_SDK_DOWNLOAD ??= '1';

/** The native time-skipping test server: years of timers in seconds. */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const bin = process.env.TEMPORAL_TEST_SERVER_PATH ? { path: process.env.TEMPORAL_TEST_SERVER_PATH } : await resolveTestServer({ log: () => undefined });
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: bin.path } } });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundle the workflows once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger, preloadModules: PRELOAD_MODULES });
  return bundle;
}

const noop = (): void => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string, meta?: unknown) => console.error(m, meta), log: noop };
