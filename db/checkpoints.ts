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
import { GENESIS_HASH, canonicalJson, chainHash, contentHash } from './event-store';
import { eventOfRow, verifyChain } from './audit';

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
  if (leavesHex.length === 0) return sha256().toString('hex');
  let level = leavesHex.map((l) => sha256(Buffer.from([0]), Buffer.from(l, 'hex')));
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? sha256(Buffer.from([1]), level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  return level[0]!.toString('hex');
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

/** The chain links of the first `seq` events, in chain order, as recorded. */
async function links(db: Kysely<Database>, seq: number): Promise<Array<{ seq: number; hash: string }>> {
  const rows = await db.selectFrom('events').select(['chain_seq', 'hash']).where('chain_seq', '<=', String(seq)).orderBy('chain_seq').execute();
  return rows.map((r) => ({ seq: Number(r.chain_seq), hash: r.hash }));
}

/**
 * The chain links of the first `seq` events recomputed from their contents (not read from the hash
 * columns), so a checkpoint holds only if every covered event is exactly as it was.
 */
async function recomputedLinks(db: Kysely<Database>, seq: number): Promise<Array<{ seq: number; hash: string }>> {
  const rows = await db.selectFrom('events').selectAll().where('chain_seq', '<=', String(seq)).orderBy('chain_seq').execute();
  let prev = GENESIS_HASH;
  return rows.map((r) => {
    prev = chainHash(prev, Number(r.chain_seq), contentHash(eventOfRow(r)));
    return { seq: Number(r.chain_seq), hash: prev };
  });
}

/** Cut a checkpoint of the log as it is now, sign it, and record it. */
export async function cutCheckpoint(db: Kysely<Database>, keyFile: string, now = new Date()): Promise<Checkpoint> {
  // Never vouch for a log that does not verify: a signature would turn tampering into the record.
  const check = await verifyChain(db);
  if (!check.ok) throw new Error(`refusing to sign a checkpoint: the audit record does not verify (${check.problems.length} problem(s); run \`trienkhai audit verify\`)`);
  const { privateKey, publicKeyPem } = loadSigningKey(keyFile);
  const head = await db.selectFrom('chain_head').select(['seq', 'hash']).executeTakeFirstOrThrow();
  const seq = Number(head.seq);
  const body = { version: 1 as const, seq, chainHash: head.hash, merkleRoot: merkleRoot((await links(db, seq)).map((l) => l.hash)), createdAt: now.toISOString(), publicKey: publicKeyPem };
  const checkpoint: Checkpoint = { ...body, signature: sign(null, signedPart(body), privateKey).toString('base64') };
  await db.insertInto('checkpoints').values({ seq: String(seq), body: JSON.stringify(checkpoint) }).execute();
  return checkpoint;
}

/** Why a checkpoint does not hold for the current log (empty: it holds). */
export async function checkCheckpoint(db: Kysely<Database>, input: unknown, opts: { trustedPublicKey?: string } = {}): Promise<string[]> {
  const parsed = Checkpoint.safeParse(input);
  if (!parsed.success) return [`not a checkpoint: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`];
  const c = parsed.data;
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
  const ls = await recomputedLinks(db, c.seq);
  if (ls.length < c.seq) problems.push(`the log has only ${ls.length} of the ${c.seq} events the checkpoint covers`);
  const last = ls[ls.length - 1];
  if (c.seq > 0 && last && last.seq === c.seq && last.hash !== c.chainHash) problems.push(`event #${c.seq} no longer ends in the checkpoint's chain link`);
  const root = merkleRoot(ls.map((l) => l.hash));
  if (root !== c.merkleRoot) problems.push(`the Merkle root of events #1–#${c.seq}, recomputed from their contents, differs from the checkpoint's: events it covers were changed, removed or reordered`);
  return problems;
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
