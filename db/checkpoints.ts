/**
 * Signed checkpoints of the audit record. A checkpoint states: "the log's first `seq` events have
 * Merkle root R and end in chain link H", signed with an Ed25519 key. An auditor who saved one outside
 * the system can later prove that the current log extends it (nothing before `seq` changed), with
 * only the public key.
 *
 * The Merkle tree is RFC 6962's (leaf = sha256(0x00 ‖ link), node = sha256(0x01 ‖ left ‖ right)), over
 * the events' chain links in chain order.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from './database';
import { linkPending } from './sequencer';
import { GENESIS_HASH, canonicalJson } from './links';
import { readLog, recomputedContent, rowLink, verifyRows, type ChainProblem, type ChainRow, type LogRow, type VerifyResult } from './chain';

export const Checkpoint = z.strictObject({
  version: z.literal(1),
  seq: z.number().int().min(0),
  chainHash: z.string().regex(/^[0-9a-f]{64}$/),
  merkleRoot: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string().datetime({ offset: true }),
  /** The signer's Ed25519 public key, SPKI PEM. */
  publicKey: z.string(),
  /** Ed25519 signature (base64) over the canonical JSON of every other field. */
  signature: z.string(),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 6962 Merkle tree hash of hex leaves. */
export function merkleRoot(leavesHex: ReadonlyArray<string>): string {
  return prefixRoots(leavesHex, [leavesHex.length]).get(leavesHex.length)!;
}

/**
 * RFC 6962 roots of several prefixes of the leaves (the first n, for each n in `sizes`), in one pass:
 * a stack of the perfect subtrees so far, folded right to left when a size is reached. Sizes beyond the
 * leaves are left out of the result.
 */
export function prefixRoots(leavesHex: ReadonlyArray<string>, sizes: ReadonlyArray<number>): Map<number, string> {
  const want = new Set(sizes);
  const roots = new Map<number, string>();
  if (want.has(0)) roots.set(0, sha256().toString('hex'));
  const stack: Array<{ size: number; hash: Buffer }> = [];
  for (let i = 0; i < leavesHex.length; i++) {
    let node = { size: 1, hash: sha256(Buffer.from([0]), Buffer.from(leavesHex[i]!, 'hex')) };
    while (stack.length && stack[stack.length - 1]!.size === node.size) {
      const left = stack.pop()!;
      node = { size: node.size * 2, hash: sha256(Buffer.from([1]), left.hash, node.hash) };
    }
    stack.push(node);
    if (want.has(i + 1)) {
      let root = stack[stack.length - 1]!.hash;
      for (let j = stack.length - 2; j >= 0; j--) root = sha256(Buffer.from([1]), stack[j]!.hash, root);
      roots.set(i + 1, root.toString('hex'));
    }
  }
  return roots;
}

/** The signing key: read from a PEM file, created (mode 0600) on first use. */
export function loadSigningKey(file: string): { privateKey: KeyObject; publicKeyPem: string } {
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  const privateKey = createPrivateKey(readFileSync(file));
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
}

function signedPart(c: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(canonicalJson(c));
}

export interface Link {
  seq: number;
  hash: string;
}

/**
 * Chain links derived from rows' contents alone (not read from their hash columns), in chain order, so
 * a checkpoint holds only if every covered event is exactly as it was.
 */
export function recomputeLinks(rows: ReadonlyArray<ChainRow>): Link[] {
  let prev = GENESIS_HASH;
  return rows.map((r) => {
    prev = rowLink(r, Number(r.chain_seq), prev, recomputedContent(r));
    return { seq: Number(r.chain_seq), hash: prev };
  });
}

/**
 * Read the log in one snapshot, verify it, and — only if it verifies — sign and record a checkpoint of
 * exactly those rows. Returns the rows too, so a caller (an export) can write precisely what was signed.
 */
export async function signSnapshot(
  db: Kysely<Database>,
  keyFile: string,
  now = new Date(),
  opts: { onPage?: (rows: ReadonlyArray<LogRow>) => void | Promise<void> } = {},
): Promise<{ rows: LogRow[]; check: VerifyResult; checkpoint: Checkpoint | null }> {
  const { rows, head } = await readLog(db, opts);
  // Never vouch for a log that does not verify: a signature would turn tampering into the record.
  const check = verifyRows(rows, head);
  if (!check.ok) return { rows, check, checkpoint: null };
  const { privateKey, publicKeyPem } = loadSigningKey(keyFile);
  const seq = check.head.seq;
  const body = { version: 1 as const, seq, chainHash: check.head.hash, merkleRoot: merkleRoot(rows.map((r) => r.hash)), createdAt: now.toISOString(), publicKey: publicKeyPem };
  const checkpoint: Checkpoint = { ...body, signature: sign(null, signedPart(body), privateKey).toString('base64') };
  await db
    .insertInto('checkpoints')
    .values({ seq: String(seq), body: JSON.stringify(checkpoint) })
    .execute();
  return { rows, check, checkpoint };
}

