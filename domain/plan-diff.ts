/**
 * The difference between two versions of a plan (issue 10, "amend the plan of a running rollout"):
 * which steps were added or removed and, for a step in both, which of its fields changed. The diff
 * is what an amendment is previewed with (`describePlanDiff`, one line per change, Vietnamese
 * first) and what each unit workflow applies to its own steps (workflows/changes/amend.ts).
 *
 * Steps are matched by id. The order of the steps is not a change (nothing in a unit depends on it).
 * Levels, requirements and document types are sets: reordering them is not a change either;
 * reminders are compared as written.
 *
 * Two changes are refused outright, because a running step instance cannot become another thing:
 * the `kind` of a step, and its `schedule` (which decides how many occurrences a unit has and what
 * they are called). The message says what to do instead: remove the step and add a new one.
 *
 * Pure and deterministic (no crypto: callers outside domain/ hash `canonicalPlanJson(plan)`).
 */
import { DomainError, type DomainIssue } from './errors';
import type { DeadlineRule, Plan, PlanStep } from './plan';
import { parseDuration, type Lang } from './time';
import { levelName, stepKindName, type Sentence } from './wording';

/** The fields of a step an amendment may change (everything but its id, kind and schedule). */
export const AMENDABLE_STEP_FIELDS = ['title', 'levels', 'requires', 'opensAfterParent', 'deadline', 'reminders', 'escalation', 'target', 'documentTypes'] as const;
export type AmendableStepField = (typeof AMENDABLE_STEP_FIELDS)[number];

/** One field of a step that differs between the two versions, with both values (undefined = not given). */
export type StepFieldChange = { [F in AmendableStepField]: { field: F; from: PlanStep[F]; to: PlanStep[F] } }[AmendableStepField];

/** A step present in both versions whose fields differ. */
export interface ChangedStep {
  stepId: string;
  /** Its index in the new plan (`plan.steps[index]`). */
  index: number;
  from: PlanStep;
  to: PlanStep;
  /** Every field that differs, in the order of AMENDABLE_STEP_FIELDS. Never empty. */
  changes: StepFieldChange[];
}

/** What differs between two versions of a plan. */
export interface PlanDiff {
  planId: string;
  /** Steps only in the new version, with their index in it. */
  added: Array<{ step: PlanStep; index: number }>;
  /** Steps only in the old version, with their index in it. */
  removed: Array<{ step: PlanStep; index: number }>;
  changed: ChangedStep[];
  title?: { from: string; to: string };
  /** The plan's own non-working days: which were added and which removed. */
  holidays?: { added: string[]; removed: string[] };
  /** True when the two versions mean the same plan. */
  empty: boolean;
}

/** Fields compared as sets: their order means nothing. */
const SET_FIELDS: ReadonlySet<AmendableStepField> = new Set(['levels', 'requires', 'documentTypes']);

/**
 * The diff from the running plan to an amended one.
 *
 * @throws DomainError when the amendment changes the plan's id, or the kind or schedule of a step it
 *   keeps; each issue names the field (`plan.steps[2].kind`) and says to remove the step and add a new one
 */
export function diffPlans(from: Plan, to: Plan): PlanDiff {
  const issues: DomainIssue[] = [];
  if (from.id !== to.id) issues.push({ path: 'plan.id', message: `an amendment keeps the plan's id: the running plan is "${from.id}", not "${to.id}"` });
  const before = new Map(from.steps.map((s, i) => [s.id, { step: s, index: i }]));
  const after = new Set(to.steps.map((s) => s.id));
  const added: PlanDiff['added'] = [];
  const changed: ChangedStep[] = [];
  to.steps.forEach((step, index) => {
    const old = before.get(step.id)?.step;
    if (!old) {
      added.push({ step, index });
      return;
    }
    if (old.kind !== step.kind) {
      issues.push({
        path: `plan.steps[${index}].kind`,
        message: `step "${step.id}" is a ${old.kind} step in the running plan and cannot become a ${step.kind} step: remove the step and add a new one (with another id)`,
      });
    }
    if (canonicalJson(old.schedule) !== canonicalJson(step.schedule)) {
      issues.push({
        path: `plan.steps[${index}].schedule`,
        message: `the schedule of step "${step.id}" (${scheduleText(old)} → ${scheduleText(step)}) decides its occurrences and cannot change in a running rollout: remove the step and add a new one (with another id)`,
      });
    }
    const changes = AMENDABLE_STEP_FIELDS.filter((f) => !sameField(f, old[f], step[f])).map((f) => ({ field: f, from: old[f], to: step[f] }) as StepFieldChange);
    if (changes.length) changed.push({ stepId: step.id, index, from: old, to: step, changes });
  });
  if (issues.length) throw new DomainError(issues);
  const removed = [...before.values()].filter((b) => !after.has(b.step.id));
  const diff: PlanDiff = { planId: to.id, added, removed, changed, empty: false };
  if (from.title !== to.title) diff.title = { from: from.title, to: to.title };
  const oldDays = new Set(from.holidays);
  const newDays = new Set(to.holidays);
  const daysAdded = [...newDays].filter((d) => !oldDays.has(d)).sort();
  const daysRemoved = [...oldDays].filter((d) => !newDays.has(d)).sort();
  if (daysAdded.length || daysRemoved.length) diff.holidays = { added: daysAdded, removed: daysRemoved };
  diff.empty = !added.length && !removed.length && !changed.length && !diff.title && !diff.holidays;
  return diff;
}

