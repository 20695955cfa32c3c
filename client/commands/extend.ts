/** `trienkhai extend`: a standing committee moves a unit's deadline; its open escalations are resolved. */
import { extendDeadline, newRequestId } from '../../app/commands';
import { getRolloutUnit } from '../../db/queries';
import { DomainError } from '../../domain/errors';
import { formatLocal } from '../../domain/time';
import { defineCommand, defineGroup } from '../command';
import { JSON_OPTION, int } from '../options';
import { withSession } from '../session';

const extend = defineCommand({
  summary: 'a standing committee above a unit extends the deadline of one of its steps',
  description: "The unit's open escalations for the step are resolved and its reminders and escalation timers start again from the new deadline.",
  positionals: [{ name: 'ROLLOUT_ID', required: true, description: 'the rollout' }],
  arity: 'give the rollout ID as the one argument',
  options: {
    unit: { type: 'string', value: 'CODE', required: true, description: 'the unit whose deadline moves', fills: ['unitCode'] },
    step: { type: 'string', value: 'STEP_ID', required: true, description: 'its step', fills: ['stepId'] },
    committee: { type: 'string', value: 'CODE', required: true, description: 'the standing committee that decides: one above the unit', fills: ['committeeCode'] },
    until: { type: 'string', value: 'DATE', required: true, description: 'the new deadline: a date (the end of that day, Vietnam time) or an instant', fills: ['until'] },
    reason: { type: 'string', value: 'TEXT', required: true, description: 'why it is extended (recorded)', fills: ['reason'] },
    decision: { type: 'string', value: 'TEXT', description: "the committee's decision, as written", fills: ['decision'] },
    by: { type: 'string', value: 'PERSON', description: 'who decides, for the committee', fills: ['decidedBy'] },
    occurrence: { type: 'string', value: 'N', integer: true, description: 'which occurrence of a recurring step', fills: ['occurrence'] },
    id: { type: 'string', value: 'REQUEST_ID', description: "this request's ID: the same ID again records it once", fills: ['requestId'] },
    ...JSON_OPTION,
  },
  examples: [
    'trienkhai extend 21-NQ-TW.2022-06-16.BG --unit BG.SD --step study --committee BG --until 2026-11-21T21:28:00Z --reason "Huyện đề nghị gia hạn do mưa lũ" --decision "Đồng ý gia hạn 10 phút" --by "Thường trực Tỉnh ủy"',
  ],
  async run({ values, args: [rolloutId], io, rename }) {
    const unitCode = values.unit;
    const occurrence = int(values.occurrence);
    const input = {
      requestId: values.id ?? newRequestId('extend'),
      stepId: values.step,
      committeeCode: values.committee,
      until: values.until,
      reason: values.reason,
      ...(values.decision ? { decision: values.decision } : {}),
      ...(values.by ? { decidedBy: values.by } : {}),
      ...(occurrence !== undefined ? { occurrence } : {}),
    };
    return withSession(async (s) => {
      if (!(await getRolloutUnit(s.db, rolloutId, unitCode))) throw DomainError.of('--unit', `unit "${unitCode}" is not part of rollout ${rolloutId}`);
      const r = await extendDeadline(await s.deps(), rolloutId, unitCode, input).catch(rename());
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else
        io.out(
          `${r.duplicate ? 'Already recorded (same request ID); nothing changed. ' : ''}Deadline of ${unitCode} step ${r.stepKey} moved from ${formatLocal(new Date(r.previousDueAt))} to ${formatLocal(new Date(r.newDueAt))}; ${r.resolvedEscalations.length} open escalation(s) resolved.`,
        );
      return 0;
    });
  },
});

export const extendGroup = defineGroup({ name: 'extend', section: 'units', summary: 'gia hạn / extend a deadline', commands: [extend] });
