/**
 * Files the CLI reads: a missing, unreadable, oversized or non-UTF-8 file is bad input (exit code 2),
 * named by its path (and for bad bytes, the line and byte where they are): nothing is ever read with
 * U+FFFD standing in for bytes that were not text.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DomainError } from '../domain/errors';

/** The largest file the CLI reads (the API takes 20 MB imports; a file is at most that). */
export const MAX_INPUT_BYTES = 20_000_000;

export function readInputFile(path: string): string {
  let bytes: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
      // Read at most one byte past the limit: a device such as /dev/zero never ends.
      const buf = Buffer.alloc(Math.min(MAX_INPUT_BYTES + 1, st.isFile() ? st.size + 1 : MAX_INPUT_BYTES + 1));
      let n = 0;
      for (;;) {
        const got = readSync(fd, buf, n, buf.length - n, null);
        if (got === 0) break;
        n += got;
        if (n >= buf.length) break;
      }
      if (n > MAX_INPUT_BYTES) throw DomainError.of('file', `"${path}" is larger than ${MAX_INPUT_BYTES} bytes`);
      bytes = buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof DomainError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw DomainError.of('file', `cannot read "${path}": ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(e)}`);
  }
  return decodeUtf8(bytes, path);
}

/** UTF-8 (a leading BOM allowed), or a DomainError naming the line and byte of the first bad bytes. */
export function decodeUtf8(bytes: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // Find the first bad sequence by decoding growing prefixes' lines (cheap enough for a refusal).
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0x0a) {
        const chunk = bytes.subarray(lineStart, i);
        if (!isUtf8(chunk)) break;
        line += 1;
        lineStart = i + 1;
      }
    }
    throw DomainError.of(path, `line ${line}: not valid UTF-8 (byte ${lineStart + 1} onwards); save the file as UTF-8 (Excel: "CSV UTF-8"), not in a legacy code page such as Windows-1258`);
  }
}

const isUtf8 = (b: Buffer): boolean => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
};

export function readJsonFile(path: string): unknown {
  const text = readInputFile(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw DomainError.of(path, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}
