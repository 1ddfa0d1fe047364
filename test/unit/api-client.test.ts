// The Node client of the agent API against the real server (with the recording fake handler), and
// against a hand-made agent that breaks the contract.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { BEST_NODE, PROTOCOL_VERSION, type ChangePush, type SnapshotPush } from '../../preload/contract/protocol';
import { agentUrl, connectAgent, type AgentClient } from '../../main/api/client';
import { newNonce } from '../../preload/contract/handshake';
import { ApiRequestError } from '../../preload/contract/request-tracker';
import { actionDone, NODE_N1, serverProofOf, startTestServer, TOKEN, type TestServer } from './api-fixtures';

async function withClient(run: (client: AgentClient, context: TestServer) => Promise<void>, options: Parameters<typeof startTestServer>[0] = {}): Promise<void> {
  const context = await startTestServer(options);
  const client = await connectAgent({ host: '127.0.0.1', port: context.server.port, credential: TOKEN, client: 'cli:alice', requestTimeoutMs: 2_000 });
  try {
    await run(client, context);
  } finally {
    await client.close();
    await context.server.close();
  }
}

function isApiRequestError(code: string, check: (error: ApiRequestError) => void = () => undefined): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ApiRequestError, String(error));
    assert.equal(error.code, code, error.message);
    check(error);
    return true;
  };
}

