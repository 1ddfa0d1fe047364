import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalMac, isIpv4, isMac } from '../../main/arp/addresses';
import {
  announcement,
  ArpCodecError,
  classify,
  decode,
  encode,
  encodingLength,
  gratuitousReply,
  isQuestion,
  probe,
  question,
  reply,
  request,
  type ArpCodecErrorCode,
} from '../../main/arp/codec';
import type { ArpFrame } from '../../main/arp/frame';
import { seededRandom } from '../seeded-random';
import { assertCodedError, assertReached, assertReadsInsideWindow, flipBytes, fromHex, fuzzDecoder, randomBytes, withField, type FuzzInput } from './codec-helpers';

function assertCodecError(run: () => unknown, code: ArpCodecErrorCode, byteOffset?: number | null): ArpCodecError {
  return assertCodedError(ArpCodecError, run, code, byteOffset);
}

const OWN_MAC = '02:00:0a:d5:00:01';
const PEER_MAC = '02:00:0a:d5:00:14';

// Laid out by hand from RFC 826 (packet format) and RFC 5227 §2.1.1 (probe fields),
// not produced by the encoder: a probe for 10.213.0.10, padded to 60 bytes.
const PROBE_VECTOR = fromHex(
  'ff ff ff ff ff ff', // Ethernet destination: broadcast
  '02 00 0a d5 00 01', // Ethernet source
  '08 06', // ethertype ARP
  '00 01', // htype Ethernet
  '08 00', // ptype IPv4
  '06 04', // hlen 6, plen 4
  '00 01', // op request
  '02 00 0a d5 00 01', // sender MAC
  '00 00 00 00', // sender IP 0.0.0.0 (probe)
  '00 00 00 00 00 00', // target MAC zero (ignored)
  '0a d5 00 0a', // target IP 10.213.0.10
  '00'.repeat(18), // padding 42 -> 60
);

// A unicast reply the way tcpdump shows it on the sending Linux host: 42 bytes, because
// the NIC pads after capture. "10.213.0.20 is-at 02:00:0a:d5:00:14" to 10.213.0.1.
const CAPTURED_REPLY_42 = fromHex(
  '02 00 0a d5 00 01  02 00 0a d5 00 14  08 06',
  '00 01 08 00 06 04 00 02',
  '02 00 0a d5 00 14  0a d5 00 14',
  '02 00 0a d5 00 01  0a d5 00 01',
);

// The same reply as received from an old driver that pads with junk and hands up the FCS.
const RECEIVED_REPLY_WITH_JUNK = Buffer.concat([CAPTURED_REPLY_42, fromHex('5a'.repeat(18), 'de ad be ef')]);

// 802.1Q-tagged RFC 5227 §2.3 announcement for 10.213.0.10 on VLAN 213, priority 5
// (TCI 0xa0d5: PCP 101, DEI 0, VID 0x0d5), padded to 64 bytes.
const TAGGED_ANNOUNCEMENT_VECTOR = fromHex(
  'ff ff ff ff ff ff  02 00 0a d5 00 01',
  '81 00  a0 d5', // 802.1Q tag
  '08 06',
  '00 01 08 00 06 04 00 01',
  '02 00 0a d5 00 01  0a d5 00 0a',
  '00 00 00 00 00 00  0a d5 00 0a',
  '00'.repeat(18),
);

const PROBE_FRAME: ArpFrame = {
  dst: 'ff:ff:ff:ff:ff:ff',
  src: OWN_MAC,
  vlan: null,
  arp: { op: 'request', senderMac: OWN_MAC, senderIp: '0.0.0.0', targetMac: '00:00:00:00:00:00', targetIp: '10.213.0.10' },
};

const REPLY_FRAME: ArpFrame = {
  dst: OWN_MAC,
  src: PEER_MAC,
  vlan: null,
  arp: { op: 'reply', senderMac: PEER_MAC, senderIp: '10.213.0.20', targetMac: OWN_MAC, targetIp: '10.213.0.1' },
};

