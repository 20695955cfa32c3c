/**
 * A new calendar applied to a running unit (issue 10, `recalendar`), on the time-skipping server with
 * real PostgreSQL: units pin the default calendar at enrolment; a day off added to it moves a
 * working-day deadline (DeadlineReprojected, projected into unit_steps), the preview said so first,
 * the same calendar again moves nothing, and `explain` tells why the deadline is the date it is.
 */
import { Worker } from '@temporalio/worker';
import { workerActivities } from '../../worker/worker';
import { addWorkingDays, localDateOf } from '../../domain/time';
import { calendarDays, officialVietnamCalendar } from '../../domain/calendar';
import { parsePlan } from '../../domain/plan';
import { editCalendar } from '../../app/calendars';
import { explainDeadline, explanationLines } from '../../app/explain';
import { applyCalendar, pinnedCalendarVersion, previewRecalendar, previewRollout, recalendarChange } from '../../app/recalendar';
import { rejection } from '../helpers/domain-error';
import { batchWorkflowId, cancelRolloutUpdate, changeUnitUpdate, rolloutWorkflowId, unitWorkflowId } from '../../workflows/definitions';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { until } from '../helpers/wait';
import { TWO_COMMUNES, eventsOf, startTestRollout, useImportedHierarchy } from '../helpers/rollouts';

const useEnv = useTimeSkippingEnv();
const UNITS = TWO_COMMUNES;
const PLAN = parsePlan({
  id: 'cal',
  title: 'Kiểm thử lịch',
  steps: [{ id: 'study', kind: 'studyConference', title: 'Học tập', deadline: { kind: 'afterStart', workingDays: 10 }, reminders: ['P1D'], escalation: { tiers: 1, interval: 'P3D' } }],
});
const fixture = useImportedHierarchy(UNITS, 'recalendar-rollout.test.ts');

