/** `trienkhai rollout start | status | list | cancel | suspend | resume | cancel-unit | amend | follow | recalendar`. */
import { amendRollout, previewAmendment } from '../../app/amendments';
import { confirmed, follow as followBatch, renderResult } from '../batch-progress';
import { describe as describeFollow, followHierarchy, previewFollow } from '../../app/reshape';
import { applyCalendar, previewRollout as previewCalendarChange } from '../../app/recalendar';
import { cancelRollout, changeUnit, newRequestId, resolvePlan, startRollout } from '../../app/commands';
import { rolloutOverview, rolloutsPage, unitDetail } from '../../app/reads';
import { formatLocal } from '../../domain/time';
import { defineCommand, defineGroup, type Context } from '../command';
import { readJsonFile } from '../files';
import { label, table } from '../format';
import { BY_OPS, JSON_OPTION, LANG_OPTION, PAGING_OPTIONS, int, langOf, pageNote, paging } from '../options';
import { renderOverview, renderUnitDetail } from '../render';
import { withSession } from '../session';

const start = defineCommand({
  name: 'start',
  summary: 'start a rollout of a resolution down the hierarchy from a root unit',
  description: 'One workflow per unit, started as a tree that mirrors the hierarchy. Starting the same rollout again changes nothing.',
  positionals: [],
  options: {
    resolution: { type: 'string', value: '21-NQ/TW', required: true, description: "the resolution's document number", fills: ['resolution'] },
    date: { type: 'string', value: 'YYYY-MM-DD', required: true, description: "the resolution's date", fills: ['resolutionDate'] },
    title: { type: 'string', value: 'TEXT', required: true, description: "the resolution's title", fills: ['title'] },
    root: { type: 'string', value: 'UNIT', required: true, description: 'the unit whose subtree carries it out', fills: ['rootUnit', 'root'] },
    plan: { type: 'string', value: 'demo|bac-giang-2022|plan.json', description: 'a built-in plan or a plan file (default: bac-giang-2022)' },
    id: { type: 'string', value: 'ROLLOUT_ID', description: "the rollout's ID (default: built from the resolution, its date and the root)", fills: ['rolloutId'] },
    ...BY_OPS,
    'hierarchy-version': { type: 'string', value: 'N', integer: true, description: 'the hierarchy version to use (default: the latest)', fills: ['hierarchyVersion'] },
    ...JSON_OPTION,
  },
  examples: ['trienkhai rollout start --resolution "Số: 21-NQ/TƯ" --date 2022-06-16 --title "Nghị quyết 21-NQ/TW về tổ chức cơ sở đảng" --root BG --plan examples/plans/minutes.json'],
  async run({ values, io, rename }) {
    const planArg = values.plan ?? 'bac-giang-2022';
    const plan = planArg.endsWith('.json') ? readJsonFile(planArg) : planArg;
    resolvePlan(plan); // a bad plan is reported before anything else
    const hierarchyVersion = int(values['hierarchy-version']);
    const request = {
      resolution: values.resolution,
      resolutionDate: values.date,
      title: values.title,
      rootUnit: values.root,
      plan,
      requestedBy: `user:${values.by ?? 'ops'}`,
      ...(values.id ? { rolloutId: values.id } : {}),
      ...(hierarchyVersion !== undefined ? { hierarchyVersion } : {}),
    };
    return withSession(async (s) => {
      const r = await startRollout(await s.deps(), request).catch(rename());
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else {
        io.out(
          r.alreadyStarted
            ? `Rollout ${r.rolloutId} was already started; nothing changed.`
            : `Started rollout ${r.rolloutId}: ${r.units} units, plan ${r.planId}, hierarchy version ${r.hierarchyVersion}.`,
        );
        io.out(`Next: npx trienkhai rollout status ${r.rolloutId}`);
      }
      return 0;
    });
  },
});

const LIST_OPTIONS = { ...PAGING_OPTIONS, ...JSON_OPTION, ...LANG_OPTION } as const;

