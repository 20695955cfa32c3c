'use strict';
/**
 * Runs a TypeScript entry in a plain Node child process: `node test/helpers/run-ts.js ENTRY.ts`.
 * Every `.ts` module it requires is compiled on load by @swc/core (installed already, for
 * @swc/jest), with the options jest.config.js gives @swc/jest. No `dist/` needed, so a child process
 * runs the sources the test sees, also from a fresh checkout. Only for tests.
 */
const fs = require('node:fs');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const options = (filename) => ({
  filename,
  jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
});

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), options(filename));
  module._compile(code, filename);
};

const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: node test/helpers/run-ts.js ENTRY.ts [args…]\n');
  process.exit(2);
}
process.argv.splice(2, 1);
require(path.resolve(entry));
