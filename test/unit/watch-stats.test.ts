import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { packetSocketInodes, type PacketStats } from '../../main/net/pcap';
import { statsLine, statsRecord } from '../../main/cli/commands/watch';
import type { WatchStats } from '../../main/watch/bindings';

const capture: PacketStats = {
  received: 12, decoded: 9, malformed: 3, malformedByCode: { TRUNCATED: 2, BAD_OP: 1 }, sent: 0, kernelReceived: 14, kernelDropped: 2,
};
const watch: WatchStats = { frames: 9, byKind: { probe: 0, announcement: 1, 'gratuitous-reply': 0, request: 5, reply: 3 }, bindings: 4, evictions: 0, storming: false };

describe('watch stats output', () => {
  test('the JSON record carries the capture and kernel counters', () => {
    const record = statsRecord('lan0', Date.UTC(2026, 0, 1), capture, watch, true);
    assert.deepEqual(record, {
      event: 'stats', time: '2026-01-01T00:00:00.000Z', dev: 'lan0', final: true,
      received: 12, decoded: 9, malformed: 3, malformedByCode: { TRUNCATED: 2, BAD_OP: 1 },
      kernelReceived: 14, kernelDropped: 2, bindings: 4, evictions: 0, storming: false,
    });
    assert.notEqual(record.malformedByCode, capture.malformedByCode, 'a copy, not the live counters');
  });

  test('the human line', () => {
    assert.equal(statsLine(capture, watch), 'frames: 12, malformed: 3 (TRUNCATED 2, BAD_OP 1), kernel drops: 2 of 14, bindings: 4');
    assert.match(statsLine({ ...capture, kernelReceived: null, kernelDropped: null }, watch), /kernel drops: unknown/);
  });
});

describe('packetSocketInodes', () => {
  test('reads /proc/net/packet rows bound to one interface', () => {
    const table = [
      'sk               RefCnt Type Proto  Iface R Rmem   User   Inode',
      'ffff8f0a8a1b2000 3      3    0003   2     1 0      0      41234',
      'ffff8f0a8a1b3000 3      3    0003   3     1 0      0      41235',
      'ffff8f0a8a1b4000 3      2    0806   2     1 0      0      41236',
      '',
    ].join('\n');
    assert.deepEqual([...packetSocketInodes(table, 2)], ['41234', '41236']);
    assert.deepEqual([...packetSocketInodes(table, 9)], []);
  });
});
