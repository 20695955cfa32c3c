/**
 * The wording table is the only place the product's words for its own facts live: every event type,
 * step kind and level has both languages, and no other source file carries a copy of them (a copy
 * drifts: the dashboard once called a step kind differently from the CLI).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EVENT_TYPES } from '../../domain/events';
import { StepKind } from '../../domain/plan';
import { EVENT_TITLES, LEVEL_WORDING, STEP_KIND_WORDING, eventTitle, levelName, stepKindName, wordingTable } from '../../domain/wording';
import { WORDING_MODULE } from '../../web/serve';
import { CODE_PATTERNS } from '../../domain/codes';

const root = join(__dirname, '..', '..');
const TABLE = 'domain/wording.ts';
// Plans are data: a step may well be titled "Báo cáo định kỳ".
const DATA = ['domain/default-plans.ts'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|js|mjs|html)$/.test(name) ? [p] : [];
  });
}

test('every event type, step kind and known level is worded in Vietnamese and English', () => {
  expect(Object.keys(EVENT_TITLES).sort()).toEqual([...EVENT_TYPES].sort());
  expect(Object.keys(STEP_KIND_WORDING).sort()).toEqual([...StepKind.options].sort());
  for (const s of [...Object.values(EVENT_TITLES), ...Object.values(STEP_KIND_WORDING), ...Object.values(LEVEL_WORDING)]) {
    expect(s.vi.trim()).not.toBe('');
    expect(s.en.trim()).not.toBe('');
    expect(s.vi).toBe(s.vi.normalize('NFC'));
    expect(s.vi).not.toMatch(/huỷ/); // one spelling: "hủy"
  }
  expect(eventTitle('Escalated', 'vi')).toBe(EVENT_TITLES.Escalated.vi);
  expect(stepKindName('issuePlan', 'en')).toBe(STEP_KIND_WORDING.issuePlan.en);
  expect(levelName('made-up-level', 'vi')).toBe('made-up-level');
});

test('no other source file holds a copy of the wording', () => {
  const phrases = [...Object.values(EVENT_TITLES), ...Object.values(STEP_KIND_WORDING), ...Object.values(LEVEL_WORDING)]
    .flatMap((s) => [s.vi, s.en])
    // Short words ("Chi bộ", "Directive") also occur in ordinary sentences; the phrases are what drifts.
    .filter((p) => p.length >= 14);
  expect(phrases.length).toBeGreaterThan(20);
  const copies: string[] = [];
  for (const dir of ['app', 'api', 'client', 'notify', 'web', 'db', 'workflows', 'activities', 'audit', 'domain']) {
    for (const file of sources(join(root, dir))) {
      const rel = relative(root, file);
      if (rel === TABLE || DATA.includes(rel)) continue;
      const text = readFileSync(file, 'utf8').normalize('NFC');
      for (const p of phrases) if (text.includes(`'${p}'`) || text.includes(`"${p}"`) || text.includes(`\`${p}\``)) copies.push(`${rel}: ${p}`);
    }
  }
  expect(copies).toEqual([]);
});

test('the browser gets the same table, as a module served by the server', () => {
  const m = /^export default (.*);$/m.exec(WORDING_MODULE);
  expect(m).not.toBeNull();
  expect(JSON.parse(m![1]!)).toEqual(JSON.parse(JSON.stringify({ ...wordingTable(), codes: CODE_PATTERNS })));
});
