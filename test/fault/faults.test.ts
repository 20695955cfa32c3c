/**
 * Fault injection during a real rollout: a Temporal dev server (persistent, on disk), an embedded
 * PostgreSQL of this file's own (so restarting it disturbs no other test file), and workers in child
 * processes (test/helpers/worker-process.ts) that are SIGKILLed and replaced. Deadlines are real (wall
 * clock): 31 units in 4 levels, one study step due DUE_S after the start with two escalation tiers
 * TIER_S apart; a third of the units report on time, some late (after tier 1, or after both tiers), the
 * rest never. Injected:
 *
 * - a worker killed during enrolment, under on-time reports, 3 s before the deadline and amid the
 *   tier-1 escalations (each time a new worker is started at once);
 * - the Temporal dev server stopped and started again (same port, same data) while late reports are
 *   being sent;
 * - PostgreSQL stopped while the tier-2 escalations are being appended (held down until an append has
 *   been seen failing and waiting for its retry), then started again.
 *
 * Then, once every workflow is at rest, the invariants of the audit record: each unit enrolled once;
 * each overdue unit escalated exactly once per tier its plan and hierarchy give it (what each report's
 * answer says about its lateness decides which tiers are due: load only shifts categories, it cannot
 * make the test wrong); each acknowledged report recorded once, and answered as a duplicate when sent
 * again; no gap in any stream or in the chain; the chain verifies; the workflow histories cross-check
 * against the rows; the read model equals a rebuild. The escalation lag after the kills is printed.
 *
 * Timing: nothing is decided by a sleep. A fault is injected when a condition is observed (so many
 * units enrolled, a report recorded, an escalation recorded, a failed append) or at an instant relative
 * to the deadline; every wait polls with a deadline far above what it needs on an idle machine.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { sql, type Kysely } from 'kysely';
import { importUnits, startRollout, submitReport, type Deps } from '../../app/commands';
import { executeUpdateWithRetry } from '../../app/update-retry';
import { crosscheck } from '../../audit/crosscheck';
import { collectRolloutHistories } from '../../audit/histories';
import { linkedHead, verifyChain } from '../../db/audit';
import { connect } from '../../db/connect';
import type { Database } from '../../db/database';
import { DomainError } from '../../domain/errors';
import { isDatabaseUnavailable } from '../../db/errors';
import { migrateToLatest } from '../../db/migrate';
import { rebuildReadModel } from '../../db/rebuild';
import type { ReportResult, StepReportInput } from '../../domain/reports';
import { ensurePostgres, type PostgresHandle } from '../../stack/postgres';
import { startTemporalDevServer, type DevServerHandle } from '../../stack/temporal-server';
import { SEARCH_ATTRIBUTES, reportStepUpdate, rolloutWorkflowId, unitWorkflowId } from '../../workflows/definitions';
import { workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';
import { WorkerProcesses } from '../helpers/worker-process';

jest.setTimeout(600_000);

const DUE_S = 60;
const TIER_S = 30;
const R = 'faults';
const log = (line: string): void => void process.stderr.write(`[faults] ${line}\n`);

// ---- the hierarchy: P → 3 districts → 3 communes each → 2 cells each (31 units, 4 levels) ----------
interface U {
  code: string;
  level: string;
  parent: string | null;
  members: number;
  sc: boolean;
}
const UNITS: U[] = [{ code: 'P', level: 'tinh', parent: null, members: 30, sc: true }];
for (let h = 1; h <= 3; h++) {
  UNITS.push({ code: `P.H${h}`, level: 'huyen', parent: 'P', members: 10, sc: true });
  for (let x = 1; x <= 3; x++) {
    UNITS.push({ code: `P.H${h}.X${x}`, level: 'coso', parent: `P.H${h}`, members: 5, sc: true });
    for (let c = 1; c <= 2; c++) UNITS.push({ code: `P.H${h}.X${x}.C${c}`, level: 'chibo', parent: `P.H${h}.X${x}`, members: 3, sc: false });
  }
}
const CSV = ['code,name,level,parent,members,standing_committee', ...UNITS.map((u) => `${u.code},Đơn vị ${u.code},${u.level},${u.parent ?? ''},${u.members},${u.sc}`)].join('\n');
const byCode = new Map(UNITS.map((u) => [u.code, u]));

/** Tiers the plan (2) and the hierarchy give a unit: one per standing committee above it, the root told about itself once. */
function tiersOf(code: string): number {
  let committees = 0;
  for (let p = byCode.get(code)!.parent; p; p = byCode.get(p)!.parent) if (byCode.get(p)!.sc) committees++;
  return code === 'P' ? 1 : Math.min(2, committees);
}

