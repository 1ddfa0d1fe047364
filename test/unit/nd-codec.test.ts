import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCanonicalMac } from '../../main/arp/addresses';
import { isCanonicalIpv6 } from '../../main/nd/addresses';
import {
  buildDadProbe,
  buildSolicitation,
  buildSolicitedAdvertisement,
  buildUnsolicitedAdvertisement,
  classifyNd,
} from '../../main/nd/builders';
import { icmpv6Checksum } from '../../main/nd/checksum';
import { decode, encode, encodingLength, NdCodecError, type NdCodecErrorCode } from '../../main/nd/codec';
import type { NdFrame, NeighborAdvertisement } from '../../main/nd/frame';
import { isOnLink } from '../../main/nd/rules';
import { seededRandom } from '../seeded-random';
import { assertCodedError, assertReached, assertReadsInsideWindow, flipBytes, fromHex, fuzzDecoder, randomBytes, withField, type FuzzInput } from './codec-helpers';

function assertCodecError(run: () => unknown, code: NdCodecErrorCode, byteOffset?: number | null): NdCodecError {
  return assertCodedError(NdCodecError, run, code, byteOffset);
}

const MAC_A = '02:00:00:77:00:01';
const MAC_B = '02:00:00:77:00:02';
const IP_A = '2001:db8:77::1';
const IP_B = '2001:db8:77::2';

// Frames Linux 6.18.44 (uname -r: 6.18.44-fc-v1272) sent, recorded on a veth between two throwaway
// network namespaces: ndrec0 (MAC_A, IP_A/64) in one, ndrec1 (MAC_B, IP_B/64) in the other, no
// link-local addresses (addr_gen_mode=1), ndisc_notify=1, captured with libpcap (the `cap` module,
// filter "icmp6") on ndrec0 while each side added its address and then ndrec-a sent one UDP datagram to
// IP_B. ndrec1 had enhanced_dad=0 (all and per device), ndrec0 the default 1. Linux does not pad: every
// ND frame is longer than Ethernet's 60-byte minimum. Traffic class, flow label: 0; hop limit: 255.

/** ndrec1's DAD probe for IP_B, enhanced_dad=0: no options. */
const LINUX_DAD_PROBE = fromHex(
  '33 33 ff 00 00 02  02 00 00 77 00 02  86 dd', // to the solicited-node MAC of IP_B
  '60 00 00 00  00 18  3a  ff', // IPv6, payload length 24, ICMPv6, hop limit 255
  '00000000 00000000 00000000 00000000', // source ::
  'ff020000 00000000 00000001 ff000002', // ff02::1:ff00:2
  '87 00 4c 74  00 00 00 00', // NS, code 0, checksum, reserved
  '20010db8 00770000 00000000 00000002', // target IP_B
);

/** ndrec0's DAD probe for IP_A, enhanced_dad=1: a nonce option (RFC 7527, type 14, length 1). */
const LINUX_DAD_PROBE_WITH_NONCE = fromHex(
  '33 33 ff 00 00 01  02 00 00 77 00 01  86 dd',
  '60 00 00 00  00 20  3a  ff', // payload length 32
  '00000000 00000000 00000000 00000000',
  'ff020000 00000000 00000001 ff000001',
  '87 00 81 21  00 00 00 00',
  '20010db8 00770000 00000000 00000001',
  '0e 01  dd da f6 2e e9 41', // nonce option: random each time
);

/** ndrec0 resolving IP_B before the datagram: multicast to IP_B's group, with its source link-layer option. */
const LINUX_SOLICITATION = fromHex(
  '33 33 ff 00 00 02  02 00 00 77 00 01  86 dd',
  '60 00 00 00  00 20  3a  ff',
  '20010db8 00770000 00000000 00000001', // source IP_A
  'ff020000 00000000 00000001 ff000002',
  '87 00 1a c2  00 00 00 00',
  '20010db8 00770000 00000000 00000002',
  '01 01  02 00 00 77 00 01', // source link-layer address MAC_A
);

/** ndrec1's answer: unicast, solicited and override set, its target link-layer option. */
const LINUX_SOLICITED_ADVERTISEMENT = fromHex(
  '02 00 00 77 00 01  02 00 00 77 00 02  86 dd',
  '60 00 00 00  00 20  3a  ff',
  '20010db8 00770000 00000000 00000002', // from IP_B, the target
  '20010db8 00770000 00000000 00000001', // to IP_A, the asker
  '88 00 88 95  60 00 00 00', // NA, flags S and O
  '20010db8 00770000 00000000 00000002',
  '02 01  02 00 00 77 00 02', // target link-layer address MAC_B
);

/** ndrec1 after DAD with ndisc_notify=1: to all nodes, override set, solicited clear. */
const LINUX_UNSOLICITED_ADVERTISEMENT = fromHex(
  '33 33 00 00 00 01  02 00 00 77 00 02  86 dd',
  '60 00 00 00  00 20  3a  ff',
  '20010db8 00770000 00000000 00000002',
  'ff020000 00000000 00000000 00000001', // ff02::1
  '88 00 f7 c2  20 00 00 00', // NA, flag O
  '20010db8 00770000 00000000 00000002',
  '02 01  02 00 00 77 00 02',
);

/** ndrec1's ICMPv6 port unreachable for the datagram (flow label set, hop limit 64): ICMPv6 but not ND. */
const LINUX_PORT_UNREACHABLE = fromHex(
  '02000077000102000077000286dd600c01a2003a3a4020010db800770000000000000000000220010db8007700000000000000000001',
  '010402c500000000600e2ca5000a114020010db800770000000000000000000120010db8007700000000000000000002da080009000a5c7e6e64',
);

