/**
 * Party document numbers (số, ký hiệu văn bản): `number-TYPE/ISSUER`, e.g. `21-NQ/TW`, `45-KH/TU`,
 * `09-KH/ĐU`. Input comes from people and the press, so it is normalised before it is checked
 * (NFC, "Số:", "TƯ" for TW, "D" typed for "Đ"), and every rejection says what was expected.
 *
 * Pure: imported by workflow code.
 */
import { z } from 'zod';
import { DomainError, type DomainIssue } from './errors';
import { LocalDate } from './time';

/** Document types (loại văn bản) and their Vietnamese names. Canonical spelling is case-sensitive (`CTr`, `QĐi`). */
export const DOCUMENT_TYPES = {
  NQ: 'nghị quyết',
  CT: 'chỉ thị',
  KL: 'kết luận',
  QĐ: 'quyết định',
  QĐi: 'quy định',
  QC: 'quy chế',
  TT: 'thông tri',
  HD: 'hướng dẫn',
  TB: 'thông báo',
  BC: 'báo cáo',
  KH: 'kế hoạch',
  CTr: 'chương trình',
  CTHĐ: 'chương trình hành động',
  ĐA: 'đề án',
  TTr: 'tờ trình',
  CV: 'công văn',
} as const satisfies Record<string, string>;
/** A canonical document type code. */
export type DocumentType = keyof typeof DOCUMENT_TYPES;

/** Issuing bodies and levels (cơ quan ban hành) and their Vietnamese names. Data: add symbols as they are met. */
export const DOCUMENT_ISSUERS = {
  TW: 'Ban Chấp hành Trung ương Đảng',
  TU: 'Tỉnh ủy',
  ThU: 'Thành ủy',
  HU: 'Huyện ủy',
  QU: 'Quận ủy',
  TxU: 'Thị ủy',
  ĐU: 'Đảng ủy',
  ĐUK: 'Đảng ủy Khối',
  CB: 'Chi bộ',
  BTG: 'Ban Tuyên giáo',
  BTC: 'Ban Tổ chức',
  BDV: 'Ban Dân vận',
  BNC: 'Ban Nội chính',
  BTGDV: 'Ban Tuyên giáo và Dân vận',
  UBKT: 'Ủy ban Kiểm tra',
  VPTW: 'Văn phòng Trung ương Đảng',
  VPTU: 'Văn phòng Tỉnh ủy',
  BCSĐ: 'Ban cán sự đảng',
  ĐĐ: 'Đảng đoàn',
  BCĐ: 'Ban Chỉ đạo',
  QUTW: 'Quân ủy Trung ương',
  BTGTW: 'Ban Tuyên giáo Trung ương',
  BTCTW: 'Ban Tổ chức Trung ương',
  BDVTW: 'Ban Dân vận Trung ương',
  BNCTW: 'Ban Nội chính Trung ương',
  BTGDVTW: 'Ban Tuyên giáo và Dân vận Trung ương',
  UBKTTW: 'Ủy ban Kiểm tra Trung ương',
  BTGTU: 'Ban Tuyên giáo Tỉnh ủy',
  BTCTU: 'Ban Tổ chức Tỉnh ủy',
  BDVTU: 'Ban Dân vận Tỉnh ủy',
  UBKTTU: 'Ủy ban Kiểm tra Tỉnh ủy',
} as const satisfies Record<string, string>;
/** A canonical issuer symbol. */
export type DocumentIssuer = keyof typeof DOCUMENT_ISSUERS;

const TYPE_CODES = Object.keys(DOCUMENT_TYPES) as DocumentType[];
const ISSUER_CODES = Object.keys(DOCUMENT_ISSUERS) as DocumentIssuer[];

/** A parsed document number. */
export interface DocumentNumber {
  /** Numeric value, for identity: `09` and `9` are the same number. */
  number: number;
  /** The digits as typed, for display: `09-KH/ĐU` stays `09`. */
  numberText: string;
  type: DocumentType;
  issuer: DocumentIssuer;
  /** Canonical text: `numberText-TYPE/ISSUER`. */
  text: string;
}

const SHAPE = 'expected number-TYPE/ISSUER, e.g. 21-NQ/TW';

/** Input `D` may stand for `Đ` (Vietnamese keyboards are often off); input `Đ` only for `Đ`. */
function matchesWithDFix(inputUpper: string, canonUpper: string): boolean {
  if (inputUpper.length !== canonUpper.length) return false;
  for (let i = 0; i < inputUpper.length; i++) {
    const a = inputUpper[i];
    const b = canonUpper[i];
    if (a !== b && !(a === 'D' && b === 'Đ')) return false;
  }
  return true;
}

/**
 * The canonical code for a token: case-insensitive exact match first (so `HD` stays hướng dẫn), then
 * the D→Đ fix (`DU` → `ĐU`, `CTHD` → `CTHĐ`) if it yields exactly one code.
 */
function resolveCode<K extends string>(token: string, codes: ReadonlyArray<K>): K | undefined {
  const up = token.toUpperCase();
  const exact = codes.find((c) => c.toUpperCase() === up);
  if (exact) return exact;
  const fixed = codes.filter((c) => matchesWithDFix(up, c.toUpperCase()));
  return fixed.length === 1 ? fixed[0] : undefined;
}

