/** `trienkhai contacts import | list`: where units' notifications go (webhooks, email). */
import { basename } from 'node:path';
import { importContacts, listContacts, moveContacts, parseContactsFile } from '../../notify/contacts';
import { defineCommand, defineGroup } from '../command';
import { readInputFile } from '../files';
import { table } from '../format';
import { JSON_OPTION } from '../options';
import { withSession } from '../session';

const importCommand = defineCommand({
  name: 'import',
  summary: "import units' contacts (CSV or JSON); a unit's earlier contacts are replaced",
  positionals: [{ name: 'FILE', required: true, description: 'a .csv or .json file: unit, channel (webhook|email), address, name' }],
  arity: 'give exactly one file',
  options: { ...JSON_OPTION },
  examples: ['trienkhai contacts import contacts.csv'],
  async run({ values, args: [file], io }) {
    // The whole file is checked before the database is touched; the units are checked in the import's transaction.
    const contacts = parseContactsFile(basename(file), readInputFile(file));
    return withSession(async (s) => {
      const r = await importContacts(s.db, contacts);
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else io.out(`Imported ${r.contacts} contact(s) for ${r.units.length} unit(s) (${r.units.join(', ')}); ${r.replaced} earlier contact(s) of those units replaced.`);
      return 0;
    });
  },
});

const list = defineCommand({
  name: 'list',
  summary: 'the contacts, of every unit or of one',
  positionals: [],
  options: { unit: { type: 'string', value: 'CODE', description: 'of this unit only' }, ...JSON_OPTION },
  examples: ['trienkhai contacts list --unit BG'],
  async run({ values, io }) {
    return withSession(async (s) => {
      const rows = await listContacts(s.db, values.unit);
      if (values.json) io.out(JSON.stringify(rows, null, 2));
      else
        io.out(
          rows.length
            ? table(
                ['unit', 'channel', 'address', 'name'],
                rows.map((r) => [r.unitCode, r.channel, r.address, r.name]),
              )
            : 'No contacts.',
        );
      return 0;
    });
  },
});

const move = defineCommand({
  name: 'move',
  summary: "move a merged-away unit's contacts to its successor (by lineage, or --to)",
  positionals: [{ name: 'CODE', required: true, description: 'the unit whose contacts move (merged away, split, or any unit with --to)' }],
  arity: 'give exactly one unit code',
  options: { to: { type: 'string', value: 'CODE', description: 'the unit that gets them (default: the one current successor)', fills: ['to'] }, ...JSON_OPTION },
  examples: ['trienkhai contacts move BG.YT.DongTam', 'trienkhai contacts move BG.X3 --to BG.X3a'],
  async run({ values, args: [code], io }) {
    return withSession(async (s) => {
      const r = await moveContacts(s.db, code, values.to);
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else io.out(`Đã chuyển ${r.moved} liên hệ từ ${r.from} sang ${r.to} / moved ${r.moved} contact(s) from ${r.from} to ${r.to}.`);
      return 0;
    });
  },
});

export const contacts = defineGroup({ name: 'contacts', section: 'notifications', summary: "liên hệ / where units' notifications go", commands: [importCommand, list, move] });
