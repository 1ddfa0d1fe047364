// The IPC contract between Electron main, the preload and the renderer (preload/contract/ipc.ts),
// and main's dispatch of one call (main/console/ipc-dispatch.ts): every verb has a channel and
// schemas, agent commands go through one `request` verb checked against the protocol's command
// table, the preload's copy of the channel table matches and needs nothing a sandbox lacks, and
// hostile senders, command types and arguments never reach an implementation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { z } from 'zod';
import {
  IPC_COMMAND_TYPES,
  IPC_CONTRACT,
  IPC_REQUEST_CHANNEL,
  IPC_STREAM_CHANNEL,
  IPC_VERBS,
  ipcOutcomeSchema,
  isIpcCommandType,
  isIpcVerb,
  unwrapOutcome,
  type IpcVerb,
} from '../../preload/contract/ipc';
import { ActionResultSchema, COMMAND_TYPES } from '../../preload/contract/protocol';
import { ApiRequestError } from '../../preload/contract/request-tracker';
import { CONSOLE_PAGE_URL, type SenderFacts } from '../../main/console/app-pages';
import { dispatchIpcCall, dispatchIpcRequest, isValidStreamMessage, servedFrom, toIpcError, type IpcRequestImplementation } from '../../main/console/ipc-dispatch';
import { actionDone, sampleSnapshot } from './api-fixtures';

const ROOT = resolve(__dirname, '..', '..', '..');

/** An implementation that records whether it ran (it must not, for a refused argument). */
function recorder<T>(result: T): { calls: unknown[]; run: (args: unknown) => Promise<T> } {
  const calls: unknown[] = [];
  return {
    calls,
    run: (args) => {
      calls.push(args);
      return Promise.resolve(result);
    },
  };
}

describe('the contract', () => {
  test('every verb has its channel ipfo:<verb> and zod schemas for argument and result', () => {
    assert.deepEqual([...IPC_VERBS].sort(), [
      'connection.connect', 'connection.disconnect', 'connection.forget', 'connection.list', 'connection.startLocalAgent', 'connection.status', 'subscribe', 'unsubscribe',
    ]);
    const channels = new Set<string>();
    for (const verb of IPC_VERBS) {
      const entry = IPC_CONTRACT[verb];
      assert.equal(entry.channel, `ipfo:${verb}`);
      assert.ok(entry.args instanceof z.ZodType, `${verb} args`);
      assert.ok(entry.result instanceof z.ZodType, `${verb} result`);
      channels.add(entry.channel);
    }
    assert.equal(channels.size, IPC_VERBS.length, 'channels are unique');
    assert.ok(!channels.has(IPC_STREAM_CHANNEL), 'the stream channel is not a verb');
    assert.ok(!channels.has(IPC_REQUEST_CHANNEL), 'the request channel is not one of the other verbs');
    assert.ok(isIpcVerb('subscribe') && !isIpcVerb('__proto__') && !isIpcVerb('constructor'));
  });

  test('agent commands are one verb with the protocol\'s names; the other verbs are the stream and connections', () => {
    assert.deepEqual([...IPC_COMMAND_TYPES].sort(), COMMAND_TYPES.filter((type) => type !== 'hello' && type !== 'auth' && type !== 'subscribe').sort());
    for (const type of ['snapshot', 'resource.move', 'resource.online', 'resource.offline', 'node.pause', 'node.resume', 'resource.add', 'resource.edit', 'resource.remove', 'probe', 'events.query', 'group.move']) {
      assert.ok(isIpcCommandType(type), type);
      assert.ok(!isIpcVerb(type), `${type} is no verb of its own`);
    }
    for (const type of ['hello', 'auth', 'subscribe', 'move', 'addResource', '__proto__']) assert.ok(!isIpcCommandType(type), type);
    for (const verb of ['subscribe', 'unsubscribe']) assert.ok(isIpcVerb(verb), verb);
    for (const verb of ['list', 'connect', 'forget', 'startLocalAgent']) assert.ok(isIpcVerb(`connection.${verb}`), verb);
  });

  test('the preload repeats exactly the contract\'s channels, and requires nothing but electron', () => {
    const source = readFileSync(resolve(ROOT, 'preload', 'index.ts'), 'utf8');
    const channels = [...source.matchAll(/'(ipfo:[A-Za-z.]+)'/g)].map((match) => match[1]);
    assert.deepEqual(
      [...new Set(channels)].sort(),
      [...IPC_VERBS.map((verb) => IPC_CONTRACT[verb].channel), IPC_STREAM_CHANNEL, IPC_REQUEST_CHANNEL].sort(),
    );
    // A sandboxed preload can require 'electron' but not zod or a sibling file.
    const compiled = readFileSync(resolve(ROOT, 'build', 'preload', 'index.js'), 'utf8');
    const requires = [...compiled.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1]);
    assert.deepEqual(requires, ['electron']);
    // The page's callback gets the message only, never the event (event.sender is ipcRenderer).
    assert.match(source, /function deliver\(_event: IpcRendererEvent, message: StreamMessage\)/);
    assert.doesNotMatch(source, /exposeInMainWorld\([^)]*ipcRenderer/);
  });
});

