/**
 * The CLI's declarative layer: a command is declared once (its positionals, its options with their
 * descriptions, its examples) and that one declaration builds the `node:util` parseArgs config, checks
 * the arguments (unknown, repeated, missing, wrong count) before anything touches a database, names
 * the option a refused domain field came from, and writes the help (client/help.ts).
 */
import { parseArgs } from 'node:util';
import { DomainError } from '../domain/errors';
import { UsageError } from './errors';

/** Where the CLI writes: stdout and stderr in a terminal, arrays in a test. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** One `--option`. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** One line for the help. */
  readonly description: string;
  /** The placeholder in usage lines: `--unit CODE`. */
  readonly value?: string;
  /** Refused with `missing --NAME` when absent or blank (before any connection is opened). */
  readonly required?: boolean;
  /** May be given more than once (values collected in order); any other option given twice is refused. */
  readonly multiple?: boolean;
  /** A whole number (checked before any connection is opened). */
  readonly integer?: boolean;
  readonly short?: string;
  /** The domain fields this option fills: a refusal of one of them names the option (`reportId` → `--id`). */
  readonly fills?: readonly string[];
}

/** One positional argument, in order. */
export interface PositionalSpec {
  /** Upper case, as in the usage line: `ROLLOUT_ID`. */
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  readonly fills?: readonly string[];
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type OptionValue<S extends OptionSpec> = S['type'] extends 'boolean' ? boolean : S['multiple'] extends true ? string[] : string;
type RequiredKeys<O> = { [K in keyof O]: O[K] extends { readonly required: true } ? K : never }[keyof O];

/** The parsed options: required ones are present (they were checked), the others may be undefined. */
export type Values<O extends OptionSpecs> = { -readonly [K in RequiredKeys<O>]: OptionValue<O[K]> } & {
  -readonly [K in Exclude<keyof O, RequiredKeys<O>>]?: OptionValue<O[K]>;
};

/** The positionals, as a tuple: required ones are strings (they were checked). */
export type Args<P extends readonly PositionalSpec[]> = { -readonly [K in keyof P]: P[K] extends { readonly required: true } ? string : string | undefined };

/** What a command's `run` gets, once its arguments are checked. */
export interface Context<O extends OptionSpecs, P extends readonly PositionalSpec[]> {
  readonly values: Values<O>;
  readonly args: Args<P>;
  readonly io: Io;
  /** `trienkhai report ROLLOUT_ID --unit CODE …`, for usage errors found while running. */
  readonly usage: string;
  /** A `.catch()` handler that renames a DomainError's domain fields to the options that filled them. */
  rename(extra?: Readonly<Record<string, string>>): (e: unknown) => never;
}

/** Options that only make sense for some forms of a command (a report's fields, by step kind). */
export interface Variants<K extends string> {
  /** Shown in the usage line in place of these options: `<fields for the step kind>`. */
  readonly label: string;
  readonly forms: ReadonlyArray<{ readonly name: string; readonly required?: readonly K[]; readonly optional?: readonly K[] }>;
}

export interface CommandSpec<O extends OptionSpecs, P extends readonly PositionalSpec[]> {
  /** The subcommand (`start` in `rollout start`); none for a group that is one command (`report`). */
  readonly name?: string;
  /** Also runs when the group is given without a subcommand name (`escalations --recipient BG` is `escalations list …`). */
  readonly default?: boolean;
  /** One line, for the group's list and the overview. */
  readonly summary: string;
  /** More, for the command's own help. */
  readonly description?: string;
  readonly positionals: P;
  /** The message for a wrong number of positionals (default: `missing NAME` / `unexpected argument "x"`). */
  readonly arity?: string | ((given: readonly string[]) => string);
  readonly options: O;
  readonly variants?: Variants<keyof O & string>;
  readonly examples?: readonly string[];
  run(ctx: Context<O, P>): Promise<number>;
}

/** A declared command, its types erased so that commands of every shape sit in one list. */
export interface Command {
  readonly name?: string;
  readonly default?: boolean;
  readonly summary: string;
  readonly description?: string;
  readonly positionals: readonly PositionalSpec[];
  readonly arity?: string | ((given: readonly string[]) => string);
  readonly options: OptionSpecs;
  readonly variants?: Variants<string>;
  readonly examples?: readonly string[];
  run(ctx: Context<OptionSpecs, readonly PositionalSpec[]>): Promise<number>;
}

/** Declare a command; `const` keeps the literal types, so `run` sees required options as present. */
export function defineCommand<const O extends OptionSpecs, const P extends readonly PositionalSpec[]>(spec: CommandSpec<O, P>): Command {
  return spec as unknown as Command;
}

/** Where a group appears in the overview (`trienkhai help`). */
export type Section = 'stack' | 'ops' | 'units' | 'notifications' | 'tokens' | 'audit';

/** A top-level word (`rollout`) and its commands. */
export interface Group {
  readonly name: string;
  readonly summary: string;
  readonly section: Section;
  readonly commands: readonly Command[];
}

export function defineGroup(group: Group): Group {
  const names = group.commands.map((c) => c.name ?? '');
  if (new Set(names).size !== names.length) throw new Error(`group ${group.name}: two commands share a name`);
  if (group.commands.filter((c) => c.default || c.name === undefined).length > 1) throw new Error(`group ${group.name}: more than one default command`);
  if (group.commands.some((c) => c.name === undefined) && group.commands.length > 1) throw new Error(`group ${group.name}: a nameless command must be the only one`);
  return group;
}

/** Every command accepts `--help`/`-h`. */
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** `trienkhai rollout start`, or `trienkhai report`. */
export function commandPath(group: Group, cmd: Command): string {
  return ['trienkhai', group.name, cmd.name].filter(Boolean).join(' ');
}

function optionUsage(name: string, o: OptionSpec): string {
  const flag = o.type === 'boolean' ? `--${name}` : `--${name} ${o.value ?? 'VALUE'}`;
  return `${flag}${o.multiple ? ' ...' : ''}`;
}

function optionalUsage(name: string, o: OptionSpec): string {
  return o.required ? optionUsage(name, o) : `[${optionUsage(name, o)}]`;
}

/** The usage line: `trienkhai extend ROLLOUT_ID --unit CODE … [--json]`, then one line per variant. */
export function usageOf(group: Group, cmd: Command): string {
  const path = cmd.default && cmd.name ? `trienkhai ${group.name} [${cmd.name}]` : commandPath(group, cmd);
  const inVariants = new Set(cmd.variants?.forms.flatMap((f) => [...(f.required ?? []), ...(f.optional ?? [])]) ?? []);
  const parts = [path, ...cmd.positionals.map((p) => (p.required ? p.name : `[${p.name}]`))];
  let variantsShown = false;
  for (const [name, o] of Object.entries(cmd.options)) {
    if (inVariants.has(name)) {
      if (!variantsShown && cmd.variants) parts.push(`<${cmd.variants.label}>`);
      variantsShown = true;
      continue;
    }
    parts.push(optionalUsage(name, o));
  }
  const lines = [parts.join(' ')];
  if (cmd.variants) {
    const width = Math.max(...cmd.variants.forms.map((f) => f.name.length)) + 2;
    for (const f of cmd.variants.forms) {
      const opts = [...(f.required ?? []).map((n) => optionUsage(n, cmd.options[n]!)), ...(f.optional ?? []).map((n) => `[${optionUsage(n, cmd.options[n]!)}]`)];
      lines.push(`  ${`${f.name}:`.padEnd(width)}${opts.join(' ')}`);
    }
  }
  return lines.join('\n');
}

function usageError(message: string, usage: string): UsageError {
  return new UsageError(`${message}\n\nusage: ${usage}`);
}

/** The domain field → option (or positional) names a command's declarations give, for its refusals. */
export function fieldNames(cmd: Command): Record<string, string> {
  const names: Record<string, string> = {};
  for (const p of cmd.positionals) for (const f of p.fills ?? []) names[f] = p.name;
  for (const [name, o] of Object.entries(cmd.options)) for (const f of o.fills ?? []) names[f] = `--${name}`;
  return names;
}

/** Rename a DomainError's paths (`reportId`, `indicators.x`, `steps[0]`) to what the user typed. */
export function renameFields(names: Readonly<Record<string, string>>): (e: unknown) => never {
  return (e: unknown): never => {
    if (e instanceof DomainError) {
      throw new DomainError(
        e.issues.map((i) => ({ path: names[i.path.replace(/^\.|\[.*$/g, '')] ?? i.path, message: i.message })),
        e.kind,
      );
    }
    throw e;
  };
}

export type Parsed = { help: true } | { help: false; values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };

/**
 * Check a command's arguments against its declaration, touching nothing else: unknown options,
 * an option given twice that is not `multiple`, a wrong number of positionals, a missing required
 * option, a whole number that is not one. Each is a UsageError (exit code 2) naming what is wrong.
 */
export function parseCommand(group: Group, cmd: Command, argv: readonly string[]): Parsed {
  const usage = usageOf(group, cmd);
  const config = Object.fromEntries(Object.entries(cmd.options).map(([name, o]) => [name, { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) }]));
  const parsed = (() => {
    try {
      return parseArgs({ args: [...argv], options: { ...config, ...HELP_OPTION }, allowPositionals: true, strict: true, tokens: true });
    } catch (e) {
      throw usageError(e instanceof Error ? e.message.replace(/^.*?: /, '') : String(e), usage);
    }
  })();
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) return { help: true };

