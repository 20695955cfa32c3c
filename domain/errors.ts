/**
 * The one error type for bad input anywhere in the domain (a plan, a hierarchy file, a document
 * number, a deadline). The CLI maps it to exit code 2; everything else is a bug (exit code 1).
 *
 * Pure: imported by workflow code, so no Node built-ins.
 */
import type { z } from 'zod';

/** One problem with the input: where it is (`line 7, column members`, `documentNumber`, `row 3 (code)`) and what is wrong. */
export interface DomainIssue {
  readonly path: string;
  readonly message: string;
}

/** Long files can yield thousands of issues; the message shows this many, `issues` keeps them all. */
const MAX_ISSUES_IN_MESSAGE = 50;

function formatIssue(issue: DomainIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/**
 * What kind of refusal: bad input (HTTP 400), something named that does not exist (404), a request
 * that contradicts what is recorded (409), or one that reaches what the requester may not act on
 * (403). Every kind means nothing was recorded (CLI exit code 2).
 */
export type RefusalKind = 'invalid' | 'not_found' | 'conflict' | 'forbidden';

/** Bad input, with every problem found (not just the first), each naming where it is and what is expected. */
export class DomainError extends Error {
  /** Every problem found, in input order. Never empty. */
  readonly issues: ReadonlyArray<DomainIssue>;
  readonly kind: RefusalKind;

  constructor(issues: DomainIssue | ReadonlyArray<DomainIssue>, kind: RefusalKind = 'invalid') {
    const list: ReadonlyArray<DomainIssue> = Array.isArray(issues) ? [...(issues as ReadonlyArray<DomainIssue>)] : [issues as DomainIssue];
    const all = list.length > 0 ? list : [{ path: '', message: 'invalid input' }];
    super(DomainError.describe(all));
    this.name = 'DomainError';
    this.issues = all;
    this.kind = kind;
  }

  /** A single issue. */
  static of(path: string, message: string): DomainError {
    return new DomainError({ path, message });
  }

  /** `path` names something that does not exist (a rollout, a unit of it, an escalation). */
  static notFound(path: string, message: string): DomainError {
    return new DomainError({ path, message }, 'not_found');
  }

  /** The request contradicts what is already recorded (e.g. the same rollout ID with another body). */
  static conflict(path: string, message: string): DomainError {
    return new DomainError({ path, message }, 'conflict');
  }

  /**
   * Turn a zod error into a DomainError, prefixing each issue path with `prefix`
   * (`plan` + `['steps', 0, 'deadline']` → `plan.steps[0].deadline`).
   */
  static fromZod(prefix: string, error: z.core.$ZodError): DomainError {
    return new DomainError(error.issues.map((i) => ({ path: joinPath(prefix, i.path), message: i.message })));
  }

  /** The readable form used as `message`: one issue inline, several as a list. */
  static describe(issues: ReadonlyArray<DomainIssue>): string {
    if (issues.length === 1) return formatIssue(issues[0] as DomainIssue);
    const shown = issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((i) => `  - ${formatIssue(i)}`);
    const more = issues.length > MAX_ISSUES_IN_MESSAGE ? [`  … and ${issues.length - MAX_ISSUES_IN_MESSAGE} more`] : [];
    return [`${issues.length} problems:`, ...shown, ...more].join('\n');
  }
}

/** `prefix` + `['steps', 0, 'at']` → `prefix.steps[0].at`. */
export function joinPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}
