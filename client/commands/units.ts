/** `trienkhai units import`: a hierarchy file becomes the next hierarchy version. */
import { basename } from 'node:path';
import { importUnits } from '../../app/commands';
import { parseUnitsFile } from '../../domain/hierarchy';
import { defineCommand, defineGroup } from '../command';
import { readInputFile } from '../files';
import { BY_OPS, JSON_OPTION } from '../options';
import { withSession } from '../session';

const importCommand = defineCommand({
  name: 'import',
  summary: 'import a hierarchy (CSV or JSON) as the next hierarchy version',
  description: 'The whole file is checked first; every bad row is named (line, column) and nothing is recorded.',
  positionals: [{ name: 'FILE', required: true, description: 'a .csv or .json file: code, name, level, parent, members, standing_committee' }],
  arity: 'give exactly one file',
  options: { ...BY_OPS, ...JSON_OPTION },
  examples: ['trienkhai units import examples/bac-giang-2022/units.csv'],
  async run({ values, args: [file], io }) {
    const content = readInputFile(file);
    // Check the whole file before touching the database: bad input is reported even with no stack running.
    const units = parseUnitsFile(basename(file), content);
    return withSession(async (s) => {
      const r = await importUnits(s.db, basename(file), content, `user:${values.by ?? 'ops'}`, units);
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else io.out(`Imported ${r.units} units as hierarchy version ${r.version} (levels: ${r.levels.join(' → ')}; root${r.roots.length > 1 ? 's' : ''}: ${r.roots.join(', ')}).`);
      return 0;
    });
  },
});

export const units = defineGroup({ name: 'units', section: 'ops', summary: 'đơn vị / the organisation hierarchy', commands: [importCommand] });
