import { rmSync } from 'node:fs';
import { dirname } from 'node:path';

export default async function globalTeardown(): Promise<void> {
  const pg = globalThis.__trienkhaiPg;
  await pg?.stop();
  const dir = process.env.TRIENKHAI_TEST_PG_DIR;
  if (dir) rmSync(dirname(dir), { recursive: true, force: true });
}
