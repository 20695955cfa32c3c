/**
 * The unit hierarchy (cấp ủy, tổ chức đảng) as data: import from CSV or JSON, validation, and the
 * lookups workflows need. Levels are data too (tinh, huyen, xa, co-so, chi-bo …): the district level
 * was abolished on 1 July 2025, and the code must not care.
 *
 * Imports are checked as a whole: every problem in the file is reported at once, each naming its
 * line and column/field, so ops staff can fix a 3,000-row export in one pass.
 *
 * Pure: imported by workflow code (no Node built-ins, no I/O); the CLI reads the file.
 */
import { z } from 'zod';
import { DomainError, type DomainIssue } from './errors';
import { LocalDate } from './time';
import { Text, unstorableText } from './text';
import { LEVEL_CODE_EXPECTED as LEVEL_EXPECTED, LEVEL_CODE_RE as LEVEL_RE, LevelCode, UNIT_CODE_EXPECTED as CODE_EXPECTED, UNIT_CODE_MAX as CODE_MAX, UnitCode, isUnitCode } from './codes';

// ---------------------------------------------------------------------------------------------
// Schema

export { UnitCode };

/** A level code (cấp): a lowercase slug. Which levels exist is data, not code. */
export { LevelCode };

const NAME_MAX_FOR_SCHEMA = 300;

/** One unit of the hierarchy (a party committee, organisation or cell). */
export const Unit = z.strictObject({
  code: UnitCode,
  /** Vietnamese name, NFC-normalised and trimmed (so "Bắc Giang" typed on any keyboard compares equal). */
  name: Text({ max: NAME_MAX_FOR_SCHEMA, multiline: true }),
  level: LevelCode,
  /** Parent unit's code; null for a root. */
  parent: UnitCode.nullable(),
  /** Number of party members (số đảng viên). */
  members: z.number().int().min(0),
  /** Has a standing committee (ban thường vụ)? Cells (chi bộ) don't: their escalations go to the nearest ancestor that has one. */
  standingCommittee: z.boolean(),
  /** The date this unit took its current shape (e.g. a merger on 2025-07-01). */
  effectiveFrom: LocalDate.optional(),
  /** Codes of the units merged into this one (lineage); they need not be in the current file. */
  predecessors: z.array(UnitCode).optional(),
});
export type Unit = z.infer<typeof Unit>;

/** The columns of a hierarchy file (CSV header / JSON keys), in display order. */
export const UNIT_FILE_COLUMNS = ['code', 'name', 'level', 'parent', 'members', 'standing_committee', 'effective_from', 'predecessors'] as const;
/** A column of a hierarchy file. */
export type UnitFileColumn = (typeof UNIT_FILE_COLUMNS)[number];
const REQUIRED_COLUMNS: ReadonlyArray<UnitFileColumn> = ['code', 'name', 'level', 'parent', 'members', 'standing_committee'];
const COLUMN_LIST = UNIT_FILE_COLUMNS.join(', ');

const FIELD_OF_COLUMN: Record<UnitFileColumn, keyof Unit> = {
  code: 'code',
  name: 'name',
  level: 'level',
  parent: 'parent',
  members: 'members',
  standing_committee: 'standingCommittee',
  effective_from: 'effectiveFrom',
  predecessors: 'predecessors',
};

function isColumn(name: string): name is UnitFileColumn {
  return (UNIT_FILE_COLUMNS as ReadonlyArray<string>).includes(name);
}

/** `standingCommittee` → a hint that the file uses snake_case. */
function columnHint(name: string): string {
  const snake = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return snake !== name && isColumn(snake) ? ` (did you mean "${snake}"?)` : '';
}

// ---------------------------------------------------------------------------------------------
// Field checks shared by CSV and JSON. Each returns the value or a message saying what is wrong and what is expected.

type Checked<T> = { ok: true; value: T } | { ok: false; message: string };
const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = <T>(message: string): Checked<T> => ({ ok: false, message });

function checkCode(text: string, what = 'code'): Checked<string> {
  const t = text.trim();
  if (t === '') return bad(`missing ${what} (${CODE_EXPECTED})`);
  if (t.length > CODE_MAX) return bad(`${what} "${t}" is ${t.length} characters long (at most ${CODE_MAX})`);
  if (!isUnitCode(t)) return bad(`"${t}" is not a valid ${what} (${CODE_EXPECTED})`);
  return ok(t);
}

