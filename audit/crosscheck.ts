/**
 * Cross-checking the two records of a rollout: what its workflows decided (the Temporal histories)
 * and what the audit record holds (the event rows).
 *
 * Every event a workflow records passes through one activity, `appendEvents`, whose input is in the
 * history of the run that decided it. So each event of a completed append must have its row, with the
 * same content; and each row must appear in some run's append. Rows of runs Temporal no longer holds
 * (past retention) cannot be checked and are counted apart, not reported as mismatches; so are rows
 * recorded after the histories were fetched. (Fetch the histories first, then the rows: an append
 * completes only after its rows are committed, so every completed append must then have its rows.)
 */
import { parseStreamId } from '../domain/ids';
import { defaultPayloadConverter } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import { eventOfRow, type ChainRow } from '../db/audit';
import { contentHash } from '../db/links';
import type { AnyNewEvent, EventType } from '../domain/events';
import { rolloutWorkflowId, unitWorkflowId } from '../workflows/definitions';

/** The facts auditors ask about, by event type. */
export const CATEGORY: Partial<Record<EventType, 'deadlines' | 'escalations' | 'completions'>> = {
  DeadlineScheduled: 'deadlines',
  DeadlineMissed: 'deadlines',
  DeadlineExtended: 'deadlines',
  Escalated: 'escalations',
  StepCompleted: 'completions',
  UnitCompleted: 'completions',
  RolloutCompleted: 'completions',
};
type Category = 'deadlines' | 'escalations' | 'completions' | 'other';
const categoryOf = (type: string): Category => CATEGORY[type as EventType] ?? 'other';

export interface Mismatch {
  kind: 'no-row' | 'content-differs' | 'no-history-event';
  eventId: string;
  type: string;
  unit: string | null;
  message: string;
}

export interface CrosscheckResult {
  ok: boolean;
  rolloutId: string;
  runs: number;
  /** Per category: events found in completed appends of the histories, rows in the log, and how many of each matched. */
  counts: Record<Category, { history: number; log: number; matched: number }>;
  mismatches: Mismatch[];
  /** Appends scheduled but not completed yet (in flight): not a mismatch. */
  inFlight: number;
  /** Rows of workflows whose runs Temporal no longer holds: cannot be checked. */
  uncheckable: number;
  /** Rows recorded after the histories were taken (their history events are in later history). */
  later: number;
  gone: Array<{ workflowId: string; runId: string | null; why: string }>;
}

export interface RunHistory {
  workflowId: string;
  runId: string;
  run: number;
  history: History;
}

/** The events each `appendEvents` of a run carried, and whether the append completed. */
function appendsOf(run: RunHistory): Array<{ historyEventId: string; events: AnyNewEvent[]; completed: boolean }> {
  const appends = new Map<string, { historyEventId: string; events: AnyNewEvent[]; completed: boolean }>();
  for (const ev of run.history.events ?? []) {
    const scheduled = ev.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'appendEvents') {
      const payload = scheduled.input?.payloads?.[0];
      const input = payload ? (defaultPayloadConverter.fromPayload(payload) as { events?: AnyNewEvent[] }) : {};
      appends.set(String(ev.eventId), { historyEventId: String(ev.eventId), events: input.events ?? [], completed: false });
    }
    const done = ev.activityTaskCompletedEventAttributes;
    if (done?.scheduledEventId != null) {
      const a = appends.get(String(done.scheduledEventId));
      if (a) a.completed = true;
    }
  }
  return [...appends.values()];
}

function workflowIdOfStream(streamId: string): string | undefined {
  const s = parseStreamId(streamId);
  if (s?.kind === 'unit') return unitWorkflowId(s.rolloutId, s.unitCode);
  if (s?.kind === 'rollout') return rolloutWorkflowId(s.rolloutId);
  return undefined;
}

