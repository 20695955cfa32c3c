/** Errors the CLI maps to exit codes: UsageError → 2 (like DomainError), StackNotRunningError → 1. */

/** Bad command-line usage (exit code 2; nothing was recorded). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A stack problem the user fixes by starting `up` or setting the variables (exit code 1). */
export class StackNotRunningError extends Error {
  override readonly name = 'StackNotRunningError';
}
