/**
 * Proving the audit record intact. Every event carries a content hash (of what the workflow decided)
 * and a link in a hash chain over the whole log (`hash = sha256(prev_hash ":" chain_seq ":"
 * content_hash)`, see event-store.ts). Verification re-derives both from the rows and names each row
 * that was edited, deleted, moved or inserted.
 *
 * The chain proves the middle of the log; the end of it is anchored by the chain head (and, later, by
 * signed checkpoints that an auditor keeps outside the system).
 */
import type { Kysely } from 'kysely';
import type { AnyNewEvent, EventType } from '../domain/events';
import type { Database, EventRow } from './database';
import { GENESIS_HASH, chainHash, contentHash } from './event-store';

export type ProblemKind = 'edited' | 'missing' | 'inserted' | 'moved' | 'head';

export interface ChainProblem {
  kind: ProblemKind;
  /** The chain position the problem is at (for `missing`: the first missing position). */
  chainSeq: number;
  eventId: string | null;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  head: { seq: number; hash: string };
  problems: ChainProblem[];
}

/** The event as the workflow emitted it, rebuilt from its row (for re-hashing). */
export function eventOfRow(r: ChainRow): AnyNewEvent {
  return {
    eventId: r.event_id,
    streamId: r.stream_id,
    streamSeq: r.stream_seq,
    type: r.type as EventType,
    rolloutId: r.rollout_id,
    unitCode: r.unit_code,
    actor: r.actor,
    occurredAt: new Date(r.occurred_at).toISOString(),
    payload: r.payload as never,
  } as AnyNewEvent;
}

/** The columns verification reads: an event row as stored, or as written to an export bundle. */
export type ChainRow = Omit<EventRow, 'position' | 'recorded_at'>;

/**
 * The whole log and its chain head, read in one snapshot (a repeatable-read transaction), so events
 * appended meanwhile never look like rows past the head.
 */
export async function readLog(db: Kysely<Database>, opts: { pageSize?: number } = {}): Promise<{ rows: EventRow[]; head: { seq: number; hash: string } | undefined }> {
  const pageSize = opts.pageSize ?? 5000;
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const head = await trx.selectFrom('chain_head').select(['seq', 'hash']).executeTakeFirst();
      const rows: EventRow[] = [];
      for (let after = '0'; ; ) {
        const page = await trx.selectFrom('events').selectAll().where('chain_seq', '>', after).orderBy('chain_seq').limit(pageSize).execute();
        if (page.length === 0) break;
        rows.push(...page);
        after = page[page.length - 1]!.chain_seq;
      }
      return { rows, head: head ? { seq: Number(head.seq), hash: head.hash } : undefined };
    });
}

/** Walk the whole log in chain order and report every break, each pinned to its row. */
export async function verifyChain(db: Kysely<Database>, opts: { pageSize?: number } = {}): Promise<VerifyResult> {
  const { rows, head } = await readLog(db, opts);
  return verifyRows(rows, head);
}

/**
 * The verification itself, on rows in chain order (from the database or an export bundle) and the
 * head they should end in. Pure: it needs no database.
 */
export function verifyRows(rows: ReadonlyArray<ChainRow>, head: { seq: number; hash: string } | undefined): VerifyResult {
  const problems: ChainProblem[] = [];
  // Every stored link, to tell a moved or inserted row from an edited one.
  const seqOfHash = new Map<string, number>();
  let prev: { seq: number; hash: string; eventId: string | null } = { seq: 0, hash: GENESIS_HASH, eventId: null };
  let events = 0;
  /** How far positions are shifted by an insertion or a hidden deletion found so far. */
  let shift = 0;
  seqOfHash.set(GENESIS_HASH, 0);
  for (const r of rows) seqOfHash.set(r.hash, Number(r.chain_seq));

  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const seq = Number(r.chain_seq);
    events += 1;
    const at = (kind: ProblemKind, message: string, chainSeq = seq, eventId: string | null = r.event_id): void => {
      problems.push({ kind, chainSeq, eventId, message });
    };
    if (seq > prev.seq + 1) {
      const n = seq - prev.seq - 1;
      at('missing', `${n === 1 ? `event #${prev.seq + 1} is` : `events #${prev.seq + 1}–#${seq - 1} are`} missing (deleted) between ${prev.eventId ?? 'the start'} and ${r.event_id}`, prev.seq + 1, null);
    }
    const contentOk = contentHash(eventOfRow(r)) === r.content_hash;
    const linkOk = chainHash(r.prev_hash, seq, r.content_hash) === r.hash;
    const followsPrev = r.prev_hash === prev.hash;
    if (!contentOk) {
      at('edited', `event #${seq} (${r.event_id}) was edited: its content no longer matches the hash recorded with it`);
    } else if (!linkOk) {
      // Its content is intact but the chain fields do not hash to its link: where was it recorded?
      const origin = seqOfHash.get(r.prev_hash);
      if (origin === seq - 1) {
        // It still follows the event it was recorded after. Either everything from an insertion or a
        // hidden deletion on was renumbered (already reported), or its own chain fields were rewritten.
        if (shift === 0) at('edited', `event #${seq} (${r.event_id}) was edited: its recorded hashes were rewritten`);
      } else if (origin === seq - 2 && prev.seq === seq - 1 && !problems.some((p) => p.chainSeq === prev.seq)) {
        // The row before it is intact in itself, yet this row was recorded before it: it was slipped in.
        at('inserted', `event #${prev.seq} (${prev.eventId}) was inserted: ${r.event_id} was recorded directly after #${seq - 2}`, prev.seq, prev.eventId);
        shift += 1;
      } else if (origin === undefined && !problems.some((p) => p.chainSeq === seq - 1)) {
        at('missing', `an event between #${seq - 1} and #${seq} (${r.event_id}) was deleted, and the log renumbered to hide the gap`, seq, null);
        shift -= 1;
      } else {
        at('moved', `event #${seq} (${r.event_id}) is out of place: it was recorded after ${origin !== undefined ? `event #${origin}` : 'an event that is no longer in the log'}, not after #${seq - 1}`);
      }
    } else if (!followsPrev && seq === prev.seq + 1) {
      const next = rows[i + 1];
      if (next && next.prev_hash === prev.hash) {
        at('inserted', `event #${seq} (${r.event_id}) was inserted: the event after it was recorded directly after #${prev.seq}`);
      } else if (!problems.some((p) => p.chainSeq === prev.seq)) {
        // The row before was changed in a way its own checks did not show (e.g. its hash column rewritten).
        at('edited', `the link from event #${prev.seq} to #${seq} (${r.event_id}) is broken: #${prev.seq}'s recorded hash was changed`, prev.seq, prev.eventId);
      }
    }
    prev = { seq, hash: r.hash, eventId: r.event_id };
  }

  const headSeq = head?.seq ?? 0;
  const headHash = head?.hash ?? GENESIS_HASH;
  if (headSeq > prev.seq) {
    problems.push({ kind: 'missing', chainSeq: prev.seq + 1, eventId: null, message: `events #${prev.seq + 1}–#${headSeq} at the end of the log are missing (deleted); the chain head says ${headSeq} events were recorded` });
  } else if (headSeq < prev.seq || headHash !== prev.hash) {
    problems.push({ kind: 'head', chainSeq: prev.seq, eventId: prev.eventId, message: `the chain head (#${headSeq}) does not match the last event (#${prev.seq}): events were added or changed outside the event store` });
  }
  return { ok: problems.length === 0, events, head: { seq: headSeq, hash: headHash }, problems };
}
