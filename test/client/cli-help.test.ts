/**
 * The CLI's declarations (client/commands/) are the one source of its argument checks and its help:
 * every declared group and command has help naming what it declares, and bad arguments (unknown,
 * repeated, missing, too many) are refused with exit code 2 before any connection is opened.
 *
 * In-process (`main(argv, io)`), with no stack: DATABASE_URL and TEMPORAL_ADDRESS point at a port
 * nothing listens on, so a command that got as far as opening a session would fail with exit code 1
 * and "cannot use the database" (the control test below shows it does), not with the usage error.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../client/cli';
import { commandPath, fieldNames, type Command, type Group } from '../../client/command';
import { GROUPS } from '../../client/commands';

const UNREACHABLE_DB = 'postgres://nobody:secret@127.0.0.1:1/nowhere';
const saved = { DATABASE_URL: process.env.DATABASE_URL, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, TRIENKHAI_DATA_DIR: process.env.TRIENKHAI_DATA_DIR };

beforeAll(() => {
  process.env.DATABASE_URL = UNREACHABLE_DB;
  process.env.TEMPORAL_ADDRESS = '127.0.0.1:1';
  // No stack.json to find either.
  process.env.TRIENKHAI_DATA_DIR = mkdtempSync(join(tmpdir(), 'trienkhai-cli-help-'));
});

afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const COMMANDS: Array<[string, Group, Command]> = GROUPS.flatMap((g) => g.commands.map((c) => [commandPath(g, c).replace(/^trienkhai /, ''), g, c] as [string, Group, Command]));

/** The words that name a command: `rollout start`, or `report`. */
function words(g: Group, c: Command): string[] {
  return c.name ? [g.name, c.name] : [g.name];
}

/** Arguments that pass every check of `c`: a placeholder for each positional and required option. */
function validArgs(c: Command, except?: string): string[] {
  const required = Object.entries(c.options).filter(([name, o]) => o.required && name !== except);
  return [...c.positionals.map((p) => `${p.name.toLowerCase()}-x`), ...required.flatMap(([name]) => [`--${name}`, 'x'])];
}

/** A usage error: exit code 2, the message, nothing about a connection. */
function expectUsageError(r: { code: number; err: string }, message: RegExp): void {
  expect(r.err).toMatch(message);
  expect(r.err).not.toMatch(/cannot use the database|cannot reach Temporal/);
  expect(r.code).toBe(2);
}

test('the control: a command whose arguments pass tries the database and fails with exit code 1 (so the usage errors below were found before it)', async () => {
  const r = await cli('extend', 'R', '--unit', 'A', '--step', 's', '--committee', 'C', '--until', '2030-01-01', '--reason', 'x');
  expect(r.err).toMatch(/cannot use the database at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/nowhere/);
  expect(r.code).toBe(1);
  // An option declared `multiple` may repeat: it passes the checks and reaches the database.
  const many = await cli('report', 'R', '--unit', 'A', '--step', 'report-2023', '--period', '2023', '--indicator', 'a=1', '--indicator', 'b=2');
  expect(many.err).toMatch(/cannot use the database/);
  expect(many.code).toBe(1);
});

test('`trienkhai help` lists every declared command, grouped, under the Vietnamese title', async () => {
  const r = await cli('help');
  expect(r.code).toBe(0);
  expect(r.out.split('\n')[0]).toBe('trienkhai — theo dõi triển khai nghị quyết / track the rollout of a resolution');
  for (const [path, g, c] of COMMANDS) {
    expect(r.out).toMatch(new RegExp(`^  trienkhai ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`, 'm'));
    expect(r.out).toContain(c.summary);
    void g;
  }
  for (const title of ['Stack:', 'Ops (văn phòng cấp ủy):', 'Auditors (kiểm tra):']) expect(r.out).toContain(title);
  // Every way of asking gives the same overview.
  for (const argv of [[], ['--help'], ['-h']]) expect((await cli(...argv)).out).toBe(r.out);
});

