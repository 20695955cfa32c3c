import { parseNewEvent } from '../../domain/events';
import { rolloutEvents, treeCodes } from '../../bench/events';
import { formatTable, median, meets, perCached, ratioRow } from '../../bench/stats';

test('median of odd and even counts, ignoring non-numbers', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([NaN, 5])).toBe(5);
  expect(median([])).toBeNaN();
});

test('a ratio row is the median of per-round ratios, checked against its goal', () => {
  const row = ratioRow({ name: 'enrolment', unit: 'units/s', trienkhai: [8, 10, 6], baseline: [16, 10, 12], baselineIs: 'bare', goal: { kind: 'min', value: 0.8 } });
  expect(row.ratio).toBe(0.5);
  expect(row.range).toEqual([0.5, 1]);
  expect(row.trienkhai).toBe(8);
  expect(row.met).toBe(false);
  expect(meets(1.6, { kind: 'max', value: 1.5 })).toBe(false);
  expect(meets(1.8, { kind: 'about', value: 2 })).toBe(true);
  const table = formatTable([row]).split('\n');
  expect(table[0]).toMatch(/^measure\s+trienkhai\s+baseline\s+ratio/);
  expect(table[2]).toContain('0.5');
  expect(table[2]).toContain('NOT met');
});

test('memory per cached workflow is the slope after the cache is a fifth full', () => {
  const MiB = 2 ** 20;
  const samples = [0, 10, 50, 100].map((cached) => ({ t: cached, cached, heap: 0, rss: 100 * MiB + cached * 2 * MiB + (cached === 0 ? -50 * MiB : 0) }));
  expect(perCached(samples, 'rss')).toBe(2);
});

test('the append benchmark’s events are valid events of their streams', () => {
  const codes = treeCodes(2, 3);
  expect(codes).toEqual(['T', 'T.X1', 'T.X1.C1', 'T.X1.C2', 'T.X1.C3', 'T.X2', 'T.X2.C1', 'T.X2.C2', 'T.X2.C3']);
  const events = rolloutEvents('bench-x', codes, new Date('2026-01-01T00:00:00Z'));
  expect(events).toHaveLength(27);
  for (const e of events) expect(parseNewEvent(e)).toEqual(e);
  expect(events.slice(6, 9).map((e) => [e.streamId, e.streamSeq, e.type])).toEqual([
    ['unit/bench-x/T.X1.C1', 1, 'UnitEnrolled'],
    ['unit/bench-x/T.X1.C1', 2, 'DeadlineMissed'],
    ['unit/bench-x/T.X1.C1', 3, 'Escalated'],
  ]);
});
