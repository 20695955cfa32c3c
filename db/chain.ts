/**
 * The hash chain's verification, on rows in chain order (from the database or an export bundle): pure,
 * it needs no database. `db/audit.ts` adds the stored checkpoints for the live log.
 *
 * Every event carries a content hash (of what the workflow decided) and a link in a chain over the
 * whole log (event-store.ts: version 1 `sha256(prev_hash ":" chain_seq ":" content_hash)`, version 2
 * also both timestamps). Verification names each row that was edited, deleted, moved or inserted — one
 * problem per tampered row, never a cascade over the intact rows after it: each row's own link says at
 * which position it was recorded and after which link, so the walk resynchronises on the first intact
 * row after a bad one (rows renumbered to hide an insertion or a deletion still verify in themselves,
 * at their original position).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { AnyNewEvent, EventType } from '../domain/events';
import type { Database } from './database';
import { GENESIS_HASH, chainHash, contentHash, recordHash, usText, usTextOfIso } from './links';
import { linkPending } from './sequencer';

export type ProblemKind = 'edited' | 'missing' | 'inserted' | 'moved' | 'head' | 'checkpoint';

export interface ChainProblem {
  kind: ProblemKind;
  /** The chain position the problem is at (for `missing`: the first missing position; for `checkpoint`: the checkpoint's). */
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

/**
 * An event row as verification reads it. From the database (`readLog`), both timestamps are UTC text
 * with microseconds (`usText`), as version-2 links hash them; a `Date` (milliseconds) is taken as is.
 * Rows of bundles exported before hash versions existed have no `hash_version` (version 1).
 */
export interface ChainRow {
  event_id: string;
  stream_id: string;
  stream_seq: number;
  type: string;
  rollout_id: string | null;
  unit_code: string | null;
  actor: string;
  occurred_at: string | Date;
  recorded_at?: string | Date | undefined;
  payload: unknown;
  content_hash: string;
  chain_seq: string;
  prev_hash: string;
  hash: string;
  hash_version?: number | null | undefined;
  /**
   * Set on a compacted row (`compactRow`): the content hash its fields gave when it was read, its
   * payload dropped. What verification keeps of each row, so a long log is walked without holding it.
   */
  recomputed?: string;
}

/** A row's content checked now and its payload dropped: verification needs only its hashes and times (a few hundred bytes). */
export function compactRow<R extends ChainRow>(r: R): R {
  return { ...r, payload: null, recomputed: contentHash(eventOfRow(r)) };
}

/** The content hash a row's fields give (computed when it was compacted, or now). */
export function recomputedContent(r: ChainRow): string {
  return r.recomputed ?? contentHash(eventOfRow(r));
}

/** A row of the live log, as `readLog` returns it. */
export type LogRow = ChainRow & { position: string; occurred_at: string; recorded_at: string; hash_version: number };

/** The event as the workflow emitted it, rebuilt from its row (for re-hashing, and for projecting again). */
export function eventOfRow(r: Pick<ChainRow, 'event_id' | 'stream_id' | 'stream_seq' | 'type' | 'rollout_id' | 'unit_code' | 'actor' | 'occurred_at' | 'payload'>): AnyNewEvent {
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

const asUsText = (v: string | Date | undefined): string => (v === undefined ? '' : typeof v === 'string' && /\.\d{6}Z$/.test(v) ? v : usTextOfIso(v));

/** The link a row's fields hash to at position `seq` (after `prev`, with content hash `content`), by its hash version. */
export function rowLink(r: ChainRow, seq: number, prev = r.prev_hash, content = r.content_hash): string {
  return (r.hash_version ?? 1) >= 2 ? recordHash(prev, seq, content, asUsText(r.occurred_at), asUsText(r.recorded_at)) : chainHash(prev, seq, content);
}

/** Every column of `events`, the timestamps as `usText`, in chain order (the events the sequencer has linked). */
export function selectLogRows(db: Kysely<Database> | Transaction<Database>) {
  return db
    .selectFrom('events')
    .where('chain_seq', 'is not', null)
    .select(['position', 'event_id', 'stream_id', 'stream_seq', 'type', 'rollout_id', 'unit_code', 'actor', 'payload', 'content_hash', 'chain_seq', 'prev_hash', 'hash', 'hash_version'])
    .select([usText(sql.ref('occurred_at')).as('occurred_at'), usText(sql.ref('recorded_at')).as('recorded_at')])
    .orderBy('chain_seq');
}

export interface StoredCheckpoint {
  id: string;
  seq: string;
  body: unknown;
}

/**
 * The whole log, its chain head and the stored checkpoints, read in one snapshot (a repeatable-read
 * transaction), so events appended meanwhile never look like rows past the head. Events waiting for
 * their link are linked first (db/sequencer.ts), so the log read is the whole of what was recorded.
 *
 * Read a page at a time: each page is handed whole to `onPage` (an export writes it out), then kept
 * compacted (`compactRow`), so memory grows by a few hundred bytes per event, not by the log.
 */
export async function readLog(
  db: Kysely<Database>,
  opts: { pageSize?: number; onPage?: (rows: ReadonlyArray<LogRow>) => void | Promise<void> } = {},
): Promise<{ rows: LogRow[]; head: { seq: number; hash: string } | undefined; checkpoints: StoredCheckpoint[] }> {
  const pageSize = opts.pageSize ?? 5000;
  await linkPending(db);
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const head = await trx.selectFrom('chain_head').select(['seq', 'hash']).executeTakeFirst();
      const rows: LogRow[] = [];
      for (let after = '0'; ;) {
        const page = (await selectLogRows(trx).where('chain_seq', '>', after).limit(pageSize).execute()) as LogRow[];
        if (page.length === 0) break;
        await opts.onPage?.(page);
        for (const r of page) rows.push(compactRow(r));
        after = page[page.length - 1]!.chain_seq;
      }
      const checkpoints = await trx.selectFrom('checkpoints').select(['id', 'seq', 'body']).orderBy('id').execute();
      return { rows, head: head ? { seq: Number(head.seq), hash: head.hash } : undefined, checkpoints };
    });
}