// Who reports when (the answers decide what was on time; see expectedTiers).
const ON_TIME = UNITS.filter((u) => u.code.startsWith('P.H1')).map((u) => u.code); // 10 units: P.H1's subtree
const LATE = ['P.H2', 'P.H2.X1', 'P.H2.X1.C1', 'P.H2.X2.C1', 'P.H3.X1.C1']; // after tier 1
const VERY_LATE = ['P.H3.X3.C1', 'P.H3.X3.C2']; // after both tiers
const OUTAGE = 'P.H3'; // while PostgreSQL is down
const REPORTING = new Set([...ON_TIME, ...LATE, ...VERY_LATE, OUTAGE]);

const PLAN = {
  id: 'faults',
  title: 'Fault injection',
  steps: [
    { id: 'study', kind: 'studyConference', title: 'Học tập nghị quyết', deadline: { kind: 'afterStart', after: `PT${DUE_S}S` }, reminders: [], escalation: { tiers: 2, interval: `PT${TIER_S}S` } },
  ],
};

let dir: string;
let pg: PostgresHandle;
let pgPort: number;
let db: Kysely<Database>;
let server: DevServerHandle;
let connection: Connection | undefined;
let client: Client;
let workers: WorkerProcesses;

/** Start this file's own embedded PostgreSQL (never DATABASE_URL: it is stopped and started here). */
async function startPostgres(port: number): Promise<PostgresHandle> {
  const saved = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL;
  try {
    return await ensurePostgres({ dataDir: join(dir, 'pgdata'), port, log: (line) => log(`postgres: ${line}`) });
  } finally {
    if (saved !== undefined) process.env.DATABASE_URL = saved;
  }
}

