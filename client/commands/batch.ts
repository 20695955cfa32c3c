/**
 * `trienkhai batch extend|direct|acknowledge|suspend|resume|cancel-unit ROLLOUT [filter] …`: one action
 * on a filtered set of a rollout's units (app/batches.ts). The preview (count and sample) comes first;
 * the batch starts after a yes (asked in a terminal, or `--yes`), then its progress is shown until
 * every unit has answered. `batch status BATCH_ID` shows a batch's result per unit.
 */
import { batchStatus, previewBatch, rolloutBatches, startBatch, type BatchPreview } from '../../app/batches';
import { bar, confirmed, countsLine, follow, renderResult } from '../batch-progress';
import { newRequestId } from '../../app/commands';
import { BATCH_ACTION_WORDS, type BatchAction, type BatchItemStatus, type BatchRequest } from '../../domain/batches';
import { DomainError } from '../../domain/errors';
import { formatLocal } from '../../domain/time';
import { defineCommand, defineGroup, type Io } from '../command';
import { readInputFile } from '../files';
import { table } from '../format';
import { JSON_OPTION, int } from '../options';
import { withSession } from '../session';

const FILTER_OPTIONS = {
  within: { type: 'string', value: 'CODE', description: 'units in this subtree', fills: ['filter.within'] },
  level: { type: 'string', value: 'LEVEL', description: 'units of this level (e.g. xa)', fills: ['filter.level'] },
  codes: { type: 'string', value: 'A,B,…', description: 'these units (comma-separated)', fills: ['filter.codes'] },
  'codes-file': { type: 'string', value: 'FILE', description: 'the units listed in a file, one code per line' },
  status: { type: 'string', value: 'overdue|open|waiting|escalated|suspended', description: 'units whose step (--step, else any) has this status', fills: ['filter.status'] },
} as const;

const COMMON_OPTIONS = {
  ...FILTER_OPTIONS,
  reason: { type: 'string', value: 'TEXT', required: true, description: 'why (recorded with every unit)', fills: ['reason'] },
  by: { type: 'string', value: 'NAME', description: 'who decides (recorded as user:NAME, or committee:CODE/NAME with --committee)', fills: ['decidedBy'] },
  yes: { type: 'boolean', description: 'apply without asking (after showing the preview)' },
  'no-wait': { type: 'boolean', description: 'start the batch and return; follow it with `trienkhai batch status BATCH_ID`' },
  id: { type: 'string', value: 'BATCH_ID', description: "this batch's ID: the same ID again starts nothing new", fills: ['batchId'] },
  ...JSON_OPTION,
} as const;

const COMMITTEE_OPTION = { committee: { type: 'string', value: 'CODE', required: true, description: 'the standing committee that decides: one above the units', fills: ['committee'] } } as const;

type Values = Record<string, string | boolean | string[] | undefined>;

