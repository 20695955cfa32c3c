/**
 * The cross-check's matching rules, over the committed workflow histories of test/histories/ (the
 * `replay` rollout): the log is first made to hold exactly what those histories recorded, then
 * changed one way at a time. Needs no server or database.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJson } from '../../audit/history-json';
import { crosscheck, type RunHistory } from '../../audit/crosscheck';
import type { ChainRow } from '../../db/audit';
import { contentHash } from '../../db/links';
import type { AnyNewEvent } from '../../domain/events';

const DIR = path.join(__dirname, '..', 'histories');
const ROLLOUT = 'replay';

const runs: RunHistory[] = fs
  .readdirSync(DIR)
  .filter((f) => /-\d+\.json$/.test(f))
  .sort()
  .map((f) => ({ workflowId: f.replace(/-\d+\.json$/, ''), runId: f, run: Number(/-(\d+)\.json$/.exec(f)![1]), history: historyFromJson(JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'))) }));

/** The rows a faithful log holds: every event of every completed append, in order. */
function faithfulRows(): ChainRow[] {
  const rows: ChainRow[] = [];
  for (const run of runs) {
    const completed = new Set((run.history.events ?? []).flatMap((ev) => (ev.activityTaskCompletedEventAttributes ? [String(ev.activityTaskCompletedEventAttributes.scheduledEventId)] : [])));
    for (const ev of run.history.events ?? []) {
      const a = ev.activityTaskScheduledEventAttributes;
      if (a?.activityType?.name !== 'appendEvents' || !completed.has(String(ev.eventId))) continue;
      for (const e of (defaultPayloadConverter.fromPayload(a.input!.payloads![0]!) as { events: AnyNewEvent[] }).events) {
        if (rows.some((r) => r.event_id === e.eventId)) continue;
        rows.push({
          chain_seq: String(rows.length + 1),
          event_id: e.eventId,
          stream_id: e.streamId,
          stream_seq: e.streamSeq,
          type: e.type,
          rollout_id: e.rolloutId,
          unit_code: e.unitCode,
          actor: e.actor,
          occurred_at: e.occurredAt as never,
          payload: e.payload as never,
          content_hash: contentHash(e),
          prev_hash: '',
          hash: '',
        });
      }
    }
  }
  return rows;
}

test('a log holding exactly what the histories recorded cross-checks clean, with deadlines, escalations and completions counted', () => {
  const rows = faithfulRows();
  const r = crosscheck(ROLLOUT, rows, runs, []);
  expect(r.mismatches).toEqual([]);
  expect(r.ok).toBe(true);
  for (const cat of ['deadlines', 'escalations', 'completions'] as const) {
    expect(r.counts[cat].history).toBeGreaterThan(0);
    expect(r.counts[cat]).toEqual({ history: r.counts[cat].log, log: r.counts[cat].log, matched: r.counts[cat].log });
  }
  expect(r.counts.escalations.log).toBe(rows.filter((x) => x.type === 'Escalated').length);
});

test('a missing row, an edited row and a row no history recorded are each reported', () => {
  const rows = faithfulRows();
  const escalation = rows.find((x) => x.type === 'Escalated')!;
  const deadline = rows.find((x) => x.type === 'DeadlineMissed')!;
  const edited = rows.map((x) => (x === deadline ? { ...x, occurred_at: new Date(Date.parse(String(x.occurred_at)) + 86_400_000).toISOString() as never } : x)).filter((x) => x !== escalation);
  const stray = { ...rows.find((x) => x.type === 'StepCompleted')!, event_id: 'unit/replay/P.B.1#999', chain_seq: String(rows.length + 1) };
  const r = crosscheck(ROLLOUT, [...edited, stray], runs, []);
  expect(r.ok).toBe(false);
  expect(r.mismatches.map((m) => [m.kind, m.eventId])).toEqual(
    expect.arrayContaining([
      ['no-row', escalation.event_id],
      ['content-differs', deadline.event_id],
      ['no-history-event', stray.event_id],
    ]),
  );
  expect(r.mismatches).toHaveLength(3);
  expect(r.counts.escalations.matched).toBe(r.counts.escalations.history);
  expect(r.counts.deadlines.matched).toBe(r.counts.deadlines.history - 1);
});

test('rows recorded after the histories were taken, and rows of runs Temporal no longer holds, are counted apart', () => {
  const rows = faithfulRows();
  const late = { ...rows[rows.length - 1]!, event_id: 'unit/replay/P#late', chain_seq: String(rows.length + 1) };
  const r = crosscheck(ROLLOUT, [...rows, late], runs, [], rows.length);
  expect(r).toMatchObject({ ok: true, later: 1, uncheckable: 0 });

  // P.B's runs are gone (past retention): its rows cannot be checked, and that is not a mismatch.
  const held = runs.filter((x) => !x.workflowId.endsWith('-P.B'));
  expect(held.length).toBeLessThan(runs.length);
  const gone = crosscheck(ROLLOUT, rows, held, [{ workflowId: 'trienkhai/unit/replay/P.B', runId: null, why: 'past retention' }]);
  expect(gone.ok).toBe(true);
  expect(gone.uncheckable).toBe(rows.filter((x) => x.unit_code === 'P.B').length);
  // Without knowing they are gone, the same rows are mismatches.
  expect(crosscheck(ROLLOUT, rows, held, []).mismatches.filter((m) => m.kind === 'no-history-event')).toHaveLength(gone.uncheckable);
});