describe('decode fixed vectors', () => {
  test('hand-laid RFC 5227 probe gives exact fields', () => {
    assert.equal(PROBE_VECTOR.length, 60);
    assert.deepEqual(decode(PROBE_VECTOR), PROBE_FRAME);
  });

  test('42-byte capture without padding', () => {
    assert.deepEqual(decode(CAPTURED_REPLY_42), REPLY_FRAME);
  });

  test('trailing junk padding and FCS are ignored', () => {
    assert.deepEqual(decode(RECEIVED_REPLY_WITH_JUNK), REPLY_FRAME);
  });

  test('802.1Q tag: VLAN id decoded, priority bits ignored', () => {
    assert.deepEqual(decode(TAGGED_ANNOUNCEMENT_VECTOR), {
      dst: 'ff:ff:ff:ff:ff:ff',
      src: OWN_MAC,
      vlan: 213,
      arp: { op: 'request', senderMac: OWN_MAC, senderIp: '10.213.0.10', targetMac: '00:00:00:00:00:00', targetIp: '10.213.0.10' },
    });
  });

  test('VLAN ids 0 and 4095 decode as such', () => {
    const tagged = Buffer.from(TAGGED_ANNOUNCEMENT_VECTOR);
    tagged.writeUInt16BE(0xefff, 14); // PCP 7, DEI 1, VID 4095
    assert.equal(decode(tagged).vlan, 4095);
    tagged.writeUInt16BE(0xe000, 14); // priority-tagged, VID 0
    assert.equal(decode(tagged).vlan, 0);
  });

  test('respects offset and length inside a larger buffer', () => {
    const big = Buffer.alloc(100, 0xee);
    CAPTURED_REPLY_42.copy(big, 7);
    assert.deepEqual(decode(big, 7, 42), REPLY_FRAME);
    assert.deepEqual(decode(big, 7), REPLY_FRAME);
    assertCodecError(() => decode(big, 7, 41), 'TRUNCATED');
  });

  test('accepts a plain Uint8Array view with a non-zero byteOffset', () => {
    const backing = new Uint8Array(80);
    backing.set(PROBE_VECTOR, 10);
    const view = backing.subarray(10, 70);
    assert.deepEqual(decode(view), PROBE_FRAME);
  });
});

describe('encode fixed vectors', () => {
  test('probe builder encodes to the hand-laid vector', () => {
    assert.equal(encode(probe(OWN_MAC, '10.213.0.10')).toString('hex'), PROBE_VECTOR.toString('hex'));
  });

  test('tagged announcement encodes with PCP 0 and pads to 64 bytes', () => {
    const expected = Buffer.from(TAGGED_ANNOUNCEMENT_VECTOR);
    expected.writeUInt16BE(0x00d5, 14);
    const frame = { ...announcement(OWN_MAC, '10.213.0.10'), vlan: 213 };
    assert.equal(encodingLength(frame), 64);
    assert.equal(encode(frame).toString('hex'), expected.toString('hex'));
  });

  test('unicast reply encodes to the captured bytes plus zero padding', () => {
    const bytes = encode(reply(PEER_MAC, '10.213.0.20', OWN_MAC, '10.213.0.1'));
    assert.equal(bytes.length, 60);
    assert.equal(bytes.toString('hex'), Buffer.concat([CAPTURED_REPLY_42, Buffer.alloc(18)]).toString('hex'));
  });

  test('question: a probe whose target MAC is all ones; isQuestion tells it from a probe', () => {
    assert.equal(
      encode(question(OWN_MAC, '10.213.0.10')).toString('hex'),
      fromHex(
        'ff ff ff ff ff ff  02 00 0a d5 00 01  08 06',
        '00 01 08 00 06 04 00 01',
        '02 00 0a d5 00 01  00 00 00 00',
        'ff ff ff ff ff ff  0a d5 00 0a',
        '00'.repeat(18),
      ).toString('hex'),
    );
    assert.equal(isQuestion(question(OWN_MAC, '10.213.0.10').arp), true);
    assert.equal(isQuestion(probe(OWN_MAC, '10.213.0.10').arp), false);
    assert.equal(isQuestion(request(OWN_MAC, '10.213.0.1', '10.213.0.10').arp), false);
    assert.equal(classify(question(OWN_MAC, '10.213.0.10')), 'probe');
  });

  test('gratuitous reply: target MAC is our own MAC, sender IP = target IP', () => {
    const bytes = encode(gratuitousReply(OWN_MAC, '10.213.0.10'));
    assert.equal(
      bytes.toString('hex'),
      fromHex(
        'ff ff ff ff ff ff  02 00 0a d5 00 01  08 06',
        '00 01 08 00 06 04 00 02',
        '02 00 0a d5 00 01  0a d5 00 0a',
        '02 00 0a d5 00 01  0a d5 00 0a',
        '00'.repeat(18),
      ).toString('hex'),
    );
  });
});

