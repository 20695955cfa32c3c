/**
 * Audit bundles: everything an auditor needs to prove and replay a rollout's record, in one folder,
 * checkable years later with no database and no Temporal server.
 *
 *   manifest.json      what the bundle is, and the sha256 of every other file
 *   manifest.sig       the export's seal: an Ed25519 signature over manifest.json, by the checkpoint key
 *   events.jsonl       every event of the log up to the export, in chain order (one row per line, with
 *                      its content hash and chain link); the whole log, not just the rollout's events,
 *                      so the chain and the signed Merkle roots can be re-derived and nothing can be
 *                      left out unnoticed
 *   checkpoints.json   every signed checkpoint up to the export, the last one cut at the export
 *   public-key.pem     the signing key's public half (pin your own copy with --public-key)
 *   histories/*.json   the rollout's Temporal workflow histories, every run (proto3 JSON, as
 *                      `temporal workflow show -o json` writes them)
 *   README.txt         how to check it
 *
 * The proof is the checkpoints: every event's content re-hashes to its chain link, and the links'
 * Merkle root is what the key signed. A checkpoint proves the events it covers, not that nothing came
 * after them: a bundle cut back to an earlier checkpoint (later events and checkpoints removed) would
 * still carry valid ones. So the export also signs its manifest (the seal), which states how many
 * events the log had, its head, how many checkpoints, and the sha256 of events.jsonl and
 * checkpoints.json: a cut bundle cannot produce it, and verification says up to which event and as of
 * when the bundle proves that nothing was left out.
 */
import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join, relative, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/database';
import { compactRow, linkedHead, verifyRows, type ChainRow, type VerifyResult } from '../db/audit';
import { Checkpoint, checkCheckpoints, loadSigningKey, recomputeLinks, signSnapshot } from '../db/checkpoints';
import { DomainError } from '../domain/errors';
import { collectRolloutHistories, historyFileName, type CollectedHistories } from './histories';
import { historyFromJson, historyToJson } from './history-json';
import type { ReplayInput } from './replay';

export const BUNDLE_FORMAT = 'trienkhai-audit-bundle';

const Sha = z.string().regex(/^[0-9a-f]{64}$/);
export const Manifest = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  version: z.literal(1),
  rolloutId: z.string().min(1),
  exportedAt: z.string().datetime({ offset: true }),
  log: z.strictObject({ events: z.number().int().min(0), rolloutEvents: z.number().int().min(0), head: z.strictObject({ seq: z.number().int().min(0), hash: Sha }), verified: z.boolean() }),
  checkpoints: z.number().int().min(0),
  /** The chain head when the histories were fetched (events after it may be missing from them). */
  historiesAsOfSeq: z.number().int().min(0),
  histories: z.array(z.strictObject({ file: z.string(), workflowId: z.string(), runId: z.string(), workflowType: z.string(), run: z.number().int().min(1) })),
  historiesGone: z.array(z.strictObject({ workflowId: z.string(), runId: z.string().nullable(), why: z.string() })),
  files: z.record(z.string(), z.strictObject({ sha256: Sha, bytes: z.number().int().min(0) })),
});
export type Manifest = z.infer<typeof Manifest>;