async function startTemporal(port: number): Promise<DevServerHandle> {
  return startTemporalDevServer({
    dataDir: join(dir, 'temporal'),
    port,
    persistent: true,
    ui: false,
    searchAttributes: { ...SEARCH_ATTRIBUTES },
    log: () => undefined,
    cli: process.env.TEMPORAL_CLI_PATH ?? {},
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trienkhai-faults-'));
  pg = await startPostgres(0);
  pgPort = Number(new URL(pg.adminUrl).port);
  db = connect(pg.url, { max: 5 });
  await migrateToLatest(db, { ownerUrl: pg.ownerUrl });
  server = await startTemporal(0);
  const bundleFile = join(dir, 'workflow-bundle.js');
  writeFileSync(bundleFile, (await workflowBundle()).code);
  workers = new WorkerProcesses({ TEMPORAL_ADDRESS: server.address, DATABASE_URL: pg.url, TRIENKHAI_WORKFLOW_BUNDLE: bundleFile }, { restartOnExit: true });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
}, 300_000);

afterAll(async () => {
  await workers?.stopAll();
  await connection?.close().catch(() => undefined);
  await db?.destroy().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await pg?.stop().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** A query for polling: while PostgreSQL is down it answers undefined instead of failing the wait. */
async function q<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    if (isDatabaseUnavailable(e)) return undefined;
    throw e;
  }
}
const count = (type: string): Promise<number | undefined> =>
  q(async () => Number((await sql<{ n: string }>`select count(*) as n from events where rollout_id = ${R} and type = ${type}`.execute(db)).rows[0]!.n));
const escalatedTier = (tier: number): Promise<number | undefined> =>
  q(async () => Number((await sql<{ n: string }>`select count(*) as n from events where rollout_id = ${R} and type = 'Escalated' and (payload->>'tier')::int = ${tier}`.execute(db)).rows[0]!.n));

/** Faults of work running in the background (reports being sent): a wait fails with the first at once. */
const background: unknown[] = [];
function track<T>(p: Promise<T>): Promise<T> {
  p.catch((e: unknown) => void background.push(e));
  return p;
}
function wait<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs: number): Promise<T> {
  return until(
    what,
    async () => {
      if (background.length) throw background[0];
      return probe();
    },
    timeoutMs,
    everyMs,
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function untilInstant(at: number): Promise<void> {
  while (Date.now() < at) await sleep(Math.min(250, at - Date.now()));
}

// ---- reports, sent as a client does: again (same report ID) until answered ---------------------------
/** Every answer each report got, in order (a resent report may be answered as a duplicate). */
const answers = new Map<string, ReportResult[]>();
let resends = 0;
const todayInVietnam = (): string => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());
const reportOf = (code: string): StepReportInput => ({
  reportId: `${code}:study`,
  unitCode: code,
  stepId: 'study',
  kind: 'studyConference',
  sessionDate: todayInVietnam(),
  attended: byCode.get(code)!.members,
  makeup: false,
  reportedBy: 'faults.test',
});

async function report(code: string, timeoutMs = 240_000): Promise<ReportResult> {
  const deps: Deps = { db, client };
  const input = reportOf(code);
  const end = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const a = await submitReport(deps, R, input);
      answers.set(input.reportId, [...(answers.get(input.reportId) ?? []), a]);
      return a;
    } catch (e) {
      // Refused input is a bug in this test, not a fault to ride out.
      if (e instanceof DomainError) throw e;
      if (Date.now() > end) throw new Error(`report ${input.reportId} not answered within ${timeoutMs / 1000} s: ${e instanceof Error ? e.message : String(e)}`);
      resends++;
      await sleep(Math.min(5_000, 500 * attempt));
    }
  }
}

/** The first answer of a unit's report (undefined: it never reported). */
const answerOf = (code: string): ReportResult | undefined => answers.get(`${code}:study`)?.[0];

/**
 * The tiers due to a unit, from its report's answer: every tier its hierarchy gives it if it never
 * reported, none if it was on time, and tier k if it was late by more than k − 1 intervals. Within 2 s
 * of a tier's instant either is right (the timer and the report are decided in whichever order the
 * workflow saw them); designed timings stay far from those instants.
 */
function expectedTiers(code: string): { sure: number[]; maybe: number[] } {
  const a = answerOf(code);
  const all = Array.from({ length: tiersOf(code) }, (_, i) => i + 1);
  if (a && !a.lateByMs) return { sure: [], maybe: [] };
  if (!a) return { sure: all, maybe: [] };
  const sure: number[] = [];
  const maybe: number[] = [];
  for (const k of all) {
    const at = (k - 1) * TIER_S * 1000;
    if (a.lateByMs! > at + 2_000) sure.push(k);
    else if (a.lateByMs! > at - 2_000) maybe.push(k);
  }
  return { sure, maybe };
}

/** Every workflow of the rollout at rest: no activity pending, no workflow task pending (closed ones are at rest). */
async function atRest(): Promise<boolean> {
  const ids = [rolloutWorkflowId(R), ...UNITS.map((u) => unitWorkflowId(R, u.code))];
  for (const id of ids) {
    const d = await client.workflow.getHandle(id).describe();
    if ((d.raw.pendingActivities?.length ?? 0) > 0 || d.raw.pendingWorkflowTask) return false;
  }
  return true;
}

/** Some append of the rollout has failed at least once and waits for its retry (seen through Temporal, not PostgreSQL). */
async function aFailedAppend(codes: string[]): Promise<string | undefined> {
  for (const code of codes) {
    const d = await client.workflow.getHandle(unitWorkflowId(R, code)).describe();
    const a = d.raw.pendingActivities?.find((x) => x.activityType?.name === 'appendEvents' && (x.attempt ?? 0) >= 2);
    if (a) return `${code}: appendEvents attempt ${a.attempt} (${a.lastFailure?.message ?? 'failed'})`;
  }
  return undefined;
}