describe('builders', () => {
  test('produce the RFC 5227 fields', () => {
    assert.deepEqual(probe(OWN_MAC, '10.213.0.10'), PROBE_FRAME);
    assert.deepEqual(announcement(OWN_MAC, '10.213.0.10').arp, {
      op: 'request',
      senderMac: OWN_MAC,
      senderIp: '10.213.0.10',
      targetMac: '00:00:00:00:00:00',
      targetIp: '10.213.0.10',
    });
    assert.equal(announcement(OWN_MAC, '10.213.0.10').dst, 'ff:ff:ff:ff:ff:ff');
    const garp = gratuitousReply(OWN_MAC, '10.213.0.10');
    assert.equal(garp.dst, 'ff:ff:ff:ff:ff:ff');
    assert.equal(garp.arp.targetMac, garp.arp.senderMac);
    assert.equal(gratuitousReply(OWN_MAC, '10.213.0.10', PEER_MAC).dst, PEER_MAC);
    assert.deepEqual(request(OWN_MAC, '10.213.0.1', '10.213.0.20'), {
      dst: 'ff:ff:ff:ff:ff:ff',
      src: OWN_MAC,
      vlan: null,
      arp: { op: 'request', senderMac: OWN_MAC, senderIp: '10.213.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.213.0.20' },
    });
    assert.deepEqual(reply(PEER_MAC, '10.213.0.20', OWN_MAC, '10.213.0.1'), REPLY_FRAME);
  });

  test('canonicalize their inputs', () => {
    assert.equal(probe('02-00-0A-D5-00-01', '10.213.0.10').src, OWN_MAC);
    assert.equal(gratuitousReply(OWN_MAC, '10.213.0.10', 'FF-FF-FF-FF-FF-FF').dst, 'ff:ff:ff:ff:ff:ff');
  });

  test('reject bad addresses with the codec error', () => {
    assertCodecError(() => probe('02:00:0a:d5:00', '10.213.0.10'), 'BAD_MAC', null);
    assertCodecError(() => probe(OWN_MAC, '10.213.0.010'), 'BAD_IPV4', null);
    assertCodecError(() => announcement(OWN_MAC, '10.213.0'), 'BAD_IPV4');
    assertCodecError(() => gratuitousReply(OWN_MAC, '10.213.0.1', 'broadcast'), 'BAD_MAC');
    assertCodecError(() => request(OWN_MAC, '10.213.0.1', '10.213.0.300'), 'BAD_IPV4');
    const error = assertCodecError(() => reply(OWN_MAC, '10.213.0.1', 'xx', '10.213.0.2'), 'BAD_MAC');
    assert.match(error.message, /^reply toMac: invalid MAC address "xx"/);
  });

  test('classify', () => {
    assert.equal(classify(probe(OWN_MAC, '10.213.0.10')), 'probe');
    assert.equal(classify(announcement(OWN_MAC, '10.213.0.10')), 'announcement');
    assert.equal(classify(gratuitousReply(OWN_MAC, '10.213.0.10')), 'gratuitous-reply');
    assert.equal(classify(request(OWN_MAC, '10.213.0.1', '10.213.0.20')), 'request');
    assert.equal(classify(reply(PEER_MAC, '10.213.0.20', OWN_MAC, '10.213.0.1')), 'reply');
    assert.equal(classify(decode(PROBE_VECTOR)), 'probe');
    assert.equal(classify(decode(TAGGED_ANNOUNCEMENT_VECTOR)), 'announcement');
    assert.equal(classify(decode(CAPTURED_REPLY_42)), 'reply');
  });
});

const BUILT_FRAMES: [string, ArpFrame][] = [
  ['probe', probe(OWN_MAC, '10.213.0.10')],
  ['announcement', announcement(OWN_MAC, '10.213.0.10')],
  ['gratuitous reply', gratuitousReply(OWN_MAC, '10.213.0.10')],
  ['unicast gratuitous reply', gratuitousReply(OWN_MAC, '10.213.0.10', PEER_MAC)],
  ['request', request(OWN_MAC, '10.213.0.1', '10.213.0.20')],
  ['reply', reply(PEER_MAC, '10.213.0.20', OWN_MAC, '10.213.0.1')],
  ['extreme addresses', reply('ff:ff:ff:ff:ff:ff', '255.255.255.255', '00:00:00:00:00:00', '0.0.0.0')],
];

