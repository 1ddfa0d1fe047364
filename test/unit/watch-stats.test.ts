import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { packetSocketInodes, type PacketStats } from '../../main/net/pcap';
import { describe as describeEvent, statsLine, statsRecord, type NdCaptureReport } from '../../main/cli/commands/watch';
import type { WatchStats } from '../../main/watch/bindings';

const capture: PacketStats = {
  received: 12, decoded: 9, malformed: 3, malformedByCode: { TRUNCATED: 2, BAD_OP: 1 }, sent: 0, kernelReceived: 14, kernelDropped: 2,
};
const watch: WatchStats = {
  frames: 9,
  byKind: { probe: 0, announcement: 1, 'gratuitous-reply': 0, request: 5, reply: 3 },
  nd: { frames: 6, byKind: { 'dad-probe': 1, solicitation: 2, 'unsolicited-advertisement': 1, 'solicited-advertisement': 1 }, offLink: 1 },
  bindings: 4,
  evictions: 0,
  storming: false,
};
const nd: NdCaptureReport = {
  capture: { received: 7, decoded: 6, malformed: 1, malformedByCode: { BAD_CHECKSUM: 1 }, sent: 0, kernelReceived: 7, kernelDropped: 0 },
  capturing: true,
  error: null,
};

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

  test('the ND capture is added under nd, the ARP fields unchanged', () => {
    const record = statsRecord('lan0', Date.UTC(2026, 0, 1), capture, watch, false, nd);
    assert.equal(record.received, 12);
    assert.deepEqual(record.nd, {
      capturing: true, error: null, received: 7, decoded: 6, malformed: 1, malformedByCode: { BAD_CHECKSUM: 1 },
      kernelReceived: 7, kernelDropped: 0,
      byKind: { 'dad-probe': 1, solicitation: 2, 'unsolicited-advertisement': 1, 'solicited-advertisement': 1 }, offLink: 1,
    });
    assert.equal(
      statsLine(capture, watch, nd),
      'frames: 12, malformed: 3 (TRUNCATED 2, BAD_OP 1), kernel drops: 2 of 14, bindings: 4; ND frames: 7, malformed: 1 (BAD_CHECKSUM 1), kernel drops: 0 of 7, off-link: 1',
    );
    const none: NdCaptureReport = { capture: { ...nd.capture, received: 0, decoded: 0, malformed: 0, malformedByCode: {} }, capturing: false, error: 'libpcap is not available' };
    assert.match(statsLine(capture, watch, none), /; ND: not captured \(libpcap is not available\)$/);
    assert.deepEqual((statsRecord('lan0', 0, capture, watch, true, none).nd as Record<string, unknown>).capturing, false);
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

describe('watch human lines for ND events', () => {
  const at = 0;
  const vlan = null;
  test('IPv6 addresses as RFC 5952 text, ND forms named', () => {
    assert.equal(describeEvent({ type: 'new-station', at, vlan, ip: '2001:db8::a', mac: '02:00:00:00:00:0a', vendor: null }), 'new station 2001:db8::a is-at 02:00:00:00:00:0a');
    assert.equal(describeEvent({ type: 'gratuitous', at, vlan, ip: '2001:db8::a', mac: '02:00:00:00:00:0a', form: 'advertisement' }), 'unsolicited advertisement 2001:db8::a is-at 02:00:00:00:00:0a');
    assert.equal(describeEvent({ type: 'gratuitous', at, vlan, ip: '10.0.0.1', mac: '02:00:00:00:00:0a', form: 'request' }), 'gratuitous request 10.0.0.1 is-at 02:00:00:00:00:0a');
    assert.equal(describeEvent({ type: 'probe', at, vlan, targetIp: '2001:db8::a', mac: '02:00:00:00:00:0a' }), 'DAD probe for 2001:db8::a from 02:00:00:00:00:0a');
    assert.equal(describeEvent({ type: 'probe', at, vlan, targetIp: '10.0.0.1', mac: '02:00:00:00:00:0a' }), 'probe for 10.0.0.1 from 02:00:00:00:00:0a');
    assert.equal(
      describeEvent({ type: 'conflict', at, vlan, ip: '2001:db8::a', ourMac: '02:00:00:00:00:01', theirMac: '02:00:00:00:00:0a', frameKind: 'unsolicited-advertisement' }),
      'CONFLICT 2001:db8::a: 02:00:00:00:00:0a claims an address this host holds (ours: 02:00:00:00:00:01)',
    );
  });
});