test('worker kills, a Temporal restart and a PostgreSQL restart during a rollout: every fact recorded once, the record intact', async () => {
  const t0 = Date.now();
  const mark = (what: string): void => log(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${what}`);
  await workers.start();
  mark('worker #1 up');
  await importUnits(db, 'faults.csv', CSV, 'user:test');
  const started = await startRollout(
    { db, client },
    { resolution: '21-NQ/TW', resolutionDate: '2022-06-16', title: 'Nghị quyết 21', rootUnit: 'P', plan: PLAN, rolloutId: R, requestedBy: 'user:test' },
  );
  expect(started).toMatchObject({ rolloutId: R, units: UNITS.length, alreadyStarted: false });
  mark('rollout started');

  // 1. A worker killed during enrolment.
  await wait('a few units enrolled', async () => ((await count('UnitEnrolled')) ?? 0) >= 4, 120_000, 100);
  mark(`kill worker during enrolment (${await count('UnitEnrolled')} of ${UNITS.length} enrolled)`);
  await workers.restart();
  await wait('every unit enrolled', async () => (await count('UnitEnrolled')) === UNITS.length, 180_000, 250);
  mark('every unit enrolled');
  const due = Date.parse(
    (await sql<{ due: string }>`select payload->'steps'->0->>'dueAt' as due from events where rollout_id = ${R} and type = 'UnitEnrolled' and unit_code = 'P'`.execute(db)).rows[0]!.due,
  );
  log(`deadline ${new Date(due).toISOString()} (${((due - t0) / 1000).toFixed(1)} s after the test began); tier 2 at +${TIER_S} s`);

  // 2. A worker killed under the on-time reports (once the first of them is recorded).
  const onTime = track(Promise.all(ON_TIME.map((c) => report(c))));
  await wait('an on-time report recorded', async () => ((await count('StudySessionReported')) ?? 0) >= 1, 120_000, 50);
  mark('kill worker under the on-time reports');
  await workers.restart();
  await onTime;
  mark(`on-time reports answered (${ON_TIME.filter((c) => !answerOf(c)?.lateByMs).length} of ${ON_TIME.length} on time)`);

  // 3. A worker killed 3 s before the deadline, and 4. again as soon as the first escalation is recorded.
  await untilInstant(due - 3_000);
  mark('kill worker 3 s before the deadline');
  await workers.restart();
  const upAgain = Date.now();
  mark('worker up again');
  await wait('the first escalation recorded', async () => ((await escalatedTier(1)) ?? 0) >= 1, 120_000, 50);
  mark('kill worker amid the tier-1 escalations');
  await workers.restart();
  const overdue = UNITS.filter((u) => expectedTiers(u.code).sure.includes(1)).map((u) => u.code);
  await wait('every tier-1 escalation recorded', async () => ((await escalatedTier(1)) ?? 0) >= overdue.length, 180_000, 250);
  mark(`every tier-1 escalation recorded (${overdue.length})`);
  const lag = (
    await sql<{ first: string; last: string; firstOccurred: string; lastOccurred: string }>`
      select min(extract(epoch from recorded_at) * 1000 - extract(epoch from (payload->>'dueAt')::timestamptz) * 1000) as first,
             max(extract(epoch from recorded_at) * 1000 - extract(epoch from (payload->>'dueAt')::timestamptz) * 1000) as last,
             min(extract(epoch from occurred_at) * 1000 - extract(epoch from (payload->>'dueAt')::timestamptz) * 1000) as "firstOccurred",
             max(extract(epoch from occurred_at) * 1000 - extract(epoch from (payload->>'dueAt')::timestamptz) * 1000) as "lastOccurred"
        from events where rollout_id = ${R} and type = 'Escalated' and (payload->>'tier')::int = 1`.execute(db)
  ).rows[0]!;
  const s = (ms: string | number): string => `${(Number(ms) / 1000).toFixed(1)} s`;
  log(
    `ESCALATION LAG (tier 1, deadline → recorded_at): first ${s(lag.first)}, last ${s(lag.last)} (occurred_at: ${s(lag.firstOccurred)} … ${s(lag.lastOccurred)}); ` +
      `worker killed at −3 s and up again at ${s(upAgain - due)}, killed again amid them`,
  );

  // 5. Late reports sent while the Temporal server is down; it is started again (same port, same data).
  const port = Number(server.address.split(':').pop());
  mark('stop Temporal');
  await server.stop();
  const late = track(Promise.all(LATE.map((c) => report(c))));
  server = await startTemporal(port);
  mark('Temporal up again');
  await late;
  mark(`late reports answered (late by ${LATE.map((c) => s(answerOf(c)?.lateByMs ?? 0)).join(', ')})`);

  // 6. PostgreSQL stopped just before tier 2 and held down until appends have failed: a report sent
  //    straight to a unit's workflow, as a client that does not probe PostgreSQL first would (P.H3 has
  //    one tier: its lateness decides nothing), and, unless this step came too late for them, the
  //    tier-2 escalations.
  await untilInstant(due + TIER_S * 1000 - 1_000);
  const tier2Before = (await escalatedTier(2)) ?? 0;
  mark(`stop PostgreSQL (${tier2Before} tier-2 escalations recorded before)`);
  await pg.stop();
  const outage = executeUpdateWithRetry(client.workflow.getHandle(unitWorkflowId(R, OUTAGE)), reportStepUpdate, [reportOf(OUTAGE)]).then(
    (a) => void answers.set(a.reportId, [a]),
    () => undefined, // answered below, by sending it again
  );
  const tier2Units = UNITS.filter((u) => tiersOf(u.code) >= 2).map((u) => u.code);
  const failedReport = await wait("the report's append failing while PostgreSQL is down", () => aFailedAppend([OUTAGE]), 120_000, 250);
  const failedEscalation =
    tier2Before < UNITS.filter((u) => !REPORTING.has(u.code) && tiersOf(u.code) >= 2).length
      ? await wait("a tier-2 escalation's append failing while PostgreSQL is down", () => aFailedAppend(tier2Units), 120_000, 250)
      : 'none (every tier-2 escalation was recorded before PostgreSQL stopped)';
  mark(`seen: ${failedReport}; ${failedEscalation}`);
  pg = await startPostgres(pgPort);
  mark('PostgreSQL up again');
  await outage;
  if (!answerOf(OUTAGE)) await report(OUTAGE);
  const tier2 = UNITS.filter((u) => expectedTiers(u.code).sure.includes(2)).length;
  await wait('the tier-2 escalations of the units that never reported recorded', async () => ((await escalatedTier(2)) ?? 0) >= tier2, 180_000, 250);
  mark(`tier-2 escalations recorded (${await escalatedTier(2)})`);

  // 7. Reports after both tiers.
  await Promise.all(VERY_LATE.map((c) => report(c)));
  mark('reports after both tiers answered');

  // ---- settled: every workflow at rest ------------------------------------------------------------------
  await wait('every workflow at rest', () => atRest(), 180_000, 500);
  mark('every workflow at rest');

  // Each unit enrolled exactly once.
  const enrolled = await sql<{ unit: string; n: string }>`select unit_code as unit, count(*) as n from events where rollout_id = ${R} and type = 'UnitEnrolled' group by unit_code`.execute(db);
  expect(Object.fromEntries(enrolled.rows.map((r) => [r.unit, Number(r.n)]))).toEqual(Object.fromEntries(UNITS.map((u) => [u.code, 1])));

  // Each overdue unit escalated exactly once per tier due to it; no escalation ID twice.
  const escalations = await sql<{ id: string; unit: string; tier: number; n: string }>`
    select payload->>'escalationId' as id, unit_code as unit, (payload->>'tier')::int as tier, count(*) as n
      from events where rollout_id = ${R} and type = 'Escalated' group by 1, 2, 3`.execute(db);
  expect(escalations.rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
  for (const u of UNITS) {
    const got = escalations.rows.filter((r) => r.unit === u.code).map((r) => Number(r.tier));
    const { sure, maybe } = expectedTiers(u.code);
    expect({ unit: u.code, tiers: got.filter((k) => !maybe.includes(k)).sort() }).toEqual({ unit: u.code, tiers: sure });
  }
  const missed = await sql<{ unit: string; n: string }>`select unit_code as unit, count(*) as n from events where rollout_id = ${R} and type = 'DeadlineMissed' group by unit_code`.execute(db);
  // The deadline is missed when tier 1 is due (the same instant); once at most.
  expect(missed.rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
  for (const u of UNITS) {
    const { sure, maybe } = expectedTiers(u.code);
    if (maybe.includes(1)) continue;
    expect({ unit: u.code, missed: missed.rows.some((r) => r.unit === u.code) }).toEqual({ unit: u.code, missed: sure.includes(1) });
  }

  // Each acknowledged report recorded exactly once; sent again, each is answered as a duplicate and adds nothing.
  const recorded = async (): Promise<Record<string, number>> =>
    Object.fromEntries(
      (await sql<{ id: string; n: string }>`select payload->>'reportId' as id, count(*) as n from events where rollout_id = ${R} and type = 'StudySessionReported' group by 1`.execute(db)).rows.map(
        (r) => [r.id, Number(r.n)],
      ),
    );
  const acknowledged = Object.fromEntries([...answers.keys()].map((id) => [id, 1]));
  expect(Object.keys(acknowledged)).toHaveLength(REPORTING.size);
  expect(await recorded()).toEqual(acknowledged);
  for (const [id, list] of answers) {
    expect({ id, status: list[0]!.status }).toEqual({ id, status: 'done' });
    // Resent after an error, a report that had got through is answered as a duplicate: never twice as new.
    expect({ id, fresh: list.filter((a) => !a.duplicate).length <= 1 }).toEqual({ id, fresh: true });
  }
  for (const code of REPORTING) {
    const again = await submitReport({ db, client }, R, reportOf(code));
    expect(again).toMatchObject({ reportId: `${code}:study`, duplicate: true, status: 'done' });
  }
  expect(await recorded()).toEqual(acknowledged);

  // No gap in any stream, none in the chain; the chain verifies.
  const streams = await sql<{
    stream: string;
    n: string;
    lo: number;
    hi: number;
  }>`select stream_id as stream, count(*) as n, min(stream_seq) as lo, max(stream_seq) as hi from events group by stream_id`.execute(db);
  expect(streams.rows.filter((r) => Number(r.lo) !== 1 || Number(r.hi) !== Number(r.n))).toEqual([]);
  const chain = (await sql<{ n: string; lo: string; hi: string }>`select count(*) as n, min(chain_seq) as lo, max(chain_seq) as hi from events`.execute(db)).rows[0]!;
  expect([Number(chain.lo), Number(chain.hi)]).toEqual([1, Number(chain.n)]);
  const verified = await verifyChain(db);
  expect(verified.problems).toEqual([]);
  expect(verified.ok).toBe(true);

  // The workflow histories and the rows agree (histories first, then the rows: see audit/crosscheck.ts).
  const asOf = Number((await linkedHead(db)).seq);
  const histories = await collectRolloutHistories({ db, client }, R);
  const rows = await db.selectFrom('events').selectAll().where('rollout_id', '=', R).orderBy('position').execute();
  const check = crosscheck(R, rows, histories.runs, histories.gone, asOf);
  expect(check.mismatches).toEqual([]);
  expect(check).toMatchObject({ ok: true, inFlight: 0, later: 0, uncheckable: 0 });
  expect(check.counts.escalations).toEqual({ history: escalations.rows.length, log: escalations.rows.length, matched: escalations.rows.length });

  // The read model is what the events project to.
  const rebuilt = await rebuildReadModel(db);
  expect(rebuilt.equal).toBe(true);

  expect(workers.unexpectedExits).toEqual([]);
  mark(`done: ${workers.started} workers started (4 killed), ${rows.length} events, ${escalations.rows.length} escalations, ${resends} report(s) resent after an error`);
});
