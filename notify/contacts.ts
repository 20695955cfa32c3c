/**
 * Unit contacts: who is told when an event notifies a unit (recipients.ts). Imported from CSV or JSON
 * with the columns `unit,channel,address,name`; an import replaces the contacts of the units it lists
 * (and leaves other units' contacts alone). Contacts belong to a unit code, not to a hierarchy
 * version, so they survive re-imports of the hierarchy; the units must exist in their organisation's
 * latest version. A unit merged away hands its contacts to its successor (moveContacts), and what
 * notifies it reaches its successors meanwhile (recipient-units.ts).
 *
 * Every problem in a file is reported at once, naming its line (CSV) or row (JSON) and field, and
 * nothing is recorded.
 */
import { type Kysely } from 'kysely';
import { z } from 'zod';
import { DomainError, type DomainIssue } from '../domain/errors';
import { UnitCode, parseCsv } from '../domain/hierarchy';
import type { Database } from '../db/database';
import { organisationOf } from '../db/hierarchy';
import { currentSuccessorsOf } from '../db/hierarchy-changes';
import { CHANNELS, type Channel } from './outbox';
import { Text } from '../domain/text';
import { forbiddenWebhookUrl, webhookAllowPrivateFromEnv, type WebhookAllowPrivate } from './webhook-address';

export const CONTACT_COLUMNS = ['unit', 'channel', 'address', 'name'] as const;

/** RFC 5321: an address is at most 254 characters (a 64-character local part). */
export const MAX_EMAIL_CHARS = 254;
export const MAX_URL_CHARS = 2048;
export const MAX_NAME_CHARS = 200;

const HttpUrl = z
  .url({ protocol: /^https?$/, error: 'not an http(s) URL (expected e.g. https://eoffice.example.vn/hooks/trienkhai)' })
  .max(MAX_URL_CHARS, `too long: a webhook URL is at most ${MAX_URL_CHARS} characters`);
const Email = z
  .email({ error: 'not an email address (expected e.g. vanphong@bacgiang.dcs.vn)' })
  .max(MAX_EMAIL_CHARS, `too long: an email address is at most ${MAX_EMAIL_CHARS} characters (RFC 5321)`)
  .refine((a) => a.split('@')[0]!.length <= 64, 'too long: the part before @ is at most 64 characters (RFC 5321)');

/** One contact, as validated (name NFC-normalised). */
export const Contact = z
  .strictObject({
    unit: UnitCode,
    channel: z.enum(CHANNELS as [Channel, ...Channel[]], { error: `unknown channel (expected ${CHANNELS.join(' or ')})` }),
    // Its length is checked per channel below (254 for an email address, 2048 for a URL).
    address: z.string().trim().min(1, 'missing address'),
    // One line (it goes into an email's headers as the recipient's name): no CR/LF, no control characters.
    name: z.union([z.literal(''), Text({ max: MAX_NAME_CHARS })]).default(''),
  })
  .superRefine((c, ctx) => {
    const r = (c.channel === 'email' ? Email : HttpUrl).safeParse(c.address);
    const shown = c.address.length > 80 ? `${c.address.slice(0, 77)}…` : c.address;
    if (!r.success) ctx.addIssue({ code: 'custom', path: ['address'], message: `"${shown}" is ${r.error.issues[0]?.message ?? 'invalid'}` });
  });
export type Contact = z.infer<typeof Contact>;

/** A contact with where it came from in the file (`line 3`, `row 2`). */
export interface LocatedContact extends Contact {
  at: string;
}

function check(raw: Record<string, unknown>, at: string, field: (c: string) => string, issues: DomainIssue[], allowPrivate: WebhookAllowPrivate): LocatedContact | undefined {
  const r = Contact.safeParse(raw);
  if (r.success) {
    // Server-side request forgery: no webhook to this machine or a private network unless configured.
    const refused = r.data.channel === 'webhook' ? forbiddenWebhookUrl(r.data.address, allowPrivate) : undefined;
    if (!refused) return { ...r.data, at };
    issues.push({ path: field('address'), message: refused });
    return undefined;
  }
  for (const i of r.error.issues) {
    const col = String(i.path[0] ?? '');
    issues.push({ path: col ? field(col) : at, message: i.message });
  }
  return undefined;
}