const NAME_MAX = 300;

function checkName(text: string): Checked<string> {
  // Line breaks are accepted (a spreadsheet cell may hold one); what PostgreSQL cannot store is not.
  const why = unstorableText(text, { multiline: true });
  if (why) return bad(`the name ${why}`);
  const t = text.normalize('NFC').trim();
  if (t === '') return bad("missing name (expected the unit's Vietnamese name, e.g. Tỉnh ủy Bắc Giang)");
  return t.length > NAME_MAX ? bad(`the name is ${t.length} characters long (at most ${NAME_MAX})`) : ok(t);
}

function checkLevel(text: string): Checked<string> {
  const t = text.trim();
  if (t === '') return bad(`missing level (${LEVEL_EXPECTED})`);
  if (!LEVEL_RE.test(t)) {
    const lower = t.toLowerCase();
    return bad(`"${t}" is not a level code (${LEVEL_EXPECTED})${LEVEL_RE.test(lower) ? `; did you mean "${lower}"?` : ''}`);
  }
  return ok(t);
}

function checkParent(text: string): Checked<string | null> {
  return text.trim() === '' ? ok(null) : checkCode(text, 'parent code');
}

function checkDate(text: string): Checked<string | undefined> {
  const t = text.trim();
  if (t === '') return ok(undefined);
  const r = LocalDate.safeParse(t);
  return r.success ? ok(r.data) : bad(r.error.issues.map((i) => i.message).join('; '));
}

function checkPredecessorList(items: ReadonlyArray<string>): Checked<string[] | undefined> {
  const codes: string[] = [];
  for (const item of items) {
    if (item.trim() === '') continue;
    const c = checkCode(item, 'predecessor code');
    if (!c.ok) return bad(`${c.message}; predecessors are unit codes separated by ';'`);
    codes.push(c.value);
  }
  return ok(codes.length ? codes : undefined);
}

const MEMBERS_EXPECTED = 'expected the number of party members (số đảng viên), a whole number ≥ 0';

const CSV_TRUE = ['true', '1', 'yes', 'có', 'x'];
const CSV_FALSE = ['false', '0', 'no', 'không', ''];

function checkCsvBoolean(text: string): Checked<boolean> {
  const t = text.normalize('NFC').trim().toLowerCase();
  if (CSV_TRUE.includes(t)) return ok(true);
  if (CSV_FALSE.includes(t)) return ok(false);
  return bad(`"${text.trim()}" is not yes or no (expected true/false, 1/0, yes/no, có/không, x or empty for no)`);
}

function checkCsvMembers(text: string): Checked<number> {
  const t = text.trim();
  if (t === '') return bad(`missing (${MEMBERS_EXPECTED})`);
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) return bad(`"${t}" is not a whole number ≥ 0 (${MEMBERS_EXPECTED}, digits only)`);
  return ok(Number(t));
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

function jsonString(v: unknown, check: (s: string) => Checked<string>, what: string): Checked<string> {
  return typeof v === 'string' ? check(v) : bad(`expected ${what} as a string, got ${describeJson(v)}`);
}

/** JSON field checks: the same rules as CSV, with JSON types (numbers, booleans, null, arrays). */
const JSON_FIELD: Record<UnitFileColumn, (v: unknown) => Checked<unknown>> = {
  code: (v) => jsonString(v, (s) => checkCode(s), 'the unit code'),
  name: (v) => jsonString(v, checkName, 'the name'),
  level: (v) => jsonString(v, checkLevel, 'the level code'),
  parent: (v) => (v === null ? ok(null) : typeof v === 'string' ? checkParent(v) : bad(`expected the parent's code as a string, or null for a root; got ${describeJson(v)}`)),
  members: (v) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
      ? ok(v)
      : bad(`${typeof v === 'number' ? `${v} is not a whole number ≥ 0` : `got ${describeJson(v)}`} (${MEMBERS_EXPECTED}, as a JSON number)`),
  standing_committee: (v) => (typeof v === 'boolean' ? ok(v) : bad(`expected true or false, got ${describeJson(v)}`)),
  effective_from: (v) => (v === null || v === undefined ? ok(undefined) : typeof v === 'string' ? checkDate(v) : bad(`expected a date string YYYY-MM-DD or null, got ${describeJson(v)}`)),
  predecessors: (v) => {
    if (v === null || v === undefined) return ok(undefined);
    if (typeof v === 'string') return checkPredecessorList(v.split(';'));
    if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string')) return checkPredecessorList(v);
    return bad(`expected an array of unit codes or a ';'-separated string, got ${describeJson(v)}`);
  },
};