/** A request implementation that records whether it ran (it must not, for a refused call). */
function requestRecorder(result: unknown): { calls: Array<[string, unknown]>; run: IpcRequestImplementation } {
  const calls: Array<[string, unknown]> = [];
  return {
    calls,
    run: ((type: string, args: unknown) => {
      calls.push([type, args]);
      return Promise.resolve(result);
    }) as IpcRequestImplementation,
  };
}

describe('dispatching an agent command (request)', () => {
  test('a valid command reaches the implementation by its protocol name and its result comes back checked', async () => {
    const impl = requestRecorder(actionDone());
    const outcome = await dispatchIpcRequest([{ type: 'resource.move', args: { name: 'web', target: 'n2' } }], impl.run);
    assert.deepEqual(impl.calls, [['resource.move', { name: 'web', target: 'n2' }]]);
    assert.ok(outcome.ok);
    assert.equal((outcome.value as { outcome: string }).outcome, 'done');
  });

  test("the console's group move (issue 14 §2) crosses as the protocol's group.move, nothing added for it", async () => {
    const impl = requestRecorder(actionDone());
    const outcome = await dispatchIpcRequest([{ type: 'group.move', args: { name: 'gw', target: 'best' } }], impl.run);
    assert.deepEqual(impl.calls, [['group.move', { name: 'gw', target: 'best' }]]);
    assert.ok(outcome.ok);
  });

  test('a command without arguments accepts none or {}', async () => {
    const snapshot = { revision: 3, snapshot: sampleSnapshot() };
    for (const request of [{ type: 'snapshot' }, { type: 'snapshot', args: {} }]) {
      const impl = requestRecorder(snapshot);
      const outcome = await dispatchIpcRequest([request], impl.run);
      assert.ok(outcome.ok, JSON.stringify(request));
      assert.equal(impl.calls.length, 1);
    }
  });

  test('an unknown type is refused as unknown-type naming the field, and main\'s own commands are not the page\'s', async () => {
    for (const type of ['resource.teleport', 'move', 'auth', 'subscribe', '__proto__', 'constructor', 'x'.repeat(64)]) {
      const impl = requestRecorder(actionDone());
      const outcome = await dispatchIpcRequest([{ type, args: { token: 'a'.repeat(64) } }], impl.run);
      assert.equal(impl.calls.length, 0, type);
      assert.ok(!outcome.ok);
      assert.equal(outcome.error.code, 'unknown-type', type);
      assert.equal(outcome.error.field, 'type');
    }
  });

  const hostile: Array<[unknown[], string]> = [
    [[], 'no argument'],
    [['resource.move', { name: 'web', target: 'n2' }], 'type and args as two arguments'],
    [[{ type: 'resource.move', args: { name: 'web', target: 'n2' } }, { extra: true }], 'two arguments'],
    [['resource.move'], 'a string instead of the argument object'],
    [[42], 'a number'],
    [[null], 'null'],
    [[{ args: { name: 'web', target: 'n2' } }], 'no type'],
    [[{ type: 42, args: {} }], 'a number as type'],
    [[{ type: 'x'.repeat(10_000), args: {} }], 'a 10,000-character type'],
    [[{ type: 'resource.move', args: { name: 'web', target: 'n2' }, channel: 'ipfo:other' }], 'an unknown key beside type and args'],
    [[{ type: 'resource.move', args: 'web' }], 'a string as args'],
    [[{ type: 'resource.move', args: ['web', 'n2'] }], 'an array as args'],
    [[{ type: 'resource.move', args: { name: 'web' } }], 'a missing field'],
    [[{ type: 'resource.move', args: { name: 'web', target: 'n2', force: true } }], 'an unknown field'],
    [[{ type: 'resource.move', args: JSON.parse('{"name":"web","target":"n2","__proto__":{"polluted":true}}') as unknown }], 'a __proto__ key'],
    [[{ type: 'resource.move', args: { name: 'x'.repeat(10_000), target: 'n2' } }], 'a 10,000-character name'],
    [[{ type: 'resource.move', args: { name: '', target: 'n2' } }], 'an empty name'],
    [[{ type: 'resource.move', args: { name: { toString: 'web' }, target: 'n2' } }], 'an object posing as a name'],
    [[{ type: 'probe', args: { node: 'n1', ip: '10.0.0.1; rm -rf /' } }], 'an address with a shell tail'],
    [[{ type: 'probe', args: { node: 'n1', ip: '010.000.000.001' } }], 'a non-canonical address'],
    [[{ type: 'resource.add', args: { spec: { name: 'web', ip: '10.213.0.50', prefered: ['n1'] } } }], 'a typo in a spec field'],
    [[{ type: 'resource.edit', args: { name: 'web', patch: {} } }], 'an empty patch'],
    [[{ type: 'group.move', args: { name: 'gw' } }], 'a group move without its target'],
    [[{ type: 'group.move', args: { name: 'gw', target: 'n2', resources: ['inside'] } }], 'a group move with a field of group.add'],
    [[{ type: 'events.query', args: { limit: 1e9 } }], 'an unbounded limit'],
    [[{ type: 'events.query', args: { limit: 10, filter: { text: 't'.repeat(5000) } } }], 'an oversized filter'],
  ];

  for (const [args, what] of hostile) {
    test(`refused as bad-request before the implementation runs: ${what}`, async () => {
      const impl = requestRecorder(actionDone());
      const outcome = await dispatchIpcRequest(args, impl.run);
      assert.equal(impl.calls.length, 0);
      assert.ok(!outcome.ok);
      assert.equal(outcome.error.code, 'bad-request');
      assert.ok(outcome.error.message.length <= 300);
      assert.doesNotMatch(outcome.error.message, /[\n\u2028]/);
    });
  }

  test('argument issues name the field as the protocol spells it, for a form to show them', async () => {
    const outcome = await dispatchIpcRequest([{ type: 'resource.add', args: { spec: { name: 'web', ip: 42, prefix: 24 } } }], () => Promise.reject(new Error('must not run')));
    assert.ok(!outcome.ok);
    assert.equal(outcome.error.field, 'spec.ip');
  });

  test('a result that breaks the contract of its command is not handed to the page', async () => {
    const outcome = await dispatchIpcRequest([{ type: 'resource.move', args: { name: 'web', target: 'n2' } }], requestRecorder({ ...actionDone(), outcome: 'maybe' }).run);
    assert.ok(!outcome.ok);
    assert.equal(outcome.error.code, 'internal');
    assert.match(outcome.error.message, /breaks the IPC contract/);
    // The result schema is the command's own: a snapshot is not an answer to a move.
    const wrong = await dispatchIpcRequest([{ type: 'resource.move', args: { name: 'web', target: 'n2' } }], requestRecorder({ revision: 3, snapshot: sampleSnapshot() }).run);
    assert.ok(!wrong.ok && wrong.error.code === 'internal');
  });

  test('an agent error keeps its code, field and issues; anything else becomes internal', async () => {
    const agentFailure = new ApiRequestError('invalid', 'spec.ip: 10.213.0.0 is the network address', { field: 'spec.ip', issues: [{ field: 'spec.ip', message: 'network address' }] });
    const outcome = await dispatchIpcRequest([{ type: 'resource.add', args: { spec: { name: 'web', ip: '10.213.0.0' } } }], () => Promise.reject(agentFailure));
    assert.deepEqual(outcome, {
      ok: false,
      error: { code: 'invalid', message: 'spec.ip: 10.213.0.0 is the network address', field: 'spec.ip', issues: [{ field: 'spec.ip', message: 'network address' }] },
    });
    const crash = toIpcError(new TypeError('x is not a function\nat secret line'));
    assert.equal(crash.code, 'internal');
    assert.doesNotMatch(crash.message, /\n/);
  });

  test('outcomes are plain data that survive structured cloning (contextBridge)', async () => {
    const outcome = await dispatchIpcRequest([{ type: 'resource.move', args: { name: 'web', target: 'best' } }], () => Promise.reject(new ApiRequestError('conflict', 'answered by 02:00:00:00:00:66')));
    const cloned: unknown = structuredClone(outcome);
    assert.deepEqual(cloned, outcome);
    assert.ok(ipcOutcomeSchema(ActionResultSchema).safeParse(cloned).success);
  });
});

