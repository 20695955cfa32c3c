/**
 * Identifiers built from other identifiers are built and read back by one pair of functions each
 * (domain/ids.ts, and the workflow IDs in workflows/definitions.ts); no other source file assembles or
 * takes one apart.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { escalationId, eventId, parseEscalationId, parseEventId, parseStreamId, streams } from '../../domain/ids';
import { fanoutWorkflowId, parseWorkflowId, rolloutWorkflowId, unitWorkflowId } from '../../workflows/definitions';

test('each identifier reads back into the parts it was built from', () => {
  const ref = { rolloutId: '21-NQ-TW.2022-06-16.BG', unitCode: 'BG.YT.BoHa', stepKey: 'report#2', dueAt: Date.UTC(2022, 8, 30, 16, 59, 59, 999), tier: 2 };
  const id = escalationId(ref);
  expect(id).toBe('21-NQ-TW.2022-06-16.BG/BG.YT.BoHa/report#2/2022-09-30T16:59:59.999Z/t2');
  expect(parseEscalationId(id)).toEqual(ref);
  for (const bad of [
    '',
    'a/b/c/d',
    'R/U/study/not-a-date/t1',
    'R/U/study/2022-09-30T16:59:59.999Z/t0',
    'R/U/study/2022-09-30T16:59:59.999Z/tx',
    'R/U/study/2022-09-30T16:59:59.999Z/t1/extra',
    'R/U/study/2022-09-30/t1',
  ])
    expect(parseEscalationId(bad)).toBeUndefined();

  const stream = streams.unit('R.1', 'P.A');
  expect(parseStreamId(stream)).toEqual({ kind: 'unit', rolloutId: 'R.1', unitCode: 'P.A' });
  expect(parseStreamId(streams.rollout('R.1'))).toEqual({ kind: 'rollout', rolloutId: 'R.1' });
  expect(parseStreamId(streams.hierarchy())).toEqual({ kind: 'hierarchy' });
  expect(parseStreamId('unit/R')).toBeUndefined();
  expect(parseEventId(eventId(stream, 17))).toEqual({ streamId: stream, seq: 17 });
  for (const bad of ['unit/R/P#', 'unit/R/P#0', 'unit/R/P#01', '#3', 'unit/R/P']) expect(parseEventId(bad)).toBeUndefined();

  expect(parseWorkflowId(rolloutWorkflowId('R.1'))).toEqual({ kind: 'rollout', rolloutId: 'R.1' });
  expect(parseWorkflowId(unitWorkflowId('R.1', 'P.A'))).toEqual({ kind: 'unit', rolloutId: 'R.1', unitCode: 'P.A' });
  expect(parseWorkflowId(fanoutWorkflowId('R.1', 'P.A', 3))).toEqual({ kind: 'fanout', rolloutId: 'R.1', ownerCode: 'P.A', batch: 3 });
  expect(parseWorkflowId('other/unit/R/P')).toBeUndefined();
});

test('no other source file builds or parses these identifiers by hand', () => {
  const root = join(__dirname, '..', '..');
  const files = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : /\.(ts|js)$/.test(n) ? [join(dir, n)] : []));
  const homes = ['domain/ids.ts', 'workflows/definitions.ts'];
  const handMade = [
    /`\$\{[^`]*\}#\$\{/, // `${streamId}#${seq}`
    /\/t\$\{/, // `…/t${tier}`
    /\/t\(\\d\+\)/, // /\/t(\d+)$/ taking the tier back out
    /`(rollout|unit|trienkhai)\/\$\{/, // `unit/${…}`, `trienkhai/unit/${…}`
    /\b\w*(Id|ID|id)\w*\.split\(['"]\/['"]\)/, // taking an ID apart at its slashes
  ];
  const found: string[] = [];
  for (const dir of ['app', 'api', 'client', 'notify', 'web', 'db', 'workflows', 'activities', 'audit', 'domain', 'worker', 'bench']) {
    for (const f of files(join(root, dir))) {
      const rel = relative(root, f);
      if (homes.includes(rel)) continue;
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => handMade.forEach((re) => re.test(line) && found.push(`${rel}:${i + 1}: ${line.trim()}`)));
    }
  }
  expect(found).toEqual([]);
});
