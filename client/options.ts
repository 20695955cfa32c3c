/** Options several commands share, and the helpers that read option values. */
import { DomainError } from '../domain/errors';
import type { Lang } from '../domain/time';
import { PagingInput, type PageOf, type Paging } from '../app/views';
import { UsageError } from './errors';

/** `--json`: the command prints the application layer's view (the same as the HTTP API's). */
export const JSON_OPTION = { json: { type: 'boolean', description: 'print the result as JSON (the same view as the HTTP API)' } } as const;

/** `--lang vi|en`: labels in Vietnamese (the default, or TRIENKHAI_LANG) or English. */
export const LANG_OPTION = { lang: { type: 'string', value: 'vi|en', description: 'labels in Vietnamese or English (default: TRIENKHAI_LANG, else vi)' } } as const;

/** `--page N --page-size N`: the same paging as the API's `page` and `pageSize`. */
export const PAGING_OPTIONS = {
  page: { type: 'string', value: 'N', integer: true, description: 'which page of the list (from 1)' },
  'page-size': { type: 'string', value: 'N', integer: true, description: 'items per page (at most 100)' },
} as const;

/** `--by NAME` on ops commands: who is recorded as having done it (`user:NAME`). */
export const BY_OPS = { by: { type: 'string', value: 'NAME', description: 'who does it, recorded as user:NAME (default: ops)' } } as const;

export function langOf(v: { lang?: string }): Lang {
  const l = v.lang ?? process.env.TRIENKHAI_LANG ?? 'vi';
  if (l !== 'vi' && l !== 'en') throw new UsageError(`--lang must be "vi" or "en", got "${l}"`);
  return l;
}

/** A whole number option's value (already checked by the declaration's `integer`). */
export function int(x: string | undefined): number | undefined {
  return x === undefined ? undefined : Number(x);
}

/** A required string that a command needs only in some forms (a report's fields, by step kind). */
export function need(x: string | undefined, name: string, usage: string): string {
  if (x === undefined || x.trim() === '') throw new UsageError(`missing --${name}\n\nusage: ${usage}`);
  return x;
}

export function paging(values: { page?: string; 'page-size'?: string }, pageSize?: number): Paging {
  const r = PagingInput.safeParse({ page: int(values.page) ?? 1, pageSize: int(values['page-size']) ?? pageSize ?? 50 });
  if (!r.success) throw new DomainError(r.error.issues.map((i) => ({ path: i.path[0] === 'page' ? '--page' : '--page-size', message: i.message })));
  return r.data;
}

export function pageNote(p: PageOf<unknown>, lang: Lang): string {
  const last = Math.max(1, Math.ceil(p.total / p.pageSize));
  if (p.total <= p.items.length && p.page === 1) return '';
  return lang === 'vi' ? `(trang ${p.page}/${last}, ${p.total} mục; xem trang khác: --page N)` : `(page ${p.page} of ${last}, ${p.total} items; others: --page N)`;
}