describe('dispatching a call of the other verbs', () => {
  test('a verb without arguments accepts none or {}', async () => {
    const state = { phase: 'disconnected', kind: null, id: null, label: null, endpoint: null, actor: null, user: null, role: null, detail: null } as const;
    for (const args of [[], [undefined], [{}]]) {
      const impl = recorder(state);
      const outcome = await dispatchIpcCall('connection.status', args, impl.run);
      assert.ok(outcome.ok, JSON.stringify(args));
      assert.equal(impl.calls.length, 1);
    }
  });

  const hostile: Array<[IpcVerb, unknown[], string]> = [
    ['connection.forget', [{ id: '0123456789abcdef' }, { extra: true }], 'two arguments'],
    ['connection.forget', ['0123456789abcdef'], 'a string instead of the argument object'],
    ['connection.connect', [{ kind: 'shell', command: 'id' }], 'an unknown connection kind'],
    ['connection.connect', [{ kind: 'saved', id: '../../etc/passwd' }], 'a path as connection id'],
    ['connection.connect', [{ kind: 'remote', label: 'prod\nINJECTED', address: 'a:1', credential: 'a'.repeat(64), ca: null, remember: true }], 'a two-line label'],
    ['connection.connect', [{ kind: 'remote', label: 'prod', address: 'a:1', credential: 'not-a-token', ca: null, remember: true }], 'a malformed credential'],
    ['connection.connect', [{ kind: 'remote', label: 'prod', address: 'a:1', credential: `root:${'a'.repeat(64)}`, ca: null, remember: true }], 'a credential for the reserved user root'],
    ['connection.connect', [{ kind: 'remote', label: 'prod', address: 'a:1', credential: `alice:${'a'.repeat(64)}\nx`, ca: null, remember: true }], 'a credential with a second line'],
    ['connection.connect', [{ kind: 'remote', label: 'prod', address: 'a:1', credential: 'a'.repeat(100_000), ca: null, remember: true }], 'an oversized credential'],
    ['connection.connect', [{ kind: 'remote', label: 'prod', address: 'a:1', token: 'a'.repeat(64), ca: null, remember: true }], 'the old name of the credential (token)'],
    ['connection.connect', [{ kind: 'remote', label: 'prod', address: 'a:1', credential: 'a'.repeat(64), ca: 'just text', remember: true }], 'a CA that is not PEM'],
    ['connection.connect', [{ kind: 'remote', label: 'prod', address: 'a'.repeat(5000), credential: 'a'.repeat(64), ca: null, remember: true }], 'an oversized address'],
    ['connection.forget', [{ id: 'x' }], 'a malformed id'],
    ['connection.startLocalAgent', [{ command: '/bin/sh' }], 'arguments to a verb that takes none'],
    ['subscribe', [{ channel: 'ipfo:other' }], 'a channel of its own choosing'],
  ];

  for (const [verb, args, what] of hostile) {
    test(`refused before the implementation runs: ${verb} with ${what}`, async () => {
      const impl = recorder({ forgotten: true });
      const outcome = await dispatchIpcCall(verb, args, impl.run as never);
      assert.equal(impl.calls.length, 0);
      assert.ok(!outcome.ok);
      assert.equal(outcome.error.code, 'bad-request');
      assert.ok(outcome.error.message.length <= 300);
      assert.doesNotMatch(outcome.error.message, /[\n\u2028]/);
    });
  }

  test('field issues point at the field, for a form to show them', async () => {
    const outcome = await dispatchIpcCall('connection.connect', [{ kind: 'remote', label: '', address: '', credential: 'x', ca: null, remember: false }], () => Promise.reject(new Error('must not run')));
    assert.ok(!outcome.ok);
    const fields = (outcome.error.issues ?? []).map((issue) => issue.field).sort();
    assert.deepEqual(fields, ['address', 'credential', 'label']);
  });

  test('a result that breaks the contract is not handed to the page', async () => {
    const outcome = await dispatchIpcCall('connection.forget', [{ id: '0123456789abcdef' }], () => Promise.resolve({ forgotten: 'yes' } as never));
    assert.ok(!outcome.ok);
    assert.equal(outcome.error.code, 'internal');
    assert.match(outcome.error.message, /breaks the IPC contract/);
  });
});