/** The rollouts, a page at a time. */
async function listRollouts({ values, io }: Context<typeof LIST_OPTIONS, readonly []>): Promise<number> {
  const lang = langOf(values);
  const p = paging(values);
  return withSession(async (s) => {
    const page = await rolloutsPage(s.db, {}, p);
    if (values.json) io.out(JSON.stringify(page, null, 2));
    else if (!page.total) io.out('No rollouts yet. Start one with: npx trienkhai rollout start …');
    else {
      io.out(
        table(
          ['ID', 'Nghị quyết / resolution', label('plan', lang), label('status', lang), label('started', lang)],
          page.items.map((r) => [r.rolloutId, r.resolution, r.planId, r.status, formatLocal(new Date(r.startedAt), lang)]),
        ),
      );
      const note = pageNote(page, lang);
      if (note) io.out(note);
    }
    return 0;
  });
}

const status = defineCommand({
  name: 'status',
  summary: "a rollout's progress by level and step, its overdue steps; or one unit's steps and escalations",
  description: 'Without ROLLOUT_ID: the list of rollouts (as `rollout list`).',
  positionals: [{ name: 'ROLLOUT_ID', description: 'the rollout (default: list the rollouts)', fills: ['rolloutId'] }],
  options: { unit: { type: 'string', value: 'CODE', description: 'show this unit of the rollout', fills: ['unitCode'] }, ...LIST_OPTIONS },
  examples: ['trienkhai rollout status 21-NQ-TW.2022-06-16.BG', 'trienkhai rollout status 21-NQ-TW.2022-06-16.BG --unit BG.LN --lang en'],
  async run(ctx) {
    const {
      values,
      args: [id],
      io,
      rename,
    } = ctx;
    if (!id) return listRollouts(ctx as unknown as Context<typeof LIST_OPTIONS, readonly []>);
    const lang = langOf(values);
    return withSession(async (s) => {
      const now = new Date();
      if (values.unit) {
        renderUnitDetail(await unitDetail(s.db, id, values.unit, now).catch(rename()), values.json === true, io, lang);
        return 0;
      }
      await renderOverview(s.db, await rolloutOverview(s.db, id, now).catch(rename()), values.json === true, io, lang);
      return 0;
    });
  },
});

const list = defineCommand({
  name: 'list',
  summary: 'the rollouts, newest first',
  positionals: [],
  options: LIST_OPTIONS,
  examples: ['trienkhai rollout list --json'],
  run: listRollouts,
});

const cancel = defineCommand({
  name: 'cancel',
  summary: 'cancel a rollout: every running unit stops as the cancellation reaches it',
  positionals: [{ name: 'ROLLOUT_ID', required: true, description: 'the rollout' }],
  arity: 'give the rollout ID as the one argument',
  options: {
    reason: { type: 'string', value: 'TEXT', required: true, description: 'why it is cancelled (recorded)', fills: ['reason'] },
    ...BY_OPS,
    id: { type: 'string', value: 'REQUEST_ID', description: "this request's ID: the same ID again changes nothing", fills: ['requestId'] },
    ...JSON_OPTION,
  },
  examples: ['trienkhai rollout cancel 21-NQ-TW.2022-06-16.BG --reason "Nghị quyết được thay thế"'],
  async run({ values, args: [rolloutId], io, rename }) {
    const input = { requestId: values.id ?? newRequestId('cancel'), reason: values.reason, requestedBy: `user:${values.by ?? 'ops'}` };
    return withSession(async (s) => {
      const r = await cancelRollout(await s.deps(), rolloutId, input).catch(rename());
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else
        io.out(
          `${r.duplicate ? 'Already cancelled by this request; nothing changed. ' : ''}Rollout ${rolloutId} cancelled at ${formatLocal(new Date(r.cancelledAt))}. Running units stop as the cancellation reaches them ("trienkhai rollout status ${rolloutId}" shows it).`,
        );
      return 0;
    });
  },
});

