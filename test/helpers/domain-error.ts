/** The DomainError a call throws (the test fails if it throws nothing, or something else). */
import { DomainError } from '../../domain/errors';

export function domainError(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected a DomainError');
}

/** The DomainError a promise rejects with (the test fails if it resolves, or rejects with something else). */
export async function rejection(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected a DomainError');
}
