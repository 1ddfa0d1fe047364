// app:// for the console window: the renderer from renderer/dist and nothing else (app-pages.ts
// decides what a URL names). Every response carries the window's CSP, so the policy holds even
// before the session-wide header hook sees it.
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { Protocol } from 'electron';
import { APP_SCHEME, resolveAppRequest, WINDOW_CSP } from '../console/app-pages';

const ROOT = resolve(__dirname, '..', '..', '..');
export const RENDERER_DIR = join(ROOT, 'renderer', 'dist');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': WINDOW_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
};

function respond(status: number, body: string | Buffer, type = 'text/plain; charset=utf-8'): Response {
  // A copy into a plain ArrayBuffer: what Response's body type accepts.
  const payload = typeof body === 'string' ? body : new Uint8Array(body);
  return new Response(payload, { status, headers: { ...SECURITY_HEADERS, 'Content-Type': type } });
}

/** A file under `root` (symlinks resolved, still under it), or null. */
async function fileUnder(root: string, segments: string[]): Promise<string | null> {
  try {
    const realRoot = await realpath(root);
    const file = await realpath(join(realRoot, ...segments));
    if (!file.startsWith(realRoot + sep)) return null;
    return (await stat(file)).isFile() ? file : null;
  } catch {
    return null;
  }
}

async function serve(request: Request): Promise<Response> {
  if (request.method !== 'GET') return respond(405, 'method not allowed\n');
  const target = resolveAppRequest(request.url);
  const file = target.kind === 'console' ? await fileUnder(RENDERER_DIR, target.segments) : null;
  if (file === null) return respond(404, 'not found\n');
  try {
    return respond(200, await readFile(file), CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream');
  } catch {
    return respond(404, 'not found\n');
  }
}

export function registerAppProtocol(protocol: Protocol): void {
  protocol.handle(APP_SCHEME, serve);
}
