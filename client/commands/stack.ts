/**
 * `trienkhai up | worker | serve`: the stack. stack/up.ts is loaded only when one of them runs (it
 * pulls in the Temporal worker), so help and every other command stay fast.
 */
import { defineCommand, defineGroup } from '../command';

const up = defineCommand({
  summary: 'start PostgreSQL, Temporal and a worker here (Ctrl-C stops)',
  description:
    'PostgreSQL is embedded (or DATABASE_URL), Temporal a dev server (or TEMPORAL_ADDRESS); data in $TRIENKHAI_DATA_DIR (default ./.data).\n' +
    'It also serves the HTTP API and the dashboard (TRIENKHAI_HTTP_HOST:TRIENKHAI_HTTP_PORT, default 127.0.0.1:8080).',
  positionals: [],
  options: { demo: { type: 'boolean', description: 'also import the sample hierarchy and start a rollout whose deadlines fall within minutes' } },
  examples: ['trienkhai up', 'trienkhai up --demo'],
  async run({ values, io }) {
    return (await import('../../stack/up')).runUp({ demo: values.demo === true }, io);
  },
});

const worker = defineCommand({
  summary: 'one more worker against TEMPORAL_ADDRESS and DATABASE_URL (or the local stack)',
  description: 'Workers share the task queue: scale out by running more.',
  positionals: [],
  options: {},
  examples: ['TEMPORAL_ADDRESS=temporal.example.vn:7233 DATABASE_URL=postgres://… trienkhai worker'],
  async run({ io }) {
    return (await import('../../stack/up')).runWorker(io);
  },
});

const serve = defineCommand({
  summary: 'the HTTP API and dashboard alone, against TEMPORAL_ADDRESS and DATABASE_URL',
  description: 'Serves on TRIENKHAI_HTTP_HOST:TRIENKHAI_HTTP_PORT (default 127.0.0.1:8080); run as many as the load needs, behind a proxy that terminates TLS.',
  positionals: [],
  options: {},
  async run({ io }) {
    return (await import('../../stack/up')).runServe(io);
  },
});

export const upGroup = defineGroup({ name: 'up', section: 'stack', summary: 'the local stack', commands: [up] });
export const workerGroup = defineGroup({ name: 'worker', section: 'stack', summary: 'a worker', commands: [worker] });
export const serveGroup = defineGroup({ name: 'serve', section: 'stack', summary: 'the HTTP API', commands: [serve] });
