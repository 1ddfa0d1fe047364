// The IPC contract between Electron main, the preload and the renderer (preload/contract/ipc.ts),
// and main's dispatch of one call (main/console/ipc-dispatch.ts): every verb has a channel and
// schemas, the preload's copy of the channel table matches and needs nothing a sandbox lacks, and
// hostile arguments never reach an implementation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { z } from 'zod';
import {
  IPC_CONTRACT,
  IPC_STREAM_CHANNEL,
  IPC_VERBS,
  IpcCallError,
  ipcOutcomeSchema,
  isIpcVerb,
  unwrapOutcome,
  type IpcVerb,
} from '../../preload/contract/ipc';
import { AgentError } from '../../main/api/client';
import { dispatchIpcCall, isValidStreamMessage, toIpcError } from '../../main/console/ipc-dispatch';
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
    assert.ok(IPC_VERBS.length >= 19);
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
    assert.ok(isIpcVerb('move') && !isIpcVerb('__proto__') && !isIpcVerb('constructor'));
  });

  test('the domain verbs the brief names are all there', () => {
    for (const verb of ['snapshot', 'subscribe', 'move', 'online', 'offline', 'pauseNode', 'resumeNode', 'addResource', 'editResource', 'removeResource', 'probe', 'queryEvents']) {
      assert.ok(isIpcVerb(verb), verb);
    }
    for (const verb of ['list', 'connect', 'forget', 'startLocalAgent']) assert.ok(isIpcVerb(`connection.${verb}`), verb);
  });

  test('the preload repeats exactly the contract\'s channels, and requires nothing but electron', () => {
    const source = readFileSync(resolve(ROOT, 'preload', 'index.ts'), 'utf8');
    const channels = [...source.matchAll(/'(ipfo:[A-Za-z.]+)'/g)].map((match) => match[1]);
    assert.deepEqual(
      [...new Set(channels)].sort(),
      [...IPC_VERBS.map((verb) => IPC_CONTRACT[verb].channel), IPC_STREAM_CHANNEL].sort(),
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

describe('dispatching a call', () => {
  test('a valid argument reaches the implementation and its result comes back checked', async () => {
    const impl = recorder(actionDone());
    const outcome = await dispatchIpcCall('move', [{ name: 'web', target: 'n2' }], impl.run);
    assert.deepEqual(impl.calls, [{ name: 'web', target: 'n2' }]);
    assert.ok(outcome.ok);
    assert.equal(outcome.value.outcome, 'done');
  });

  test('a verb without arguments accepts none or {}', async () => {
    const snapshot = { revision: 3, snapshot: sampleSnapshot() };
    for (const args of [[], [undefined], [{}]]) {
      const impl = recorder(snapshot);
      const outcome = await dispatchIpcCall('snapshot', args, impl.run);
      assert.ok(outcome.ok, JSON.stringify(args));
      assert.equal(impl.calls.length, 1);
    }
  });

  const hostile: Array<[IpcVerb, unknown[], string]> = [
    ['move', ['web'], 'a string instead of the argument object'],
    ['move', [42], 'a number'],
    ['move', [null], 'null'],
    ['move', [['web', 'n2']], 'an array'],
    ['move', [{ name: 'web', target: 'n2' }, { extra: true }], 'two arguments'],
    ['move', [{ name: 'web' }], 'a missing field'],
    ['move', [{ name: 'web', target: 'n2', force: true }], 'an unknown field'],
    ['move', [JSON.parse('{"name":"web","target":"n2","__proto__":{"polluted":true}}')], 'a __proto__ key'],
    ['move', [{ name: 'x'.repeat(10_000), target: 'n2' }], 'a 10,000-character name'],
    ['move', [{ name: '', target: 'n2' }], 'an empty name'],
    ['move', [{ name: { toString: 'web' }, target: 'n2' }], 'an object posing as a name'],
    ['probe', [{ node: 'n1', ip: '10.0.0.1; rm -rf /' }], 'an address with a shell tail'],
    ['probe', [{ node: 'n1', ip: '010.000.000.001' }], 'a non-canonical address'],
    ['addResource', [{ spec: { name: 'web', ip: '10.213.0.50', prefered: ['n1'] } }], 'a typo in a spec field'],
    ['editResource', [{ name: 'web', patch: {} }], 'an empty patch'],
    ['queryEvents', [{ limit: 1e9 }], 'an unbounded limit'],
    ['queryEvents', [{ limit: 10, filter: { text: 't'.repeat(5000) } }], 'an oversized filter'],
    ['connection.connect', [{ kind: 'shell', command: 'id' }], 'an unknown connection kind'],
    ['connection.connect', [{ kind: 'saved', id: '../../etc/passwd' }], 'a path as connection id'],
    ['connection.connect', [{ kind: 'remote', label: 'prod\nINJECTED', address: 'a:1', token: 'a'.repeat(64), ca: null, remember: true }], 'a two-line label'],
    ['connection.connect', [{ kind: 'remote', label: 'prod', address: 'a:1', token: 'not-a-token', ca: null, remember: true }], 'a malformed token'],
    ['connection.connect', [{ kind: 'remote', label: 'prod', address: 'a:1', token: 'a'.repeat(64), ca: 'just text', remember: true }], 'a CA that is not PEM'],
    ['connection.connect', [{ kind: 'remote', label: 'prod', address: 'a'.repeat(5000), token: 'a'.repeat(64), ca: null, remember: true }], 'an oversized address'],
    ['connection.forget', [{ id: 'x' }], 'a malformed id'],
    ['connection.startLocalAgent', [{ command: '/bin/sh' }], 'arguments to a verb that takes none'],
    ['subscribe', [{ channel: 'ipfo:other' }], 'a channel of its own choosing'],
  ];

  for (const [verb, args, what] of hostile) {
    test(`refused before the implementation runs: ${verb} with ${what}`, async () => {
      const impl = recorder(actionDone());
      const outcome = await dispatchIpcCall(verb, args, impl.run as never);
      assert.equal(impl.calls.length, 0);
      assert.ok(!outcome.ok);
      assert.equal(outcome.error.code, 'bad-request');
      assert.ok(outcome.error.message.length <= 300);
      assert.doesNotMatch(outcome.error.message, /[\n\u2028]/);
    });
  }

  test('field issues point at the field, for a form to show them', async () => {
    const outcome = await dispatchIpcCall('connection.connect', [{ kind: 'remote', label: '', address: '', token: 'x', ca: null, remember: false }], () => Promise.reject(new Error('must not run')));
    assert.ok(!outcome.ok);
    const fields = (outcome.error.issues ?? []).map((issue) => issue.field).sort();
    assert.deepEqual(fields, ['address', 'label', 'token']);
  });

  test('a result that breaks the contract is not handed to the page', async () => {
    const outcome = await dispatchIpcCall('move', [{ name: 'web', target: 'n2' }], () => Promise.resolve({ ...actionDone(), outcome: 'maybe' } as never));
    assert.ok(!outcome.ok);
    assert.equal(outcome.error.code, 'internal');
    assert.match(outcome.error.message, /breaks the IPC contract/);
  });

  test('an agent error keeps its code, field and issues; anything else becomes internal', async () => {
    const agentFailure = new AgentError('invalid', 'spec.ip: 10.213.0.0 is the network address', { field: 'spec.ip', issues: [{ field: 'spec.ip', message: 'network address' }] });
    const outcome = await dispatchIpcCall('addResource', [{ spec: { name: 'web', ip: '10.213.0.0' } }], () => Promise.reject(agentFailure));
    assert.deepEqual(outcome, {
      ok: false,
      error: { code: 'invalid', message: 'spec.ip: 10.213.0.0 is the network address', field: 'spec.ip', issues: [{ field: 'spec.ip', message: 'network address' }] },
    });
    const crash = toIpcError(new TypeError('x is not a function\nat secret line'));
    assert.equal(crash.code, 'internal');
    assert.doesNotMatch(crash.message, /\n/);
  });

  test('outcomes are plain data that survive structured cloning (contextBridge)', async () => {
    const outcome = await dispatchIpcCall('move', [{ name: 'web', target: 'best' }], () => Promise.reject(new AgentError('conflict', 'answered by 02:00:00:00:00:66')));
    const cloned: unknown = structuredClone(outcome);
    assert.deepEqual(cloned, outcome);
    assert.ok(ipcOutcomeSchema(IPC_CONTRACT.move.result).safeParse(cloned).success);
  });
});

describe('unwrapOutcome', () => {
  test('returns the value, or throws an IpcCallError with the agent\'s code and issues', () => {
    assert.equal(unwrapOutcome({ ok: true, value: 7 }), 7);
    assert.throws(
      () => unwrapOutcome({ ok: false, error: { code: 'invalid', message: 'bad ip', field: 'spec.ip', issues: [{ field: 'spec.ip', message: 'bad ip' }] } }),
      (error: unknown) => error instanceof IpcCallError && error.code === 'invalid' && error.field === 'spec.ip' && error.issues.length === 1,
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
        connection: { phase: 'disconnected', kind: null, id: null, label: null, endpoint: null, actor: null, detail: 'no agent answers' },
      }),
    );
    assert.ok(!isValidStreamMessage({ type: 'eval', code: 'alert(1)' }));
    assert.ok(!isValidStreamMessage({ type: 'change', revision: -1, change: { kind: 'resource-removed', name: 'web' } }));
    assert.ok(!isValidStreamMessage({ type: 'connection', connection: { phase: 'connected' } }));
  });
});
