/**
 * The Temporal workflow histories of a rollout: every run of every workflow execution in its tree
 * (the rollout workflow, one unit workflow per unit, fan-out batches).
 *
 * They are found by walking the tree itself, not the visibility store: from the rollout workflow down
 * through `ChildWorkflowExecutionStarted`, and along each chain of runs through
 * `WorkflowExecutionContinuedAsNew`. Units whose workflow cannot be reached that way (e.g. because a
 * parent's closed run was already deleted by the namespace's retention) are looked up by their
 * deterministic workflow ID and walked backwards through `continuedExecutionRunId`. A run Temporal
 * no longer holds is reported as gone, never silently skipped.
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database';
import { parseWorkflowId, rolloutWorkflowId, unitWorkflowId } from '../workflows/definitions';
import type { History } from '@temporalio/common/lib/proto-utils';

export interface CollectedRun {
  workflowId: string;
  runId: string;
  workflowType: string;
  /** 1 for the first run of an execution, 2 after its first continue-as-new, … (counted from the first run still held). */
  run: number;
  history: History;
}

export interface CollectedHistories {
  runs: CollectedRun[];
  /** Workflow IDs whose earlier runs (or whole execution) Temporal no longer holds. */
  gone: Array<{ workflowId: string; runId: string | null; why: string }>;
}

/** `trienkhai/unit/R/P.A` → `P.A`; `trienkhai/fanout/R/P.A/0` → `P.A.b0`; the rollout → its ID. */
export function shortName(workflowId: string): string {
  const w = parseWorkflowId(workflowId);
  if (w?.kind === 'unit') return w.unitCode;
  if (w?.kind === 'fanout') return `${w.ownerCode}.b${w.batch}`;
  return (w?.rolloutId ?? workflowId).replace(/[^A-Za-z0-9._-]/g, '_');
}

/** A file name for one run: `<workflowType>-<short-name>-<run>.json`. */
export function historyFileName(r: Pick<CollectedRun, 'workflowType' | 'workflowId' | 'run'>, tag?: string): string {
  return `${r.workflowType}-${shortName(r.workflowId)}-${r.run}${tag ? `.${tag}` : ''}.json`;
}

const isNotFound = (e: unknown): boolean => {
  const x = e as { name?: string; code?: number; cause?: { code?: number } } | undefined;
  return x?.name === 'WorkflowNotFoundError' || x?.code === 5 || x?.cause?.code === 5 || /not ?found/i.test(String((e as Error)?.message ?? ''));
};

/**
 * Every run of every execution reachable from `rootWorkflowId`, plus those of `alsoWorkflowIds`
 * (e.g. every unit's workflow ID) that the walk did not reach. Fetches a few histories at a time.
 */