/** CSV field checks: every cell is text. */
const CSV_FIELD: Record<UnitFileColumn, (v: string) => Checked<unknown>> = {
  code: (v) => checkCode(v),
  name: checkName,
  level: checkLevel,
  parent: checkParent,
  members: checkCsvMembers,
  standing_committee: checkCsvBoolean,
  effective_from: checkDate,
  predecessors: (v) => checkPredecessorList(v.split(';')),
};

// ---------------------------------------------------------------------------------------------
// Rows and tree checks

/** An issue with a sort key (the line), so a file's issues come out in file order. */
interface LocatedIssue extends DomainIssue {
  order: number;
}

/** One row being imported: where it is, and what could be read of it. */
interface Row {
  /** `line 7`, `line 12 (row 3)`, `row 3`: used to name the other row in a duplicate. */
  label: string;
  /** Sort key: the line (files) or the row index. */
  order: number;
  /** Path of a field of this row: `line 7, column members`, `line 12 (row 3), field members`, `row 3 (members)`. */
  at: (column: UnitFileColumn) => string;
  values: Partial<Record<keyof Unit, unknown>>;
}

function toUnit(values: Partial<Record<keyof Unit, unknown>>): Unit {
  const u: Unit = {
    code: values.code as string,
    name: values.name as string,
    level: values.level as string,
    parent: values.parent as string | null,
    members: values.members as number,
    standingCommittee: values.standingCommittee as boolean,
  };
  if (values.effectiveFrom !== undefined) u.effectiveFrom = values.effectiveFrom as string;
  if (values.predecessors !== undefined) u.predecessors = values.predecessors as string[];
  return Unit.parse(u); // cannot fail after the field checks; guards against the two drifting apart
}

/**
 * Whole-file checks over rows whose code/parent could be read: duplicate codes (naming both rows),
 * unknown parents, cycles, no root, self-references.
 */
/** How much of a tree a file must be: `whole` (a snapshot) or `partial` (a delta: parents may be units already stored, no root needed). */
export interface ParseOptions {
  partial?: boolean;
}

function treeIssues(rows: ReadonlyArray<Row>, fileLevelPath: string, partial = false): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const add = (row: Row, column: UnitFileColumn, message: string): void => void issues.push({ path: row.at(column), message, order: row.order });
  const byCode = new Map<string, Row>();
  const byFolded = new Map<string, Row>();
  for (const row of rows) {
    const code = row.values.code;
    if (typeof code !== 'string') continue;
    const first = byCode.get(code);
    const folded = byFolded.get(code.toLowerCase());
    if (first) add(row, 'code', `duplicate code "${code}" (already used on ${first.label}; each unit needs its own code)`);
    else if (folded)
      add(row, 'code', `code "${code}" differs from "${String(folded.values.code)}" on ${folded.label} only in letter case (codes must differ by more than case: they go into workflow IDs)`);
    else {
      byCode.set(code, row);
      byFolded.set(code.toLowerCase(), row);
    }
  }

  let hasRoot = false;
  for (const row of rows) {
    const { code, parent, predecessors } = row.values;
    if (parent === null) hasRoot = true;
    if (typeof parent === 'string') {
      if (parent === code) add(row, 'parent', `unit "${parent}" is its own parent (expected another unit's code, or empty for a root)`);
      else if (!byCode.has(parent) && !partial) {
        const near = byFolded.get(parent.toLowerCase());
        add(
          row,
          'parent',
          `parent "${parent}" is not a code in this file (expected the code of another unit, or empty for a root)${near ? `; did you mean "${String(near.values.code)}" on ${near.label}?` : ''}`,
        );
      }
    }
    if (Array.isArray(predecessors) && typeof code === 'string' && predecessors.includes(code))
      add(row, 'predecessors', `unit "${code}" lists itself as a predecessor (expected codes of the units merged into it)`);
  }

  // Cycles: follow parents from each unit; a chain that comes back onto itself is reported once, at its first row in the file.
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  for (const start of byCode.keys()) {
    const chain: string[] = [];
    let code: string | undefined = start;
    while (code !== undefined && !state.has(code)) {
      state.set(code, 'visiting');
      chain.push(code);
      const p: unknown = byCode.get(code)?.values.parent;
      code = typeof p === 'string' && p !== code && byCode.has(p) ? p : undefined;
    }
    if (code !== undefined && state.get(code) === 'visiting' && !reported.has(code)) {
      const cycle = chain.slice(chain.indexOf(code));
      cycle.forEach((c) => reported.add(c));
      const rowsInCycle = cycle.map((c) => byCode.get(c) as Row);
      const firstRow = rowsInCycle.reduce((a, b) => (b.order < a.order ? b : a));
      // Print the cycle starting from its first row, following parents.
      const from = cycle.indexOf(String(firstRow.values.code));
      const path = [...cycle.slice(from), ...cycle.slice(0, from), String(firstRow.values.code)];
      add(firstRow, 'parent', `cycle in parents: ${path.join(' → ')} (a unit cannot be its own ancestor; ${rowsInCycle.map((r) => `${String(r.values.code)} on ${r.label}`).join(', ')})`);
    }
    for (const c of chain) state.set(c, 'done');
  }

  if (!partial && rows.length > 0 && !hasRoot && rows.every((r) => r.values.parent !== undefined)) {
    issues.push({
      path: fileLevelPath,
      message: 'no root unit: every unit has a parent (expected at least one unit with an empty parent, e.g. the province committee)',
      order: Number.MAX_SAFE_INTEGER,
    });
  }
  return issues;
}

