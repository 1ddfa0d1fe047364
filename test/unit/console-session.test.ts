// The console session (main/console/session.ts) against a real agent API server on loopback (the
// API-test fixture's in-memory cluster behind it): local and remote connections, remembered
// clusters, the stream, a lost agent, and the elevated start's answers (the password prompt itself
// is replaced by a function: it needs a desktop session).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import type { ConnectionState, StreamMessage } from '../../preload/contract/ipc';
import { ApiRequestError } from '../../preload/contract/request-tracker';
import { ConnectionStore } from '../../main/console/connection-store';
import type { LocalAgentLaunch } from '../../main/console/launch-report';
import type { LocalAgentSettings } from '../../main/console/local-agent';
import { ConsoleSession, type ConsoleSessionOptions } from '../../main/console/session';
import { auditEntry, startTestServer, TOKEN, type TestServer } from './api-fixtures';
import { generateToken } from '../../main/api/auth';
import type { UserDirectory } from '../../main/api/credentials';
import { verifierOf } from '../../preload/contract/handshake';
import type { Role, UserRecord } from '../../preload/contract/users';

const scratch = mkdtempSync(join(tmpdir(), 'ipfo-session-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const open: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

let counter = 0;

async function setup(options: { tokenInFile?: boolean; server?: boolean } & Partial<ConsoleSessionOptions> = {}): Promise<{
  session: ConsoleSession;
  store: ConnectionStore;
  server: TestServer | null;
  states: ConnectionState[];
  local: LocalAgentSettings;
}> {
  counter += 1;
  const server = options.server === false ? null : await startTestServer();
  if (server !== null) open.push(server.server);
  const tokenFile = join(scratch, `token-${counter}`);
  if (options.tokenInFile !== false) writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  // A port nothing listens on when there is no server: the server's, closed.
  const port = server?.server.port ?? 9;
  const local: LocalAgentSettings = { host: '127.0.0.1', port, tokenFile, storeDir: join(scratch, `store-${counter}`), node: 'desk' };
  const store = new ConnectionStore(join(scratch, `config-${counter}`, 'connections.json'));
  const session = new ConsoleSession({ store, local, ...options });
  open.push({ close: () => session.disconnect() });
  const states: ConnectionState[] = [];
  session.onState((state) => states.push(state));
  return { session, store, server, states, local };
}

function waitFor<T>(poll: () => T | undefined, timeoutMs = 3_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      const value = poll();
      if (value !== undefined) resolve(value);
      else if (Date.now() - started > timeoutMs) reject(new Error('timed out'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

/** The cluster's users as the agent sees them, in memory (api-users.test.ts has the full one). */
class TestUsers implements UserDirectory {
  private readonly records = new Map<string, UserRecord>();

  user(name: string): UserRecord | null {
    return this.records.get(name) ?? null;
  }

  onChange(): () => void {
    return () => undefined;
  }

  /** A user with a fresh secret; returns the credential text "NAME:SECRET". */
  async put(name: string, role: Role): Promise<string> {
    const secret = generateToken();
    this.records.set(name, { name, role, verifier: await verifierOf(secret), createdAt: 1, createdBy: 'root@127.0.0.1', rotatedAt: null });
    return `${name}:${secret}`;
  }
}

describe('connecting to the local agent', () => {
  test('nothing answers: disconnected, and says where it looked', async () => {
    const { session } = await setup({ server: false });
    const state = await session.autoConnect();
    assert.equal(state.phase, 'disconnected');
    assert.equal(state.detail, 'no agent answers on 127.0.0.1:9');
    assert.throws(() => session.agent(), (error: unknown) => error instanceof ApiRequestError && error.code === 'unavailable');
  });

  test('an answering agent with a readable token file: connected, commands work', async () => {
    const { session, server, states } = await setup();
    const state = await session.autoConnect();
    assert.equal(state.phase, 'connected');
    assert.equal(state.kind, 'local');
    assert.equal(state.endpoint, `ws://127.0.0.1:${server?.server.port}/api`);
    // Protocol 3: the audit log names the credential's identity (root for the node token), not the client label.
    assert.match(state.actor ?? '', /^root@127\.0\.0\.1$/);
    assert.deepEqual([state.user, state.role], [null, 'admin']);
    assert.deepEqual(states.map((entry) => entry.phase), ['connecting', 'connected']);
    const moved = await session.agent().request('resource.move', { name: 'web', target: 'n2' });
    assert.equal(moved.outcome, 'done');
    assert.equal(server?.handler.calls.at(-1)?.command.type, 'resource.move');
  });

  test('no token at hand (the file is root\'s): refused before connecting, with what to do', async () => {
    const { session } = await setup({ tokenInFile: false });
    const state = await session.autoConnect();
    assert.equal(state.phase, 'disconnected');
    assert.match(state.detail ?? '', /no token for the local agent.*password prompt/);
  });

  test('the token remembered from the elevated start is used, and forgotten when the agent refuses it', async () => {
    const { session, store, local } = await setup({ tokenInFile: false });
    await store.setLocalToken(local.port, TOKEN);
    assert.equal((await session.connect({ kind: 'local' })).phase, 'connected');
    await store.setLocalToken(local.port, 'e'.repeat(64));
    await assert.rejects(session.connect({ kind: 'local' }), (error: unknown) => error instanceof ApiRequestError && error.code === 'auth-failed');
    // The refused attempt costs nothing: the connection made with the good token stays.
    assert.equal(session.connection.phase, 'connected');
    assert.equal(await store.localToken(local.port), null);
    await session.disconnect();
    await assert.rejects(session.connect({ kind: 'local' }), (error: unknown) => error instanceof ApiRequestError);
    assert.equal(session.connection.phase, 'disconnected', 'with no connection to keep, a refused attempt leaves the session disconnected');
  });
});

describe('remote clusters', () => {
  test('typed, remembered (the list has no token), then connected again from the list', async () => {
    const { session, store, server } = await setup({ tokenInFile: false });
    const port = server?.server.port ?? 0;
    const state = await session.connect({ kind: 'remote', label: 'lab', address: `127.0.0.1:${port}`, credential: TOKEN, ca: null, remember: true });
    assert.equal(state.phase, 'connected');
    assert.equal(state.kind, 'remote');
    assert.match(state.id ?? '', /^[0-9a-f]{16}$/);
    const listed = await session.list();
    assert.equal(listed.saved.length, 1);
    assert.equal(listed.saved[0]?.endpoint, `ws://127.0.0.1:${port}/api`);
    assert.equal(listed.local.answering, true);
    assert.equal(listed.local.canStart, false);
    assert.ok(!JSON.stringify(listed).includes(TOKEN));
    await session.disconnect();
    const again = await session.connect({ kind: 'saved', id: listed.saved[0]?.id ?? '' });
    assert.equal(again.phase, 'connected');
    assert.equal(again.label, 'lab');
    assert.ok(((await store.list())[0]?.lastUsed ?? 0) > 0);
  });

  test('a wrong token: refused, disconnected with the reason, nothing remembered', async () => {
    const { session, store, server } = await setup();
    await assert.rejects(
      session.connect({ kind: 'remote', label: 'lab', address: `127.0.0.1:${server?.server.port}`, credential: 'd'.repeat(64), ca: null, remember: true }),
      (error: unknown) => error instanceof ApiRequestError && error.code === 'auth-failed',
    );
    assert.equal(session.connection.phase, 'disconnected');
    assert.ok((session.connection.detail ?? '').length > 0);
    assert.deepEqual(await store.list(), []);
  });

  test('a refused token for another cluster leaves the current connection as it was', async () => {
    const { session, server } = await setup();
    const other = await startTestServer();
    open.push(other.server);
    await session.autoConnect();
    const before = session.connection;
    assert.equal(before.phase, 'connected');
    const client = session.agent();
    await assert.rejects(
      session.connect({ kind: 'remote', label: 'other', address: `127.0.0.1:${other.server.port}`, credential: 'd'.repeat(64), ca: null, remember: false }),
      (error: unknown) => error instanceof ApiRequestError && error.code === 'auth-failed',
    );
    assert.deepEqual(session.connection, before, 'still connected to the first agent');
    assert.equal(session.agent(), client);
    assert.equal(client.closed, false);
    // And a good one replaces it: the old connection closes without being taken for a loss.
    const states: ConnectionState[] = [];
    session.onState((state) => states.push(state));
    const after = await session.connect({ kind: 'remote', label: 'other', address: `127.0.0.1:${other.server.port}`, credential: TOKEN, ca: null, remember: false });
    assert.equal(after.phase, 'connected');
    assert.equal(after.endpoint, `ws://127.0.0.1:${other.server.port}/api`);
    assert.equal(client.closed, true);
    assert.deepEqual(states.map((state) => state.phase), ['connected']);
    assert.notEqual(server?.server.port, other.server.port);
  });

  test('a user\'s credential: the state says who and which role; remembered, it logs in again as that user', async () => {
    const users = new TestUsers();
    const vera = await users.put('vera', 'viewer');
    const server = await startTestServer({ users });
    open.push(server.server);
    const { session, store } = await setup({ server: false, tokenInFile: false });
    const address = `127.0.0.1:${server.server.port}`;
    const state = await session.connect({ kind: 'remote', label: 'lab', address, credential: ` ${vera}\n`, ca: null, remember: true });
    assert.deepEqual([state.phase, state.actor, state.user, state.role], ['connected', 'vera@127.0.0.1', 'vera', 'viewer']);
    // What the role may not do is still refused by the agent, whatever the console sends.
    await assert.rejects(session.agent().request('resource.move', { name: 'web', target: 'n2' }), (error: unknown) => error instanceof ApiRequestError && error.code === 'forbidden');
    assert.equal(server.handler.calls.length, 0);
    const listed = await session.list();
    assert.ok(!JSON.stringify(listed).includes(vera.split(':')[1] ?? '?'), 'the list has no secret');
    assert.equal((await store.get(listed.saved[0]?.id ?? ''))?.token, vera, 'saved trimmed');
    await session.disconnect();
    assert.deepEqual([session.connection.user, session.connection.role], [null, null]);
    const again = await session.connect({ kind: 'saved', id: listed.saved[0]?.id ?? '' });
    assert.deepEqual([again.user, again.role], ['vera', 'viewer']);
    // A user whose credential the agent does not know is refused like a wrong token.
    await assert.rejects(
      session.connect({ kind: 'remote', label: 'lab', address, credential: `otto:${'d'.repeat(64)}`, ca: null, remember: false }),
      (error: unknown) => error instanceof ApiRequestError && error.code === 'auth-failed',
    );
  });

  test('a bad address or CA is a field error, and nothing is dialled', async () => {
    let dialled = 0;
    const { session } = await setup({
      connect: () => {
        dialled += 1;
        return Promise.reject(new Error('must not dial'));
      },
    });
    for (const [address, ca, field] of [
      ['http://evil/', null, 'address'],
      ['host:0', null, 'address'],
      ['2001:db8::1:7790', null, 'address'],
      ['cluster.example', '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----', 'ca'],
    ] as const) {
      await assert.rejects(
        session.connect({ kind: 'remote', label: 'x', address, credential: TOKEN, ca, remember: false }),
        (error: unknown) => error instanceof ApiRequestError && error.code === 'bad-request' && error.field === field,
        address,
      );
    }
    assert.equal(dialled, 0);
  });

  test('any address but loopback is dialled over TLS', async () => {
    const dialled: unknown[] = [];
    const { session } = await setup({
      connect: (options) => {
        dialled.push(options);
        return Promise.reject(new ApiRequestError('unavailable', 'not in a unit test'));
      },
    });
    await assert.rejects(session.connect({ kind: 'remote', label: 'prod', address: 'node1.example.net', credential: TOKEN, ca: null, remember: false }));
    assert.deepEqual(dialled, [{ host: 'node1.example.net', port: 7790, credential: TOKEN, tls: true, client: 'console:ui' }]);
    assert.equal(session.connection.endpoint, 'wss://node1.example.net:7790/api');
  });
});

describe('the stream', () => {
  test('a snapshot, then every change; opening it again starts over with a snapshot', async () => {
    const { session, server } = await setup();
    await session.autoConnect();
    const received: StreamMessage[] = [];
    await session.openStream((message) => received.push(message));
    assert.equal(received[0]?.type, 'snapshot');
    server?.handler.emit({ kind: 'audit', entry: auditEntry(2) });
    await waitFor(() => (received.length >= 2 ? true : undefined));
    assert.equal(received[1]?.type, 'change');
    await session.openStream((message) => received.push(message));
    assert.equal(received.at(-1)?.type, 'snapshot');
  });

  test('an agent that goes away: disconnected, and the state says so', async () => {
    const { session, server, states } = await setup();
    await session.autoConnect();
    await session.openStream(() => undefined);
    await server?.server.close();
    const lost = await waitFor(() => states.find((state) => state.phase === 'disconnected'));
    assert.match(lost.detail ?? '', /lost the connection to ws:\/\/127\.0\.0\.1:\d+\/api/);
    await assert.rejects(session.openStream(() => undefined), (error: unknown) => error instanceof ApiRequestError && error.code === 'unavailable');
  });
});

describe('starting the local agent (the password prompt answers through a function here)', () => {
  test('a cancelled prompt is an answer: nothing changes, no error', async () => {
    const { session } = await setup({ tokenInFile: false, startLocalAgent: () => Promise.resolve<LocalAgentLaunch>({ outcome: 'cancelled', detail: 'the password prompt was cancelled' }) });
    const result = await session.startLocalAgent();
    assert.equal(result.outcome, 'cancelled');
    assert.equal(result.connection.phase, 'disconnected');
  });

  test('started: the reported token is remembered and the console connects with it', async () => {
    const { session, store, local } = await setup({
      tokenInFile: false,
      startLocalAgent: () => Promise.resolve<LocalAgentLaunch>({ outcome: 'started', token: TOKEN, detail: 'started the local agent (pid 1)' }),
    });
    const result = await session.startLocalAgent();
    assert.equal(result.outcome, 'started');
    assert.equal(result.connection.phase, 'connected');
    assert.equal(await store.localToken(local.port), TOKEN);
    assert.equal((await session.list()).local.canStart, true);
  });

  test('no way to start one here: unsupported, said plainly', async () => {
    const { session } = await setup();
    const result = await session.startLocalAgent();
    assert.equal(result.outcome, 'unsupported');
  });
});
