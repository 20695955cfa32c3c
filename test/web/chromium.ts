/**
 * The browser the dashboard tests drive: Debian's Chromium, installed with apt-get when it is missing.
 * If it cannot be installed the tests fail with apt's own words; they are never skipped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  // Two suites at once on a fresh machine both install: the second waits for dpkg's lock instead of failing on it.
  const apt = (args: string[]) => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 900_000 });
  let r = apt(['install', '-y', '--no-install-recommends', 'chromium']);
  if (r.status !== 0) {
    // The package lists may be missing or stale on a fresh machine.
    const update = apt(['update']);
    if (update.status !== 0)
      throw new Error(`Chromium is needed for the dashboard tests; \`apt-get update\` failed (exit ${update.status ?? update.error?.message}):\n${update.stderr || update.stdout}`);
    r = apt(['install', '-y', '--no-install-recommends', 'chromium']);
  }
  if (r.status !== 0 || !existsSync(CHROMIUM)) {
    throw new Error(`Chromium is needed for the dashboard tests and \`apt-get install -y chromium\` failed (exit ${r.status ?? r.error?.message}):\n${r.stderr || r.stdout}`);
  }
  return CHROMIUM;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: ensureChromium(), args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}
