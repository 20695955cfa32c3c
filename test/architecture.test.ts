/**
 * Dependencies point one way (madge reads the import graph of the sources):
 *
 *   domain  ←  db  ←  app  ←  front ends: api (HTTP), client (CLI), web (dashboard), notify (messages)
 *                ↖  activities ← worker          stack (the process that starts them all: `up`, `serve`)
 *   (activities also call app: a batch applies each unit as a user would)
 *
 * - no import cycle anywhere (type-only imports are erased at run time and do not count);
 * - `domain/` imports nothing of ours but `domain/`; `db/` never imports a feature (the notification
 *   outbox reaches the event store as an injected after-append hook);
 * - no front end imports another front end; only `stack/` (the composition root) starts them together.
 */
import madge from 'madge';
import { join } from 'node:path';

const root = join(__dirname, '..');
const FOLDERS = ['activities', 'api', 'app', 'audit', 'bench', 'client', 'db', 'domain', 'notify', 'stack', 'web', 'worker', 'workflows'];

/** What each folder may import besides itself. */
const MAY_IMPORT: Record<string, string[]> = {
  domain: [],
  workflows: ['domain'],
  db: ['domain'],
  // The batch activity applies each unit through the application layer, as a user would.
  activities: ['domain', 'db', 'workflows', 'app'],
  notify: ['domain', 'db'],
  app: ['domain', 'db', 'workflows'],
  audit: ['domain', 'db', 'workflows', 'worker', 'activities'],
  worker: ['domain', 'db', 'workflows', 'activities', 'notify'],
  api: ['domain', 'db', 'app', 'notify', 'audit'],
  web: ['domain', 'app'],
  client: ['domain', 'db', 'app', 'audit', 'notify', 'stack', 'workflows'],
  stack: ['domain', 'db', 'app', 'api', 'web', 'notify', 'worker', 'workflows', 'activities'],
  bench: FOLDERS,
};

let graph: Record<string, string[]>;
let circular: string[][];
beforeAll(async () => {
  const res = await madge(
    FOLDERS.map((f) => join(root, f)),
    {
      baseDir: root,
      fileExtensions: ['ts'],
      tsConfig: join(root, 'tsconfig.json'),
      excludeRegExp: [/\.d\.ts$/],
      detectiveOptions: { ts: { skipTypeImports: true }, tsx: { skipTypeImports: true } },
    },
  );
  graph = res.obj();
  circular = res.circular();
}, 60_000);

test('the source tree has no import cycle', () => {
  expect(Object.keys(graph).length).toBeGreaterThan(80);
  expect(circular.map((c) => c.join(' → '))).toEqual([]);
});

test('every folder imports only the layers below it', () => {
  // The graph is what the rules read: files by their path from the root, with their imports.
  expect(graph['app/commands.ts']).toEqual(expect.arrayContaining([expect.stringMatching(/^db\//), expect.stringMatching(/^domain\//)]));
  expect(graph['db/event-store.ts']!.some((d) => d.startsWith('notify/'))).toBe(false);
  const wrong: string[] = [];
  for (const [file, deps] of Object.entries(graph)) {
    const from = file.split('/')[0]!;
    for (const dep of deps) {
      const to = dep.split('/')[0]!;
      if (to === from || !FOLDERS.includes(to)) continue;
      if (!MAY_IMPORT[from]?.includes(to)) wrong.push(`${file} → ${dep}`);
    }
  }
  expect(wrong).toEqual([]);
});
