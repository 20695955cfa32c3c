/**
 * The baselines: bare Temporal workflows doing the least the engine's own could (its own bundle and
 * task queue, sandbox-safe: no Node built-ins here).
 *
 * - `bareUnit`: one unit of a province → communes → cells tree. It records itself (one activity,
 *   one row), starts its children (abandoned, as the engine's are), sleeps until the shared deadline,
 *   records its escalation (one activity, one row) and ends.
 * - `bareNoop`: a history of a chosen length doing nothing: `timers` one-millisecond timers in turn
 *   (about five history events each), for the replay baseline.
 */
import { ParentClosePolicy, proxyActivities, sleep, startChild, workflowInfo } from '@temporalio/workflow';
import type { BareActivities } from './activities';

const { recordRow } = proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute' });

export interface BareUnitInput {
  /** Rows and workflow IDs are kept apart per run. */
  run: string;
  code: string;
  /** The province has `communes` children of `cells` children each; a commune has `cells`; a cell none. */
  communes: number;
  cells: number;
  /** The shared deadline, ms since the epoch. */
  deadlineAt: number;
}

export const bareWorkflowId = (run: string, code: string): string => `bare/${run}/${code}`;

export async function bareUnit(input: BareUnitInput): Promise<void> {
  await recordRow({ run: input.run, kind: 'enrolled', code: input.code });
  const children: string[] =
    input.communes > 0 ? Array.from({ length: input.communes }, (_, i) => `${input.code}.X${i + 1}`) : Array.from({ length: input.cells }, (_, i) => `${input.code}.C${i + 1}`);
  const childInput = (code: string): BareUnitInput => ({ run: input.run, code, communes: 0, cells: input.communes > 0 ? input.cells : 0, deadlineAt: input.deadlineAt });
  await Promise.all(
    children.map((code) =>
      startChild(bareUnit, { workflowId: bareWorkflowId(input.run, code), taskQueue: workflowInfo().taskQueue, parentClosePolicy: ParentClosePolicy.ABANDON, args: [childInput(code)] }),
    ),
  );
  const wait = input.deadlineAt - Date.now();
  if (wait > 0) await sleep(wait);
  await recordRow({ run: input.run, kind: 'escalated', code: input.code });
}

export async function bareNoop(input: { timers: number }): Promise<void> {
  for (let i = 0; i < input.timers; i++) await sleep(1);
}
