/**
 * Replay: history events per second through `Worker.runReplayHistories`, on unit histories of a
 * trienkhai rollout from this run against histories of `bareNoop` workflows of the same lengths (a
 * no-op workflow's history of n timers has 5 + 5n events). Both from prebuilt bundles, so neither
 * side pays for bundling.
 */
import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { sql } from 'kysely';
import { unitWorkflowId } from '../workflows/definitions';
import { bareNoop } from './bare/workflows';
import { BARE_QUEUE, type BenchStack } from './stack';
import { createWorker } from '../worker/worker';
import { createBareActivities } from './bare/activities';

export interface HistorySet {
  histories: Array<{ workflowId: string; history: History }>;
  events: number;
}

const eventsOf = (h: History): number => h.events?.length ?? 0;

async function fetchAll(client: Client, ids: ReadonlyArray<string>): Promise<HistorySet> {
  const histories: HistorySet['histories'] = [];
  for (let i = 0; i < ids.length; i += 20) {
    const page = await Promise.all(ids.slice(i, i + 20).map(async (workflowId) => ({ workflowId, history: await client.workflow.getHandle(workflowId).fetchHistory() })));
    histories.push(...page);
  }
  return { histories, events: histories.reduce((n, h) => n + eventsOf(h.history), 0) };
}

/** Up to `n` unit histories of a rollout, spread over the tree (the root and every k-th unit). */
export async function trienkhaiHistories(stack: BenchStack, rolloutId: string, n: number): Promise<HistorySet> {
  const { rows } = await sql<{ unit_code: string }>`select unit_code from rollout_units where rollout_id = ${rolloutId} order by unit_code`.execute(stack.db);
  const step = Math.max(1, Math.floor(rows.length / n));
  const codes = rows.filter((_, i) => i % step === 0).slice(0, n);
  return fetchAll(
    stack.client,
    codes.map((r) => unitWorkflowId(rolloutId, r.unit_code)),
  );
}

/** One no-op workflow per given history, each as long as its counterpart, run to completion on a fresh bare worker. */
export async function noopHistories(stack: BenchStack, like: HistorySet, run: string): Promise<HistorySet> {
  const worker = await createWorker({ connection: stack.native, db: stack.db, taskQueue: BARE_QUEUE, workflowBundle: stack.bundles.bare, extra: { activities: createBareActivities(stack.db) } });
  const ids = like.histories.map((_, i) => `bare/${run}/noop-${i}`);
  await worker.runUntil(
    Promise.all(
      like.histories.map((h, i) => stack.client.workflow.execute(bareNoop, { taskQueue: BARE_QUEUE, workflowId: ids[i]!, args: [{ timers: Math.max(0, Math.round((eventsOf(h.history) - 5) / 5)) }] })),
    ),
  );
  return fetchAll(stack.client, ids);
}

/** Replay a set once; its events per second. Every history must replay cleanly. */
export async function replayRate(bundle: WorkflowBundleWithSourceMap, set: HistorySet): Promise<number> {
  const t0 = Date.now();
  let failed = 0;
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, set.histories)) if (r.error) failed += 1;
  const s = (Date.now() - t0) / 1000;
  if (failed) throw new Error(`${failed} of ${set.histories.length} histories did not replay`);
  return set.events / s;
}
