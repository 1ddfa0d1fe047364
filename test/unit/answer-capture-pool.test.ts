// The batch probe's answer captures kept open between batches (main/agent/answer-capture-pool.ts): one
// open per interface while batches follow each other, closed after the idle time, at once when the
// interface fails or the agent stops, and opened anew after a capture was lost. Fake captures and mock
// timers: the pool's own logic, not libpcap's (test/lab covers batch probes on real captures).
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { AnswerCapturePool } from '../../main/agent/answer-capture-pool';
import type { ArpSocketEvents, FrameSource, PacketStats } from '../../main/net/pcap';

class FakeCapture extends EventEmitter<ArpSocketEvents> implements FrameSource {
  readonly stats: PacketStats = { received: 0, decoded: 0, malformed: 0, malformedByCode: {}, sent: 0, kernelReceived: 0, kernelDropped: 0 };
  closed = false;
  constructor(readonly iface: FrameSource['iface']) {
    super();
  }
  refreshKernelStats(): PacketStats {
    return this.stats;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

const IDLE_MS = 1_000;

function pool(available = true): { pool: AnswerCapturePool; opened: FakeCapture[] } {
  const opened: FakeCapture[] = [];
  const open = (ifname: string): FakeCapture | null => {
    if (!available) return null;
    const capture = new FakeCapture({ name: ifname, index: opened.length + 1, mac: '02:00:00:00:00:01', up: true });
    opened.push(capture);
    return capture;
  };
  return { pool: new AnswerCapturePool(open, IDLE_MS), opened };
}

describe('AnswerCapturePool', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('batches that follow each other share one capture per interface; it closes once idle', () => {
    const { pool: answers, opened } = pool();
    const first = answers.borrow('eth0', 1 << 20)!;
    const overlapping = answers.borrow('eth0', 1 << 20)!;
    const other = answers.borrow('eth1', 1 << 20)!;
    assert.equal(first.capture, overlapping.capture);
    assert.notEqual(first.capture, other.capture);
    assert.equal(opened.length, 2);
    first.release();
    first.release(); // idempotent: the overlapping borrower still holds it
    mock.timers.tick(IDLE_MS * 2);
    assert.equal(opened[0]!.closed, false);
    overlapping.release();
    mock.timers.tick(IDLE_MS - 1);
    const next = answers.borrow('eth0', 1 << 20)!; // within the idle time: the same capture, the timer stopped
    assert.equal(next.capture, opened[0]);
    mock.timers.tick(IDLE_MS * 2);
    assert.equal(opened[0]!.closed, false);
    next.release();
    mock.timers.tick(IDLE_MS);
    assert.equal(opened[0]!.closed, true);
    assert.equal(answers.has('eth0'), false);
    assert.notEqual(answers.borrow('eth0', 1 << 20)!.capture, opened[0]);
    assert.equal(opened.length, 3);
  });

  test('a lost capture, a failed interface and the agent stopping: closed, and opened anew on the next borrow', () => {
    const { pool: answers, opened } = pool();
    const lost = answers.borrow('eth0', 1 << 20)!;
    opened[0]!.close(); // lost: the interface went away under it
    assert.equal(answers.has('eth0'), false);
    lost.release(); // a release after the loss starts no timer on a closed capture
    const again = answers.borrow('eth0', 1 << 20)!;
    assert.equal(again.capture, opened[1]);
    answers.forget('eth0'); // the interface failed: closed though borrowed
    assert.equal(opened[1]!.closed, true);
    const third = answers.borrow('eth0', 1 << 20)!;
    answers.borrow('eth1', 1 << 20);
    answers.close();
    assert.deepEqual(opened.map((c) => c.closed), [true, true, true, true]);
    third.release();
    mock.timers.tick(IDLE_MS * 2);
    assert.equal(opened.length, 4);
  });

  test('a host without answer captures: null, nothing kept', () => {
    const { pool: answers } = pool(false);
    assert.equal(answers.borrow('eth0', 1 << 20), null);
    assert.equal(answers.has('eth0'), false);
  });
});
