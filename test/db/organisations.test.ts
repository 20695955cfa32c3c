/**
 * Organisations own their hierarchies (real PostgreSQL): separate imports survive each other, a delta
 * copies forward, a dated change (the 2025 reform) makes a new version with its lineage and one
 * HierarchyChanged event, an import that implies changes waits for confirmation, and contacts follow
 * lineage.
 */
import type { Unit } from '../../domain/hierarchy';
import { applyHierarchyChanges, ConfirmationRequired, importOrganisation, lineage, organisations, previewImport } from '../../app/hierarchies';
import { latestHierarchyVersion, latestVersionOfUnit, organisationOf, unitsOfVersion } from '../../db/hierarchy';
import { DomainError } from '../../domain/errors';
import { importContacts, listContacts, moveContacts, parseContactsFile } from '../../notify/contacts';
import { recipientUnitsOf } from '../../notify/recipient-units';
import { freshDatabase, type TestDb } from '../helpers/db';
import { province, reform } from '../helpers/reform-2025';

let t: TestDb;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(async () => t?.close());

/** A JSON hierarchy file (snake_case columns). */
const json = (units: Unit[]) =>
  JSON.stringify(
    units.map((u) => ({
      code: u.code,
      name: u.name,
      level: u.level,
      parent: u.parent,
      members: u.members,
      standing_committee: u.standingCommittee,
      ...(u.effectiveFrom ? { effective_from: u.effectiveFrom } : {}),
      ...(u.predecessors ? { predecessors: u.predecessors } : {}),
    })),
  );
const imp = (units: Unit[], extra: { delta?: boolean; confirm?: boolean; organisation?: string } = {}) => importOrganisation(t.db, { fileName: 'u.json', content: json(units), ...extra }, 'user:test');
async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected a refusal');
}

test('two provinces imported separately both survive; version numbers stay global', async () => {
  const a = await imp(province('T'));
  const b = await imp(province('Q'));
  expect(b.version).toBeGreaterThan(a.version);
  expect(await latestHierarchyVersion(t.db, 'T')).toBe(a.version);
  expect(await latestHierarchyVersion(t.db, 'Q')).toBe(b.version);
  expect(await organisationOf(t.db, 'T.H1.X1')).toEqual({ organisation: 'T', latestVersion: a.version, current: true });
  // Re-importing T unchanged needs no confirmation and leaves Q alone.
  const again = await imp(province('T'));
  expect(again.preview.organisations[0]).toMatchObject({ organisation: 'T', previousVersion: a.version, changes: [], needsConfirmation: false });
  expect(await latestHierarchyVersion(t.db, 'Q')).toBe(b.version);
  expect((await unitsOfVersion(t.db, b.version)).every((u) => u.code.startsWith('Q'))).toBe(true);
  const orgs = await organisations(t.db);
  expect(orgs.map((o) => [o.organisation, o.latestVersion, o.units])).toEqual([
    ['Q', b.version, 11],
    ['T', again.version, 11],
  ]);
  // A code of Q cannot appear under T.
  const clash = await refusal(imp([...province('T'), { code: 'Q.H1', name: 'x', level: 'huyen', parent: 'T', members: 1, standingCommittee: true }], { confirm: true }));
  expect(clash.issues[0]).toMatchObject({ path: 'row 12 (code)' });
  expect(clash.message).toMatch(/belongs to organisation Q/);
});

test('a file with two roots makes one version per organisation', async () => {
  const r = await imp([...province('R1'), ...province('R2')]);
  expect(r.versions.map((v) => v.organisation)).toEqual(['R1', 'R2']);
  expect(r.versions[0]!.version).not.toBe(r.versions[1]!.version);
  expect(await latestVersionOfUnit(t.db, 'R2.H1')).toBe(r.versions[1]!.version);
});

