/**
 * `npm run bench`: trienkhai against baselines it builds itself, side by side in one run. Each measure
 * runs R rounds, the two sides back to back in alternating order (so a noisy neighbour hits both), and
 * the table quotes medians of the per-round ratios. Sizes and knobs: bench/config.ts. Results go to
 * bench-results/<timestamp>.json and bench-results/latest.json.
 *
 * BENCH_SCALE=national runs one large rollout end to end instead (enrolment, a shared deadline,
 * `audit verify`, `audit export`) with the worker's peak memory.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { sql } from 'kysely';
import { importUnits } from '../app/commands';
import { exportBundle } from '../audit/bundle';
import { verifyChain } from '../db/audit';
import { batched, retried, scaling, single } from './append';
import { benchConfig, hierarchyCsv, type BenchConfig } from './config';
import { noopHistories, replayRate, trienkhaiHistories } from './replay';
import { bareSide, trienkhaiSide, type SideResult } from './sides';
import { startBenchStack, type BenchStack } from './stack';
import { fmt, formatTable, ratioRow, type Paired } from './stats';

const log = (s: string): void => console.log(`[bench] ${s}`);

/** Run `a` and `b` once per round, `a` first in odd rounds and `b` first in even ones. */
async function alternate<A, B>(rounds: number, what: string, a: (r: number) => Promise<A>, b: (r: number) => Promise<B>): Promise<{ a: A[]; b: B[] }> {
  const out = { a: [] as A[], b: [] as B[] };
  for (let r = 1; r <= rounds; r++) {
    log(`${what}: round ${r}/${rounds}`);
    const runA = async (): Promise<void> => void out.a.push(await a(r));
    const runB = async (): Promise<void> => void out.b.push(await b(r));
    if (r % 2 === 1) await runA().then(runB);
    else await runB().then(runA);
  }
  return out;
}

function machine(): Record<string, unknown> {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (
      execSync('git status --porcelain', { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
    )
      commit += '+dirty';
  } catch {
    // not a git checkout
  }
  return { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)), node: process.version, commit };
}

