/**
 * Replay: the committed histories in test/histories/ (recorded by `npm run record-histories`) must
 * replay against the current workflow code. A change that alters the commands a workflow issues for
 * an existing history (an activity, child, timer or signal added, removed or reordered) fails here
 * instead of failing the workflows already running in production; guard it with `patched()` and
 * record new histories next to the old ones (see test/histories/README.md).
 *
 * The workflows are bundled once; nothing here needs a Temporal server or a database.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { historyFromJson } from '../audit/history-json';
import { workflowBundle } from './helpers/temporal';

// The broken histories make the SDK log each nondeterminism it finds; the assertions below say it.
Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });

const HISTORIES = path.join(__dirname, 'histories');
const BROKEN = path.join(HISTORIES, 'broken');

const jsonFiles = (dir: string): string[] =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();

/** Replay every file of `dir` in one replay worker; one result per file, in order. */
async function replayAll(dir: string, files: string[]): Promise<ReplayResult[]> {
  function* histories() {
    for (const file of files) {
      yield { workflowId: path.basename(file, '.json'), history: historyFromJson(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'))) };
    }
  }
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories())) results.push(result);
  return results;
}

test('every committed history replays against the current workflow code', async () => {
  const files = jsonFiles(HISTORIES);
  // An empty or thinned-out folder must not pass: each workflow type and a continued-as-new run are there.
  expect(files.length).toBeGreaterThan(0);
  for (const kind of [/^rolloutWorkflow-/, /^unitWorkflow-/, /^fanoutWorkflow-/, /^unitWorkflow-.*-[2-9]\d*(\.[\w-]+)?\.json$/]) expect(files.some((f) => kind.test(f))).toBe(true);

  const results = await replayAll(HISTORIES, files);

  expect(results.map((r) => r.workflowId)).toEqual(files.map((f) => path.basename(f, '.json')));
  expect(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`)).toEqual([]);
});

test('a history the current code cannot produce fails replay with a DeterminismViolationError', async () => {
  const files = jsonFiles(BROKEN);
  expect(files.length).toBeGreaterThan(0);

  const results = await replayAll(BROKEN, files);

  expect(results).toHaveLength(files.length);
  for (const r of results) {
    expect(r.error).toBeInstanceOf(DeterminismViolationError);
    expect(r.error?.message).toMatch(/Nondeterminism error/);
  }
});
