// `ipfo watch` reads IPv6 neighbour discovery beside ARP, on a lab LAN whose kernels run their normal
// neighbour discovery: a client resolving the watching node (the kernels' own solicitation and
// advertisement) makes both new stations with their MACs; a rogue's unsolicited advertisement for the
// client's address moves it (changed MAC), one for an address the watch holds (--held, written in a long
// spelling, or the node's own address) is a conflict; a rogue's DAD probe is a probe; malformed ND is
// counted by reason and dropped, an off-link advertisement (hop limit 64) counted and bound to nothing,
// and the watch goes on; the interface set down and up is ridden out as for ARP.
// The rogue's frames are tools/nd-send (valid ND) and tools/arp-send --raw (bytes as built here).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildUnsolicitedAdvertisement } from '../../main/nd/builders';
import { icmpv6Checksum } from '../../main/nd/checksum';
import { encode, IPV6_HEADER_LENGTH } from '../../main/nd/codec';
import { createLab, type Lab, type LabHost } from './lab';
import { startIpfo } from './ipfo';
import type { JsonLines } from './json-lines';

const ND_SEND = join(__dirname, 'tools', 'nd-send.js');
const ARP_SEND = join(__dirname, 'tools', 'arp-send.js');

const ETHERNET = 14;
const ICMP_AT = ETHERNET + IPV6_HEADER_LENGTH;
const CHECKSUM_AT = ICMP_AT + 2;
/** The target link-layer option follows the 24-byte advertisement; its length byte is the option's second. */
const OPTION_LENGTH_AT = ICMP_AT + 24 + 1;

/** An unsolicited advertisement as bytes, changed by `edit`, with the checksum made right again unless `keepChecksum`. */
function advertisementBytes(mac: string, target: string, edit: (bytes: Buffer) => void, keepChecksum = false): string {
  const bytes = Buffer.from(encode(buildUnsolicitedAdvertisement(mac, target)));
  edit(bytes);
  if (!keepChecksum) {
    bytes.writeUInt16BE(0, CHECKSUM_AT);
    bytes.writeUInt16BE(icmpv6Checksum(bytes, ETHERNET + 8, ETHERNET + 24, ICMP_AT, bytes.length - ICMP_AT), CHECKSUM_AT);
  }
  return bytes.toString('hex');
}

/** RFC 4291 spelling, not RFC 5952: every group written out in full. */
function longForm(ip: string): string {
  const [head = '', tail = ''] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((group) => group.padStart(4, '0').toUpperCase()).join(':');
}

