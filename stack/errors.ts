/** A stack problem the user fixes by starting `up` or setting the variables (the CLI's exit code 1). */
export class StackNotRunningError extends Error {
  override readonly name = 'StackNotRunningError';
}
