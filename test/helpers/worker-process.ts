/**
 * Workers in child processes that a test can SIGKILL and start again (test/helpers/worker-main.ts,
 * run through run-ts.js: no `dist/` needed). One worker at a time; `afterAll` → `stopAll()` kills
 * whatever is left, also after a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const RUN_TS = join(__dirname, 'run-ts.js');
const MAIN = join(__dirname, 'worker-main.ts');

export interface WorkerEnv {
  TEMPORAL_ADDRESS: string;
  DATABASE_URL: string;
  TRIENKHAI_WORKFLOW_BUNDLE: string;
}

interface Running {
  child: ChildProcess;
  n: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  killedOnPurpose: boolean;
  ready: boolean;
  output: string[];
}

export class WorkerProcesses {
  private current: Running | undefined;
  private readonly all = new Set<ChildProcess>();
  /** Workers started so far. */
  started = 0;
  /** Workers that exited without being killed or stopped by the test: each with its last output. */
  readonly unexpectedExits: string[] = [];

  /**
   * `restartOnExit`: a worker that dies by itself is recorded in `unexpectedExits` and replaced, as a
   * process manager would (so the rollout goes on and the test can report the exit instead of hanging).
   */
  constructor(
    private readonly env: WorkerEnv,
    private readonly opts: { restartOnExit?: boolean } = {},
  ) {}

  private stopping = false;

  /** Start a worker and wait until it polls (bounded: a worker that cannot start is an error naming its output). */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.current) throw new Error('a worker is already running');
    const n = ++this.started;
    const child = spawn(process.execPath, [RUN_TS, MAIN], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.all.add(child);
    const output: string[] = [];
    const keep = (chunk: Buffer): void => {
      output.push(chunk.toString('utf8'));
      if (output.length > 100) output.shift();
    };
    child.stderr!.on('data', keep);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => {
        this.all.delete(child);
        resolve({ code, signal });
      }),
    );
    const run: Running = { child, n, exited, killedOnPurpose: false, ready: false, output };
    this.current = run;
    void exited.then(({ code, signal }) => {
      if (!run.killedOnPurpose) this.unexpectedExits.push(`worker #${n} exited by itself (${signal ?? `code ${code}`}):\n${output.join('').trim().split('\n').slice(-20).join('\n')}`);
      if (this.current === run) this.current = undefined;
      if (!run.killedOnPurpose && run.ready && this.opts.restartOnExit && !this.stopping && !this.current) {
        this.start().catch((e: unknown) => this.unexpectedExits.push(`could not replace worker #${n}: ${e instanceof Error ? e.message : String(e)}`));
      }
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          seen += chunk.toString('utf8');
          keep(chunk);
          if (!run.ready && seen.includes('worker ready')) {
            run.ready = true;
            resolve();
          }
        });
        void exited.then(({ code, signal }) => reject(new Error(`worker #${n} exited (${signal ?? `code ${code}`}) before it was ready:\n${output.join('').trim()}`)));
        timer = setTimeout(() => reject(new Error(`worker #${n} not ready within ${timeoutMs / 1000} s:\n${output.join('').trim()}`)), timeoutMs);
      });
    } catch (e) {
      await this.kill();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL the running worker (no shutdown, no goodbye: what a crash or an OOM kill does) and wait for it to be gone. */
  async kill(): Promise<void> {
    const run = this.current;
    if (!run) return;
    run.killedOnPurpose = true;
    run.child.kill('SIGKILL');
    await run.exited;
    if (this.current === run) this.current = undefined;
  }

  /** Kill the running worker and start a new one. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  /** Kill every worker this object started that is still alive. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    if (this.current) this.current.killedOnPurpose = true;
    const left = [...this.all];
    await Promise.all(left.map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : (c.once('exit', () => resolve()), c.kill('SIGKILL'))))));
    this.current = undefined;
  }
}
