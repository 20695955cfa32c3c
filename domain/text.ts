/**
 * Text a person typed, as every door takes it (the CLI, the API, files, the dashboard): refused, with
 * the field named, when PostgreSQL could not store it or it is not text at all, so that nothing that
 * passes validation can fail later in an append (which once wedged a unit's workflow for good).
 *
 * Refused: NUL (PostgreSQL's text and jsonb cannot hold U+0000), lone UTF-16 surrogates (not
 * encodable as UTF-8), U+FFFD (left by a decoder where bytes were not text), other control characters (in one-line fields also line breaks) and the
 * noncharacters U+FFFE/U+FFFF. Accepted text is trimmed and NFC-normalised (Vietnamese typed on any
 * keyboard compares equal).
 *
 * Pure: imported by workflow code.
 */
import { z } from 'zod';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL_MULTILINE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]/;
const CONTROL_ONE_LINE = /[\u0000-\u001F\u007F\u2028\u2029\uFFFE\uFFFF]/;

const codePoint = (c: string): string => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why PostgreSQL cannot store `s` at all, or undefined: NUL (text and jsonb cannot hold U+0000) and
 * lone surrogates (no UTF-8 form: jsonb refuses them, text would keep U+FFFD instead). The event
 * store's last check (domain/storable.ts) uses this; the doors use the stricter `unstorableText`.
 */
export function unstorableByPostgres(s: string): string | undefined {
  const nul = s.indexOf('\u0000');
  if (nul >= 0) return `contains a NUL character (U+0000) at position ${nul + 1}, which cannot be stored`;
  const lone = LONE_SURROGATE.exec(s);
  if (lone) return `contains a lone surrogate (${codePoint(lone[0])}) at position ${lone.index + 1}: not valid Unicode text`;
  return undefined;
}

/** Why `s` cannot be taken as a text field, or undefined when it can. */
export function unstorableText(s: string, opts: { multiline?: boolean } = {}): string | undefined {
  const stored = unstorableByPostgres(s);
  if (stored) return stored;
  // U+FFFD is what a decoder puts where bytes were not text (a Windows-1258 file, a mangled argument):
  // taking it would record "T�nh" for good.
  const replacement = s.indexOf('\uFFFD');
  if (replacement >= 0) return `contains U+FFFD (the replacement character) at position ${replacement + 1}: the text was not valid UTF-8 where it came from`;
  const control = (opts.multiline ? CONTROL_MULTILINE : CONTROL_ONE_LINE).exec(s);
  if (control) {
    const what = control[0] === '\n' || control[0] === '\r' || control[0] === '\u2028' || control[0] === '\u2029' ? 'a line break' : `a control character (${codePoint(control[0])})`;
    return `contains ${what} at position ${control.index + 1}${opts.multiline ? '' : '; this field is one line'}`;
  }
  return undefined;
}

export interface TextOptions {
  /** Longest accepted, in characters after normalising. */
  max: number;
  /** Shortest accepted (default 1: not empty once trimmed). */
  min?: number;
  /** Allows line breaks and tabs (findings, summaries, reasons). */
  multiline?: boolean;
}

/** A text field: storable, trimmed, NFC, within its length. */
export function Text(opts: TextOptions) {
  const min = opts.min ?? 1;
  return z
    .string()
    .superRefine((s, ctx) => {
      const why = unstorableText(s, opts);
      if (why) ctx.addIssue({ code: 'custom', message: why });
    })
    .transform((s) => s.trim().normalize('NFC'))
    .pipe(
      z
        .string()
        .min(min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`)
        .max(opts.max, `must be at most ${opts.max} characters`),
    );
}