/**
 * The chain head once every event recorded so far is linked: what a reader compares with, e.g. "rows
 * past this head were recorded after the histories were fetched" (audit/crosscheck.ts).
 */
export async function linkedHead(db: Kysely<Database>): Promise<{ seq: string; hash: string }> {
  await linkPending(db);
  return db.selectFrom('chain_head').select(['seq', 'hash']).executeTakeFirstOrThrow();
}

/** How far a search for a row's original position reaches (rows renumbered by more are reported, not placed). */
const SEARCH = 64;

/**
 * The verification itself, on rows in chain order and the head they should end in.
 *
 * First, each row's original position: the seq at which its own link holds (tried at its current seq,
 * at the offset of the row before it, after the row its prev_hash names, then nearby). Then a walk in
 * order, keeping the last row that belongs where it is:
 * - a row nothing was recorded after (no prev_hash and not the head names its link), between rows
 *   that were recorded one after the other, was inserted (whatever hashes it carries);
 * - a row whose content does not hash to its content hash, or whose link holds nowhere, was edited;
 * - a row recorded after a link that is no longer in the log follows deleted rows (as many as its
 *   original position says);
 * - a row recorded after another row in the log, and not at its own place, was moved; the rows around
 *   the place it left are in theirs and are not blamed.
 */