/** One change to one running unit (suspend, resume, stop following it): the same options for each. */
function unitChangeCommand(op: 'suspend' | 'resume' | 'cancelUnit', name: string, summary: string, description: string, example: string) {
  return defineCommand({
    name,
    summary,
    description,
    positionals: [{ name: 'ROLLOUT_ID', required: true, description: 'the rollout' }],
    arity: 'give the rollout ID as the one argument',
    options: {
      unit: { type: 'string', value: 'CODE', required: true, description: 'the unit', fills: ['unitCode'] },
      reason: { type: 'string', value: 'TEXT', required: true, description: 'why (recorded)', fills: ['reason'] },
      ...BY_OPS,
      id: { type: 'string', value: 'REQUEST_ID', description: "this request's ID: the same ID again changes nothing", fills: ['requestId'] },
      ...JSON_OPTION,
    },
    examples: [example],
    async run({ values, args: [rolloutId], io, rename }) {
      const input = { op, requestId: values.id ?? newRequestId(op), reason: values.reason, decidedBy: `user:${values.by ?? 'ops'}` };
      return withSession(async (s) => {
        const r = await changeUnit(await s.deps(), rolloutId, values.unit, input).catch(rename());
        if (values.json) io.out(JSON.stringify(r, null, 2));
        else {
          const moved = (r.moved ?? [])
            .map((m) => `\n  ${m.key}: ${m.previousDueAt ? formatLocal(new Date(m.previousDueAt)) : '—'} → ${m.newDueAt ? formatLocal(new Date(m.newDueAt)) : '—'}`)
            .join('');
          io.out(`${r.duplicate ? 'Đã ghi nhận trước đó (cùng mã yêu cầu); không thay đổi gì. ' : ''}${r.unitCode}: ${r.summary.vi}.${moved}`);
        }
        return 0;
      });
    },
  });
}

const suspend = unitChangeCommand(
  'suspend',
  'suspend',
  "stop a unit's deadline clock (floods, a merger in progress): no reminder, deadline or escalation fires until it resumes",
  'The timeline records who decided it and why. Deadlines move only when the clock resumes, by the time it was stopped.',
  'trienkhai rollout suspend 21-NQ-TW.2022-06-16.BG --unit BG.SD --reason "Mưa lũ, chia cắt cục bộ" --by "Văn phòng Tỉnh ủy"',
);
const resume = unitChangeCommand(
  'resume',
  'resume',
  "restart a suspended unit's deadline clock: every unfinished deadline moves by the time suspended",
  'Prints each deadline that moved, with its old and new date.',
  'trienkhai rollout resume 21-NQ-TW.2022-06-16.BG --unit BG.SD --reason "Đã khắc phục hậu quả mưa lũ"',
);
const cancelUnit = unitChangeCommand(
  'cancelUnit',
  'cancel-unit',
  'stop following one unit and its subtree in a rollout (its open steps close without completion)',
  'The rollout itself goes on; the parent unit stops waiting for this one. The root of a rollout cannot be cancelled alone: cancel the rollout.',
  'trienkhai rollout cancel-unit 21-NQ-TW.2022-06-16.BG --unit BG.SD.X1 --reason "Đơn vị tạm dừng hoạt động"',
);

