/** `trienkhai plan show | check`: the built-in plans and plan files. */
import { resolvePlan } from '../../app/commands';
import type { DeadlineRule } from '../../domain/plan';
import { defineCommand, defineGroup } from '../command';
import { readJsonFile } from '../files';
import { table } from '../format';
import { JSON_OPTION } from '../options';
import { planVersions } from '../../app/amendments';
import { formatLocal } from '../../domain/time';
import { UsageError } from '../errors';
import { withSession } from '../session';

function describeRule(r: DeadlineRule): string {
  if (r.kind === 'absolute') return r.at;
  const off = r.after ?? `${r.workingDays} working days`;
  return r.kind === 'afterStart' ? `start + ${off}` : `parent ${r.stepKind} + ${off}`;
}

function readPlan(arg: string): ReturnType<typeof resolvePlan> {
  return resolvePlan(arg.endsWith('.json') ? readJsonFile(arg) : arg);
}

const show = defineCommand({
  name: 'show',
  summary: "a plan's steps: kinds, levels, deadlines, reminders, escalation",
  positionals: [{ name: 'NAME|FILE', description: 'a built-in plan (demo, bac-giang-2022) or a plan.json (default: bac-giang-2022)' }],
  options: { rollout: { type: 'string', value: 'ROLLOUT_ID', description: 'the plan this rollout runs, with its version and every earlier version' }, ...JSON_OPTION },
  examples: ['trienkhai plan show bac-giang-2022', 'trienkhai plan show examples/plans/minutes.json --json', 'trienkhai plan show --rollout 21-NQ-TW.2022-06-16.BG'],
  async run({ values, args: [arg], io }) {
    if (values.rollout !== undefined && arg !== undefined) throw new UsageError('give a plan (NAME|FILE) or --rollout, not both');
    const versions = values.rollout !== undefined ? await withSession((s) => planVersions(s.db, values.rollout!)) : undefined;
    const plan = versions ? versions.plan : readPlan(arg ?? 'bac-giang-2022');
    if (values.json) io.out(JSON.stringify(versions ?? plan, null, 2));
    else {
      io.out(`${plan.id}: ${plan.title}`);
      if (versions) {
        io.out(`Đợt ${versions.rolloutId} chạy phiên bản ${versions.version} / runs version ${versions.version} (sha256 ${versions.planHash})`);
        for (const v of versions.versions)
          io.out(`  phiên bản / version ${v.version}: ${formatLocal(new Date(v.at))}, ${v.by}${v.reason ? ` — ${v.reason}` : ''}${v.changes.length ? `\n    ${v.changes.join('\n    ')}` : ''}`);
      }
      io.out(
        table(
          ['step', 'kind', 'levels', 'deadline', 'reminders', 'escalation'],
          plan.steps.map((st) => [
            st.id,
            st.kind,
            st.levels?.join(',') ?? '*',
            describeRule(st.deadline) + (st.schedule ? ` ×${st.schedule.count} every ${st.schedule.every}` : ''),
            st.reminders.join(','),
            `${st.escalation.tiers} tiers / ${st.escalation.interval}`,
          ]),
        ),
      );
    }
    return 0;
  },
});

const check = defineCommand({
  name: 'check',
  summary: 'check a plan file; every problem is named',
  positionals: [{ name: 'FILE', required: true, description: 'a plan.json' }],
  arity: 'give a plan file',
  options: {},
  examples: ['trienkhai plan check examples/plans/minutes.json'],
  async run({ args: [arg], io }) {
    const plan = readPlan(arg);
    io.out(`${arg}: valid plan "${plan.id}" with ${plan.steps.length} steps.`);
    return 0;
  },
});

export const plan = defineGroup({ name: 'plan', section: 'ops', summary: 'kế hoạch / rollout plans', commands: [show, check] });