test('a delta adds and replaces rows of one organisation; the rest is copied forward', async () => {
  const before = (await latestHierarchyVersion(t.db, 'Q'))!;
  const rows: Unit[] = [
    { code: 'Q.H1.X9', name: 'Xã Chín', level: 'xa', parent: 'Q.H1', members: 9, standingCommittee: true },
    { code: 'Q.H2.X5', name: 'Đảng bộ thị trấn Đông', level: 'xa', parent: 'Q.H2', members: 95, standingCommittee: true },
  ];
  const preview = await previewImport(t.db, { fileName: 'd.json', content: json(rows), delta: true });
  expect(preview.organisations[0]).toMatchObject({ organisation: 'Q', kind: 'delta', previousVersion: before, units: 12, needsConfirmation: true });
  expect(preview.organisations[0]!.changes).toEqual([
    { code: 'Q.H2.X5', kind: 'members', from: 90, to: 95 },
    { code: 'Q.H1.X9', kind: 'created', parent: 'Q.H1', name: 'Xã Chín' },
  ]);
  await expect(imp(rows, { delta: true })).rejects.toBeInstanceOf(ConfirmationRequired);
  expect(await latestHierarchyVersion(t.db, 'Q')).toBe(before);
  const r = await imp(rows, { delta: true, confirm: true });
  expect(r.units).toBe(12);
  const units = await unitsOfVersion(t.db, r.version);
  expect(units.find((u) => u.code === 'Q.H2.X5')?.members).toBe(95);
  expect(units.find((u) => u.code === 'Q.H1.X2.CB1')?.parent).toBe('Q.H1.X2');
  const v = await t.db.selectFrom('hierarchy_versions').selectAll().where('version', '=', r.version).executeTakeFirstOrThrow();
  expect(v).toMatchObject({ organisation: 'Q', kind: 'delta', previous_version: before, units: 12 });
  // Bad deltas: a parent nowhere, a new root, rows of two organisations.
  const bad = await refusal(imp([{ code: 'Q.Z', name: 'z', level: 'xa', parent: 'Q.NOPE', members: 1, standingCommittee: true }], { delta: true, organisation: 'Q' }));
  expect(bad.issues).toEqual([{ path: 'row 1 (parent)', message: expect.stringMatching(/parent "Q.NOPE" is neither in this file nor in Q/) }]);
  const root = await refusal(imp([{ code: 'Q.Z', name: 'z', level: 'xa', parent: null, members: 1, standingCommittee: true }], { delta: true, organisation: 'Q' }));
  expect(root.issues[0]!.path).toBe('row 1 (parent)');
  const two = await refusal(imp([{ ...rows[0]! }, { code: 'T.H1.X9', name: 'x', level: 'xa', parent: 'T.H1', members: 1, standingCommittee: true }], { delta: true }));
  expect(two.message).toMatch(/several organisations \(Q, T\)/);
});

test('the 2025 reform as a dated change: a new version, lineage both ways, one HierarchyChanged event; bad changes name the operation', async () => {
  await imp(province('BG'));
  const before = (await latestHierarchyVersion(t.db, 'BG'))!;
  const dry = await applyHierarchyChanges(t.db, reform('BG'), { dryRun: true });
  expect(dry).toMatchObject({ dryRun: true, version: null, previousVersion: before, units: 7 });
  expect(await latestHierarchyVersion(t.db, 'BG')).toBe(before);
  const r = await applyHierarchyChanges(t.db, reform('BG'));
  expect(r).toMatchObject({ dryRun: false, previousVersion: before, units: 7, organisation: 'BG' });
  expect(await latestHierarchyVersion(t.db, 'BG')).toBe(r.version);
  const units = await unitsOfVersion(t.db, r.version!);
  expect(units.map((u) => u.level).filter((l) => l === 'huyen')).toEqual([]);
  expect(units.find((u) => u.code === 'BG.AB')).toMatchObject({ parent: 'BG', effectiveFrom: '2025-07-01', predecessors: ['BG.H1.X1', 'BG.H1.X2'] });
  // The old version is untouched: a running rollout pinned to it reads the same units by (version, code).
  expect((await unitsOfVersion(t.db, before)).find((u) => u.code === 'BG.H1.X1')?.parent).toBe('BG.H1');
  const ev = await t.db.selectFrom('events').selectAll().where('type', '=', 'HierarchyChanged').execute();
  expect(ev).toHaveLength(1);
  expect(ev[0]!.payload).toMatchObject({ organisation: 'BG', previousVersion: before, version: r.version, effectiveFrom: '2025-07-01', decidedBy: 'user:ops' });

  const x1 = await lineage(t.db, 'BG.H1.X1');
  expect(x1.home).toEqual({ organisation: 'BG', latestVersion: r.version, current: false });
  expect(x1.successors.map((s) => [s.to, s.kind, s.effectiveFrom])).toEqual([['BG.AB', 'merged', '2025-07-01']]);
  expect(x1.current).toEqual(['BG.AB']);
  expect((await lineage(t.db, 'BG.H1')).successors.map((s) => s.kind)).toEqual(['dissolved']);
  const ab = await lineage(t.db, 'BG.AB', '2025-01-01');
  expect(ab.predecessors.map((p) => p.from).sort()).toEqual(['BG.H1.X1', 'BG.H1.X2']);
  expect((await lineage(t.db, 'BG.AB', '2025-08-01')).predecessors).toEqual([]);
  // Transitive: AB merged again later.
  await applyHierarchyChanges(t.db, {
    organisation: 'BG',
    effectiveFrom: '2026-01-01',
    reason: 'sáp nhập tiếp',
    decidedBy: 'user:ops',
    operations: [{ op: 'merge', codes: ['BG.AB'], into: 'BG.CD' }],
  });
  const again = await lineage(t.db, 'BG.H1.X1');
  expect(again.successors.map((s) => [s.from, s.to, s.depth])).toEqual([
    ['BG.H1.X1', 'BG.AB', 1],
    ['BG.AB', 'BG.CD', 2],
  ]);
  expect(again.current).toEqual(['BG.CD']);
  expect((await lineage(t.db, 'BG.CD')).predecessors.map((p) => p.from).sort()).toEqual(['BG.AB', 'BG.H1.X1', 'BG.H1.X2', 'BG.H2.X3', 'BG.H2.X4']);

  // Refusals, each naming its operation; nothing is stored.
  const latest = await latestHierarchyVersion(t.db, 'BG');
  const e = await refusal(
    applyHierarchyChanges(t.db, {
      organisation: 'BG',
      effectiveFrom: '2026-02-01',
      reason: 'x',
      decidedBy: 'user:ops',
      operations: [
        { op: 'move', code: 'BG.H2.X5', parent: 'Q.H1' },
        { op: 'rename', code: 'BG.H1.X1', name: 'x' },
      ],
    }),
  );
  expect(e.issues.map((i) => i.path)).toEqual(['operations[0].parent', 'operations[1].code']);
  expect(e.issues[0]!.message).toMatch(/belongs to organisation Q/);
  expect(await latestHierarchyVersion(t.db, 'BG')).toBe(latest);
  expect((await refusal(applyHierarchyChanges(t.db, { ...reform('NOPE') }))).kind).toBe('not_found');
  expect((await refusal(applyHierarchyChanges(t.db, { organisation: 'BG', operations: [] }))).issues.map((i) => i.path)).toEqual(
    expect.arrayContaining(['effectiveFrom', 'reason', 'decidedBy', 'operations']),
  );
});

