// `ipfo watch --dev X --held …`: IPv4 and IPv6 addresses, IPv6 kept in the RFC 5952 form the watch's
// frames decode to; addresses no host holds on a link refused with a UsageError (exit 2).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, UsageError } from '../../main/cli/args';

const held = (list: string): unknown => {
  const command = parseCommand(['watch', '--dev', 'lan0', '--held', list]);
  assert.equal(command.kind, 'watch');
  return (command as { held: string[] }).held;
};

describe('watch --held', () => {
  test('IPv4 and IPv6 together, IPv6 canonicalised and listed once', () => {
    assert.deepEqual(held('10.0.0.5,2001:0DB8:0:0::0050,fe80::1,2001:db8::50'), ['10.0.0.5', '2001:db8::50', 'fe80::1']);
    assert.deepEqual(parseCommand(['watch', '--dev', 'lan0']), { kind: 'watch', dev: 'lan0', held: [], json: false });
  });

  test('bad addresses are refused, not ignored', () => {
    for (const bad of ['10.0.0.256', '2001:db8::g', '2001:db8:::1', '1:2:3:4:5:6:7:8:9', '::', '::1', 'ff02::1', '::ffff:10.0.0.1', 'fe80::1%lan0', '2001:db8::/64']) {
      assert.throws(() => held(bad), UsageError, bad);
    }
  });
});
