// The registrar's pure validation of IPv6 addresses (issue 18): what reaches the kernel is a unicast
// address a cluster may move, in the one RFC 5952 spelling the ownership checks compare. Every refusal
// is a RegistrarInputError with a one-line message an administrator can be shown; IPv4 is unchanged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isIpv6Text, validateVirtualAddress, type VirtualAddress } from '../../main/net/registrar';

const v6 = (ip: unknown, prefix: unknown = 64, extra: Partial<VirtualAddress> = {}): VirtualAddress =>
  ({ ifname: 'eth0', ip, prefix, ...extra }) as VirtualAddress;

/** The message validateVirtualAddress throws for v, after checking it is a one-line RegistrarInputError. */
function refusal(v: VirtualAddress): string {
  let caught: unknown;
  try {
    validateVirtualAddress(v);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error, `${JSON.stringify(v)} was accepted`);
  assert.equal(caught.name, 'RegistrarInputError');
  assert.equal((caught as Error & { code?: unknown }).code, 'EINVAL');
  assert.ok(!/[\n\r\0]/.test(caught.message), `one line, no NUL: ${JSON.stringify(caught.message)}`);
  return caught.message;
}

describe('registrar: IPv6 input validation (pure)', () => {
  test('canonical unicast addresses pass, with prefixes 1..128 and the IPv4 lifetime rules', () => {
    for (const [ip, prefix] of [['2001:db8::1', 64], ['2001:db8:1:2:3:4:5:6', 128], ['2001:db8::', 1], ['fd00::1', 48], ['2001:db8::c000:201', 96]] as const) {
      assert.doesNotThrow(() => validateVirtualAddress(v6(ip, prefix)), `${ip}/${prefix}`);
    }
    assert.doesNotThrow(() => validateVirtualAddress(v6('2001:db8::1', 64, { validLftSec: 2, preferredLftSec: 2 })));
    assert.match(refusal(v6('2001:db8::1', 64, { validLftSec: 0 })), /^validLftSec must be an integer 1\.\./);
    assert.equal(refusal(v6('2001:db8::1', 64, { validLftSec: 2, preferredLftSec: 3 })), 'preferredLftSec must not exceed validLftSec');
  });

  test('only the RFC 5952 spelling: the same address written twice would look like two', () => {
    const cases: Array<[string, string]> = [
      ['2001:DB8::1', '2001:db8::1'],
      ['2001:0db8::1', '2001:db8::1'],
      ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:db8::0:1', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['FD00::A', 'fd00::a'],
    ];
    for (const [typed, canonical] of cases) {
      assert.equal(refusal(v6(typed)), `IPv6 address ${JSON.stringify(typed)} is not in canonical form (RFC 5952): write ${JSON.stringify(canonical)}`);
    }
  });

  test('hostile text is refused with the parser own one-line reason', () => {
    const cases: Array<[unknown, string]> = [
      ['fe80::1%eth0', 'invalid IPv6 address "fe80::1%eth0": zone ids such as "%eth0" are not allowed: an address that moves between nodes belongs to no one interface'],
      ['2001:db8::1%0', 'invalid IPv6 address "2001:db8::1%0": zone ids such as "%eth0" are not allowed: an address that moves between nodes belongs to no one interface'],
      ['2001:db8::1\0', 'invalid IPv6 address "2001:db8::1\\u0000": "\\u0000" at position 12 is not allowed: only hex digits, ":" and a dotted IPv4 tail'],
      ['2001:db8::1\n', 'invalid IPv6 address "2001:db8::1\\n": white space at position 12 is not allowed'],
      [':::', 'invalid IPv6 address ":::": three colons in a row'],
      ['2001:db8::1::2', 'invalid IPv6 address "2001:db8::1::2": only one "::" is allowed'],
      ['1:2:3:4:5:6:7:8:9', 'invalid IPv6 address "1:2:3:4:5:6:7:8:9": expected 8 groups (or 6 and a dotted IPv4 tail), found 9; "::" abbreviates zeros'],
      ['2001:db8::12345', 'invalid IPv6 address "2001:db8::12345": group 3 ("12345") has more than 4 hex digits'],
      ['[2001:db8::1]', 'invalid IPv6 address "[2001:db8::1]": brackets belong in URLs ("[2001:db8::1]:443"), not in an address'],
      ['2001:db8::1/64', 'invalid IPv6 address "2001:db8::1/64": a prefix length belongs in address/prefix ("2001:db8::1/64"), not in an address'],
      [' 2001:db8::1', 'invalid IPv6 address " 2001:db8::1": white space at position 1 is not allowed'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555', 'invalid IPv6 address "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555": 46 characters; an IPv6 address has at most 45'],
    ];
    for (const [ip, message] of cases) assert.equal(refusal(v6(ip)), message, JSON.stringify(ip));
    // Far too long: the message quotes a bounded part of it.
    const long = refusal(v6(`2001:db8:${'0:'.repeat(5000)}1`));
    assert.ok(long.length < 200, `${long.length} characters`);
    assert.match(long, /^invalid IPv6 address "2001:db8:0:0:.*\.\.\.": 10010 characters; an IPv6 address has at most 45$/);
  });

  test('addresses no resource may be are refused, each with its reason', () => {
    const cases: Array<[string, number, string]> = [
      ['::', 64, 'refusing "::": the unspecified address names no host'],
      ['::1', 128, 'refusing "::1": the loopback address never leaves the host'],
      ['ff02::1', 64, 'refusing "ff02::1": a multicast address is not a host\'s address'],
      ['ff0e::1:2', 64, 'refusing "ff0e::1:2": a multicast address is not a host\'s address'],
      ['::ffff:192.0.2.1', 96, 'refusing "::ffff:192.0.2.1": an IPv4-mapped address is IPv4; register its dotted quad instead'],
      ['fe80::1', 64, 'refusing "fe80::1": a link-local address belongs to one link, not to a resource that moves'],
      ['febf:ffff::1', 64, 'refusing "febf:ffff::1": a link-local address belongs to one link, not to a resource that moves'],
    ];
    for (const [ip, prefix, message] of cases) assert.equal(refusal(v6(ip, prefix)), message, ip);
    // fec0::/10 (site-local, deprecated) is not link-local.
    assert.doesNotThrow(() => validateVirtualAddress(v6('fec0::1')));
  });

  test('an IPv6 prefix is an integer 1..128 (a /0 would put the whole IPv6 Internet on-link)', () => {
    const cases: Array<[unknown, string]> = [
      [0, '0'],
      [129, '129'],
      [-1, '-1'],
      [64.5, '64.5'],
      [Number.NaN, 'NaN'],
      ['64 ', '"64 "'],
      ['64', '"64"'],
      [null, 'null'],
      [undefined, 'undefined'],
    ];
    for (const [prefix, shown] of cases) {
      assert.equal(refusal({ ifname: 'eth0', ip: '2001:db8::1', prefix } as VirtualAddress), `prefix must be an integer 1..128 for an IPv6 address: ${shown}`, String(prefix));
    }
  });

  test('the family is told by the text; IPv4 keeps its rules and messages', () => {
    assert.equal(isIpv6Text('2001:db8::1'), true);
    assert.equal(isIpv6Text('::'), true);
    assert.equal(isIpv6Text('10.0.0.1'), false);
    assert.equal(isIpv6Text(42), false);
    assert.doesNotThrow(() => validateVirtualAddress(v6('10.213.0.0', 0)), 'IPv4 /0 is accepted, as before');
    assert.equal(refusal(v6('10.0.0.1', 33)), 'prefix must be an integer 0..32: 33');
    assert.equal(refusal(v6('10.0.0.1%eth0', 24)), 'not an IPv4 dotted quad (4 decimal octets 0-255, no leading zeros): "10.0.0.1%eth0"');
    assert.equal(refusal(v6(42, 24)), 'not an IPv4 dotted quad (4 decimal octets 0-255, no leading zeros): 42');
    // An IPv6 prefix on IPv4 text is the IPv4 rule's business.
    assert.equal(refusal(v6('10.0.0.1', 64)), 'prefix must be an integer 0..32: 64');
  });

  test('the interface name is checked first, for both families', () => {
    assert.match(refusal({ ifname: 'bad/name', ip: 'fe80::1%eth0', prefix: 64 }), /interface/i);
  });
});