describe('the sender check', () => {
  const OURS: SenderFacts = { fromConsoleWindow: true, isTopFrame: true, frameUrl: CONSOLE_PAGE_URL };
  const strangers: Array<[SenderFacts, string]> = [
    [{ ...OURS, fromConsoleWindow: false }, 'another window'],
    [{ ...OURS, isTopFrame: false }, 'an iframe'],
    [{ ...OURS, frameUrl: null }, 'a gone frame'],
    [{ ...OURS, frameUrl: 'https://evil.example/index.html' }, 'a foreign page'],
  ];

  for (const [sender, what] of strangers) {
    test(`a call from ${what} is refused before anything runs, and logged`, async () => {
      const impl = requestRecorder(actionDone());
      const log: string[] = [];
      await assert.rejects(
        servedFrom(sender, 'request', (line) => log.push(line), () => dispatchIpcRequest([{ type: 'resource.move', args: { name: 'web', target: 'n2' } }], impl.run)),
        (error: unknown) => error instanceof Error && error.message === 'refused',
      );
      assert.equal(impl.calls.length, 0);
      assert.equal(log.length, 1);
      assert.match(log[0] ?? '', /^ipc: refused request: /);
    });
  }

  test('a call from our page is served', async () => {
    const impl = requestRecorder(actionDone());
    const outcome = await servedFrom(OURS, 'request', () => assert.fail('nothing to log'), () => dispatchIpcRequest([{ type: 'resource.online', args: { name: 'web' } }], impl.run));
    assert.ok(outcome.ok);
    assert.deepEqual(impl.calls, [['resource.online', { name: 'web' }]]);
  });
});

