/**
 * What the rollout's workflows share about their children and their own runs: signalling the
 * children in batches (tolerating those that have finished) and the history budget after which a
 * run continues as new. Kept apart from unit.ts so that fanout.ts and rollout.ts need not import the
 * unit workflow's module (no import cycle).
 */
import { getExternalWorkflowHandle, log, type SignalDefinition } from '@temporalio/workflow';

/** Continue-as-new well before Temporal's 10,000-event hard guidance. */
export const HISTORY_BUDGET = 4000;
/** Workflows signalled concurrently per workflow task. */
const SIGNAL_BATCH = 100;

/**
 * Signal another workflow of the rollout; one that has already finished (a child whose steps are all
 * done) needs nothing more, so "not found" is not an error.
 */
export async function signalIfRunning(workflowId: string, send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (e) {
    if (e instanceof Error && /not found/i.test(e.message)) {
      log.info('signal target has finished', { workflowId });
      return;
    }
    throw e;
  }
}

/**
 * Signal workflows of the rollout 100 at a time (each batch awaited, in order); `sent(n)` is told after
 * each batch how many have been signalled, so progress survives continue-as-new.
 */
export async function signalAll<Args extends unknown[]>(ids: string[], signal: SignalDefinition<Args>, args: Args, sent?: (n: number) => void): Promise<void> {
  for (let i = 0; i < ids.length; i += SIGNAL_BATCH) {
    const batch = ids.slice(i, i + SIGNAL_BATCH);
    await Promise.all(batch.map((id) => signalIfRunning(id, () => getExternalWorkflowHandle(id).signal(signal, ...args))));
    sent?.(i + batch.length);
  }
}
