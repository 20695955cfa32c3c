/**
 * The CLI's help, written from the command declarations (client/command.ts), never by hand: a command
 * that is declared is listed, with the options it really parses.
 */
import { commandPath, usageOf, type Command, type Group, type Section } from './command';

const TITLE = 'trienkhai — theo dõi triển khai nghị quyết / track the rollout of a resolution';

/** The overview's sections, in order. */
const SECTIONS: Record<Section, string> = {
  stack: 'Stack:',
  ops: 'Ops (văn phòng cấp ủy):',
  units: 'Units and committees (đơn vị, ban thường vụ):',
  notifications: "Notifications (reminders, escalations, extensions to units' contacts by webhook and email):",
  tokens: 'API tokens (one role each; only their hash is stored):',
  audit: 'Auditors (kiểm tra):',
};

const FOOTER =
  'Run "trienkhai <group> --help" for a group\'s commands and "trienkhai <group> <command> --help" for a command\'s options and examples.\n' +
  'Exit codes: 0 ok, 2 bad input (nothing recorded), 3 audit check failed, 1 other errors.';

/** `trienkhai units import FILE`: the command and its positionals, for lists. */
function shortForm(group: Group, cmd: Command): string {
  return [commandPath(group, cmd), ...cmd.positionals.map((p) => (p.required ? p.name : `[${p.name}]`))].join(' ');
}

function columns(rows: ReadonlyArray<readonly [string, string]>, indent: string, max = 48): string[] {
  const width = Math.min(max, Math.max(...rows.map(([a]) => a.length)));
  return rows.map(([a, b]) => (a.length > width ? `${indent}${a}  ${b}` : `${indent}${a.padEnd(width)}  ${b}`));
}

/** `trienkhai help`: every declared command, grouped by section. */
export function overviewHelp(groups: readonly Group[]): string {
  const lines = [TITLE];
  for (const section of Object.keys(SECTIONS) as Section[]) {
    const rows = groups.filter((g) => g.section === section).flatMap((g) => g.commands.map((c) => [shortForm(g, c), c.summary] as const));
    if (!rows.length) continue;
    lines.push('', SECTIONS[section], ...columns(rows, '  '));
  }
  lines.push('', FOOTER);
  return lines.join('\n');
}

/** `trienkhai rollout --help`: the group's commands, one line each, then their usage lines. */
export function groupHelp(group: Group): string {
  const only = group.commands.length === 1 ? group.commands[0] : undefined;
  // A group that is one command (`report`, `up`) has that command's help.
  if (only && only.name === undefined) return commandHelp(group, only);
  return [
    `trienkhai ${group.name} — ${group.summary}`,
    '',
    ...columns(
      group.commands.map((c) => [c.default ? `${c.name} (default)` : (c.name ?? ''), c.summary] as const),
      '  ',
    ),
    '',
    groupUsage(group),
    '',
    `Run "trienkhai ${group.name} <command> --help" for a command's options and examples.`,
  ].join('\n');
}

/** Every command's usage line (the first line of each, without its variants). */
export function groupUsage(group: Group): string {
  return group.commands.map((c, i) => `${i === 0 ? 'usage: ' : '       '}${usageOf(group, c).split('\n')[0]}`).join('\n');
}

/** `trienkhai extend --help`: the usage, what it does, every argument and option, examples. */
export function commandHelp(group: Group, cmd: Command): string {
  const lines = [`usage: ${usageOf(group, cmd)}`, '', cmd.summary + (cmd.description ? `\n${cmd.description}` : '')];
  if (cmd.positionals.length) {
    lines.push(
      '',
      'Arguments:',
      ...columns(
        cmd.positionals.map((p) => [p.name, `${p.description}${p.required ? '' : ' (optional)'}`] as const),
        '  ',
        28,
      ),
    );
  }
  const options = Object.entries(cmd.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const notes = [o.required ? 'required' : '', o.multiple ? 'repeatable' : ''].filter(Boolean);
    return [flag, `${o.description}${notes.length ? ` (${notes.join(', ')})` : ''}`] as const;
  });
  options.push(['-h, --help', 'show this help']);
  lines.push('', 'Options:', ...columns(options, '  ', 28));
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}