function writeResults(result: Record<string, unknown>): string {
  const dir = join(process.cwd(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const text = JSON.stringify(result, null, 2) + '\n';
  writeFileSync(file, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return file;
}

/**
 * The shared deadline falls after the side's enrolment: its last enrolment time with room to spare, or
 * a guess in the first round (a side that outlasts it is flagged OVERLAPPED, and the next round adapts).
 */
function deadlineFor(cfg: BenchConfig, side: SideResult['side'], done: ReadonlyArray<SideResult>): number {
  if (cfg.deadlineS !== undefined) return cfg.deadlineS;
  const last = done.filter((s) => s.side === side).pop();
  return last ? Math.ceil(last.enrolS * 1.3 + 5) : Math.max(20, Math.ceil(cfg.units / (side === 'trienkhai' ? 4 : 10)));
}

const sideLine = (s: SideResult): string =>
  `${s.side.padEnd(9)} ${s.run}: enrolled ${s.units} in ${s.enrolS.toFixed(1)} s (${fmt(s.enrolPerS)}/s); deadline storm ${s.stormS.toFixed(1)} s (${fmt(s.escalationsPerS)}/s)` +
  `${s.overlapped ? ' OVERLAPPED enrolment' : ''}; ${s.cachedWorkflows} cached, ${fmt(s.rssPerCachedMiB)} MiB RSS each; peak RSS ${fmt(s.peakRssMiB)} MiB`;

async function compare(stack: BenchStack, cfg: BenchConfig): Promise<void> {
  const started = Date.now();
  const paired: Paired[] = [];
  const rounds: Record<string, unknown> = {};
  let lastRollout: string | undefined;
  if (cfg.parts.includes('rollout')) {
    const done: SideResult[] = [];
    const side = (f: typeof trienkhaiSide, name: string, which: SideResult['side']) => async (r: number) => {
      const s = await f(stack, cfg, `${name}-r${r}`, deadlineFor(cfg, which, done), log);
      done.push(s);
      log(sideLine(s));
      return s;
    };
    const { a: tk, b: bare } = await alternate(cfg.rounds, 'rollout', side(trienkhaiSide, 'bench', 'trienkhai'), side(bareSide, 'bare', 'bare'));
    lastRollout = tk[tk.length - 1]?.run;
    rounds.rollout = { trienkhai: tk, bare };
    const pick = (f: (s: SideResult) => number) => ({ trienkhai: tk.map(f), baseline: bare.map(f) });
    paired.push(
      { name: 'enrolment', unit: 'units/s', ...pick((s) => s.enrolPerS), baselineIs: 'bare child-workflow tree', goal: { kind: 'min', value: 0.8 } },
      { name: 'shared deadline', unit: 'escalations/s', ...pick((s) => s.escalationsPerS), baselineIs: 'bare sleepers + one insert', goal: { kind: 'min', value: 1.0 } },
      { name: 'memory per cached workflow', unit: 'MiB', ...pick((s) => s.rssPerCachedMiB), baselineIs: 'bare workflows, same cache', goal: { kind: 'max', value: 1.5 } },
    );
  }
  if (cfg.parts.includes('replay')) {
    if (!lastRollout) {
      log('replay: needs a trienkhai rollout from this run (BENCH_ONLY must include rollout); skipped');
    } else {
      const tk = await trienkhaiHistories(stack, lastRollout, cfg.replay);
      const noop = await noopHistories(stack, tk, 'replay');
      log(`replay: ${tk.histories.length} trienkhai unit histories (${tk.events} events) against ${noop.histories.length} no-op histories (${noop.events} events)`);
      const { a, b } = await alternate(
        cfg.rounds,
        'replay',
        () => replayRate(stack.bundles.trienkhai, tk),
        () => replayRate(stack.bundles.bare, noop),
      );
      rounds.replay = { trienkhai: a, baseline: b, histories: tk.histories.length, events: { trienkhai: tk.events, baseline: noop.events } };
      paired.push({ name: 'replay', unit: 'events/s', trienkhai: a, baseline: b, baselineIs: 'no-op histories, same lengths', goal: { kind: 'min', value: 0.7 } });
    }
  }
  if (cfg.parts.includes('append')) {
    const b = await alternate(
      cfg.rounds,
      'batched append',
      (r) => batched(stack.db, 'trienkhai', `append-b-r${r}`, cfg.appendUnits, cfg.batchUnits),
      (r) => batched(stack.db, 'raw', `raw-b-r${r}`, cfg.appendUnits, cfg.batchUnits),
    );
    const s = await alternate(
      cfg.rounds,
      'single append',
      (r) => single(stack.db, 'trienkhai', `append-s-r${r}`, cfg.appendUnits, cfg.concurrency),
      (r) => single(stack.db, 'raw', `raw-s-r${r}`, cfg.appendUnits, cfg.concurrency),
    );
    rounds.append = { batched: { trienkhai: b.a, baseline: b.b }, single: { trienkhai: s.a, baseline: s.b }, deadlocksRetried: retried.n };
    if (retried.n) log(`append: ${retried.n} append(s) retried after a deadlock`);
    paired.push(
      { name: 'batched append + projection', unit: 'events/s', trienkhai: b.a, baseline: b.b, baselineIs: `UNNEST insert, ${cfg.batchUnits * 3} rows`, goal: { kind: 'min', value: 0.3 } },
      { name: 'single append', unit: 'events/s', trienkhai: s.a, baseline: s.b, baselineIs: `1-row INSERT, ${cfg.concurrency} in flight`, goal: { kind: 'min', value: 0.45 } },
    );
  }
  if (cfg.parts.includes('scaling')) {
    const job = { url: stack.dbUrl, units: cfg.appendUnits, batchUnits: 10, concurrency: 4 };
    const before = retried.n;
    const { a, b } = await alternate(
      cfg.rounds,
      'append scaling',
      (r) => scaling(job, `scale2-r${r}`, 2),
      (r) => scaling(job, `scale1-r${r}`, 1),
    );
    rounds.scaling = { job: { ...job, url: undefined }, twoProcesses: a, oneProcess: b, deadlocksRetried: retried.n - before };
    if (retried.n - before) log(`append scaling: ${retried.n - before} append(s) retried after a deadlock`);
    paired.push({ name: 'append scaling (2 processes ÷ 1)', unit: 'events/s', trienkhai: a, baseline: b, baselineIs: '1 appender process', goal: { kind: 'about', value: 2 } });
  }
  const rows = paired.map(ratioRow);
  console.log(`\n${formatTable(rows)}\n`);
  const tk = (rounds.rollout as { trienkhai: SideResult[] } | undefined)?.trienkhai ?? [];
  const absolute = {
    enrolmentUnitsPerS: rows.find((r) => r.name === 'enrolment')?.trienkhai,
    sharedDeadlineEscalationsPerS: rows.find((r) => r.name === 'shared deadline')?.trienkhai,
    overlappedRounds: tk.filter((s) => s.overlapped).length,
  };
  console.log(
    `absolute (trienkhai, medians): enrolment ${fmt(absolute.enrolmentUnitsPerS ?? NaN)} units/s (goal ≥ 100 on 2 cores); shared deadline ${fmt(absolute.sharedDeadlineEscalationsPerS ?? NaN)} escalations/s (goal ≥ 200)` +
      (absolute.overlappedRounds ? `; ${absolute.overlappedRounds} round(s) overlapped enrolment` : ''),
  );
  const file = writeResults({ kind: 'compare', at: new Date().toISOString(), machine: machine(), config: cfg, durationS: (Date.now() - started) / 1000, ratios: rows, absolute, rounds });
  log(`results: ${file}`);
}

/** One big rollout end to end, with the worker's peak memory. */
async function national(stack: BenchStack, cfg: BenchConfig): Promise<void> {
  const deadlineS = cfg.deadlineS ?? Math.max(600, Math.ceil(cfg.units / 10));
  log(`national: ${cfg.units} units, shared deadline ${deadlineS} s after the start (BENCH_DEADLINE_S to change)`);
  const side = await trienkhaiSide(stack, cfg, 'national', deadlineS, log);
  log(sideLine(side));
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<{ s: number; result: T }> => {
    const t = Date.now();
    const result = await fn();
    const s = (Date.now() - t) / 1000;
    log(`${what}: ${s.toFixed(1)} s`);
    return { s, result };
  };
  const verify = await timed('audit verify', () => verifyChain(stack.db));
  const exported = await timed('audit export', () => exportBundle({ db: stack.db, client: stack.client }, 'national', join(stack.dir, 'bundle'), { keyFile: join(stack.dir, 'key.pem') }));
  const events = await sql<{ n: string }>`select count(*) as n from events`.execute(stack.db);
  const file = writeResults({
    kind: 'national',
    at: new Date().toISOString(),
    machine: machine(),
    config: cfg,
    rollout: side,
    events: Number(events.rows[0]!.n),
    verify: { s: verify.s, events: verify.result.events, ok: verify.result.ok },
    export: { s: exported.s, histories: exported.result.manifest.histories.length, events: exported.result.manifest.log.events },
    // The process's peak RSS (the worker, its workflow thread, the pollers): the OS's figure.
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20,
  });
  log(`results: ${file}`);
}

async function main(): Promise<void> {
  // The core's warnings (e.g. a workflow task over 5 s on a loaded machine) would bury the figures.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
  process.env.TRIENKHAI_SKIP_SDK_DOWNLOAD ??= '1';
  const cfg = benchConfig();
  log(`${cfg.mode}: ${cfg.units} units (1 province, ${cfg.communes} communes × ${cfg.cells} cells), ${cfg.rounds} round(s); parts: ${cfg.parts.join(', ')}`);
  if (!global.gc) log('note: run node with --expose-gc for steadier memory figures');
  const stack = await startBenchStack({ persistent: cfg.persistent, log });
  try {
    const imported = await importUnits(stack.db, 'bench.csv', hierarchyCsv(cfg.communes, cfg.cells), 'user:bench');
    log(`imported ${imported.units} units`);
    await (cfg.mode === 'national' ? national(stack, cfg) : compare(stack, cfg));
  } finally {
    await stack.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
