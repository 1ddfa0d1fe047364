// The request tracker and error class every client shares (preload/contract/request-tracker.ts):
// ids, timeouts, replies in any order, rejection on close, replies to nothing, results checked
// against the contract, and the error's fields.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiRequestError, RequestTracker } from '../../preload/contract/request-tracker';
import type { Reply } from '../../preload/contract/protocol';
import { actionDone, sampleSnapshot } from './api-fixtures';

type Sent = { id: string; type: string } & Record<string, unknown>;

/** A tracker whose wire is an array: each sent request as parsed JSON. */
function tracked(timeoutMs = 1_000): { tracker: RequestTracker; sent: Sent[]; wire: (text: string) => void } {
  const sent: Sent[] = [];
  return { tracker: new RequestTracker({ idPrefix: 't', timeoutMs }), sent, wire: (text) => void sent.push(JSON.parse(text) as Sent) };
}

const ok = (id: string, result: unknown): Reply => ({ id, ok: true, result });

function isError(code: string, check: (error: ApiRequestError) => void = () => undefined): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ApiRequestError, String(error));
    assert.equal(error.code, code);
    check(error);
    return true;
  };
}

describe('RequestTracker', () => {
  test('sends the request with a fresh id and its arguments, and resolves with the checked result', async () => {
    const { tracker, sent, wire } = tracked();
    const moved = tracker.send('resource.move', { name: 'web', target: 'n2' }, wire);
    assert.deepEqual(sent, [{ name: 'web', target: 'n2', id: 't1', type: 'resource.move' }]);
    assert.equal(tracker.size, 1);
    assert.deepEqual(tracker.settle(ok('t1', actionDone())), { kind: 'settled' });
    assert.deepEqual(await moved, actionDone());
    assert.equal(tracker.size, 0);
  });

  test('replies in any order reach their own requests', async () => {
    const { tracker, sent, wire } = tracked();
    const first = tracker.send('snapshot', {}, wire);
    const second = tracker.send('resource.online', { name: 'web' }, wire);
    const third = tracker.send('events.query', { limit: 1 }, wire);
    assert.deepEqual(sent.map((request) => request.id), ['t1', 't2', 't3']);
    tracker.settle(ok('t3', { entries: [] }));
    tracker.settle({ id: 't2', ok: false, error: { code: 'not-found', message: 'no resource named "web"', field: 'name' } });
    tracker.settle(ok('t1', { revision: 4, snapshot: sampleSnapshot() }));
    assert.deepEqual(await third, { entries: [] });
    await assert.rejects(second, isError('not-found', (error) => assert.equal(error.field, 'name')));
    assert.equal((await first).revision, 4);
  });

  test('no reply in time rejects with timeout naming the command; a late reply then matches nothing', async () => {
    const { tracker, wire } = tracked(30);
    const pending = tracker.send('resource.move', { name: 'web', target: 'n2' }, wire);
    await assert.rejects(pending, isError('timeout', (error) => assert.match(error.message, /^resource\.move: no reply within 30 ms \(the agent may still carry it out\)$/)));
    assert.equal(tracker.size, 0);
    assert.deepEqual(tracker.settle(ok('t1', actionDone())), { kind: 'unknown' });
  });

  test('a per-request timeout overrides the default, and whole seconds read as seconds', async () => {
    const tracker = new RequestTracker({ idPrefix: 't', timeoutMs: 60_000 });
    await assert.rejects(tracker.send('snapshot', {}, () => undefined, 20), isError('timeout', (error) => assert.match(error.message, /within 20 ms/)));
    const long = new RequestTracker({ idPrefix: 't', timeoutMs: 1_000 });
    await assert.rejects(long.send('snapshot', {}, () => undefined), isError('timeout', (error) => assert.match(error.message, /within 1 s/)));
  });

  test('rejectAll rejects every waiting request with the error given and forgets them', async () => {
    const { tracker, wire } = tracked();
    const a = tracker.send('snapshot', {}, wire);
    const b = tracker.send('resource.offline', { name: 'web' }, wire);
    const closed = new ApiRequestError('closed', 'connection to the agent closed (1001)');
    tracker.rejectAll(closed);
    await assert.rejects(a, (error) => error === closed);
    await assert.rejects(b, (error) => error === closed);
    assert.equal(tracker.size, 0);
    assert.deepEqual(tracker.settle(ok('t1', { revision: 1, snapshot: sampleSnapshot() })), { kind: 'unknown' });
  });

  test('a reply to an unknown id, or with id null, is ignored and reported as unknown', async () => {
    const { tracker, wire } = tracked();
    const pending = tracker.send('snapshot', {}, wire);
    assert.deepEqual(tracker.settle(ok('t99', actionDone())), { kind: 'unknown' });
    assert.deepEqual(tracker.settle(ok('w1', actionDone())), { kind: 'unknown' });
    assert.deepEqual(tracker.settle({ id: null, ok: false, error: { code: 'bad-json', message: 'message is not JSON' } }), { kind: 'unknown' });
    assert.equal(tracker.size, 1);
    tracker.settle(ok('t1', { revision: 2, snapshot: sampleSnapshot() }));
    assert.equal((await pending).revision, 2);
  });

  test('a result that breaks the contract of its command rejects with protocol and reports the connection broken', async () => {
    const { tracker, wire } = tracked();
    const pending = tracker.send('resource.move', { name: 'web', target: 'n2' }, wire);
    const outcome = tracker.settle(ok('t1', { revision: 3, snapshot: sampleSnapshot() }));
    assert.equal(outcome.kind, 'broken');
    await assert.rejects(pending, isError('protocol', (error) => assert.match(error.message, /result of resource\.move breaks the contract/)));
  });

  test('a transmit that throws rejects the request as closed and leaves nothing waiting', async () => {
    const tracker = new RequestTracker({ idPrefix: 't', timeoutMs: 1_000 });
    const pending = tracker.send('snapshot', {}, () => {
      throw new Error('WebSocket is not open');
    });
    await assert.rejects(pending, isError('closed', (error) => assert.match(error.message, /WebSocket is not open/)));
    assert.equal(tracker.size, 0);
  });

  test('a custom result checker is used instead of the contract\'s default', async () => {
    const checked: string[] = [];
    const tracker = new RequestTracker({
      idPrefix: 'c',
      timeoutMs: 1_000,
      checkResult: (type, result) => {
        checked.push(type);
        return { ok: true, result: result as never };
      },
    });
    const pending = tracker.send('snapshot', {}, () => undefined);
    tracker.settle(ok('c1', 'anything'));
    assert.equal(await pending, 'anything');
    assert.deepEqual(checked, ['snapshot']);
  });
});

