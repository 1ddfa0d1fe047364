// The ARP watch on a real LAN: malformed and truncated ARP frames injected on the wire are counted (by
// reason) and dropped, and the watch keeps running: a valid gratuitous ARP sent after them still arrives.
// The frames come byte for byte from the rogue (tools/arp-send --raw). The watch's BPF filter
// ('arp or (vlan and arp)') lets only frames with the ARP ethertype (untagged or behind one 802.1Q tag)
// reach userspace: an ARP payload behind another ethertype never reaches the watch, so it is not counted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLab, type Lab, type LabHost } from './lab';
import { startIpfo } from './ipfo';

const ARP_SEND = join(__dirname, 'tools', 'arp-send.js');

const hex = (bytes: readonly number[]): string => Buffer.from(bytes).toString('hex');
const macBytes = (mac: string): number[] => mac.split(':').map((b) => parseInt(b, 16));
const ipBytes = (ip: string): number[] => ip.split('.').map(Number);

interface ArpFields {
  ethertype?: number;
  htype?: number;
  ptype?: number;
  hlen?: number;
  plen?: number;
  op?: number;
  /** 802.1Q VLAN id: the tag goes before the ethertype. */
  vlan?: number;
  /** Keep only this many bytes of the frame (no padding). */
  truncateTo?: number;
}

/** An Ethernet + ARP announcement from `mac` for `ip`, with fields overridden, padded to 60 bytes unless truncated. */
function frame(mac: string, ip: string, fields: ArpFields = {}): string {
  const u16 = (v: number): number[] => [v >> 8, v & 0xff];
  const tag = fields.vlan === undefined ? [] : [0x81, 0x00, ...u16(fields.vlan)];
  const bytes = [
    ...macBytes('ff:ff:ff:ff:ff:ff'), ...macBytes(mac), ...tag, ...u16(fields.ethertype ?? 0x0806),
    ...u16(fields.htype ?? 1), ...u16(fields.ptype ?? 0x0800), fields.hlen ?? 6, fields.plen ?? 4, ...u16(fields.op ?? 1),
    ...macBytes(mac), ...ipBytes(ip), 0, 0, 0, 0, 0, 0, ...ipBytes(ip),
  ];
  if (fields.truncateTo !== undefined) return hex(bytes.slice(0, fields.truncateTo));
  while (bytes.length < (fields.vlan === undefined ? 60 : 64)) bytes.push(0);
  return hex(bytes);
}

describe('ipfo watch on a real LAN', () => {
  let lab: Lab;
  let n1: LabHost;
  let r1: LabHost;

  before(async () => {
    lab = await createLab({ nodes: 1, clients: 0, rogue: true, name: 'watch-malformed' });
    [n1, r1] = [lab.host('n1'), lab.rogue!];
  });
  after(async () => {
    await lab?.destroy();
  });

  test('malformed and truncated ARP frames are counted and dropped, and the watch keeps running', async () => {
    const watch = startIpfo(lab, n1, ['watch', '--dev', 'lan0', '--json']);
    await watch.waitFor((r) => r.event === 'stats', 10_000, 'first stats record');

    const ip = lab.vip(1);
    const reachUserspace: Array<[string, string]> = [
      ['TRUNCATED', frame(r1.mac, ip, { truncateTo: 14 + 12 })], // ARP packet cut inside the sender MAC
      ['TRUNCATED', frame(r1.mac, ip, { truncateTo: 14 + 20 })], // ... inside the target MAC
      ['BAD_HLEN', frame(r1.mac, ip, { hlen: 8 })],
      ['BAD_PLEN', frame(r1.mac, ip, { plen: 16 })],
      ['BAD_OP', frame(r1.mac, ip, { op: 3 })],
      ['BAD_OP', frame(r1.mac, ip, { op: 0 })],
      ['BAD_HTYPE', frame(r1.mac, ip, { htype: 6 })],
      ['BAD_PTYPE', frame(r1.mac, ip, { ptype: 0x86dd })],
      ['BAD_OP', frame(r1.mac, ip, { vlan: 5, op: 9 })], // behind one 802.1Q tag: 'vlan and arp' lets it through
    ];
    const filteredOut = [
      frame(r1.mac, ip, { ethertype: 0x0800 }), // an ARP payload behind the IPv4 ethertype
      frame(r1.mac, ip, { ethertype: 0x8035 }), // ... behind RARP's
      // Frames shorter than 26 bytes (a bare Ethernet header, an ARP header cut short) never reach the
      // watcher's capture in the lab: the kernel drops them on the way (seen with tcpdump on the watcher: 14,
      // 16 and 18 bytes never arrive, 26 does). The watch cannot count what it never sees.
      frame(r1.mac, ip, { truncateTo: 14 }),
      frame(r1.mac, ip, { truncateTo: 18 }),
    ];
    for (const raw of [...reachUserspace.map(([, bytes]) => bytes), ...filteredOut]) {
      const sent = await lab.run(r1, [process.execPath, ARP_SEND, '--dev', 'lan0', '--raw', raw], { timeoutMs: 15_000 });
      assert.equal(sent.code, 0, `arp-send --raw ${raw}: ${sent.stderr}`);
    }
    // A valid gratuitous ARP after them still makes its event: the watch kept running.
    const valid = await lab.run(r1, [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'announcement', '--ip', ip], { timeoutMs: 15_000 });
    assert.equal(valid.code, 0, valid.stderr);
    const gratuitous = await watch.waitFor((r) => r.event === 'gratuitous' && r.ip === ip, 5000, 'the gratuitous ARP after the malformed frames');
    assert.equal(gratuitous.mac, r1.mac);
    assert.equal(watch.child.exitCode, null, 'the watch is still running');

    watch.child.kill('SIGTERM');
    const { code } = await watch.exited;
    assert.equal(code, 0, `exit code; stderr: ${watch.stderr}`);
    const final = await watch.waitFor((r) => r.event === 'stats' && r.final === true, 2000, 'final stats record');

    const expectedByCode: Record<string, number> = {};
    for (const [code] of reachUserspace) expectedByCode[code] = (expectedByCode[code] ?? 0) + 1;
    assert.equal(final.malformed, reachUserspace.length, JSON.stringify(final));
    assert.deepEqual(final.malformedByCode, expectedByCode);
    // Nothing else on this LAN speaks ARP: the valid announcement is the only decoded frame, and the two
    // frames with other ethertypes never reached the watch.
    assert.equal(final.decoded, 1, JSON.stringify(final));
    assert.equal(final.received, reachUserspace.length + 1, JSON.stringify(final));
    assert.equal(final.kernelDropped, 0);
    assert.equal(final.kernelReceived, reachUserspace.length + 1, JSON.stringify(final));
  });
});
