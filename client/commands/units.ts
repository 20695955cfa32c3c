/**
 * `trienkhai units import | change | lineage | organisations`: each organisation's hierarchy, its
 * dated changes and what became of a unit. Changes are previewed first and stored only with `--yes`
 * (or a "yes" typed at a terminal).
 */
import { basename } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { applyHierarchyChanges, ConfirmationRequired, importOrganisation, lineage, organisations, previewImport, type ImportPreview } from '../../app/hierarchies';
import { parseUnitsFile } from '../../domain/hierarchy';
import type { Lang } from '../../domain/time';
import { defineCommand, defineGroup, type Io } from '../command';
import { readInputFile, readJsonFile } from '../files';
import { table } from '../format';
import { BY_OPS, JSON_OPTION, LANG_OPTION, langOf } from '../options';
import { withSession } from '../session';

const YES = { yes: { type: 'boolean', short: 'y', description: 'apply the changes shown without asking (otherwise: asked at a terminal, refused elsewhere)' } } as const;

/** Ask at a terminal; never elsewhere (a script must say --yes). */
async function confirmed(yes: boolean | undefined, io: Io, lang: Lang): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY || !process.stdout.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const a = (await rl.question(lang === 'vi' ? 'Áp dụng các thay đổi trên? (có/không) ' : 'Apply these changes? (yes/no) ')).trim().toLowerCase();
    return ['y', 'yes', 'c', 'có', 'co'].includes(a);
  } finally {
    rl.close();
    void io;
  }
}

function printPreview(p: ImportPreview, io: Io, lang: Lang): void {
  for (const o of p.organisations) {
    if (o.previousVersion === null) continue;
    io.out(
      lang === 'vi'
        ? `${o.organisation}: so với phiên bản ${o.previousVersion}, ${o.changes.length ? `${o.changes.length} thay đổi:` : 'không thay đổi.'}`
        : `${o.organisation}: against version ${o.previousVersion}, ${o.changes.length ? `${o.changes.length} change(s):` : 'no changes.'}`,
    );
    for (const l of o.lines) io.out(`  ${l[lang]}`);
  }
}

const importCommand = defineCommand({
  name: 'import',
  summary: "import one organisation's hierarchy (CSV or JSON): a whole snapshot, or a delta; other organisations are untouched",
  description:
    'The whole file is checked first; every bad row is named (line, column) and nothing is recorded. Each root of the file is an organisation and gets its own new version. If the import moves, adds or removes units of an organisation already imported, the changes are shown and applied only with --yes.',
  positionals: [{ name: 'FILE', required: true, description: 'a .csv or .json file: code, name, level, parent, members, standing_committee' }],
  arity: 'give exactly one file',
  options: {
    delta: { type: 'boolean', description: "the file's rows are added to or replace units of the organisation's latest version (parents may be units already imported)" },
    organisation: { type: 'string', value: 'CODE', description: 'the organisation the file is for (checked; default: from the file)', fills: ['organisation'] },
    ...YES,
    ...BY_OPS,
    ...LANG_OPTION,
    ...JSON_OPTION,
  },
  examples: ['trienkhai units import examples/bac-giang-2022/units.csv', 'trienkhai units import bg-2025-communes.csv --delta --yes'],
  async run({ values, args: [file], io }) {
    const lang = langOf(values);
    const content = readInputFile(file);
    const fileName = basename(file);
    // Check the whole file before touching the database: bad input is reported even with no stack running.
    const units = parseUnitsFile(fileName, content, { partial: values.delta === true });
    const request = { fileName, content, ...(values.delta ? { delta: true } : {}), ...(values.organisation ? { organisation: values.organisation } : {}) };
    return withSession(async (s) => {
      const preview = await previewImport(s.db, request, units);
      if (!values.json) printPreview(preview, io, lang);
      const confirm = !preview.needsConfirmation || (await confirmed(values.yes, io, lang));
      if (!confirm) throw new ConfirmationRequired(preview);
      const r = await importOrganisation(s.db, { ...request, confirm: true }, `user:${values.by ?? 'ops'}`, units);
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else
        for (const v of r.versions)
          io.out(
            lang === 'vi'
              ? `Đã nhập ${v.units} đơn vị của ${v.organisation}: phiên bản ${v.version}${v.previousVersion !== null ? ` (trước là ${v.previousVersion})` : ''}; các cấp: ${r.levels.join(' → ')}.`
              : `Imported ${v.units} units as hierarchy version ${v.version} of organisation ${v.organisation}${v.previousVersion !== null ? ` (was ${v.previousVersion})` : ''}; levels: ${r.levels.join(' → ')}.`,
          );
      return 0;
    });
  },
});