describe('round trips', () => {
  for (const [name, frame] of BUILT_FRAMES) {
    for (const vlan of [null, 0, 1, 213, 4095]) {
      test(`${name}, vlan ${String(vlan)}`, () => {
        const tagged: ArpFrame = { ...frame, vlan };
        const bytes = encode(tagged);
        assert.equal(bytes.length, encodingLength(tagged));
        assert.equal(bytes.length, vlan === null ? 60 : 64);
        assert.deepEqual(decode(bytes), tagged);
        assert.deepEqual(encode(decode(bytes)), bytes);
      });
    }
  }

  test('non-canonical spellings are encoded and come back canonical', () => {
    const frame: ArpFrame = { ...PROBE_FRAME, src: '02-00-0A-D5-00-01', dst: 'FF:FF:FF:FF:FF:FF' };
    assert.deepEqual(decode(encode(frame)), PROBE_FRAME);
  });
});

describe('encode into a caller buffer', () => {
  test('writes at the offset, zeroes the padding, leaves the rest alone', () => {
    const target = Buffer.alloc(80, 0xee);
    const returned = encode(PROBE_FRAME, target, 10);
    assert.equal(returned, target);
    assert.equal(target.subarray(10, 70).toString('hex'), PROBE_VECTOR.toString('hex'));
    assert.deepEqual(target.subarray(0, 10), Buffer.alloc(10, 0xee));
    assert.deepEqual(target.subarray(70), Buffer.alloc(10, 0xee));
  });

  test('without a buffer the frame lands at the offset of a new buffer', () => {
    const bytes = encode(PROBE_FRAME, undefined, 3);
    assert.equal(bytes.length, 63);
    assert.deepEqual(bytes.subarray(0, 3), Buffer.alloc(3));
    assert.deepEqual(decode(bytes, 3), PROBE_FRAME);
  });

  test('BUFFER_TOO_SMALL leaves the buffer untouched', () => {
    const target = Buffer.alloc(64, 0xee);
    assertCodecError(() => encode(PROBE_FRAME, target, 5), 'BUFFER_TOO_SMALL', 5);
    assertCodecError(() => encode({ ...PROBE_FRAME, vlan: 1 }, Buffer.alloc(63)), 'BUFFER_TOO_SMALL');
    assert.deepEqual(target, Buffer.alloc(64, 0xee));
    assert.equal(encode(PROBE_FRAME, Buffer.alloc(60)).length, 60);
  });

  test('a bad last field leaves the buffer untouched', () => {
    const target = Buffer.alloc(60, 0xee);
    const frame: ArpFrame = { ...PROBE_FRAME, arp: { ...PROBE_FRAME.arp, targetIp: '10.213.0.256' } };
    assertCodecError(() => encode(frame, target), 'BAD_IPV4');
    assert.deepEqual(target, Buffer.alloc(60, 0xee));
  });

  test('bad offsets', () => {
    for (const offset of [-1, 1.5, Number.NaN, 61, Number.POSITIVE_INFINITY]) {
      assertCodecError(() => encode(PROBE_FRAME, Buffer.alloc(60), offset), 'BAD_OFFSET');
    }
    assertCodecError(() => encode(PROBE_FRAME, undefined, -1), 'BAD_OFFSET');
    assertCodecError(() => encode(PROBE_FRAME, 'not a buffer' as unknown as Buffer), 'BAD_BUFFER');
  });
});

describe('encode rejects bad frames', () => {
  for (const vlan of [-1, 4096, 1.5, Number.NaN, '5', undefined]) {
    test(`vlan ${String(vlan)}`, () => {
      assertCodecError(() => encode({ ...PROBE_FRAME, vlan } as unknown as ArpFrame), 'BAD_VLAN');
    });
  }

  const macFields = ['dst', 'src', 'arp.senderMac', 'arp.targetMac'] as const;
  const ipFields = ['arp.senderIp', 'arp.targetIp'] as const;
  const withProbeField = (field: string, value: unknown): ArpFrame => withField(PROBE_FRAME, field, value);
  for (const field of macFields) {
    test(`bad MAC in ${field}`, () => {
      const error = assertCodecError(() => encode(withProbeField(field, '02:00:0a:d5:00:0g')), 'BAD_MAC');
      assert.ok(error.message.startsWith(`cannot encode ${field}: invalid MAC address "02:00:0a:d5:00:0g"`), error.message);
      assertCodecError(() => encode(withProbeField(field, 12)), 'BAD_MAC');
    });
  }
  for (const field of ipFields) {
    test(`bad IPv4 in ${field}`, () => {
      const error = assertCodecError(() => encode(withProbeField(field, '10.213.0.01')), 'BAD_IPV4');
      assert.ok(error.message.startsWith(`cannot encode ${field}: invalid IPv4 address "10.213.0.01"`), error.message);
      assertCodecError(() => encode(withProbeField(field, null)), 'BAD_IPV4');
    });
  }
  test('bad op', () => {
    assertCodecError(() => encode(withProbeField('arp.op', 'query')), 'BAD_OP');
  });
  test('not a frame', () => {
    assertCodecError(() => encode(null as unknown as ArpFrame), 'BAD_FRAME');
    assertCodecError(() => encode({ ...PROBE_FRAME, arp: undefined } as unknown as ArpFrame), 'BAD_FRAME');
  });
});

