/** Files the CLI reads: a missing or unreadable file is bad input (exit code 2), named by its path. */
import { readFileSync } from 'node:fs';
import { DomainError } from '../domain/errors';

export function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw DomainError.of('file', `cannot read "${path}": ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(e)}`);
  }
}

export function readJsonFile(path: string): unknown {
  const text = readInputFile(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw DomainError.of(path, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}