export interface ExportResult {
  dir: string;
  manifest: Manifest;
  /** Why no checkpoint could be cut at the export (the live log does not verify), if so. */
  unverified: VerifyResult | null;
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The bundle form of an event row (the database's internal `position` left out). */
function bundleRow(r: Record<string, unknown>): ChainRow & { recorded_at: string } {
  const { position: _position, ...rest } = r;
  return rest as unknown as ChainRow & { recorded_at: string };
}

/** Is `dir` an export bundle (has a manifest)? */
export function isBundle(dir: string): boolean {
  return existsSync(join(dir, 'manifest.json')) && statSync(dir).isDirectory();
}

/**
 * Export a rollout's bundle into `dir` (created; must be empty). Cuts a signed checkpoint first, so the
 * bundle's last checkpoint covers every event in it — unless the live log does not verify, in which
 * case the bundle is still written (it is the evidence) and `unverified` says why.
 */
export async function exportBundle(
  deps: { db: Kysely<Database>; client: Client },
  rolloutId: string,
  dir: string,
  opts: { keyFile: string; log?: (line: string) => void | Promise<void>; now?: Date },
): Promise<ExportResult> {
  const log = async (line: string): Promise<void> => void (await opts.log?.(line));
  const { db } = deps;
  if (dir.trim() === '') throw DomainError.of('dir', 'give the folder to export into');
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) throw DomainError.of('dir', `${dir} exists and is not an empty folder; export into a new folder`);
  const rollout = await db.selectFrom('rollouts').select('rollout_id').where('rollout_id', '=', rolloutId).executeTakeFirst();
  if (!rollout) throw DomainError.of('rollout', `no rollout "${rolloutId}"`);

  // The folder is made before anything is fetched or signed, and only inside a folder that exists (a
  // recursive mkdir under /proc never returns).
  const parent = dirname(resolve(dir));
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw DomainError.of('dir', `cannot export into ${dir}: ${parent} is not an existing folder`);
  try {
    if (!existsSync(dir)) mkdirSync(dir);
    mkdirSync(join(dir, 'histories'));
  } catch (e) {
    throw DomainError.of('dir', `cannot export into ${dir}: ${e instanceof Error ? e.message : String(e)}`);
  }

  // Histories first, then the events: an append completes only after its rows are committed, so every
  // completed append in the histories has its rows in the snapshot taken after (see crosscheck.ts).
  const historiesAsOf = await linkedHead(db);
  const units = await db.selectFrom('rollout_units').select('unit_code').where('rollout_id', '=', rolloutId).execute();
  await log(`fetching the workflow histories of ${units.length} unit(s)…`);
  const collected: CollectedHistories = await collectRolloutHistories(deps, rolloutId, (n) => void log(`histories: ${n} fetched`));
  const histories: Manifest['histories'] = [];
  for (const r of collected.runs.sort((a, b) => a.workflowId.localeCompare(b.workflowId) || a.run - b.run)) {
    const file = `histories/${historyFileName(r)}`;
    writeFileSync(join(dir, file), historyToJson(r.history));
    histories.push({ file, workflowId: r.workflowId, runId: r.runId, workflowType: r.workflowType, run: r.run });
  }
  await log(`histories: ${histories.length} run(s) written${collected.gone.length ? `; ${collected.gone.length} no longer held by Temporal` : ''}`);

  // The events: one snapshot of the whole log, verified and — if it verifies — signed, so the bundle's
  // last checkpoint covers exactly the events written (appends meanwhile fall after it, in neither).
  await log('verifying and signing the audit record…');
  // Each page of the snapshot is written out as it is read (a national log is never held whole).
  const fd = openSync(join(dir, 'events.jsonl'), 'w');
  let rolloutEvents = 0;
  let written = 0;
  const { check, checkpoint } = await signSnapshot(db, opts.keyFile, opts.now, {
    onPage: async (page) => {
      writeSync(fd, page.map((r) => `${JSON.stringify(bundleRow(r as unknown as Record<string, unknown>))}\n`).join(''));
      rolloutEvents += page.filter((r) => r.rollout_id === rolloutId).length;
      written += page.length;
      if (written % 50_000 < page.length) await log(`events: ${written} written`);
    },
  }).finally(() => closeSync(fd));
  await log(
    checkpoint
      ? `checkpoint of events #1–#${checkpoint.seq} signed for the export`
      : `WARNING: the audit record does not verify (${check.problems.length} problem(s)); exporting it as it is, without a new checkpoint`,
  );
  const head = check.head;

  const checkpoints = (await db.selectFrom('checkpoints').select(['body']).where('seq', '<=', String(head.seq)).orderBy('id').execute()).map(
    (r) => (typeof r.body === 'string' ? JSON.parse(r.body) : r.body) as Checkpoint,
  );
  writeFileSync(join(dir, 'checkpoints.json'), `${JSON.stringify(checkpoints, null, 2)}\n`);
  const publicKey = checkpoints.length ? checkpoints[checkpoints.length - 1]!.publicKey : loadSigningKey(opts.keyFile).publicKeyPem;
  writeFileSync(join(dir, 'public-key.pem'), publicKey);

  writeFileSync(join(dir, 'README.txt'), readme(rolloutId));
  const files: Manifest['files'] = {};
  for (const f of listFiles(dir)) files[f] = { sha256: await sha256File(join(dir, f)), bytes: statSync(join(dir, f)).size };
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    version: 1,
    rolloutId,
    exportedAt: (opts.now ?? new Date()).toISOString(),
    log: { events: written, rolloutEvents, head, verified: check.ok },
    historiesAsOfSeq: Number(historiesAsOf.seq),
    checkpoints: checkpoints.length,
    histories,
    historiesGone: collected.gone,
    files,
  };
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  writeFileSync(join(dir, 'manifest.json'), manifestText);
  if (checkpoint) {
    // The seal: only over a log that verified (like a checkpoint, it never vouches for tampering).
    const { privateKey, publicKeyPem } = loadSigningKey(opts.keyFile);
    const seal: Seal = { publicKey: publicKeyPem, signature: sign(null, Buffer.from(manifestText), privateKey).toString('base64') };
    writeFileSync(join(dir, SEAL_FILE), `${JSON.stringify(seal, null, 2)}\n`);
  }
  return { dir, manifest, unverified: check.ok ? null : check };
}

const SEAL_FILE = 'manifest.sig';
const Seal = z.strictObject({ publicKey: z.string(), signature: z.string() });
type Seal = z.infer<typeof Seal>;

