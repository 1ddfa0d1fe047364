import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { announcement, ArpCodecError, decode, encode, reply, request } from '../../main/arp/codec';
import { DecodedFrameCache, KEY_BYTES } from '../../main/watch/frame-cache';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ArpCodecError, String(error));
    return error.code;
  }
  assert.fail('expected an ArpCodecError');
}

describe('DecodedFrameCache', () => {
  const frames = [
    encode(request('02:00:00:00:00:01', '10.0.0.1', '10.0.0.2')),
    encode(reply('02:00:00:00:00:02', '10.0.0.2', '02:00:00:00:00:01', '10.0.0.1')),
    encode(announcement('02:00:00:00:00:03', '10.0.0.3')),
    encode({ ...request('02:00:00:00:00:01', '10.0.0.1', '10.0.0.2'), vlan: 7 }),
  ];

  test('decodes exactly as the codec does, and hands out the same frozen object for the same bytes', () => {
    const cache = new DecodedFrameCache();
    for (const bytes of frames) {
      const first = cache.decode(bytes, 0, bytes.length);
      assert.deepEqual(first, decode(bytes));
      assert.ok(Object.isFrozen(first) && Object.isFrozen(first.arp));
      const copy = Buffer.concat([Buffer.alloc(128), bytes]);
      assert.equal(cache.decode(copy, 128, bytes.length), first, 'a hit at another offset');
    }
    assert.equal(cache.misses, frames.length);
    assert.equal(cache.hits, frames.length);
  });

  test('frames that differ in any decoded byte are told apart, whatever their hash', () => {
    const cache = new DecodedFrameCache();
    const base = frames[0]!;
    cache.decode(base, 0, base.length);
    for (let at = 0; at < KEY_BYTES; at++) {
      const changed = Buffer.from(base);
      changed[at] = changed[at]! ^ 0x01;
      let expected: unknown;
      try {
        expected = decode(changed);
      } catch (error) {
        expected = (error as ArpCodecError).code;
      }
      let actual: unknown;
      try {
        actual = cache.decode(changed, 0, changed.length);
      } catch (error) {
        actual = (error as ArpCodecError).code;
      }
      assert.deepEqual(actual, expected, `byte ${at} flipped`);
    }
  });

  test('malformed and short frames throw the codec\'s errors and are never cached', () => {
    const cache = new DecodedFrameCache();
    const badOp = Buffer.from(frames[0]!);
    badOp[21] = 9;
    assert.equal(codeOf(() => cache.decode(badOp, 0, badOp.length)), 'BAD_OP');
    assert.equal(codeOf(() => cache.decode(badOp, 0, badOp.length)), 'BAD_OP');
    assert.equal(codeOf(() => cache.decode(frames[0]!, 0, 30)), 'TRUNCATED');
    assert.equal(codeOf(() => cache.decode(frames[0]!, 50, 20)), 'BAD_OFFSET');
    assert.equal(cache.size, 0);
  });

  test('stays within its bound', () => {
    const cache = new DecodedFrameCache(8);
    for (let i = 1; i <= 20; i++) {
      const bytes = encode(announcement('02:00:00:00:00:01', `10.0.0.${i}`));
      assert.equal(cache.decode(bytes, 0, bytes.length).arp.senderIp, `10.0.0.${i}`);
      assert.ok(cache.size <= 8);
    }
    assert.throws(() => new DecodedFrameCache(0), RangeError);
  });
});