function sameField(field: AmendableStepField, a: unknown, b: unknown): boolean {
  if (SET_FIELDS.has(field) && Array.isArray(a) && Array.isArray(b)) return canonicalJson([...(a as string[])].sort()) === canonicalJson([...(b as string[])].sort());
  return canonicalJson(a) === canonicalJson(b);
}

/** The field change of one step, if that field changed (a convenience for appliers). */
export function fieldChange<F extends AmendableStepField>(step: ChangedStep | undefined, field: F): Extract<StepFieldChange, { field: F }> | undefined {
  return step?.changes.find((c): c is Extract<StepFieldChange, { field: F }> => c.field === field);
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON

/**
 * JSON with object keys in sorted order at every depth and `undefined` fields left out, so the same
 * plan always gives the same text (and the same hash, computed by callers outside domain/).
 */
export function canonicalPlanJson(plan: Plan): string {
  return canonicalJson(plan);
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'undefined';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Wording

const DURATION_UNITS = [
  { part: 'years', vi: 'năm', en: ['year', 'years'] },
  { part: 'months', vi: 'tháng', en: ['month', 'months'] },
  { part: 'weeks', vi: 'tuần', en: ['week', 'weeks'] },
  { part: 'days', vi: 'ngày', en: ['day', 'days'] },
  { part: 'hours', vi: 'giờ', en: ['hour', 'hours'] },
  { part: 'minutes', vi: 'phút', en: ['minute', 'minutes'] },
  { part: 'seconds', vi: 'giây', en: ['second', 'seconds'] },
] as const;

/** An ISO duration in words: `P1M2D` → vi `1 tháng 2 ngày`, en `1 month 2 days`. */
function durationWords(text: string, lang: Lang): string {
  const d = parseDuration(text);
  const words = DURATION_UNITS.filter((u) => d[u.part] !== 0).map((u) => `${d[u.part]} ${lang === 'vi' ? u.vi : u.en[d[u.part] === 1 ? 0 : 1]}`);
  return words.length ? words.join(' ') : lang === 'vi' ? '0 ngày' : '0 days';
}

function offsetWords(rule: { after?: string | undefined; workingDays?: number | undefined }, lang: Lang): string {
  if (rule.workingDays !== undefined) return lang === 'vi' ? `${rule.workingDays} ngày làm việc` : `${rule.workingDays} working day${rule.workingDays === 1 ? '' : 's'}`;
  return durationWords(rule.after ?? 'P0D', lang);
}

/** A deadline rule in words: vi `30 ngày sau khi cấp trên hoàn thành bước “…”`, en `30 days after the parent completes its … step`. */
export function describeDeadlineRule(rule: DeadlineRule, lang: Lang): string {
  switch (rule.kind) {
    case 'absolute':
      return lang === 'vi' ? `chậm nhất ${rule.at}` : `by ${rule.at}`;
    case 'afterStart':
      return lang === 'vi' ? `${offsetWords(rule, lang)} sau khi bắt đầu triển khai` : `${offsetWords(rule, lang)} after the rollout starts`;
    case 'afterParentStep':
      return lang === 'vi'
        ? `${offsetWords(rule, lang)} sau khi cấp trên hoàn thành bước “${stepKindName(rule.stepKind, lang)}”`
        : `${offsetWords(rule, lang)} after the parent unit completes its “${stepKindName(rule.stepKind, lang)}” step`;
  }
}

function scheduleText(step: PlanStep): string {
  return step.schedule ? `${step.schedule.count} × ${step.schedule.every}` : 'none';
}

function levelsWords(levels: string[] | undefined, lang: Lang): string {
  if (levels === undefined) return lang === 'vi' ? 'mọi cấp' : 'every level';
  return levels.map((l) => levelName(l, lang)).join(', ');
}

function listWords(items: ReadonlyArray<string> | undefined, lang: Lang): string {
  if (!items || items.length === 0) return lang === 'vi' ? 'không có' : 'none';
  return items.join(', ');
}

function remindersWords(reminders: ReadonlyArray<string>, lang: Lang): string {
  if (reminders.length === 0) return lang === 'vi' ? 'không nhắc' : 'no reminders';
  return reminders.map((r) => (lang === 'vi' ? `${durationWords(r, lang)} trước hạn` : `${durationWords(r, lang)} before`)).join(', ');
}

function escalationWords(e: PlanStep['escalation'], lang: Lang): string {
  return lang === 'vi' ? `${e.tiers} cấp, cách nhau ${durationWords(e.interval, lang)}` : `${e.tiers} tier${e.tiers === 1 ? '' : 's'}, ${durationWords(e.interval, lang)} apart`;
}

function targetWords(t: number | undefined, lang: Lang): string {
  return t === undefined ? (lang === 'vi' ? 'mặc định (100%)' : 'default (100%)') : `${Math.round(t * 1000) / 10}%`;
}

/** One field change in words, in one language: the field's name, the old value and the new. */
function fieldWords(c: StepFieldChange, lang: Lang): { name: string; from: string; to: string } {
  const vi = lang === 'vi';
  switch (c.field) {
    case 'title':
      return { name: vi ? 'tên' : 'title', from: c.from, to: c.to };
    case 'levels':
      return { name: vi ? 'cấp áp dụng' : 'levels', from: levelsWords(c.from, lang), to: levelsWords(c.to, lang) };
    case 'requires':
      return { name: vi ? 'bước phải xong trước' : 'required steps', from: listWords(c.from, lang), to: listWords(c.to, lang) };
    case 'opensAfterParent': {
      const w = (k: typeof c.from): string => (k === undefined ? (vi ? 'theo hạn' : 'from the deadline rule') : stepKindName(k, lang));
      return { name: vi ? 'mở khi cấp trên xong bước' : 'opens after the parent’s step', from: w(c.from), to: w(c.to) };
    }
    case 'deadline':
      return { name: vi ? 'hạn' : 'deadline', from: describeDeadlineRule(c.from, lang), to: describeDeadlineRule(c.to, lang) };
    case 'reminders':
      return { name: vi ? 'nhắc hạn' : 'reminders', from: remindersWords(c.from, lang), to: remindersWords(c.to, lang) };
    case 'escalation':
      return { name: vi ? 'báo cáo vượt cấp' : 'escalation', from: escalationWords(c.from, lang), to: escalationWords(c.to, lang) };
    case 'target':
      return { name: vi ? 'tỷ lệ tham dự' : 'attendance target', from: targetWords(c.from, lang), to: targetWords(c.to, lang) };
    case 'documentTypes':
      return { name: vi ? 'loại văn bản' : 'document types', from: listWords(c.from, lang), to: listWords(c.to, lang) };
  }
}

/**
 * The diff as lines for people, Vietnamese first, in a stable order: the plan's title and holidays,
 * then the steps removed, added and changed (one line per changed field), e.g.
 * vi `Bước issue-district: hạn đổi từ «30 ngày sau khi …» thành «45 ngày sau khi …»`.
 * An empty diff gives no lines.
 */
export function describePlanDiff(diff: PlanDiff): Sentence[] {
  const lines: Sentence[] = [];
  const both = (f: (lang: Lang) => string): Sentence => ({ vi: f('vi'), en: f('en') });
  if (diff.title) {
    const t = diff.title;
    lines.push({ vi: `Tên kế hoạch đổi từ «${t.from}» thành «${t.to}»`, en: `Plan title changed from «${t.from}» to «${t.to}»` });
  }
  if (diff.holidays) {
    const h = diff.holidays;
    if (h.added.length) lines.push({ vi: `Thêm ngày nghỉ: ${h.added.join(', ')}`, en: `Days off added: ${h.added.join(', ')}` });
    if (h.removed.length) lines.push({ vi: `Bỏ ngày nghỉ: ${h.removed.join(', ')}`, en: `Days off removed: ${h.removed.join(', ')}` });
  }
  for (const { step } of diff.removed) {
    lines.push(both((l) => (l === 'vi' ? `Bỏ bước ${step.id} («${step.title}»)` : `Step ${step.id} («${step.title}») removed`)));
  }
  for (const { step } of diff.added) {
    lines.push(
      both((l) =>
        l === 'vi'
          ? `Thêm bước ${step.id} («${step.title}», ${stepKindName(step.kind, l)}, ${levelsWords(step.levels, l)}): hạn ${describeDeadlineRule(step.deadline, l)}`
          : `Step ${step.id} added («${step.title}», ${stepKindName(step.kind, l)}, ${levelsWords(step.levels, l)}): deadline ${describeDeadlineRule(step.deadline, l)}`,
      ),
    );
  }
  for (const s of diff.changed) {
    for (const c of s.changes) {
      lines.push(
        both((l) => {
          const w = fieldWords(c, l);
          return l === 'vi' ? `Bước ${s.stepId}: ${w.name} đổi từ «${w.from}» thành «${w.to}»` : `Step ${s.stepId}: ${w.name} changed from «${w.from}» to «${w.to}»`;
        }),
      );
    }
  }
  return lines;
}