test('a snapshot that implies changes shows the diff and waits for confirmation; predecessors in the file become merges', async () => {
  await imp(province('HN'));
  const v = (await latestHierarchyVersion(t.db, 'HN'))!;
  const next: Unit[] = [
    ...province('HN')
      .filter((u) => !['HN.H1.X1', 'HN.H1.X2'].includes(u.code))
      .map((u) => (u.parent === 'HN.H1.X1' || u.parent === 'HN.H1.X2' ? { ...u, parent: 'HN.H1.AB' } : u)),
    { code: 'HN.H1.AB', name: 'Xã An Bình', level: 'xa', parent: 'HN.H1', members: 220, standingCommittee: true, effectiveFrom: '2025-07-01', predecessors: ['HN.H1.X1', 'HN.H1.X2'] },
  ];
  const refused = await refusal(imp(next));
  expect(refused).toBeInstanceOf(ConfirmationRequired);
  expect(refused.kind).toBe('conflict');
  const preview = (refused as ConfirmationRequired).preview.organisations[0]!;
  expect(preview.changes).toEqual(expect.arrayContaining([{ code: 'HN.H1.X1', kind: 'merged', into: 'HN.H1.AB' }]));
  expect(preview.lines.map((l) => l.vi)).toContain('- HN.H1.X1 sáp nhập vào HN.H1.AB');
  expect(await latestHierarchyVersion(t.db, 'HN')).toBe(v);
  await imp(next, { confirm: true });
  expect((await lineage(t.db, 'HN.H1.X2')).successors.map((s) => [s.to, s.effectiveFrom])).toEqual([['HN.H1.AB', '2025-07-01']]);
});

test('contacts follow lineage: a merged-away unit is refused with its successor named, its contacts move, its notifications reach the successor', async () => {
  // BG.H2.X3 merged into BG.CD (2025), then BG.CD absorbed BG.AB; BG.H2.X5 still exists.
  const file = (rows: string) => parseContactsFile('c.csv', `unit,channel,address,name\n${rows}`);
  expect((await importContacts(t.db, file('BG.H2.X5,email,dong@example.vn,Văn phòng'))).contacts).toBe(1);
  const refused = await refusal(importContacts(t.db, file('BG.H2.X3,email,cao@example.vn,')));
  expect(refused.message).toMatch(/no longer in BG's latest hierarchy .*it became BG.CD/);
  // Contacts recorded before the merge (straight into the table, as an older release allowed).
  await t.db.insertInto('unit_contacts').values({ unit_code: 'BG.H2.X3', channel: 'email', address: 'cao@example.vn', name: '' }).execute();
  expect(await recipientUnitsOf(t.db, 'BG.H2.X3')).toEqual(['BG.CD']);
  expect(await recipientUnitsOf(t.db, 'BG.H2.X5')).toEqual(['BG.H2.X5']);
  expect(await recipientUnitsOf(t.db, 'NEVER.IMPORTED')).toEqual(['NEVER.IMPORTED']);
  expect(await moveContacts(t.db, 'BG.H2.X3')).toEqual({ from: 'BG.H2.X3', to: 'BG.CD', moved: 1 });
  expect((await listContacts(t.db, 'BG.CD')).map((c) => c.address)).toEqual(['cao@example.vn']);
  // Editing the successor's contacts works.
  expect((await importContacts(t.db, file('BG.CD,email,caoduong@example.vn,'))).replaced).toBe(1);
  expect((await refusal(moveContacts(t.db, 'BG.H2.X5'))).message).toMatch(/still exists/);
});
