/**
 * Serving the dashboard's files (web/public: plain HTML, CSS and JavaScript that read the API; no build
 * step). Only files in that folder are served, with their content type.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { CODE_PATTERNS } from '../domain/codes';
import { wordingTable } from '../domain/wording';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.ico': 'image/x-icon',
};

/** web/public, from the sources (jest) or from dist/web (the compiled CLI). */
export function publicDir(): string {
  for (const dir of [join(__dirname, 'public'), join(__dirname, '..', '..', 'web', 'public')]) if (existsSync(join(dir, 'index.html'))) return dir;
  throw new Error(`the dashboard's files are missing (looked for web/public/index.html from ${__dirname})`);
}

/**
 * `/wording.js`: the product's one wording table (domain/wording.ts) and its code grammar
 * (domain/codes.ts) as an ES module, so the browser shows event types, step kinds and levels in the
 * same words as the CLI and the emails, and its forms check codes as the server does: never a copy.
 */
export const WORDING_MODULE = `// Generated from domain/wording.ts and domain/codes.ts by the server; do not copy.\nexport default ${JSON.stringify({ ...wordingTable(), codes: CODE_PATTERNS })};\n`;

export function dashboardFiles(dir = publicDir()): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return false; // malformed percent-encoding: not a file of ours (the server answers 404)
    }
    if (path === '/wording.js') {
      res.writeHead(200, { 'content-type': TYPES['.js']!, 'content-length': Buffer.byteLength(WORDING_MODULE), 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : WORDING_MODULE);
      return true;
    }
    // Every page of the dashboard is index.html (it routes on the #hash); files are served as they are.
    const rel = path === '/' || !extname(path) ? 'index.html' : path.slice(1);
    const file = normalize(join(dir, rel));
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) return false;
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
