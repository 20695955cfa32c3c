#!/usr/bin/env node
// The `trienkhai` command: runs the compiled CLI (built by `npm install` / `npm run build` into dist/).
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'client', 'cli.js');
if (!fs.existsSync(cli)) {
  console.error('trienkhai is not built yet: run `npm run build` (npm install does it) in ' + path.dirname(__dirname));
  process.exit(1);
}
require(cli).run(process.argv.slice(2));