/** Compare a rollout's event rows with its workflow histories. Pure. */
export function crosscheck(
  rolloutId: string,
  /** Rows not linked yet (chain_seq null) were appended after the head was read. */
  rows: ReadonlyArray<Pick<ChainRow, 'event_id' | 'stream_id' | 'stream_seq' | 'type' | 'rollout_id' | 'unit_code' | 'actor' | 'occurred_at' | 'payload'> & { chain_seq: string | null }>,
  runs: ReadonlyArray<RunHistory>,
  gone: CrosscheckResult['gone'],
  /** The chain head when the histories were fetched: later rows may not be in them yet. */
  historiesAsOfSeq = Number.POSITIVE_INFINITY,
): CrosscheckResult {
  const counts = {
    deadlines: { history: 0, log: 0, matched: 0 },
    escalations: { history: 0, log: 0, matched: 0 },
    completions: { history: 0, log: 0, matched: 0 },
    other: { history: 0, log: 0, matched: 0 },
  };
  const mismatches: Mismatch[] = [];
  // A batch's own events (BatchStarted, BatchCompleted) and a plan's amendments (RolloutAmended) are
  // recorded by the application and the batch activity, not decided by a workflow's code: the hash
  // chain covers them, no history does.
  const byApplication = (streamId: string) => ['batch', 'changes'].includes(parseStreamId(streamId)?.kind ?? '');
  const mine = rows.filter((r) => r.rollout_id === rolloutId && !byApplication(r.stream_id));
  const rowById = new Map(mine.map((r) => [r.event_id, r]));
  for (const r of mine) counts[categoryOf(r.type)].log += 1;
  const inHistory = new Set<string>();
  let inFlight = 0;
  for (const run of runs) {
    for (const a of appendsOf(run)) {
      for (const e of a.events) {
        if (e.rolloutId !== rolloutId) continue;
        const firstSight = !inHistory.has(e.eventId);
        inHistory.add(e.eventId);
        const row = rowById.get(e.eventId);
        const where = `${run.workflowId} run ${run.run}, history event #${a.historyEventId}`;
        if (!row) {
          if (!a.completed) inFlight += 1;
          else if (firstSight)
            mismatches.push({
              kind: 'no-row',
              eventId: e.eventId,
              type: e.type,
              unit: e.unitCode,
              message: `${e.type} ${e.eventId}${e.unitCode ? ` of ${e.unitCode}` : ''} was recorded by ${where}, but the log has no row for it`,
            });
          continue;
        }
        if (!firstSight) continue;
        counts[categoryOf(e.type)].history += 1;
        // The row as the log holds it must be the event the workflow decided, field for field.
        if (contentHash(e) !== contentHash(eventOfRow(row))) {
          mismatches.push({
            kind: 'content-differs',
            eventId: e.eventId,
            type: e.type,
            unit: e.unitCode,
            message: `${e.type} ${e.eventId}${e.unitCode ? ` of ${e.unitCode}` : ''}: the row in the log differs from what ${where} recorded`,
          });
        } else counts[categoryOf(e.type)].matched += 1;
      }
    }
  }
  const goneIds = new Set(gone.map((g) => g.workflowId));
  let uncheckable = 0;
  let later = 0;
  for (const r of mine) {
    if (inHistory.has(r.event_id)) continue;
    if (r.chain_seq === null || Number(r.chain_seq) > historiesAsOfSeq) {
      later += 1;
      continue;
    }
    const wf = workflowIdOfStream(r.stream_id);
    if (wf && goneIds.has(wf)) {
      uncheckable += 1;
      continue;
    }
    mismatches.push({
      kind: 'no-history-event',
      eventId: r.event_id,
      type: r.type,
      unit: r.unit_code,
      message: `row #${r.chain_seq}, ${r.type} ${r.event_id}${r.unit_code ? ` of ${r.unit_code}` : ''}, was recorded by no workflow history of the rollout`,
    });
  }
  return { ok: mismatches.length === 0, rolloutId, runs: runs.length, counts, mismatches, inFlight, uncheckable, later, gone };
}