function filterOf(v: Values, step: string | undefined) {
  const codes = [
    ...(typeof v.codes === 'string' ? v.codes.split(',') : []),
    ...(typeof v['codes-file'] === 'string'
      ? readInputFile(v['codes-file'])
          .split(/\r?\n/)
          .map((l) => l.replace(/#.*$/, ''))
      : []),
  ]
    .map((c) => c.trim())
    .filter(Boolean);
  return {
    ...(typeof v.within === 'string' ? { within: v.within } : {}),
    ...(typeof v.level === 'string' ? { level: v.level } : {}),
    ...(codes.length ? { codes } : {}),
    ...(step !== undefined ? { step } : {}),
    ...(typeof v.status === 'string' ? { status: v.status } : {}),
  };
}

const words = (a: string) => BATCH_ACTION_WORDS[a as keyof typeof BATCH_ACTION_WORDS] ?? { vi: a, en: a };

function renderPreview(p: BatchPreview, io: Io): void {
  io.out(`Thao tác hàng loạt / batch: ${p.title.vi} (${p.title.en})${p.committee ? `, quyết định của ${p.committee}` : ''} — ${p.units} đơn vị / units`);
  if (p.sample.length)
    io.out(
      table(
        ['Mã / code', 'Tên / name', 'Cấp / level', 'Hạn / due', ''],
        p.sample.map((u) => [u.code, u.name, u.level, u.dueAt ? formatLocal(new Date(u.dueAt)) : '—', u.suspended ? 'tạm dừng / suspended' : '']),
      ),
    );
  if (p.units > p.sample.length) io.out(`… và ${p.units - p.sample.length} đơn vị khác / and ${p.units - p.sample.length} more`);
  if (p.leftOut)
    io.out(
      `Không gồm ${p.leftOut} đơn vị ngoài thẩm quyền của ${p.committee} / ${p.leftOut} matching units left out (not under ${p.committee}): ${p.leftOutSample.join(', ')}${p.leftOut > p.leftOutSample.length ? ', …' : ''}`,
    );
}

/** One batch command: the action's own options, then the shared filter and confirmation. */
function batchCommand<O extends Record<string, { type: 'string' | 'boolean'; description: string; value?: string; required?: boolean; fills?: readonly string[] }>>(spec: {
  name: string;
  summary: string;
  description: string;
  options: O;
  committee: boolean;
  example: string;
  action: (v: Values) => { action: BatchAction; step?: string };
}) {
  return defineCommand({
    name: spec.name,
    summary: spec.summary,
    description: spec.description,
    positionals: [{ name: 'ROLLOUT_ID', required: true, description: 'the rollout' }],
    arity: 'give the rollout ID as the one argument',
    options: { ...spec.options, ...(spec.committee ? COMMITTEE_OPTION : {}), ...COMMON_OPTIONS },
    examples: [spec.example],
    async run({ values, args: [rolloutId], io, rename }) {
      const v = values as Values;
      const { action, step } = spec.action(v);
      const committee = typeof v.committee === 'string' ? v.committee : undefined;
      const by = typeof v.by === 'string' ? v.by : 'ops';
      const request: BatchRequest = {
        filter: filterOf(v, step ?? (typeof v.step === 'string' ? v.step : undefined)) as BatchRequest['filter'],
        action,
        reason: v.reason as string,
        decidedBy: committee ? `committee:${committee}/${by}` : `user:${by}`,
        ...(committee ? { committee } : {}),
        ...(typeof v.id === 'string' ? { batchId: v.id } : {}),
      };
      return withSession(async (s) => {
        const preview = await previewBatch(s.db, rolloutId, request, { role: 'ops' }).catch(rename());
        if (!v.json) renderPreview(preview, io);
        if (!preview.units) {
          if (v.json) io.out(JSON.stringify({ preview, started: null }, null, 2));
          else io.out('Không có đơn vị nào phù hợp; không làm gì. / No unit matches; nothing done.');
          return 0;
        }
        if (!(await confirmed(v.yes === true, preview.units, io))) {
          if (v.json) io.out(JSON.stringify({ preview, started: null }, null, 2));
          return 0;
        }
        const started = await startBatch(await s.deps(), rolloutId, { ...request, batchId: request.batchId ?? newRequestId('batch'), fingerprint: preview.fingerprint }, { role: 'ops' }).catch(
          rename(),
        );
        if (v['no-wait']) {
          if (v.json) io.out(JSON.stringify({ preview, started }, null, 2));
          else io.out(`Đã bắt đầu lô ${started.batchId} / batch started (${started.units} units). Theo dõi / follow: trienkhai batch status ${started.batchId}`);
          return 0;
        }
        const result = await follow(s, started.batchId, io);
        if (v.json) io.out(JSON.stringify({ preview, started, result }, null, 2));
        else renderResult(result, io);
        return 0;
      });
    },
  });
}

const STEP = (description: string, required: boolean) =>
  ({ step: { type: 'string', value: 'STEP_ID', description, ...(required ? { required: true } : {}), fills: ['filter.step', 'action.step'] } }) as const;

const extend = batchCommand({
  name: 'extend',
  summary: "a standing committee extends one step's deadline for every unit the filter picks (e.g. its overdue communes)",
  description:
    'Each unit applies the extension as if it were extended alone: open escalations of the step are resolved, its timers start again from the new deadline; a unit that refuses (already past that date, step done) is listed with why.',
  options: {
    ...STEP('the step whose deadline moves (also filters the units: those with the step pending)', true),
    until: { type: 'string', value: 'DATE', required: true, description: 'the new deadline: a date (the end of that day, Vietnam time) or an instant', fills: ['action.until'] },
    decision: { type: 'string', value: 'TEXT', description: "the committee's decision, as written", fills: ['action.decision'] },
    occurrence: { type: 'string', value: 'N', integer: true, description: 'which occurrence of a recurring step', fills: ['action.occurrence'] },
  },
  committee: true,
  example: 'trienkhai batch extend 21-NQ-TW.2022-06-16.BG --level xa --status overdue --step study --until 2022-12-31 --committee BG --reason "Gia hạn do mưa lũ" --yes',
  action: (v) => {
    const occurrence = int(v.occurrence as string | undefined);
    return {
      step: v.step as string,
      action: {
        action: 'extend',
        step: v.step as string,
        until: v.until as string,
        ...(typeof v.decision === 'string' ? { decision: v.decision } : {}),
        ...(occurrence !== undefined ? { occurrence } : {}),
      },
    };
  },
});

const direct = batchCommand({
  name: 'direct',
  summary: 'the committee an escalation is addressed to directs every unit the filter picks (chỉ đạo), on each open escalation addressed to it',
  description: 'Units with no open escalation addressed to the committee are listed as unchanged.',
  options: {
    ...STEP('only escalations of this step', false),
    directive: { type: 'string', value: 'TEXT', required: true, description: 'the instruction, as written', fills: ['action.directive'] },
    'respond-by': { type: 'string', value: 'YYYY-MM-DD', description: 'the date to report back by', fills: ['action.respondBy'] },
  },
  committee: true,
  example:
    'trienkhai batch direct 21-NQ-TW.2022-06-16.BG --within BG.LN --status escalated --committee BG.LN --directive "Khẩn trương tổ chức học tập" --respond-by 2022-12-15 --reason "Chỉ đạo chung" --yes',
  action: (v) => ({
    action: {
      action: 'direct',
      directive: v.directive as string,
      ...(typeof v.step === 'string' ? { step: v.step } : {}),
      ...(typeof v['respond-by'] === 'string' ? { respondBy: v['respond-by'] } : {}),
    },
  }),
});

const acknowledge = batchCommand({
  name: 'acknowledge',
  summary: 'the committee acknowledges (tiếp nhận) the open escalations addressed to it, of every unit the filter picks',
  description: 'Escalations already acknowledged are left as they are; a unit with none is listed as unchanged.',
  options: { ...STEP('only escalations of this step', false), note: { type: 'string', value: 'TEXT', description: 'a note recorded with each acknowledgement', fills: ['action.note'] } },
  committee: true,
  example: 'trienkhai batch acknowledge 21-NQ-TW.2022-06-16.BG --status escalated --committee BG --reason "Đã tiếp nhận" --yes',
  action: (v) => ({ action: { action: 'acknowledge', ...(typeof v.step === 'string' ? { step: v.step } : {}), ...(typeof v.note === 'string' ? { note: v.note } : {}) } }),
});

const changeCommand = (action: 'suspend' | 'resume' | 'cancelUnit', name: string, summary: string, example: string) =>
  batchCommand({
    name,
    summary,
    description: 'The same change as `trienkhai rollout ' + (action === 'cancelUnit' ? 'cancel-unit' : action) + '`, for every unit the filter picks.',
    options: STEP('with --status: units whose occurrence of this step has that status', false),
    committee: false,
    example,
    action: () => ({ action: { action } }),
  });

const suspend = changeCommand(
  'suspend',
  'suspend',
  'stop the deadline clock of every unit the filter picks (floods, a merger in progress); resume it later with `batch resume`',
  'trienkhai batch suspend 21-NQ-TW.2022-06-16.BG --within BG.SD --reason "Mưa lũ, chia cắt cục bộ" --yes',
);
const resume = changeCommand(
  'resume',
  'resume',
  'restart the clock of every suspended unit the filter picks: their unfinished deadlines move by the time suspended',
  'trienkhai batch resume 21-NQ-TW.2022-06-16.BG --within BG.SD --status suspended --reason "Đã khắc phục" --yes',
);
const cancelUnits = changeCommand(
  'cancelUnit',
  'cancel-unit',
  'stop following every unit the filter picks, with its subtree',
  'trienkhai batch cancel-unit 21-NQ-TW.2022-06-16.BG --codes BG.SD.X1,BG.SD.X2 --reason "Thôn đã sáp nhập theo Nghị quyết của HĐND tỉnh" --yes',
);

const ITEM_STATUSES = ['pending', 'done', 'unchanged', 'refused'] as const;

const status = defineCommand({
  name: 'status',
  summary: "a batch's progress and its result per unit (done, unchanged, refused and why)",
  positionals: [{ name: 'BATCH_ID', required: true, description: 'the batch' }],
  arity: 'give the batch ID as the one argument',
  options: {
    only: { type: 'string', value: 'done|unchanged|refused|pending', description: 'only the units with this result' },
    page: { type: 'string', value: 'N', integer: true, description: 'which page of units (100 per page)' },
    ...JSON_OPTION,
  },
  examples: ['trienkhai batch status batch-2b0c… --only refused'],
  async run({ values, args: [batchId], io }) {
    const only = values.only;
    if (only !== undefined && !(ITEM_STATUSES as readonly string[]).includes(only)) throw DomainError.of('--only', `expected one of ${ITEM_STATUSES.join(', ')}, got "${only}"`);
    const page = int(values.page) ?? 1;
    if (page < 1) throw DomainError.of('--page', 'a page is 1 or more');
    return withSession(async (s) => {
      const st = await batchStatus(s.db, batchId, { ...(only ? { status: only as BatchItemStatus } : {}), limit: 100, offset: (page - 1) * 100 });
      if (values.json) {
        io.out(JSON.stringify(st, null, 2));
        return 0;
      }
      io.out(`Lô / batch ${st.batchId} — ${words(st.action).vi} / ${words(st.action).en}, ${st.rolloutId}`);
      io.out(`Quyết định / decided by ${st.decidedBy}${st.committee ? ` (${st.committee})` : ''}: ${st.reason}`);
      io.out(
        `${bar(st.units - st.counts.pending, st.units)} ${countsLine(st.counts)}${st.status === 'completed' ? ` — xong lúc / finished ${formatLocal(new Date(st.completedAt!))}` : ' — đang chạy / running'}`,
      );
      if (st.items.length)
        io.out(
          table(
            ['Mã / code', 'Kết quả / result', 'Chi tiết / detail'],
            st.items.map((i) => [i.unitCode, i.status, i.message ?? '']),
          ),
        );
      return 0;
    });
  },
});

const list = defineCommand({
  name: 'list',
  summary: "a rollout's batches, newest first",
  positionals: [{ name: 'ROLLOUT_ID', required: true, description: 'the rollout' }],
  arity: 'give the rollout ID as the one argument',
  options: { ...JSON_OPTION },
  examples: ['trienkhai batch list 21-NQ-TW.2022-06-16.BG'],
  async run({ values, args: [rolloutId], io }) {
    return withSession(async (s) => {
      const rows = await rolloutBatches(s.db, rolloutId);
      if (values.json) io.out(JSON.stringify(rows, null, 2));
      else if (!rows.length) io.out(`Chưa có thao tác hàng loạt nào trong ${rolloutId}. / No batches in ${rolloutId} yet.`);
      else
        io.out(
          table(
            ['Lô / batch', 'Thao tác / action', 'Đơn vị / units', 'Trạng thái / status', 'Bắt đầu / started'],
            rows.map((b) => [b.batchId, words(b.action).vi, b.units, b.status, formatLocal(new Date(b.startedAt))]),
          ),
        );
      return 0;
    });
  },
});

export const batch = defineGroup({
  name: 'batch',
  section: 'units',
  summary: 'thao tác hàng loạt / one action on many units (preview, confirm, progress)',
  commands: [extend, direct, acknowledge, suspend, resume, cancelUnits, status, list],
});
