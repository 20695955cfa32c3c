/**
 * The determinism rule is enforced by ESLint, not by hope: a workflow file that imports a Node
 * built-in, a database driver or the client SDK fails lint. Probe files are placed in workflows/ and
 * linted with the project's own configuration, in one ESLint run as `npm run lint` does it (ESLint's
 * config loader cannot run inside Jest's module system).
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

const forbidden: Array<[string, RegExp]> = [
  ["import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", /Node built-ins|deterministic sandbox/],
  ["import * as fs from 'fs';\nexport const x = fs;\n", /deterministic sandbox/],
  ["import pg from 'pg';\nexport const x = pg;\n", /deterministic sandbox/],
  ["import { Kysely } from 'kysely';\nexport const x = Kysely;\n", /deterministic sandbox/],
  ["import { Client } from '@temporalio/client';\nexport const x = Client;\n", /deterministic sandbox/],
  ["import { connect } from '../db/connect';\nexport const x = connect;\n", /only import types/],
];
const allowed =
  "import { sleep } from '@temporalio/workflow';\nimport { parsePlan } from '../domain/plan';\nimport type { Activities } from '../activities';\nexport const x: [typeof sleep, typeof parsePlan, Activities | undefined] = [sleep, parsePlan, undefined];\n";

let messages: string[][];

beforeAll(async () => {
  const sources = [...forbidden.map(([s]) => s), allowed];
  const files = sources.map((_, i) => join(root, 'workflows', `__lint_probe_${process.pid}_${i}.ts`));
  sources.forEach((s, i) => writeFileSync(files[i]!, s));
  try {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(join(root, 'node_modules', '.bin', 'eslint'), ['--format', 'json', ...files], { cwd: root, maxBuffer: 10 << 20 }, (err, out) => (out ? resolve(out) : reject(err ?? new Error('eslint printed nothing')))),
    );
    const results = JSON.parse(stdout) as Array<{ filePath: string; messages: Array<{ ruleId: string | null; message: string }> }>;
    messages = files.map((f) => (results.find((r) => r.filePath === f)?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`));
  } finally {
    for (const f of files) rmSync(f, { force: true });
  }
}, 120_000);

test.each(forbidden.map(([source, message], i) => [source.split('\n')[0], message, i] as const))('workflow code may not: %s', (_, message, i) => {
  expect(messages[i]!.some((m) => m.startsWith('no-restricted-imports') && message.test(m))).toBe(true);
});

test('workflow code may import the SDK, the pure domain and types from I/O code', () => {
  expect(messages[forbidden.length]).toEqual([]);
});