/**
 * Normalise as people type numbers: NFC; trim; drop a leading `Số:` / `số`; dashes of any kind to
 * `-`; no spaces around `-` and `/`; the press's `TƯ` to `TW`. (The D→Đ fix is per token, in resolveCode.)
 */
export function normalizeDocumentNumberText(input: string): string {
  return input
    .normalize('NFC')
    .trim()
    .replace(/^s[ốo](?:\s*:\s*|\s+|(?=\d))/iu, '')
    .replace(/[\u2010-\u2015\u2212]/g, '-') // copy-pasted en/em dashes and minus signs
    .replace(/\s*([-/])\s*/g, '$1')
    .replace(/TƯ/giu, 'TW');
}

/**
 * Parse a document number (số, ký hiệu) such as `21-NQ/TW`, `Số: 45-KH/TU`, `09-KH/DU` (→ `09-KH/ĐU`).
 *
 * @throws DomainError (path `documentNumber`) saying what is wrong and what was expected: empty,
 *   missing `-` or `/`, a number that is not a positive whole number, an unknown type or issuer
 *   (listing the known ones). Number, type and issuer problems are all reported together.
 */
export function parseDocumentNumber(input: string): DocumentNumber {
  const shown = input.normalize('NFC').trim();
  const fail = (message: string): never => {
    throw DomainError.of('documentNumber', message);
  };
  const s = normalizeDocumentNumberText(input);
  if (s === '') fail(`empty document number (${SHAPE})`);
  const dash = s.indexOf('-');
  if (dash < 0) fail(`"${shown}": missing '-' between the number and the type (${SHAPE})`);
  const slash = s.indexOf('/', dash + 1);
  if (slash < 0) {
    fail(s.includes('/') ? `"${shown}": the number must come first, then '-', the type, '/' and the issuer (${SHAPE})` : `"${shown}": missing '/' between the type and the issuer (${SHAPE})`);
  }
  const numberText = s.slice(0, dash);
  const typeText = s.slice(dash + 1, slash);
  const issuerText = s.slice(slash + 1);

  const issues: DomainIssue[] = [];
  const problem = (message: string): void => void issues.push({ path: 'documentNumber', message: `"${shown}": ${message}` });
  let number = 0;
  if (numberText === '') problem(`missing the number before '-' (${SHAPE})`);
  else if (!/^\d+$/.test(numberText)) problem(`number "${numberText}" is not a whole number (expected digits, e.g. 21 or 09)`);
  else if (!Number.isSafeInteger((number = Number(numberText)))) problem(`number "${numberText}" is too large`);
  else if (number === 0) problem(`number "${numberText}" must be positive (numbers start at 1)`);

  const type = resolveCode(typeText, TYPE_CODES);
  if (typeText === '') problem(`missing the document type between '-' and '/' (expected one of ${TYPE_CODES.join(', ')})`);
  else if (!type) problem(`unknown document type "${typeText}" (expected one of ${TYPE_CODES.join(', ')})`);

  const issuer = resolveCode(issuerText, ISSUER_CODES);
  if (issuerText === '') problem(`missing the issuer after '/' (expected one of ${ISSUER_CODES.join(', ')})`);
  else if (!issuer) problem(`unknown issuer "${issuerText}" (expected one of ${ISSUER_CODES.join(', ')})`);

  if (issues.length || !type || !issuer) throw new DomainError(issues);
  return { number, numberText, type, issuer, text: `${numberText}-${type}/${issuer}` };
}

/** A document number as text; parses to its canonical text (`Số: 21-NQ/TƯ` → `21-NQ/TW`), with the precise reason as the zod issue if it is bad. */
export const DocumentNumberText = z.string().transform((text, ctx) => {
  try {
    return parseDocumentNumber(text).text;
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    for (const issue of e.issues) ctx.addIssue({ code: 'custom', message: issue.message });
    return z.NEVER;
  }
});
export type DocumentNumberText = z.infer<typeof DocumentNumberText>;

/** A reference to one document: its number and the date it was issued (ngày ban hành). */
export const DocumentRef = z.strictObject({ number: DocumentNumberText, date: LocalDate });
export type DocumentRef = z.infer<typeof DocumentRef>;

/** What identifies a document. */
export interface DocumentIdentity {
  issuer: DocumentIssuer;
  type: DocumentType;
  number: number;
  date: LocalDate;
}

/**
 * The identity of a document: issuer, type, numeric number and date. Numbers restart every committee
 * term (01-CT/TW exists for 2021 and for 2026), so the number text alone never identifies a document.
 * @throws DomainError if the number or the date is invalid
 */
export function documentIdentity(ref: DocumentRef): DocumentIdentity {
  const date = LocalDate.safeParse(ref.date);
  if (!date.success) throw DomainError.of('date', date.error.issues.map((i) => i.message).join('; '));
  const n = parseDocumentNumber(ref.number);
  return { issuer: n.issuer, type: n.type, number: n.number, date: date.data };
}

/** A stable key for a document, `TW/NQ/21/2022-06-16`: identity (issuer/type/number/date), never the number text alone. */
export function documentKey(ref: DocumentRef): string {
  const id = documentIdentity(ref);
  return `${id.issuer}/${id.type}/${id.number}/${id.date}`;
}
