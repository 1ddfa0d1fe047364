// Issue 12's reproductions against the API login (each failed on protocol 1):
// - a port squatter: `ipfo status` against a program that took the API port sent it the real token
//   as its first message. Now the squatter receives a nonce and nothing it can log in with anywhere,
//   whether it answers by itself or relays to the real agent;
// - 64 sockets held open without logging in locked every client out (HTTP 503). Now they exhaust
//   their own client's small budget, and a real client still logs in;
// - 6,537 failed logins in 3 s wrote 6,537 log lines. Now they are logged in aggregate, and a client
//   that keeps failing is answered later and later.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { connectAgent } from '../../main/api/client';
import { LoginGuard } from '../../main/api/login-guard';
import { parseCommand } from '../../main/cli/args';
import type { ClusterCommand } from '../../main/cli/cluster-args';
import { clusterCommand, localAgentSocket } from '../../main/cli/commands/cluster';
import { EXIT } from '../../main/cli/exit-codes';
import { CLOSE_CODES } from '../../preload/contract/protocol';
import { ApiRequestError } from '../../preload/contract/request-tracker';
import { clientProofOf, RawPeer, serverProofOf, startTestServer, TOKEN, withServer } from './api-fixtures';

let directory = '';
let tokenFile = '';

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ipfo-login-test-'));
  tokenFile = join(directory, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
});

