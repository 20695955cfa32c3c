/**
 * End to end through the CLI, as a user runs it: a real Temporal dev server, real PostgreSQL, a real
 * worker, and `node bin/trienkhai.js` in a child process. Deadlines are real (wall clock), so every
 * wait polls for its condition with a generous deadline, and the plans leave wide margins: what must
 * happen before a timer has tens of seconds, and no timer the test does not wait for (a later
 * escalation tier, an extended deadline) falls within the test's run.
 *
 * Each test has its own stack — database, dev server, worker, data folder — so none depends on
 * another's rollout, bundle or files, and each can run alone (`-t`).
 */
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { exportBundle, verifyBundle } from '../../audit/bundle';
import { importUnits } from '../../app/commands';
import type { DevServerHandle } from '../../stack/temporal-server';
import { createWorker } from '../../worker/worker';
import { asSuperuserWithoutTriggers, freshDatabase, type TestDb } from '../helpers/db';
import { sql } from 'kysely';
import { rolloutProgress } from '../../db/queries';
import { testDevServer, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';
import { calendarDays, officialVietnamCalendar } from '../../domain/calendar';
import { addWorkingDays, localDateOf } from '../../domain/time';
import { eventOfRow, rowLink, type ChainRow } from '../../db/audit';
import { merkleRoot, recomputeLinks } from '../../db/checkpoints';
import { GENESIS_HASH, canonicalJson, contentHash } from '../../db/links';

Runtime.install({ logger: new DefaultLogger('WARN') });

const BIN = join(__dirname, '..', '..', 'bin', 'trienkhai.js');
// The current test's stack (see beforeEach).
let t: TestDb;
let server: DevServerHandle;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, DATABASE_URL: t.url, TEMPORAL_ADDRESS: server.address, TRIENKHAI_DATA_DIR: dir, TRIENKHAI_LANG: 'en' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function json<T>(...args: string[]): Promise<T> {
  const r = await cli(...args, '--json');
  if (r.code !== 0) throw new Error(`trienkhai ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

// A stack per test: a rollout's timers keep running after its test, and a worker serves one
// database, so a test sharing the server would have the previous test's workflows write into its record.
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trienkhai-e2e-'));
  t = await freshDatabase();
  server = await testDevServer(join(dir, 'temporal'));
  connection = await NativeConnection.connect({ address: server.address });
  worker = await createWorker({ connection, db: t.db, workflowBundle: await workflowBundle() });
  running = worker.run();
}, 180_000);

afterEach(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await server?.stop();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

const HIERARCHY = `code,name,level,parent,members,standing_committee
P,Đảng bộ tỉnh Thử Nghiệm,tinh,,30,true
P.H1,Đảng bộ huyện Một,huyen,P,10,true
P.H1.X1,Đảng bộ xã Hòa Bình,coso,P.H1,5,true
P.H1.X1.C1,Chi bộ thôn Đông,chibo,P.H1.X1,3,false
P.H2,Đảng bộ huyện Hai,huyen,P,8,có
`;

// The study deadline of the CLI story: P and P.H1 report on time, the others do not. Its reminder
// goes out REMIND_S before it, so the on-time reports have DUE_S − REMIND_S seconds (enrolment
// and three CLI calls); tier 2 comes an hour after the deadline, long after the test is over.
const DUE_S = 60;
const REMIND_S = 20;

test('import, start, report, escalate, extend and complete late — through the CLI', async () => {
  // A bad file is refused with its line numbers, and nothing is recorded.
  writeFileSync(join(dir, 'bad.csv'), 'code,name,level,parent,members,standing_committee\nA,Tỉnh A,tinh,,10,true\nA.1,Huyện,huyen,A,mười,true\nA.2,,huyen,ZZ,5,true\n');
  const bad = await cli('units', 'import', join(dir, 'bad.csv'));
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/line 3, column members/);
  expect(bad.stderr).toMatch(/line 4, column name/);
  expect(bad.stderr).toMatch(/line 4, column parent/);
  expect(bad.stderr).toMatch(/Nothing was recorded/);
  expect(await t.db.selectFrom('hierarchy_versions').selectAll().execute()).toHaveLength(0);

  writeFileSync(join(dir, 'units.csv'), HIERARCHY);
  const imported = await cli('units', 'import', join(dir, 'units.csv'));
  expect(imported).toMatchObject({ code: 0 });
  expect(imported.stdout).toMatch(/Imported 5 units as hierarchy version 1/);

  writeFileSync(
    join(dir, 'plan.json'),
    JSON.stringify({
      id: 'e2e',
      title: 'Kiểm thử đầu cuối',
      steps: [
        {
          id: 'study',
          kind: 'studyConference',
          title: 'Học tập nghị quyết',
          deadline: { kind: 'afterStart', after: `PT${DUE_S}S` },
          reminders: [`PT${REMIND_S}S`],
          escalation: { tiers: 2, interval: 'PT1H' },
        },
      ],
    }),
  );
  // A bad resolution number is refused before anything starts.
  const badStart = await cli('rollout', 'start', '--resolution', '21-XX/TW', '--date', '2022-06-16', '--title', 'x', '--root', 'P', '--plan', join(dir, 'plan.json'));
  expect(badStart.code).toBe(2);
  expect(badStart.stderr).toMatch(/--resolution: "21-XX\/TW": unknown document type "XX"/);
  expect(await t.db.selectFrom('rollouts').selectAll().execute()).toHaveLength(0);

  const start = await json<{ rolloutId: string; units: number }>(
    'rollout',
    'start',
    '--resolution',
    'Số: 21-NQ/TƯ',
    '--date',
    '2022-06-16',
    '--title',
    'Nghị quyết 21',
    '--root',
    'P',
    '--plan',
    join(dir, 'plan.json'),
  );
  expect(start).toMatchObject({ rolloutId: '21-NQ-TW.2022-06-16.P', units: 5 });
  const R = start.rolloutId;
  // A repeated start is harmless.
  expect((await cli('rollout', 'start', '--resolution', '21-NQ/TW', '--date', '2022-06-16', '--title', 'Nghị quyết 21', '--root', 'P', '--plan', join(dir, 'plan.json'))).stdout).toMatch(
    /already started/,
  );

  await until('all units enrolled', async () => ((await json<{ counts: { units: number } }>('rollout', 'status', R)).counts.units === 5 ? true : undefined));
  const onTimeP = await cli('report', R, '--unit', 'P', '--step', 'study', '--attended', '30');
  expect(onTimeP.stdout).toMatch(/step study: done/);
  expect(onTimeP.stdout).not.toMatch(/late by/);
  expect((await cli('report', R, '--unit', 'P.H1', '--step', 'study', '--attended', '10', '--id', 'h1-study')).code).toBe(0);
  // What follows assumes both reports came before the reminder; say so plainly if this machine was slower than that margin.
  const dueAt = new Date(
    (await t.db.selectFrom('unit_steps').select('original_due_at').where('rollout_id', '=', R).where('unit_code', '=', 'P.H1').executeTakeFirstOrThrow()).original_due_at!,
  ).getTime();
  const onTime = await t.db.selectFrom('events').select(['unit_code', 'occurred_at']).where('rollout_id', '=', R).where('type', '=', 'StepCompleted').execute();
  expect(onTime.map((e) => e.unit_code).sort()).toEqual(['P', 'P.H1']);
  for (const e of onTime) {
    if (new Date(e.occurred_at).getTime() >= dueAt - REMIND_S * 1000)
      throw new Error(
        `${e.unit_code} reported at ${new Date(e.occurred_at).toISOString()}, after the reminder (${new Date(dueAt - REMIND_S * 1000).toISOString()}): the ${DUE_S - REMIND_S} s margin was not enough on this machine`,
      );
  }
  // The same report ID again counts once.
  expect((await cli('report', R, '--unit', 'P.H1', '--step', 'study', '--attended', '10', '--id', 'h1-study')).stdout).toMatch(/Already recorded/);

  // Bad reports: rejected with the option named, exit code 2, nothing recorded.
  // (Timers may fire meanwhile — the reminders are due — so count what users recorded.)
  const recorded = () => t.db.selectFrom('events').select('event_id').where('actor', '<>', 'system').execute();
  const before = await recorded();
  const tooMany = await cli('report', R, '--unit', 'P.H2', '--step', 'study', '--attended', '9');
  expect(tooMany.code).toBe(2);
  expect(tooMany.stderr).toMatch(/--attended: 9 attendees is more than the 8 members who have not yet studied/);
  const badDate = await cli('report', R, '--unit', 'P.H2', '--step', 'study', '--attended', '2', '--date', '2022-02-30');
  expect(badDate.code).toBe(2);
  expect(badDate.stderr).toMatch(/--date/);
  const stranger = await cli('report', R, '--unit', 'NOPE', '--step', 'study', '--attended', '1');
  expect(stranger.code).toBe(2);
  expect(stranger.stderr).toMatch(/not part of rollout/);
  expect((await recorded()).length).toBe(before.length);

  // The deadline passes: the timers escalate each overdue unit to the nearest standing committee above it.
  // The CLI's --json is the API's view: camelCase, one instant format, a page.
  type Esc = {
    escalationId: string;
    unitCode: string;
    recipient: { code: string };
    tier: number;
    status: string;
    resolution: string | null;
    overdueMs: number;
    acknowledgedBy: string | null;
    directives: number;
  };
  const escalations = async (...args: string[]): Promise<Esc[]> => (await json<{ items: Esc[]; page: number; total: number }>('escalations', ...args)).items;
  const open = await until(
    'tier-1 escalations',
    async () => {
      const rows = await escalations('--rollout', R);
      return rows.filter((r) => r.tier === 1).length === 3 ? rows : undefined;
    },
    DUE_S * 1000 + 120_000,
  );
  expect(open.every((r) => r.tier === 1)).toBe(true); // tier 2 is an hour away
  expect(
    open
      .filter((r) => r.tier === 1)
      .map((r) => `${r.unitCode}→${r.recipient.code}`)
      .sort(),
  ).toEqual(['P.H1.X1.C1→P.H1.X1', 'P.H1.X1→P.H1', 'P.H2→P']);
  const reminded = await t.db.selectFrom('events').select('unit_code').where('type', '=', 'ReminderSent').execute();
  expect(reminded.map((r) => r.unit_code).sort()).toEqual(['P.H1.X1', 'P.H1.X1.C1', 'P.H2']);
  // The committee's inbox.
  expect((await escalations('--recipient', 'P')).map((r) => r.unitCode)).toEqual(['P.H2']);
  // Only a committee above the unit may extend; P.H1 extends its commune by an hour (so the new deadline does not pass during the test).
  const wrong = await cli('extend', R, '--unit', 'P.H1.X1', '--step', 'study', '--committee', 'P.H2', '--until', new Date(Date.now() + 3600_000).toISOString(), '--reason', 'Mưa bão');
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toMatch(/--committee: P.H2 is not a standing committee above P.H1.X1/);
  const ext = await cli(
    'extend',
    R,
    '--unit',
    'P.H1.X1',
    '--step',
    'study',
    '--committee',
    'P.H1',
    '--until',
    new Date(Date.now() + 3600_000).toISOString(),
    '--reason',
    'Mưa bão',
    '--decision',
    'Gia hạn 1 giờ',
  );
  expect(ext.code).toBe(0);
  expect(ext.stdout).toMatch(/1 open escalation\(s\) resolved/);

  // A late report completes the step, resolves the escalation and records how late it was.
  const late = await cli('report', R, '--unit', 'P.H2', '--step', 'study', '--attended', '8');
  expect(late.stdout).toMatch(/late by/);
  const all = await escalations('--rollout', R, '--status', 'all');
  const h2 = all.filter((r) => r.unitCode === 'P.H2');
  expect(h2.every((r) => r.status === 'resolved' && r.resolution === 'completed' && r.overdueMs > 0)).toBe(true);
  expect(all.find((r) => r.unitCode === 'P.H1.X1' && r.tier === 1)).toMatchObject({ status: 'resolved', resolution: 'extended' });

  // The commune P.H1.X1 acknowledges its cell's escalation and directs it; only the committee it is
  // addressed to may, and the acknowledgement only once. It stays open (the cell has not studied).
  const cellEsc = open.find((r) => r.unitCode === 'P.H1.X1.C1' && r.tier === 1)!.escalationId;
  const notTheirs = await cli('escalations', 'acknowledge', cellEsc, '--committee', 'P.H1');
  expect(notTheirs.code).toBe(2);
  expect(notTheirs.stderr).toMatch(/--committee: escalation .* is addressed to P\.H1\.X1, not P\.H1/);
  expect((await cli('escalations', 'acknowledge', cellEsc, '--committee', 'P.H1.X1', '--note', 'Đã tiếp nhận')).stdout).toMatch(/acknowledged \(step study\)/);
  const twice = await cli('escalations', 'acknowledge', cellEsc, '--committee', 'P.H1.X1');
  expect(twice.code).toBe(2);
  expect(twice.stderr).toMatch(/already been acknowledged/);
  const badRespond = await cli('escalations', 'direct', cellEsc, '--committee', 'P.H1.X1', '--directive', 'Học bù', '--respond-by', '2099-02-30');
  expect(badRespond.code).toBe(2);
  expect(badRespond.stderr).toMatch(/--respond-by/);
  expect((await cli('escalations', 'direct', cellEsc, '--committee', 'P.H1.X1', '--directive', 'Tổ chức học bù ngay', '--respond-by', '2099-01-15')).code).toBe(0);
  expect((await escalations('--recipient', 'P.H1.X1'))[0]).toMatchObject({ escalationId: cellEsc, status: 'open', acknowledgedBy: 'committee:P.H1.X1', directives: 1 });

  const unit = await json<{ steps: Array<{ stepKey: string; status: string; attended: number; lateByMs: number; completedAt: string }>; escalations: Esc[] }>('rollout', 'status', R, '--unit', 'P.H2');
  expect(unit.steps[0]).toMatchObject({ stepKey: 'study', status: 'done', attended: 8 });
  expect(unit.steps[0]!.lateByMs).toBeGreaterThan(0);
  expect(unit.steps[0]!.completedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+07:00$/);
  expect(unit.escalations.map((e) => e.unitCode)).toEqual(h2.map(() => 'P.H2'));

  // The progress counters the projection keeps agree with a recount of the read model's step rows.
  const counters = (await rolloutProgress(t.db, R, new Date())).map(({ overdue: _o, ...c }) => c);
  const recount = await sql<{ level: string; stepId: string; kind: string; units: number; done: number; doneLate: number; open: number; waiting: number; attended: number; members: number }>`
    select u.level, s.step_id as "stepId", min(s.kind) as kind, count(*)::int as units,
      (count(*) filter (where s.status = 'done'))::int as done, (count(*) filter (where s.status = 'done' and s.late_by_ms > 0))::int as "doneLate",
      (count(*) filter (where s.status = 'open'))::int as open, (count(*) filter (where s.status = 'waiting'))::int as waiting,
      sum(s.attended)::int as attended, sum(u.members)::int as members
    from unit_steps s join rollout_units u on u.rollout_id = s.rollout_id and u.unit_code = s.unit_code
    where s.rollout_id = ${R} group by u.level, s.step_id order by min(u.depth), s.step_id`.execute(t.db);
  expect(counters).toEqual(recount.rows);
  expect(counters.find((c) => c.level === 'huyen')).toMatchObject({ units: 2, done: 2, doneLate: 1, attended: 18, members: 18 });

  // As of an instant: folded from the events up to it, without touching the live tables.
  type Status = { counts: { units: number; openEscalations: number }; progress: Array<{ level: string; done: number; overdue: number }> };
  // Instants taken from the record itself: just before the first escalation, and just after the last tier-1 one.
  const escalatedAt = (await t.db.selectFrom('events').select('occurred_at').where('rollout_id', '=', R).where('type', '=', 'Escalated').orderBy('occurred_at').execute()).map((r) =>
    new Date(r.occurred_at).getTime(),
  );
  const huyenDoneBefore = async (at: number) =>
    (await t.db.selectFrom('events').select('unit_code').where('type', '=', 'StepCompleted').where('unit_code', 'in', ['P.H1', 'P.H2']).where('occurred_at', '<', new Date(at)).execute()).length;
  const due = new Date(
    (await t.db.selectFrom('unit_steps').select('original_due_at').where('rollout_id', '=', R).where('unit_code', '=', 'P.H2').executeTakeFirstOrThrow()).original_due_at!,
  ).getTime();
  expect(escalatedAt[0]!).toBeGreaterThan(due);
  const early = await json<Status>('audit', 'as-of', R, new Date(due).toISOString());
  expect(early.counts.openEscalations).toBe(0);
  expect(early.progress.find((p) => p.level === 'huyen')).toMatchObject({ done: await huyenDoneBefore(due), overdue: 0 });
  const later = await json<Status>('audit', 'as-of', R, new Date(escalatedAt[2]! + 1).toISOString());
  expect(later.counts.openEscalations).toBeGreaterThanOrEqual(3);
  expect(later.progress.find((p) => p.level === 'chibo')).toMatchObject({ overdue: 1 });
  // Timers may still fire meanwhile (escalations only grow now), so compare what no longer changes.
  const stable = (x: Status) => ({ units: x.counts.units, done: x.progress.map((p) => `${p.level}:${p.done}`) });
  const live = await json<Status>('rollout', 'status', R);
  const now = await json<Status>('audit', 'as-of', R, new Date(Date.now() + 1000).toISOString());
  expect(stable(now)).toEqual(stable(live));
  const after = await json<Status>('rollout', 'status', R);
  expect(stable(after)).toEqual(stable(live));
  expect(after.counts.openEscalations).toBeGreaterThanOrEqual(live.counts.openEscalations);

  // The timeline tells a unit's story: escalated to whom, completed how late, by whom.
  const story = await cli('audit', 'timeline', R, '--unit', 'P.H2', '--lang', 'en');
  expect(story.code).toBe(0);
  expect(story.stdout).toMatch(/Escalated to the standing committee of Đảng bộ tỉnh Thử Nghiệm \(P\), tier 1, for study/);
  expect(story.stdout).toMatch(/Completed study, \d+ seconds? late; 1 escalation\(s\) resolved\s+— unit P\.H2/);
  const storyVi = await cli('audit', 'timeline', R, '--unit', 'P.H1.X1', '--lang', 'vi');
  expect(storyVi.stdout).toMatch(/P\.H1 gia hạn bước study .* Lý do: Mưa bão\. Quyết định: Gia hạn 1 giờ\s+— Ban Thường vụ P\.H1/);

  // The read model is a function of the events: rebuilt from them, it is identical.
  const rebuilt = await cli('audit', 'rebuild');
  expect(rebuilt.code).toBe(0);
  expect(rebuilt.stdout).toMatch(/The rebuilt read model is identical to the live one/);
  const [, digestBefore, digestAfter] = /before: ([0-9a-f]{64})\n\s+after:  ([0-9a-f]{64})/.exec(rebuilt.stdout) ?? [];
  expect(digestBefore).toBeDefined();
  expect(digestAfter).toBe(digestBefore);
  // A read model that drifted (here: a row changed by hand) is detected and replaced by the derived one.
  await sql`update unit_steps set attended = 0 where unit_code = 'P.H2'`.execute(t.db);
  const drifted = await cli('audit', 'rebuild');
  expect(drifted.code).toBe(3);
  expect(drifted.stdout).toMatch(/DIFFERS[\s\S]*unit_steps: 5 rows before, 5 after/);
  expect((await cli('audit', 'rebuild')).code).toBe(0);
  expect((await t.db.selectFrom('unit_steps').select('attended').where('unit_code', '=', 'P.H2').executeTakeFirstOrThrow()).attended).toBe(8);

  // The histories and the log agree; the bundle is exported while the record is intact (checked offline below).
  const agree = await cli('audit', 'crosscheck', R);
  expect(agree.stdout).toMatch(/Every event in the histories has its row, and every row its history event/);
  expect(agree.code).toBe(0);
  const exported = await cli('audit', 'export', R, join(dir, 'bundle'));
  expect(exported.stderr).toMatch(/fetching the workflow histories of 5 unit\(s\)/);
  expect(exported.stdout).toMatch(new RegExp(`Exported rollout ${R} to .*: \\d+ events \\(\\d+ of this rollout\\), \\d+ checkpoint\\(s\\), \\d+ workflow run\\(s\\)`));
  expect(exported.code).toBe(0);
  expect((await cli('audit', 'export', R, join(dir, 'bundle'))).code).toBe(2); // never into a non-empty folder

  // The audit record verifies; a row edited behind the application's back is named, with exit code 3.
  const intact = await cli('audit', 'verify');
  expect(intact.code).toBe(0);
  expect(intact.stdout).toMatch(/The audit record is intact: \d+ events/);
  const saved = join(dir, 'checkpoint.json');
  const cut = await cli('audit', 'checkpoint', '--out', saved);
  expect(cut.code).toBe(0);
  expect((await cli('audit', 'verify', '--from-checkpoint', saved)).stdout).toMatch(/It extends the checkpoint/);
  const victim = await t.db.selectFrom('events').select(['chain_seq', 'event_id', 'payload']).where('type', '=', 'StudySessionReported').orderBy('chain_seq').executeTakeFirstOrThrow();
  await asSuperuserWithoutTriggers(t.db, (conn) => sql`update events set payload = jsonb_set(payload, '{attended}', '1') where chain_seq = ${victim.chain_seq}`.execute(conn));
  const tampered = await cli('audit', 'verify');
  expect(tampered.code).toBe(3);
  expect(tampered.stdout).toContain(`[edited] event #${victim.chain_seq} (${victim.event_id}) was edited`);
  const fromCheckpoint = await cli('audit', 'verify', '--from-checkpoint', saved);
  expect(fromCheckpoint.code).toBe(3);
  expect(fromCheckpoint.stdout).toMatch(/does NOT extend the checkpoint/);
  // The edited row no longer matches what its workflow recorded in Temporal's history.
  const disagree = await cli('audit', 'crosscheck', R);
  expect(disagree.code).toBe(3);
  expect(disagree.stdout).toContain(`[content-differs] StudySessionReported ${victim.event_id}`);
  // Undone, the record verifies again.
  await asSuperuserWithoutTriggers(t.db, (conn) => sql`update events set payload = ${JSON.stringify(victim.payload)}::jsonb where chain_seq = ${victim.chain_seq}`.execute(conn));
  expect((await cli('audit', 'verify')).code).toBe(0);

  // The human-readable status renders from the read model.
  const status = await cli('rollout', 'status', R, '--lang', 'en');
  expect(status.stdout).toMatch(/Units: 5/);
  expect(status.stdout).toMatch(/tinh\s+study\s+1\s+1\s+0/);
}, 600_000); // a ceiling, not a race: on a loaded 2-core machine this story has taken 163 s (60 s of it the deadline)

// ---- the exported bundle, checked offline ---------------------------------------------------------

/**
 * A rollout of HIERARCHY on this test's stack whose study deadline passes three seconds after the
 * start: every unit is escalated (the root to itself), then P.H2 reports, late. Every wait polls for
 * what it needs; nothing has to happen before a timer, and tier 2 is an hour away, so the record is
 * quiet when this returns.
 */
async function lateRollout(): Promise<string> {
  writeFileSync(join(dir, 'units.csv'), HIERARCHY);
  expect((await cli('units', 'import', join(dir, 'units.csv'))).code).toBe(0);
  const plan = {
    id: 'e2e-late',
    title: 'Kiểm thử: quá hạn',
    steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập nghị quyết', deadline: { kind: 'afterStart', after: 'PT3S' }, reminders: [], escalation: { tiers: 2, interval: 'PT1H' } }],
  };
  writeFileSync(join(dir, 'plan-late.json'), JSON.stringify(plan));
  const { rolloutId } = await json<{ rolloutId: string }>(
    'rollout',
    'start',
    '--resolution',
    '21-NQ/TW',
    '--date',
    '2022-06-16',
    '--title',
    'Nghị quyết 21',
    '--root',
    'P',
    '--plan',
    join(dir, 'plan-late.json'),
  );
  await until('every unit escalated', async () => (await json<{ items: Array<{ tier: number }> }>('escalations', '--rollout', rolloutId)).items.filter((r) => r.tier === 1).length === 5, 120_000);
  const late = await cli('report', rolloutId, '--unit', 'P.H2', '--step', 'study', '--attended', '8');
  expect(late.stdout).toMatch(/late by/);
  return rolloutId;
}

/** A rollout with a late completion, a checkpoint the auditor saved before the export, and the exported bundle. */
async function exportedBundle(): Promise<{ bundle: string; checkpoint: string }> {
  const R = await lateRollout();
  const checkpoint = join(dir, 'checkpoint.json');
  expect((await cli('audit', 'checkpoint', '--out', checkpoint)).code).toBe(0);
  const bundle = join(dir, 'bundle');
  const exported = await cli('audit', 'export', R, bundle);
  expect(exported.code).toBe(0);
  return { bundle, checkpoint };
}

/** The CLI in a fresh process that has no database and no Temporal server to reach. */
function offline(...args: string[]): Promise<Run> {
  const nowhere = mkdtempSync(join(dir, 'offline-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TRIENKHAI_DATA_DIR: nowhere, TRIENKHAI_LANG: 'en' };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, cwd: nowhere, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** A copy of the bundle to tamper with; `fixManifest` re-hashes its files, as a careful forger would. */
function copyBundle(bundle: string, name: string): string {
  const to = join(dir, name);
  cpSync(bundle, to, { recursive: true });
  return to;
}
function fixManifest(b: string): void {
  const m = JSON.parse(readFileSync(join(b, 'manifest.json'), 'utf8')) as { files: Record<string, { sha256: string; bytes: number }> };
  for (const f of Object.keys(m.files)) {
    if (!existsSync(join(b, f))) delete m.files[f];
    else
      m.files[f] = {
        sha256: createHash('sha256')
          .update(readFileSync(join(b, f)))
          .digest('hex'),
        bytes: statSync(join(b, f)).size,
      };
  }
  writeFileSync(join(b, 'manifest.json'), JSON.stringify(m));
}
const readRows = (b: string): ChainRow[] =>
  readFileSync(join(b, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ChainRow);
const writeRows = (b: string, rows: ChainRow[]): void => writeFileSync(join(b, 'events.jsonl'), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);

test('a batch extension of every overdue unit, a plan amendment and a calendar change — through the CLI', async () => {
  writeFileSync(join(dir, 'units.csv'), HIERARCHY);
  expect((await cli('units', 'import', join(dir, 'units.csv'))).code).toBe(0);
  // Study was due before the rollout started: every unit is overdue at once. The province's plan is due 30 working days after the start.
  const plan = {
    id: 'living',
    title: 'Kiểm thử triển khai sống',
    steps: [
      { id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'absolute', at: '2026-01-15' }, reminders: [], escalation: { tiers: 1, interval: 'P30D' } },
      { id: 'issue', kind: 'issuePlan', title: 'Ban hành kế hoạch', levels: ['tinh'], deadline: { kind: 'afterStart', workingDays: 30 }, reminders: [], escalation: { tiers: 1, interval: 'P30D' } },
    ],
  };
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
  const R = 'living-cli';
  expect((await cli('rollout', 'start', '--resolution', '21-NQ/TW', '--date', '2022-06-16', '--title', 'NQ 21', '--root', 'P', '--plan', join(dir, 'plan.json'), '--id', R)).code).toBe(0);
  const count = async (type: string) => (await t.db.selectFrom('events').select('event_id').where('rollout_id', '=', R).where('type', '=', type).execute()).length;
  await until('every unit missed its study deadline', async () => (await count('DeadlineMissed')) === 5, 90_000);

  // Bad input: exit 2 naming the option; nothing recorded.
  const badStatus = await cli('batch', 'extend', R, '--status', 'late', '--step', 'study', '--until', '2030-12-31', '--committee', 'P', '--reason', 'x', '--yes');
  expect(badStatus.code).toBe(2);
  expect(badStatus.stderr).toMatch(/--status/);
  const badCode = await cli('batch', 'extend', R, '--codes', 'P.H1,P.NOPE', '--step', 'study', '--until', '2030-12-31', '--committee', 'P', '--reason', 'x', '--yes');
  expect(badCode.code).toBe(2);
  expect(badCode.stderr).toMatch(/P\.NOPE/);
  // The preview alone starts nothing.
  const preview = await cli('batch', 'extend', R, '--status', 'overdue', '--step', 'study', '--until', '2030-12-31', '--committee', 'P', '--reason', 'Gia hạn học tập do mưa lũ');
  expect(preview.code).toBe(0);
  expect(preview.stdout).toMatch(/5 đơn vị \/ units/);
  expect(preview.stdout).toMatch(/Nothing done yet: add --yes/);
  expect(await t.db.selectFrom('batches').select('batch_id').execute()).toHaveLength(0);
  // Confirmed: every overdue unit extended, one event each with the batch ID; progress on stderr.
  const applied = await cli(
    'batch',
    'extend',
    R,
    '--status',
    'overdue',
    '--step',
    'study',
    '--until',
    '2030-12-31',
    '--committee',
    'P',
    '--reason',
    'Gia hạn học tập do mưa lũ',
    '--yes',
    '--id',
    'gh-1',
  );
  expect(applied.code).toBe(0);
  expect(applied.stderr).toMatch(/5\/5/);
  expect(applied.stdout).toMatch(/done 5, unchanged 0, refused 0/);
  expect(await count('DeadlineExtended')).toBe(5);
  const status = await json<{ counts: { done: number }; items: Array<{ unitCode: string; status: string }> }>('batch', 'status', 'gh-1');
  expect(status.counts.done).toBe(5);
  expect(status.items.map((i) => i.status)).toEqual(['done', 'done', 'done', 'done', 'done']);

  // The plan amended: study now due mid-2031 for everyone (later than the extensions), the province's plan unchanged.
  writeFileSync(join(dir, 'plan2.json'), JSON.stringify({ ...plan, steps: [{ ...plan.steps[0], deadline: { kind: 'absolute', at: '2031-06-30' } }, plan.steps[1]] }));
  const amended = await json<{ applied: { version: number; units: number }; result: { counts: { done: number; refused: number } } }>(
    'rollout',
    'amend',
    R,
    '--plan',
    join(dir, 'plan2.json'),
    '--reason',
    'Lùi thời hạn học tập',
    '--yes',
  );
  expect(amended.applied).toMatchObject({ version: 2, units: 5 });
  expect(amended.result.counts).toMatchObject({ done: 5, refused: 0 });
  expect(await count('PlanAmended')).toBe(5);
  expect((await json<{ version: number }>('plan', 'show', '--rollout', R)).version).toBe(2);
  // Removing a step the province has not started is fine; a plan of another id is refused, exit 2.
  writeFileSync(join(dir, 'other.json'), JSON.stringify({ ...plan, id: 'other' }));
  const other = await cli('rollout', 'amend', R, '--plan', join(dir, 'other.json'), '--reason', 'x', '--yes');
  expect(other.code).toBe(2);
  expect(other.stderr).toMatch(/plan\.id/);

  // A day off added to the calendar moves the province's working-day deadline, recorded with both versions.
  const [issue] = await t.db.selectFrom('unit_steps').select(['due_at']).where('rollout_id', '=', R).where('unit_code', '=', 'P').where('step_id', '=', 'issue').execute();
  const before = new Date(issue!.due_at!);
  // A working day a few days ahead (not a weekend, not already a holiday), well within the 30.
  const official = calendarDays(officialVietnamCalendar());
  let dayOff = addWorkingDays(localDateOf(Date.now()), 5, official);
  while (official.has(dayOff)) dayOff = addWorkingDays(dayOff, 1, official);
  expect((await cli('calendar', 'add-day', 'vn-official', '--date', dayOff, '--reason', 'Nghỉ đột xuất')).code).toBe(0);
  const recal = await json<{ preview: { units: Array<{ unitCode: string }> }; result: { counts: { done: number } } }>('rollout', 'recalendar', R, '--reason', 'Lịch nghỉ mới', '--yes');
  expect(recal.preview.units.map((u) => u.unitCode)).toEqual(['P']);
  expect(recal.result.counts.done).toBe(1);
  const [moved] = await t.db.selectFrom('events').select('payload').where('rollout_id', '=', R).where('type', '=', 'DeadlineReprojected').execute();
  expect(moved!.payload).toMatchObject({ key: 'issue', calendar: { id: 'vn-official', fromVersion: 1, toVersion: 2 } });
  const [after] = await t.db.selectFrom('unit_steps').select(['due_at']).where('rollout_id', '=', R).where('unit_code', '=', 'P').where('step_id', '=', 'issue').execute();
  expect(new Date(after!.due_at!).getTime()).toBeGreaterThan(before.getTime());
}, 300_000);

test('an exported bundle is verified, replayed and cross-checked in a fresh process with no database or server', async () => {
  const { bundle: b, checkpoint: saved } = await exportedBundle();
  expect(readdirSync(join(b, 'histories')).length).toBeGreaterThanOrEqual(6); // the rollout and its 5 units, at least
  const intact = await offline('audit', 'verify', b, '--public-key', join(b, 'public-key.pem'));
  expect(intact.stderr).toBe('');
  expect(intact.stdout).toMatch(/Every file is as exported/);
  expect(intact.stdout).toMatch(/The event log in it is intact: \d+ events/);
  expect(intact.stdout).toMatch(/The bundle is intact/);
  expect(intact.code).toBe(0);
  // `saved` is the auditor's own checkpoint, taken before the export.
  expect((await offline('audit', 'verify', b, '--from-checkpoint', saved)).stdout).toMatch(/It extends the checkpoint/);
  const replayed = await offline('audit', 'replay', b, '--json');
  expect(replayed.code).toBe(0);
  const replay = JSON.parse(replayed.stdout) as { ok: boolean; runs: number; failures: unknown[] };
  expect(replay).toMatchObject({ ok: true, failures: [] });
  expect(replay.runs).toBe(readdirSync(join(b, 'histories')).length);
  const agree = await offline('audit', 'crosscheck', b);
  expect(agree.stdout).toMatch(/Every event in the histories has its row/);
  expect(agree.code).toBe(0);

  // An event edited in the bundle (a late completion made to look on time): the file no longer
  // matches the manifest, and the row is named.
  const edited = copyBundle(b, 'edited');
  const rows = readRows(edited);
  const victim = rows.find((r) => r.type === 'StepCompleted' && (r.payload as { lateByMs: number }).lateByMs > 0)!;
  expect(victim).toBeDefined();
  (victim.payload as { lateByMs: number }).lateByMs = 0;
  writeRows(edited, rows);
  const e1 = await offline('audit', 'verify', edited);
  expect(e1.code).toBe(3);
  expect(e1.stdout).toContain('events.jsonl was changed since the export');
  expect(e1.stdout).toContain(`[edited] event #${victim.chain_seq} (${victim.event_id}) was edited`);
  expect(e1.stdout).toMatch(/The bundle does NOT verify/);

  // A careful forger re-hashes the edited event, re-links every later one and rewrites the manifest:
  // only the signed checkpoint, under the key the auditor holds, still tells.
  const forged = copyBundle(b, 'forged');
  const frows = readRows(forged);
  const at = frows.findIndex((r) => r.event_id === victim.event_id);
  (frows[at]!.payload as { lateByMs: number }).lateByMs = 0;
  let prev = at === 0 ? GENESIS_HASH : frows[at - 1]!.hash;
  for (const r of frows.slice(at)) {
    r.content_hash = contentHash(eventOfRow(r));
    r.prev_hash = prev;
    r.hash = prev = rowLink(r, Number(r.chain_seq), prev); // the forger knows the link formula of each row's hash version
  }
  writeRows(forged, frows);
  const m = JSON.parse(readFileSync(join(forged, 'manifest.json'), 'utf8')) as { log: { head: { hash: string } } };
  m.log.head.hash = prev;
  writeFileSync(join(forged, 'manifest.json'), JSON.stringify(m));
  fixManifest(forged);
  const f1 = await offline('audit', 'verify', forged, '--public-key', join(b, 'public-key.pem'));
  expect(f1.code).toBe(3);
  expect(f1.stdout).toMatch(/Every file is as exported/);
  expect(f1.stdout).toMatch(/The event log in it is intact/);
  expect(f1.stdout).toMatch(/differs from the checkpoint's: events it covers were changed, removed or reordered/);
  // … and even re-signing with a key of the forger's own does not pass against the auditor's key.
  const resigned = copyBundle(b, 'resigned');
  cpSync(join(forged, 'events.jsonl'), join(resigned, 'events.jsonl'));
  cpSync(join(forged, 'manifest.json'), join(resigned, 'manifest.json'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const links = recomputeLinks(frows);
  const body = { version: 1 as const, seq: frows.length, chainHash: prev, merkleRoot: merkleRoot(links.map((l) => l.hash)), createdAt: new Date().toISOString(), publicKey: pem };
  writeFileSync(join(resigned, 'checkpoints.json'), JSON.stringify([{ ...body, signature: sign(null, Buffer.from(canonicalJson(body)), privateKey).toString('base64') }]));
  writeFileSync(join(resigned, 'public-key.pem'), pem);
  const rm = JSON.parse(readFileSync(join(resigned, 'manifest.json'), 'utf8')) as { checkpoints: number };
  rm.checkpoints = 1; // the one checkpoint the forger signed
  writeFileSync(join(resigned, 'manifest.json'), JSON.stringify(rm));
  fixManifest(resigned);
  // The forger seals the rewritten manifest with the same key (the export's seal over manifest.json).
  writeFileSync(join(resigned, 'manifest.sig'), JSON.stringify({ publicKey: pem, signature: sign(null, readFileSync(join(resigned, 'manifest.json')), privateKey).toString('base64') }));
  expect((await offline('audit', 'verify', resigned)).code).toBe(0); // self-consistent under its own key…
  const r1 = await offline('audit', 'verify', resigned, '--public-key', join(b, 'public-key.pem'));
  expect(r1.code).toBe(3); // …but not under the key the auditor holds
  expect(r1.stdout).toMatch(/signed by a different key than the one you trust/);

  // A workflow history the current code could not have produced fails replay, named by workflow.
  const broken = copyBundle(b, 'broken');
  const rootFile = readdirSync(join(broken, 'histories')).find((f) => /^unitWorkflow-P-1\.json$/.test(f))!;
  const history = JSON.parse(readFileSync(join(broken, 'histories', rootFile), 'utf8')) as { events: Array<Record<string, { workflowType?: { name: string } }>> };
  const start = history.events.find((ev) => ev.startChildWorkflowExecutionInitiatedEventAttributes)!.startChildWorkflowExecutionInitiatedEventAttributes!;
  start.workflowType!.name = 'fanoutWorkflow';
  writeFileSync(join(broken, 'histories', rootFile), JSON.stringify(history));
  fixManifest(broken);
  const rb = await offline('audit', 'replay', broken);
  expect(rb.code).toBe(3);
  expect(rb.stdout).toMatch(/trienkhai\/unit\/[^ ]+\/P run 1 \(unitWorkflow, histories\/unitWorkflow-P-1\.json\): DETERMINISM VIOLATION: .*Nondeterminism/);
  expect(rb.stdout).toMatch(/1 of \d+ workflow run\(s\) of .* do not replay/);

  // A unit's history left out of the bundle: its rows have no history event.
  const partial = copyBundle(b, 'partial');
  const unitFiles = readdirSync(join(partial, 'histories')).filter((f) => f.startsWith('unitWorkflow-P.H2-'));
  expect(unitFiles.length).toBeGreaterThan(0);
  for (const f of unitFiles) rmSync(join(partial, 'histories', f));
  const pm = JSON.parse(readFileSync(join(partial, 'manifest.json'), 'utf8')) as { histories: Array<{ file: string }> };
  pm.histories = pm.histories.filter((h) => !unitFiles.some((f) => h.file.endsWith(f)));
  writeFileSync(join(partial, 'manifest.json'), JSON.stringify(pm));
  fixManifest(partial);
  const cp = await offline('audit', 'crosscheck', partial);
  expect(cp.code).toBe(3);
  const missing = rows.filter((r) => r.unit_code === 'P.H2' && Number(r.chain_seq) <= (JSON.parse(readFileSync(join(b, 'manifest.json'), 'utf8')) as { historiesAsOfSeq: number }).historiesAsOfSeq);
  expect(missing.length).toBeGreaterThan(0);
  for (const r of missing) expect(cp.stdout).toContain(`[no-history-event] row #${r.chain_seq}, ${r.type} ${r.event_id} of P.H2`);

  // Not a bundle at all: bad input, exit 2.
  const none = await offline('audit', 'verify', dir);
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/is not an audit bundle \(no manifest.json\)/);
}, 300_000);

test('an export while events are being recorded signs exactly the events it writes', async () => {
  const R = await lateRollout();
  const connection = await Connection.connect({ address: server.address });
  try {
    const out = join(dir, 'busy-bundle');
    let recorded = false;
    const r = await exportBundle({ db: t.db, client: new Client({ connection }) }, R, out, {
      keyFile: join(dir, 'audit-signing-key.pem'), // the key `audit export` uses (TRIENKHAI_DATA_DIR=dir)
      // While the histories are being fetched, something else is recorded (here: a hierarchy import).
      log: async (line) => {
        if (!recorded && line.startsWith('fetching the workflow histories')) {
          recorded = true;
          await importUnits(t.db, 'again.csv', HIERARCHY.replace('Đảng bộ huyện Hai', 'Đảng bộ huyện Hai (sáp nhập)'), 'user:ops');
        }
      },
    });
    expect(recorded).toBe(true);
    const events = await t.db.selectFrom('events').select('event_id').orderBy('chain_seq').execute();
    expect(r.manifest.log.events).toBe(events.length); // the import is in the bundle…
    const v = await verifyBundle(out);
    expect(v.unsigned).toBe(0); // …and under the export's signature
    expect(v.checkpoints[v.checkpoints.length - 1]!.seq).toBe(events.length);
    expect({ files: v.files, chain: v.chain.problems, checkpoints: v.checkpoints.filter((c) => c.problems.length) }).toEqual({ files: [], chain: [], checkpoints: [] });
    expect(v.ok).toBe(true);
  } finally {
    await connection.close();
  }
}, 300_000);
