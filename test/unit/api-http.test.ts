// The HTTP side of the agent API server: /healthz, the web console's static files with their
// security headers, and every path-traversal trick refused. Requests are written byte for byte on
// a raw TCP socket, because HTTP clients (fetch, http.request) normalise "../" or refuse odd
// characters before sending, which would hide exactly what these tests are about.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { acceptsGzip, staticSegments } from '../../main/api/static';
import { startTestServer, type TestServer } from './api-fixtures';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body's bytes (a gzipped one is not text). */
  bytes: Buffer;
}

/** Sends one HTTP/1.1 request with exactly this target and these headers; reads the whole response. */
function rawRequest(port: number, target: string, options: { method?: string; host?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const text = all.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status, headers, body: text.slice(split + 4), bytes: all.subarray(split + 4) });
    });
    const extra = Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    socket.write(`${options.method ?? 'GET'} ${target} HTTP/1.1\r\nHost: ${options.host ?? `127.0.0.1:${port}`}\r\n${extra}Connection: close\r\n\r\n`);
  });
}

let root: string;
let context: TestServer;
const SECRET = 'SECRET-OUTSIDE-THE-ROOT';

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ipfo-api-http-'));
  const www = join(root, 'www');
  await mkdir(join(www, 'assets'), { recursive: true });
  await mkdir(join(www, 'empty'), { recursive: true });
  await writeFile(join(www, 'index.html'), '<!doctype html><title>console</title>');
  await writeFile(join(www, 'assets', 'app.js'), 'console.log("app")');
  await writeFile(join(www, 'assets', 'index.html'), 'assets index');
  await writeFile(join(www, 'assets', 'data.bin'), Buffer.from([1, 2, 3]));
  await writeFile(join(www, '.env'), SECRET);
  await writeFile(join(root, 'secret.txt'), SECRET);
  await symlink(join(root, 'secret.txt'), join(www, 'link.txt'));
  await symlink(root, join(www, 'up'));
  context = await startTestServer({ staticDir: www });
});

after(async () => {
  await context.server.close();
  await rm(root, { recursive: true, force: true });
});

describe('/healthz', () => {
  test('answers 200 without auth and carries no data', async () => {
    const response = await rawRequest(context.server.port, '/healthz');
    assert.equal(response.status, 200);
    assert.equal(response.body, 'ok\n');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
  });
});