const DAD_PROBE_FRAME: NdFrame = {
  dstMac: '33:33:ff:00:00:02',
  srcMac: MAC_B,
  vlan: null,
  ipv6: { src: '::', dst: 'ff02::1:ff00:2', hopLimit: 255 },
  icmp: { type: 'ns', target: IP_B, sourceLinkAddr: null },
};

const SOLICITATION_FRAME: NdFrame = {
  dstMac: '33:33:ff:00:00:02',
  srcMac: MAC_A,
  vlan: null,
  ipv6: { src: IP_A, dst: 'ff02::1:ff00:2', hopLimit: 255 },
  icmp: { type: 'ns', target: IP_B, sourceLinkAddr: MAC_A },
};

const SOLICITED_ADVERTISEMENT: NeighborAdvertisement = { type: 'na', target: IP_B, router: false, solicited: true, override: true, targetLinkAddr: MAC_B };

const SOLICITED_ADVERTISEMENT_FRAME: NdFrame = {
  dstMac: MAC_A,
  srcMac: MAC_B,
  vlan: null,
  ipv6: { src: IP_B, dst: IP_A, hopLimit: 255 },
  icmp: SOLICITED_ADVERTISEMENT,
};

const UNSOLICITED_ADVERTISEMENT_FRAME: NdFrame = {
  dstMac: '33:33:00:00:00:01',
  srcMac: MAC_B,
  vlan: null,
  ipv6: { src: IP_B, dst: 'ff02::1', hopLimit: 255 },
  icmp: { type: 'na', target: IP_B, router: false, solicited: false, override: true, targetLinkAddr: MAC_B },
};

const LINUX_VECTORS: [string, Buffer][] = [
  ['DAD probe', LINUX_DAD_PROBE],
  ['DAD probe with nonce', LINUX_DAD_PROBE_WITH_NONCE],
  ['solicitation', LINUX_SOLICITATION],
  ['solicited advertisement', LINUX_SOLICITED_ADVERTISEMENT],
  ['unsolicited advertisement', LINUX_UNSOLICITED_ADVERTISEMENT],
];

// Offsets in an untagged frame.
const IP_AT = 14;
const PAYLOAD_LENGTH_AT = 18;
const NEXT_HEADER_AT = 20;
const HOP_LIMIT_AT = 21;
const SRC_AT = 22;
const DST_AT = 38;
const ICMP_AT = 54;
const CHECKSUM_AT = 56;
const FLAGS_AT = 58;
const TARGET_AT = 62;
const OPTIONS_AT = 78;

/** Recomputes the ICMPv6 checksum in place, so a test reaches the checks after it. */
function withFreshChecksum(bytes: Buffer, ipAt = IP_AT): Buffer {
  const icmpAt = ipAt + 40;
  bytes.writeUInt16BE(0, icmpAt + 2);
  bytes.writeUInt16BE(icmpv6Checksum(bytes, ipAt + 8, ipAt + 24, icmpAt, bytes.readUInt16BE(ipAt + 4)), icmpAt + 2);
  return bytes;
}

/** A copy of `vector` changed by `edit`, checksum recomputed. */
function mutated(vector: Buffer, edit: (bytes: Buffer) => void, ipAt = IP_AT): Buffer {
  const copy = Buffer.from(vector);
  edit(copy);
  return withFreshChecksum(copy, ipAt);
}

/** The first 78 bytes of `vector` (header and message) followed by `options`, payload length and checksum to match. */
function withOptions(vector: Buffer, ...options: string[]): Buffer {
  const bytes = Buffer.concat([vector.subarray(0, OPTIONS_AT), fromHex(...options)]);
  bytes.writeUInt16BE(bytes.length - ICMP_AT, PAYLOAD_LENGTH_AT);
  return withFreshChecksum(bytes);
}

/** `vector` behind an 802.1Q tag with this TCI. */
function tagged(vector: Buffer, tci: number): Buffer {
  const tag = Buffer.from([0x81, 0x00, tci >> 8, tci & 0xff]);
  return Buffer.concat([vector.subarray(0, 12), tag, vector.subarray(12)]);
}

