// The agent API server over real WebSockets on loopback, with a recording fake ApiHandler:
// authentication, rejection of every kind of malformed message (with no handler call), dispatch
// with the actor, the snapshot + change stream, and who may connect.
import assert from 'node:assert/strict';
import { parseServerMessage } from '../../preload/contract/parse';
import { describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { checkResult } from '../../preload/contract/parse';
import { CLOSE_CODES, MAX_CLIENT_MESSAGE_BYTES, PROTOCOL_VERSION, type ApiCommand } from '../../preload/contract/protocol';
import { ExposureError } from '../../main/api/exposure';
import { startAgentServer } from '../../main/api/server';
import { actionDone, clientProofOf, FakeApiHandler, NODE_N2, RawPeer, resourceView, serverProofOf, startTestServer, TOKEN, withServer } from './api-fixtures';

/** Resolves with the HTTP status of a refused upgrade, or 101 when the WebSocket opened. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.on('open', () => {
      socket.terminate();
      resolve(101);
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

describe('authentication', () => {
  test('a command before auth is answered with unauthenticated, the connection closes 4401, the handler is not called', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.open(server.url);
      peer.send({ id: '1', type: 'resource.remove', name: 'web' });
      const reply = await peer.next();
      assert.equal(reply.ok, false);
      assert.equal((reply.error as { code: string }).code, 'unauthenticated');
      assert.equal((await peer.closed).code, CLOSE_CODES.unauthorized);
      assert.equal(handler.calls.length, 0);
      assert.equal(handler.snapshotCalls, 0);
    });
  });

  test('a snapshot or subscribe before auth is not served either', async () => {
    await withServer(async ({ server, handler }) => {
      for (const type of ['snapshot', 'subscribe']) {
        const peer = await RawPeer.open(server.url);
        peer.send({ id: '1', type });
        const reply = await peer.next();
        assert.equal((reply.error as { code: string }).code, 'unauthenticated');
        assert.equal(reply.result, undefined);
        assert.equal((await peer.closed).code, CLOSE_CODES.unauthorized);
      }
      assert.equal(handler.snapshotCalls, 0);
      assert.equal(handler.listeners.size, 0);
    });
  });

  test('a wrong proof gets auth-failed and the connection is closed with 4401', async () => {
    await withServer(async ({ server, handler, logs }) => {
      const peer = await RawPeer.open(server.url);
      await peer.hello(server.url);
      const reply = await peer.request({ id: 'a', type: 'auth', proof: '0'.repeat(64) });
      assert.deepEqual(reply, { id: 'a', ok: false, error: { code: 'auth-failed', message: 'wrong proof: this client does not hold the token of this agent' } });
      assert.equal((await peer.closed).code, CLOSE_CODES.unauthorized);
      assert.equal(handler.calls.length, 0);
      assert.ok(logs.some((line) => line.includes('wrong proof')));
      assert.ok(!logs.some((line) => line.includes(TOKEN)), 'the real token is never logged');
    });
  });

  test('a command sent right after a wrong auth is not served', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.open(server.url);
      await peer.hello(server.url);
      peer.send({ id: 'a', type: 'auth', proof: 'f'.repeat(64) });
      peer.send({ id: 'b', type: 'resource.remove', name: 'web' });
      assert.equal((await peer.closed).code, CLOSE_CODES.unauthorized);
      assert.equal(handler.calls.length, 0);
    });
  });

  test('auth before hello, or a second hello, is refused', async () => {
    await withServer(async ({ server, handler }) => {
      const early = await RawPeer.open(server.url);
      early.send({ id: 'a', type: 'auth', proof: 'f'.repeat(64) });
      assert.equal(((await early.next()).error as { code: string }).code, 'unauthenticated');
      assert.equal((await early.closed).code, CLOSE_CODES.unauthorized);
      const twice = await RawPeer.open(server.url);
      await twice.hello(server.url);
      await assert.rejects(twice.hello(server.url));
      assert.equal((await twice.closed).code, CLOSE_CODES.unauthorized);
      assert.equal(handler.calls.length, 0);
    });
  });

  test('a client of protocol 1 (auth with the token) is told to update; the token is neither checked nor logged', async () => {
    await withServer(async ({ server, handler, logs }) => {
      const peer = await RawPeer.open(server.url);
      peer.send({ id: 'a', type: 'auth', token: TOKEN });
      const reply = await peer.next();
      assert.equal((reply.error as { code: string }).code, 'unauthenticated');
      assert.match((reply.error as { message: string }).message, /protocol 3 .*older: update it/);
      assert.equal((await peer.closed).code, CLOSE_CODES.unauthorized);
      assert.equal(handler.calls.length, 0);
      assert.ok(!logs.some((line) => line.includes(TOKEN)));
    });
  });

  test('a hello of another protocol version is refused with both versions named', async () => {
    await withServer(async ({ server }) => {
      const peer = await RawPeer.open(server.url);
      const reply = await peer.request({ id: 'h', type: 'hello', protocol: 4, clientNonce: 'a'.repeat(64) });
      assert.match((reply.error as { message: string }).message, /protocol 3, the client 4/);
      assert.equal((await peer.closed).code, CLOSE_CODES.unauthorized);
    });
  });

  test("a proof made for another connection's nonces, or for another channel, is refused", async () => {
    await withServer(async ({ server, logs }) => {
      // A proof seen on one connection (by a relay, say) is useless on the next one: fresh nonces.
      const first = await RawPeer.open(server.url);
      const firstTranscript = await first.hello(server.url);
      const replayed = await clientProofOf(firstTranscript);
      first.close();
      const second = await RawPeer.open(server.url);
      await second.hello(server.url);
      assert.equal(((await second.request({ id: 'a', type: 'auth', proof: replayed })).error as { code: string }).code, 'auth-failed');
      // A proof for the channel a client dialled elsewhere (a relay on another port) is refused too.
      const third = await RawPeer.open(server.url);
      const transcript = await third.hello(server.url);
      const elsewhere = await clientProofOf({ ...transcript, channel: 'ws:7790' === transcript.channel ? 'ws:7791' : 'ws:7790' });
      assert.equal(((await third.request({ id: 'a', type: 'auth', proof: elsewhere })).error as { code: string }).code, 'auth-failed');
      // The server's own proof is not a client proof.
      const fourth = await RawPeer.open(server.url);
      const fourthTranscript = await fourth.hello(server.url);
      const reflected = await serverProofOf(fourthTranscript);
      assert.equal(((await fourth.request({ id: 'a', type: 'auth', proof: reflected })).error as { code: string }).code, 'auth-failed');
      assert.ok(logs.length >= 1);
    });
  });

  test('garbage as the first message gets an error and closes 4401', async () => {
    await withServer(async ({ server }) => {
      const peer = await RawPeer.open(server.url);
      peer.send('{"id": 1');
      const reply = await peer.next();
      assert.equal((reply.error as { code: string }).code, 'bad-json');
      assert.equal((await peer.closed).code, CLOSE_CODES.unauthorized);
    });
  });

  test('a binary first message gets an error and closes 4401', async () => {
    await withServer(async ({ server }) => {
      const peer = await RawPeer.open(server.url);
      peer.socket.send(Buffer.from(JSON.stringify({ id: 'a', type: 'hello', protocol: PROTOCOL_VERSION, clientNonce: 'a'.repeat(64) })), { binary: true });
      assert.equal(((await peer.next()).error as { code: string }).code, 'bad-json');
      assert.equal((await peer.closed).code, CLOSE_CODES.unauthorized);
    });
  });

  test('no auth within the time limit closes the connection with 4401', async () => {
    await withServer(
      async ({ server }) => {
        const peer = await RawPeer.open(server.url);
        const started = Date.now();
        const closed = await peer.closed;
        assert.equal(closed.code, CLOSE_CODES.unauthorized);
        assert.ok(Date.now() - started >= 100, 'not before the limit');
      },
      { limits: { authTimeoutMs: 150 } },
    );
  });

  test('the right proof of the node token logs in as root (admin), whatever label the client sends, at the peer address', async () => {
    await withServer(async ({ server }) => {
      const peer = await RawPeer.open(server.url);
      const transcript = await peer.hello(server.url, 'cli:alice');
      const reply = await peer.request({ id: 'a', type: 'auth', proof: await clientProofOf(transcript) });
      assert.deepEqual(reply, { id: 'a', ok: true, result: { protocol: PROTOCOL_VERSION, actor: 'root@127.0.0.1', user: null, role: 'admin' } });
      const again = await peer.request({ id: 'b', type: 'auth', proof: await clientProofOf(transcript) });
      assert.equal((again.error as { code: string }).code, 'bad-request');
      const hello = await peer.request({ id: 'c', type: 'hello', protocol: PROTOCOL_VERSION, clientNonce: 'a'.repeat(64) });
      assert.equal((hello.error as { code: string }).code, 'bad-request');
      peer.close();
    });
  });

  test('the label is part of the proof: a label changed after hello does not log in', async () => {
    await withServer(async ({ server }) => {
      const peer = await RawPeer.open(server.url);
      const transcript = await peer.hello(server.url, 'cli:alice');
      const reply = await peer.request({ id: 'a', type: 'auth', proof: await clientProofOf({ ...transcript, client: 'cli:mallory' }) });
      assert.equal((reply.error as { code: string }).code, 'auth-failed');
    });
  });

  test('an authenticated connection outlives the auth time limit', async () => {
    await withServer(
      async ({ server }) => {
        const peer = await RawPeer.authenticated(server.url);
        await new Promise((resolve) => setTimeout(resolve, 250));
        const reply = await peer.request({ id: 's', type: 'snapshot' });
        assert.equal(reply.ok, true);
        peer.close();
      },
      { limits: { authTimeoutMs: 100 } },
    );
  });
});

describe('malformed messages', () => {
  // Each: the message, the error code, the field named (undefined: none), the id echoed.
  const cases: Array<{ name: string; message: unknown; code: string; field?: string; id: string | null }> = [
    { name: 'not JSON', message: 'resource.remove web', code: 'bad-json', id: null },
    { name: 'truncated JSON', message: '{"id":"1","type":"snapshot"', code: 'bad-json', id: null },
    { name: 'a JSON array', message: '[1,2]', code: 'bad-json', id: null },
    { name: 'a JSON string', message: '"snapshot"', code: 'bad-json', id: null },
    { name: 'missing id', message: { type: 'resource.remove', name: 'web' }, code: 'bad-request', field: 'id', id: null },
    { name: 'numeric id', message: { id: 7, type: 'snapshot' }, code: 'bad-request', field: 'id', id: null },
    { name: 'empty id', message: { id: '', type: 'snapshot' }, code: 'bad-request', field: 'id', id: null },
    { name: 'id over 64 characters', message: { id: 'i'.repeat(65), type: 'snapshot' }, code: 'bad-request', field: 'id', id: null },
    { name: 'missing type', message: { id: 'm1', name: 'web' }, code: 'bad-request', field: 'type', id: 'm1' },
    { name: 'unknown type', message: { id: 'm2', type: 'resource.destroy', name: 'web' }, code: 'unknown-type', field: 'type', id: 'm2' },
    { name: 'prototype key as type', message: { id: 'm3', type: '__proto__' }, code: 'unknown-type', field: 'type', id: 'm3' },
    { name: 'extra top-level key', message: { id: 'm4', type: 'resource.remove', name: 'web', force: true }, code: 'bad-request', field: 'force', id: 'm4' },
    {
      name: 'extra key inside the spec',
      message: { id: 'm5', type: 'resource.add', spec: { name: 'web', ip: '10.213.0.50', prefix: 24, prefered: ['n1'] } },
      code: 'bad-request',
      field: 'spec.prefered',
      id: 'm5',
    },
    { name: 'missing argument', message: { id: 'm6', type: 'resource.move', name: 'web' }, code: 'bad-request', field: 'target', id: 'm6' },
    { name: 'number for a name', message: { id: 'm7', type: 'resource.online', name: 5 }, code: 'bad-request', field: 'name', id: 'm7' },
    { name: 'not an IPv4 address', message: { id: 'm8', type: 'probe', node: 'n1', ip: '10.0.0.256' }, code: 'bad-request', field: 'ip', id: 'm8' },
    { name: 'string for a number', message: { id: 'm9', type: 'events.query', limit: '10' }, code: 'bad-request', field: 'limit', id: 'm9' },
    { name: 'limit out of range', message: { id: 'm10', type: 'events.query', limit: 1_000_000 }, code: 'bad-request', field: 'limit', id: 'm10' },
    { name: 'over-long name', message: { id: 'm11', type: 'node.pause', name: 'n'.repeat(129) }, code: 'bad-request', field: 'name', id: 'm11' },
    {
      name: 'too many owners',
      message: { id: 'm12', type: 'resource.add', spec: { name: 'web', ip: '10.213.0.50', possibleOwners: Array.from({ length: 65 }, (_, i) => `n${i}`) } },
      code: 'bad-request',
      field: 'spec.possibleOwners',
      id: 'm12',
    },
    { name: 'empty patch', message: { id: 'm13', type: 'resource.edit', name: 'web', patch: {} }, code: 'bad-request', field: 'patch', id: 'm13' },
    {
      name: 'unknown failback mode',
      message: { id: 'm14', type: 'resource.edit', name: 'web', patch: { failback: { mode: 'sometimes' } } },
      code: 'bad-request',
      field: 'patch.failback.mode',
      id: 'm14',
    },
    { name: 'null instead of object', message: { id: 'm15', type: 'resource.add', spec: null }, code: 'bad-request', field: 'spec', id: 'm15' },
  ];

  test('each kind gets an error naming the problem, reaches no handler, and leaves the connection up', async () => {
    await withServer(
      async ({ server, handler }) => {
        const peer = await RawPeer.authenticated(server.url);
        for (const { name, message, code, field, id } of cases) {
          peer.send(message);
          const reply = await peer.next();
          assert.equal(reply.ok, false, name);
          assert.equal(reply.id, id, `${name}: id`);
          const error = reply.error as { code: string; message: string; field?: string };
          assert.equal(error.code, code, `${name}: ${JSON.stringify(error)}`);
          assert.equal(error.field, field, `${name}: field of ${JSON.stringify(error)}`);
          assert.ok(error.message.length > 0 && error.message.length <= 300, `${name}: a one-line message`);
        }
        assert.deepEqual(handler.calls, []);
        assert.equal(handler.snapshotCalls, 0);
        // Still up and serving.
        const reply = await peer.request({ id: 'ok', type: 'resource.online', name: 'web' });
        assert.equal(reply.ok, true);
        assert.equal(handler.calls.length, 1);
        peer.close();
      },
      { limits: { badMessages: { count: 100, windowMs: 10_000 } } },
    );
  });

  test('a binary message gets an error and reaches no handler', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.authenticated(server.url);
      peer.socket.send(Buffer.from(JSON.stringify({ id: 'b', type: 'resource.remove', name: 'web' })), { binary: true });
      const reply = await peer.next();
      assert.equal((reply.error as { code: string }).code, 'bad-json');
      assert.equal(handler.calls.length, 0);
      peer.close();
    });
  });

  test('the error lists every problem of a request', async () => {
    await withServer(async ({ server }) => {
      const peer = await RawPeer.authenticated(server.url);
      const reply = await peer.request({ id: 'x', type: 'resource.add', spec: { name: 5, ip: 7, enabled: 'yes' } });
      const error = reply.error as { issues: Array<{ field: string }> };
      assert.deepEqual(error.issues.map((issue) => issue.field).sort(), ['spec.enabled', 'spec.ip', 'spec.name']);
      peer.close();
    });
  });

  test('a message over 64 KiB closes the connection with 1009 and reaches no handler', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.authenticated(server.url);
      peer.send({ id: 'big', type: 'resource.remove', name: 'x'.repeat(MAX_CLIENT_MESSAGE_BYTES) });
      assert.equal((await peer.closed).code, CLOSE_CODES.tooBig);
      assert.equal(handler.calls.length, 0);
    });
  });

  test('a message just under 64 KiB is parsed and refused by its string bounds, not by size', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.authenticated(server.url);
      const reply = await peer.request({ id: 'near', type: 'resource.remove', name: 'x'.repeat(MAX_CLIENT_MESSAGE_BYTES - 100) });
      assert.equal((reply.error as { field: string }).field, 'name');
      assert.equal(handler.calls.length, 0);
      peer.close();
    });
  });

  test('a burst of bad messages closes the connection with 1008', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.authenticated(server.url);
      for (let i = 0; i < 11; i += 1) peer.send('garbage');
      assert.equal((await peer.closed).code, CLOSE_CODES.policy);
      assert.equal(handler.calls.length, 0);
    });
  });

  test('a few bad messages below the limit do not close the connection', async () => {
    await withServer(async ({ server }) => {
      const peer = await RawPeer.authenticated(server.url);
      for (let i = 0; i < 10; i += 1) {
        peer.send('garbage');
        await peer.next();
      }
      const reply = await peer.request({ id: 'still', type: 'snapshot' });
      assert.equal(reply.ok, true);
      peer.close();
    });
  });
});

describe('dispatch', () => {
  const commands: ApiCommand[] = [
    { type: 'resource.add', spec: { name: 'db', ip: '10.213.0.60/24', possibleOwners: ['n1', 'n2'], failback: { mode: 'window', startHour: 22, endHour: 6 } } },
    { type: 'resource.edit', name: 'web', patch: { preferredOwners: ['n2'], enabled: false } },
    { type: 'resource.remove', name: 'web' },
    { type: 'resource.move', name: 'web', target: 'n2' },
    { type: 'resource.move', name: 'web', target: 'best' },
    { type: 'resource.online', name: 'web' },
    { type: 'resource.offline', name: 'web' },
    { type: 'node.pause', name: 'n1' },
    { type: 'node.resume', name: 'n1' },
    { type: 'probe', node: 'n2', ip: '10.213.0.50' },
    { type: 'events.query', limit: 50, since: 3, filter: { action: 'resource.move', outcome: 'ok' } },
    { type: 'events.query' },
  ];

  test('every valid command reaches the handler once, unchanged, with the session actor, and its result comes back', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.authenticated(server.url, 'cli:alice');
      for (const [index, command] of commands.entries()) {
        const reply = await peer.request({ id: `r${index}`, ...command });
        assert.equal(reply.ok, true, `${command.type}: ${JSON.stringify(reply)}`);
        assert.ok(checkResult(command.type, reply.result).ok, `${command.type}: result keeps to the contract`);
      }
      assert.deepEqual(
        handler.calls.map((call) => call.command),
        commands,
      );
      assert.ok(handler.calls.every((call) => call.actor === 'root@127.0.0.1'));
      peer.close();
    });
  });

  test('a client without a label is recorded as api@peer', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.authenticated(server.url);
      await peer.request({ id: 'r', type: 'resource.online', name: 'web' });
      assert.equal(handler.calls[0]?.actor, 'root@127.0.0.1');
      peer.close();
    });
  });

  test('snapshot returns the handler snapshot with its revision', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.authenticated(server.url);
      const reply = await peer.request({ id: 's', type: 'snapshot' });
      assert.deepEqual(reply.result, { revision: handler.revision, snapshot: handler.state });
      peer.close();
    });
  });

  test("the handler's own errors (field, issues) reach the client as they are", async () => {
    await withServer(async ({ server, handler }) => {
      handler.respond = () => ({
        ok: false,
        error: {
          code: 'invalid',
          message: 'spec.ip: 10.213.0.0 is the network address of 10.213.0.0/24',
          field: 'spec.ip',
          issues: [{ field: 'spec.ip', message: 'spec.ip: 10.213.0.0 is the network address of 10.213.0.0/24' }],
        },
      });
      const peer = await RawPeer.authenticated(server.url);
      const reply = await peer.request({ id: 'e', type: 'resource.add', spec: { name: 'web', ip: '10.213.0.0/24' } });
      assert.equal(reply.ok, false);
      assert.deepEqual(reply.error, {
        code: 'invalid',
        message: 'spec.ip: 10.213.0.0 is the network address of 10.213.0.0/24',
        field: 'spec.ip',
        issues: [{ field: 'spec.ip', message: 'spec.ip: 10.213.0.0 is the network address of 10.213.0.0/24' }],
      });
      peer.close();
    });
  });

  test('a handler that throws yields internal, without leaking the exception', async () => {
    await withServer(async ({ server, handler, logs }) => {
      handler.respond = () => {
        throw new Error('secret detail /etc/ipfo/state');
      };
      const peer = await RawPeer.authenticated(server.url);
      const reply = await peer.request({ id: 't', type: 'resource.online', name: 'web' });
      const error = reply.error as { code: string; message: string };
      assert.equal(error.code, 'internal');
      assert.ok(!error.message.includes('secret'));
      assert.ok(logs.some((line) => line.includes('secret detail')), 'the detail goes to the agent log');
      const next = await peer.request({ id: 'u', type: 'snapshot' });
      assert.equal(next.ok, true, 'the connection survives');
      peer.close();
    });
  });

  test('a handler result that breaks the contract is not sent (internal instead)', async () => {
    await withServer(async ({ server, handler }) => {
      handler.respond = () => ({ ok: true, result: { ...actionDone(), outcome: 'maybe' } as unknown as ReturnType<typeof actionDone> });
      const peer = await RawPeer.authenticated(server.url);
      const reply = await peer.request({ id: 'c', type: 'resource.move', name: 'web', target: 'n2' });
      assert.equal((reply.error as { code: string }).code, 'internal');
      peer.close();
    });
  });

  test('replies are matched by id when a slow command finishes after a fast one', async () => {
    await withServer(async ({ server, handler }) => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      handler.respond = async (command) => {
        if (command.type === 'resource.move') await gate;
        return { ok: true, result: actionDone() };
      };
      const peer = await RawPeer.authenticated(server.url);
      peer.send({ id: 'slow', type: 'resource.move', name: 'web', target: 'n2' });
      peer.send({ id: 'fast', type: 'resource.online', name: 'web' });
      assert.equal((await peer.next()).id, 'fast');
      release();
      assert.equal((await peer.next()).id, 'slow');
      peer.close();
    });
  });

  test('more requests in flight than the limit get busy and reach no handler', async () => {
    await withServer(
      async ({ server, handler }) => {
        let release: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => (release = resolve));
        handler.respond = async () => {
          await gate;
          return { ok: true, result: actionDone() };
        };
        const peer = await RawPeer.authenticated(server.url);
        for (const id of ['a', 'b', 'c']) peer.send({ id, type: 'resource.online', name: 'web' });
        const busy = await peer.next();
        assert.equal(busy.id, 'c');
        assert.equal((busy.error as { code: string }).code, 'busy');
        assert.equal(handler.calls.length, 2);
        release();
        const ids = [(await peer.next()).id, (await peer.next()).id].sort();
        assert.deepEqual(ids, ['a', 'b']);
        peer.close();
      },
      { limits: { maxInFlight: 2 } },
    );
  });
});

describe('subscribe', () => {
  test('delivers the snapshot, then the reply, then every change in order', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.authenticated(server.url);
      peer.send({ id: 'sub', type: 'subscribe' });
      const snapshot = await peer.next();
      assert.equal(snapshot.type, 'snapshot');
      assert.equal(snapshot.revision, 10);
      assert.deepEqual(snapshot.snapshot, handler.state);
      assert.deepEqual(await peer.next(), { id: 'sub', ok: true, result: { revision: 10 } });
      handler.emit({ kind: 'node', node: { ...NODE_N2, state: 'paused' } });
      handler.emit({ kind: 'resource', resource: resourceView('web', '10.213.0.50', 'n2') });
      handler.emit({ kind: 'resource-removed', name: 'db' });
      const changes = [await peer.next(), await peer.next(), await peer.next()];
      assert.deepEqual(
        changes.map((change) => [change.type, change.revision, (change.change as { kind: string }).kind]),
        [
          ['change', 11, 'node'],
          ['change', 12, 'resource'],
          ['change', 13, 'resource-removed'],
        ],
      );
      peer.close();
    });
  });

  test('with a view: the head (first page, counts), the reply, then the compact rows and the changes', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.authenticated(server.url);
      const view = { sort: { column: 'name', direction: 'desc' }, filter: '', pageSize: 1 };
      peer.send({ id: 'sub', type: 'subscribe', view });
      const head = await peer.next();
      assert.equal(head.type, 'snapshot-head');
      assert.equal(head.revision, 10);
      assert.deepEqual(head.view, view);
      assert.equal(head.resourceCount, handler.state.resources.length);
      const last = [...handler.state.resources].sort((a, b) => (a.name < b.name ? 1 : -1))[0];
      assert.deepEqual(head.page, [last]);
      assert.deepEqual(await peer.next(), { id: 'sub', ok: true, result: { revision: 10 } });
      const rows = await peer.next();
      assert.equal(rows.type, 'snapshot-rows');
      assert.equal(rows.done, true);
      const parsed = parseServerMessage(JSON.stringify(rows));
      assert.ok(parsed.kind === 'push' && parsed.push.type === 'snapshot-rows');
      assert.deepEqual(new Set(parsed.push.resources.map((row) => row.name)), new Set(handler.state.resources.map((row) => row.name)));
      peer.send({ id: 'bad', type: 'subscribe', view: { ...view, pageSize: 100_000 } });
      const refused = await peer.next();
      assert.equal((refused.error as { code: string }).code, 'bad-request');
      peer.close();
    });
  });

  test('changes made while the snapshot is taken follow it, none lost and none repeated', async () => {
    await withServer(async ({ server, handler }) => {
      let release: () => void = () => undefined;
      handler.snapshotGate = new Promise<void>((resolve) => (release = resolve));
      const peer = await RawPeer.authenticated(server.url);
      peer.send({ id: 'sub', type: 'subscribe' });
      while (handler.listeners.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      // The snapshot is at revision 10; these happen after it.
      handler.emit({ kind: 'resource-removed', name: 'a' });
      handler.emit({ kind: 'resource-removed', name: 'b' });
      release();
      const received = [await peer.next(), await peer.next(), await peer.next(), await peer.next()];
      assert.deepEqual(
        received.map((message) => message.type ?? `reply:${String(message.id)}`),
        ['snapshot', 'reply:sub', 'change', 'change'],
      );
      assert.deepEqual(
        received.slice(2).map((message) => message.revision),
        [11, 12],
      );
      assert.deepEqual(await peer.drain(), []);
      peer.close();
    });
  });

  test('changes already contained in the snapshot are not sent again', async () => {
    await withServer(async ({ server, handler }) => {
      let release: () => void = () => undefined;
      handler.snapshotGate = new Promise<void>((resolve) => (release = resolve));
      handler.revisionAfterGate = true;
      const peer = await RawPeer.authenticated(server.url);
      peer.send({ id: 'sub', type: 'subscribe' });
      while (handler.listeners.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      handler.emit({ kind: 'resource-removed', name: 'a' }); // 11, inside the snapshot
      release();
      const snapshot = await peer.next();
      assert.equal(snapshot.revision, 11);
      assert.equal((await peer.next()).id, 'sub');
      handler.emit({ kind: 'resource-removed', name: 'b' }); // 12
      const change = await peer.next();
      assert.equal(change.revision, 12);
      assert.deepEqual(await peer.drain(), []);
      peer.close();
    });
  });

  test('a reset from the handler sends a fresh snapshot', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.authenticated(server.url);
      await peer.request({ id: 'sub', type: 'subscribe' });
      assert.equal((await peer.next()).type, 'snapshot');
      handler.state = { ...handler.state, resources: [] };
      handler.revision = 40;
      handler.reset();
      const fresh = await peer.next();
      assert.equal(fresh.type, 'snapshot');
      assert.equal(fresh.revision, 40);
      assert.deepEqual((fresh.snapshot as { resources: unknown[] }).resources, []);
      peer.close();
    });
  });

  test('a second subscribe on one connection is refused; closing the connection unsubscribes', async () => {
    await withServer(async ({ server, handler }) => {
      const peer = await RawPeer.authenticated(server.url);
      await peer.request({ id: 'one', type: 'subscribe' });
      const second = await peer.request({ id: 'two', type: 'subscribe' });
      assert.equal((second.error as { code: string }).code, 'bad-request');
      assert.equal(handler.listeners.size, 1);
      peer.close();
      await peer.closed;
      for (let i = 0; i < 100 && handler.listeners.size > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(handler.listeners.size, 0);
    });
  });

  test('a snapshot that cannot be taken gives unavailable and leaves no subscription', async () => {
    await withServer(async ({ server, handler }) => {
      handler.snapshot = () => Promise.reject(new Error('store down'));
      const peer = await RawPeer.authenticated(server.url);
      const reply = await peer.request({ id: 'sub', type: 'subscribe' });
      assert.equal((reply.error as { code: string }).code, 'unavailable');
      assert.equal(handler.listeners.size, 0);
      peer.close();
    });
  });

  test('a client that stops reading its stream is disconnected instead of buffering without bound', async () => {
    await withServer(
      async ({ server, handler, logs }) => {
        // A large snapshot (about 2 MB), requested again and again by a peer that reads nothing.
        const big = { ...handler.state, resources: Array.from({ length: 5_000 }, (_, i) => resourceView(`r${i}`, `10.213.${i >> 8}.${(i % 254) + 1}`)) };
        handler.snapshot = () => Promise.resolve({ revision: 1, snapshot: big });
        const peer = await RawPeer.authenticated(server.url);
        (peer.socket as unknown as { _socket: { pause(): void } })._socket.pause();
        for (let i = 0; i < 40; i += 1) peer.send({ id: `s${i}`, type: 'snapshot' });
        for (let i = 0; i < 200 && server.connectionCount() > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
        assert.equal(server.connectionCount(), 0);
        assert.ok(logs.some((line) => line.includes('reads too slowly')));
        peer.close();
      },
      { limits: { maxBufferedBytes: 4 * 1024 * 1024, maxInFlight: 64 } },
    );
  });
});

describe('who may connect', () => {
  test("a WebSocket from another site's page (foreign Origin) is refused with 403", async () => {
    await withServer(async ({ server }) => {
      assert.equal(await upgradeStatus(server.url, { Origin: 'http://evil.example' }), 403);
      assert.equal(await upgradeStatus(server.url, { Origin: 'null' }), 403);
      assert.equal(await upgradeStatus(server.url, { Origin: `http://127.0.0.1:${server.port + 1}` }), 403);
      assert.equal(await upgradeStatus(server.url, { Origin: `https://127.0.0.1:${server.port}` }), 403);
    });
  });

  test("the server's own origin and clients without an Origin may connect", async () => {
    await withServer(async ({ server }) => {
      assert.equal(await upgradeStatus(server.url, { Origin: server.origin }), 101);
      assert.equal(await upgradeStatus(server.url.replace('127.0.0.1', 'localhost'), { Origin: `http://localhost:${server.port}` }), 101);
      assert.equal(await upgradeStatus(server.url, {}), 101);
    });
  });

  test('a rebound host name (DNS rebinding) is refused with 421 even with a matching Origin', async () => {
    await withServer(async ({ server }) => {
      const host = `evil.example:${server.port}`;
      assert.equal(await upgradeStatus(server.url, { Host: host, Origin: `http://${host}` }), 421);
    });
  });

  test('only /api upgrades', async () => {
    await withServer(async ({ server }) => {
      assert.equal(await upgradeStatus(server.url.replace('/api', '/other'), {}), 404);
    });
  });

  test('sessions beyond the limit are refused at login with busy (1013); connections not logged in do not count', async () => {
    await withServer(
      async ({ server }) => {
        const first = await RawPeer.authenticated(server.url);
        const idle = await RawPeer.open(server.url);
        const second = await RawPeer.authenticated(server.url);
        assert.equal(server.sessionCount(), 2);
        const third = await RawPeer.open(server.url);
        const transcript = await third.hello(server.url);
        const reply = await third.request({ id: 'a', type: 'auth', proof: await clientProofOf(transcript) });
        assert.equal((reply.error as { code: string }).code, 'busy');
        assert.equal((await third.closed).code, CLOSE_CODES.tryAgainLater);
        first.close();
        for (let i = 0; i < 100 && server.sessionCount() > 1; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
        const fourth = await RawPeer.authenticated(server.url);
        assert.equal(server.sessionCount(), 2);
        for (const peer of [idle, second, fourth]) peer.close();
      },
      { maxConnections: 2 },
    );
  });

  test('a non-loopback address without TLS is refused before listening', async () => {
    for (const host of ['0.0.0.0', '::', '10.213.0.1', 'example.com']) {
      await assert.rejects(startAgentServer({ handler: new FakeApiHandler(), token: TOKEN, host, port: 0 }), ExposureError, host);
    }
  });

  test('a malformed token is refused at start', async () => {
    await assert.rejects(startAgentServer({ handler: new FakeApiHandler(), token: 'short', host: '127.0.0.1', port: 0 }), /64 hex digits/);
  });

  test('closing the server closes its connections with 1001', async () => {
    const { server } = await startTestServer();
    const peer = await RawPeer.authenticated(server.url);
    await server.close();
    assert.equal((await peer.closed).code, CLOSE_CODES.goingAway);
  });

  test('a peer that stops answering pings is dropped', async () => {
    await withServer(
      async ({ server }) => {
        const peer = await RawPeer.authenticated(server.url);
        // Stop reading: pongs are never produced.
        (peer.socket as unknown as { _socket: { pause(): void } })._socket.pause();
        for (let i = 0; i < 100 && server.connectionCount() > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(server.connectionCount(), 0);
        peer.close();
      },
      { heartbeatMs: 100 },
    );
  });
});
