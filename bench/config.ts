/**
 * What a benchmark run measures and how big, from the environment:
 *
 *   npm run bench                          # ~600 units (1 province, 20 communes, 29 cells each), 3 rounds
 *   BENCH_QUICK=1 npm run bench            # a smoke run: 16 units, 1 round, small appends
 *   BENCH_SCALE=national npm run bench     # one 60,000-unit rollout end to end (no baselines)
 *   BENCH_UNITS=60000 npm run bench        # the same, any size
 *
 * Finer knobs: BENCH_ROUNDS, BENCH_COMMUNES, BENCH_CELLS, BENCH_REPLAY (histories replayed per side),
 * BENCH_APPEND_UNITS (units whose 3 events each append benchmark writes), BENCH_CONCURRENCY (single
 * appends in flight), BENCH_DEADLINE_S (national: seconds from the start to the shared deadline),
 * BENCH_ONLY (comma list of: rollout, replay, append, scaling), BENCH_PERSISTENT=0 (in-memory Temporal).
 */

export type Part = 'rollout' | 'replay' | 'append' | 'scaling';
export const PARTS: Part[] = ['rollout', 'replay', 'append', 'scaling'];

export interface BenchConfig {
  mode: 'compare' | 'quick' | 'national';
  communes: number;
  cells: number;
  units: number;
  rounds: number;
  replay: number;
  appendUnits: number;
  /** Units per appendEvents call in the batched measure (3 events each). */
  batchUnits: number;
  concurrency: number;
  /** National mode only: seconds from the start to the shared deadline. */
  deadlineS: number | undefined;
  parts: Part[];
  persistent: boolean;
}

const num = (env: NodeJS.ProcessEnv, name: string): number | undefined => {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${v}: not a number`);
  return n;
};

export function benchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = env.BENCH_QUICK === '1';
  const wanted = env.BENCH_SCALE === 'national' ? 60_000 : num(env, 'BENCH_UNITS');
  const national = wanted !== undefined && wanted >= 10_000;
  const cells = num(env, 'BENCH_CELLS') ?? (quick ? 3 : 29);
  // A wanted size is met with 29-cell communes: 60,000 units = 1 + 2,000 × 30 (close to the national count of units under one root).
  const communes = num(env, 'BENCH_COMMUNES') ?? (wanted !== undefined ? Math.max(1, Math.round((wanted - 1) / (cells + 1))) : quick ? 4 : 20);
  const units = 1 + communes * (1 + cells);
  const only = env.BENCH_ONLY ? (env.BENCH_ONLY.split(',').map((s) => s.trim()) as Part[]) : PARTS;
  for (const p of only) if (!PARTS.includes(p)) throw new Error(`BENCH_ONLY: unknown part "${p}" (parts: ${PARTS.join(', ')})`);
  return {
    mode: national ? 'national' : quick ? 'quick' : 'compare',
    communes,
    cells,
    units,
    rounds: num(env, 'BENCH_ROUNDS') ?? (quick ? 1 : 3),
    replay: num(env, 'BENCH_REPLAY') ?? (quick ? 10 : 150),
    appendUnits: num(env, 'BENCH_APPEND_UNITS') ?? (quick ? 60 : 600),
    batchUnits: 100,
    concurrency: num(env, 'BENCH_CONCURRENCY') ?? 16,
    deadlineS: num(env, 'BENCH_DEADLINE_S'),
    parts: only,
    persistent: env.BENCH_PERSISTENT !== '0',
  };
}

/** The hierarchy file the rollouts run on (the same tree the bare baseline builds). */
export function hierarchyCsv(communes: number, cells: number): string {
  const rows = ['code,name,level,parent,members,standing_committee', 'T,Đảng bộ tỉnh Thử Nghiệm,tinh,,100000,true'];
  for (let c = 1; c <= communes; c++) {
    rows.push(`T.X${c},Đảng bộ xã số ${c},xa,T,${cells * 30},true`);
    for (let k = 1; k <= cells; k++) rows.push(`T.X${c}.C${k},Chi bộ thôn số ${k},chibo,T.X${c},30,false`);
  }
  return rows.join('\n');
}
