/**
 * Temporal test environments backed by real servers the project obtains itself (stack/).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { resolveTestServer } from '../../stack/temporal-binaries';
import { startTemporalDevServer, type DevServerHandle } from '../../stack/temporal-server';
import { SEARCH_ATTRIBUTES } from '../../workflows/definitions';
import { PRELOAD_MODULES } from '../../worker/worker';

process.env.TRIENKHAI_SKIP_SDK_DOWNLOAD ??= '1';

/**
 * One time-skipping server for the test file: started before its tests, torn down after. Call at the
 * top level of a test file; the returned function gives the environment inside tests.
 */
export function useTimeSkippingEnv(): () => TestWorkflowEnvironment {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await timeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return () => {
    if (!env) throw new Error('the time-skipping environment is not up');
    return env;
  };
}

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

/** A three-level chain: province → district → cell (which has no standing committee). */
export const THREE_LEVELS = [
  { code: 'P', name: 'Tỉnh', level: 'tinh', parent: null, members: 10, standingCommittee: true },
  { code: 'P.A', name: 'Huyện A', level: 'huyen', parent: 'P', members: 4, standingCommittee: true },
  { code: 'P.A.1', name: 'Chi bộ 1', level: 'chibo', parent: 'P.A', members: 2, standingCommittee: false },
];

/** A throwaway dev server for one test file: in memory, a free port, no UI, our search attributes. */
export function testDevServer(dataDir: string): Promise<DevServerHandle> {
  return startTemporalDevServer({ dataDir, port: 0, persistent: false, ui: false, searchAttributes: { ...SEARCH_ATTRIBUTES }, log: () => undefined, cli: process.env.TEMPORAL_CLI_PATH ?? {} });
}
