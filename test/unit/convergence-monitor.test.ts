// The convergence monitor after a takeover (main/agent/convergence-monitor.ts), on a host whose frame tap
// and sends are recorded: the stations are told at once and again while unseen, never once this node no
// longer holds the address (a gratuitous ARP from a node that let the address go would point stations at it
// beside the holder: the 2-minute soak counted 64 two-MAC moments before this rule), and a station seen
// using the new MAC is not told again. After a planned move of an IPv6 address the old owner tells each
// straggler by a unicast neighbour advertisement (override set) through the ND socket, and the new owner
// after a takeover tells each station the same way, naming its own MAC.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ArpFrame } from '../../main/arp/frame';
import type { Host } from '../../main/host/host';
import type { TappedFrame } from '../../main/net/frame-tap';
import type { AuditRecord } from '../../main/store/store';
import { ConvergenceMonitor } from '../../main/agent/convergence-monitor';
import type { NdFrame } from '../../main/nd/frame';
import { decode, encode } from '../../main/nd/codec';

const OUR_MAC = '02:00:00:00:00:02';
const C1 = { mac: '02:00:00:00:00:31', ip: '10.0.0.31', vendor: null };
const C2 = { mac: '02:00:00:00:00:32', ip: '10.0.0.32', vendor: null };
const VIP = '10.0.0.50';

function monitor(holds: { value: boolean }, currentMac: string | null = null) {
  const sent: ArpFrame[] = [];
  const sentNd: NdFrame[] = [];
  const audit: AuditRecord[] = [];
  let deliver: (frame: TappedFrame) => void = () => undefined;
  const host = { openFrameTap: (_ifname: string, _mac: string, onFrame: (frame: TappedFrame) => void) => ((deliver = onFrame), { close: () => undefined }) } as unknown as Host;
  const convergence = new ConvergenceMonitor({
    node: 'n2',
    host,
    currentMacOf: () => currentMac,
    send: (_ifname, frame) => (sent.push(frame), true),
    sendNd: (_ifname, frame) => (sentNd.push(frame), true),
    mayAnnounce: () => holds.value,
    append: (record) => Promise.resolve(void audit.push(record)),
    log: () => undefined,
  });
  return { convergence, sent, sentNd, audit, frame: (mac: string) => deliver({ srcMac: mac, srcIp: '10.0.0.1', dstIp: VIP }), tapped: (frame: TappedFrame) => deliver(frame) };
}

describe('convergence after a takeover', () => {
  test('every station is told our MAC at once, by a unicast reply naming the address', () => {
    const { convergence, sent } = monitor({ value: true });
    convergence.tookOver('web', VIP, 'eth1', OUR_MAC, 'n1', [C1, C2]);
    try {
      assert.deepEqual(sent.map((f) => [f.dst, f.arp.op, f.arp.senderMac, f.arp.senderIp, f.arp.targetMac]), [
        [C1.mac, 'reply', OUR_MAC, VIP, C1.mac],
        [C2.mac, 'reply', OUR_MAC, VIP, C2.mac],
      ]);
    } finally {
      convergence.close();
    }
  });

  test('nothing more once the address left this node, and the record says the proof was not finished', async () => {
    const holds = { value: true };
    const { convergence, sent, audit } = monitor(holds);
    convergence.tookOver('web', VIP, 'eth1', OUR_MAC, 'n1', [C1]);
    assert.equal(sent.length, 1);
    holds.value = false;
    await sleep(1300);
    convergence.close();
    assert.equal(sent.length, 1, 'no gratuitous ARP for an address this node no longer holds');
    assert.deepEqual(audit.map((r) => r.detail), ['after the takeover from n1: not finished, the address left this node']);
  });

  test('a station seen using the new MAC is not told again; one not seen is, a second later', async () => {
    const { convergence, sent, frame } = monitor({ value: true });
    convergence.tookOver('web', VIP, 'eth1', OUR_MAC, 'n1', [C1, C2]);
    frame(C1.mac);
    await sleep(1300);
    convergence.close();
    assert.deepEqual(sent.map((f) => f.dst), [C1.mac, C2.mac, C2.mac]);
  });

  test('nobody held the address when the tables were read: nothing is sent', () => {
    const { convergence, sent } = monitor({ value: false });
    convergence.tookOver('web', VIP, 'eth1', OUR_MAC, 'n1', [C1]);
    convergence.close();
    assert.equal(sent.length, 0);
  });
});

describe('stragglers after a planned move of an IPv6 address', () => {
  const VIP6 = '2001:db8::50';
  const NEW_MAC = '02:00:00:00:00:03';
  const STATION = { mac: '02:00:00:00:00:31', ip: '2001:db8::31' };

  test('a station still sending to the address at our MAC is told the new MAC by a unicast advertisement, and named', () => {
    const { convergence, sent, sentNd, audit, tapped } = monitor({ value: true }, NEW_MAC);
    convergence.handedOff('web6', VIP6, 'eth1', OUR_MAC);
    try {
      tapped({ srcMac: STATION.mac, srcIp: STATION.ip, dstIp: VIP6 });
      tapped({ srcMac: STATION.mac, srcIp: STATION.ip, dstIp: '2001:db8::99' }); // not the moved address
      assert.equal(sent.length, 0, 'no ARP for an IPv6 address');
      assert.equal(sentNd.length, 1);
      const na = sentNd[0]!;
      assert.deepEqual(na, {
        dstMac: STATION.mac,
        srcMac: OUR_MAC,
        vlan: null,
        ipv6: { src: VIP6, dst: STATION.ip, hopLimit: 255 },
        icmp: { type: 'na', target: VIP6, router: false, solicited: false, override: true, targetLinkAddr: NEW_MAC },
      });
      assert.deepEqual(decode(encode(na)), na, 'the advertisement survives the codec');
      assert.deepEqual(audit.map((r) => [r.action, r.detail]), [['arp.straggler', `${STATION.mac} (${STATION.ip}) still sends to ${VIP6} at the old MAC ${OUR_MAC}: its neighbour cache is stale`]]);
    } finally {
      convergence.close();
    }
  });

  test('no new owner known yet: the straggler is named but not told', () => {
    const { convergence, sentNd, audit, tapped } = monitor({ value: true }, null);
    convergence.handedOff('web6', VIP6, 'eth1', OUR_MAC);
    tapped({ srcMac: STATION.mac, srcIp: STATION.ip, dstIp: VIP6 });
    convergence.close();
    assert.equal(sentNd.length, 0);
    assert.equal(audit.length, 1);
  });

  test('after a takeover of an IPv6 address each station is told our MAC by a unicast advertisement', () => {
    const { convergence, sent, sentNd, audit } = monitor({ value: true }, NEW_MAC);
    convergence.tookOver('web6', VIP6, 'eth1', OUR_MAC, 'n1', [{ ...STATION, vendor: null }]);
    convergence.close();
    assert.equal(sent.length, 0, 'no ARP for an IPv6 address');
    assert.deepEqual(sentNd, [
      {
        dstMac: STATION.mac,
        srcMac: OUR_MAC,
        vlan: null,
        ipv6: { src: VIP6, dst: STATION.ip, hopLimit: 255 },
        icmp: { type: 'na', target: VIP6, router: false, solicited: false, override: true, targetLinkAddr: OUR_MAC },
      },
    ]);
    assert.deepEqual(audit, []);
  });
});
