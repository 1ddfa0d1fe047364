// BridgeApi (renderer/src/api/bridge-api.ts) against a fake window.ipfo: the connection verbs'
// answers are checked against the IPC contract, failures keep their code and field issues, the
// stream's messages are checked before use, and the stream follows main's connection (a new
// session subscribes again, an ended one drops the cluster on screen).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectionList, ConnectionState, IpcOutcome, IpfoBridge, StreamMessage } from '../../preload/contract/ipc';
import type { Push } from '../../preload/contract/protocol';
import { ApiRequestError } from '../../preload/contract/request-tracker';
import type { ConnectionStatus } from '../../renderer/src/api/console-api';
import { BridgeApi, checkStreamMessage, statusFromConnection } from '../../renderer/src/api/bridge-api';
import { changePush, resource, snapshotPush } from './renderer-fixtures';

const DISCONNECTED: ConnectionState = { phase: 'disconnected', kind: null, id: null, label: null, endpoint: null, actor: null, user: null, role: null, detail: 'no agent answers on 127.0.0.1:7790' };
const LOCAL: ConnectionState = { phase: 'connected', kind: 'local', id: null, label: 'This host', endpoint: 'ws://127.0.0.1:7790/api', actor: 'root@127.0.0.1', user: null, role: 'admin', detail: null };
const REMOTE_VIEWER: ConnectionState = { phase: 'connected', kind: 'remote', id: '0123456789abcdef', label: 'production', endpoint: 'wss://node1.example.net:7790/api', actor: 'vera@10.0.0.9', user: 'vera', role: 'viewer', detail: null };
const LIST: ConnectionList = { saved: [], local: { endpoint: 'ws://127.0.0.1:7790/api', answering: true, canStart: false }, current: DISCONNECTED };

/** A window.ipfo whose answers a test sets, which records what was called and lets the test push stream messages. */
class FakeBridge {
  subscribes = 0;
  unsubscribes = 0;
  /** The view each subscription asked for (the paged stream's first page). */
  readonly views: unknown[] = [];
  readonly calls: Array<{ verb: string; args: unknown }> = [];
  answers: Record<string, () => Promise<unknown>> = {};
  private listener: ((message: unknown) => void) | null = null;

  private answer(verb: string, args: unknown): Promise<never> {
    this.calls.push({ verb, args });
    const answer = this.answers[verb];
    if (answer === undefined) return Promise.reject(new Error(`no answer for ${verb}`));
    return answer() as Promise<never>;
  }

  /** Sends a stream message as main would (anything: the page must check it). */
  push(message: unknown): void {
    this.listener?.(message);
  }

  readonly bridge: IpfoBridge = {
    request: (type, args) => this.answer(`request:${type}`, args),
    subscribe: (onMessage, view) => {
      this.subscribes++;
      this.views.push(view);
      this.listener = onMessage as (message: unknown) => void;
      return () => {
        this.unsubscribes++;
        this.listener = null;
      };
    },
    connection: {
      status: (args) => this.answer('status', args),
      list: (args) => this.answer('list', args),
      connect: (args) => this.answer('connect', args),
      forget: (args) => this.answer('forget', args),
      disconnect: (args) => this.answer('disconnect', args),
      startLocalAgent: (args) => this.answer('startLocalAgent', args),
    },
  };
}

const ok = <T>(value: T): (() => Promise<IpcOutcome<T>>) => () => Promise.resolve({ ok: true, value });

async function rejection(promise: Promise<unknown>): Promise<ApiRequestError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiRequestError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

function started(fake: FakeBridge, status: ConnectionState = LOCAL) {
  fake.answers.status = ok(status);
  const api = new BridgeApi(fake.bridge);
  const pushes: Push[] = [];
  const statuses: ConnectionStatus[] = [];
  let resets = 0;
  const stop = api.start(
    (push) => pushes.push(push),
    (s) => statuses.push(s),
    () => resets++,
  );
  return { api, pushes, statuses, resets: () => resets, stop };
}

const tick = (): Promise<void> => new Promise((done) => setImmediate(done));

