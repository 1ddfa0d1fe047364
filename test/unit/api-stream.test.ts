// StreamSession without sockets: the ordering promise (snapshot, then every later change exactly
// once) under changes that race the snapshot, resets, overflow and failures.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WirePush as Push } from '../../preload/contract/protocol';
import { CHANGE_BATCH_MS, StreamSession } from '../../main/api/stream';
import { DEFAULT_TABLE_VIEW } from '../../preload/contract/resource-order';
import { MAX_CHANGES_PER_PUSH } from '../../preload/contract/protocol';
import { FakeApiHandler } from './api-fixtures';

function recorder(): { sink: { push(message: Push): void; fail(reason: string): void }; log: string[] } {
  const log: string[] = [];
  return {
    log,
    sink: {
      push: (message) => {
        if (message.type === 'changes') for (const { revision } of message.changes) log.push(`change@${revision}`);
        else log.push(message.type === 'snapshot' ? `snapshot@${message.revision}` : `change@${message.revision}`);
      },
      fail: (reason) => log.push(`fail:${reason}`),
    },
  };
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const removed = (name: string) => ({ kind: 'resource-removed' as const, name });

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('StreamSession', () => {
  test('snapshot, then the hook (the subscribe reply), then live changes', async () => {
    const handler = new FakeApiHandler();
    const { sink, log } = recorder();
    const session = new StreamSession(handler, sink);
    await session.start((revision) => log.push(`reply@${revision}`));
    handler.emit(removed('a'));
    handler.emit(removed('b'));
    assert.deepEqual(log, ['snapshot@10', 'reply@10', 'change@11', 'change@12']);
    session.close();
  });

  test('changes during the snapshot are held and follow the hook; those inside the snapshot are dropped', async () => {
    const handler = new FakeApiHandler();
    const { promise, open } = gate();
    handler.snapshotGate = promise;
    handler.revisionAfterGate = true;
    const { sink, log } = recorder();
    const session = new StreamSession(handler, sink);
    const started = session.start((revision) => log.push(`reply@${revision}`));
    handler.emit(removed('a')); // 11
    handler.emit(removed('b')); // 12
    open();
    await tick();
    // The snapshot was taken at 12 (after the gate): 11 and 12 are in it.
    handler.emit(removed('c')); // 13, after the snapshot but maybe before start() resolves
    await started;
    handler.emit(removed('d')); // 14
    assert.deepEqual(log, ['snapshot@12', 'reply@12', 'change@13', 'change@14']);
    session.close();
  });

  test('a reset while live pushes a fresh snapshot and continues after it', async () => {
    const handler = new FakeApiHandler();
    const { sink, log } = recorder();
    const session = new StreamSession(handler, sink);
    await session.start(() => undefined);
    handler.emit(removed('a')); // 11
    handler.reset();
    await tick();
    handler.emit(removed('b')); // 12
    assert.deepEqual(log, ['snapshot@10', 'change@11', 'snapshot@11', 'change@12']);
    session.close();
  });

  test('a reset during the first snapshot takes another one before going live', async () => {
    const handler = new FakeApiHandler();
    const first = gate();
    handler.snapshotGate = first.promise;
    const { sink, log } = recorder();
    const session = new StreamSession(handler, sink);
    const started = session.start((revision) => log.push(`reply@${revision}`));
    handler.reset();
    handler.snapshotGate = null;
    first.open();
    await started;
    assert.equal(handler.snapshotCalls, 2);
    assert.deepEqual(log, ['snapshot@10', 'reply@10', 'snapshot@10']);
    session.close();
  });

  test('too many changes held during a slow snapshot trade the backlog for a fresh snapshot', async () => {
    const handler = new FakeApiHandler();
    const { promise, open } = gate();
    handler.snapshotGate = promise;
    const { sink, log } = recorder();
    const session = new StreamSession(handler, sink, 3);
    const started = session.start(() => undefined);
    for (const name of ['a', 'b', 'c', 'd', 'e']) handler.emit(removed(name)); // 11..15; overflow at 14
    handler.snapshotGate = null;
    open();
    await started;
    handler.emit(removed('f')); // 16
    // First snapshot at 10 (taken before the changes), then a fresh one at 15 that contains them all.
    assert.deepEqual(log, ['snapshot@10', 'snapshot@15', 'change@16']);
    session.close();
  });

  test('close unsubscribes and nothing is pushed after it', async () => {
    const handler = new FakeApiHandler();
    const { sink, log } = recorder();
    const session = new StreamSession(handler, sink);
    await session.start(() => undefined);
    session.close();
    handler.emit(removed('a'));
    handler.reset();
    await tick();
    assert.equal(handler.listeners.size, 0);
    assert.deepEqual(log, ['snapshot@10']);
  });

  test('a close while the first snapshot is taken pushes nothing', async () => {
    const handler = new FakeApiHandler();
    const { promise, open } = gate();
    handler.snapshotGate = promise;
    const { sink, log } = recorder();
    const session = new StreamSession(handler, sink);
    const started = session.start(() => log.push('reply'));
    session.close();
    open();
    await started;
    assert.deepEqual(log, []);
    assert.equal(handler.listeners.size, 0);
  });

  test('a first snapshot that fails rejects start and unsubscribes', async () => {
    const handler = new FakeApiHandler();
    handler.snapshot = () => Promise.reject(new Error('store down'));
    const { sink } = recorder();
    await assert.rejects(new StreamSession(handler, sink).start(() => undefined), /store down/);
    assert.equal(handler.listeners.size, 0);
  });

  test('a later snapshot that fails ends the stream through the sink', async () => {
    const handler = new FakeApiHandler();
    const { sink, log } = recorder();
    const session = new StreamSession(handler, sink);
    await session.start(() => undefined);
    handler.snapshot = () => Promise.reject(new Error('store down'));
    handler.reset();
    await tick();
    assert.deepEqual(log, ['snapshot@10', 'fail:cannot take a fresh snapshot: store down']);
    assert.equal(handler.listeners.size, 0);
  });

  test('the paged stream sends its changes several to a message, in order; any other push sends the waiting ones first', async () => {
    const handler = new FakeApiHandler();
    const messages: Push[] = [];
    const session = new StreamSession(handler, { push: (message) => messages.push(message), fail: assert.fail }, undefined, DEFAULT_TABLE_VIEW, 1_000);
    await session.start(() => undefined);
    await tick();
    const kinds = (): string[] => messages.map((message) => (message.type === 'changes' ? `changes:${message.changes.map((c) => c.revision).join(',')}` : message.type));
    assert.deepEqual(kinds(), ['snapshot-head', 'snapshot-rows']);
    handler.emit(removed('a'));
    handler.emit(removed('b'));
    handler.emit(removed('c'));
    assert.deepEqual(kinds(), ['snapshot-head', 'snapshot-rows'], 'gathered, not sent one by one');
    await new Promise((resolve) => setTimeout(resolve, CHANGE_BATCH_MS + 10));
    assert.deepEqual(kinds(), ['snapshot-head', 'snapshot-rows', 'changes:11,12,13']);
    // A reset: the changes waiting go out before the new head.
    handler.emit(removed('d'));
    handler.reset();
    await tick();
    assert.deepEqual(kinds().slice(3, 5), ['changes:14', 'snapshot-head']);
    // A full batch goes at once.
    await tick();
    messages.length = 0;
    for (let i = 0; i < MAX_CHANGES_PER_PUSH; i++) handler.emit(removed(`x${i}`));
    assert.equal(messages.length, 1);
    assert.equal(messages[0]?.type === 'changes' ? messages[0].changes.length : 0, MAX_CHANGES_PER_PUSH);
    session.close();
    handler.emit(removed('late'));
    await new Promise((resolve) => setTimeout(resolve, CHANGE_BATCH_MS + 10));
    assert.equal(messages.length, 1, 'nothing after close');
  });

  test('whole snapshots (subscribe without a view) keep one change per message', async () => {
    const handler = new FakeApiHandler();
    const { sink, log } = recorder();
    const session = new StreamSession(handler, sink);
    await session.start(() => undefined);
    handler.emit(removed('a'));
    assert.deepEqual(log, ['snapshot@10', 'change@11']);
    session.close();
  });
});