describe('ipfo watch reads IPv6 neighbour discovery on a real LAN', () => {
  let lab: Lab;
  let n1: LabHost;
  let c1: LabHost;
  let r1: LabHost;
  let watch: JsonLines;

  const rogue = async (args: readonly string[]): Promise<void> => {
    const sent = await lab.run(r1, [process.execPath, ND_SEND, '--dev', 'lan0', ...args], { timeoutMs: 15_000 });
    assert.equal(sent.code, 0, `nd-send ${args.join(' ')}: ${sent.stderr}`);
  };
  const rogueRaw = async (hex: string): Promise<void> => {
    const sent = await lab.run(r1, [process.execPath, ARP_SEND, '--dev', 'lan0', '--raw', hex], { timeoutMs: 15_000 });
    assert.equal(sent.code, 0, `arp-send --raw ${hex}: ${sent.stderr}`);
  };

  before(async () => {
    lab = await createLab({ nodes: 1, clients: 1, rogue: true, ipv6: true, name: 'watch-nd' });
    [n1, c1, r1] = [lab.host('n1'), lab.host('c1'), lab.rogue!];
    watch = startIpfo(lab, n1, ['watch', '--dev', 'lan0', '--json', '--held', longForm(lab.vip6(2))]);
    const stats = await watch.waitFor((r) => r.event === 'stats', 10_000, 'first stats record');
    assert.equal((stats.nd as Record<string, unknown>).capturing, true, JSON.stringify(stats));
  });
  after(async () => {
    await lab?.destroy();
  });

  test('a client resolving the node: the kernels\' solicitation and advertisement make both new stations', async () => {
    // One UDP datagram from c1 to n1's address: c1's kernel must resolve it first (NS to n1's
    // solicited-node group), n1's kernel answers (NA, captured on its way out).
    const script = `const s = require('dgram').createSocket('udp6'); s.send('x', 9, ${JSON.stringify(n1.ip6)}, (e) => { s.close(); process.exit(e ? 1 : 0); });`;
    const sent = await lab.run(c1, [process.execPath, '-e', script], { timeoutMs: 15_000 });
    assert.equal(sent.code, 0, sent.stderr);
    const client = await watch.waitFor((r) => r.event === 'new-station' && r.mac === c1.mac, 5000, 'c1 as a new station');
    assert.equal(client.ip, c1.ip6);
    const node = await watch.waitFor((r) => r.event === 'new-station' && r.ip === n1.ip6, 5000, 'n1 as a new station');
    assert.equal(node.mac, n1.mac);
  });

  test('a rogue advertising the client\'s address: changed MAC and an unsolicited advertisement', async () => {
    await rogue(['--form', 'na', '--ip', c1.ip6]);
    const changed = await watch.waitFor((r) => r.event === 'changed-mac' && r.ip === c1.ip6, 5000, 'changed-mac for c1');
    assert.equal(changed.oldMac, c1.mac);
    assert.equal(changed.newMac, r1.mac);
    const gratuitous = await watch.waitFor((r) => r.event === 'gratuitous' && r.ip === c1.ip6, 5000, 'the unsolicited advertisement');
    assert.equal(gratuitous.form, 'advertisement');
    assert.equal(gratuitous.mac, r1.mac);
  });

  test('a rogue advertising an address the watch holds (--held, long spelling): a conflict in RFC 5952 form', async () => {
    const held = lab.vip6(2);
    await rogue(['--form', 'na', '--ip', held]);
    const conflict = await watch.waitFor((r) => r.event === 'conflict' && r.ip === held, 5000, 'the conflict');
    assert.equal(conflict.theirMac, r1.mac);
    assert.equal(conflict.ourMac, n1.mac);
    assert.equal(conflict.frameKind, 'unsolicited-advertisement');
  });

  test('a rogue advertising the node\'s own address (not --held: the interface\'s addresses are held too): a conflict', async () => {
    await rogue(['--form', 'na', '--ip', n1.ip6]);
    const conflict = await watch.waitFor((r) => r.event === 'conflict' && r.ip === n1.ip6, 5000, 'the conflict on n1\'s address');
    assert.equal(conflict.theirMac, r1.mac);
    assert.equal(conflict.ourMac, n1.mac);
  });

  test('a rogue\'s duplicate address detection: a probe event, no binding', async () => {
    const target = lab.vip6(3);
    await rogue(['--form', 'dad', '--ip', target]);
    const probe = await watch.waitFor((r) => r.event === 'probe' && r.targetIp === target, 5000, 'the DAD probe');
    assert.equal(probe.mac, r1.mac);
    assert.ok(!watch.records.some((r) => r.event === 'new-station' && r.ip === target), 'a probe binds nothing');
  });

  test('the interface set down and up: lost and back, ND captured again, counters carried over', async () => {
    // The ND frames of the tests above are counted by the next stats line at the latest (one a second).
    const before = await watch.waitFor((r) => r.event === 'stats' && Number((r.nd as Record<string, unknown> | undefined)?.received) >= 1, 3000, `stats counting ND frames (last: ${JSON.stringify(watch.records.filter((r) => r.event === 'stats').at(-1))})`);
    const receivedBefore = Number((before.nd as Record<string, unknown>).received);
    await lab.setAdminUp(n1, false);
    await watch.waitForEvent('interface-lost', 3000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await lab.setAdminUp(n1, true);
    const back = await watch.waitForEvent('interface-back', 3000);
    assert.match(String(back.detail), /neighbour discovery/);
    const target = lab.vip6(9);
    await rogue(['--form', 'na', '--ip', target]);
    const seen = await watch.waitFor((r) => r.event === 'new-station' && r.ip === target, 5000, 'an advertisement after the interface came back');
    assert.equal(seen.mac, r1.mac);
    const stats = await watch.waitFor((r) => r.event === 'stats' && watch.records.indexOf(r) > watch.records.indexOf(seen), 3000, 'stats after it');
    const nd = stats.nd as Record<string, unknown>;
    assert.equal(nd.capturing, true);
    assert.ok(Number(nd.received) > receivedBefore, JSON.stringify(stats));
  });

  test('malformed ND counted by reason and dropped, off-link ND bound to nothing; the watch goes on', async () => {
    const badChecksum = advertisementBytes(r1.mac, lab.vip6(5), (bytes) => bytes.writeUInt16BE(bytes.readUInt16BE(CHECKSUM_AT) ^ 0xffff, CHECKSUM_AT), true);
    const zeroLengthOption = advertisementBytes(r1.mac, lab.vip6(6), (bytes) => bytes.writeUInt8(0, OPTION_LENGTH_AT));
    const offLink = advertisementBytes(r1.mac, lab.vip6(7), (bytes) => bytes.writeUInt8(64, ETHERNET + 7)); // hop limit
    for (const hex of [badChecksum, zeroLengthOption, offLink]) await rogueRaw(hex);
    // A valid advertisement after them still makes its events.
    await rogue(['--form', 'na', '--ip', lab.vip6(8)]);
    await watch.waitFor((r) => r.event === 'new-station' && r.ip === lab.vip6(8), 5000, 'the advertisement after the malformed frames');
    assert.ok(!watch.records.some((r) => r.ip === lab.vip6(5) || r.ip === lab.vip6(6) || r.ip === lab.vip6(7)), 'nothing bound from the malformed or off-link frames');

    watch.child.kill('SIGTERM');
    const { code } = await watch.exited;
    assert.equal(code, 0, `exit code; stderr: ${watch.stderr}`);
    const final = await watch.waitFor((r) => r.event === 'stats' && r.final === true, 2000, 'final stats record');
    const nd = final.nd as Record<string, unknown>;
    assert.equal(nd.malformed, 2, JSON.stringify(final));
    assert.deepEqual(nd.malformedByCode, { BAD_CHECKSUM: 1, ZERO_LENGTH_OPTION: 1 });
    assert.equal(nd.offLink, 1, JSON.stringify(final));
    // The kernel's counters of the ND capture, across the interface's loss: every frame that passed the
    // filter reached the watch.
    assert.equal(nd.kernelDropped, 0, JSON.stringify(final));
    assert.equal(nd.kernelReceived, nd.received, JSON.stringify(final));
    // At least the rogue's: a kernel's own DAD of its link-local address may fall inside the watch too.
    assert.ok((nd.byKind as Record<string, number>)['dad-probe']! >= 1, JSON.stringify(final));
    assert.ok(typeof final.received === 'number' && typeof final.malformedByCode === 'object', 'the ARP counters stay where they were');
    assert.equal(watch.stderr.includes('neighbour discovery capture'), false, `stderr: ${watch.stderr}`);
  });
});
