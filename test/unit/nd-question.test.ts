// The question mark of IPv6 probes (nd/options.ts QUESTION_NONCE): a DAD solicitation with an RFC 7527
// nonce option of a fixed value. Bytes written and read, Linux's own nonces left alone, hostile options.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDadProbe, buildDadQuestion, buildSolicitation, buildUnsolicitedAdvertisement, classifyNd, isNdQuestion } from '../../main/nd/builders';
import { icmpv6Checksum } from '../../main/nd/checksum';
import { decode, encode, encodingLength, NdCodecError, type NdCodecErrorCode } from '../../main/nd/codec';
import type { NdFrame } from '../../main/nd/frame';
import { QUESTION_NONCE } from '../../main/nd/options';
import { seededRandom } from '../seeded-random';
import { assertCodedError, assertReached, flipBytes, fromHex, fuzzDecoder, type FuzzInput } from './codec-helpers';

const MAC_A = '02:00:00:77:00:01';
const IP_A = '2001:db8:77::1';
const IP_B = '2001:db8:77::2';

const IP_AT = 14;
const PAYLOAD_LENGTH_AT = 18;
const ICMP_AT = 54;
const OPTIONS_AT = 78;
const MARK = '0e 01  69 70 66 6f 3f 3f'; // type 14, length 1, "ipfo??"

function assertCodecError(run: () => unknown, code: NdCodecErrorCode, byteOffset?: number | null): NdCodecError {
  return assertCodedError(NdCodecError, run, code, byteOffset);
}

/** `frame`'s header and message (its first 78 bytes) followed by `options`, payload length and checksum to match. */
function withOptions(frame: NdFrame, ...options: string[]): Buffer {
  const bytes = Buffer.concat([encode(frame).subarray(0, OPTIONS_AT), fromHex(...options)]);
  bytes.writeUInt16BE(bytes.length - ICMP_AT, PAYLOAD_LENGTH_AT);
  return withFreshChecksum(bytes);
}

function withFreshChecksum(bytes: Buffer): Buffer {
  bytes.writeUInt16BE(0, ICMP_AT + 2);
  bytes.writeUInt16BE(icmpv6Checksum(bytes, IP_AT + 8, IP_AT + 24, ICMP_AT, bytes.readUInt16BE(PAYLOAD_LENGTH_AT)), ICMP_AT + 2);
  return bytes;
}

const DAD = buildDadProbe(MAC_A, IP_B);

describe('the question: a DAD probe with the question nonce', () => {
  test('built: the DAD probe plus question, nothing else', () => {
    const question = buildDadQuestion(MAC_A, IP_B);
    assert.deepEqual(question, { ...DAD, icmp: { ...DAD.icmp, question: true } });
    assert.equal(isNdQuestion(question), true);
    assert.equal(isNdQuestion(DAD), false);
    assert.equal(classifyNd(question), 'dad-probe');
  });

  test('encoded: the DAD probe\'s bytes and the nonce option after them, payload 32, checksum to match', () => {
    const bytes = encode(buildDadQuestion(MAC_A, IP_B));
    assert.equal(encodingLength(buildDadQuestion(MAC_A, IP_B)), 86);
    assert.equal(bytes.toString('hex'), withOptions(DAD, MARK).toString('hex'));
    assert.equal(bytes.subarray(OPTIONS_AT).toString('hex'), fromHex(MARK).toString('hex'));
    assert.deepEqual([...bytes.subarray(OPTIONS_AT + 2)], [...QUESTION_NONCE]);
    assert.equal(bytes.subarray(OPTIONS_AT + 2).toString('latin1'), 'ipfo??');
  });

  test('decoded: question true; round trips untagged and tagged', () => {
    const question = buildDadQuestion(MAC_A, IP_B);
    assert.deepEqual(decode(encode(question)), question);
    assert.equal(isNdQuestion(decode(encode(question))), true);
    const tagged: NdFrame = { ...question, vlan: 213 };
    assert.deepEqual(decode(encode(tagged)), tagged);
    assert.equal(encode(tagged).length, 90);
  });

  test('a solicitation may carry it too: after the source link-layer option; not a question (not DAD)', () => {
    const base = buildSolicitation(MAC_A, IP_A, IP_B);
    const marked: NdFrame = { ...base, icmp: { type: 'ns', target: IP_B, sourceLinkAddr: MAC_A, question: true } };
    const bytes = encode(marked);
    assert.equal(bytes.length, 94);
    assert.equal(bytes.subarray(OPTIONS_AT).toString('hex'), fromHex('01 01 02 00 00 77 00 01', MARK).toString('hex'));
    assert.deepEqual(decode(bytes), marked);
    assert.equal(isNdQuestion(decode(bytes)), false);
  });

  test('encode refuses a question field that is not true or absent', () => {
    for (const value of [false, 'yes', 1, null]) {
      const frame = { ...DAD, icmp: { ...DAD.icmp, question: value } } as unknown as NdFrame;
      assertCodecError(() => encode(frame), 'BAD_FLAG');
    }
  });
});

