/**
 * Export bundles against cuts: a bundle cut back to its first checkpoint (later events and
 * checkpoints removed, manifest rewritten to match) must not verify, and an intact one says up to
 * which event and as of when it proves that nothing was left out. Real PostgreSQL and a real Temporal
 * (test) server; the rollout here has no workflow runs, so its histories are listed as gone.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportBundle, verifyBundle, type Manifest } from '../../audit/bundle';
import { cutCheckpoint, loadSigningKey } from '../../db/checkpoints';
import { appendEvents } from '../../db/event-store';
import type { AnyNewEvent } from '../../domain/events';
import { freshDatabase, type TestDb } from '../helpers/db';
import { rolloutStartedEvent } from '../helpers/events';
import { useTimeSkippingEnv } from '../helpers/temporal';

const env = useTimeSkippingEnv();
let t: TestDb;
let work: string;
let keyFile: string;
let bundle: string;

const started = rolloutStartedEvent;

const reminder = (n: number): AnyNewEvent => ({
  eventId: `unit/R/BG#r${n}`,
  streamId: 'unit/R/BG/reminders',
  streamSeq: n,
  type: 'ReminderSent',
  rolloutId: 'R',
  unitCode: 'BG',
  actor: 'system',
  occurredAt: new Date(Date.UTC(2027, 7, 1, 0, n)).toISOString(),
  payload: { key: 'study', dueAt: '2027-08-31T16:59:59.999Z', offset: `P${n}D`, recipient: 'BG' },
});

beforeAll(async () => {
  t = await freshDatabase();
  work = mkdtempSync(join(tmpdir(), 'trienkhai-bundle-'));
  keyFile = join(work, 'key.pem');
  await appendEvents(t.db, [started('R')]);
  for (let n = 1; n <= 4; n++) await appendEvents(t.db, [reminder(n)]);
  await cutCheckpoint(t.db, keyFile); // the first checkpoint: #1–#5
  for (let n = 5; n <= 9; n++) await appendEvents(t.db, [reminder(n)]);
  bundle = join(work, 'bundle');
  await exportBundle({ db: t.db, client: env().client }, 'R', bundle, { keyFile });
});
afterAll(async () => {
  await t?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const pem = (): string => loadSigningKey(keyFile).publicKeyPem;

test('an intact bundle verifies and says how far it proves that nothing was left out', async () => {
  const r = await verifyBundle(bundle, { trustedPublicKey: pem() });
  expect(r.ok).toBe(true);
  expect(r.seal).toEqual({ problems: [], completeUpTo: { seq: 10, exportedAt: r.exportedAt } });
  expect(readdirSync(bundle).sort()).toEqual(['README.txt', 'checkpoints.json', 'events.jsonl', 'histories', 'manifest.json', 'manifest.sig', 'public-key.pem']);
});

/** The forger's cut: keep the events of the first checkpoint and that checkpoint, and rewrite the manifest to match. */
function cutBack(name: string): string {
  const dir = join(work, name);
  cpSync(bundle, dir, { recursive: true });
  const checkpoints = JSON.parse(readFileSync(join(dir, 'checkpoints.json'), 'utf8')) as Array<{ seq: number; chainHash: string }>;
  const first = checkpoints[0]!;
  const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, first.seq);
  writeFileSync(join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'checkpoints.json'), `${JSON.stringify([first], null, 2)}\n`);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  m.log = { ...m.log, events: first.seq, rolloutEvents: first.seq, head: { seq: first.seq, hash: first.chainHash } };
  m.checkpoints = 1;
  for (const f of ['events.jsonl', 'checkpoints.json']) m.files[f] = { sha256: sha(join(dir, f)), bytes: readFileSync(join(dir, f)).length };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
  return dir;
}

test('a bundle cut back to its first checkpoint, with its manifest rewritten, does not verify', async () => {
  const dir = cutBack('cut');
  const r = await verifyBundle(dir, { trustedPublicKey: pem() });
  // Everything the cut left is consistent in itself...
  expect(r.files).toEqual([]);
  expect(r.chain.ok).toBe(true);
  expect(r.checkpoints.map((c) => c.problems)).toEqual([[]]);
  // ...but the export's seal no longer matches the manifest, so the bundle proves nothing about completeness.
  expect(r.ok).toBe(false);
  expect(r.seal.problems).toEqual(['manifest.sig does not match manifest.json: the manifest was rewritten after the export (or not signed by its key)']);
  expect(r.seal.completeUpTo).toBeNull();
});

test('removing the seal too does not help, nor does re-signing with another key against the key the auditor pinned', async () => {
  const dir = cutBack('cut-unsealed');
  rmSync(join(dir, 'manifest.sig'));
  const r = await verifyBundle(dir, { trustedPublicKey: pem() });
  expect(r.ok).toBe(false);
  expect(r.seal.problems).toEqual([expect.stringMatching(/^manifest\.sig is missing: nothing proves the bundle holds the whole log/)]);

  const resigned = cutBack('cut-resigned');
  const other = loadSigningKey(join(work, 'forger.pem'));
  const { sign } = await import('node:crypto');
  writeFileSync(
    join(resigned, 'manifest.sig'),
    JSON.stringify({ publicKey: other.publicKeyPem, signature: sign(null, readFileSync(join(resigned, 'manifest.json')), other.privateKey).toString('base64') }),
  );
  const again = await verifyBundle(resigned, { trustedPublicKey: pem() });
  expect(again.ok).toBe(false);
  expect(again.seal.problems).toEqual(['manifest.sig was signed by a different key than the one you trust']);
});

test('the seal also binds the manifest to the bundle: events dropped from the end with the manifest left alone are caught', async () => {
  const dir = join(work, 'short');
  cpSync(bundle, dir, { recursive: true });
  const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean);
  writeFileSync(join(dir, 'events.jsonl'), `${lines.slice(0, -1).join('\n')}\n`);
  const r = await verifyBundle(dir, { trustedPublicKey: pem() });
  expect(r.ok).toBe(false);
  expect(r.seal.problems).toEqual(['the export had 10 events up to #10; the bundle has 9, up to #9']);
});