function finish(rows: ReadonlyArray<Row>, fieldIssues: LocatedIssue[], fileLevelPath: string, partial = false): Unit[] {
  const issues = [...fieldIssues, ...treeIssues(rows, fileLevelPath, partial)];
  if (issues.length) {
    // Stable: within a line, field issues come before tree issues.
    issues.sort((a, b) => a.order - b.order);
    throw new DomainError(issues.map(({ path, message }) => ({ path, message })));
  }
  return rows.map((r) => toUnit(r.values));
}

/**
 * Validate units that are already parsed (from the database or an API): each against the Unit
 * schema, then the tree (unique codes, known parents, no cycles, at least one root). Returns them
 * normalised (names NFC, trimmed).
 * @throws DomainError with every problem, paths like `row 3 (code)` (rows count from 1)
 */
export function validateTree(units: ReadonlyArray<Unit>): Unit[] {
  const issues: LocatedIssue[] = [];
  const rows: Row[] = units.map((raw, i) => {
    const label = `row ${i + 1}`;
    const row: Row = { label, order: i + 1, at: (column) => `${label} (${FIELD_OF_COLUMN[column]})`, values: {} };
    const r = Unit.safeParse(raw);
    if (r.success) {
      row.values = { ...r.data };
      return row;
    }
    for (const issue of r.error.issues) {
      const field = issue.path[0];
      issues.push({ path: field === undefined ? label : `${label} (${String(field)})`, message: issue.message, order: i + 1 });
    }
    // Keep what is readable, for the tree checks.
    const obj = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    if (UnitCode.safeParse(obj.code).success) row.values.code = obj.code;
    if (obj.parent === null || UnitCode.safeParse(obj.parent).success) row.values.parent = obj.parent;
    return row;
  });
  return finish(rows, issues, 'units');
}

// ---------------------------------------------------------------------------------------------
// CSV

export interface CsvRecord {
  /** Physical line the record starts on (1-based). */
  line: number;
  fields: string[];
}

/**
 * RFC 4180: fields separated by ',', records by CRLF or LF (or a lone CR); a field in double quotes
 * may hold commas, quotes (doubled) and line breaks. Records remember the physical line they start on.
 */
