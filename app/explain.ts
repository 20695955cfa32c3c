/**
 * Why a deadline is the date it is (`trienkhai explain`, GET …/steps/{stepKey}/explain), from the
 * audit record (the unit's events) and the plan: the rule, the anchor it counts from, the calendar
 * and the days it skipped, the years the calendar is unsure of (provisional) or knows nothing about
 * (uncovered), and every extension, suspension, amendment and recalendar since.
 *
 * The calendar a unit counts on is not in its enrolment event (historic, strict schemas): it is the
 * newest version of the default calendar stored when the unit enrolled (versions are append-only, so
 * this is what the enrolment activity read), or the one its last DeadlineReprojected names. A unit
 * recorded before calendars were data counted on the legacy compiled-in set; when the recomputed date
 * differs from the recorded one, the explanation says so rather than pretending.
 */
import type { Kysely } from 'kysely';
import { describeDeadlineRule } from '../domain/plan-diff';
import type { Database } from '../db/database';
import { calendarAsOf, calendarVersion } from '../db/calendars';
import { explainWorkingDays, OFFICIAL_VIETNAM_CALENDAR_ID, type Calendar, type WorkingDaysExplanation } from '../domain/calendar';
import { DomainError } from '../domain/errors';
import { Plan, type PlanStep } from '../domain/plan';
import { STEP_KIND_WORDING } from '../domain/wording';
import { formatLocal, formatLocalDate, localDateOf, type Lang } from '../domain/time';
import { instantOrNull } from './views';

type Words = { vi: string; en: string };

export interface DeadlineExplanation {
  rolloutId: string;
  unitCode: string;
  stepKey: string;
  stepId: string;
  title: string;
  rule: { kind: PlanStep['deadline']['kind']; text: Words };
  anchor: { what: Words; at: string | null } | null;
  calendar: { id: string; version: number; basis: 'enrolment' | 'recalendar' } | null;
  workingDays: {
    from: string;
    n: number;
    date: string;
    skipped: Array<{ date: string; reason: 'weekend' | 'holiday'; note: string | null; coverage: string }>;
    makeUpCounted: Array<{ date: string; note: string | null }>;
    provisionalYears: number[];
    uncoveredYears: number[];
  } | null;
  /** What the rule gives (before any extension or move), or null while the anchor is unknown. */
  computedDueAt: string | null;
  /** The deadline as recorded now (read model). */
  currentDueAt: string | null;
  history: Array<{ at: string; type: string; text: Words }>;
  warnings: Words[];
}

const w = (vi: string, en: string): Words => ({ vi, en });

/** The step's deadline rule in words: the same sentence a plan diff uses (domain/plan-diff.ts). */
const ruleText = (step: PlanStep): Words => w(describeDeadlineRule(step.deadline, 'vi'), describeDeadlineRule(step.deadline, 'en'));

/** The calendar with the plan's own days off (those of covered years not listed already). */
function withPlanHolidays(cal: Calendar, holidays: ReadonlyArray<string>): Calendar {
  const covered = new Set(cal.years.map((y) => y.year));
  const listed = new Set(cal.days.map((d) => d.date));
  const extra = holidays.filter((d) => covered.has(Number(d.slice(0, 4))) && !listed.has(d)).map((date) => ({ date, kind: 'off' as const, note: 'Ngày nghỉ riêng của kế hoạch' }));
  return extra.length ? { ...cal, days: [...cal.days, ...extra].sort((a, b) => (a.date < b.date ? -1 : 1)) } : cal;
}

/**
 * Explain one step's deadline for one unit of a rollout.
 * @throws DomainError (`not_found`) naming the rollout, unit or step that does not exist
 */