describe('static files', () => {
  test('/ serves index.html with the security headers', async () => {
    const { port } = context.server;
    const response = await rawRequest(port, '/');
    assert.equal(response.status, 200);
    assert.equal(response.body, '<!doctype html><title>console</title>');
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
    const csp = response.headers['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${port}(;|$)`));
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.doesNotMatch(csp, /connect-src[^;]* ws:(;| )/, 'no bare ws: scheme source');
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['x-frame-options'], 'DENY');
    assert.equal(response.headers['referrer-policy'], 'no-referrer');
  });

  test('the socket origin in the CSP follows the accepted host name', async () => {
    const { port } = context.server;
    const response = await rawRequest(port, '/', { host: `localhost:${port}` });
    assert.match(response.headers['content-security-policy'] ?? '', new RegExp(`connect-src 'self' ws://localhost:${port}(;|$)`));
  });

  test('files get their content type; unknown types are octet-stream', async () => {
    const js = await rawRequest(context.server.port, '/assets/app.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.body, 'console.log("app")');
    const bin = await rawRequest(context.server.port, '/assets/data.bin?v=1');
    assert.equal(bin.headers['content-type'], 'application/octet-stream');
  });

  test('text files go gzipped to a client that accepts it, and change with the file', async () => {
    const { port } = context.server;
    const script = 'console.log("app");\n'.repeat(200);
    await writeFile(join(root, 'www', 'assets', 'big.js'), script);
    const zipped = await rawRequest(port, '/assets/big.js', { headers: { 'Accept-Encoding': 'br, gzip;q=0.8' } });
    assert.equal(zipped.status, 200);
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(zipped.headers.vary, 'Accept-Encoding');
    assert.equal(zipped.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(Number(zipped.headers['content-length']), zipped.bytes.length);
    assert.ok(zipped.bytes.length < script.length / 4, `${zipped.bytes.length} bytes gzipped of ${script.length}`);
    assert.equal(gunzipSync(zipped.bytes).toString(), script);
    const head = await rawRequest(port, '/assets/big.js', { method: 'HEAD', headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(head.headers['content-length'], zipped.headers['content-length']);
    assert.equal(head.body, '');
    // A new build in place: the new file, not the copy compressed before.
    const rebuilt = 'console.log("rebuilt");\n'.repeat(300);
    await writeFile(join(root, 'www', 'assets', 'big.js'), rebuilt);
    assert.equal(gunzipSync((await rawRequest(port, '/assets/big.js', { headers: { 'Accept-Encoding': 'gzip' } })).bytes).toString(), rebuilt);
  });

  test('no gzip unasked, refused with q=0, or for a file that is not text', async () => {
    const { port } = context.server;
    const unzipped: Array<Record<string, string>> = [{}, { 'Accept-Encoding': 'gzip;q=0, br' }, { 'Accept-Encoding': 'identity' }];
    for (const headers of unzipped) {
      const plain = await rawRequest(port, '/assets/app.js', { headers });
      assert.equal(plain.headers['content-encoding'], undefined, JSON.stringify(headers));
      assert.equal(plain.body, 'console.log("app")');
    }
    const bin = await rawRequest(port, '/assets/data.bin', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(bin.headers['content-encoding'], undefined);
    assert.deepEqual([...bin.bytes], [1, 2, 3]);
  });

  test('Accept-Encoding is read as RFC 9110 says', () => {
    const cases: Array<[string | string[] | undefined, boolean]> = [
      [undefined, false],
      ['', false],
      ['gzip', true],
      ['GZIP', true],
      ['deflate, gzip;q=1.0, *;q=0.5', true],
      ['gzip;q=0', false],
      ['gzip; q=0.000', false],
      ['br, *', true],
      ['*;q=0', false],
      ['*;q=0, gzip', true],
      ['gzip;q=0, *', false],
      ['x-gzip', true],
      ['gzipped', false],
      [['br', 'gzip'], true],
    ];
    for (const [header, expected] of cases) assert.equal(acceptsGzip(header), expected, JSON.stringify(header));
  });

  test('HEAD has the headers and no body', async () => {
    const response = await rawRequest(context.server.port, '/assets/app.js', { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-length'], String('console.log("app")'.length));
    assert.equal(response.body, '');
  });

  test('a directory serves its index.html or nothing: no listing', async () => {
    assert.equal((await rawRequest(context.server.port, '/assets/')).body, 'assets index');
    const empty = await rawRequest(context.server.port, '/empty/');
    assert.equal(empty.status, 404);
    assert.equal(empty.body, 'not found\n');
  });

  test('other methods are refused', async () => {
    const response = await rawRequest(context.server.port, '/', { method: 'POST', headers: { 'Content-Length': '0' } });
    assert.equal(response.status, 405);
    assert.equal(response.headers.allow, 'GET, HEAD');
  });

  test('/api without an upgrade says it is a WebSocket', async () => {
    assert.equal((await rawRequest(context.server.port, '/api')).status, 426);
  });

  test('a foreign Host header (DNS rebinding) gets 421 and no file', async () => {
    const response = await rawRequest(context.server.port, '/', { host: `evil.example:${context.server.port}` });
    assert.equal(response.status, 421);
    assert.doesNotMatch(response.body, /console/);
  });

  test('a Host header with another port gets 421', async () => {
    assert.equal((await rawRequest(context.server.port, '/', { host: `127.0.0.1:${context.server.port + 1}` })).status, 421);
  });
});

describe('path traversal', () => {
  const attempts = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/.%2e/secret.txt',
    '/..%2fsecret.txt',
    '/%2e%2e%2fsecret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/..\\secret.txt',
    '/%5c..%5csecret.txt',
    '/..%5csecret.txt',
    '//secret.txt',
    `/${'%2e%2e/'.repeat(8)}etc/passwd`,
    '/%2fetc%2fpasswd',
    '/etc/passwd',
    `/${encodeURIComponent(join(tmpdir(), 'x'))}`,
    '/index.html%00.js',
    '/%c0%ae%c0%ae/secret.txt',
    '/.env',
    '/assets/.%65nv',
    '/link.txt',
    '/up/secret.txt',
    '/%',
    'http://127.0.0.1/../secret.txt',
    '*',
  ];

  for (const target of attempts) {
    test(`refuses ${target}`, async () => {
      const response = await rawRequest(context.server.port, target);
      assert.ok(response.status === 404 || response.status === 400, `${target}: status ${response.status}`);
      assert.ok(!response.body.includes(SECRET), `${target}: the secret leaked`);
      assert.ok(!response.body.includes('root:'), `${target}: /etc/passwd leaked`);
    });
  }

  test('the path check refuses before any file system access', () => {
    assert.deepEqual(staticSegments('/assets/app.js?x=1'), { segments: ['assets', 'app.js'] });
    assert.deepEqual(staticSegments('/'), { segments: [] });
    for (const target of ['/../x', '/%2e%2e/x', '/a/..', '/a//b', '/a\\b', '/%00', 'x', '/%E0%A4%A']) {
      assert.ok('refused' in staticSegments(target), target);
    }
  });
});

describe('without a static directory', () => {
  test('only /healthz and /api exist', async () => {
    const bare = await startTestServer();
    try {
      assert.equal((await rawRequest(bare.server.port, '/')).status, 404);
      assert.equal((await rawRequest(bare.server.port, '/healthz')).status, 200);
    } finally {
      await bare.server.close();
    }
  });
});
