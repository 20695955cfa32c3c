/**
 * Serving the dashboard's files (web/public: plain HTML, CSS and JavaScript that read the API; no build
 * step). Only files in that folder are served, with their content type.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

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

export function dashboardFiles(dir = publicDir()): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
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