export async function explainDeadline(db: Kysely<Database>, rolloutId: string, unitCode: string, stepKey: string): Promise<DeadlineExplanation> {
  const rollout = await db.selectFrom('rollouts').selectAll().where('rollout_id', '=', rolloutId).executeTakeFirst();
  if (!rollout) throw DomainError.notFound('rolloutId', `no rollout "${rolloutId}"`);
  const ru = await db.selectFrom('rollout_units').select(['unit_code', 'parent_code']).where('rollout_id', '=', rolloutId).where('unit_code', '=', unitCode).executeTakeFirst();
  if (!ru) throw DomainError.notFound('unit', `unit "${unitCode}" is not part of rollout ${rolloutId}`);
  const steps = await db.selectFrom('unit_steps').selectAll().where('rollout_id', '=', rolloutId).where('unit_code', '=', unitCode).orderBy('step_key').execute();
  const row = steps.find((s) => s.step_key === stepKey);
  if (!row) throw DomainError.notFound('step', `unit ${unitCode} has no step "${stepKey}" in rollout ${rolloutId} (its steps: ${steps.map((s) => s.step_key).join(', ')})`);

  const events = await db.selectFrom('events').selectAll().where('rollout_id', '=', rolloutId).where('unit_code', '=', unitCode).orderBy('position').execute();
  // The plan the rollout runs now: the projection keeps rollouts.plan at its latest version (RolloutAmended).
  const plan = Plan.parse(rollout.plan);
  const step = plan.steps.find((s) => s.id === row.step_id);
  if (!step) throw DomainError.notFound('step', `step "${row.step_id}" is no longer in the plan of rollout ${rolloutId}`);
  const warnings: Words[] = [];

  // The anchor.
  let anchorAt: number | null = null;
  let anchor: DeadlineExplanation['anchor'] = null;
  const rule = step.deadline;
  if (rule.kind === 'afterStart' || (rule.kind === 'afterParentStep' && !ru.parent_code)) {
    anchorAt = new Date(rollout.started_at).getTime();
    anchor = { what: w('ngày bắt đầu triển khai (RolloutStarted)', 'the rollout started (RolloutStarted)'), at: instantOrNull(anchorAt) };
  } else if (rule.kind === 'afterParentStep') {
    const parent = await db
      .selectFrom('unit_steps')
      .select(['status', 'completed_at'])
      .where('rollout_id', '=', rolloutId)
      .where('unit_code', '=', ru.parent_code!)
      .where('kind', '=', rule.stepKind)
      .execute();
    const kind = STEP_KIND_WORDING[rule.stepKind];
    if (parent.length && parent.every((p) => p.status === 'done' && p.completed_at)) {
      anchorAt = Math.max(...parent.map((p) => new Date(p.completed_at!).getTime()));
      anchor = {
        what: w(`cấp trên ${ru.parent_code} hoàn thành bước “${kind.vi}” (StepCompleted)`, `the parent ${ru.parent_code} completed its “${kind.en}” step (StepCompleted)`),
        at: instantOrNull(anchorAt),
      };
    } else {
      anchor = { what: w(`chờ cấp trên ${ru.parent_code} hoàn thành bước “${kind.vi}”`, `waiting for the parent ${ru.parent_code} to complete its “${kind.en}” step`), at: null };
    }
  }

  // The calendar, when the rule counts working days.
  let calendar: DeadlineExplanation['calendar'] = null;
  let working: DeadlineExplanation['workingDays'] = null;
  let computed: number | null = rule.kind === 'absolute' ? null : null;
  if (rule.kind !== 'absolute' && rule.workingDays !== undefined) {
    const reprojected = [...events].reverse().find((e) => e.type === 'DeadlineReprojected');
    const enrolled = events.find((e) => e.type === 'UnitEnrolled');
    let cal: Calendar | undefined;
    if (reprojected) {
      const c = (reprojected.payload as { calendar: { id: string; toVersion: number } }).calendar;
      cal = (await calendarVersion(db, c.id, c.toVersion))?.calendar;
      calendar = { id: c.id, version: c.toVersion, basis: 'recalendar' };
    } else {
      cal = (await calendarAsOf(db, OFFICIAL_VIETNAM_CALENDAR_ID, enrolled ? new Date(enrolled.recorded_at) : new Date()))?.calendar;
      if (cal) calendar = { id: cal.id, version: cal.version, basis: 'enrolment' };
    }
    if (cal && anchorAt !== null) {
      const ex: WorkingDaysExplanation = explainWorkingDays(localDateOf(anchorAt), rule.workingDays, withPlanHolidays(cal, plan.holidays));
      working = {
        from: ex.from,
        n: ex.n,
        date: ex.date,
        skipped: ex.skipped.map((d) => ({ date: d.date, reason: d.reason === 'weekend' ? 'weekend' : 'holiday', note: d.note ?? null, coverage: d.coverage })),
        makeUpCounted: ex.makeUpCounted.map((d) => ({ date: d.date, note: d.note ?? null })),
        provisionalYears: ex.uncertainYears.filter((u) => u.coverage === 'provisional').map((u) => u.year),
        uncoveredYears: ex.uncertainYears.filter((u) => u.coverage === 'uncovered').map((u) => u.year),
      };
      computed = Date.parse(`${ex.date}T16:59:59.999Z`);
      for (const y of working.provisionalYears)
        warnings.push(w(`Năm ${y} chưa có thông báo lịch nghỉ chính thức (lịch tạm tính): hạn có thể thay đổi.`, `${y} is provisional (no announced schedule yet): the deadline may still move.`));
      for (const y of working.uncoveredYears)
        warnings.push(
          w(
            `Lịch ${cal.id} không có dữ liệu năm ${y}: ngày lễ năm đó KHÔNG được tính, chỉ trừ cuối tuần. Hãy nhập lịch có năm ${y}.`,
            `Calendar ${cal.id} does not cover ${y}: its holidays were NOT considered, only weekends. Import a calendar listing ${y}.`,
          ),
        );
    }
  } else if (rule.kind === 'absolute') {
    anchor = null;
  }

  // What happened to the deadline since.
  const history: DeadlineExplanation['history'] = [];
  const at = (e: { occurred_at: Date | string }): string => instantOrNull(e.occurred_at)!;
  const fmt = (iso: string | null | undefined, lang: Lang): string => (iso ? formatLocal(new Date(iso), lang) : '—');
  for (const e of events) {
    const p = e.payload as Record<string, unknown>;
    const movedOf = (): { previousDueAt: string | null; newDueAt: string | null } | undefined =>
      ((p.moved as Array<{ key: string; previousDueAt: string | null; newDueAt: string | null }> | undefined) ?? []).find((m) => m.key === stepKey);
    switch (e.type) {
      case 'UnitEnrolled': {
        const s = (p.steps as Array<{ key: string; dueAt: string | null }>).find((x) => x.key === stepKey);
        if (s) history.push({ at: at(e), type: e.type, text: w(`ghi danh; hạn ${fmt(s.dueAt, 'vi')}`, `enrolled; due ${fmt(s.dueAt, 'en')}`) });
        break;
      }
      case 'DeadlineScheduled':
        if (p.key === stepKey)
          history.push({
            at: at(e),
            type: e.type,
            text: w(`hạn được xác định: ${fmt(p.dueAt as string, 'vi')} (${String(p.basis)})`, `deadline set: ${fmt(p.dueAt as string, 'en')} (${String(p.basis)})`),
          });
        break;
      case 'DeadlineExtended':
        if (p.key === stepKey)
          history.push({
            at: at(e),
            type: e.type,
            text: w(
              `${String(p.decidedBy)} gia hạn từ ${fmt(p.previousDueAt as string, 'vi')} đến ${fmt(p.newDueAt as string, 'vi')}: ${String(p.reason)}`,
              `${String(p.decidedBy)} extended it from ${fmt(p.previousDueAt as string, 'en')} to ${fmt(p.newDueAt as string, 'en')}: ${String(p.reason)}`,
            ),
          });
        break;
      case 'ClockSuspended':
        history.push({ at: at(e), type: e.type, text: w(`tạm dừng tính hạn (${String(p.decidedBy)}): ${String(p.reason)}`, `clock suspended (${String(p.decidedBy)}): ${String(p.reason)}`) });
        break;
      case 'ClockResumed': {
        const m = movedOf();
        history.push({
          at: at(e),
          type: e.type,
          text: w(`tiếp tục tính hạn${m ? `; hạn lùi đến ${fmt(m.newDueAt, 'vi')}` : ''}`, `clock resumed${m ? `; deadline moved to ${fmt(m.newDueAt, 'en')}` : ''}`),
        });
        break;
      }
      case 'PlanAmended': {
        const m = movedOf();
        if (m || (p.keptExtensions as string[]).includes(stepKey))
          history.push({
            at: at(e),
            type: e.type,
            text: w(
              `kế hoạch sửa đổi (phiên bản ${String(p.planVersion)})${m ? `: hạn dời đến ${fmt(m.newDueAt, 'vi')}` : ': giữ gia hạn'}`,
              `plan amended (version ${String(p.planVersion)})${m ? `: deadline moved to ${fmt(m.newDueAt, 'en')}` : ': extension kept'}`,
            ),
          });
        break;
      }
      case 'DeadlineReprojected':
        if (p.key === stepKey) {
          const c = p.calendar as { id: string; fromVersion: number | null; toVersion: number };
          history.push({
            at: at(e),
            type: e.type,
            text: w(
              `tính lại theo lịch ${c.id} phiên bản ${c.toVersion} (trước: ${c.fromVersion ?? 'lịch cũ'}): ${fmt(p.previousDueAt as string, 'vi')} → ${fmt(p.newDueAt as string, 'vi')}`,
              `recomputed on calendar ${c.id} version ${c.toVersion} (was: ${c.fromVersion ?? 'legacy'}): ${fmt(p.previousDueAt as string, 'en')} → ${fmt(p.newDueAt as string, 'en')}`,
            ),
          });
        }
        break;
    }
  }
  const current = row.due_at ? new Date(row.due_at).getTime() : null;
  const changedSince = history.some((h) => h.type === 'DeadlineExtended' || h.type === 'ClockResumed' || h.type === 'PlanAmended');
  if (computed !== null && current !== null && computed !== current && !changedSince && step.schedule === undefined) {
    warnings.push(
      w(
        `Hạn ghi nhận (${formatLocal(current, 'vi')}) khác hạn tính lại (${formatLocal(computed, 'vi')}): đơn vị có thể đang dùng lịch nghỉ cũ (ghi danh trước khi lịch thành dữ liệu).`,
        `The recorded deadline (${formatLocal(current, 'en')}) differs from the recomputation (${formatLocal(computed, 'en')}): the unit may count on the legacy holiday set (enrolled before calendars were data).`,
      ),
    );
  }
  if (rule.kind === 'absolute') computed = current;
  return {
    rolloutId,
    unitCode,
    stepKey,
    stepId: step.id,
    title: step.title,
    rule: { kind: rule.kind, text: ruleText(step) },
    anchor,
    calendar,
    workingDays: working,
    computedDueAt: instantOrNull(computed),
    currentDueAt: instantOrNull(current),
    history,
    warnings,
  };
}