describe('Linux frames', () => {
  test('decode to the expected fields', () => {
    assert.deepEqual(decode(LINUX_DAD_PROBE), DAD_PROBE_FRAME);
    assert.deepEqual(decode(LINUX_SOLICITATION), SOLICITATION_FRAME);
    assert.deepEqual(decode(LINUX_SOLICITED_ADVERTISEMENT), SOLICITED_ADVERTISEMENT_FRAME);
    assert.deepEqual(decode(LINUX_UNSOLICITED_ADVERTISEMENT), UNSOLICITED_ADVERTISEMENT_FRAME);
  });

  test('the nonce option is skipped', () => {
    assert.deepEqual(decode(LINUX_DAD_PROBE_WITH_NONCE), {
      ...DAD_PROBE_FRAME,
      dstMac: '33:33:ff:00:00:01',
      srcMac: MAC_A,
      ipv6: { src: '::', dst: 'ff02::1:ff00:1', hopLimit: 255 },
      icmp: { type: 'ns', target: IP_A, sourceLinkAddr: null },
    });
  });

  test('the builders encode to the bytes Linux sent', () => {
    assert.equal(encode(buildDadProbe(MAC_B, IP_B)).toString('hex'), LINUX_DAD_PROBE.toString('hex'));
    assert.equal(encode(buildSolicitation(MAC_A, IP_A, IP_B)).toString('hex'), LINUX_SOLICITATION.toString('hex'));
    const answer = buildSolicitedAdvertisement(MAC_B, decode(LINUX_SOLICITATION));
    assert.equal(encode(answer).toString('hex'), LINUX_SOLICITED_ADVERTISEMENT.toString('hex'));
    assert.equal(encode(buildUnsolicitedAdvertisement(MAC_B, IP_B)).toString('hex'), LINUX_UNSOLICITED_ADVERTISEMENT.toString('hex'));
  });

  test('with enhanced DAD, Linux differs from our probe only by the nonce option', () => {
    const ours = encode(buildDadProbe(MAC_A, IP_A));
    const linuxWithoutNonce = Buffer.from(LINUX_DAD_PROBE_WITH_NONCE.subarray(0, OPTIONS_AT));
    linuxWithoutNonce.writeUInt16BE(24, PAYLOAD_LENGTH_AT);
    assert.equal(withFreshChecksum(linuxWithoutNonce).toString('hex'), ours.toString('hex'));
  });

  test('each decoded frame re-encodes to its own bytes', () => {
    for (const [name, vector] of LINUX_VECTORS) {
      if (vector === LINUX_DAD_PROBE_WITH_NONCE) continue;
      assert.equal(encode(decode(vector)).toString('hex'), vector.toString('hex'), name);
    }
  });

  test('classified', () => {
    assert.equal(classifyNd(decode(LINUX_DAD_PROBE)), 'dad-probe');
    assert.equal(classifyNd(decode(LINUX_DAD_PROBE_WITH_NONCE)), 'dad-probe');
    assert.equal(classifyNd(decode(LINUX_SOLICITATION)), 'solicitation');
    assert.equal(classifyNd(decode(LINUX_SOLICITED_ADVERTISEMENT)), 'solicited-advertisement');
    assert.equal(classifyNd(decode(LINUX_UNSOLICITED_ADVERTISEMENT)), 'unsolicited-advertisement');
  });

  test('a port unreachable is ICMPv6 but not ND', () => {
    const error = assertCodecError(() => decode(LINUX_PORT_UNREACHABLE), 'NOT_ND', ICMP_AT);
    assert.equal(error.message, 'not neighbour discovery: ICMPv6 type 1 at byte 54 (solicitation 135, advertisement 136)');
  });
});

describe('decode details', () => {
  test('802.1Q: VLAN id decoded, priority ignored; 4095 and 0', () => {
    assert.deepEqual(decode(tagged(LINUX_SOLICITATION, 0xa0d5)), { ...SOLICITATION_FRAME, vlan: 213 });
    assert.equal(decode(tagged(LINUX_SOLICITATION, 0xefff)).vlan, 4095);
    assert.equal(decode(tagged(LINUX_SOLICITATION, 0xe000)).vlan, 0);
  });

  test('Ethernet padding and FCS after the payload are ignored', () => {
    const padded = Buffer.concat([LINUX_DAD_PROBE, fromHex('5a'.repeat(10), 'de ad be ef')]);
    assert.deepEqual(decode(padded), DAD_PROBE_FRAME);
  });

  test('traffic class, flow label and reserved bits are ignored', () => {
    const noisy = mutated(LINUX_SOLICITED_ADVERTISEMENT, (bytes) => {
      bytes.writeUInt32BE(0x6fffffff, IP_AT);
      bytes.writeUInt32BE(0x7fffffff, FLAGS_AT); // S and O, and every reserved bit
    });
    assert.deepEqual(decode(noisy), SOLICITED_ADVERTISEMENT_FRAME);
  });

  test('NA flags: router and each flag alone', () => {
    const flags = (value: number): NdFrame => decode(mutated(LINUX_UNSOLICITED_ADVERTISEMENT, (bytes) => bytes.writeUInt8(value, FLAGS_AT)));
    assert.deepEqual(flags(0x80).icmp, { ...UNSOLICITED_ADVERTISEMENT_FRAME.icmp, router: true, override: false });
    assert.deepEqual(flags(0x00).icmp, { ...UNSOLICITED_ADVERTISEMENT_FRAME.icmp, override: false });
    assert.deepEqual(flags(0xa0).icmp, { ...UNSOLICITED_ADVERTISEMENT_FRAME.icmp, router: true });
  });

  test('unknown options and the other message\'s link-layer option are skipped', () => {
    const frame = decode(withOptions(LINUX_SOLICITATION, '0e 01 11 22 33 44 55 66', '02 01 0a 0b 0c 0d 0e 0f', '01 01 02 00 00 77 00 01', 'fe 02', '00'.repeat(14)));
    assert.deepEqual(frame, SOLICITATION_FRAME);
    assert.deepEqual(decode(withOptions(LINUX_SOLICITATION)).icmp, { ...SOLICITATION_FRAME.icmp, sourceLinkAddr: null });
  });

  test('only the IPv6 payload holds options: bytes after it are padding, even if they look like one', () => {
    const shortPayload = mutated(LINUX_SOLICITATION, (bytes) => bytes.writeUInt16BE(24, PAYLOAD_LENGTH_AT));
    assert.deepEqual(decode(shortPayload).icmp, { ...SOLICITATION_FRAME.icmp, sourceLinkAddr: null });
  });

  test('the hop limit is reported, not refused; isOnLink says whether to act on it', () => {
    const routed = mutated(LINUX_UNSOLICITED_ADVERTISEMENT, (bytes) => bytes.writeUInt8(64, HOP_LIMIT_AT));
    const frame = decode(routed);
    assert.equal(frame.ipv6.hopLimit, 64);
    assert.equal(isOnLink(frame), false);
    assert.equal(isOnLink(decode(LINUX_UNSOLICITED_ADVERTISEMENT)), true);
    assert.equal(encode(frame).toString('hex'), routed.toString('hex'));
  });

  test('respects offset and length inside a larger buffer, and a plain Uint8Array view', () => {
    const big = Buffer.alloc(120, 0xee);
    LINUX_SOLICITATION.copy(big, 7);
    assert.deepEqual(decode(big, 7, 86), SOLICITATION_FRAME);
    assert.deepEqual(decode(big, 7), SOLICITATION_FRAME);
    assertCodecError(() => decode(big, 7, 85), 'TRUNCATED', 61);
    assert.deepEqual(decode(new Uint8Array(big).subarray(7, 93)), SOLICITATION_FRAME);
  });
});

