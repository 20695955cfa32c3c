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
