/**
 * The grammar of unit codes, level codes, rollout and request IDs lives in domain/codes.ts only: every
 * schema, the CLI and the browser's forms (served the patterns) check with it; no other file carries
 * its own copy of a pattern.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CODE_PATTERNS, LevelCode, RequestId, RolloutId, UnitCode, isUnitCode } from '../../domain/codes';

test('the grammar', () => {
  for (const ok of ['BG', 'BG.YT.BoHa', 'HU-01', 'a_b', 'x'.repeat(64)]) expect([ok, isUnitCode(ok), UnitCode.safeParse(ok).success]).toEqual([ok, true, true]);
  for (const bad of ['', '.BG', 'BG/1', 'BG#1', 'Bắc', 'x'.repeat(65), 'a b', 'BG\u0000']) expect([bad, isUnitCode(bad), UnitCode.safeParse(bad).success]).toEqual([bad, false, false]);
  expect(RolloutId.safeParse('21-NQ-TW.2022-06-16.BG').success).toBe(true);
  expect(RolloutId.safeParse('21/NQ').success).toBe(false);
  expect(RequestId.safeParse('api:7f3c-1').success).toBe(true);
  expect(RequestId.safeParse(':x').success).toBe(false);
  expect(LevelCode.safeParse('co-so').success).toBe(true);
  expect(LevelCode.safeParse('Tinh').success).toBe(false);
  // The browser gets the same patterns.
  expect(new RegExp(CODE_PATTERNS.unitCode).test('BG.YT')).toBe(true);
  expect(new RegExp(CODE_PATTERNS.unitCode).test('BG/YT')).toBe(false);
});

test('no other source file has its own copy of a code pattern', () => {
  const root = join(__dirname, '..', '..');
  const files = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : /\.(ts|js)$/.test(n) ? [join(dir, n)] : []));
  const copies = [/\[A-Za-z0-9\]\[A-Za-z0-9/, /\[a-z0-9_-\]/, /\[A-Za-z0-9\._-\]/];
  const found: string[] = [];
  for (const dir of ['app', 'api', 'client', 'notify', 'web', 'db', 'workflows', 'activities', 'audit', 'domain', 'stack', 'worker']) {
    for (const f of files(join(root, dir))) {
      const rel = relative(root, f);
      if (rel === 'domain/codes.ts') continue;
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => copies.forEach((re) => re.test(line) && found.push(`${rel}:${i + 1}: ${line.trim()}`)));
    }
  }
  expect(found).toEqual([]);
});
