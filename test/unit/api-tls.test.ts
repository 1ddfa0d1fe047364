// TLS mode of the agent API: https + wss with a self-signed certificate made by the openssl CLI
// for this test (on loopback: the point is the TLS path, not the address).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { connectAgent } from '../../main/api/client';
import { ApiRequestError } from '../../preload/contract/request-tracker';
import { checkBind, ExposureError } from '../../main/api/exposure';
import { checkTlsMaterial, loadTlsFiles, TlsConfigError, type TlsMaterial } from '../../main/api/tls';
import { RawPeer, startTestServer, TOKEN, type TestServer } from './api-fixtures';

const run = promisify(execFile);

let directory: string;
let material: TlsMaterial;
let otherKey: string;
let context: TestServer;

async function makeCertificate(name: string): Promise<{ cert: string; key: string; certFile: string; keyFile: string }> {
  const certFile = join(directory, `${name}.crt`);
  const keyFile = join(directory, `${name}.key`);
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8'), certFile, keyFile };
}

function httpsGet(url: string, ca: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ipfo-api-tls-'));
  const made = await makeCertificate('agent');
  material = { cert: made.cert, key: made.key };
  otherKey = (await makeCertificate('other')).key;
  context = await startTestServer({ tls: material });
});

after(async () => {
  await context?.server.close();
  await rm(directory, { recursive: true, force: true });
});

describe('TLS mode', () => {
  test('the server speaks wss and https', () => {
    assert.match(context.server.url, /^wss:\/\/127\.0\.0\.1:\d+\/api$/);
    assert.match(context.server.origin, /^https:\/\//);
  });

  test('a client that trusts the certificate connects, authenticates and is served', async () => {
    const client = await connectAgent({ url: context.server.url, credential: TOKEN, tls: { ca: material.cert }, client: 'console' });
    try {
      const { snapshot } = await client.request('snapshot', {});
      assert.deepEqual(snapshot, context.handler.state);
      await client.request('resource.online', { name: 'web' });
      assert.equal(context.handler.calls.at(-1)?.actor, 'root@127.0.0.1');
    } finally {
      await client.close();
    }
  });

  test('a client that does not trust the certificate is refused by TLS before any token is sent', async () => {
    await assert.rejects(connectAgent({ url: context.server.url, credential: TOKEN }), (error: unknown) => {
      assert.ok(error instanceof ApiRequestError);
      assert.equal(error.code, 'unavailable');
      assert.match(error.message, /self[- ]signed|certificate/i);
      return true;
    });
  });

  test('/healthz over https', async () => {
    const response = await httpsGet(`${context.server.origin}/healthz`, material.cert);
    assert.deepEqual(response, { status: 200, body: 'ok\n' });
  });

  test('plain ws to the TLS port gets no WebSocket', async () => {
    await assert.rejects(RawPeer.open(context.server.url.replace('wss:', 'ws:')));
  });

  test('the Origin must be the https origin', async () => {
    const peer = await RawPeer.open(context.server.url, { ca: material.cert, headers: { Origin: context.server.origin } });
    peer.close();
    await assert.rejects(RawPeer.open(context.server.url, { ca: material.cert, headers: { Origin: context.server.origin.replace('https:', 'http:') } }));
  });
});

describe('TLS configuration checks', () => {
  test('a non-loopback bind is allowed with TLS and refused without', () => {
    assert.doesNotThrow(() => checkBind('0.0.0.0', true));
    assert.doesNotThrow(() => checkBind('10.213.0.1', true));
    assert.throws(() => checkBind('10.213.0.1', false), ExposureError);
    assert.doesNotThrow(() => checkBind('127.0.0.1', false));
    assert.doesNotThrow(() => checkBind('::1', false));
  });

  test('a key that does not belong to the certificate is refused', () => {
    assert.throws(() => checkTlsMaterial({ cert: material.cert, key: otherKey }), /does not belong/);
  });

  test('garbage instead of a certificate or key is refused with a clear message', () => {
    assert.throws(() => checkTlsMaterial({ cert: 'nope', key: material.key }), TlsConfigError);
    assert.throws(() => checkTlsMaterial({ cert: material.cert, key: 'nope' }), /not a PEM private key/);
  });

  test('an expired certificate is refused', () => {
    assert.throws(() => checkTlsMaterial(material, new Date(Date.now() + 10 * 86_400_000)), /expired/);
  });

  test('the server refuses to start with a mismatched key', async () => {
    await assert.rejects(startTestServer({ tls: { cert: material.cert, key: otherKey } }), TlsConfigError);
  });

  test('loadTlsFiles reads and checks the files, and names a missing one', async () => {
    const loaded = await loadTlsFiles(join(directory, 'agent.crt'), join(directory, 'agent.key'));
    assert.deepEqual(loaded, material);
    await assert.rejects(loadTlsFiles(join(directory, 'missing.crt'), join(directory, 'agent.key')), /missing\.crt: ENOENT/);
    await writeFile(join(directory, 'bad.crt'), 'not a certificate');
    await assert.rejects(loadTlsFiles(join(directory, 'bad.crt'), join(directory, 'agent.key')), TlsConfigError);
  });
});