describe('unwrapOutcome', () => {
  test('returns the value, or throws an ApiRequestError with the agent\'s code and issues', () => {
    assert.equal(unwrapOutcome({ ok: true, value: 7 }), 7);
    assert.throws(
      () => unwrapOutcome({ ok: false, error: { code: 'invalid', message: 'bad ip', field: 'spec.ip', issues: [{ field: 'spec.ip', message: 'bad ip' }] } }),
      (error: unknown) => error instanceof ApiRequestError && error.code === 'invalid' && error.field === 'spec.ip' && error.issues.length === 1,
    );
  });
});

describe('stream messages', () => {
  test('snapshot, change and connection messages pass; anything else is dropped', () => {
    assert.ok(isValidStreamMessage({ type: 'snapshot', revision: 1, snapshot: sampleSnapshot() }));
    assert.ok(isValidStreamMessage({ type: 'change', revision: 2, change: { kind: 'resource-removed', name: 'web' } }));
    assert.ok(
      isValidStreamMessage({
        type: 'connection',
        connection: { phase: 'disconnected', kind: null, id: null, label: null, endpoint: null, actor: null, user: null, role: null, detail: 'no agent answers' },
      }),
    );
    assert.ok(!isValidStreamMessage({ type: 'eval', code: 'alert(1)' }));
    assert.ok(!isValidStreamMessage({ type: 'change', revision: -1, change: { kind: 'resource-removed', name: 'web' } }));
    assert.ok(!isValidStreamMessage({ type: 'connection', connection: { phase: 'connected' } }));
  });

  test('the paged stream: a head and decoded rows pass; the compact form (main decodes it) and anything off do not', () => {
    const { resources, ...rest } = sampleSnapshot();
    const view = { sort: { column: 'name', direction: 'asc' }, filter: '', pageSize: 100 };
    const states = { online: 1, offline: 0, failed: 0, 'online-pending': 0, 'offline-pending': 0 };
    const head = { type: 'snapshot-head', revision: 3, view, resourceCount: resources.length, matching: resources.length, states, page: resources.slice(0, 1), ...rest };
    assert.ok(isValidStreamMessage(head));
    assert.ok(isValidStreamMessage({ type: 'snapshot-rows', revision: 3, resources, done: true }));
    assert.ok(!isValidStreamMessage({ ...head, view: { ...view, pageSize: 501 } }));
    assert.ok(!isValidStreamMessage({ type: 'snapshot-rows', revision: 3, rows: { specs: [], failures: [], strings: [], cells: [], raw: [] }, done: true }));
    assert.ok(!isValidStreamMessage({ type: 'snapshot-rows', revision: 3, resources: [{ name: 'web' }], done: true }));
  });
});