/** Every file under `dir` but the manifest and its seal, as sorted relative paths with forward slashes. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.filter((f) => f !== 'manifest.json' && f !== SEAL_FILE);
}

function readme(rolloutId: string): string {
  return `trienkhai audit bundle of rollout ${rolloutId}

Check it (no database or server needed; a trienkhai checkout with \`npm install\` is enough):

  npx trienkhai audit verify <this folder> --public-key <your own copy of the signing key>
  npx trienkhai audit verify <this folder> --from-checkpoint <a checkpoint you saved earlier>
  npx trienkhai audit replay <this folder>

Files: manifest.json lists every other file with its sha256; manifest.sig is the export's Ed25519
signature over manifest.json (so a bundle cut short, or with its manifest rewritten, no longer verifies). events.jsonl is the whole event log up to
the export, one event per line in chain order; each row's content_hash is the sha256 of its canonical
content and hash = sha256(prev_hash ":" chain_seq ":" content_hash). checkpoints.json holds the signed
checkpoints (Ed25519 over an RFC 6962 Merkle root of the links). histories/ holds the Temporal workflow
histories of the rollout, every run, in proto3 JSON.
`;
}

// ---- reading and checking a bundle -------------------------------------------------------------------

export interface BundleVerifyResult {
  ok: boolean;
  dir: string;
  rolloutId: string;
  exportedAt: string;
  /** Files changed, missing or added since the export. */
  files: string[];
  /** Rows that are not event rows at all. */
  unreadable: string[];
  chain: VerifyResult;
  checkpoints: Array<{ seq: number; createdAt: string; problems: string[] }>;
  /** Events after the last signed checkpoint in the bundle (not covered by any signature). */
  unsigned: number;
  /** An earlier checkpoint the auditor kept, checked against the bundle's log. */
  fromCheckpoint: string[] | null;
  /** The key the signatures were checked against. */
  key: 'trusted' | 'bundle';
  /**
   * The export's seal (its signature over the manifest): why it does not hold (empty: it holds), and
   * how far it proves that nothing was left out — every event up to `seq`, the whole log as of
   * `exportedAt` — or null when it proves nothing of the kind.
   */
  seal: { problems: string[]; completeUpTo: { seq: number; exportedAt: string } | null };
}

function readManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) throw DomainError.of('bundle', `${dir} is not an audit bundle (no manifest.json)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw DomainError.of('manifest.json', `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) throw new DomainError(parsed.error.issues.map((i) => ({ path: `manifest.json: ${i.path.join('.') || '(top)'}`, message: i.message })));
  return parsed.data;
}

/**
 * The event rows of a bundle, and the lines that are not rows: read a line at a time, each row kept as
 * `keep` makes it (compacted for verification: a bundle of a national log is never held whole).
 */