/** Cut a checkpoint of the log as it is now, sign it, and record it (refused if the log does not verify). */
export async function cutCheckpoint(db: Kysely<Database>, keyFile: string, now = new Date()): Promise<Checkpoint> {
  const { check, checkpoint } = await signSnapshot(db, keyFile, now);
  if (!checkpoint) throw new Error(`refusing to sign a checkpoint: the audit record does not verify (${check.problems.length} problem(s); run \`trienkhai audit verify\`)`);
  return checkpoint;
}

/** Why a checkpoint does not hold for the current log (empty: it holds). */
export async function checkCheckpoint(db: Kysely<Database>, input: unknown, opts: { trustedPublicKey?: string } = {}): Promise<string[]> {
  const { rows, head } = await readLog(db);
  return checkCheckpoints([input], recomputeLinks(rows), { ...opts, problems: verifyRows(rows, head).problems })[0]!;
}

/**
 * Why each checkpoint does not hold for a log whose recomputed links are `links` (the whole log, in
 * chain order): one list of problems per checkpoint, empty when it holds. Pure, and one pass over
 * the links however many checkpoints there are.
 */
export function checkCheckpoints(inputs: ReadonlyArray<unknown>, links: ReadonlyArray<Link>, opts: { trustedPublicKey?: string; problems?: ReadonlyArray<ChainProblem> } = {}): string[][] {
  const parsed = inputs.map((i) => Checkpoint.safeParse(i));
  const leaves = links.map((l) => l.hash);
  const roots = prefixRoots(
    leaves,
    parsed.flatMap((p) => (p.success ? [p.data.seq] : [])),
  );
  return parsed.map((p) => {
    if (!p.success) return [`not a checkpoint: ${p.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`];
    const c = p.data;
    const { signature, ...body } = c;
    const problems: string[] = [];
    if (opts.trustedPublicKey && opts.trustedPublicKey.trim() !== c.publicKey.trim()) problems.push('the checkpoint was signed by a different key than the one you trust');
    let signedOk = false;
    try {
      signedOk = verify(null, signedPart(body), createPublicKey(c.publicKey), Buffer.from(signature, 'base64'));
    } catch {
      signedOk = false;
    }
    if (!signedOk) problems.push('the signature does not match the checkpoint: it was altered or not signed by its key');
    const covered = links.filter((l) => l.seq <= c.seq).length;
    if (covered < c.seq || links.length < c.seq) {
      // Name the positions: the chain's own findings (a renumbered log hides the gap's number), else the
      // numbers missing from the covered range, else only the count.
      const found = (opts.problems ?? []).filter((p) => p.kind === 'missing' && p.chainSeq <= c.seq).map((p) => p.message);
      const have = new Set(links.map((l) => l.seq));
      const gaps: number[] = [];
      for (let s = 1; s <= c.seq && gaps.length < 20; s++) if (!have.has(s)) gaps.push(s);
      const where = found.length
        ? found.join('; ')
        : gaps.length && gaps[0]! <= links.length
          ? `no event at ${gaps.map((g) => `#${g}`).join(', ')}`
          : `events #${links.length + 1}–#${c.seq} are gone from the end`;
      problems.push(`the log has only ${Math.min(covered, links.length)} of the ${c.seq} events the checkpoint covers: ${where}`);
      return problems;
    }
    const last = links[c.seq - 1];
    if (c.seq > 0 && last && last.seq === c.seq && last.hash !== c.chainHash) problems.push(`event #${c.seq} no longer ends in the checkpoint's chain link`);
    if (roots.get(c.seq) !== c.merkleRoot)
      problems.push(`the Merkle root of events #1–#${c.seq}, recomputed from their contents, differs from the checkpoint's: events it covers were changed, removed or reordered`);
    return problems;
  });
}

/**
 * Cut a checkpoint every `intervalMs` when events were recorded since the last one (the worker and
 * `up` run this). Returns a stop function.
 */
export function startCheckpointing(db: Kysely<Database>, keyFile: string, intervalMs: number, log: (line: string) => void = () => undefined): () => void {
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      await linkPending(db);
      const head = await db.selectFrom('chain_head').select('seq').executeTakeFirst();
      const last = await db.selectFrom('checkpoints').select('seq').orderBy('id', 'desc').limit(1).executeTakeFirst();
      if (head && Number(head.seq) > Number(last?.seq ?? 0)) {
        const c = await cutCheckpoint(db, keyFile);
        log(`audit checkpoint of events #1–#${c.seq} signed (Merkle root ${c.merkleRoot.slice(0, 16)}…)`);
      }
    } catch (e) {
      log(`audit checkpoint failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
