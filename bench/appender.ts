/**
 * One appender process of the scaling benchmark (bench/append.ts `scaling`): builds its units' events
 * (its own streams), connects, says it is ready, and on "go" appends them with the project's
 * `appendEvents` (retried on a deadlock), `batchUnits` units a call, `concurrency` calls in flight; then reports and exits.
 */
import { connect } from '../db/connect';
import { appendRetrying, codesFor, retried, type AppenderJob } from './append';
import { rolloutEvents } from './events';

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as AppenderJob;
  const events = rolloutEvents(job.rolloutId, codesFor(job.units));
  const batches: (typeof events)[] = [];
  for (let i = 0; i < events.length; i += job.batchUnits * 3) batches.push(events.slice(i, i + job.batchUnits * 3));
  const db = connect(job.url, { max: job.concurrency });
  // Open every connection before the clock starts.
  await Promise.all(Array.from({ length: job.concurrency }, () => db.selectFrom('events').select('position').limit(1).execute()));
  await new Promise<void>((resolve) => {
    process.once('message', () => resolve());
    process.send!({ ready: true });
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      for (let b = next++; b < batches.length; b = next++) await appendRetrying(db, batches[b]!);
    }),
  );
  process.send!({ done: true, events: events.length, retried: retried.n });
  await db.destroy();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.send?.({ error: e instanceof Error ? e.message : String(e) });
    process.exit(1);
  },
);