describe('decode rejects hostile bytes', () => {
  test('truncated at every length, untagged and tagged', () => {
    for (const [name, vector] of LINUX_VECTORS) {
      for (const frame of [vector, tagged(vector, 7)]) {
        for (let length = 0; length < frame.length; length++) {
          assertCodecError(() => decode(frame.subarray(0, length)), 'TRUNCATED');
          assertCodecError(() => decode(frame, 0, length), 'TRUNCATED');
        }
        assert.doesNotThrow(() => decode(frame), name);
      }
    }
  });

  test('truncation offsets name the part that is short', () => {
    assertCodecError(() => decode(LINUX_DAD_PROBE, 0, 13), 'TRUNCATED', 0);
    assertCodecError(() => decode(tagged(LINUX_DAD_PROBE, 1), 0, 17), 'TRUNCATED', 0);
    assertCodecError(() => decode(LINUX_DAD_PROBE, 0, 53), 'TRUNCATED', IP_AT);
    const error = assertCodecError(() => decode(LINUX_DAD_PROBE, 0, 77), 'TRUNCATED', ICMP_AT);
    assert.equal(
      error.message,
      'truncated frame: the IPv6 payload (payload length 24 at byte 18) at byte 54 needs 24 bytes, only 23 available (frame ends at byte 77 of a 78-byte buffer)',
    );
    const claimsMore = mutated(LINUX_DAD_PROBE, (bytes) => bytes.writeUInt16BE(25, PAYLOAD_LENGTH_AT));
    assertCodecError(() => decode(claimsMore), 'TRUNCATED', ICMP_AT);
  });

  test('wrong ethertype, stacked tags', () => {
    const arp = Buffer.from(LINUX_DAD_PROBE);
    arp.writeUInt16BE(0x0806, 12);
    const error = assertCodecError(() => decode(arp), 'NOT_IPV6', 12);
    assert.equal(error.message, 'not an IPv6 frame: ethertype 0x0806 at byte 12 (IPv6 is 0x86dd)');
    assertCodecError(() => decode(arp.subarray(0, 14)), 'NOT_IPV6', 12);
    const ipv4InVlan = tagged(LINUX_DAD_PROBE, 5);
    ipv4InVlan.writeUInt16BE(0x0800, 16);
    assertCodecError(() => decode(ipv4InVlan), 'NOT_IPV6', 16);
    for (const tpid of [0x8100, 0x88a8, 0x9100]) {
      const stacked = tagged(LINUX_DAD_PROBE, 5);
      stacked.writeUInt16BE(tpid, 16);
      assertCodecError(() => decode(stacked), 'STACKED_VLAN', 16);
    }
  });

  test('IP version other than 6', () => {
    for (const first of [0x45, 0x00, 0x70, 0xf0]) {
      const error = assertCodecError(() => decode(mutated(LINUX_DAD_PROBE, (bytes) => bytes.writeUInt8(first, IP_AT))), 'BAD_IP_VERSION', IP_AT);
      assert.equal(error.message, `not IPv6: IP version ${first >> 4} at byte 14 (IPv6 is 6)`);
    }
  });

  test('extension headers and other next headers', () => {
    for (const [nextHeader, name] of [[0, 'Hop-by-Hop Options'], [43, 'Routing'], [44, 'Fragment'], [60, 'Destination Options'], [51, 'Authentication']] as const) {
      const error = assertCodecError(() => decode(mutated(LINUX_DAD_PROBE, (bytes) => bytes.writeUInt8(nextHeader, NEXT_HEADER_AT))), 'EXTENSION_HEADER', NEXT_HEADER_AT);
      assert.equal(
        error.message,
        `unsupported IPv6: next header ${nextHeader} (${name} extension header) at byte 20; ND is ICMPv6 (58) right after the IPv6 header`,
      );
    }
    for (const nextHeader of [6, 17, 59, 1]) {
      const error = assertCodecError(() => decode(mutated(LINUX_DAD_PROBE, (bytes) => bytes.writeUInt8(nextHeader, NEXT_HEADER_AT))), 'NOT_ICMPV6', NEXT_HEADER_AT);
      assert.equal(error.message, `not ICMPv6: next header ${nextHeader} at byte 20 (ICMPv6 is 58)`);
    }
  });

  test('payload length too short for ICMPv6, then for ND', () => {
    for (const length of [0, 1, 3]) {
      const short = Buffer.from(LINUX_DAD_PROBE);
      short.writeUInt16BE(length, PAYLOAD_LENGTH_AT);
      assertCodecError(() => decode(short), 'BAD_PAYLOAD_LENGTH', PAYLOAD_LENGTH_AT);
    }
    for (const length of [4, 8, 23]) {
      const short = Buffer.from(LINUX_DAD_PROBE);
      short.writeUInt16BE(length, PAYLOAD_LENGTH_AT);
      const error = assertCodecError(() => decode(short), 'BAD_PAYLOAD_LENGTH', PAYLOAD_LENGTH_AT);
      assert.match(error.message, /less than the 24 bytes of a type 135 message/);
    }
  });

  test('ICMPv6 types other than 135 and 136', () => {
    for (const type of [0, 1, 128, 133, 134, 137, 143, 255]) {
      assertCodecError(() => decode(mutated(LINUX_DAD_PROBE, (bytes) => bytes.writeUInt8(type, ICMP_AT))), 'NOT_ND', ICMP_AT);
    }
  });

  test('bad checksum: any flipped bit in the message or the pseudo-header', () => {
    const error = assertCodecError(() => decode(patchedByte(LINUX_DAD_PROBE, CHECKSUM_AT, 0x4d)), 'BAD_CHECKSUM', CHECKSUM_AT);
    assert.equal(error.message, 'bad ICMPv6 checksum 0x4d74 at byte 56: message and pseudo-header sum to 0x0100, not 0xffff');
    for (const at of [SRC_AT, DST_AT + 15, TARGET_AT + 15, FLAGS_AT, OPTIONS_AT + 7]) {
      assertCodecError(() => decode(patchedByte(LINUX_SOLICITATION, at, LINUX_SOLICITATION[at]! ^ 0x01)), 'BAD_CHECKSUM', CHECKSUM_AT);
    }
  });

  test('code other than 0', () => {
    for (const code of [1, 255]) {
      const error = assertCodecError(() => decode(mutated(LINUX_SOLICITATION, (bytes) => bytes.writeUInt8(code, ICMP_AT + 1))), 'BAD_CODE', ICMP_AT + 1);
      assert.equal(error.message, `malformed ND: ICMPv6 code ${code} at byte 55 (RFC 4861 §7.1.1: must be 0)`);
    }
  });

  test('options: zero length, overrun, a lone byte, a bad link-layer length, a duplicate', () => {
    let error = assertCodecError(() => decode(withOptions(LINUX_SOLICITATION, '01 00 02 00 00 77 00 01')), 'ZERO_LENGTH_OPTION', OPTIONS_AT + 1);
    assert.equal(error.message, 'malformed ND: option 1 has length 0 at byte 79 (RFC 4861 §4.6: a node must drop it)');
    assertCodecError(() => decode(withOptions(LINUX_SOLICITATION, '0e 01 00 00 00 00 00 00', '07 00 00 00 00 00 00 00')), 'ZERO_LENGTH_OPTION', OPTIONS_AT + 9);
    error = assertCodecError(() => decode(withOptions(LINUX_SOLICITATION, '01 02 02 00 00 77 00 01')), 'OPTION_OVERRUN', OPTIONS_AT + 1);
    assert.equal(error.message, 'malformed ND: option 1 at byte 78 is 16 bytes (length 2 at byte 79), the message has 8 left');
    error = assertCodecError(() => decode(withOptions(LINUX_SOLICITATION, '01 01 02 00 00 77 00 01', '05')), 'OPTION_OVERRUN', OPTIONS_AT + 8);
    assert.equal(error.message, 'malformed ND: an option at byte 86 needs 2 bytes for its type and length, the message has 1 left');
    assertCodecError(() => decode(withOptions(LINUX_SOLICITATION, '0e ff 00 00')), 'OPTION_OVERRUN', OPTIONS_AT + 1);
    error = assertCodecError(() => decode(withOptions(LINUX_SOLICITATION, '01 02 02 00 00 77 00 01 00 00 00 00 00 00 00 00')), 'BAD_LINK_ADDR_OPTION', OPTIONS_AT + 1);
    assert.equal(error.message, 'malformed ND: the source link-layer address option has length 2 at byte 79; an Ethernet address takes length 1');
    error = assertCodecError(
      () => decode(withOptions(LINUX_SOLICITED_ADVERTISEMENT, '02 01 02 00 00 77 00 02', '02 01 02 00 00 77 00 09')),
      'DUPLICATE_OPTION',
      OPTIONS_AT + 8,
    );
    assert.equal(error.message, 'malformed ND: a second target link-layer address option at byte 86 (the first is at byte 78)');
  });

  test('RFC 4861 §7.1: multicast targets, DAD to the wrong group or with a MAC, solicited to a group', () => {
    const allNodes = fromHex('ff020000 00000000 00000000 00000001');
    const multicastTarget = (vector: Buffer): Buffer => mutated(vector, (bytes) => allNodes.copy(bytes, TARGET_AT));
    let error = assertCodecError(() => decode(multicastTarget(LINUX_SOLICITATION)), 'MULTICAST_TARGET', TARGET_AT);
    assert.equal(error.message, 'invalid ND at byte 62: the target is a multicast address (RFC 4861 §7.1.1)');
    error = assertCodecError(() => decode(multicastTarget(LINUX_UNSOLICITED_ADVERTISEMENT)), 'MULTICAST_TARGET', TARGET_AT);
    assert.match(error.message, /§7\.1\.2/);
    error = assertCodecError(() => decode(mutated(LINUX_DAD_PROBE, (bytes) => allNodes.copy(bytes, DST_AT))), 'BAD_DAD_DESTINATION', DST_AT);
    assert.match(error.message, /^invalid ND at byte 38: a solicitation from :: \(duplicate address detection\) must go to a solicited-node group/);
    error = assertCodecError(() => decode(withOptions(LINUX_DAD_PROBE, '01 01 02 00 00 77 00 02')), 'DAD_WITH_LINK_ADDR', OPTIONS_AT);
    assert.equal(error.message, 'invalid ND at byte 78: a solicitation from :: carries no source link-layer address option (RFC 4861 §7.1.1)');
    error = assertCodecError(() => decode(mutated(LINUX_UNSOLICITED_ADVERTISEMENT, (bytes) => bytes.writeUInt8(0x60, FLAGS_AT))), 'SOLICITED_TO_MULTICAST', FLAGS_AT);
    assert.equal(error.message, 'invalid ND at byte 58: an advertisement to a multicast group has the solicited flag clear (RFC 4861 §7.1.2)');
    error = assertCodecError(() => decode(mutated(LINUX_SOLICITED_ADVERTISEMENT, (bytes) => allNodes.copy(bytes, SRC_AT))), 'MULTICAST_SOURCE', SRC_AT);
    assert.equal(error.message, 'invalid ND at byte 22: the source is a multicast address (RFC 4291 §2.7: only a destination may be)');
  });

  test('offset and length outside the buffer, not bytes at all', () => {
    assertCodecError(() => decode(LINUX_DAD_PROBE, 79), 'BAD_OFFSET');
    assertCodecError(() => decode(LINUX_DAD_PROBE, 78), 'TRUNCATED', 78);
    for (const offset of [-1, Number.NaN, 0.5, Number.POSITIVE_INFINITY]) assertCodecError(() => decode(LINUX_DAD_PROBE, offset), 'BAD_OFFSET');
    for (const length of [79, -1, Number.NaN, 1.5]) assertCodecError(() => decode(LINUX_DAD_PROBE, 0, length), 'BAD_OFFSET');
    for (const input of [null, undefined, 'ffff', [1, 2, 3], new ArrayBuffer(78)]) {
      assertCodecError(() => decode(input as unknown as Buffer), 'BAD_BUFFER');
    }
  });

  test('never reads outside offset..offset+length', () => {
    assertReadsInsideWindow(NdCodecError, decode, tagged(LINUX_SOLICITATION, 9));
  });

});

