/** Bad command-line usage (exit code 2; nothing was recorded). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