describe('other nonces and hostile options', () => {
  test('Linux\'s random nonce: no question field, as before', () => {
    assert.deepEqual(decode(withOptions(DAD, '0e 01 dd da f6 2e e9 41')), DAD);
    // One byte off the mark is not the mark.
    assert.deepEqual(decode(withOptions(DAD, '0e 01 69 70 66 6f 3f 3e')), DAD);
  });

  test('only the first nonce option counts, and only with length 1 (as Linux reads it)', () => {
    assert.equal(isNdQuestion(decode(withOptions(DAD, MARK, '0e 01 dd da f6 2e e9 41'))), true);
    assert.deepEqual(decode(withOptions(DAD, '0e 01 dd da f6 2e e9 41', MARK)), DAD);
    // Length 2: the mark followed by eight more bytes is a longer nonce, which Linux does not read.
    assert.deepEqual(decode(withOptions(DAD, '0e 02 69 70 66 6f 3f 3f', '00'.repeat(8))), DAD);
    assert.deepEqual(decode(withOptions(DAD, '0e 02 69 70 66 6f 3f 3f', '00'.repeat(8), MARK)), DAD);
    // Unknown options before it are stepped over.
    assert.equal(isNdQuestion(decode(withOptions(DAD, 'fe 01 00 00 00 00 00 00', MARK))), true);
  });

  test('the mark in an advertisement means nothing: decoded as before', () => {
    const na = buildUnsolicitedAdvertisement(MAC_A, IP_B);
    assert.deepEqual(decode(withOptions(na, '02 01 02 00 00 77 00 01', MARK)), na);
  });

  test('a nonce option of length 0, past the payload, or cut after its type', () => {
    assertCodecError(() => decode(withOptions(DAD, '0e 00 69 70 66 6f 3f 3f')), 'ZERO_LENGTH_OPTION', OPTIONS_AT + 1);
    assertCodecError(() => decode(withOptions(DAD, '0e 02 69 70 66 6f 3f 3f')), 'OPTION_OVERRUN', OPTIONS_AT + 1);
    assertCodecError(() => decode(withOptions(DAD, '0e')), 'OPTION_OVERRUN', OPTIONS_AT);
    assertCodecError(() => decode(withOptions(DAD, MARK, '0e 00')), 'ZERO_LENGTH_OPTION', OPTIONS_AT + 9);
  });

  test('the mark beside the rules: a DAD question still carries no link-layer option', () => {
    assertCodecError(() => decode(withOptions(DAD, MARK, '01 01 02 00 00 77 00 01')), 'DAD_WITH_LINK_ADDR');
    const frame = { ...DAD, icmp: { ...DAD.icmp, sourceLinkAddr: MAC_A, question: true } } as NdFrame;
    assertCodecError(() => encode(frame), 'DAD_WITH_LINK_ADDR');
  });

  test('fuzz: 10k mutants of marked frames decode to frames that round-trip, or fail with an NdCodecError', () => {
    const random = seededRandom(0x7527);
    const int = (below: number): number => Math.floor(random() * below);
    const seeds = [encode(buildDadQuestion(MAC_A, IP_B)), withOptions(DAD, MARK, '0e 01 dd da f6 2e e9 41'), withOptions(buildSolicitation(MAC_A, IP_A, IP_B), '01 01 02 00 00 77 00 01', MARK)];
    const input = (round: number): FuzzInput => {
      const seed = seeds[int(seeds.length)]!;
      const bytes = flipBytes(Buffer.from(seed.subarray(0, round % 3 === 0 ? int(seed.length + 1) : seed.length)), 1 + int(2), int);
      if (round % 2 === 0 && bytes.length >= 58 && bytes.readUInt16BE(12) === 0x86dd && bytes.readUInt16BE(18) + 54 <= bytes.length) withFreshChecksum(bytes);
      return { bytes, offset: 0, length: undefined };
    };
    const outcomes = fuzzDecoder(NdCodecError, 10_000, input, ({ bytes }) => {
      const frame = decode(bytes);
      assert.deepEqual(decode(encode(frame)), frame);
    });
    assertReached(outcomes, ['ok', 'TRUNCATED', 'BAD_CHECKSUM', 'OPTION_OVERRUN']);
  });
});