export function parseCsv(text: string): { records: CsvRecord[]; issues: LocatedIssue[] } {
  const records: CsvRecord[] = [];
  const issues: LocatedIssue[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  const newlineAt = (k: number): number => (text[k] === '\r' ? (text[k + 1] === '\n' ? 2 : 1) : text[k] === '\n' ? 1 : 0);
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let value = '';
      if (text[i] === '"') {
        const quoteLine = line;
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i] as string;
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          const nl = newlineAt(i);
          if (nl) {
            value += '\n'; // a line break inside a field is kept, as LF
            line++;
            i += nl;
            continue;
          }
          value += c;
          i++;
        }
        if (!closed) {
          issues.push({ path: `line ${quoteLine}`, message: 'a quoted field is never closed (expected a closing \'"\'; write a quote inside a quoted field as "")', order: quoteLine });
          fields.push(value);
          records.push({ line: start, fields });
          return { records, issues };
        }
        if (i < n && text[i] !== ',' && !newlineAt(i)) {
          issues.push({ path: `line ${line}`, message: `unexpected text after a closing quote (expected ',' or the end of the line; write a quote inside a quoted field as "")`, order: line });
          while (i < n && text[i] !== ',' && !newlineAt(i)) value += text[i++];
        }
      } else {
        while (i < n && text[i] !== ',' && !newlineAt(i)) value += text[i++];
        if (value.includes('"')) {
          issues.push({ path: `line ${line}`, message: `a quote inside an unquoted field (expected the whole field in quotes, with inner quotes doubled: "a ""b"" c")`, order: line });
        }
      }
      fields.push(value);
      if (text[i] === ',') {
        i++;
        continue;
      }
      const nl = newlineAt(i);
      if (nl) {
        i += nl;
        line++;
      }
      break;
    }
    records.push({ line: start, fields });
  }
  return { records, issues };
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parse a hierarchy CSV: a header row naming the columns (any order; `effective_from` and
 * `predecessors` optional), then one unit per row. Quoted fields, CRLF/LF, a UTF-8 BOM and blank
 * lines are handled. Booleans: true/false, 1/0, yes/no, có/không, x, empty (= false).
 * @throws DomainError listing every problem, e.g. `line 7, column members`
 */
export function parseUnitsCsv(text: string, opts: ParseOptions = {}): Unit[] {
  const { records, issues } = parseCsv(stripBom(text).normalize('NFC'));
  // Blank lines, and rows of empty cells that spreadsheets export, are not units.
  const nonBlank = records.filter((r) => r.fields.some((f) => f.trim() !== ''));
  const header = nonBlank[0];
  if (!header) throw DomainError.of('file', `empty file (expected a header row: ${COLUMN_LIST}; the last two are optional)`);

  const columns: (UnitFileColumn | undefined)[] = [];
  const headerIssues: LocatedIssue[] = [];
  const seen = new Set<string>();
  for (const raw of header.fields) {
    const name = raw.trim().toLowerCase();
    const known = isColumn(name) ? name : undefined;
    if (!known)
      headerIssues.push({
        path: `line ${header.line}, column ${raw.trim() || '(empty)'}`,
        message: `unknown column "${raw.trim()}"${columnHint(raw.trim())} (expected ${COLUMN_LIST})`,
        order: header.line,
      });
    else if (seen.has(known))
      headerIssues.push({ path: `line ${header.line}, column ${known}`, message: `column "${known}" appears twice in the header (expected each column once)`, order: header.line });
    seen.add(name);
    columns.push(known);
  }
  for (const required of REQUIRED_COLUMNS) {
    if (!seen.has(required))
      headerIssues.push({
        path: `line ${header.line} (header)`,
        message: `missing column "${required}" (required: ${REQUIRED_COLUMNS.join(', ')}; optional: effective_from, predecessors)`,
        order: header.line,
      });
  }
  if (headerIssues.length) throw new DomainError([...issues, ...headerIssues].sort((a, b) => a.order - b.order).map(({ path, message }) => ({ path, message })));

  const dataRecords = nonBlank.slice(1);
  if (dataRecords.length === 0 && issues.length === 0) throw DomainError.of('file', 'no units (expected at least one row after the header)');

  const fieldIssues: LocatedIssue[] = [...issues];
  const rows: Row[] = dataRecords.map((rec) => {
    const label = `line ${rec.line}`;
    const row: Row = { label, order: rec.line, at: (column) => `${label}, column ${column}`, values: {} };
    if (rec.fields.length !== columns.length) {
      fieldIssues.push({
        path: label,
        message: `${rec.fields.length} fields, but the header has ${columns.length} columns (expected one field per column; quote fields that contain commas)`,
        order: rec.line,
      });
      // Still register a readable code, so its children don't also report an unknown parent.
      const codeIndex = columns.indexOf('code');
      const code = checkCode(rec.fields[codeIndex] ?? '');
      if (code.ok) row.values.code = code.value;
      return row;
    }
    columns.forEach((column, k) => {
      if (!column) return;
      const r = CSV_FIELD[column](rec.fields[k] ?? '');
      if (r.ok) row.values[FIELD_OF_COLUMN[column]] = r.value;
      else fieldIssues.push({ path: row.at(column), message: r.message, order: rec.line });
    });
    return row;
  });
  return finish(rows, fieldIssues, 'file', opts.partial);
}

