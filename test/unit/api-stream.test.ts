// StreamSession without sockets: the ordering promise (snapshot, then every later change exactly
// once) under changes that race the snapshot, resets, overflow and failures.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Push } from '../../preload/contract/protocol';
import { StreamSession } from '../../main/api/stream';
import { FakeClusterService } from './api-fixtures';

function recorder(): { sink: { push(message: Push): void; fail(reason: string): void }; log: string[] } {
  const log: string[] = [];
  return {
    log,
    sink: {
      push: (message) => log.push(message.type === 'snapshot' ? `snapshot@${message.revision}` : `change@${message.revision}`),
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
    const service = new FakeClusterService();
    const { sink, log } = recorder();
    const session = new StreamSession(service, sink);
    await session.start((revision) => log.push(`reply@${revision}`));
    service.emit(removed('a'));
    service.emit(removed('b'));
    assert.deepEqual(log, ['snapshot@10', 'reply@10', 'change@11', 'change@12']);
    session.close();
  });

  test('changes during the snapshot are held and follow the hook; those inside the snapshot are dropped', async () => {
    const service = new FakeClusterService();
    const { promise, open } = gate();
    service.snapshotGate = promise;
    service.revisionAfterGate = true;
    const { sink, log } = recorder();
    const session = new StreamSession(service, sink);
    const started = session.start((revision) => log.push(`reply@${revision}`));
    service.emit(removed('a')); // 11
    service.emit(removed('b')); // 12
    open();
    await tick();
    // The snapshot was taken at 12 (after the gate): 11 and 12 are in it.
    service.emit(removed('c')); // 13, after the snapshot but maybe before start() resolves
    await started;
    service.emit(removed('d')); // 14
    assert.deepEqual(log, ['snapshot@12', 'reply@12', 'change@13', 'change@14']);
    session.close();
  });

  test('a reset while live pushes a fresh snapshot and continues after it', async () => {
    const service = new FakeClusterService();
    const { sink, log } = recorder();
    const session = new StreamSession(service, sink);
    await session.start(() => undefined);
    service.emit(removed('a')); // 11
    service.reset();
    await tick();
    service.emit(removed('b')); // 12
    assert.deepEqual(log, ['snapshot@10', 'change@11', 'snapshot@11', 'change@12']);
    session.close();
  });

  test('a reset during the first snapshot takes another one before going live', async () => {
    const service = new FakeClusterService();
    const first = gate();
    service.snapshotGate = first.promise;
    const { sink, log } = recorder();
    const session = new StreamSession(service, sink);
    const started = session.start((revision) => log.push(`reply@${revision}`));
    service.reset();
    service.snapshotGate = null;
    first.open();
    await started;
    assert.equal(service.snapshotCalls, 2);
    assert.deepEqual(log, ['snapshot@10', 'reply@10', 'snapshot@10']);
    session.close();
  });

  test('too many changes held during a slow snapshot trade the backlog for a fresh snapshot', async () => {
    const service = new FakeClusterService();
    const { promise, open } = gate();
    service.snapshotGate = promise;
    const { sink, log } = recorder();
    const session = new StreamSession(service, sink, 3);
    const started = session.start(() => undefined);
    for (const name of ['a', 'b', 'c', 'd', 'e']) service.emit(removed(name)); // 11..15; overflow at 14
    service.snapshotGate = null;
    open();
    await started;
    service.emit(removed('f')); // 16
    // First snapshot at 10 (taken before the changes), then a fresh one at 15 that contains them all.
    assert.deepEqual(log, ['snapshot@10', 'snapshot@15', 'change@16']);
    session.close();
  });

  test('close unsubscribes and nothing is pushed after it', async () => {
    const service = new FakeClusterService();
    const { sink, log } = recorder();
    const session = new StreamSession(service, sink);
    await session.start(() => undefined);
    session.close();
    service.emit(removed('a'));
    service.reset();
    await tick();
    assert.equal(service.listeners.size, 0);
    assert.deepEqual(log, ['snapshot@10']);
  });

  test('a close while the first snapshot is taken pushes nothing', async () => {
    const service = new FakeClusterService();
    const { promise, open } = gate();
    service.snapshotGate = promise;
    const { sink, log } = recorder();
    const session = new StreamSession(service, sink);
    const started = session.start(() => log.push('reply'));
    session.close();
    open();
    await started;
    assert.deepEqual(log, []);
    assert.equal(service.listeners.size, 0);
  });

  test('a first snapshot that fails rejects start and unsubscribes', async () => {
    const service = new FakeClusterService();
    service.snapshot = () => Promise.reject(new Error('store down'));
    const { sink } = recorder();
    await assert.rejects(new StreamSession(service, sink).start(() => undefined), /store down/);
    assert.equal(service.listeners.size, 0);
  });

  test('a later snapshot that fails ends the stream through the sink', async () => {
    const service = new FakeClusterService();
    const { sink, log } = recorder();
    const session = new StreamSession(service, sink);
    await session.start(() => undefined);
    service.snapshot = () => Promise.reject(new Error('store down'));
    service.reset();
    await tick();
    assert.deepEqual(log, ['snapshot@10', 'fail:cannot take a fresh snapshot: store down']);
    assert.equal(service.listeners.size, 0);
  });
});
