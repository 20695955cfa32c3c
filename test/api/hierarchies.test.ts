/**
 * Organisations over HTTP: imports per organisation with a 409 diff until confirmed, dated changes
 * (dry run first), lineage and the organisation list; every bad input is a 4xx, never a 5xx.
 */
import { issueToken } from '../../app/tokens';
import { startApiStack, type ApiStack } from '../helpers/api-stack';
import { province, reform } from '../helpers/reform-2025';
import type { Unit } from '../../domain/hierarchy';

let s: ApiStack;
beforeAll(async () => {
  s = await startApiStack();
  s.tokens.ops = (await issueToken(s.t.db, { role: 'ops', label: 'ops' })).token;
  s.tokens.auditor = (await issueToken(s.t.db, { role: 'auditor', label: 'auditor' })).token;
});
afterAll(async () => s?.close());

const csv = (units: Unit[]) =>
  [
    'code,name,level,parent,members,standing_committee,effective_from,predecessors',
    ...units.map((u) => [u.code, u.name, u.level, u.parent ?? '', u.members, u.standingCommittee, u.effectiveFrom ?? '', (u.predecessors ?? []).join(';')].join(',')),
  ].join('\n');

test('import per organisation, a 409 diff until confirmed, a dated change, lineage and the organisation list', async () => {
  const a = await s.call('POST', '/api/v1/units/import', 'ops', { fileName: 'bg.csv', content: csv(province('BG')) });
  expect(a).toMatchObject({ status: 201, body: { roots: ['BG'], versions: [{ organisation: 'BG', previousVersion: null }] } });
  const b = await s.call('POST', '/api/v1/units/import', 'ops', { fileName: 'hn.csv', content: csv(province('HN')) });
  expect(b.status).toBe(201);
  // Dropping a commune of BG: a structural change, previewed, not stored until confirmed.
  const smaller = province('BG').filter((u) => u.code !== 'BG.H2.X5');
  const refused = await s.call('POST', '/api/v1/units/import', 'ops', { fileName: 'bg.csv', content: csv(smaller) });
  expect(refused).toMatchObject({
    status: 409,
    body: { error: 'confirmation_required', details: { needsConfirmation: true, organisations: [{ organisation: 'BG', changes: [{ code: 'BG.H2.X5', kind: 'dissolved' }] }] } },
  });
  const ok = await s.call('POST', '/api/v1/units/import', 'ops', { fileName: 'bg.csv', content: csv(smaller), confirm: true });
  expect(ok.status).toBe(201);
  const orgs = await s.call('GET', '/api/v1/organisations', 'auditor');
  expect(orgs.body.map((o: { organisation: string; units: number }) => [o.organisation, o.units])).toEqual([
    ['BG', 10],
    ['HN', 11],
  ]);

  const path = '/api/v1/hierarchies/HN/changes';
  const { organisation: _o, decidedBy: _d, ...change } = reform('HN');
  const dry = await s.call('POST', path, 'ops', { ...change, dryRun: true });
  expect(dry).toMatchObject({ status: 201, body: { dryRun: true, version: null, units: 7 } });
  const applied = await s.call('POST', path, 'ops', change);
  expect(applied).toMatchObject({ status: 201, body: { dryRun: false, organisation: 'HN', units: 7 } });
  const l = await s.call('GET', '/api/v1/units/HN.H1.X1/lineage', 'auditor');
  expect(l).toMatchObject({ status: 200, body: { current: ['HN.AB'], successors: [{ to: 'HN.AB', kind: 'merged', effectiveFrom: '2025-07-01' }] } });
  expect((await s.call('GET', '/api/v1/units/HN.AB/lineage?before=2025-01-01', 'auditor')).body.predecessors).toHaveLength(2);

  // Bad input: 4xx naming the field.
  const bad = await s.call('POST', path, 'ops', {
    ...change,
    operations: [
      { op: 'move', code: 'HN.AB', parent: 'BG.H1' },
      { op: 'rename', code: 'HN.NOPE', name: 'x' },
    ],
  });
  expect(bad.status).toBe(400);
  expect(bad.body.issues.map((i: { path: string }) => i.path)).toEqual(['operations[0].parent', 'operations[1].code']);
  const shape = await s.call('POST', path, 'ops', { ...change, operations: [{ op: 'move', code: 'HN.AB' }] });
  expect(shape.status).toBe(400);
  expect(shape.body.issues.map((i: { path: string }) => i.path)).toEqual(['body.operations[0].parent']);
  expect((await s.call('POST', '/api/v1/hierarchies/NOPE/changes', 'ops', change)).status).toBe(404);
  expect((await s.call('POST', path, 'auditor', change)).status).toBe(403);
  expect((await s.call('GET', '/api/v1/units/NOPE/lineage', 'auditor')).status).toBe(404);
  expect((await s.call('GET', '/api/v1/units/HN.AB/lineage?before=2025-13-01', 'auditor')).status).toBe(400);
  expect((await s.call('GET', '/api/v1/units/bad%20code/lineage', 'auditor')).status).toBe(400);
  const delta = await s.call('POST', '/api/v1/units/import', 'ops', {
    fileName: 'd.csv',
    content: csv([{ code: 'HN.Z', name: 'z', level: 'xa', parent: 'HN.NOPE', members: 1, standingCommittee: true }]),
    delta: true,
    organisation: 'HN',
  });
  expect(delta.status).toBe(400);
  expect(delta.body.issues[0].path).toBe('row 1 (parent)');
});