  // parseArgs keeps the last of a repeated option: `--unit A --unit B` would act on B alone.
  const given = new Map<string, string[]>();
  for (const t of parsed.tokens) {
    if (t.kind !== 'option') continue;
    given.set(t.name, [...(given.get(t.name) ?? []), t.value ?? '']);
  }
  for (const [name, seen] of given) {
    if (seen.length > 1 && !cmd.options[name]?.multiple) {
      const shown = cmd.options[name]?.type === 'boolean' ? '' : ` (${seen.map((v) => JSON.stringify(v)).join(', ')})`;
      throw usageError(`--${name} was given ${seen.length} times${shown}; it takes one value`, usage);
    }
  }

  const positionals = parsed.positionals;
  const min = cmd.positionals.filter((p) => p.required).length;
  if (positionals.length < min || positionals.length > cmd.positionals.length) {
    const message =
      typeof cmd.arity === 'function'
        ? cmd.arity(positionals)
        : (cmd.arity ?? (positionals.length < min ? `missing ${cmd.positionals[positionals.length]!.name}` : `unexpected argument "${positionals[cmd.positionals.length]}"`));
    throw usageError(message, usage);
  }

  for (const [name, o] of Object.entries(cmd.options)) {
    const v = values[name];
    if (o.required && (v === undefined || (typeof v === 'string' && v.trim() === ''))) throw usageError(`missing --${name}`, usage);
    if (o.integer && typeof v === 'string' && !/^\d+$/.test(v.trim())) throw new UsageError(`--${name} must be a whole number, got "${v}"`);
  }
  return { help: false, values, positionals };
}

/** Parse, then run the command (or print its help). */
export async function runCommand(group: Group, cmd: Command, argv: readonly string[], io: Io, help: (group: Group, cmd: Command) => string): Promise<number> {
  const parsed = parseCommand(group, cmd, argv);
  if (parsed.help) {
    io.out(help(group, cmd));
    return 0;
  }
  const names = fieldNames(cmd);
  return cmd.run({
    values: parsed.values,
    args: parsed.positionals,
    io,
    usage: usageOf(group, cmd),
    rename: (extra = {}) => renameFields({ ...names, ...extra }),
  } as Context<OptionSpecs, readonly PositionalSpec[]>);
}