describe('ApiRequestError', () => {
  test('carries the contract\'s code, field and issues, and its cause', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new ApiRequestError('invalid', 'spec.ip: network address', { field: 'spec.ip', issues: [{ field: 'spec.ip', message: 'network address' }], cause });
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ApiRequestError');
    assert.equal(error.code, 'invalid');
    assert.equal(error.message, 'spec.ip: network address');
    assert.equal(error.field, 'spec.ip');
    assert.deepEqual(error.issues, [{ field: 'spec.ip', message: 'network address' }]);
    assert.equal(error.cause, cause);
    const bare = new ApiRequestError('timeout', 'no reply');
    assert.equal(bare.field, undefined);
    assert.deepEqual(bare.issues, []);
    assert.equal('cause' in bare, false);
  });

  test('fromApi and toApi round-trip the contract\'s error shape as plain data', () => {
    const wire = { code: 'not-found' as const, message: 'no resource named "web"', field: 'name', issues: [{ field: 'name', message: 'no resource named "web"' }] };
    const error = ApiRequestError.fromApi(wire);
    assert.equal(error.code, 'not-found');
    assert.deepEqual(error.toApi(), wire);
    assert.deepEqual(structuredClone(error.toApi()), wire);
    assert.deepEqual(ApiRequestError.fromApi({ code: 'busy', message: 'too many requests' }).toApi(), { code: 'busy', message: 'too many requests' });
  });
});