const amend = defineCommand({
  name: 'amend',
  summary: "amend a running rollout's plan: a deadline moved, a step added or removed (if not started), reminders or escalation changed",
  description:
    'The amended plan is the whole plan file (the same id). The preview lists each change and the units it reaches; a step some unit has started cannot be removed. Once confirmed, the rollout runs the new version (units enrolled later get it) and every running unit applies it; a unit keeps its own extension of a moved deadline unless --override-extensions.',
  positionals: [{ name: 'ROLLOUT_ID', required: true, description: 'the rollout' }],
  arity: 'give the rollout ID as the one argument',
  options: {
    plan: { type: 'string', value: 'FILE', required: true, description: 'the amended plan (a plan.json, or a built-in plan name)', fills: ['plan'] },
    reason: { type: 'string', value: 'TEXT', required: true, description: 'why the plan changes (recorded)', fills: ['reason'] },
    ...BY_OPS,
    'override-extensions': { type: 'boolean', description: 'set every moved deadline by the new rule, even where a committee extended it (default: keep extensions)' },
    yes: { type: 'boolean', description: 'apply without asking (after showing the preview)' },
    'no-wait': { type: 'boolean', description: 'record the amendment and return; follow the units with `trienkhai batch status BATCH_ID`' },
    id: { type: 'string', value: 'BATCH_ID', description: "this amendment's ID: the same ID again changes nothing", fills: ['batchId'] },
    ...JSON_OPTION,
  },
  examples: ['trienkhai rollout amend 21-NQ-TW.2022-06-16.BG --plan ke-hoach-sua-doi.json --reason "Tỉnh ủy điều chỉnh thời hạn ban hành kế hoạch" --yes'],
  async run({ values, args: [rolloutId], io, rename }) {
    const plan = values.plan.endsWith('.json') ? readJsonFile(values.plan) : values.plan;
    resolvePlan(plan); // a bad plan file is reported before anything else
    const request = { plan, reason: values.reason, decidedBy: `user:${values.by ?? 'ops'}`, keepExtensions: values['override-extensions'] !== true, ...(values.id ? { batchId: values.id } : {}) };
    return withSession(async (s) => {
      const preview = await previewAmendment(s.db, rolloutId, request).catch(rename());
      if (!values.json) {
        io.out(
          `Sửa đổi kế hoạch ${preview.planId} của ${rolloutId}: phiên bản ${preview.fromVersion} → ${preview.toVersion} / amending plan ${preview.planId}: version ${preview.fromVersion} → ${preview.toVersion}`,
        );
        for (const c of preview.changes) io.out(`  - ${c.vi}\n    ${c.en}`);
        io.out(
          table(
            ['Bước / step', 'Thay đổi / change', 'Cấp / levels', 'Đơn vị / units'],
            preview.steps.map((st) => [st.stepId, { added: 'thêm / added', removed: 'bỏ / removed', changed: 'sửa / changed' }[st.change], st.levels?.join(', ') ?? '*', st.units]),
          ),
        );
        io.out(
          `${preview.units} đơn vị đang chạy sẽ áp dụng / running units apply it${preview.extended ? `; ${preview.extended} có gia hạn riêng, ${preview.keepExtensions ? 'được giữ / kept' : 'bị thay / overridden'}` : ''}.`,
        );
      }
      if (!(await confirmed(values.yes === true, preview.units, io))) {
        if (values.json) io.out(JSON.stringify({ preview, applied: null }, null, 2));
        return 0;
      }
      const applied = await amendRollout(await s.deps(), rolloutId, { ...request, fingerprint: preview.fingerprint }).catch(rename());
      if (values['no-wait']) {
        if (values.json) io.out(JSON.stringify({ preview, applied }, null, 2));
        else
          io.out(
            `Đã ghi nhận phiên bản ${applied.version}; các đơn vị đang áp dụng (lô ${applied.batchId}). / Version ${applied.version} recorded; units are applying it: trienkhai batch status ${applied.batchId}`,
          );
        return 0;
      }
      const result = await followBatch(s, applied.batchId, io);
      if (values.json) io.out(JSON.stringify({ preview, applied, result }, null, 2));
      else {
        io.out(
          `${applied.alreadyApplied ? 'Đã áp dụng trước đó (cùng mã); không thay đổi gì. / Applied before (same ID); nothing changed. ' : ''}Kế hoạch ${applied.planId} phiên bản ${applied.version} (sha256 ${applied.planHash.slice(0, 12)}…).`,
        );
        renderResult(result, io);
      }
      return 0;
    });
  },
});

