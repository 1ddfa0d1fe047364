import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressError, type AddressErrorCode } from '../../main/arp/addresses';
import {
  canonicalIpv6,
  compareIpv6,
  formatIpv6,
  isCanonicalIpv6,
  isIpv4MappedIpv6,
  isIpv6,
  isLinkLocalIpv6,
  isLoopbackIpv6,
  isMulticastIpv6,
  isSolicitedNodeIpv6,
  isUnspecifiedIpv6,
  multicastMac,
  parseIpv6,
  parseIpv6Cidr,
  parseIpv6Prefix,
  solicitedNodeAddress,
  solicitedNodeMac,
  writeIpv6,
} from '../../main/nd/addresses';
import { ALL_NODES_IPV6, ALL_NODES_MAC } from '../../main/nd/frame';
import { seededRandom } from '../seeded-random';
import { assertErrorCode } from './codec-helpers';

function assertAddressError(run: () => unknown, code: AddressErrorCode, message?: string): AddressError {
  const caught = assertErrorCode(AddressError, run, code);
  if (message !== undefined) assert.equal(caught.message, message);
  // Messages are shown to administrators verbatim: one line, no raw control characters.
  assert.doesNotMatch(caught.message, /[\n\r]/);
  return caught;
}

function hexOf(text: string): string {
  return Buffer.from(parseIpv6(text)).toString('hex');
}

