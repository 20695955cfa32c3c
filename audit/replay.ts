/**
 * Replaying workflow histories against the workflow code of this build (`Worker.runReplayHistories`):
 * a run that the current code would not have produced is a determinism violation, reported per
 * workflow run. Used by `trienkhai audit replay` on a live rollout or an export bundle; needs no
 * server and no database.
 */
import type { History } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { PRELOAD_MODULES, WORKFLOWS_PATH } from '../worker/worker';

export interface ReplayInput {
  workflowId: string;
  runId: string;
  workflowType: string;
  run: number;
  /** Where it came from (a bundle's file), for the report. */
  file?: string;
  history: History;
}

export interface ReplayOutcome {
  workflowId: string;
  runId: string;
  workflowType: string;
  run: number;
  file?: string;
  /** ok; nondeterministic: the current code issues different commands; failed: it could not be replayed at all. */
  result: 'ok' | 'nondeterministic' | 'failed';
  error?: string;
}

/**
 * The SDK logs the bundler's output and each nondeterminism it meets; the outcomes below say all of it.
 * Quiet unless TRIENKHAI_LOG_LEVEL asks otherwise (a no-op where a runtime is already installed).
 */
function quietRuntime(): void {
  const level = (process.env.TRIENKHAI_LOG_LEVEL as 'ERROR' | undefined) ?? 'ERROR';
  try {
    Runtime.install({ logger: new DefaultLogger(level, level === 'ERROR' ? () => undefined : undefined), telemetryOptions: { logging: { filter: { core: level, other: level }, forward: {} } } });
  } catch {
    // already installed (e.g. in a test, or a worker in the same process)
  }
}

/** The SDK wraps the core's reason in a Rust debug dump; keep the reason ("[TMPRL1100] Nondeterminism error: …"). */
function coreMessage(message: string): string {
  const inner = /message: "((?:[^"\\]|\\.)*)"/.exec(message);
  return inner ? inner[1]!.replace(/\\"/g, '"') : message;
}

/** Replay each history in turn (one replay worker); the outcomes are in input order. */
export async function replayHistories(inputs: ReadonlyArray<ReplayInput>, onProgress?: (done: number, total: number) => void): Promise<ReplayOutcome[]> {
  quietRuntime();
  const outcomes: ReplayOutcome[] = [];
  const source = inputs.map((i) => ({ workflowId: i.workflowId, history: i.history }));
  const results = Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: PRELOAD_MODULES } }, source);
  for await (const r of results) {
    const input = inputs[outcomes.length]!;
    const { history: _history, ...who } = input;
    const result = !r.error ? 'ok' : r.error instanceof DeterminismViolationError ? 'nondeterministic' : 'failed';
    outcomes.push({ ...who, result, ...(r.error ? { error: coreMessage(r.error.message) } : {}) });
    onProgress?.(outcomes.length, inputs.length);
  }
  return outcomes;
}