const changeCommand = defineCommand({
  name: 'change',
  summary: 'apply a dated change to one organisation (merge, split, move, rename, dissolve, create…): previewed, stored with --yes',
  description:
    'The file: {organisation, effectiveFrom, reason, decidedBy, operations: [{op: "merge", codes, into, name}, {op: "move", code, parent}, …]}. Every problem is named by its operation (operations[3].parent) and nothing is stored.',
  positionals: [],
  options: {
    file: { type: 'string', value: 'changes.json', required: true, description: 'the change, as JSON' },
    'dry-run': { type: 'boolean', description: 'only check the change and show what it does' },
    ...YES,
    ...LANG_OPTION,
    ...JSON_OPTION,
  },
  examples: ['trienkhai units change --file bg-2025-07-01.json', 'trienkhai units change --file bg-2025-07-01.json --yes'],
  async run({ values, io }) {
    const lang = langOf(values);
    const request = readJsonFile(values.file);
    return withSession(async (s) => {
      const preview = await applyHierarchyChanges(s.db, request, { dryRun: true });
      const head = (version: number | null) =>
        lang === 'vi'
          ? `${preview.organisation} từ ${preview.effectiveFrom}: phiên bản ${preview.previousVersion} → ${version ?? '(chưa lưu)'}, ${preview.units} đơn vị, ${preview.changes.length} thay đổi:`
          : `${preview.organisation} from ${preview.effectiveFrom}: version ${preview.previousVersion} → ${version ?? '(not stored)'}, ${preview.units} units, ${preview.changes.length} change(s):`;
      if (values['dry-run']) {
        if (values.json) io.out(JSON.stringify(preview, null, 2));
        else [head(null), ...preview.lines.map((l) => `  ${l[lang]}`)].forEach((l) => io.out(l));
        return 0;
      }
      if (!values.json) [head(null), ...preview.lines.map((l) => `  ${l[lang]}`)].forEach((l) => io.out(l));
      if (!(await confirmed(values.yes, io, lang))) {
        io.err(lang === 'vi' ? 'Chưa lưu gì: chạy lại với --yes để áp dụng.' : 'Nothing was stored: run again with --yes to apply.');
        return 2;
      }
      const r = await applyHierarchyChanges(s.db, request);
      if (values.json) io.out(JSON.stringify(r, null, 2));
      else
        io.out(
          lang === 'vi' ? `Đã lưu phiên bản ${r.version} của ${r.organisation} (hiệu lực từ ${r.effectiveFrom}).` : `Stored version ${r.version} of ${r.organisation} (effective ${r.effectiveFrom}).`,
        );
      return 0;
    });
  },
});

const KIND_VI: Record<string, string> = { merged: 'sáp nhập vào', split: 'chia tách thành', dissolved: 'giải thể', created: 'thành lập', renamed: 'đổi tên', moved: 'chuyển' };

const lineageCommand = defineCommand({
  name: 'lineage',
  summary: 'what a unit became (merged, split, dissolved) and what it came from',
  positionals: [{ name: 'CODE', required: true, description: 'a unit code, current or merged away', fills: ['code'] }],
  arity: 'give exactly one unit code',
  options: {
    before: { type: 'string', value: 'YYYY-MM-DD', description: 'predecessors: follow back only the changes effective on or after this day', fills: ['before'] },
    ...LANG_OPTION,
    ...JSON_OPTION,
  },
  examples: ['trienkhai units lineage BG.YT', 'trienkhai units lineage BG.X1 --before 2025-07-01'],
  async run({ values, args: [code], io }) {
    const lang = langOf(values);
    return withSession(async (s) => {
      const r = await lineage(s.db, code, values.before);
      if (values.json) {
        io.out(JSON.stringify(r, null, 2));
        return 0;
      }
      const vi = lang === 'vi';
      io.out(
        r.home
          ? `${code}: ${vi ? 'tổ chức' : 'organisation'} ${r.home.organisation}, ${vi ? 'phiên bản mới nhất' : 'latest version'} ${r.home.latestVersion}${r.home.current ? '' : vi ? ' (không còn trong phiên bản này)' : ' (no longer in it)'}`
          : `${code}`,
      );
      const step = (st: { from: string | null; to: string | null; kind: string; effectiveFrom: string | null; depth: number }, towards: 'to' | 'from') =>
        `  ${'  '.repeat(st.depth - 1)}${st.from ?? '—'} ${vi ? (KIND_VI[st.kind] ?? st.kind) : st.kind} ${st.to ?? ''}${st.effectiveFrom ? ` (${vi ? 'từ' : 'from'} ${st.effectiveFrom})` : ''}`.trimEnd() +
        (towards === 'from' ? '' : '');
      io.out(vi ? 'Trở thành / became:' : 'Became:');
      io.out(r.successors.length ? r.successors.map((x) => step(x, 'to')).join('\n') : vi ? '  (không có)' : '  (nothing)');
      io.out(vi ? 'Hình thành từ / came from:' : 'Came from:');
      io.out(r.predecessors.length ? r.predecessors.map((x) => step(x, 'from')).join('\n') : vi ? '  (không có)' : '  (nothing)');
      io.out(`${vi ? 'Hiện nay' : 'Now'}: ${r.current.length ? r.current.join(', ') : '—'}`);
      return 0;
    });
  },
});

const organisationsCommand = defineCommand({
  name: 'organisations',
  summary: 'the organisations (root units) and their latest hierarchy versions',
  positionals: [],
  options: { ...LANG_OPTION, ...JSON_OPTION },
  examples: ['trienkhai units organisations'],
  async run({ values, io }) {
    const vi = langOf(values) === 'vi';
    return withSession(async (s) => {
      const rows = await organisations(s.db);
      if (values.json) io.out(JSON.stringify(rows, null, 2));
      else
        io.out(
          rows.length
            ? table(
                vi ? ['tổ chức', 'tên', 'phiên bản', 'loại', 'đơn vị', 'hiệu lực từ'] : ['organisation', 'name', 'version', 'kind', 'units', 'effective'],
                rows.map((r) => [r.organisation, r.name, String(r.latestVersion), r.kind, String(r.units), r.effectiveFrom ?? '']),
              )
            : vi
              ? 'Chưa có tổ chức nào: trienkhai units import FILE'
              : 'No organisations yet: trienkhai units import FILE',
        );
      return 0;
    });
  },
});

export const units = defineGroup({ name: 'units', section: 'ops', summary: 'đơn vị / the organisation hierarchy', commands: [importCommand, changeCommand, lineageCommand, organisationsCommand] });