export function verifyRows(rows: ReadonlyArray<ChainRow>, head: { seq: number; hash: string } | undefined): VerifyResult {
  const n = rows.length;
  const seqs = rows.map((r) => Number(r.chain_seq));
  const indexOfHash = new Map<string, number>();
  rows.forEach((r, i) => {
    if (!indexOfHash.has(r.hash)) indexOfHash.set(r.hash, i);
  });
  const headHash = head?.hash ?? GENESIS_HASH;
  const headSeq = head?.seq ?? 0;
  /** Links some row (or the head) says it was recorded after. */
  const referenced = new Set(rows.map((r) => r.prev_hash));
  referenced.add(headHash);

  // 1. Where each row was recorded (null: its link holds at no position near).
  const orig: Array<number | null> = new Array<number | null>(n).fill(null);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const seq = seqs[i]!;
    const xi = indexOfHash.get(r.prev_hash);
    const after = r.prev_hash === GENESIS_HASH ? 0 : xi !== undefined ? (orig[xi] ?? seqs[xi]! + offset) : undefined;
    const tries = [seq, seq + offset, ...(after !== undefined ? [after + 1] : [])];
    for (let k = 1; k <= SEARCH; k++) tries.push(seq + offset + k, seq + offset - k);
    const found = tries.find((s) => s >= 1 && rowLink(r, s) === r.hash);
    if (found !== undefined) {
      orig[i] = found;
      offset = found - seq;
    }
  }

  // 2. The walk.
  const problems: ChainProblem[] = [];
  const reported = new Set<number>();
  const report = (i: number | null, kind: ProblemKind, chainSeq: number, message: string, eventId: string | null = i === null ? null : rows[i]!.event_id): void => {
    if (i !== null) reported.add(i);
    problems.push({ kind, chainSeq, eventId, message });
  };
  /** The last row that is where it was recorded (or the start). */
  let last = { i: -1, seq: 0, orig: 0, hash: GENESIS_HASH, eventId: null as string | null };
  /** The same, but never a moved row: where the log's own order ends (compared with the head). */
  let tail = last;
  let region = 0; // how far positions are shifted here (renumbering after an insertion or a deletion)
  let version = 1;
  const headIndex = headHash === GENESIS_HASH ? -1 : indexOfHash.get(headHash);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const seq = seqs[i]!;
    const o = orig[i] ?? null;

    if (!referenced.has(r.hash)) {
      // Nothing was recorded after it: inserted, if the rows around it were recorded one after the other.
      let j = i + 1;
      while (j < n && !referenced.has(rows[j]!.hash)) j++;
      const bridged = j < n ? rows[j]!.prev_hash === last.hash : headHash === last.hash || (headIndex !== undefined && headIndex < i);
      if (bridged) {
        report(
          i,
          'inserted',
          seq,
          `event #${seq} (${r.event_id}) was inserted: ${j < n ? `${rows[j]!.event_id} was recorded directly after ${last.i < 0 ? 'the start' : `#${last.seq}`}` : `the chain head is #${headSeq}`}, not after it`,
        );
        continue;
      }
    }

    const contentOk = recomputedContent(r) === r.content_hash;
    const v = r.hash_version ?? 1;
    if (!contentOk) report(i, 'edited', seq, `event #${seq} (${r.event_id}) was edited: its content no longer matches the hash recorded with it`);
    else if (v < version) report(i, 'edited', seq, `event #${seq} (${r.event_id}) was edited: it claims hash version ${v}, after rows of version ${version}`);
    version = Math.max(version, v);
    if (o === null) {
      if (contentOk && !reported.has(i)) {
        const followed = i + 1 < n && rows[i + 1]!.prev_hash !== r.hash && !indexOfHash.has(rows[i + 1]!.prev_hash);
        report(
          i,
          'edited',
          seq,
          followed
            ? `event #${seq} (${r.event_id}) was edited: its recorded hash was changed (the event after it was recorded after another link)`
            : `event #${seq} (${r.event_id}) was edited: its fields no longer hash to its recorded link (its times, position or hashes were changed)`,
        );
      }
      last = tail = { i, seq, orig: seq + region, hash: r.hash, eventId: r.event_id };
      continue;
    }
    if (r.prev_hash === last.hash) {
      region = o - seq;
      last = tail = { i, seq, orig: o, hash: r.hash, eventId: r.event_id };
      continue;
    }
    const xi = indexOfHash.get(r.prev_hash);
    if (r.prev_hash !== GENESIS_HASH && xi === undefined) {
      // Recorded after a link that is gone.
      const gone = o - last.orig - 1;
      const from = last.seq + 1;
      if (gone >= 1) {
        const what = gone === 1 ? `event #${from} is` : `events #${from}–#${from + gone - 1} are`;
        report(
          null,
          'missing',
          from,
          seq === from
            ? `${gone === 1 ? 'an event' : `${gone} events`} between ${last.eventId ?? 'the start'} and #${seq} (${r.event_id}) ${gone === 1 ? 'was' : 'were'} deleted, and the log renumbered to hide the gap`
            : `${what} missing (deleted) between ${last.eventId ?? 'the start'} and ${r.event_id}`,
        );
      } else if (!reported.has(last.i)) {
        report(last.i, 'edited', last.seq, `the link from event #${last.seq} to #${seq} (${r.event_id}) is broken: #${last.seq}'s recorded hash was changed`, last.eventId);
      }
      region = o - seq;
      last = tail = { i, seq, orig: o, hash: r.hash, eventId: r.event_id };
      continue;
    }
    if (o !== seq + region) {
      const origin = xi === undefined ? 0 : seqs[xi]!;
      report(i, 'moved', seq, `event #${seq} (${r.event_id}) is out of place: it was recorded after ${origin === 0 ? 'the start' : `event #${origin}`} (as #${o}), not after #${last.seq}`);
      last = { i, seq, orig: o, hash: r.hash, eventId: r.event_id };
      continue; // (the tail stays where the order was)
    }
    // In its place; the row it was recorded after was moved away (and is reported where it is now).
    region = o - seq;
    last = tail = { i, seq, orig: o, hash: r.hash, eventId: r.event_id };
  }

  if (headHash === tail.hash) {
    if (headSeq !== tail.seq && headSeq !== tail.orig)
      problems.push({
        kind: 'head',
        chainSeq: tail.seq,
        eventId: tail.eventId,
        message: `the chain head says #${headSeq}, but the last event is #${tail.seq}: the head was changed outside the event store`,
      });
  } else if (headIndex !== undefined && headIndex >= 0 && reported.has(headIndex)) {
    // The last recorded event is in the log, out of place: already reported.
  } else if (headIndex === undefined && headSeq > tail.orig) {
    const from = tail.seq + 1;
    const gone = headSeq - tail.orig;
    problems.push({
      kind: 'missing',
      chainSeq: from,
      eventId: null,
      message: `${gone === 1 ? `event #${from}` : `events #${from}–#${from + gone - 1}`} at the end of the log ${gone === 1 ? 'is' : 'are'} missing (deleted); the chain head says ${headSeq} events were recorded`,
    });
  } else {
    problems.push({
      kind: 'head',
      chainSeq: tail.seq,
      eventId: tail.eventId,
      message: `the chain head (#${headSeq}) does not match the last event (#${tail.seq}): events were added or changed outside the event store`,
    });
  }
  problems.sort((a, b) => a.chainSeq - b.chainSeq);
  return { ok: problems.length === 0, events: n, head: { seq: headSeq, hash: headHash }, problems };
}