/** Copy of `vector` with one byte replaced, checksum left as it was. */
function patchedByte(vector: Buffer, at: number, value: number): Buffer {
  const copy = Buffer.from(vector);
  copy[at] = value;
  return copy;
}

describe('builders', () => {
  test('DAD probe, solicitation, unsolicited advertisement', () => {
    assert.deepEqual(buildDadProbe(MAC_B, IP_B), DAD_PROBE_FRAME);
    assert.deepEqual(buildSolicitation(MAC_A, IP_A, IP_B), SOLICITATION_FRAME);
    assert.deepEqual(buildUnsolicitedAdvertisement(MAC_B, IP_B), UNSOLICITED_ADVERTISEMENT_FRAME);
  });

  test('solicited advertisement: unicast to the asker, all-nodes for a DAD probe, on the question\'s VLAN', () => {
    assert.deepEqual(buildSolicitedAdvertisement(MAC_B, SOLICITATION_FRAME), SOLICITED_ADVERTISEMENT_FRAME);
    assert.deepEqual(buildSolicitedAdvertisement(MAC_B, DAD_PROBE_FRAME), UNSOLICITED_ADVERTISEMENT_FRAME);
    const withoutOption: NdFrame = { ...SOLICITATION_FRAME, srcMac: '02:00:00:77:00:0a', vlan: 12, icmp: { type: 'ns', target: IP_B, sourceLinkAddr: null } };
    assert.deepEqual(buildSolicitedAdvertisement(MAC_B, withoutOption), { ...SOLICITED_ADVERTISEMENT_FRAME, dstMac: '02:00:00:77:00:0a', vlan: 12 });
    const error = assertCodecError(() => buildSolicitedAdvertisement(MAC_B, SOLICITED_ADVERTISEMENT_FRAME), 'BAD_TYPE', null);
    assert.equal(error.message, 'buildSolicitedAdvertisement question: an advertisement answers a solicitation ("ns"), not an "na"');
  });

  test('canonicalize their inputs', () => {
    assert.deepEqual(buildDadProbe('02-00-00-77-00-02', '2001:DB8:77:0::2'), DAD_PROBE_FRAME);
    assert.deepEqual(buildSolicitation('02:00:00:77:00:01', '2001:0db8:0077::1', '2001:db8:77:0:0:0:0:2'), SOLICITATION_FRAME);
  });

  test('reject bad arguments with the codec error', () => {
    let error = assertCodecError(() => buildDadProbe('02:00:00:77:00', IP_B), 'BAD_MAC', null);
    assert.match(error.message, /^buildDadProbe ownMac: invalid MAC address "02:00:00:77:00"/);
    error = assertCodecError(() => buildSolicitation(MAC_A, 'fe80::1%eth0', IP_B), 'BAD_IPV6', null);
    assert.match(error.message, /^buildSolicitation ownIp: invalid IPv6 address "fe80::1%eth0": zone ids/);
    error = assertCodecError(() => buildDadProbe(MAC_A, 'ff02::1'), 'MULTICAST_TARGET', null);
    assert.equal(error.message, 'buildDadProbe target: "ff02::1" is a multicast address: only unicast addresses have a solicited-node group');
    assertCodecError(() => buildUnsolicitedAdvertisement(MAC_A, '1::2::3'), 'BAD_IPV6');
    assertCodecError(() => buildUnsolicitedAdvertisement('xx', IP_A), 'BAD_MAC');
  });
});