describe('RFC 5952 canonical text, with the RFC\'s own examples', () => {
  const vectors: [string[], string][] = [
    // §2.1: leading zeros, upper and lower case.
    [['2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:01', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'], '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
    // §2.2: where "::" goes.
    [['2001:db8:0:0:0::1', '2001:db8:0:0::1', '2001:db8:0::1', '2001:db8::1'], '2001:db8::1'],
    [['2001:db8::aaaa:0:0:1', '2001:db8:0:0:aaaa::1'], '2001:db8::aaaa:0:0:1'],
    // §2.3: case.
    [['2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:AAAA', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:AaAa'], '2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa'],
    // §4.1, §4.2.1: leading zeros dropped, "::" as long as possible.
    [['2001:0db8::0001', '2001:db8:0:0:0:0:0:1', '2001:db8::0:1'], '2001:db8::1'],
    [['2001:db8:0:0:0:0:2:1'], '2001:db8::2:1'],
    // §4.2.2: a single zero group is not compressed.
    [['2001:db8:0:1:1:1:1:1'], '2001:db8:0:1:1:1:1:1'],
    // §4.2.3: the longest run, the first when tied.
    [['2001:0:0:1:0:0:0:1'], '2001:0:0:1::1'],
    [['2001:db8:0:0:1:0:0:1', '2001:0db8:0:0:1:0:0:1', '2001:db8:0:0:1::1', '2001:db8::0:1:0:0:1', '2001:0DB8::1:0:0:1'], '2001:db8::1:0:0:1'],
    // §4.3: lowercase.
    [['2001:DB8::1'], '2001:db8::1'],
    // §5: IPv4-mapped addresses keep the dotted tail.
    [['::ffff:192.0.2.1', '::FFFF:c000:0201', '0:0:0:0:0:ffff:192.0.2.1'], '::ffff:192.0.2.1'],
    // Edges.
    [['::', '0:0:0:0:0:0:0:0', '0::0'], '::'],
    [['::1', '0:0:0:0:0:0:0:1'], '::1'],
    [['1::', '1:0:0:0:0:0:0:0'], '1::'],
    [['fe80::1:2', 'FE80:0000:0000:0000:0000:0000:0001:0002'], 'fe80::1:2'],
    [['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'], 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    [['1:0:1:0:1:0:1:0'], '1:0:1:0:1:0:1:0'],
    [['1:2:3:4:5:6:7::'], '1:2:3:4:5:6:7:0'],
    [['::2:3:4:5:6:7:8'], '0:2:3:4:5:6:7:8'],
    [['1:0:0:2:0:0:0:0'], '1:0:0:2::'],
    // An IPv4 tail that is not IPv4-mapped is written in hex.
    [['::192.0.2.1', '::c000:201'], '::c000:201'],
    [['64:ff9b::192.0.2.33', '64:ff9b::c000:221'], '64:ff9b::c000:221'],
    [['1:2:3:4:5:6:1.2.3.4'], '1:2:3:4:5:6:102:304'],
  ];
  for (const [inputs, expected] of vectors) {
    test(expected, () => {
      for (const input of inputs) assert.equal(canonicalIpv6(input), expected, input);
      assert.ok(isCanonicalIpv6(expected));
      assert.equal(formatIpv6(parseIpv6(expected)), expected);
    });
  }
  test('non-canonical spellings are valid but not canonical', () => {
    assert.ok(isIpv6('2001:DB8::1') && !isCanonicalIpv6('2001:DB8::1'));
    assert.ok(isIpv6('2001:db8::0:1') && !isCanonicalIpv6('2001:db8::0:1'));
    assert.ok(!isCanonicalIpv6('::ffff:c000:201'));
  });
});

describe('bytes', () => {
  test('format then parse gives the same bytes, and the text is its own canonical form (20k seeded)', () => {
    const random = seededRandom(0x5952);
    for (let round = 0; round < 20_000; round++) {
      // Mostly zero words, so runs of zeros of every length and position come up.
      const bytes = new Uint8Array(16);
      for (let word = 0; word < 8; word++) {
        if (random() < 0.5) continue;
        const value = random() < 0.5 ? Math.floor(random() * 0x10000) : 1;
        bytes[2 * word] = value >> 8;
        bytes[2 * word + 1] = value & 0xff;
      }
      const text = formatIpv6(bytes);
      assert.deepEqual(parseIpv6(text), bytes, text);
      assert.equal(canonicalIpv6(text), text);
      assert.doesNotMatch(text, /(^|:)0[0-9a-f]/, 'no leading zeros');
      assert.ok(!/(^|:)0:0(:|$)/.test(text) || text.includes('::'), `a run of zeros is compressed: ${text}`);
    }
  });


  test('parse gives network-order bytes', () => {
    assert.equal(hexOf('2001:db8::1'), '20010db8000000000000000000000001');
    assert.equal(hexOf('::ffff:192.0.2.1'), '00000000000000000000ffffc0000201');
  });
  test('write and format at an offset, inside the buffer only', () => {
    const buf = new Uint8Array(20).fill(0xee);
    writeIpv6('fe80::1', buf, 2);
    assert.equal(formatIpv6(buf, 2), 'fe80::1');
    assert.equal(buf[0], 0xee);
    assert.equal(buf[18], 0xee);
    assertAddressError(() => writeIpv6('::1', buf, 5), 'BAD_IPV6', 'need 16 bytes at offset 5 of a 20-byte buffer');
    assertAddressError(() => formatIpv6(buf, -1), 'BAD_IPV6');
    assertAddressError(() => formatIpv6(new Uint8Array(15)), 'BAD_IPV6');
  });
  test('a bad address writes nothing', () => {
    const buf = new Uint8Array(16).fill(0xee);
    assertAddressError(() => writeIpv6('1:2:3:4:5:6:7:g', buf, 0), 'BAD_IPV6');
    assert.deepEqual(buf, new Uint8Array(16).fill(0xee));
  });
});

describe('hostile text: exact messages', () => {
  const cases: [unknown, string][] = [
    ['', 'empty'],
    [null, 'expected text like "2001:db8::1"'],
    [42, 'expected text like "2001:db8::1"'],
    ['fe80::1%eth0', 'zone ids such as "%eth0" are not allowed: an address that moves between nodes belongs to no one interface'],
    ['2001:db8::1/64', 'a prefix length belongs in address/prefix ("2001:db8::1/64"), not in an address'],
    ['[2001:db8::1]', 'brackets belong in URLs ("[2001:db8::1]:443"), not in an address'],
    [' 2001:db8::1', 'white space at position 1 is not allowed'],
    ['2001:db8::1\n', 'white space at position 12 is not allowed'],
    ['2001:db8::g', '"g" at position 11 is not allowed: only hex digits, ":" and a dotted IPv4 tail'],
    ['-1::', '"-" at position 1 is not allowed: only hex digits, ":" and a dotted IPv4 tail'],
    ['1::2::3', 'only one "::" is allowed'],
    ['::1::', 'only one "::" is allowed'],
    [':::', 'three colons in a row'],
    ['10.0.0.1', 'no ":" at all: an IPv4 address or a name is not an IPv6 address'],
    ['abcd', 'no ":" at all: an IPv4 address or a name is not an IPv6 address'],
    ['1:::2', 'three colons in a row'],
    ['12345::', 'group 1 ("12345") has more than 4 hex digits'],
    ['1:2:00000::', 'group 3 ("00000") has more than 4 hex digits'],
    ['::1:10000', 'group 2 ("10000") has more than 4 hex digits'],
    ['1:2:3:4:5:6:7', 'expected 8 groups (or 6 and a dotted IPv4 tail), found 7; "::" abbreviates zeros'],
    ['1:2:3:4:5:6:7:8:9', 'expected 8 groups (or 6 and a dotted IPv4 tail), found 9; "::" abbreviates zeros'],
    ['1:2:3:4:5:6:7:1.2.3.4', 'expected 8 groups (or 6 and a dotted IPv4 tail), found 9; "::" abbreviates zeros'],
    ['1:2:3:4:5::6:7:8', '"::" stands for at least one group of zeros, but 8 groups are written besides it'],
    ['::1:2:3:4:5:6:1.2.3.4', '"::" stands for at least one group of zeros, but 8 groups are written besides it'],
    [':1:2:3:4:5:6:7', 'starts with a single ":" (leading zeros are written "::")'],
    [':1::', 'starts with a single ":" (leading zeros are written "::")'],
    ['1:2:3:4:5:6:7:', 'ends with a single ":"'],
    ['1::2:', 'ends with a single ":"'],
    [':', 'starts with a single ":" (leading zeros are written "::")'],
    ['1.2.3.4::', 'a dotted IPv4 part is allowed only as the last 32 bits'],
    ['::1.2.3.4:1', 'a dotted IPv4 part is allowed only as the last 32 bits'],
    ['::ffff:1.2.3.04', 'its IPv4 tail: invalid IPv4 address "1.2.3.04": part 4 has a leading zero'],
    ['::ffff:1.2.3', 'its IPv4 tail: invalid IPv4 address "1.2.3": expected exactly four parts separated by dots'],
    ['::ffff:1.2.3.256', 'its IPv4 tail: invalid IPv4 address "1.2.3.256": part 4 is more than 255'],
    ['0000:0000:0000:0000:0000:0000:0000:0000:0000', 'expected 8 groups (or 6 and a dotted IPv4 tail), found 9; "::" abbreviates zeros'],
  ];
  for (const [input, reason] of cases) {
    test(JSON.stringify(input) ?? String(input), () => {
      const shown = typeof input === 'string' ? JSON.stringify(input) : `(${input === null ? 'null' : typeof input})`;
      assertAddressError(() => canonicalIpv6(input as string), 'BAD_IPV6', `invalid IPv6 address ${shown}: ${reason}`);
      assert.equal(isIpv6(input), false);
    });
  }
  test('text longer than any address', () => {
    assertAddressError(() => parseIpv6(`${'0:'.repeat(23)}0`), 'BAD_IPV6', `invalid IPv6 address "${'0:'.repeat(23)}0": 47 characters; an IPv6 address has at most 45`);
  });
});

describe('classification', () => {
  test('unspecified, loopback, link-local, multicast, IPv4-mapped', () => {
    assert.ok(isUnspecifiedIpv6('::') && isUnspecifiedIpv6('0:0:0:0:0:0:0:0') && !isUnspecifiedIpv6('::1'));
    assert.ok(isLoopbackIpv6('::1') && !isLoopbackIpv6('::') && !isLoopbackIpv6('1::1'));
    for (const ip of ['fe80::1', 'fe80::', 'febf:ffff::1']) assert.ok(isLinkLocalIpv6(ip), ip);
    for (const ip of ['fec0::1', 'fe7f::1', '2001:db8::1']) assert.ok(!isLinkLocalIpv6(ip), ip);
    for (const ip of ['ff02::1', 'ff00::', 'ff05::1:3']) assert.ok(isMulticastIpv6(ip), ip);
    assert.ok(!isMulticastIpv6('fe80::1'));
    assert.ok(isIpv4MappedIpv6('::ffff:10.0.0.1') && !isIpv4MappedIpv6('::10.0.0.1') && !isIpv4MappedIpv6('1::ffff:10.0.0.1'));
    assertAddressError(() => isLoopbackIpv6('::1%lo'), 'BAD_IPV6');
  });

  test('solicited-node group and its MAC (RFC 4291 §2.7.1, RFC 2464 §7)', () => {
    assert.equal(solicitedNodeAddress('2001:db8:77::2'), 'ff02::1:ff00:2');
    assert.equal(solicitedNodeAddress('fe80::2aa:ff:fe28:9c5a'), 'ff02::1:ff28:9c5a');
    assert.equal(solicitedNodeAddress('2001:db8::abcd:ef12:3456'), 'ff02::1:ff12:3456');
    assert.equal(solicitedNodeMac('fe80::2aa:ff:fe28:9c5a'), '33:33:ff:28:9c:5a');
    assert.ok(isSolicitedNodeIpv6('ff02::1:ff28:9c5a') && !isSolicitedNodeIpv6('ff02::1:fe28:9c5a') && !isSolicitedNodeIpv6('ff02::1'));
    assertAddressError(
      () => solicitedNodeAddress('ff02::1'),
      'NOT_HOST_ADDRESS',
      '"ff02::1" is a multicast address: only unicast addresses have a solicited-node group',
    );
  });

  test('all-nodes and multicast MACs', () => {
    assert.equal(ALL_NODES_IPV6, 'ff02::1');
    assert.equal(multicastMac(ALL_NODES_IPV6), ALL_NODES_MAC);
    assert.equal(multicastMac('ff02::1:ff00:2'), '33:33:ff:00:00:02');
    assert.equal(multicastMac('FF05::1:3'), '33:33:00:01:00:03');
    assertAddressError(
      () => multicastMac('2001:db8::1'),
      'BAD_IPV6',
      'invalid IPv6 address "2001:db8::1": not a multicast address (ff00::/8), so it has no Ethernet group address',
    );
  });
});

describe('compareIpv6', () => {
  test('sorts in byte order, any spelling', () => {
    const sorted = ['2001:db8::10', '::', 'ff02::1', '2001:db8::2', '::ffff:1.2.3.4', 'fe80::1', '2001:DB8::1'].sort(compareIpv6);
    assert.deepEqual(sorted, ['::', '::ffff:1.2.3.4', '2001:DB8::1', '2001:db8::2', '2001:db8::10', 'fe80::1', 'ff02::1']);
    assert.equal(compareIpv6('2001:db8::1', '2001:0db8:0:0::1'), 0);
    assert.ok(compareIpv6('::1', '::2') < 0 && compareIpv6('8000::', '7fff::') > 0);
    assertAddressError(() => compareIpv6('::1', 'x'), 'BAD_IPV6');
  });
});

describe('address/prefix', () => {
  test('valid: canonical address, prefix 1..128', () => {
    assert.deepEqual(parseIpv6Cidr('2001:DB8:0::5/64'), { ip: '2001:db8::5', prefix: 64 });
    assert.deepEqual(parseIpv6Cidr('fe80::1/10'), { ip: 'fe80::1', prefix: 10 });
    assert.deepEqual(parseIpv6Cidr('2001:db8::1/128'), { ip: '2001:db8::1', prefix: 128 });
    assert.deepEqual(parseIpv6Cidr('2001:db8::1/1'), { ip: '2001:db8::1', prefix: 1 });
  });

  const cases: [string, AddressErrorCode, string][] = [
    ['2001:db8::5', 'BAD_CIDR', 'invalid address/prefix "2001:db8::5": expected one "/" as in "2001:db8::5/64"'],
    ['2001:db8::5/64/64', 'BAD_CIDR', 'invalid address/prefix "2001:db8::5/64/64": expected one "/" as in "2001:db8::5/64"'],
    ['/64', 'BAD_CIDR', 'invalid address/prefix "/64": expected an address and a prefix as in "2001:db8::5/64"'],
    ['2001:db8::5/', 'BAD_CIDR', 'invalid address/prefix "2001:db8::5/": expected an address and a prefix as in "2001:db8::5/64"'],
    ['2001:db8::g/64', 'BAD_IPV6', 'in "2001:db8::g/64": invalid IPv6 address "2001:db8::g": "g" at position 11 is not allowed: only hex digits, ":" and a dotted IPv4 tail'],
    ['fe80::1%eth0/64', 'BAD_IPV6', 'in "fe80::1%eth0/64": invalid IPv6 address "fe80::1%eth0": zone ids such as "%eth0" are not allowed: an address that moves between nodes belongs to no one interface'],
    ['2001:db8::5/0', 'BAD_PREFIX', 'in "2001:db8::5/0": invalid prefix length "0": /0 would put every IPv6 address on the link; expected 1..128'],
    ['2001:db8::5/129', 'BAD_PREFIX', 'in "2001:db8::5/129": invalid prefix length "129": an IPv6 prefix is at most 128'],
    ['2001:db8::5/064', 'BAD_PREFIX', 'in "2001:db8::5/064": invalid prefix length "064": leading zeros are not allowed'],
    ['2001:db8::5/+64', 'BAD_PREFIX', 'in "2001:db8::5/+64": invalid prefix length "+64": expected a number 1..128'],
    ['2001:db8::5/ 64', 'BAD_PREFIX', 'in "2001:db8::5/ 64": invalid prefix length " 64": expected a number 1..128'],
    ['2001:db8::5/1000', 'BAD_PREFIX', 'in "2001:db8::5/1000": invalid prefix length "1000": expected a number 1..128'],
    ['::/64', 'NOT_HOST_ADDRESS', 'in "::/64": "::" cannot be a node\'s address: :: is the unspecified address, held by no one'],
    ['::1/128', 'NOT_HOST_ADDRESS', 'in "::1/128": "::1" cannot be a node\'s address: ::1 is the loopback address, never on a LAN'],
    ['ff02::1/64', 'NOT_HOST_ADDRESS', 'in "ff02::1/64": "ff02::1" cannot be a node\'s address: a multicast address (ff00::/8) names a group, not a host'],
    [
      '::ffff:10.0.0.1/96',
      'NOT_HOST_ADDRESS',
      'in "::ffff:10.0.0.1/96": "::ffff:10.0.0.1" cannot be a node\'s address: an IPv4-mapped address (::ffff:0:0/96) is IPv4: move the IPv4 address instead',
    ],
  ];
  for (const [input, code, message] of cases) {
    test(`${input}: ${code}`, () => {
      assertAddressError(() => parseIpv6Cidr(input), code, message);
    });
  }
  test('not text', () => {
    assertAddressError(() => parseIpv6Cidr(undefined as unknown as string), 'BAD_CIDR', 'invalid address/prefix (undefined): expected text as in "2001:db8::5/64"');
    assertAddressError(() => parseIpv6Prefix(64 as unknown as string), 'BAD_PREFIX');
  });
});