/**
 * Parse a contacts file by extension (.csv or .json). Webhooks to private addresses are refused
 * unless `allowPrivate` (default: TRIENKHAI_WEBHOOK_ALLOW_PRIVATE) allows them.
 * @throws DomainError naming each line/row and field
 */
export function parseContactsFile(fileName: string, text: string, allowPrivate: WebhookAllowPrivate = webhookAllowPrivateFromEnv()): LocatedContact[] {
  const ext = /\.([^./\\]+)$/.exec(fileName)?.[1]?.toLowerCase();
  const clean = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).normalize('NFC');
  const issues: DomainIssue[] = [];
  const out: LocatedContact[] = [];
  if (ext === 'csv') {
    const { records, issues: csvIssues } = parseCsv(clean);
    issues.push(...csvIssues.map(({ path, message }) => ({ path, message })));
    const nonBlank = records.filter((r) => r.fields.some((f) => f.trim() !== ''));
    const header = nonBlank[0];
    if (!header) throw DomainError.of('file', `empty file (expected a header row: ${CONTACT_COLUMNS.join(',')})`);
    const columns = header.fields.map((f) => f.trim().toLowerCase());
    const unknown = columns.filter((c) => !(CONTACT_COLUMNS as ReadonlyArray<string>).includes(c));
    const missing = CONTACT_COLUMNS.filter((c) => c !== 'name' && !columns.includes(c));
    if (unknown.length || missing.length) {
      throw new DomainError([
        ...unknown.map((c) => ({ path: `line ${header.line}, column ${c || '(empty)'}`, message: `unknown column "${c}" (expected ${CONTACT_COLUMNS.join(', ')})` })),
        ...missing.map((c) => ({ path: `line ${header.line} (header)`, message: `missing column "${c}" (required: unit, channel, address; optional: name)` })),
      ]);
    }
    for (const rec of nonBlank.slice(1)) {
      const at = `line ${rec.line}`;
      if (rec.fields.length !== columns.length) {
        issues.push({ path: at, message: `${rec.fields.length} fields, but the header has ${columns.length} columns (quote fields that contain commas)` });
        continue;
      }
      const raw: Record<string, unknown> = {};
      columns.forEach((c, k) => (raw[c] = (rec.fields[k] ?? '').trim()));
      const c = check(raw, at, (col) => `${at}, column ${col}`, issues, allowPrivate);
      if (c) out.push(c);
    }
  } else if (ext === 'json') {
    let doc: unknown;
    try {
      doc = JSON.parse(clean);
    } catch (e) {
      throw DomainError.of('file', `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    const list = Array.isArray(doc) ? doc : typeof doc === 'object' && doc !== null && Array.isArray((doc as { contacts?: unknown }).contacts) ? (doc as { contacts: unknown[] }).contacts : undefined;
    if (!list) throw DomainError.of('file', 'expected an array of contacts, or an object { "contacts": [...] }');
    list.forEach((el, k) => {
      const at = `row ${k + 1}`;
      if (typeof el !== 'object' || el === null || Array.isArray(el)) {
        issues.push({ path: at, message: `expected an object with fields ${CONTACT_COLUMNS.join(', ')}` });
        return;
      }
      const c = check(el as Record<string, unknown>, at, (col) => `${at}, field ${col}`, issues, allowPrivate);
      if (c) out.push(c);
    });
  } else {
    throw DomainError.of('file', `"${fileName}": unsupported file type (expected a .csv or .json file)`);
  }
  const seen = new Map<string, string>();
  for (const c of out) {
    const id = `${c.unit}|${c.channel}|${c.address}`;
    const first = seen.get(id);
    if (first) issues.push({ path: `${c.at}, ${c.at.startsWith('line') ? 'column' : 'field'} address`, message: `the same contact as ${first}` });
    else seen.set(id, c.at);
  }
  if (issues.length) throw new DomainError(issues);
  if (out.length === 0) throw DomainError.of('file', 'no contacts (expected at least one row)');
  return out;
}

export interface ContactsImportResult {
  units: string[];
  contacts: number;
  /** Contacts the import replaced (those the listed units had before). */
  replaced: number;
  hierarchyVersion: number;
}

/**
 * Replace the contacts of the units a file lists, in one transaction.
 * @throws DomainError if a unit is not in its organisation's latest hierarchy (a merged-away unit names its successor)
 */
export async function importContacts(db: Kysely<Database>, contacts: ReadonlyArray<LocatedContact>): Promise<ContactsImportResult> {
  return db.transaction().execute(async (trx) => {
    const units = [...new Set(contacts.map((c) => c.unit))].sort();
    const versions = new Map<string, number>();
    const why = new Map<string, string>();
    for (const u of units) {
      const home = await organisationOf(trx, u);
      if (home?.current) versions.set(u, home.latestVersion);
      else if (home) {
        const now = await currentSuccessorsOf(trx, u);
        why.set(
          u,
          `unit "${u}" is no longer in ${home.organisation}'s latest hierarchy (version ${home.latestVersion})${now.length ? `: it became ${now.join(', ')} — give their contacts, or move ${u}'s with \`trienkhai contacts move ${u}\`` : ''}`,
        );
      } else why.set(u, `unit "${u}" is not in the latest hierarchy of any organisation (import its organisation first: trienkhai units import FILE)`);
    }
    const unknown = contacts.filter((c) => why.has(c.unit));
    if (unknown.length) throw new DomainError(unknown.map((c) => ({ path: `${c.at}, ${c.at.startsWith('line') ? 'column' : 'field'} unit`, message: why.get(c.unit)! })));
    const removed = await trx.deleteFrom('unit_contacts').where('unit_code', 'in', units).executeTakeFirst();
    await trx
      .insertInto('unit_contacts')
      .values(contacts.map((c) => ({ unit_code: c.unit, channel: c.channel, address: c.address, name: c.name })))
      .execute();
    return { units, contacts: contacts.length, replaced: Number(removed.numDeletedRows), hierarchyVersion: Math.max(...versions.values()) };
  });
}

export interface ContactsMoveResult {
  from: string;
  to: string;
  /** Contacts moved (those the successor already had with the same channel and address are dropped). */
  moved: number;
}

/**
 * Move the contacts of a unit that was merged away (or split) to its successor: `to`, or its one
 * current successor by lineage. In one transaction.
 * @throws DomainError if the unit still exists, the successor is ambiguous or not current
 */
export async function moveContacts(db: Kysely<Database>, from: string, to?: string): Promise<ContactsMoveResult> {
  return db.transaction().execute(async (trx) => {
    const successors = await currentSuccessorsOf(trx, from);
    const home = await organisationOf(trx, from);
    if (home?.current && to === undefined) throw DomainError.of('unit', `unit "${from}" still exists in ${home.organisation} (version ${home.latestVersion}); name where its contacts go with --to`);
    const target = to ?? (successors.length === 1 ? successors[0] : undefined);
    if (target === undefined)
      throw DomainError.of(
        'to',
        successors.length
          ? `"${from}" became several units (${successors.join(', ')}): choose one with --to`
          : `"${from}" has no current successor (dissolved, or never merged): name the unit with --to`,
      );
    if (target === from) throw DomainError.of('to', `"${from}" is the unit the contacts are on`);
    const dest = await organisationOf(trx, target);
    if (!dest?.current) throw DomainError.of('to', `unit "${target}" is not in the latest hierarchy of any organisation`);
    const existing = await trx.selectFrom('unit_contacts').select(['channel', 'address']).where('unit_code', '=', target).execute();
    const have = new Set(existing.map((c) => `${c.channel}|${c.address}`));
    const rows = await trx.selectFrom('unit_contacts').selectAll().where('unit_code', '=', from).execute();
    if (rows.length === 0) throw DomainError.of('unit', `unit "${from}" has no contacts`);
    const fresh = rows.filter((r) => !have.has(`${r.channel}|${r.address}`));
    await trx.deleteFrom('unit_contacts').where('unit_code', '=', from).execute();
    if (fresh.length)
      await trx
        .insertInto('unit_contacts')
        .values(fresh.map((r) => ({ unit_code: target, channel: r.channel, address: r.address, name: r.name })))
        .execute();
    return { from, to: target, moved: fresh.length };
  });
}

export interface ContactRow {
  unitCode: string;
  channel: Channel;
  address: string;
  name: string;
  createdAt: string;
}

export async function listContacts(db: Kysely<Database>, unit?: string): Promise<ContactRow[]> {
  let q = db.selectFrom('unit_contacts').selectAll().orderBy('unit_code').orderBy('channel').orderBy('address');
  if (unit) q = q.where('unit_code', '=', unit);
  return (await q.execute()).map((r) => ({ unitCode: r.unit_code, channel: r.channel, address: r.address, name: r.name, createdAt: new Date(r.created_at).toISOString() }));
}