export async function collectHistories(
  client: Client,
  rootWorkflowId: string,
  opts: { alsoWorkflowIds?: ReadonlyArray<string>; concurrency?: number; onProgress?: (fetched: number) => void } = {},
): Promise<CollectedHistories> {
  const byRun = new Map<string, { workflowId: string; runId: string; workflowType: string; history: History }>();
  const gone: CollectedHistories['gone'] = [];
  const queued = new Set<string>();
  const queue: Array<{ workflowId: string; runId: string; workflowType: string }> = [];
  const enqueue = (workflowId: string, runId: string, workflowType: string): void => {
    if (queued.has(runId)) return;
    queued.add(runId);
    queue.push({ workflowId, runId, workflowType });
  };

  /** Fetch one run, and queue the runs and children it names (forwards and, for seeds, backwards). */
  const visit = async (next: { workflowId: string; runId: string; workflowType: string }, backwards: boolean): Promise<void> => {
    let history: History;
    try {
      history = await client.workflow.getHandle(next.workflowId, next.runId).fetchHistory();
    } catch (e) {
      if (!isNotFound(e)) throw e;
      gone.push({ workflowId: next.workflowId, runId: next.runId, why: 'Temporal no longer holds this run (past retention)' });
      return;
    }
    byRun.set(next.runId, { ...next, history });
    opts.onProgress?.(byRun.size);
    for (const ev of history.events ?? []) {
      const child = ev.childWorkflowExecutionStartedEventAttributes;
      if (child?.workflowExecution?.workflowId && child.workflowExecution.runId) enqueue(child.workflowExecution.workflowId, child.workflowExecution.runId, child.workflowType?.name ?? '?');
      const can = ev.workflowExecutionContinuedAsNewEventAttributes;
      if (can?.newExecutionRunId) enqueue(next.workflowId, can.newExecutionRunId, can.workflowType?.name ?? next.workflowType);
      const prev = backwards ? ev.workflowExecutionStartedEventAttributes?.continuedExecutionRunId : undefined;
      if (prev && !queued.has(prev)) {
        queued.add(prev);
        await visit({ workflowId: next.workflowId, runId: prev, workflowType: next.workflowType }, true);
      }
    }
  };

  const drain = async (): Promise<void> => {
    while (queue.length) await Promise.all(queue.splice(0, opts.concurrency ?? 8).map((job) => visit(job, false)));
  };

  const seed = async (workflowId: string): Promise<void> => {
    try {
      const d = await client.workflow.getHandle(workflowId).describe();
      if (queued.has(d.runId)) return;
      queued.add(d.runId);
      await visit({ workflowId, runId: d.runId, workflowType: d.type }, true);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      gone.push({ workflowId, runId: null, why: 'Temporal holds no run of this workflow (never started, or past retention)' });
    }
  };

  await seed(rootWorkflowId);
  await drain();
  const reached = new Set([...byRun.values()].map((r) => r.workflowId));
  for (const id of opts.alsoWorkflowIds ?? []) {
    if (reached.has(id)) continue;
    await seed(id);
    await drain();
  }
  return { runs: numberRuns([...byRun.values()], gone), gone };
}

/** Order each execution's runs along its continue-as-new chain and number them. */
function numberRuns(runs: Array<Omit<CollectedRun, 'run'>>, gone: CollectedHistories['gone']): CollectedRun[] {
  const byId = new Map<string, Array<Omit<CollectedRun, 'run'>>>();
  for (const r of runs) byId.set(r.workflowId, [...(byId.get(r.workflowId) ?? []), r]);
  const out: CollectedRun[] = [];
  for (const [workflowId, list] of byId) {
    const held = new Set(list.map((r) => r.runId));
    const prevOf = (r: Omit<CollectedRun, 'run'>): string | undefined => r.history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    const nextOf = new Map<string, Omit<CollectedRun, 'run'>>();
    for (const r of list) {
      const p = prevOf(r);
      if (p && held.has(p)) nextOf.set(p, r);
    }
    const firsts = list.filter((r) => !(prevOf(r) && held.has(prevOf(r)!)));
    for (const first of firsts) {
      if (prevOf(first) && !gone.some((g) => g.runId === prevOf(first))) gone.push({ workflowId, runId: prevOf(first)!, why: 'an earlier run of this workflow is no longer held by Temporal' });
      let n = 1;
      for (let r: Omit<CollectedRun, 'run'> | undefined = first; r; r = nextOf.get(r.runId)) out.push({ ...r, run: n++ });
    }
  }
  return out;
}

/** Every run of a rollout's workflows: from the rollout workflow down, and from each unit's workflow ID. */
export async function collectRolloutHistories(deps: { db: Kysely<Database>; client: Client }, rolloutId: string, onProgress?: (fetched: number) => void): Promise<CollectedHistories> {
  const units = await deps.db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', rolloutId).execute();
  return collectHistories(deps.client, rolloutWorkflowId(rolloutId), {
    alsoWorkflowIds: units.map((u) => unitWorkflowId(rolloutId, u.unit_code)),
    onProgress: (n) => {
      if (n % 200 === 0) onProgress?.(n);
    },
  });
}