after(async () => {
  await rm(directory, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A program that took the API port: records every text message it receives; answers hello either by
 * itself (a random nonce and a made-up proof) or, with `relayTo`, by relaying the whole conversation
 * to the real agent (what a squatter who can reach the agent would do).
 */
async function startSquatter(relayTo: string | null): Promise<{ port: number; received: string[]; relayed: string[]; close: () => Promise<void> }> {
  const received: string[] = [];
  const relayed: string[] = [];
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  server.on('connection', (socket) => {
    let upstream: WebSocket | null = null;
    const queue: string[] = [];
    if (relayTo !== null) {
      upstream = new WebSocket(relayTo);
      upstream.on('open', () => {
        for (const text of queue.splice(0)) upstream?.send(text);
      });
      upstream.on('message', (data) => {
        relayed.push((data as Buffer).toString('utf8'));
        socket.send((data as Buffer).toString('utf8'));
      });
      upstream.on('error', () => undefined);
    }
    socket.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      received.push(text);
      if (upstream !== null) {
        if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
        else queue.push(text);
        return;
      }
      const message = JSON.parse(text) as { id: string; type: string };
      if (message.type === 'hello') socket.send(JSON.stringify({ id: message.id, ok: true, result: { protocol: 3, serverNonce: 'b'.repeat(64), serverProof: 'c'.repeat(64) } }));
      else socket.send(JSON.stringify({ id: message.id, ok: true, result: { protocol: 3, actor: 'x@127.0.0.1', user: null, role: 'admin' } }));
    });
    socket.on('close', () => upstream?.terminate());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    received,
    relayed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

/** Nothing in what a squatter received lets it log in: no token, no auth message (no client proof), only a hello with a nonce. */
function assertNothingUsable(received: readonly string[]): void {
  assert.ok(received.length >= 1, 'the client said hello');
  for (const text of received) {
    assert.ok(!text.includes(TOKEN), 'the token crossed the wire');
    const message = JSON.parse(text) as { type: string };
    assert.equal(message.type, 'hello', `the client sent ${message.type} to a squatter`);
  }
}

describe('a squatter on the API port (issue 12 §2)', () => {
  test('`ipfo status` against a squatter: exit 4, "could not prove", and the squatter got neither the token nor a proof', async () => {
    const squatter = await startSquatter(null);
    try {
      const parsed = parseCommand(['status', '--agent', `127.0.0.1:${squatter.port}`, '--token-file', tokenFile]) as ClusterCommand;
      const err: string[] = [];
      const code = await clusterCommand(parsed, { stdout: () => undefined, stderr: (line) => err.push(line), now: () => Date.now(), untilStopped: () => ({ stopped: new Promise(() => undefined), dispose: () => undefined }) });
      assert.equal(code, EXIT.environment);
      assert.match(err[0] ?? '', /could not prove it holds the token in .*nothing secret was sent/);
      assertNothingUsable(squatter.received);
    } finally {
      await squatter.close();
    }
  });

  test('a squatter relaying to the real agent gets no session: the client refuses the relayed proof and sends none of its own', async () => {
    await withServer(async ({ server, handler }) => {
      const squatter = await startSquatter(server.url);
      try {
        await assert.rejects(
          connectAgent({ host: '127.0.0.1', port: squatter.port, credential: TOKEN, client: 'cli:alice' }),
          (error: unknown) => error instanceof ApiRequestError && error.code === 'auth-failed' && /could not prove/.test(error.message),
        );
        assertNothingUsable(squatter.received);
        assert.equal(squatter.relayed.length, 1, 'the agent answered the relayed hello');
        // The agent's reply was a proof for its own channel, useless on the squatter's.
        assert.equal(server.sessionCount(), 0);
        assert.equal(handler.calls.length, 0);
      } finally {
        await squatter.close();
      }
    });
  });

  test('the real agent proves itself and the client logs in (the same client code)', async () => {
    await withServer(async ({ server }) => {
      const client = await connectAgent({ host: '127.0.0.1', port: server.port, credential: TOKEN, client: 'cli:alice' });
      assert.equal(client.actor, 'root@127.0.0.1', 'the node token is root, whatever label the client sends');
      await client.close();
    });
  });
});

describe('sockets that never log in (issue 12 §4)', () => {
  test('64 sockets held open (each reopened as it closes) from one client do not lock out another: it logs in and is served', async () => {
    await withServer(async ({ server, logs }) => {
      let stop = false;
      let refused = 0;
      const held = new Set<WebSocket>();
      // The attacker: 64 sockets from 127.0.0.2, each reopened as soon as it closes.
      const open = (): void => {
        if (stop) return;
        const socket = new WebSocket(server.url, { localAddress: '127.0.0.2' });
        held.add(socket);
        socket.on('unexpected-response', (_request, response) => {
          if (response.statusCode === 503) refused += 1;
          socket.terminate();
        });
        socket.on('error', () => undefined);
        socket.on('close', () => {
          held.delete(socket);
          setTimeout(open, 5);
        });
      };
      for (let i = 0; i < 64; i += 1) open();
      await sleep(300);
      assert.ok(refused > 0, 'the attacker is held to its own budget');
      assert.ok(server.connectionCount() <= 8, `${server.connectionCount()} connections held by one client`);
      // The real client (127.0.0.1) logs in and is served while the attack goes on.
      const client = await connectAgent({ host: '127.0.0.1', port: server.port, credential: TOKEN, client: 'cli:alice', connectTimeoutMs: 2_000 });
      const snapshot = await client.request('snapshot', {});
      assert.ok(snapshot.snapshot.nodes.length > 0);
      assert.equal(server.sessionCount(), 1);
      await client.close();
      stop = true;
      for (const socket of held) socket.terminate();
      // The refusals are logged in aggregate, not one line each.
      assert.ok(logs.length <= 3, `${logs.length} log lines: ${logs.join(' | ')}`);
    });
  });

  test('a socket that does not log in is closed after the short login time and gives its slot back', async () => {
    await withServer(
      async ({ server }) => {
        const peers = await Promise.all(Array.from({ length: 3 }, () => RawPeer.open(server.url)));
        assert.equal(server.connectionCount(), 3);
        for (const peer of peers) assert.equal((await peer.closed).code, CLOSE_CODES.unauthorized);
        for (let i = 0; i < 50 && server.connectionCount() > 0; i += 1) await sleep(10);
        assert.equal(server.connectionCount(), 0);
        // The budget is free again.
        const again = await Promise.all(Array.from({ length: 3 }, () => RawPeer.open(server.url)));
        for (const peer of again) peer.close();
      },
      { limits: { authTimeoutMs: 150 }, login: { perClient: 3 } },
    );
  });

  test('the total budget of sockets not logged in holds across clients; sessions are not part of it', async () => {
    await withServer(
      async ({ server }) => {
        const session = await RawPeer.authenticated(server.url);
        const a = await RawPeer.open(server.url, { localAddress: '127.0.0.2' });
        const b = await RawPeer.open(server.url, { localAddress: '127.0.0.3' });
        await assert.rejects(RawPeer.open(server.url, { localAddress: '127.0.0.4' }), /503/);
        b.close();
        for (let i = 0; i < 50 && server.connectionCount() > 2; i += 1) await sleep(10);
        const c = await RawPeer.authenticated(server.url, undefined, { localAddress: '127.0.0.4' });
        assert.equal(server.sessionCount(), 2);
        for (const peer of [session, a, c]) peer.close();
      },
      { login: { total: 2 } },
    );
  });
});

describe('failed logins (issue 12 §4)', () => {
  test('hundreds of failed logins write a handful of log lines, and name the client', async () => {
    await withServer(
      async ({ server, logs }) => {
        for (let round = 0; round < 25; round += 1) {
          await Promise.all(
            Array.from({ length: 8 }, async () => {
              const peer = await RawPeer.open(server.url);
              await peer.hello(server.url);
              const reply = await peer.request({ id: 'a', type: 'auth', proof: '0'.repeat(64) });
              assert.equal((reply.error as { code: string }).code, 'auth-failed');
              await peer.closed;
            }),
          );
        }
        assert.ok(logs.length >= 1 && logs.length <= 2, `${logs.length} log lines for 200 failures`);
        assert.match(logs[0] ?? '', /refused a login from 127\.0\.0\.1: wrong proof/);
        await server.close();
        // Closing writes the rest as one line with the count.
        assert.match(logs.at(-1) ?? '', /199 more refused logins .*127\.0\.0\.1 ×199/);
      },
      { login: { freeFailures: 1_000 } },
    );
  });

  test('a client that keeps failing is answered later and later; a right proof from the same address is answered at once', async () => {
    await withServer(
      async ({ server }) => {
        const timings: number[] = [];
        for (let attempt = 0; attempt < 4; attempt += 1) {
          const peer = await RawPeer.open(server.url);
          await peer.hello(server.url);
          const started = Date.now();
          const reply = await peer.request({ id: 'a', type: 'auth', proof: '0'.repeat(64) });
          timings.push(Date.now() - started);
          assert.equal((reply.error as { code: string }).code, 'auth-failed');
        }
        assert.ok((timings[0] ?? 0) < 100 && (timings[1] ?? 0) < 100, `the free failures were delayed: ${timings.join(', ')}`);
        assert.ok((timings[2] ?? 0) >= 180, `third failure answered after ${timings[2]} ms`);
        assert.ok((timings[3] ?? 0) >= 380, `fourth failure answered after ${timings[3]} ms`);
        const started = Date.now();
        const peer = await RawPeer.authenticated(server.url);
        assert.ok(Date.now() - started < 150, 'a right proof is not held back');
        peer.close();
      },
      { login: { freeFailures: 2, baseDelayMs: 200, maxDelayMs: 1_000 } },
    );
  });

  test('a refusal held back keeps its slot even if the client leaves: one client cannot guess faster than its budget allows', async () => {
    await withServer(
      async ({ server }) => {
        const peer = await RawPeer.open(server.url);
        const transcript = await peer.hello(server.url);
        peer.send({ id: 'a', type: 'auth', proof: await serverProofOf(transcript) });
        await sleep(50);
        peer.close();
        await sleep(50);
        await assert.rejects(RawPeer.open(server.url), /503/);
        await sleep(400);
        const next = await RawPeer.open(server.url);
        next.close();
      },
      { login: { perClient: 1, freeFailures: 0, baseDelayMs: 300 } },
    );
  });

  test('LoginGuard: bounded tables and lines under a flood from many clients', () => {
    const lines: string[] = [];
    const guard = new LoginGuard({ perClient: 2, total: 3, freeFailures: 1, windowMs: 60_000, baseDelayMs: 100, maxDelayMs: 400, logIntervalMs: 10_000 }, (line) => lines.push(line));
    assert.equal(guard.admit('a'), true);
    assert.equal(guard.admit('a'), true);
    assert.equal(guard.admit('a'), false);
    assert.equal(guard.admit('b'), true);
    assert.equal(guard.admit('c'), false, 'the total');
    guard.release('a');
    assert.equal(guard.admit('c'), true);
    assert.deepEqual([1, 2, 3, 4, 5].map(() => guard.failed('x', 'wrong proof')), [0, 100, 200, 400, 400]);
    for (let i = 0; i < 10_000; i += 1) guard.failed(`10.0.${i >> 8}.${i & 255}`, 'wrong proof');
    guard.close();
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? '', /^api: 10004 more refused logins in the last 10 s \(x ×4, .*, 4091\+ more clients\)$/);
  });
});

describe('the agent socket (a Unix socket, root-only directory)', () => {
  test('serves the API at mode 0600 in a 0700 directory; local clients log in over it while the loopback budget is spent', async () => {
    const socketDir = join(directory, 'run');
    const socketPath = join(socketDir, 'api.sock');
    await withServer(
      async ({ server }) => {
        assert.equal((await stat(socketDir)).mode & 0o777, 0o700);
        assert.equal((await stat(socketPath)).mode & 0o777, 0o600);
        const squatters = await Promise.all(Array.from({ length: 2 }, () => RawPeer.open(server.url)));
        await assert.rejects(RawPeer.open(server.url), /503/);
        const client = await connectAgent({ socketPath, credential: TOKEN, client: 'cli:root' });
        assert.equal(client.actor, 'root@unix');
        await client.request('snapshot', {});
        await client.close();
        for (const peer of squatters) peer.close();
      },
      { socketPath, login: { perClient: 2 } },
    );
    // Closed: a second server starts on the same path (a socket left behind would be found stale and removed).
    await withServer(() => Promise.resolve(), { socketPath });
  });

  test('a directory open to others, or a socket that answers, is refused', async () => {
    const open = join(directory, 'open');
    await rm(open, { recursive: true, force: true });
    await mkdir(open, { mode: 0o777 });
    await chmod(open, 0o777);
    await assert.rejects(startTestServer({ socketPath: join(open, 'api.sock') }), /open to other users/);
    const socketPath = join(directory, 'busy', 'api.sock');
    await withServer(async () => {
      await assert.rejects(startTestServer({ socketPath }), /is in use/);
    }, { socketPath });
  });

  test('the CLI without --agent uses the one agent socket it finds (none or several: host:port)', async () => {
    const dir = join(directory, 'sockets');
    assert.equal(await localAgentSocket(dir), null, 'no directory');
    await withServer(
      async () => {
        assert.equal(await localAgentSocket(dir), join(dir, 'n1.sock'));
        await withServer(async () => {
          assert.equal(await localAgentSocket(dir), null, 'two agents: no guess');
        }, { socketPath: join(dir, 'n2.sock') });
      },
      { socketPath: join(dir, 'n1.sock') },
    );
    assert.equal(await localAgentSocket(dir), null, 'closed: gone');
    // A socket a killed agent left behind (SIGKILL: nobody unlinks it) answers nobody: not taken for an agent.
    const stale = join(dir, 'n3.sock');
    await new Promise<void>((done) => {
      execFile(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`], () => done());
    });
    assert.equal((await stat(stale)).isSocket(), true);
    assert.equal(await localAgentSocket(dir), null, 'a stale socket');
  });

  test('a proof made for the socket does not log in on the TCP port, nor the reverse', async () => {
    const socketPath = join(directory, 'cross', 'api.sock');
    await withServer(
      async ({ server }) => {
        const peer = await RawPeer.open(server.url);
        const transcript = await peer.hello(server.url);
        const reply = await peer.request({ id: 'a', type: 'auth', proof: await clientProofOf({ ...transcript, channel: 'unix' }) });
        assert.equal((reply.error as { code: string }).code, 'auth-failed');
      },
      { socketPath },
    );
  });
});
