// The host's health check runner against real services on loopback and real programs: what passes, what
// fails and why, timeouts, and that an exec check's arguments never reach a shell.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultGateway, parseDefaultGateway, programIdentity, runNetworkCheck } from '../../main/host/health-checks';

describe('health checks run on this host', () => {
  let tcpPort = 0;
  let httpPort = 0;
  const tcp = createServer((socket) => socket.end());
  const http: Server = createHttpServer((request, response) => {
    response.statusCode = request.url === '/ready' ? 200 : request.url === '/moved' ? 302 : 503;
    response.end();
  });
  const dir = mkdtempSync(join(tmpdir(), 'ipfo-health-'));

  before(async () => {
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    tcpPort = (tcp.address() as AddressInfo).port;
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpPort = (http.address() as AddressInfo).port;
  });
  after(() => {
    tcp.close();
    http.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('tcp: accepted, refused', async () => {
    const up = await runNetworkCheck({ kind: 'tcp', host: '127.0.0.1', port: tcpPort }, 500);
    assert.equal(up.ok, true);
    assert.equal(up.reason, `tcp 127.0.0.1:${tcpPort}: accepted`);
    // A port nobody listens on: the one just used, once closed.
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const closed = (spare.address() as AddressInfo).port;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    assert.deepEqual(await runNetworkCheck({ kind: 'tcp', host: '127.0.0.1', port: closed }, 500), { ok: false, reason: `tcp 127.0.0.1:${closed}: connection refused` });
  });

  test('http: 2xx and 3xx pass, others fail, an exact status when asked', async () => {
    const url = (path: string): string => `http://127.0.0.1:${httpPort}${path}`;
    assert.equal((await runNetworkCheck({ kind: 'http', url: url('/ready') }, 500)).ok, true);
    assert.equal((await runNetworkCheck({ kind: 'http', url: url('/moved') }, 500)).ok, true);
    assert.deepEqual(await runNetworkCheck({ kind: 'http', url: url('/down') }, 500), { ok: false, reason: `GET ${url('/down')}: 503, expected 2xx or 3xx` });
    assert.equal((await runNetworkCheck({ kind: 'http', url: url('/down'), expectStatus: 503 }, 500)).ok, true);
    assert.equal((await runNetworkCheck({ kind: 'http', url: url('/ready'), expectStatus: 204 }, 500)).ok, false);
  });

  test('exec: exit 0 passes, another exit or the timeout fails, with the reason', async () => {
    assert.deepEqual(await runNetworkCheck({ kind: 'exec', argv: ['/bin/true'] }, 1000), { ok: true, reason: 'exec /bin/true: exit 0' });
    assert.deepEqual(await runNetworkCheck({ kind: 'exec', argv: ['/bin/false'] }, 1000), { ok: false, reason: 'exec /bin/false: exit 1' });
    const started = performance.now();
    assert.deepEqual(await runNetworkCheck({ kind: 'exec', argv: ['/bin/sleep', '5'] }, 200), { ok: false, reason: 'exec /bin/sleep: killed after 200 ms' });
    assert.ok(performance.now() - started < 2000);
    const missing = await runNetworkCheck({ kind: 'exec', argv: ['/nonexistent/program'] }, 500);
    assert.equal(missing.ok, false);
    assert.match(missing.reason, /^exec \/nonexistent\/program: .*ENOENT/);
  });

  test('exec: arguments are never parsed by a shell', async () => {
    const marker = join(dir, 'pwned');
    const run = await runNetworkCheck({ kind: 'exec', argv: ['/bin/echo', `x; touch ${marker}`, `$(touch ${marker})`, `\`touch ${marker}\``] }, 1000);
    assert.equal(run.ok, true);
    assert.equal(existsSync(marker), false);
  });

  test('exec: as root, the program runs as nobody', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('not root: programs run as the agent\'s own user');
    const nobody = programIdentity();
    assert.ok(nobody !== null && nobody.uid !== 0);
    assert.equal((await runNetworkCheck({ kind: 'exec', argv: ['/bin/sh', '-c', `test "$(id -u)" = ${nobody.uid}`] }, 2000)).ok, true);
  });

  test('a program\'s control characters never reach the reason', async () => {
    const run = await runNetworkCheck({ kind: 'exec', argv: ['/bin/sh', '-c', 'printf "\\033[2Jbad\\n" >&2; exit 3'] }, 2000);
    assert.equal(run.ok, false);
    assert.equal(run.reason, 'exec /bin/sh: exit 3 ( [2Jbad)');
  });

  test('the default gateway in a recorded routing table', () => {
    const table = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t0000D50A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'eth1\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
      'eth0\t00000000\t0100D50A\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    ].join('\n');
    assert.equal(parseDefaultGateway(table), '192.168.1.1');
    assert.equal(parseDefaultGateway(table, 'eth0'), '10.213.0.1');
    assert.equal(parseDefaultGateway(table, 'eth9'), null);
    assert.equal(parseDefaultGateway('Iface\nbad line\neth0\t00000000\tZZZZZZZZ\t0003\t0\t0\t0\t00000000'), null);
  });

  test('the default gateway is read from the routing table, or null', () => {
    const gateway = defaultGateway();
    assert.ok(gateway === null || /^\d+\.\d+\.\d+\.\d+$/.test(gateway));
    assert.equal(defaultGateway('no-such-interface0'), null);
  });
});
