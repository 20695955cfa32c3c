/**
 * Proving the audit record intact: the hash chain (db/chain.ts: every row re-hashed, each break pinned
 * to its row) and every signed checkpoint stored in the database (db/checkpoints.ts: its signature,
 * and the Merkle root and last link of the events it covers, recomputed from their contents). The chain
 * alone proves the middle of the log; a forger who rewrites every link after an edit passes it, but
 * not the checkpoints signed before the rewrite.
 */
import type { Kysely } from 'kysely';
import type { Database } from './database';
import { readLog, verifyRows, type ChainProblem, type VerifyResult } from './chain';
import { Checkpoint, checkCheckpoints, recomputeLinks } from './checkpoints';

export * from './chain';

export interface CheckpointsSummary {
  /** Checkpoints stored in the database. */
  stored: number;
  /** Of which hold (signature valid, the log still has exactly the events they cover). */
  holding: number;
  /** The last event the latest holding checkpoint covers (0: none holds). */
  provenUpTo: number;
  /**
   * Checkpoints that no longer hold only because they cover rows already reported above (an edit, an
   * insertion, a deletion…): counted here rather than listed as problems, so one tampered row stays
   * one problem.
   */
  brokenByRows: number;
}

export interface LiveVerifyResult extends VerifyResult {
  checkpoints: CheckpointsSummary;
}

/**
 * Walk the whole log in chain order and report every break, each pinned to its row, and check the log
 * against every checkpoint stored with it (under `trustedPublicKey` if given, else each one's own key).
 * What the CLI's `audit verify` and `GET /api/v1/audit/verify` run.
 */
export async function verifyChain(db: Kysely<Database>, opts: { pageSize?: number; trustedPublicKey?: string } = {}): Promise<LiveVerifyResult> {
  const { rows, head, checkpoints } = await readLog(db, opts);
  const chain = verifyRows(rows, head);
  const bodies = checkpoints.map((c) => (typeof c.body === 'string' ? (JSON.parse(c.body) as unknown) : c.body));
  const checks = checkCheckpoints(bodies, recomputeLinks(rows), { ...(opts.trustedPublicKey ? { trustedPublicKey: opts.trustedPublicKey } : {}), problems: chain.problems });
  const extra: ChainProblem[] = [];
  let holding = 0;
  let brokenByRows = 0;
  let provenUpTo = 0;
  /** Checkpoints that fail only because the events they cover changed, after the first such one: summarised. */
  const sameCause: Array<{ id: string; seq: number }> = [];
  let firstBroken: { id: string; seq: number; since: number } | null = null;
  let lastHolding = 0;
  checkpoints.forEach((c, i) => {
    const parsed = Checkpoint.safeParse(bodies[i]);
    const seq = parsed.success ? parsed.data.seq : Number(c.seq);
    const problems = [...checks[i]!];
    if (parsed.success && String(parsed.data.seq) !== String(c.seq)) problems.push(`it is stored as covering #${c.seq}, but it says #${parsed.data.seq}`);
    if (problems.length === 0) {
      holding += 1;
      provenUpTo = Math.max(provenUpTo, seq);
      lastHolding = Math.max(lastHolding, seq);
      return;
    }
    const contentOnly = problems.every((p) => /no longer ends in|Merkle root|the log has only|missing/.test(p));
    if (contentOnly && chain.problems.some((p) => p.chainSeq <= seq)) {
      brokenByRows += 1;
      return;
    }
    if (contentOnly && firstBroken && seq >= firstBroken.seq) {
      sameCause.push({ id: c.id, seq });
      return;
    }
    if (contentOnly && !firstBroken) firstBroken = { id: c.id, seq, since: lastHolding };
    const where =
      contentOnly && firstBroken?.id === c.id && chain.ok
        ? ` — so events #${firstBroken.since + 1}–#${seq} were changed after ${firstBroken.since ? `the checkpoint of #1–#${firstBroken.since}` : 'they were recorded'}, and the chain rewritten to hide it`
        : '';
    for (const p of problems)
      extra.push({ kind: 'checkpoint', chainSeq: seq, eventId: null, message: `checkpoint ${c.id} (events #1–#${seq}${parsed.success ? `, signed ${parsed.data.createdAt}` : ''}): ${p}${where}` });
  });
  if (sameCause.length) {
    const first = sameCause[0]!;
    const lastOne = sameCause[sameCause.length - 1]!;
    extra.push({
      kind: 'checkpoint',
      chainSeq: first.seq,
      eventId: null,
      message: `${sameCause.length} later checkpoint(s) (${first.id === lastOne.id ? `checkpoint ${first.id}, #1–#${first.seq}` : `checkpoints ${first.id}–${lastOne.id}, up to #${lastOne.seq}`}) no longer hold either, for the same reason`,
    });
  }
  const problems = [...chain.problems, ...extra];
  return { ...chain, ok: problems.length === 0, problems, checkpoints: { stored: checkpoints.length, holding, provenUpTo, brokenByRows } };
}
