/** `trienkhai escalations [list] | acknowledge | direct`: what is escalated to a standing committee, and its answers. */
import { actOnEscalation, newRequestId } from '../../app/commands';
import { escalationsPage } from '../../app/reads';
import { defineCommand, defineGroup } from '../command';
import { UsageError } from '../errors';
import { label } from '../format';
import { JSON_OPTION, LANG_OPTION, PAGING_OPTIONS, langOf, pageNote, paging } from '../options';
import { escalationTable } from '../render';
import { withSession } from '../session';

const list = defineCommand({
  name: 'list',
  default: true,
  summary: 'the escalations, filtered by rollout, committee, unit and status (open by default)',
  positionals: [],
  arity: (given) => `unexpected argument "${given[0]}" (use --rollout ID)`,
  options: {
    rollout: { type: 'string', value: 'ROLLOUT_ID', description: 'of this rollout' },
    recipient: { type: 'string', value: 'CODE', description: 'addressed to this standing committee' },
    unit: { type: 'string', value: 'CODE', description: 'of this unit' },
    status: { type: 'string', value: 'open|resolved|all', description: 'which (default: open)' },
    ...PAGING_OPTIONS,
    ...JSON_OPTION,
    ...LANG_OPTION,
  },
  examples: ['trienkhai escalations --recipient BG', 'trienkhai escalations --rollout 21-NQ-TW.2022-06-16.BG --unit BG.LN --status all --lang en'],
  async run({ values, io }) {
    const lang = langOf(values);
    const status = values.status ?? 'open';
    if (!['open', 'resolved', 'all'].includes(status)) throw new UsageError(`--status must be open, resolved or all, got "${status}"`);
    const p = paging(values, 100);
    return withSession(async (s) => {
      const page = await escalationsPage(
        s.db,
        {
          ...(values.rollout ? { rolloutId: values.rollout } : {}),
          ...(values.recipient ? { recipient: values.recipient } : {}),
          ...(values.unit ? { unitCode: values.unit } : {}),
          ...(status !== 'all' ? { status: status as 'open' | 'resolved' } : {}),
        },
        p,
      );
      if (values.json) io.out(JSON.stringify(page, null, 2));
      else if (!page.total) io.out(label('none', lang));
      else {
        io.out(escalationTable(page.items, lang));
        const note = pageNote(page, lang);
        if (note) io.out(note);
      }
      return 0;
    });
  },
});

const ESCALATION_ID = [{ name: 'ESCALATION_ID', required: true, description: 'the escalation (its ID in `trienkhai escalations --json`)' }] as const;
const ARITY = 'give the escalation ID as the one argument (see "trienkhai escalations --json")';
const COMMITTEE = { committee: { type: 'string', value: 'CODE', required: true, description: 'the standing committee it is addressed to', fills: ['committeeCode'] } } as const;
const DECIDED = {
  by: { type: 'string', value: 'PERSON', description: 'who decides, for the committee', fills: ['decidedBy'] },
  id: { type: 'string', value: 'REQUEST_ID', description: "this request's ID: the same ID again records it once", fills: ['requestId'] },
  ...JSON_OPTION,
} as const;

function done(r: { duplicate: boolean; escalationId: string; action: string; stepKey: string }): string {
  return `${r.duplicate ? 'Already recorded (same request ID); nothing changed. ' : ''}Escalation ${r.escalationId} ${r.action} (step ${r.stepKey}); it stays open until the step is done or its deadline is extended.`;
}

const acknowledge = defineCommand({
  name: 'acknowledge',
  summary: 'the committee acknowledges an escalation addressed to it',
  positionals: ESCALATION_ID,
  arity: ARITY,
  options: { ...COMMITTEE, note: { type: 'string', value: 'TEXT', description: 'a note to the unit', fills: ['note'] }, ...DECIDED },
  examples: ['trienkhai escalations acknowledge \'R/BG.YT.BoHa/study/2026-11-21T23:39:44.528Z/t1\' --committee BG.YT --note "Đã nhận, sẽ đôn đốc"'],
  async run({ values, args: [escalationId], io, rename }) {
    const input = {
      requestId: values.id ?? newRequestId('acknowledge'),
      escalationId,
      committeeCode: values.committee,
      ...(values.by ? { decidedBy: values.by } : {}),
      ...(values.note ? { note: values.note } : {}),
    };
    return withSession(async (s) => {
      const r = await actOnEscalation(await s.deps(), 'acknowledge', input).catch(rename());
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else io.out(done(r));
      return 0;
    });
  },
});

const direct = defineCommand({
  name: 'direct',
  summary: 'the committee directs the unit what to do, optionally by a date',
  positionals: ESCALATION_ID,
  arity: ARITY,
  options: {
    ...COMMITTEE,
    directive: { type: 'string', value: 'TEXT', required: true, description: 'what the unit is to do', fills: ['directive'] },
    'respond-by': { type: 'string', value: 'DATE', description: 'when the unit is to answer', fills: ['respondBy'] },
    ...DECIDED,
  },
  examples: ['trienkhai escalations direct \'R/BG.YT.BoHa/study/2026-11-21T23:39:44.528Z/t1\' --committee BG.YT --directive "Tổ chức học tập bù trong tuần" --respond-by 2026-11-28'],
  async run({ values, args: [escalationId], io, rename }) {
    const input = {
      requestId: values.id ?? newRequestId('direct'),
      escalationId,
      committeeCode: values.committee,
      ...(values.by ? { decidedBy: values.by } : {}),
      directive: values.directive,
      ...(values['respond-by'] ? { respondBy: values['respond-by'] } : {}),
    };
    return withSession(async (s) => {
      const r = await actOnEscalation(await s.deps(), 'direct', input).catch(rename());
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else io.out(done(r));
      return 0;
    });
  },
});

export const escalations = defineGroup({ name: 'escalations', section: 'units', summary: 'kiến nghị xử lý / escalations to standing committees', commands: [list, acknowledge, direct] });
