// The release datagram of a planned move (main/agent/handoff-channel.ts): what counts as a notice,
// and what a stored notify field must look like before the owner sends anything to it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeReleasedNotice, HandoffIdentity, parseReleasedNotice, verifyReleasedNotice } from '../../main/agent/handoff-channel';
import { checkNotify } from '../../main/cluster/intents';

const NONCE = '0123456789abcdef0123456789abcdef';

describe('release notices', () => {
  test('round trip', () => {
    const notice = new HandoffIdentity().sign({ id: 'move:web:lx2', nonce: NONCE, releasedAt: 1_764_000_000_123.5 });
    assert.deepEqual(parseReleasedNotice(encodeReleasedNotice(notice)), notice);
  });

  test('only the owner\'s signature counts: another key, or any field changed, fails', () => {
    const owner = new HandoffIdentity();
    const reader = new HandoffIdentity(); // someone who read the nonce from the store
    const notice = owner.sign({ id: 'move:web:1', nonce: NONCE, releasedAt: 5 });
    assert.match(owner.publicKey, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(verifyReleasedNotice(owner.publicKey, notice), true);
    assert.equal(verifyReleasedNotice(reader.publicKey, notice), false);
    assert.equal(verifyReleasedNotice(owner.publicKey, reader.sign({ id: 'move:web:1', nonce: NONCE, releasedAt: 5 })), false);
    assert.equal(verifyReleasedNotice(owner.publicKey, { ...notice, releasedAt: 6 }), false);
    assert.equal(verifyReleasedNotice(owner.publicKey, { ...notice, id: 'move:db:1' }), false);
    assert.equal(verifyReleasedNotice(owner.publicKey, { ...notice, nonce: NONCE.replace('0', '1') }), false);
    assert.equal(verifyReleasedNotice('not a key', notice), false);
    assert.equal(verifyReleasedNotice('A'.repeat(43), notice), false, 'a key that is not a curve point, or not the signer');
  });

  test('anything else is dropped', () => {
    const good = { v: 2, id: 'move:web:1', nonce: NONCE, releasedAt: 5, signature: 'A'.repeat(86) };
    const bad: unknown[] = [
      { ...good, v: 1 },
      { v: 1, id: 'move:web:1', nonce: NONCE, releasedAt: 5 },
      { ...good, signature: 'A'.repeat(85) },
      { ...good, signature: '+'.repeat(86) },
      { ...good, extra: true },
      { ...good, id: '' },
      { ...good, id: 'x'.repeat(513) },
      { ...good, nonce: NONCE.toUpperCase() },
      { ...good, nonce: NONCE.slice(1) },
      { ...good, releasedAt: -1 },
      { ...good, releasedAt: 'soon' },
      [good],
      null,
      'move',
    ];
    for (const value of bad) assert.equal(parseReleasedNotice(Buffer.from(JSON.stringify(value))), null, JSON.stringify(value));
    assert.equal(parseReleasedNotice(Buffer.from('{"v":2,')), null, 'not JSON');
    assert.notEqual(parseReleasedNotice(Buffer.from(JSON.stringify(good))), null, 'the good one parses (its signature is checked by the agent)');
    assert.equal(parseReleasedNotice(Buffer.alloc(1025, 0x20)), null, 'too long');
  });
});

describe('stored notify fields', () => {
  test('a well-formed one is accepted as it is', () => {
    assert.deepEqual(checkNotify({ address: '10.0.0.2', port: 40000, nonce: NONCE }), { address: '10.0.0.2', port: 40000, nonce: NONCE });
  });

  test('bad address, port or nonce: not used', () => {
    for (const value of [
      undefined,
      null,
      { address: '10.0.0.256', port: 40000, nonce: NONCE },
      { address: 'example.org', port: 40000, nonce: NONCE },
      { address: '10.0.0.2', port: 0, nonce: NONCE },
      { address: '10.0.0.2', port: 65536, nonce: NONCE },
      { address: '10.0.0.2', port: 1.5, nonce: NONCE },
      { address: '10.0.0.2', port: 40000, nonce: 'short' },
    ]) assert.equal(checkNotify(value), null, JSON.stringify(value));
  });
});