// ---------------------------------------------------------------------------------------------
// JSON

/**
 * A small strict JSON parser (RFC 8259) that, unlike JSON.parse, reports syntax errors by line and
 * records where each array element and object key starts, so problems can name their line.
 */
export class JsonReader {
  private i = 0;
  /** Nesting so far: a hierarchy file is two levels deep; anything far deeper is refused, not recursed into. */
  private depth = 0;
  private static readonly MAX_DEPTH = 32;
  private readonly lineStarts: number[] = [0];
  readonly elementOffsets = new WeakMap<unknown[], number[]>();
  readonly keyOffsets = new WeakMap<object, Map<string, number>>();

  constructor(private readonly text: string) {
    for (let k = 0; k < text.length; k++) if (text[k] === '\n') this.lineStarts.push(k + 1);
  }

  /** 1-based line of an offset. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  parseDocument(): unknown {
    const v = this.value();
    this.ws();
    if (this.i < this.text.length) this.fail('unexpected text after the end of the JSON value');
    return v;
  }

  private fail(message: string): never {
    const line = this.lineOf(this.i);
    const column = this.i - (this.lineStarts[line - 1] as number) + 1;
    throw DomainError.of(`line ${line}, column ${column}`, `invalid JSON: ${message}`);
  }

  private ws(): void {
    while (this.i < this.text.length && ' \t\r\n'.includes(this.text[this.i] as string)) this.i++;
  }

  private found(): string {
    return this.i < this.text.length ? `'${this.text[this.i]}'` : 'the end of the file';
  }

  private value(): unknown {
    this.ws();
    const c = this.text[this.i];
    if (c === '{' || c === '[') {
      if (this.depth >= JsonReader.MAX_DEPTH) this.fail(`nested more than ${JsonReader.MAX_DEPTH} levels deep (a hierarchy file is a list of units)`);
      this.depth++;
      try {
        return c === '{' ? this.object() : this.array();
      } finally {
        this.depth--;
      }
    }
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail(`expected a value (object, array, string, number, true, false or null), found ${this.found()}`);
  }

  private object(): Record<string, unknown> {
    this.i++; // {
    const out: Record<string, unknown> = {};
    const keys = new Map<string, number>();
    this.keyOffsets.set(out, keys);
    this.ws();
    if (this.text[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.text[this.i] !== '"') this.fail(`expected a field name in double quotes, found ${this.found()}`);
      const at = this.i;
      const key = this.string();
      // JSON.parse would keep the last of two same-named fields silently; a file means one of them.
      if (keys.has(key)) {
        this.i = at;
        this.fail(`the field "${key}" is given twice in this object`);
      }
      this.ws();
      if (this.text[this.i] !== ':') this.fail(`expected ':' after the field name "${key}", found ${this.found()}`);
      this.i++;
      // defineProperty: a "__proto__" key must be data, not a prototype change.
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      keys.set(key, at);
      this.ws();
      if (this.text[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.text[this.i] === '}') {
        this.i++;
        return out;
      }
      this.fail(`expected ',' or '}' in an object, found ${this.found()}`);
    }
  }

  private array(): unknown[] {
    this.i++; // [
    const out: unknown[] = [];
    const offsets: number[] = [];
    this.elementOffsets.set(out, offsets);
    this.ws();
    if (this.text[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      offsets.push(this.i);
      out.push(this.value());
      this.ws();
      if (this.text[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.text[this.i] === ']') {
        this.i++;
        return out;
      }
      this.fail(`expected ',' or ']' in an array, found ${this.found()}`);
    }
  }

  private string(): string {
    this.i++; // opening quote
    let out = '';
    for (;;) {
      if (this.i >= this.text.length) this.fail("a string is never closed (expected a closing '\"')");
      const c = this.text[this.i] as string;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === '\\') {
        const e = this.text[this.i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(parseInt(this.text.slice(this.i + 2, this.i + 6), 16));
          this.i += 6;
        } else {
          this.fail(`invalid escape "\\${e ?? ''}" in a string`);
        }
        continue;
      }
      if (c < ' ') this.fail('a line break or control character inside a string (expected \\n or the closing quote)');
      out += c;
      this.i++;
    }
  }

  private number(): number {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.text.slice(this.i, this.i + 64));
    if (!m) this.fail(`invalid number, found ${this.found()}`);
    this.i += m[0].length;
    return Number(m[0]);
  }
}

/**
 * Parse a hierarchy JSON file: an array of units, or `{ "units": [...] }`, with the same fields as the
 * CSV columns (snake_case; `predecessors` an array or a ';'-separated string; `parent` null for a
 * root). Unknown fields are errors.
 * @throws DomainError listing every problem, e.g. `line 12 (row 3), field members`
 */
export function parseUnitsJson(text: string, opts: ParseOptions = {}): Unit[] {
  const reader = new JsonReader(stripBom(text).normalize('NFC'));
  const doc = reader.parseDocument();
  const shape = 'expected an array of units, or an object { "units": [...] }';
  let list: unknown[];
  if (Array.isArray(doc)) list = doc;
  else if (typeof doc === 'object' && doc !== null) {
    const keys = reader.keyOffsets.get(doc) ?? new Map<string, number>();
    const extra = [...keys.entries()].filter(([k]) => k !== 'units');
    if (extra.length) throw new DomainError(extra.map(([k, at]) => ({ path: `line ${reader.lineOf(at)}, field ${k}`, message: `unknown top-level field "${k}" (${shape})` })));
    const units = (doc as Record<string, unknown>).units;
    if (!Array.isArray(units)) throw DomainError.of('file', `${units === undefined ? 'missing "units"' : `"units" is ${describeJson(units)}`} (${shape})`);
    list = units;
  } else throw DomainError.of('file', `the file holds ${describeJson(doc)} (${shape})`);
  if (list.length === 0) throw DomainError.of('file', 'no units (expected at least one unit in the array)');

  const offsets = reader.elementOffsets.get(list) ?? [];
  const fieldIssues: LocatedIssue[] = [];
  const rows: Row[] = list.map((element, k) => {
    const line = reader.lineOf(offsets[k] ?? 0);
    const label = `line ${line} (row ${k + 1})`;
    const row: Row = { label, order: line, at: (column) => `${label}, field ${column}`, values: {} };
    const add = (path: string, message: string): void => void fieldIssues.push({ path, message, order: line });
    if (typeof element !== 'object' || element === null || Array.isArray(element)) {
      add(label, `expected a unit object with fields ${COLUMN_LIST}; got ${describeJson(element)}`);
      return row;
    }
    const obj = element as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!isColumn(key)) {
        add(`${label}, field ${key}`, `unknown field "${key}"${columnHint(key)} (expected ${COLUMN_LIST})`);
      }
    }
    for (const column of UNIT_FILE_COLUMNS) {
      const present = Object.prototype.hasOwnProperty.call(obj, column);
      if (!present) {
        if (REQUIRED_COLUMNS.includes(column)) add(row.at(column), `missing field "${column}"${column === 'parent' ? ' (use null for a root)' : ` (required: ${REQUIRED_COLUMNS.join(', ')})`}`);
        continue;
      }
      const r = JSON_FIELD[column](obj[column]);
      if (r.ok) row.values[FIELD_OF_COLUMN[column]] = r.value;
      else add(row.at(column), r.message);
    }
    return row;
  });
  return finish(rows, fieldIssues, 'file', opts.partial);
}