describe('the connection verbs', () => {
  test('an answer that keeps the contract comes through as it is', async () => {
    const fake = new FakeBridge();
    fake.answers.list = ok(LIST);
    const api = new BridgeApi(fake.bridge);
    assert.deepEqual(await api.connections.list(), LIST);
    fake.answers.forget = ok({ forgotten: true });
    assert.equal(await api.connections.forget('0123456789abcdef'), true);
    assert.deepEqual(fake.calls.at(-1), { verb: 'forget', args: { id: '0123456789abcdef' } });
  });

  test('an answer that breaks the contract is refused, not used', async () => {
    const fake = new FakeBridge();
    const api = new BridgeApi(fake.bridge);
    fake.answers.list = ok({ ...LIST, local: { ...LIST.local, canStart: 'yes' } });
    assert.equal((await rejection(api.connections.list())).code, 'protocol');
    fake.answers.connect = ok({ ...LOCAL, phase: 'owned' });
    assert.equal((await rejection(api.connections.connect({ kind: 'local' }))).code, 'protocol');
    fake.answers.startLocalAgent = () => Promise.resolve({ ok: true, value: { outcome: 'started', detail: 'x'.repeat(2000), connection: LOCAL } });
    assert.equal((await rejection(api.connections.startLocalAgent())).code, 'protocol');
    fake.answers.forget = () => Promise.resolve({ ok: false, error: { code: 'no-such-code', message: 'x' } });
    assert.equal((await rejection(api.connections.forget('0123456789abcdef'))).code, 'protocol');
  });

  test('a refusal keeps its code and its field issues (the form puts them beside the fields)', async () => {
    const fake = new FakeBridge();
    const api = new BridgeApi(fake.bridge);
    const issues = [{ field: 'address', message: 'address: "bad host!" is not a host name or IPv4 address' }];
    fake.answers.connect = () => Promise.resolve({ ok: false, error: { code: 'bad-request', message: issues[0]?.message ?? '', field: 'address', issues } });
    const error = await rejection(api.connections.connect({ kind: 'remote', label: 'p', address: 'bad host!', credential: 'ab'.repeat(32), ca: null, remember: true }));
    assert.equal(error.code, 'bad-request');
    assert.equal(error.field, 'address');
    assert.deepEqual(error.issues, issues);
    fake.answers.connect = () => Promise.resolve({ ok: false, error: { code: 'auth-failed', message: 'invalid token' } });
    assert.equal((await rejection(api.connections.connect({ kind: 'local' }))).code, 'auth-failed');
  });

  test('a bridge that throws (main gone) is a closed connection', async () => {
    const fake = new FakeBridge();
    const api = new BridgeApi(fake.bridge);
    fake.answers.disconnect = () => Promise.reject(new Error('refused'));
    const error = await rejection(api.connections.disconnect());
    assert.equal(error.code, 'closed');
    assert.match(error.message, /desktop bridge: refused/);
  });

  test('agent commands go by name and come back as values or ApiRequestError', async () => {
    const fake = new FakeBridge();
    const api = new BridgeApi(fake.bridge);
    fake.answers['request:node.pause'] = () => Promise.resolve({ ok: false, error: { code: 'not-found', message: 'no node n9' } });
    assert.equal((await rejection(api.request('node.pause', { name: 'n9' }))).code, 'not-found');
    assert.deepEqual(fake.calls.at(-1), { verb: 'request:node.pause', args: { name: 'n9' } });
  });
});