async function readEvents(dir: string, keep: (r: ChainRow) => ChainRow | null): Promise<{ rows: ChainRow[]; unreadable: string[] }> {
  const file = join(dir, 'events.jsonl');
  if (!existsSync(file)) return { rows: [], unreadable: ['events.jsonl is missing'] };
  const rows: ChainRow[] = [];
  const unreadable: string[] = [];
  let i = 0;
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    i += 1;
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as ChainRow;
      if (typeof r.chain_seq !== 'string' || typeof r.event_id !== 'string' || typeof r.hash !== 'string') throw new Error('missing chain_seq, event_id or hash');
      const kept = keep(r);
      if (kept) rows.push(kept);
    } catch (e) {
      unreadable.push(`events.jsonl line ${i}: not an event row (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return { rows, unreadable };
}

/** Prove a bundle intact, offline. */
export async function verifyBundle(dir: string, opts: { trustedPublicKey?: string; fromCheckpoint?: unknown } = {}): Promise<BundleVerifyResult> {
  const manifest = readManifest(dir);
  const files: string[] = [];
  const present = new Set(listFiles(dir));
  for (const [f, want] of Object.entries(manifest.files)) {
    if (!present.has(f)) files.push(`${f} is missing`);
    else if ((await sha256File(join(dir, f))) !== want.sha256) files.push(`${f} was changed since the export (its sha256 differs from the manifest's)`);
  }
  for (const f of present) if (!(f in manifest.files)) files.push(`${f} was added after the export (not in the manifest)`);

  const { rows, unreadable } = await readEvents(dir, compactRow);
  const chain = verifyRows(rows, manifest.log.head);
  let checkpointInputs: unknown[] = [];
  try {
    const parsed = JSON.parse(readFileSync(join(dir, 'checkpoints.json'), 'utf8')) as unknown;
    checkpointInputs = Array.isArray(parsed) ? parsed : [parsed];
  } catch (e) {
    files.push(`checkpoints.json cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const bundleKey = existsSync(join(dir, 'public-key.pem')) ? readFileSync(join(dir, 'public-key.pem'), 'utf8') : undefined;
  const trusted = opts.trustedPublicKey ?? bundleKey;
  const links = recomputeLinks(rows);
  const checks = checkCheckpoints([...checkpointInputs, ...(opts.fromCheckpoint !== undefined ? [opts.fromCheckpoint] : [])], links, trusted ? { trustedPublicKey: trusted } : {});
  const checkpoints = checkpointInputs.map((c, i) => {
    const p = Checkpoint.safeParse(c);
    return { seq: p.success ? p.data.seq : -1, createdAt: p.success ? p.data.createdAt : '?', problems: checks[i]! };
  });
  const signedUpTo = Math.max(0, ...checkpoints.filter((c) => c.problems.length === 0).map((c) => c.seq));
  const unsigned = Math.max(0, rows.length - signedUpTo);
  const fromCheckpoint = opts.fromCheckpoint !== undefined ? checks[checks.length - 1]! : null;
  const seal = checkSeal(dir, manifest, rows, checkpointInputs.length, trusted);
  const ok =
    files.length === 0 &&
    unreadable.length === 0 &&
    chain.ok &&
    checkpoints.length > 0 &&
    checkpoints.every((c) => c.problems.length === 0) &&
    unsigned === 0 &&
    (fromCheckpoint?.length ?? 0) === 0 &&
    seal.problems.length === 0;
  return {
    ok,
    dir,
    rolloutId: manifest.rolloutId,
    exportedAt: manifest.exportedAt,
    files,
    unreadable,
    chain,
    checkpoints,
    unsigned,
    fromCheckpoint,
    key: opts.trustedPublicKey ? 'trusted' : 'bundle',
    seal,
  };
}

/** Does the export's seal hold, and does the bundle hold what the sealed manifest says? */
function checkSeal(dir: string, manifest: Manifest, rows: ReadonlyArray<ChainRow>, checkpoints: number, trusted: string | undefined): BundleVerifyResult['seal'] {
  const problems: string[] = [];
  const file = join(dir, SEAL_FILE);
  if (!existsSync(file)) return { problems: [`${SEAL_FILE} is missing: nothing proves the bundle holds the whole log as exported (it may have been cut short)`], completeUpTo: null };
  let seal: Seal;
  try {
    seal = Seal.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    return { problems: [`${SEAL_FILE} is not a seal: ${e instanceof Error ? e.message : String(e)}`], completeUpTo: null };
  }
  if (trusted && trusted.trim() !== seal.publicKey.trim()) problems.push(`${SEAL_FILE} was signed by a different key than the one you trust`);
  let signed = false;
  try {
    signed = verify(null, readFileSync(join(dir, 'manifest.json')), createPublicKey(seal.publicKey), Buffer.from(seal.signature, 'base64'));
  } catch {
    signed = false;
  }
  if (!signed) problems.push(`${SEAL_FILE} does not match manifest.json: the manifest was rewritten after the export (or not signed by its key)`);
  const last = rows.length ? Number(rows[rows.length - 1]!.chain_seq) : 0;
  if (rows.length !== manifest.log.events || last !== manifest.log.head.seq)
    problems.push(`the export had ${manifest.log.events} events up to #${manifest.log.head.seq}; the bundle has ${rows.length}, up to #${last}`);
  if (checkpoints !== manifest.checkpoints) problems.push(`the export had ${manifest.checkpoints} checkpoint(s); the bundle has ${checkpoints}`);
  return { problems, completeUpTo: problems.length === 0 ? { seq: manifest.log.head.seq, exportedAt: manifest.exportedAt } : null };
}

/** The event rows of a bundle (unreadable lines left out; `verifyBundle` reports them). */
export async function bundleEventRows(dir: string): Promise<ChainRow[]> {
  const { rolloutId } = readManifest(dir);
  return (await readEvents(dir, (r) => (r.rollout_id === rolloutId ? r : null))).rows;
}

/** The workflow histories of a bundle, ready to replay. */
export function bundleHistories(dir: string): { rolloutId: string; historiesAsOfSeq: number; histories: ReplayInput[] } {
  const manifest = readManifest(dir);
  return {
    rolloutId: manifest.rolloutId,
    historiesAsOfSeq: manifest.historiesAsOfSeq,
    histories: manifest.histories.map((h) => {
      const file = join(dir, h.file);
      let history;
      try {
        history = historyFromJson(JSON.parse(readFileSync(file, 'utf8')));
      } catch (e) {
        throw DomainError.of(h.file, `not a workflow history: ${e instanceof Error ? e.message : String(e)}`);
      }
      return { workflowId: h.workflowId, runId: h.runId, workflowType: h.workflowType, run: h.run, file: h.file, history };
    }),
  };
}