test('a day off added to the calendar moves a working-day deadline, once; explain shows the rule, the calendar and the skipped days', async () => {
  const env = useEnv();
  const { db, version } = fixture();
  const R = 'recal';
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'recal', workflowBundle: await workflowBundle(), activities: workerActivities({ db }) });
  await worker.runUntil(async () => {
    const rollout = await startTestRollout(env.client, { taskQueue: 'recal', rolloutId: R, plan: PLAN, hierarchyVersion: version, units: UNITS.length });
    await until('every unit enrolled', async () => (await db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', R).execute()).length === UNITS.length, 60_000, 100);
    const started = (await db.selectFrom('rollouts').select('started_at').where('rollout_id', '=', R).executeTakeFirstOrThrow()).started_at;
    const official = calendarDays(officialVietnamCalendar());
    const from = localDateOf(new Date(started));
    const due = addWorkingDays(from, 10, official);
    const dueOf = async (code: string) => (await db.selectFrom('unit_steps').select('due_at').where('rollout_id', '=', R).where('unit_code', '=', code).executeTakeFirstOrThrow()).due_at;
    expect(localDateOf(new Date((await dueOf('P.A'))!))).toBe(due);

    // Ops adds a day off (the first working day of the count): version 2 of the official calendar.
    const dayOff = addWorkingDays(from, 1, official);
    const v2 = await editCalendar(db, 'vn-official', { action: 'add', date: dayOff, reason: 'Nghỉ đột xuất theo thông báo' }, 'user:ops');
    expect(v2.version).toBe(2);
    const pin = await pinnedCalendarVersion(db, 'vn-official');
    const preview = await previewRecalendar(db, R, pin);
    expect(preview.units.map((u) => u.unitCode)).toEqual(['P', 'P.A', 'P.B']);
    const expected = addWorkingDays(from, 10, { has: (d) => d === dayOff || official.has(d), worksOn: (d) => official.worksOn(d) });
    expect(localDateOf(new Date(preview.units[1]!.moved[0]!.newDueAt))).toBe(expected);

    const unit = env.client.workflow.getHandle(unitWorkflowId(R, 'P.A'));
    const change = recalendarChange(pin, { requestId: 'rc-1', decidedBy: 'user:ops', reason: 'Lịch nghỉ mới' });
    const r = await unit.executeUpdate(changeUnitUpdate, { args: [change] });
    expect(r).toMatchObject({ changed: true, op: 'recalendar', moved: [{ key: 'study' }] });
    await until('the deadline reprojected', async () => (await eventsOf(db, 'P.A', 'DeadlineReprojected')).length === 1);
    const [ev] = await eventsOf(db, 'P.A', 'DeadlineReprojected');
    expect(ev!.payload).toMatchObject({ key: 'study', calendar: { id: 'vn-official', fromVersion: 1, toVersion: 2 }, decidedBy: 'user:ops' });
    await until('projected', async () => localDateOf(new Date((await dueOf('P.A'))!)) === expected);
    expect(localDateOf(new Date((await dueOf('P.B'))!))).toBe(due);

    // The same calendar again: nothing moves, nothing recorded.
    const again = await unit.executeUpdate(changeUnitUpdate, { args: [{ ...change, requestId: 'rc-2' }] });
    expect(again).toMatchObject({ changed: false });
    expect(await eventsOf(db, 'P.A', 'DeadlineReprojected')).toHaveLength(1);

    const ex = await explainDeadline(db, R, 'P.A', 'study');
    expect(ex).toMatchObject({ calendar: { id: 'vn-official', version: 2, basis: 'recalendar' }, rule: { kind: 'afterStart' } });
    expect(ex.rule.text.vi).toBe('10 ngày làm việc sau khi bắt đầu triển khai');
    expect(ex.workingDays!.date).toBe(expected);
    expect(ex.workingDays!.skipped.find((d) => d.date === dayOff)).toMatchObject({ reason: 'holiday', note: 'Nghỉ đột xuất theo thông báo' });
    expect(localDateOf(new Date(ex.currentDueAt!))).toBe(expected);
    expect(ex.history.map((h) => h.type)).toEqual(['UnitEnrolled', 'DeadlineReprojected']);
    expect(explanationLines(ex, 'vi').join('\n')).toMatch(/Nghỉ đột xuất theo thông báo/);
    expect(explanationLines(ex, 'en').join('\n')).toMatch(/Current deadline/);
    const b = await explainDeadline(db, R, 'P.B', 'study');
    expect(b.calendar).toMatchObject({ version: 1, basis: 'enrolment' });
    await expect(explainDeadline(db, R, 'P.Z', 'study')).rejects.toThrow(/unit "P.Z" is not part of rollout recal/);
    await expect(explainDeadline(db, R, 'P.A', 'nope')).rejects.toThrow(/has no step "nope"/);

    // The rest of the rollout, in one batch (rollout recalendar): preview first, then every running unit.
    const ops = { db, client: env.client, taskQueue: 'recal' };
    const request = { reason: 'Lịch nghỉ mới cho cả đợt', decidedBy: 'user:ops' };
    expect((await rejection(applyCalendar(ops, R, request))).issues[0]!.path).toBe('fingerprint');
    expect((await rejection(previewRollout(db, R, { ...request, calendarId: 'nope' }))).kind).toBe('not_found');
    const whole = await previewRollout(db, R, request);
    expect(whole.units.map((u) => u.unitCode)).toEqual(['P', 'P.B']);
    expect((await rejection(applyCalendar(ops, R, { ...request, fingerprint: '0'.repeat(64) }))).kind).toBe('conflict');
    const batch = await applyCalendar(ops, R, { ...request, fingerprint: whole.fingerprint, batchId: 'lich-moi' });
    expect(batch).toMatchObject({ batchId: 'lich-moi', units: 3, alreadyStarted: false });
    expect(await env.client.workflow.getHandle(batchWorkflowId('lich-moi')).result()).toEqual({ pending: 0, done: 2, unchanged: 1, refused: 0 });
    const [pb] = await eventsOf(db, 'P.B', 'DeadlineReprojected');
    expect(pb!.payload).toMatchObject({ batchId: 'lich-moi', calendar: { fromVersion: 1, toVersion: 2 } });
    expect(localDateOf(new Date((await dueOf('P.B'))!))).toBe(expected);

    await env.client.workflow.getHandle(rolloutWorkflowId(R)).executeUpdate(cancelRolloutUpdate, { args: [{ requestId: 'c', reason: 'end of test', requestedBy: 'user:ops' }] });
    await rollout.result();
  });
});