/**
 * Parse a hierarchy file by its extension: `.csv` or `.json` (case-insensitive).
 * @throws DomainError for any other extension, or the file's problems
 */
export function parseUnitsFile(fileName: string, text: string, opts: ParseOptions = {}): Unit[] {
  const m = /\.([^./\\]+)$/.exec(fileName);
  const ext = m?.[1]?.toLowerCase();
  if (ext === 'csv') return parseUnitsCsv(text, opts);
  if (ext === 'json') return parseUnitsJson(text, opts);
  throw DomainError.of('file', `"${fileName}": unsupported file type${ext ? ` ".${ext}"` : ' (no extension)'} (expected a .csv or .json file; save spreadsheets as "CSV UTF-8")`);
}

// ---------------------------------------------------------------------------------------------
// Lookups for workflows

/** Units by code, and each unit's children (sorted by code, so fan-out order is deterministic). */
export interface UnitIndex {
  byCode: ReadonlyMap<string, Unit>;
  /** Children by parent code; every unit has an entry (leaves: empty). */
  children: ReadonlyMap<string, ReadonlyArray<Unit>>;
  /** Units without a parent, sorted by code. */
  roots: ReadonlyArray<Unit>;
}

// Plain code-unit comparison, not localeCompare: ordering must not depend on the ICU build.
const byCodeOrder = (a: Unit, b: Unit): number => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);

