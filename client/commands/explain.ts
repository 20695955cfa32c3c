/** `trienkhai explain`: why a unit's deadline is the date it is. */
import { explainDeadline, explanationLines } from '../../app/explain';
import { defineCommand, defineGroup } from '../command';
import { JSON_OPTION, LANG_OPTION, langOf } from '../options';
import { withSession } from '../session';

const explain = defineCommand({
  summary: "why a unit's deadline is the date it is: the rule, the anchor, the calendar and the days it skipped, every extension",
  positionals: [{ name: 'ROLLOUT_ID', required: true, description: 'the rollout' }],
  arity: 'give the rollout ID as the one argument',
  options: {
    unit: { type: 'string', value: 'CODE', required: true, description: 'the unit' },
    step: { type: 'string', value: 'STEP_KEY', required: true, description: 'its step (the key, e.g. study or report#2)' },
    ...JSON_OPTION,
    ...LANG_OPTION,
  },
  examples: ['trienkhai explain 21-NQ-TW.2022-06-16.BG --unit BG.SD --step study'],
  async run({ values, args: [rolloutId], io }) {
    const lang = langOf(values);
    return withSession(async (s) => {
      const x = await explainDeadline(s.db, rolloutId, values.unit, values.step);
      if (values.json) io.out(JSON.stringify(x, null, 2));
      else for (const line of explanationLines(x, lang)) io.out(line);
      return 0;
    });
  },
});

export const explainGroup = defineGroup({ name: 'explain', section: 'units', summary: 'giải thích hạn / why a deadline is the date it is', commands: [explain] });