test.each(GROUPS.map((g) => [g.name, g] as const))('`%s --help` exits 0 and lists every command of the group', async (_name, g) => {
  const r = await cli(g.name, '--help');
  expect(r.code).toBe(0);
  expect(r.err).toBe('');
  for (const c of g.commands) {
    if (c.name) expect(r.out).toMatch(new RegExp(`^  ${c.name}\\b.*${c.summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    else expect(r.out).toMatch(new RegExp(`^usage: trienkhai ${g.name}\\b`));
  }
  // `trienkhai help GROUP` is the same.
  expect((await cli('help', g.name)).out).toBe(r.out);
});

test.each(COMMANDS)('`%s --help` exits 0 and describes every declared argument and option', async (_path, g, c) => {
  const r = await cli(...words(g, c), '--help');
  expect(r.code).toBe(0);
  expect(r.err).toBe('');
  expect(r.out).toMatch(new RegExp(`^usage: trienkhai ${g.name}\\b`));
  for (const p of c.positionals) expect(r.out).toMatch(new RegExp(`^  ${p.name.replace(/[|]/g, '\\|')}\\s+${p.description.slice(0, 15).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  for (const [name, o] of Object.entries(c.options)) {
    expect(r.out).toMatch(new RegExp(`^  (-\\w, )?--${name}\\b.*${o.description.slice(0, 15).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  }
  for (const e of c.examples ?? []) expect(r.out).toContain(e);
  // `-h` is the same, wherever it stands.
  expect((await cli(...words(g, c), ...validArgs(c), '-h')).out).toBe(r.out);
});

test('a repeated option that is not `multiple` is refused, naming it and its values (parseArgs alone would keep the last)', async () => {
  const r = await cli('extend', 'R', '--unit', 'A', '--unit', 'B', '--step', 's', '--committee', 'C', '--until', '2030-01-01', '--reason', 'x');
  expectUsageError(r, /^error: --unit was given 2 times \("A", "B"\); it takes one value\n\nusage: trienkhai extend ROLLOUT_ID --unit CODE/);
  // A boolean, and the `--opt=value` form, count too.
  expectUsageError(await cli('report', 'R', '--unit', 'A', '--step', 's', '--attended', '1', '--makeup', '--makeup'), /--makeup was given 2 times; it takes one value/);
  expectUsageError(await cli('rollout', 'cancel', 'R', '--reason=a', '--reason', 'b'), /--reason was given 2 times \("a", "b"\)/);
});

test.each(COMMANDS)('`%s` refuses a repeated option that is not `multiple`', async (_path, g, c) => {
  const single = Object.entries(c.options).find(([, o]) => !o.multiple);
  if (!single) return;
  const [name, o] = single;
  const twice = o.type === 'boolean' ? [`--${name}`, `--${name}`] : [`--${name}`, 'one', `--${name}`, 'two'];
  expectUsageError(await cli(...words(g, c), ...validArgs(c, name), ...twice), new RegExp(`--${name} was given 2 times`));
});

test.each(COMMANDS)('`%s` refuses an unknown option, naming it, with its usage', async (_path, g, c) => {
  const r = await cli(...words(g, c), ...validArgs(c), '--no-such-option', 'x');
  expectUsageError(r, /Unknown option '--no-such-option'/);
  expect(r.err).toMatch(new RegExp(`\n\nusage: trienkhai ${g.name}\\b`));
});

test.each(COMMANDS.filter(([, , c]) => Object.values(c.options).some((o) => o.required)))('`%s` refuses each missing required option, naming it', async (_path, g, c) => {
  for (const [name, o] of Object.entries(c.options)) {
    if (!o.required) continue;
    expectUsageError(await cli(...words(g, c), ...validArgs(c, name)), new RegExp(`^error: missing --${name}\n\nusage: trienkhai ${g.name}`));
    // Blank is missing too.
    expectUsageError(await cli(...words(g, c), ...validArgs(c, name), `--${name}`, '  '), new RegExp(`missing --${name}`));
  }
});

test.each(COMMANDS)('`%s` refuses a wrong number of arguments', async (_path, g, c) => {
  const extra = await cli(...words(g, c), ...validArgs(c), 'one-too-many');
  expectUsageError(extra, /\n\nusage: trienkhai /);
  if (c.positionals.some((p) => p.required)) {
    const required = Object.entries(c.options)
      .filter(([, o]) => o.required)
      .flatMap(([name]) => [`--${name}`, 'x']);
    expectUsageError(await cli(...words(g, c), ...required), /\n\nusage: trienkhai /);
  }
});

test('the messages a user sees for a wrong count, a missing option, a bad number, an unknown command', async () => {
  expectUsageError(await cli('extend', '--unit', 'A'), /^error: give the rollout ID as the one argument\n\nusage: trienkhai extend ROLLOUT_ID/);
  expectUsageError(await cli('units', 'import'), /^error: give exactly one file/);
  expectUsageError(await cli('escalations', 'R'), /^error: unexpected argument "R" \(use --rollout ID\)/);
  expectUsageError(await cli('extend', 'R', '--unit', 'A', '--step', 's', '--committee', 'C', '--until', '2030-01-01'), /^error: missing --reason\n/);
  expectUsageError(await cli('report', 'R', '--step', 'study', '--attended', '3'), /^error: missing --unit\n\nusage: trienkhai report ROLLOUT_ID/);
  expectUsageError(
    await cli('extend', 'R', '--unit', 'A', '--step', 's', '--committee', 'C', '--until', '2030-01-01', '--reason', 'x', '--occurrence', 'two'),
    /^error: --occurrence must be a whole number, got "two"$/,
  );
  expectUsageError(
    await cli('rollout', 'frobnicate'),
    /^error: unknown "rollout frobnicate" \(expected start, status, list, cancel, suspend, resume, cancel-unit, amend, follow or recalendar\)\n\nusage: trienkhai rollout start/,
  );
  expectUsageError(await cli('units', 'frobnicate'), /^error: unknown "units frobnicate" \(expected import, change, lineage or organisations\)/);
  expectUsageError(await cli('contacts', 'frobnicate'), /^error: unknown "contacts frobnicate" \(expected import, list or move\)/);
  expectUsageError(await cli('units', 'change'), /^error: missing --file/);
  expectUsageError(await cli('units', 'lineage'), /^error: give exactly one unit code/);
  expectUsageError(await cli('frobnicate'), /^error: unknown command "frobnicate"\n\ntrienkhai — theo dõi/);
  expectUsageError(await cli('rollout', 'status', '--lang', 'fr'), /^error: --lang must be "vi" or "en", got "fr"$/);
  expectUsageError(await cli('token', 'issue', '--role', 'king', '--label', 'x'), /^error: --role must be one of ops, /);
});

test("the usage lines come from the declarations, with a report's fields by step kind", async () => {
  const r = await cli('report', '--help');
  expect(r.out).toMatch(
    /^usage: trienkhai report ROLLOUT_ID \[--unit CODE\] \[--step STEP_ID\] \[--id REPORT_ID\] \[--by PERSON\] \[--occurrence N\] \[--file report\.json\] <fields for the step kind> \[--json\]$/m,
  );
  expect(r.out).toMatch(/^  studyConference: +--attended N \[--date YYYY-MM-DD\] \[--makeup\]$/m);
  expect(r.out).toMatch(/^  periodicReport: +--period LABEL \[--indicator NAME=VALUE \.\.\.\] \[--date YYYY-MM-DD\] \[--document NUMBER\] \[--document-date DATE\]$/m);
  expect(r.out).toMatch(/^  --indicator NAME=VALUE +.*\(repeatable\)$/m);
  const e = await cli('escalations', '--help');
  expect(e.out).toMatch(/^  list \(default\) +the escalations/m);
  expect(e.out).toMatch(/^usage: trienkhai escalations \[list\] \[--rollout ROLLOUT_ID\]/m);
});

test('a refused domain field is named by the option the declaration says fills it', () => {
  const command = (path: string): Command => COMMANDS.find(([p]) => p === path)![2];
  // The names the CLI has always used (they were a hand-kept table before).
  expect(fieldNames(command('report'))).toMatchObject({
    rolloutId: 'ROLLOUT_ID',
    reportId: '--id',
    unitCode: '--unit',
    stepId: '--step',
    sessionDate: '--date',
    submittedOn: '--date',
    issuedOn: '--date',
    inspectedOn: '--date',
    attended: '--attended',
    draftedBy: '--drafted-by',
    title: '--title',
    documentNumber: '--document',
    documentDate: '--document-date',
    period: '--period',
    indicators: '--indicator',
    inspector: '--inspector',
    findings: '--findings',
    review: '--review',
    summary: '--summary',
    occurrence: '--occurrence',
    reportedBy: '--by',
  });
  expect(fieldNames(command('extend'))).toEqual({
    unitCode: '--unit',
    stepId: '--step',
    committeeCode: '--committee',
    until: '--until',
    reason: '--reason',
    decision: '--decision',
    decidedBy: '--by',
    occurrence: '--occurrence',
    requestId: '--id',
  });
  expect(fieldNames(command('rollout start'))).toEqual({
    resolution: '--resolution',
    resolutionDate: '--date',
    title: '--title',
    rootUnit: '--root',
    root: '--root',
    rolloutId: '--id',
    hierarchyVersion: '--hierarchy-version',
  });
  expect(fieldNames(command('escalations direct'))).toEqual({ committeeCode: '--committee', directive: '--directive', respondBy: '--respond-by', decidedBy: '--by', requestId: '--id' });
  expect(fieldNames(command('audit as-of'))).toEqual({ rolloutId: 'ROLLOUT_ID', at: 'INSTANT', unitCode: '--unit' });
});

test('a file that is not UTF-8, or that never ends, is refused naming it, before any connection', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trienkhai-files-'));
  const latin1 = join(dir, 'units.csv');
  // "Tỉnh" typed in a legacy code page: bytes that are not UTF-8 (Windows-1258 / Latin-1).
  writeFileSync(latin1, Buffer.concat([Buffer.from('code,name,level,parent,members,standing_committee\nP,T'), Buffer.from([0xe9]), Buffer.from('nh,tinh,,5,true\n')]));
  const r = await cli('units', 'import', latin1);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/units\.csv: line 2: not valid UTF-8/);
  expect(r.err).not.toMatch(/cannot use the database/);
  const huge = await cli('units', 'import', '/dev/zero');
  expect(huge.code).toBe(2);
  expect(huge.err).toMatch(/is larger than 20000000 bytes/);
});
