/**
 * One side of a rollout round: a fresh worker (the project's worker settings, so an empty cache),
 * a tree of units enrolled, then one shared deadline that falls after enrolment, until every unit's
 * escalation is recorded. Trienkhai runs `startRollout` on the imported hierarchy; the baseline runs
 * bench/bare's tree of bare child workflows on its own task queue. The worker's memory is sampled
 * while its cache fills.
 */
import type { Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import { startRollout } from '../app/commands';
import { createWorker } from '../worker/worker';
import { createBareActivities } from './bare/activities';
import { bareUnit, bareWorkflowId } from './bare/workflows';
import type { BenchConfig } from './config';
import { BARE_QUEUE, type BenchStack } from './stack';
import { perCached, type Sample } from './stats';

export interface SideResult {
  side: 'trienkhai' | 'bare';
  run: string;
  units: number;
  enrolS: number;
  enrolPerS: number;
  /** From the deadline instant until the last escalation was recorded. */
  stormS: number;
  escalationsPerS: number;
  /** Enrolment outlasted the deadline, so the storm overlapped it (its figure is then not clean). */
  overlapped: boolean;
  cachedWorkflows: number;
  /** Worker process RSS growth per cached workflow while the cache filled (MiB). */
  rssPerCachedMiB: number;
  /** The main thread's heap growth per cached workflow (MiB): activities and the SDK's bookkeeping, not the workflow thread. */
  mainHeapPerCachedMiB: number;
  peakRssMiB: number;
}

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Driver {
  side: SideResult['side'];
  worker: Worker;
  start(deadlineAt: number): Promise<void>;
  count(kind: 'enrolled' | 'escalated'): Promise<number>;
  /** The deadline instant as the run recorded it. */
  deadline(planned: number): Promise<number>;
}

async function runSide(cfg: BenchConfig, d: Driver, run: string, deadlineS: number, log: (s: string) => void): Promise<SideResult> {
  const running = d.worker.run();
  const samples: Sample[] = [];
  let peak = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    samples.push({ t: Date.now(), rss: m.rss, heap: m.heapUsed, cached: d.worker.getStatus().numCachedWorkflows });
  };
  try {
    global.gc?.();
    const t0 = Date.now();
    const planned = t0 + deadlineS * 1000;
    await d.start(planned);
    let enrolled = 0;
    let lastLog = t0;
    while (enrolled < cfg.units) {
      await sleep(200);
      sample();
      enrolled = await d.count('enrolled');
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        log(`  ${d.side} ${run}: enrolled ${enrolled}/${cfg.units} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
    }
    const enrolledAt = Date.now();
    sample();
    const cached = samples[samples.length - 1]!.cached;
    const deadlineAt = await d.deadline(planned);
    let escalated = 0;
    while (escalated < cfg.units) {
      await sleep(200);
      if (Date.now() < deadlineAt) continue;
      peak = Math.max(peak, process.memoryUsage().rss);
      escalated = await d.count('escalated');
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        log(`  ${d.side} ${run}: escalated ${escalated}/${cfg.units} ${((Date.now() - deadlineAt) / 1000).toFixed(0)} s after the deadline`);
      }
    }
    const enrolS = (enrolledAt - t0) / 1000;
    const stormS = (Date.now() - Math.max(deadlineAt, t0)) / 1000;
    return {
      side: d.side,
      run,
      units: cfg.units,
      enrolS,
      enrolPerS: cfg.units / enrolS,
      stormS,
      escalationsPerS: cfg.units / stormS,
      overlapped: enrolledAt > deadlineAt,
      cachedWorkflows: cached,
      rssPerCachedMiB: perCached(samples, 'rss'),
      mainHeapPerCachedMiB: perCached(samples, 'heap'),
      peakRssMiB: peak / MiB,
    };
  } finally {
    d.worker.shutdown();
    await running;
  }
}

/** The engine: `startRollout` of the whole tree with one study step due `deadlineS` after the start, escalated once. */
export async function trienkhaiSide(stack: BenchStack, cfg: BenchConfig, run: string, deadlineS: number, log: (s: string) => void): Promise<SideResult> {
  const { db, client } = stack;
  const worker = await createWorker({ connection: stack.native, db, workflowBundle: stack.bundles.trienkhai });
  const count = async (kind: 'enrolled' | 'escalated'): Promise<number> => {
    const table = kind === 'enrolled' ? 'rollout_units' : 'escalations';
    const { rows } = await sql<{ n: string }>`select count(*) as n from ${sql.table(table)} where rollout_id = ${run}`.execute(db);
    return Number(rows[0]!.n);
  };
  return runSide(
    cfg,
    {
      side: 'trienkhai',
      worker,
      count,
      async start() {
        await startRollout(
          { db, client },
          {
            resolution: '21-NQ/TW',
            resolutionDate: '2022-06-16',
            title: 'bench',
            rootUnit: 'T',
            rolloutId: run,
            plan: {
              id: 'bench',
              title: 'bench',
              steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: `PT${deadlineS}S` }, reminders: [], escalation: { tiers: 1, interval: 'P7D' } }],
            },
          },
        );
      },
      async deadline(planned) {
        const { rows } = await sql<{ at: Date | null }>`select max(due_at) as at from unit_steps where rollout_id = ${run}`.execute(db);
        return rows[0]?.at ? new Date(rows[0].at).getTime() : planned;
      },
    },
    run,
    deadlineS,
    log,
  );
}

/** The baseline: the same tree of bare child workflows, each inserting one row at enrolment and one at the deadline. */
export async function bareSide(stack: BenchStack, cfg: BenchConfig, run: string, deadlineS: number, log: (s: string) => void): Promise<SideResult> {
  const { db, client } = stack;
  // The project's worker options (cache, V8 context, activity slots); only the bundle, queue and activities are the baseline's.
  const worker = await createWorker({ connection: stack.native, db, taskQueue: BARE_QUEUE, workflowBundle: stack.bundles.bare, extra: { activities: createBareActivities(db) } });
  return runSide(
    cfg,
    {
      side: 'bare',
      worker,
      async count(kind) {
        const { rows } = await sql<{ n: string }>`select count(*) as n from bench_rows where run = ${run} and kind = ${kind}`.execute(db);
        return Number(rows[0]!.n);
      },
      async start(deadlineAt) {
        await client.workflow.start(bareUnit, {
          taskQueue: BARE_QUEUE,
          workflowId: bareWorkflowId(run, 'T'),
          args: [{ run, code: 'T', communes: cfg.communes, cells: cfg.cells, deadlineAt }],
        });
      },
      deadline: async (planned) => planned,
    },
    run,
    deadlineS,
    log,
  );
}