describe('the stream', () => {
  test('pushes that keep the contract reach the console; others are dropped and said', async () => {
    const fake = new FakeBridge();
    const run = started(fake);
    await tick();
    assert.equal(fake.subscribes, 1);
    fake.push(snapshotPush(5, { resources: [resource('web', '10.0.0.50')] }));
    fake.push(changePush(6, { kind: 'resource', resource: resource('web', '10.0.0.50', { owner: 'n2' }) }));
    assert.deepEqual(run.pushes.map((push) => [push.type, 'revision' in push ? push.revision : null]), [
      ['snapshot', 5],
      ['change', 6],
    ]);
    fake.push({ type: 'snapshot', revision: 7, snapshot: { nodes: [], resources: [{ name: 'x' }], conflicts: [], events: [] } });
    fake.push({ type: 'change', revision: 8, change: { kind: 'resource' }, extra: true });
    fake.push('not an object');
    assert.equal(run.pushes.length, 2, 'nothing that breaks the contract was applied');
    assert.equal(run.statuses.at(-1)?.phase, 'broken');
    assert.match(run.statuses.at(-1)?.detail ?? '', /breaks the contract/);
    run.stop();
    assert.equal(fake.unsubscribes, 1);
    fake.push(snapshotPush(9));
    assert.equal(run.pushes.length, 2, 'nothing after stop');
  });

  test('the paged stream: the view goes with the subscription; head and decoded rows are checked like snapshots', async () => {
    const fake = new FakeBridge();
    const api = new BridgeApi(fake.bridge);
    const view = { sort: { column: 'state' as const, direction: 'desc' as const }, filter: 'n1', pageSize: 50 };
    api.setView(view);
    const pushes: Push[] = [];
    const statuses: ConnectionStatus[] = [];
    const stop = api.start((push) => pushes.push(push), (status) => statuses.push(status));
    await tick();
    assert.deepEqual(fake.views, [view]);
    const rows = [resource('web', '10.0.0.50'), resource('db', '10.0.0.51')];
    const head = { type: 'snapshot-head', revision: 5, view, resourceCount: 2, matching: 1, states: { online: 2, offline: 0, failed: 0, 'online-pending': 0, 'offline-pending': 0 }, page: rows.slice(0, 1), nodes: [], conflicts: [], events: [], rejected: [] };
    fake.push(head);
    fake.push({ type: 'snapshot-rows', revision: 5, resources: rows, done: true });
    assert.deepEqual(pushes.map((push) => push.type), ['snapshot-head', 'snapshot-rows']);
    assert.deepEqual(checkStreamMessage({ type: 'snapshot-rows', revision: 5, resources: rows, done: true }), { type: 'snapshot-rows', revision: 5, resources: rows, done: true });
    // Main forwards rows decoded; a compact or broken rows message, or a head with an extra key, is refused.
    fake.push({ type: 'snapshot-rows', revision: 5, resources: [{ ...rows[0], extra: 1 }], done: true });
    fake.push({ type: 'snapshot-rows', revision: 5, rows: { specs: [], failures: [], strings: [], cells: [], raw: [] }, done: true });
    fake.push({ ...head, extra: true });
    fake.push({ ...head, matching: -1 });
    assert.equal(pushes.length, 2, 'nothing that breaks the contract was applied');
    assert.equal(statuses.at(-1)?.phase, 'broken');
    stop();
  });

  test('connection messages are checked too', () => {
    assert.equal(checkStreamMessage({ type: 'connection', connection: LOCAL })?.type, 'connection');
    assert.equal(checkStreamMessage({ type: 'connection', connection: { ...LOCAL, phase: 'owned' } }), null);
    assert.equal(checkStreamMessage({ type: 'connection', connection: LOCAL, token: 'x' }), null);
    assert.equal(checkStreamMessage({ type: 'connection', connection: { ...LOCAL, role: 'root' } }), null, 'a role the contract does not know');
    assert.equal(checkStreamMessage({ type: 'connection', connection: { ...LOCAL, user: 'Vera <script>' } }), null, 'a user name the contract does not allow');
  });

  test('who is signed in (user and role) reaches the status the console shows and gates on', async () => {
    const fake = new FakeBridge();
    const run = started(fake, REMOTE_VIEWER);
    await tick();
    const status = run.statuses.at(-1);
    assert.deepEqual({ phase: status?.phase, actor: status?.actor, user: status?.user, role: status?.role }, { phase: 'connected', actor: 'vera@10.0.0.9', user: 'vera', role: 'viewer' });
    // The node token: no user (the console shows root), admin.
    fake.push({ type: 'connection', connection: LOCAL });
    assert.deepEqual([run.statuses.at(-1)?.user, run.statuses.at(-1)?.role], [null, 'admin']);
    // Disconnected: no session, no role (nothing is offered).
    fake.push({ type: 'connection', connection: DISCONNECTED });
    assert.deepEqual([run.statuses.at(-1)?.user, run.statuses.at(-1)?.role], [null, null]);
    assert.deepEqual(statusFromConnection(REMOTE_VIEWER), { phase: 'connected', endpoint: 'production (wss://node1.example.net:7790/api)', actor: 'vera@10.0.0.9', user: 'vera', role: 'viewer', detail: null, retryAt: null });
    run.stop();
  });

  test('from not connected to connected: a new subscription (the snapshot comes with it)', async () => {
    const fake = new FakeBridge();
    const run = started(fake, DISCONNECTED);
    await tick();
    assert.equal(run.statuses.at(-1)?.phase, 'disconnected');
    assert.equal(run.statuses.at(-1)?.detail, DISCONNECTED.detail);
    assert.equal(fake.subscribes, 1);
    const message = (connection: ConnectionState): StreamMessage => ({ type: 'connection', connection });
    fake.push(message({ ...LOCAL, phase: 'connecting', actor: null, user: null, role: null }));
    assert.equal(fake.subscribes, 1);
    assert.equal(run.statuses.at(-1)?.phase, 'connecting');
    fake.push(message(LOCAL));
    assert.equal(fake.subscribes, 2, 'subscribed again once connected');
    assert.equal(run.statuses.at(-1)?.phase, 'connected');
    assert.equal(run.statuses.at(-1)?.endpoint, 'This host (ws://127.0.0.1:7790/api)');
    // The new subscription's first message repeats the state: no third subscription.
    fake.push(message(LOCAL));
    assert.equal(fake.subscribes, 2);
    assert.equal(run.resets(), 0);
  });

  test('a session that ends drops the cluster; the connect verb\'s own answer counts like a message', async () => {
    const fake = new FakeBridge();
    const run = started(fake, LOCAL);
    await tick();
    fake.push(snapshotPush(5));
    fake.answers.disconnect = ok({ ...DISCONNECTED, detail: null });
    await run.api.connections.disconnect();
    assert.equal(run.resets(), 1);
    assert.equal(run.statuses.at(-1)?.phase, 'disconnected');
    const subscribes = fake.subscribes;
    fake.answers.connect = ok(LOCAL);
    await run.api.connections.connect({ kind: 'local' });
    assert.equal(fake.subscribes, subscribes + 1, 'connected again: subscribed again');
    assert.equal(run.statuses.at(-1)?.phase, 'connected');
  });
});
