/**
 * Benchmark: an ops clerk's rollout for a whole province after 2025 — one province, 100 communes and
 * ~29 cells under each (3,001 units by default) — on this machine's real stack (embedded PostgreSQL,
 * a Temporal dev server, one worker). It measures:
 *   1. enrolment: from `rollout start` until every unit workflow has recorded UnitEnrolled;
 *   2. a mass deadline: every unit shares one study deadline ("end of the month"); from that instant
 *      until every overdue unit's tier-1 escalation is in the read model;
 *   3. the auditor's commands on that record: verify, export, verify the bundle offline, replay its
 *      histories, cross-check.
 *
 *   npm run bench                      # 3,001 units
 *   BENCH_COMMUNES=20 BENCH_CELLS=9 npm run bench   # a quicker run
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { sql } from 'kysely';
import { bundleEventRows, bundleHistories, exportBundle, verifyBundle } from '../audit/bundle';
import { crosscheck } from '../audit/crosscheck';
import { replayHistories } from '../audit/replay';
import { verifyChain } from '../db/audit';
import { connect } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { importUnits, startRollout } from '../app/commands';
import { ensurePostgres } from '../stack/postgres';
import { startTemporalDevServer } from '../stack/temporal-server';
import { createWorker } from '../worker/worker';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions';

const COMMUNES = Number(process.env.BENCH_COMMUNES ?? 100);
const CELLS = Number(process.env.BENCH_CELLS ?? 29);

function hierarchyCsv(): string {
  const rows = ['code,name,level,parent,members,standing_committee', 'T,Đảng bộ tỉnh Thử Nghiệm,tinh,,100000,true'];
  for (let c = 1; c <= COMMUNES; c++) {
    rows.push(`T.X${c},Đảng bộ xã số ${c},xa,T,${CELLS * 30},true`);
    for (let k = 1; k <= CELLS; k++) rows.push(`T.X${c}.C${k},Chi bộ thôn số ${k},chibo,T.X${c},30,false`);
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  process.env.TRIENKHAI_SKIP_SDK_DOWNLOAD ??= '1';
  const dir = mkdtempSync(join(tmpdir(), 'trienkhai-bench-'));
  const log = (s: string): void => console.log(`[bench] ${s}`);
  const pg = await ensurePostgres({ dataDir: join(dir, 'pg'), port: 0, log: () => undefined });
  const temporal = await startTemporalDevServer({
    dataDir: join(dir, 'temporal'),
    port: 0,
    persistent: process.env.BENCH_PERSISTENT !== '0',
    ui: false,
    searchAttributes: { ...SEARCH_ATTRIBUTES },
    log: () => undefined,
  });
  const db = connect(pg.url, { max: 20 });
  await migrateToLatest(db, { ownerUrl: pg.ownerUrl });
  const native = await NativeConnection.connect({ address: temporal.address });
  const worker = await createWorker({ connection: native, db });
  const running = worker.run();
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  try {
    const units = 1 + COMMUNES * (1 + CELLS);
    const imported = await importUnits(db, 'bench.csv', hierarchyCsv(), 'user:bench');
    log(`imported ${imported.units} units`);
    // Generous: all units share one deadline that falls after enrolment should be over.
    const deadlineS = Math.max(60, Math.ceil(units / 25));
    const t0 = Date.now();
    const r = await startRollout(
      { db, client },
      {
        resolution: '21-NQ/TW',
        resolutionDate: '2022-06-16',
        title: 'bench',
        rootUnit: 'T',
        plan: {
          id: 'bench',
          title: 'bench',
          steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', after: `PT${deadlineS}S` }, reminders: [], escalation: { tiers: 1, interval: 'P7D' } }],
        },
        rolloutId: 'bench',
      },
    );
    const count = async (q: 'units' | 'escalations'): Promise<number> => {
      const row = await sql<{ n: string }>`select count(*) as n from ${sql.table(q === 'units' ? 'rollout_units' : 'escalations')} where rollout_id = ${r.rolloutId}`.execute(db);
      return Number(row.rows[0]!.n);
    };
    let enrolled = 0;
    let last = 0;
    while (enrolled < units) {
      await new Promise((res) => setTimeout(res, 1000));
      enrolled = await count('units');
      if (Date.now() - last > 10_000) {
        last = Date.now();
        log(`enrolled ${enrolled}/${units} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
    }
    const enrolS = (Date.now() - t0) / 1000;
    log(`enrolment: ${units} units in ${enrolS.toFixed(1)} s (${(units / enrolS).toFixed(1)} units/s)`);
    const deadlineAt = t0 + deadlineS * 1000;
    if (Date.now() > deadlineAt) log('warning: enrolment outlasted the shared deadline; the mass-deadline figure below overlaps enrolment');
    let escalated = 0;
    while (escalated < units) {
      await new Promise((res) => setTimeout(res, 1000));
      escalated = await count('escalations');
    }
    const massS = (Date.now() - Math.max(deadlineAt, t0)) / 1000;
    log(`mass deadline: ${units} units overdue at one instant, all escalated within ${massS.toFixed(1)} s of it (${(units / massS).toFixed(1)} escalations/s)`);
    const events = await sql<{ n: string }>`select count(*) as n from events`.execute(db);
    log(`events recorded: ${events.rows[0]!.n}`);

    const timed = async <T>(what: string, fn: () => Promise<T>, figure: (r: T) => string): Promise<T> => {
      const t = Date.now();
      const result = await fn();
      log(`${what}: ${((Date.now() - t) / 1000).toFixed(1)} s (${figure(result)})`);
      return result;
    };
    await timed(
      'audit verify',
      () => verifyChain(db),
      (v) => `${v.events} events, ${v.ok ? 'intact' : 'NOT intact'}`,
    );
    const bundle = join(dir, 'bundle');
    await timed(
      'audit export',
      () => exportBundle({ db, client }, r.rolloutId, bundle, { keyFile: join(dir, 'key.pem') }),
      (e) => `${e.manifest.histories.length} workflow runs, ${e.manifest.log.events} events`,
    );
    await timed(
      'audit verify BUNDLE',
      () => verifyBundle(bundle),
      (v) => (v.ok ? 'intact' : 'NOT intact'),
    );
    const { histories, historiesAsOfSeq } = bundleHistories(bundle);
    await timed(
      'audit replay BUNDLE',
      () => replayHistories(histories),
      (o) => `${o.filter((x) => x.result === 'ok').length}/${o.length} replay`,
    );
    await timed(
      'audit crosscheck BUNDLE',
      async () => crosscheck(r.rolloutId, await bundleEventRows(bundle), histories, [], historiesAsOfSeq),
      (c) => `${c.mismatches.length} mismatches`,
    );
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await native.close();
    await db.destroy();
    await temporal.stop();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