/** A fake agent speaking raw JSON that holds the token: logs in as told (by default correctly), then answers every request with `other`. */
async function withRogueAgent(
  answers: { hello?: (id: string) => unknown; auth?: (id: string) => unknown; other: (id: string) => unknown },
  run: (url: string) => Promise<void>,
): Promise<void> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      void (async () => {
        const request = JSON.parse((data as Buffer).toString('utf8')) as { id: string; type: string; clientNonce?: string; client?: string };
        let answer: unknown;
        if (request.type === 'hello') {
          const serverNonce = newNonce();
          const transcript = { channel: `ws:${port}`, client: request.client ?? '', user: '', clientNonce: request.clientNonce ?? '', serverNonce };
          answer = answers.hello?.(request.id) ?? { id: request.id, ok: true, result: { protocol: PROTOCOL_VERSION, serverNonce, serverProof: await serverProofOf(transcript) } };
        } else if (request.type === 'auth') {
          answer = answers.auth?.(request.id) ?? { id: request.id, ok: true, result: { protocol: PROTOCOL_VERSION, actor: 'x', user: null, role: 'admin' } };
        } else answer = answers.other(request.id);
        socket.send(typeof answer === 'string' ? answer : JSON.stringify(answer));
      })();
    });
  });
  try {
    await run(`ws://127.0.0.1:${port}/api`);
  } finally {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('connecting', () => {
  test('builds the URL from host and port, with the default port and wss for TLS', () => {
    assert.equal(agentUrl({}), 'ws://127.0.0.1:7790/api');
    assert.equal(agentUrl({ host: '::1', port: 9000, tls: true }), 'wss://[::1]:9000/api');
    assert.equal(agentUrl({ url: 'ws://x:1/api', host: 'ignored' }), 'ws://x:1/api');
    assert.equal(agentUrl({ socketPath: '/run/ipfo/api.sock', host: 'ignored' }), 'ws+unix:/run/ipfo/api.sock:/api');
  });

  test('authenticates and learns its actor', async () => {
    await withClient(async (client) => {
      assert.equal(client.actor, 'root@127.0.0.1', 'the node token is root, whatever label the client sends');
      assert.equal((await client.request('snapshot', {})).revision, 10);
    });
  });

  test('a wrong token rejects with auth-failed', async () => {
    const { server } = await startTestServer();
    try {
      await assert.rejects(connectAgent({ url: server.url, credential: '1'.repeat(64) }), isApiRequestError('auth-failed'));
    } finally {
      await server.close();
    }
  });

  test('no agent listening rejects with unavailable', async () => {
    const { server } = await startTestServer();
    const url = server.url;
    await server.close();
    await assert.rejects(connectAgent({ url, credential: TOKEN }), isApiRequestError('unavailable'));
  });

  test('an agent of another protocol version is refused', async () => {
    await withRogueAgent(
      { hello: (id) => ({ id, ok: true, result: { protocol: PROTOCOL_VERSION + 1, serverNonce: 'a'.repeat(64), serverProof: 'b'.repeat(64) } }), other: () => '' },
      async (url) => {
        await assert.rejects(connectAgent({ url, credential: TOKEN }), isApiRequestError('protocol'));
      },
    );
  });

  test('an agent of protocol 1 (no hello) is named as older, and was sent nothing but the hello', async () => {
    await withRogueAgent(
      { hello: (id) => ({ id, ok: false, error: { code: 'unknown-type', message: 'unknown type "hello"', field: 'type' } }), other: () => '' },
      async (url) => {
        await assert.rejects(connectAgent({ url, credential: TOKEN }), isApiRequestError('protocol', (error) => assert.match(error.message, /older protocol \(1; this client 3\): update the agent/)));
      },
    );
  });

  test('an agent with a wrong proof is refused before the client sends its own', async () => {
    let authSent = false;
    await withRogueAgent(
      {
        hello: (id) => ({ id, ok: true, result: { protocol: PROTOCOL_VERSION, serverNonce: 'a'.repeat(64), serverProof: 'b'.repeat(64) } }),
        auth: (id) => {
          authSent = true;
          return { id, ok: true, result: { protocol: PROTOCOL_VERSION, actor: 'x', user: null, role: 'admin' } };
        },
        other: () => '',
      },
      async (url) => {
        await assert.rejects(connectAgent({ url, credential: TOKEN }), isApiRequestError('auth-failed', (error) => assert.match(error.message, /could not prove/)));
        assert.equal(authSent, false);
      },
    );
  });
});

describe('commands', () => {
  test('request sends each command by its protocol name and resolves with the checked result', async () => {
    await withClient(async (client, { handler }) => {
      assert.deepEqual(await client.request('resource.add', { spec: { name: 'db', ip: '10.213.0.60', prefix: 24 } }), actionDone());
      await client.request('resource.edit', { name: 'db', patch: { enabled: false } });
      await client.request('resource.remove', { name: 'db' });
      await client.request('resource.move', { name: 'web', target: 'n2' });
      await client.request('resource.move', { name: 'web', target: BEST_NODE });
      await client.request('resource.online', { name: 'web' });
      await client.request('resource.offline', { name: 'web' });
      assert.equal((await client.request('node.pause', { name: 'n1' })).node?.state, 'paused');
      await client.request('node.resume', { name: 'n1' });
      assert.equal((await client.request('probe', { node: 'n2', ip: '10.213.0.50' })).verdict, 'free');
      assert.deepEqual(
        (await client.request('events.query', { limit: 2 })).entries.map((entry) => entry.seq),
        [1, 2],
      );
      assert.deepEqual(
        handler.calls.map((call) => call.command),
        [
          { type: 'resource.add', spec: { name: 'db', ip: '10.213.0.60', prefix: 24 } },
          { type: 'resource.edit', name: 'db', patch: { enabled: false } },
          { type: 'resource.remove', name: 'db' },
          { type: 'resource.move', name: 'web', target: 'n2' },
          { type: 'resource.move', name: 'web', target: 'best' },
          { type: 'resource.online', name: 'web' },
          { type: 'resource.offline', name: 'web' },
          { type: 'node.pause', name: 'n1' },
          { type: 'node.resume', name: 'n1' },
          { type: 'probe', node: 'n2', ip: '10.213.0.50' },
          { type: 'events.query', limit: 2 },
        ],
      );
      assert.ok(handler.calls.every((call) => call.actor === 'root@127.0.0.1'));
    });
  });

  test("the agent's error arrives as an ApiRequestError with code, field and issues", async () => {
    await withClient(async (client, { handler }) => {
      handler.respond = () => ({
        ok: false,
        error: { code: 'not-found', message: 'no resource "nope"', field: 'name', issues: [{ field: 'name', message: 'no resource "nope"' }] },
      });
      await assert.rejects(
        client.request('resource.online', { name: 'nope' }),
        isApiRequestError('not-found', (error) => {
          assert.equal(error.message, 'no resource "nope"');
          assert.equal(error.field, 'name');
          assert.equal(error.issues.length, 1);
        }),
      );
    });
  });

  test('a request the server refuses as malformed rejects with bad-request naming the field', async () => {
    await withClient(async (client, { handler }) => {
      await assert.rejects(
        client.request('probe', { node: 'n1', ip: '999.1.1.1' }),
        isApiRequestError('bad-request', (error) => assert.equal(error.field, 'ip')),
      );
      assert.equal(handler.calls.length, 0);
    });
  });

  test('a request without a reply in time rejects with timeout', async () => {
    await withClient(async (client, { handler }) => {
      handler.respond = () => new Promise(() => undefined);
      await assert.rejects(client.request('resource.online', { name: 'web' }, 100), isApiRequestError('timeout'));
    });
  });

  test('pending requests reject with closed when the agent goes away, and onClose reports the code', async () => {
    const context = await startTestServer();
    const client = await connectAgent({ url: context.server.url, credential: TOKEN });
    context.handler.respond = () => new Promise(() => undefined);
    const closed = new Promise<number>((resolve) => client.onClose((code) => resolve(code)));
    const pending = client.request('resource.online', { name: 'web' });
    while (context.handler.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await context.server.close();
    await assert.rejects(pending, isApiRequestError('closed'));
    assert.equal(await closed, 1001);
    assert.ok(client.closed);
    await assert.rejects(client.request('snapshot', {}), isApiRequestError('closed'));
  });
});

describe('stream', () => {
  test('subscribe hands over the snapshot, then the changes in order', async () => {
    await withClient(async (client, { handler }) => {
      const seen: Array<SnapshotPush | ChangePush> = [];
      const { revision } = await client.subscribe(
        (push) => seen.push(push),
        (push) => seen.push(push),
      );
      assert.equal(revision, 10);
      assert.equal(seen.length, 1);
      assert.deepEqual(seen[0], { type: 'snapshot', revision: 10, snapshot: handler.state });
      handler.emit({ kind: 'node', node: { ...NODE_N1, state: 'paused' } });
      handler.emit({ kind: 'node-removed', name: 'n2' });
      while (seen.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual(
        seen.map((push) => [push.type, push.revision]),
        [
          ['snapshot', 10],
          ['change', 11],
          ['change', 12],
        ],
      );
    });
  });
});

describe('an agent that breaks the contract', () => {
  test('a result of the wrong shape rejects with protocol and closes the client', async () => {
    await withRogueAgent({ other: (id) => ({ id, ok: true, result: { revision: 'ten' } }) }, async (url) => {
      const client = await connectAgent({ url, credential: TOKEN });
      await assert.rejects(client.request('snapshot', {}), isApiRequestError('protocol'));
      await assert.rejects(client.request('snapshot', {}), isApiRequestError('protocol'));
      assert.ok(client.closed);
    });
  });

  test('garbage from the agent closes the client and rejects what is pending with protocol', async () => {
    await withRogueAgent({ other: () => 'this is not json' }, async (url) => {
      const client = await connectAgent({ url, credential: TOKEN });
      await assert.rejects(client.request('resource.online', { name: 'web' }), isApiRequestError('protocol'));
    });
  });

  test('a push with an invalid snapshot is not handed out', async () => {
    await withRogueAgent(
      {
        other: () => JSON.stringify({ type: 'snapshot', revision: 1, snapshot: { nodes: [{ name: 'n1' }], resources: [], conflicts: [], events: [] } }),
      },
      async (url) => {
        const client = await connectAgent({ url, credential: TOKEN });
        let handedOut = false;
        await assert.rejects(
          client.subscribe(
            () => (handedOut = true),
            () => undefined,
          ),
          isApiRequestError('protocol'),
        );
        assert.equal(handedOut, false);
      },
    );
  });
});