const BUILT_FRAMES: [string, NdFrame][] = [
  ['DAD probe', buildDadProbe(MAC_B, IP_B)],
  ['solicitation', buildSolicitation(MAC_A, IP_A, 'fe80::2aa:ff:fe28:9c5a')],
  ['unsolicited advertisement', buildUnsolicitedAdvertisement(MAC_B, '::ffff:10.0.0.1')],
  ['solicited advertisement', buildSolicitedAdvertisement(MAC_B, SOLICITATION_FRAME)],
  ['router advertisement without option', { ...SOLICITED_ADVERTISEMENT_FRAME, icmp: { ...SOLICITED_ADVERTISEMENT, router: true, targetLinkAddr: null } }],
  ['extreme addresses', { ...SOLICITATION_FRAME, dstMac: 'ff:ff:ff:ff:ff:ff', ipv6: { src: 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', dst: '::1', hopLimit: 0 } }],
];

describe('round trips', () => {
  for (const [name, frame] of BUILT_FRAMES) {
    for (const vlan of [null, 0, 213, 4095]) {
      test(`${name}, vlan ${String(vlan)}`, () => {
        const withVlan: NdFrame = { ...frame, vlan };
        const bytes = encode(withVlan);
        assert.equal(bytes.length, encodingLength(withVlan));
        assert.deepEqual(decode(bytes), withVlan);
        assert.deepEqual(encode(decode(bytes)), bytes);
      });
    }
  }

  test('frame lengths: 78 without option, 86 with, 4 more behind a tag', () => {
    assert.equal(encodingLength(DAD_PROBE_FRAME), 78);
    assert.equal(encodingLength(SOLICITATION_FRAME), 86);
    assert.equal(encodingLength({ ...SOLICITATION_FRAME, vlan: 1 }), 90);
  });
});

describe('encode into a caller buffer', () => {
  test('writes at the offset and leaves the rest alone', () => {
    const target = Buffer.alloc(100, 0xee);
    assert.equal(encode(SOLICITATION_FRAME, target, 10), target);
    assert.equal(target.subarray(10, 96).toString('hex'), LINUX_SOLICITATION.toString('hex'));
    assert.deepEqual(target.subarray(0, 10), Buffer.alloc(10, 0xee));
    assert.deepEqual(target.subarray(96), Buffer.alloc(4, 0xee));
    const fresh = encode(DAD_PROBE_FRAME, undefined, 3);
    assert.equal(fresh.length, 81);
    assert.deepEqual(decode(fresh, 3), DAD_PROBE_FRAME);
  });

  test('BUFFER_TOO_SMALL and a bad last field leave the buffer untouched', () => {
    const target = Buffer.alloc(86, 0xee);
    assertCodecError(() => encode(SOLICITATION_FRAME, target, 1), 'BUFFER_TOO_SMALL', 1);
    const badOption: NdFrame = { ...SOLICITATION_FRAME, icmp: { type: 'ns', target: IP_B, sourceLinkAddr: '02:00:00:77:00:0g' } };
    assertCodecError(() => encode(badOption, target), 'BAD_MAC');
    assert.deepEqual(target, Buffer.alloc(86, 0xee));
  });

  test('bad offsets and buffers', () => {
    for (const offset of [-1, 1.5, Number.NaN, 87]) assertCodecError(() => encode(SOLICITATION_FRAME, Buffer.alloc(86), offset), 'BAD_OFFSET');
    assertCodecError(() => encode(SOLICITATION_FRAME, 'no' as unknown as Buffer), 'BAD_BUFFER');
  });
});

describe('encode rejects bad frames', () => {
  const cases: [string, unknown, NdCodecErrorCode, string][] = [
    ['vlan', 4096, 'BAD_VLAN', 'cannot encode vlan: 4096 is not null or an integer 0..4095'],
    ['vlan', undefined, 'BAD_VLAN', 'cannot encode vlan: undefined is not null or an integer 0..4095'],
    ['ipv6.hopLimit', 256, 'BAD_HOP_LIMIT', 'cannot encode ipv6.hopLimit: 256 is not an integer 0..255 (ND uses 255)'],
    ['ipv6.hopLimit', '255', 'BAD_HOP_LIMIT', 'cannot encode ipv6.hopLimit: "255" is not an integer 0..255 (ND uses 255)'],
    ['icmp.type', 'ra', 'BAD_TYPE', 'cannot encode icmp.type: "ra" is not "ns" or "na"'],
    ['icmp.override', 1, 'BAD_FLAG', 'cannot encode icmp.override: 1 is not true or false'],
    ['icmp.router', undefined, 'BAD_FLAG', 'cannot encode icmp.router: undefined is not true or false'],
    ['dstMac', 'ff:ff', 'BAD_MAC', 'cannot encode dstMac: invalid MAC address "ff:ff": expected six two-digit hex groups like "02:00:0a:d5:00:01"'],
    ['srcMac', null, 'BAD_MAC', 'cannot encode srcMac: invalid MAC address (null): expected text like "02:00:0a:d5:00:01"'],
    ['icmp.targetLinkAddr', 7, 'BAD_MAC', 'cannot encode icmp.targetLinkAddr: invalid MAC address (number): expected text like "02:00:0a:d5:00:01"'],
    ['ipv6.src', '1::2::3', 'BAD_IPV6', 'cannot encode ipv6.src: invalid IPv6 address "1::2::3": only one "::" is allowed'],
    ['ipv6.dst', 'fe80::1%lo', 'BAD_IPV6', 'cannot encode ipv6.dst: invalid IPv6 address "fe80::1%lo": zone ids such as "%eth0" are not allowed: an address that moves between nodes belongs to no one interface'],
    ['icmp.target', '', 'BAD_IPV6', 'cannot encode icmp.target: invalid IPv6 address "": empty'],
    ['icmp.target', 'ff02::1', 'MULTICAST_TARGET', 'cannot encode icmp.target: the target is a multicast address (RFC 4861 §7.1.2)'],
    ['ipv6.src', 'ff02::2', 'MULTICAST_SOURCE', 'cannot encode ipv6.src: the source is a multicast address (RFC 4291 §2.7: only a destination may be)'],
    ['ipv6.dst', 'ff02::1', 'SOLICITED_TO_MULTICAST', 'cannot encode icmp.solicited: an advertisement to a multicast group has the solicited flag clear (RFC 4861 §7.1.2)'],
    ['icmp', null, 'BAD_FRAME', 'cannot encode: expected a frame object with ipv6 and icmp parts'],
  ];
  for (const [path, value, code, message] of cases) {
    test(`${path} = ${JSON.stringify(value) ?? 'undefined'}: ${code}`, () => {
      const error = assertCodecError(() => encode(withField(SOLICITED_ADVERTISEMENT_FRAME, path, value)), code, null);
      assert.equal(error.message, message);
    });
  }

  test('DAD probes: only to a solicited-node group, never with a MAC', () => {
    const toAllNodes: NdFrame = { ...DAD_PROBE_FRAME, ipv6: { ...DAD_PROBE_FRAME.ipv6, dst: 'ff02::1' } };
    assertCodecError(() => encode(toAllNodes), 'BAD_DAD_DESTINATION', null);
    const withMac: NdFrame = { ...DAD_PROBE_FRAME, icmp: { type: 'ns', target: IP_B, sourceLinkAddr: MAC_B } };
    const error = assertCodecError(() => encode(withMac), 'DAD_WITH_LINK_ADDR', null);
    assert.equal(error.message, 'cannot encode icmp.sourceLinkAddr: a solicitation from :: carries no source link-layer address option (RFC 4861 §7.1.1)');
    assertCodecError(() => encode(null as unknown as NdFrame), 'BAD_FRAME');
  });
});

function assertCanonical(frame: NdFrame): void {
  for (const mac of [frame.dstMac, frame.srcMac]) assert.ok(isCanonicalMac(mac), mac);
  for (const ip of [frame.ipv6.src, frame.ipv6.dst, frame.icmp.target]) assert.ok(isCanonicalIpv6(ip), ip);
  const linkAddr = frame.icmp.type === 'ns' ? frame.icmp.sourceLinkAddr : frame.icmp.targetLinkAddr;
  assert.ok(linkAddr === null || isCanonicalMac(linkAddr));
  assert.ok(frame.vlan === null || (Number.isInteger(frame.vlan) && frame.vlan >= 0 && frame.vlan <= 4095));
}

describe('fuzz', () => {
  test('30k random, mutated and truncated frames: a canonical frame that round-trips, or an NdCodecError', () => {
    const random = seededRandom(0x0d6);
    const int = (below: number): number => Math.floor(random() * below);
    const seeds = [...LINUX_VECTORS.map(([, vector]) => vector), tagged(LINUX_SOLICITATION, 0x00d5), withOptions(LINUX_SOLICITATION, '0e 01 11 22 33 44 55 66')];
    const input = (round: number): FuzzInput => {
      let bytes: Buffer;
      if (round % 10 === 0) {
        bytes = randomBytes(int, 120);
      } else {
        const seed = seeds[int(seeds.length)]!;
        bytes = flipBytes(Buffer.from(seed.subarray(0, round % 3 === 0 ? int(seed.length + 1) : seed.length)), 1 + int(3), int);
        // Half the mutants get a valid checksum, so the checks after it are reached too.
        if (round % 2 === 0 && bytes.length >= 58 && bytes.readUInt16BE(12) === 0x86dd && bytes.readUInt16BE(18) + 54 <= bytes.length) {
          withFreshChecksum(bytes);
        }
      }
      return { bytes, offset: round % 7 === 0 ? int(bytes.length + 3) - 1 : 0, length: round % 11 === 0 ? int(bytes.length + 3) - 1 : undefined };
    };
    const outcomes = fuzzDecoder(NdCodecError, 30_000, input, ({ bytes, offset, length }) => {
      const frame = decode(bytes, offset, length);
      assertCanonical(frame);
      assert.deepEqual(decode(encode(frame)), frame, 'a decoded frame re-encodes to bytes that decode the same');
    });
    assertReached(outcomes, ['ok', 'TRUNCATED', 'NOT_IPV6', 'BAD_IP_VERSION', 'NOT_ICMPV6', 'NOT_ND', 'BAD_CHECKSUM', 'BAD_CODE', 'OPTION_OVERRUN', 'BAD_OFFSET']);
  });
});