/** Copy of `vector` with a big-endian 16-bit value (or byte) written at `at`. */
function patched(vector: Buffer, at: number, value: number, width: 1 | 2 = 2): Buffer {
  const copy = Buffer.from(vector);
  if (width === 2) copy.writeUInt16BE(value, at);
  else copy.writeUInt8(value, at);
  return copy;
}

describe('decode rejects hostile bytes', () => {
  test('empty, 13 bytes, 14 bytes of header only', () => {
    assertCodecError(() => decode(Buffer.alloc(0)), 'TRUNCATED', 0);
    assertCodecError(() => decode(PROBE_VECTOR.subarray(0, 13)), 'TRUNCATED', 0);
    assertCodecError(() => decode(PROBE_VECTOR.subarray(0, 14)), 'TRUNCATED', 14);
  });

  test('untagged ARP truncated at every length 0..41', () => {
    for (let length = 0; length <= 41; length++) {
      assertCodecError(() => decode(PROBE_VECTOR.subarray(0, length)), 'TRUNCATED');
      // Same through the length argument: the bytes after it are there but must not count.
      assertCodecError(() => decode(PROBE_VECTOR, 0, length), 'TRUNCATED');
    }
    assert.equal(decode(PROBE_VECTOR.subarray(0, 42)).arp.targetIp, '10.213.0.10');
  });

  test('tagged ARP truncated at every length 0..45, including inside the tag', () => {
    for (let length = 0; length <= 45; length++) {
      assertCodecError(() => decode(TAGGED_ANNOUNCEMENT_VECTOR.subarray(0, length)), 'TRUNCATED');
    }
    for (let length = 14; length <= 17; length++) {
      const error = assertCodecError(() => decode(TAGGED_ANNOUNCEMENT_VECTOR, 0, length), 'TRUNCATED', 0);
      assert.match(error.message, /802\.1Q/);
    }
    assert.equal(decode(TAGGED_ANNOUNCEMENT_VECTOR.subarray(0, 46)).vlan, 213);
  });

  test('wrong ethertype', () => {
    const error = assertCodecError(() => decode(patched(PROBE_VECTOR, 12, 0x0800)), 'NOT_ARP', 12);
    assert.equal(error.message, 'not an ARP frame: ethertype 0x0800 at byte 12 (ARP is 0x0806)');
    // Known not to be ARP from the first 14 bytes alone.
    assertCodecError(() => decode(patched(PROBE_VECTOR, 12, 0x86dd).subarray(0, 14)), 'NOT_ARP', 12);
    assertCodecError(() => decode(patched(TAGGED_ANNOUNCEMENT_VECTOR, 16, 0x0800)), 'NOT_ARP', 16);
    assertCodecError(() => decode(patched(PROBE_VECTOR, 12, 0x88a8)), 'NOT_ARP', 12);
    assertCodecError(() => decode(patched(PROBE_VECTOR, 12, 0x8035)), 'NOT_ARP', 12); // RARP
  });

  test('a second stacked VLAN tag', () => {
    for (const tpid of [0x8100, 0x88a8, 0x9100]) {
      assertCodecError(() => decode(patched(TAGGED_ANNOUNCEMENT_VECTOR, 16, tpid)), 'STACKED_VLAN', 16);
    }
  });

  test('htype, ptype, hlen, plen, untagged and tagged', () => {
    for (const [vector, arpAt] of [[PROBE_VECTOR, 14], [TAGGED_ANNOUNCEMENT_VECTOR, 18]] as const) {
      assertCodecError(() => decode(patched(vector, arpAt, 6)), 'BAD_HTYPE', arpAt);
      assertCodecError(() => decode(patched(vector, arpAt + 2, 0x86dd)), 'BAD_PTYPE', arpAt + 2);
      assertCodecError(() => decode(patched(vector, arpAt + 4, 8, 1)), 'BAD_HLEN', arpAt + 4);
      assertCodecError(() => decode(patched(vector, arpAt + 5, 16, 1)), 'BAD_PLEN', arpAt + 5);
    }
  });

  test('op 0, 3 and 0xffff', () => {
    for (const op of [0, 3, 0xffff]) {
      const error = assertCodecError(() => decode(patched(PROBE_VECTOR, 20, op)), 'BAD_OP', 20);
      assert.ok(error.message.includes(`operation ${op}`), error.message);
    }
  });

  test('offset and length outside the buffer', () => {
    assertCodecError(() => decode(PROBE_VECTOR, 61), 'BAD_OFFSET');
    assertCodecError(() => decode(PROBE_VECTOR, 60), 'TRUNCATED', 60); // empty view, not out of range
    for (const offset of [-1, Number.NaN, 0.5, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assertCodecError(() => decode(PROBE_VECTOR, offset), 'BAD_OFFSET');
    }
    for (const length of [61, -1, Number.NaN, 1.5, Number.POSITIVE_INFINITY]) {
      assertCodecError(() => decode(PROBE_VECTOR, 0, length), 'BAD_OFFSET');
    }
    assertCodecError(() => decode(PROBE_VECTOR, 10, 51), 'BAD_OFFSET');
  });

  test('not bytes at all', () => {
    for (const input of [null, undefined, 'ffff', [1, 2, 3], new ArrayBuffer(60)]) {
      assertCodecError(() => decode(input as unknown as Buffer), 'BAD_BUFFER');
    }
  });
});

describe('decode reads only inside offset..offset+length', () => {
  test('every truncation of an embedded frame', () => {
    assertReadsInsideWindow(ArpCodecError, decode, TAGGED_ANNOUNCEMENT_VECTOR);
  });
});


function assertCanonical(frame: ArpFrame): void {
  for (const mac of [frame.dst, frame.src, frame.arp.senderMac, frame.arp.targetMac]) {
    assert.ok(isMac(mac) && canonicalMac(mac) === mac, `canonical MAC: ${mac}`);
  }
  for (const ip of [frame.arp.senderIp, frame.arp.targetIp]) assert.ok(isIpv4(ip), `canonical IPv4: ${ip}`);
  assert.ok(frame.vlan === null || (Number.isInteger(frame.vlan) && frame.vlan >= 0 && frame.vlan <= 4095));
  assert.ok(frame.arp.op === 'request' || frame.arp.op === 'reply');
}

describe('fuzz', () => {
  test('20k random and mutated buffers: a canonical frame or an ArpCodecError, nothing else', () => {
    const random = seededRandom(0x1f0);
    const int = (below: number): number => Math.floor(random() * below);
    const seeds = [PROBE_VECTOR, TAGGED_ANNOUNCEMENT_VECTOR, CAPTURED_REPLY_42];
    const input = (round: number): FuzzInput => {
      let bytes: Buffer;
      if (round % 2 === 0) {
        bytes = randomBytes(int, 81);
      } else {
        // Mutate a valid frame so the fuzz also reaches the deep checks.
        const seed = seeds[int(seeds.length)]!;
        bytes = Buffer.from(seed.subarray(0, Math.min(seed.length, int(81))));
        flipBytes(bytes, int(4), int);
      }
      const offset = round % 5 === 0 ? int(bytes.length + 3) - 1 : 0;
      const length = round % 7 === 0 ? int(bytes.length + 3) - 1 : undefined;
      return { bytes, offset, length };
    };
    const outcomes = fuzzDecoder(ArpCodecError, 20_000, input, ({ bytes, offset, length }) => {
      const frame = decode(bytes, offset, length);
      assertCanonical(frame);
      assert.deepEqual(decode(encode(frame)), frame, 'decoded frames re-encode to themselves');
    });
    assertReached(outcomes, ['ok', 'TRUNCATED', 'NOT_ARP', 'BAD_HTYPE', 'BAD_PTYPE', 'BAD_OP', 'BAD_OFFSET']);
  });
});