const follow = defineCommand({
  name: 'follow',
  summary: "make a running rollout follow a newer version of its organisation's hierarchy (mergers, dissolutions, moves)",
  description:
    'The preview lists what each running unit gets: reshaped (escalations rerouted along the new tree), merged into its successor (open steps, attendance and escalations pass on; a new successor is enrolled first), dissolved, started (new units), adopted by a new parent. Once confirmed it is recorded and applied unit by unit.',
  positionals: [{ name: 'ROLLOUT_ID', required: true, description: 'the rollout' }],
  arity: 'give the rollout ID as the one argument',
  options: {
    version: { type: 'string', value: 'N', integer: true, description: "the hierarchy version to follow (default: the latest of the rollout's organisation)", fills: ['toVersion'] },
    'effective-from': { type: 'string', value: 'YYYY-MM-DD', description: "when the change took effect (default: the version's own date, else today)", fills: ['effectiveFrom'] },
    reason: { type: 'string', value: 'TEXT', required: true, description: 'why (recorded with every unit)', fills: ['reason'] },
    ...BY_OPS,
    yes: { type: 'boolean', description: 'apply without asking (after showing the preview)' },
    'no-wait': { type: 'boolean', description: 'record it and return; follow the units with `trienkhai batch status BATCH_ID`' },
    id: { type: 'string', value: 'BATCH_ID', description: "this change's ID: the same ID again changes nothing", fills: ['batchId'] },
    ...JSON_OPTION,
  },
  examples: ['trienkhai rollout follow 21-NQ-TW.2022-06-16.BG --reason "Thực hiện Nghị quyết 60-NQ/TW: bỏ cấp huyện, sáp nhập xã" --yes'],
  async run({ values, args: [rolloutId], io, rename }) {
    const version = int(values.version);
    const request = {
      reason: values.reason,
      decidedBy: `user:${values.by ?? 'ops'}`,
      ...(version !== undefined ? { toVersion: version } : {}),
      ...(values['effective-from'] ? { effectiveFrom: values['effective-from'] } : {}),
      ...(values.id ? { batchId: values.id } : {}),
    };
    return withSession(async (s) => {
      const preview = await previewFollow(s.db, rolloutId, request).catch(rename());
      if (!values.json) {
        const c = preview.counts;
        io.out(`${rolloutId}: hệ thống tổ chức phiên bản ${preview.fromVersion} → ${preview.toVersion} / hierarchy version ${preview.fromVersion} → ${preview.toVersion}`);
        io.out(
          `  hợp nhất / merged ${c.merged} · giải thể / dissolved ${c.dissolved} · đơn vị mới / started ${c.started} · chuyển đến / adopted ${c.adopted} · cập nhật / reshaped ${c.reshaped} · thôi theo dõi / released ${c.released}`,
        );
        io.out(`  ${preview.openStepsEnding} bước chưa xong của đơn vị kết thúc chuyển sang đơn vị kế thừa hoặc khép lại; ${preview.openEscalations} kiến nghị đang mở được chuyển cấp nhận khi cần.`);
        io.out(
          table(
            ['Đơn vị / unit', 'Thay đổi / change'],
            preview.changes.slice(0, 30).map((ch) => [ch.code, describeFollow(ch).slice(ch.code.length + 2)]),
          ),
        );
        if (preview.changes.length > 30) io.out(`… và ${preview.changes.length - 30} thay đổi khác / and ${preview.changes.length - 30} more`);
      }
      if (!(await confirmed(values.yes === true, preview.changes.length, io))) {
        if (values.json) io.out(JSON.stringify({ preview, applied: null }, null, 2));
        return 0;
      }
      const applied = await followHierarchy(await s.deps(), rolloutId, { ...request, fingerprint: preview.fingerprint }).catch(rename());
      if (values['no-wait'] || applied.units === 0) {
        if (values.json) io.out(JSON.stringify({ preview, applied }, null, 2));
        else io.out(`Đã ghi nhận: ${rolloutId} theo phiên bản ${applied.toVersion}. / Recorded: follow the units with trienkhai batch status ${applied.batchId}`);
        return 0;
      }
      const result = await followBatch(s, applied.batchId, io);
      if (values.json) io.out(JSON.stringify({ preview, applied, result }, null, 2));
      else renderResult(result, io);
      return 0;
    });
  },
});