/** Index units by code and by parent. Assumes a valid tree (see validateTree). */
export function buildIndex(units: ReadonlyArray<Unit>): UnitIndex {
  const byCode = new Map<string, Unit>();
  const children = new Map<string, Unit[]>();
  const roots: Unit[] = [];
  for (const u of units) {
    byCode.set(u.code, u);
    if (!children.has(u.code)) children.set(u.code, []);
  }
  for (const u of units) {
    if (u.parent === null) roots.push(u);
    else {
      const list = children.get(u.parent) ?? [];
      list.push(u);
      children.set(u.parent, list);
    }
  }
  for (const list of children.values()) list.sort(byCodeOrder);
  roots.sort(byCodeOrder);
  return { byCode, children, roots };
}

function unitOf(code: string, index: UnitIndex): Unit {
  const u = index.byCode.get(code);
  if (!u) throw DomainError.of('code', `unknown unit "${code}" (not in this hierarchy)`);
  return u;
}

/** A unit's ancestors, nearest (its parent) first, up to its root. */
export function ancestorsOf(code: string, index: UnitIndex): Unit[] {
  const out: Unit[] = [];
  const seen = new Set<string>([code]);
  let u = unitOf(code, index);
  while (u.parent !== null) {
    if (seen.has(u.parent)) throw DomainError.of('parent', `cycle in parents at "${u.parent}" (validate the hierarchy first)`);
    seen.add(u.parent);
    u = unitOf(u.parent, index);
    out.push(u);
  }
  return out;
}

/** Depth of every unit reachable from a root (roots: 0). */
function depths(index: UnitIndex): Map<string, number> {
  const depth = new Map<string, number>();
  let frontier = [...index.roots];
  for (let d = 0; frontier.length; d++) {
    const next: Unit[] = [];
    for (const u of frontier) {
      if (depth.has(u.code)) continue;
      depth.set(u.code, d);
      // One by one: spreading 200,000 children into push() overflows the call stack.
      for (const child of index.children.get(u.code) ?? []) next.push(child);
    }
    frontier = next;
  }
  return depth;
}

/**
 * The distinct levels, in depth order from the roots (a level's depth is the smallest depth of any of
 * its units); levels at the same depth are in code order.
 */
export function levelsOf(units: ReadonlyArray<Unit>): string[] {
  const index = buildIndex(units);
  const depth = depths(index);
  const levelDepth = new Map<string, number>();
  for (const u of units) {
    const d = depth.get(u.code);
    if (d === undefined) continue;
    levelDepth.set(u.level, Math.min(d, levelDepth.get(u.level) ?? d));
  }
  return [...levelDepth.entries()].sort(([la, da], [lb, db]) => da - db || (la < lb ? -1 : la > lb ? 1 : 0)).map(([l]) => l);
}

/** For each level, the levels its units' parents are at (roots contribute an empty set). */
export function parentLevelsOf(units: ReadonlyArray<Pick<Unit, 'code' | 'level' | 'parent'>>): Map<string, Set<string>> {
  // A parent outside the given units (the parent of a subtree's root) counts as none.
  const levelOf = new Map(units.map((u) => [u.code, u.level]));
  const out = new Map<string, Set<string>>();
  for (const u of units) {
    const set = out.get(u.level) ?? new Set<string>();
    const pl = u.parent === null ? undefined : levelOf.get(u.parent);
    if (pl !== undefined) set.add(pl);
    out.set(u.level, set);
  }
  return out;
}
