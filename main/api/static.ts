// Static files of the web console (the built renderer) and the security headers of every HTTP
// response of the API server.
//
// The path is checked on the RAW request target, before any normalisation: "/../x", "/%2e%2e/x",
// "/..%2fx", backslashes, NUL bytes and dot-files are refused outright instead of being "resolved"
// into the root (a resolver that cleans up "../" is one bug away from serving /etc/shadow). After
// that, the real path (symlinks followed) must still lie inside the real root. No directory
// listing: a directory serves its index.html or nothing.
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

/**
 * Text files sent gzipped to a client that accepts it: the console's script is a third of its size
 * then, and its download is on the way to the first screen. Static files only (no secret in them to
 * leak through compression); the compressed copy is kept while the file's size and time stay.
 */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.txt', '.svg']);
/** Larger files are streamed as they are. */
const MAX_COMPRESSED_FILE_BYTES = 8 * 1024 * 1024;
/** The compressed copies kept, all files together (a few hundred KB for the console). */
const MAX_COMPRESSED_CACHE_BYTES = 32 * 1024 * 1024;

interface Compressed {
  size: number;
  mtimeMs: number;
  body: Buffer;
}

const compressedFiles = new Map<string, Compressed>();

/** Whether an Accept-Encoding header takes gzip ("gzip", "*", not "gzip;q=0"). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  let wildcard = false;
  for (const item of text.split(',')) {
    const [name = '', ...params] = item.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((param) => param.startsWith('q='));
    const refused = q !== undefined && Number(q.slice(2)) === 0;
    if (name === 'gzip' || name === 'x-gzip') return !refused;
    if (name === '*') wildcard = !refused;
  }
  return wildcard;
}

async function compressedCopy(file: string, size: number, mtimeMs: number): Promise<Buffer> {
  const cached = compressedFiles.get(file);
  if (cached !== undefined && cached.size === size && cached.mtimeMs === mtimeMs) return cached.body;
  const body = await gzipAsync(await readFile(file));
  compressedFiles.delete(file);
  let total = body.length;
  for (const copy of compressedFiles.values()) total += copy.body.length;
  // Oldest first: Map keeps insertion order.
  for (const [name, copy] of compressedFiles) {
    if (total <= MAX_COMPRESSED_CACHE_BYTES) break;
    compressedFiles.delete(name);
    total -= copy.body.length;
  }
  compressedFiles.set(file, { size, mtimeMs, body });
  return body;
}

/**
 * The Content Security Policy of the web console: everything from this server only; the API
 * socket only at this very host (`'self'` alone does not cover ws: in every browser, a bare
 * `ws:` would allow any host). No inline script, no eval, no framing, no plugins.
 * The Electron shell can apply the same policy to its window (buildContentSecurityPolicy(null)).
 */
export function buildContentSecurityPolicy(socketOrigin: string | null): string {
  const connect = socketOrigin === null ? "'self'" : `'self' ${socketOrigin}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers on every response. `socketOrigin`: "ws://127.0.0.1:7790", or null when the Host was refused. */
export function securityHeaders(socketOrigin: string | null): Record<string, string> {
  return {
    'Content-Security-Policy': buildContentSecurityPolicy(socketOrigin),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=(), hid=()',
    'Cache-Control': 'no-cache',
  };
}

/** Why a request target cannot name a file under the root, or null with its segments when it can. */
export function staticSegments(target: string): { segments: string[] } | { refused: string } {
  const pathOnly = target.split(/[?#]/, 1)[0] ?? '';
  if (!pathOnly.startsWith('/')) return { refused: 'not an origin-form path' };
  if (pathOnly.startsWith('//')) return { refused: 'empty segment' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathOnly);
  } catch {
    return { refused: 'bad percent-encoding' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { refused: 'NUL or backslash' };
  const segments = decoded.split('/').slice(1);
  for (const [index, segment] of segments.entries()) {
    // Only the last segment may be empty (a trailing slash: "/docs/").
    if (segment === '' && index < segments.length - 1) return { refused: 'empty segment' };
    // ".", "..", and hidden files (".env", ".git") are never served.
    if (segment.startsWith('.')) return { refused: 'dot segment' };
  }
  return { segments: segments.filter((segment) => segment !== '') };
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function resolveFile(root: string, segments: string[]): Promise<string | null> {
  const realRoot = await realpath(root);
  let candidate: string;
  try {
    candidate = await realpath(join(realRoot, ...segments));
  } catch {
    return null;
  }
  if (!isInside(realRoot, candidate)) return null;
  const info = await stat(candidate);
  if (info.isFile()) return candidate;
  if (!info.isDirectory()) return null;
  try {
    const index = await realpath(join(candidate, 'index.html'));
    return isInside(realRoot, index) && (await stat(index)).isFile() ? index : null;
  } catch {
    return null;
  }
}

export function sendPlain(response: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...extra });
  response.end(text);
}

/** Serves GET/HEAD of a file under `root`; security headers are already set on `response`. */
export async function serveStatic(root: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendPlain(response, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    return;
  }
  const checked = staticSegments(request.url ?? '');
  if ('refused' in checked) {
    sendPlain(response, 404, 'not found\n');
    return;
  }
  let file: string | null;
  try {
    file = await resolveFile(root, checked.segments);
  } catch {
    file = null;
  }
  if (file === null) {
    sendPlain(response, 404, 'not found\n');
    return;
  }
  const info = await stat(file);
  const type = extname(file).toLowerCase();
  const contentType = CONTENT_TYPES[type] ?? 'application/octet-stream';
  if (COMPRESSIBLE.has(type) && info.size <= MAX_COMPRESSED_FILE_BYTES) {
    response.setHeader('Vary', 'Accept-Encoding');
    if (acceptsGzip(request.headers['accept-encoding'])) {
      const body = await compressedCopy(file, info.size, info.mtimeMs);
      response.writeHead(200, { 'Content-Type': contentType, 'Content-Encoding': 'gzip', 'Content-Length': body.length });
      response.end(request.method === 'HEAD' ? undefined : body);
      return;
    }
  }
  response.writeHead(200, { 'Content-Type': contentType, 'Content-Length': info.size });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}
