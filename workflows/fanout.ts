/**
 * fanoutWorkflow — an intermediate layer for a unit with more than MAX_CHILDREN_PER_PARENT children
 * (after July 2025 a province has ~100 communes directly below it; a national rollout puts thousands
 * under one parent). Temporal advises at most 1,000 children per parent and under 10,000 events per
 * run, so the owner unit starts one batch per 1,000 children and each batch starts its share.
 *
 * Lifecycle: start the batch's unit workflows; forward every parentStepCompleted signal from the
 * owner unit to them (the cascade); finish when the owner says closeFanout. Continues-as-new at safe
 * points when its history grows, carrying its progress.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, WorkflowIdReusePolicy, allHandlersFinished, condition, continueAsNew, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import { reads } from './activities';
import type { StepKind } from '../domain/plan';
import { cancelUnitSignal, closeFanoutSignal, parentStepCompletedSignal, unitWorkflowId, type ParentStepCompleted } from './definitions';
import { HISTORY_BUDGET, signalAll } from './children';
// By name, with its type: the unit workflow starts fan-out batches, so a value import would be a cycle.
import type { unitWorkflow } from './unit';

const SIGNAL_BATCH = 100;

export interface FanoutWorkflowInput {
  rolloutId: string;
  ownerCode: string;
  offset: number;
  limit: number;
  parentCompleted: Partial<Record<StepKind, ParentStepCompleted>>;
  /** Passed on to the unit workflows it starts (see UnitWorkflowInput.maxChildren). */
  maxChildren?: number;
  /** Set only by continue-as-new. */
  state?: { codes: string[]; started: number; forwarded: Partial<Record<StepKind, number>>; closed: boolean; cancelled?: { reason: string } };
}

export async function fanoutWorkflow(input: FanoutWorkflowInput): Promise<{ children: number }> {
  const received: Partial<Record<StepKind, ParentStepCompleted>> = { ...input.parentCompleted };
  const state: NonNullable<FanoutWorkflowInput['state']> = input.state ?? { codes: [], started: 0, forwarded: {}, closed: false };
  let dirty = false;
  setHandler(parentStepCompletedSignal, (sig) => {
    if (!received[sig.kind]) received[sig.kind] = sig;
    dirty = true;
  });
  // The rollout is cancelled: stop starting children, pass it on to those started, finish.
  setHandler(cancelUnitSignal, (sig) => {
    state.cancelled ??= sig;
    dirty = true;
  });
  setHandler(closeFanoutSignal, () => {
    state.closed = true;
    dirty = true;
  });

  /** The batch's children started so far, from the `from`-th on. */
  const startedIds = (from: number): string[] => state.codes.slice(from, state.started).map((c) => unitWorkflowId(input.rolloutId, c));

  if (!input.state) {
    const page = await reads.listChildren({ rolloutId: input.rolloutId, unitCode: input.ownerCode, offset: input.offset, limit: input.limit });
    state.codes = page.codes;
  }
  while (state.started < state.codes.length && !state.cancelled) {
    const slice = state.codes.slice(state.started, state.started + SIGNAL_BATCH);
    const parentCompleted = { ...received };
    await Promise.all(
      slice.map(async (code) => {
        try {
          await startChild<typeof unitWorkflow>('unitWorkflow', {
            workflowId: unitWorkflowId(input.rolloutId, code),
            args: [{ rolloutId: input.rolloutId, unitCode: code, parentCompleted, ...(input.maxChildren ? { maxChildren: input.maxChildren } : {}) }],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          });
        } catch (e) {
          if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        }
      }),
    );
    state.started += slice.length;
    for (const kind of Object.keys(parentCompleted) as StepKind[]) state.forwarded[kind] = Math.max(state.forwarded[kind] ?? 0, state.started);
  }

  for (;;) {
    dirty = false;
    if (state.cancelled) {
      const cancelled = state.cancelled;
      await signalAll(startedIds(0), cancelUnitSignal, [cancelled]);
      break;
    }
    for (const [kind, sig] of Object.entries(received) as Array<[StepKind, ParentStepCompleted]>) {
      const from = state.forwarded[kind] ?? 0;
      await signalAll(startedIds(from), parentStepCompletedSignal, [sig], (n) => (state.forwarded[kind] = from + n));
    }
    if (state.closed) break;
    const info = workflowInfo();
    if ((info.continueAsNewSuggested || info.historyLength > HISTORY_BUDGET) && !dirty) {
      await condition(allHandlersFinished);
      if (!dirty) await continueAsNew<typeof fanoutWorkflow>({ ...input, parentCompleted: received, state });
    }
    await condition(() => dirty);
  }
  return { children: state.codes.length };
}