const recalendar = defineCommand({
  name: 'recalendar',
  summary: "recompute a running rollout's working-day deadlines under a new calendar version (days off added or removed, make-up working days)",
  description:
    'The preview lists, unit by unit, each deadline that moves (old and new date); deadlines a committee extended keep their date. Once confirmed, every running unit counts on the new calendar, each moved deadline recorded with both calendar versions.',
  positionals: [{ name: 'ROLLOUT_ID', required: true, description: 'the rollout' }],
  arity: 'give the rollout ID as the one argument',
  options: {
    calendar: { type: 'string', value: 'CALENDAR_ID', description: 'the calendar (default: vn-official)', fills: ['calendarId'] },
    version: { type: 'string', value: 'N', integer: true, description: 'its version (default: the newest)', fills: ['version'] },
    reason: { type: 'string', value: 'TEXT', required: true, description: 'why (recorded with every unit)', fills: ['reason'] },
    ...BY_OPS,
    yes: { type: 'boolean', description: 'apply without asking (after showing the preview)' },
    'no-wait': { type: 'boolean', description: 'start it and return; follow the units with `trienkhai batch status BATCH_ID`' },
    id: { type: 'string', value: 'BATCH_ID', description: "this change's ID: the same ID again changes nothing", fills: ['batchId'] },
    ...JSON_OPTION,
  },
  examples: ['trienkhai rollout recalendar 21-NQ-TW.2022-06-16.BG --reason "Thủ tướng quyết định nghỉ bù ngày 02/01/2027" --yes'],
  async run({ values, args: [rolloutId], io, rename }) {
    const version = int(values.version);
    const request = {
      reason: values.reason,
      decidedBy: `user:${values.by ?? 'ops'}`,
      ...(values.calendar ? { calendarId: values.calendar } : {}),
      ...(version !== undefined ? { version } : {}),
      ...(values.id ? { batchId: values.id } : {}),
    };
    return withSession(async (s) => {
      const preview = await previewCalendarChange(s.db, rolloutId, request).catch(rename());
      const moving = preview.units.filter((u) => u.moved.length);
      if (!values.json) {
        io.out(
          `${rolloutId}: lịch ${preview.calendar.id} phiên bản ${preview.calendar.version} — ${moving.length} đơn vị có hạn thay đổi, ${preview.unchanged} không đổi / ${moving.length} units have deadlines that move`,
        );
        const rows = moving.flatMap((u) => u.moved.map((m) => [u.unitCode, m.key, formatLocal(new Date(m.previousDueAt)), formatLocal(new Date(m.newDueAt))]));
        if (rows.length) io.out(table(['Đơn vị / unit', 'Bước / step', 'Hạn cũ / was', 'Hạn mới / now'], rows.slice(0, 30)));
        if (rows.length > 30) io.out(`… và ${rows.length - 30} hạn khác / and ${rows.length - 30} more`);
      }
      if (!(await confirmed(values.yes === true, preview.units.length + preview.unchanged, io))) {
        if (values.json) io.out(JSON.stringify({ preview, started: null }, null, 2));
        return 0;
      }
      const started = await applyCalendar(await s.deps(), rolloutId, { ...request, fingerprint: preview.fingerprint }).catch(rename());
      if (values['no-wait']) {
        if (values.json) io.out(JSON.stringify({ preview, started }, null, 2));
        else io.out(`Đã bắt đầu lô ${started.batchId} / batch started: trienkhai batch status ${started.batchId}`);
        return 0;
      }
      const result = await followBatch(s, started.batchId, io);
      if (values.json) io.out(JSON.stringify({ preview, started, result }, null, 2));
      else renderResult(result, io);
      return 0;
    });
  },
});

export const rollout = defineGroup({
  name: 'rollout',
  section: 'ops',
  summary: 'đợt triển khai / rollouts of a resolution',
  commands: [start, status, list, cancel, suspend, resume, cancelUnit, amend, follow, recalendar],
});