/** The explanation as lines of text, in one language (what the CLI prints). */
export function explanationLines(x: DeadlineExplanation, lang: Lang): string[] {
  const t = (s: Words): string => s[lang];
  const vi = lang === 'vi';
  const out: string[] = [];
  out.push(`${x.unitCode} · ${x.stepKey} — ${x.title}`);
  out.push(`${vi ? 'Quy tắc' : 'Rule'}: ${t(x.rule.text)}`);
  if (x.anchor) out.push(`${vi ? 'Mốc tính' : 'Anchor'}: ${t(x.anchor.what)}${x.anchor.at ? `, ${formatLocal(new Date(x.anchor.at), lang)}` : ''}`);
  if (x.calendar)
    out.push(
      `${vi ? 'Lịch nghỉ' : 'Calendar'}: ${x.calendar.id} ${vi ? 'phiên bản' : 'version'} ${x.calendar.version} (${x.calendar.basis === 'enrolment' ? (vi ? 'khi ghi danh' : 'at enrolment') : vi ? 'đổi lịch' : 'recalendar'})`,
    );
  if (x.workingDays) {
    const wd = x.workingDays;
    out.push(
      vi
        ? `Đếm ${wd.n} ngày làm việc sau ${formatLocalDate(wd.from, 'vi')} → ${formatLocalDate(wd.date, 'vi')}`
        : `Counting ${wd.n} working days after ${formatLocalDate(wd.from, 'en')} → ${formatLocalDate(wd.date, 'en')}`,
    );
    const holidays = wd.skipped.filter((d) => d.reason === 'holiday');
    const weekends = wd.skipped.length - holidays.length;
    out.push(vi ? `  Bỏ qua ${weekends} ngày cuối tuần và ${holidays.length} ngày nghỉ lễ:` : `  Skipped ${weekends} weekend days and ${holidays.length} holidays:`);
    for (const d of holidays) out.push(`    ${formatLocalDate(d.date, lang)}  ${d.note ?? ''}${d.coverage !== 'announced' ? ` [${d.coverage}]` : ''}`);
    for (const d of wd.makeUpCounted) out.push(`  ${vi ? 'Tính ngày làm bù' : 'Counted make-up day'}: ${formatLocalDate(d.date, lang)}  ${d.note ?? ''}`);
  }
  if (x.history.length) {
    out.push(vi ? 'Diễn biến:' : 'History:');
    for (const h of x.history) out.push(`  ${formatLocal(new Date(h.at), lang)}  ${t(h.text)}`);
  }
  out.push(`${vi ? 'Hạn hiện tại' : 'Current deadline'}: ${x.currentDueAt ? formatLocal(new Date(x.currentDueAt), lang) : vi ? 'chưa xác định' : 'not known yet'}`);
  for (const warn of x.warnings) out.push(`⚠ ${t(warn)}`);
  return out;
}
