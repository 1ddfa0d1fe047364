import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressError,
  canonicalIpv4,
  canonicalMac,
  formatCidr,
  formatIpv4,
  formatIpv4Bytes,
  formatMac,
  isIpv4,
  isMac,
  networkOf,
  parseCidr,
  parseIpv4,
  parseMac,
  parsePrefix,
  prefixMask,
  sameSubnet,
  writeMac,
  type AddressErrorCode,
} from '../../main/arp/addresses';
import { assertErrorCode } from './codec-helpers';

function assertAddressError(run: () => unknown, code: AddressErrorCode, messageStart?: string): AddressError {
  const caught = assertErrorCode(AddressError, run, code);
  if (messageStart !== undefined) assert.ok(caught.message.startsWith(messageStart), caught.message);
  // Messages are shown to administrators verbatim: one line, no raw control characters.
  assert.doesNotMatch(caught.message, /[\n\r]/);
  return caught;
}

describe('MAC addresses', () => {
  test('parses colon and dash spellings of either case to the same 6 bytes', () => {
    const expected = Buffer.from([0x02, 0x00, 0x0a, 0xd5, 0xfe, 0xff]);
    assert.deepEqual(parseMac('02:00:0a:d5:fe:ff'), expected);
    assert.deepEqual(parseMac('02:00:0A:D5:FE:FF'), expected);
    assert.deepEqual(parseMac('02-00-0a-D5-fE-Ff'), expected);
    assert.deepEqual(parseMac('00:00:00:00:00:00'), Buffer.alloc(6));
    assert.deepEqual(parseMac('ff:ff:ff:ff:ff:ff'), Buffer.alloc(6, 0xff));
  });

  const rejected: unknown[] = [
    '',
    '02:00:0a:d5:fe',
    '02:00:0a:d5:fe:ff:00',
    '02:00:0a:d5:fe:fg',
    'g2:00:0a:d5:fe:ff',
    '02:00-0a:d5:fe:ff',
    '02-00-0a-d5-fe:ff',
    '02.00.0a.d5.fe.ff',
    '0200.0ad5.feff',
    '02000ad5feff',
    '2:0:a:d5:fe:ff',
    ' 02:00:0a:d5:fe:ff',
    '02:00:0a:d5:fe:ff ',
    '02:00:0a:d5:fe:f',
    '02:00:0a:d5:fe:ff\n',
    '02::0a:d5:fe:ff:0',
    '02:00:0a:d5:fe:+f',
    '０2:00:0a:d5:fe:ff',
    42,
    null,
    undefined,
  ];
  for (const text of rejected) {
    test(`rejects ${JSON.stringify(text) ?? String(text)}`, () => {
      assertAddressError(() => parseMac(text as string), 'BAD_MAC', 'invalid MAC address ');
      assert.equal(isMac(text), false);
    });
  }

  test('the message quotes the input so it can be shown verbatim', () => {
    const error = assertAddressError(() => parseMac('02:00:0a:d5:fe:zz'), 'BAD_MAC');
    assert.equal(error.message, 'invalid MAC address "02:00:0a:d5:fe:zz": group 6 is not two hex digits');
    const long = assertAddressError(() => parseMac('x'.repeat(10_000)), 'BAD_MAC');
    assert.ok(long.message.length < 200, 'huge input is cut short in the message');
  });

  test('formats lowercase with colons, at an offset', () => {
    const bytes = Uint8Array.from([0x99, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x99]);
    assert.equal(formatMac(bytes, 1), 'ab:cd:ef:01:23:45');
    assert.equal(formatMac(Buffer.alloc(6)), '00:00:00:00:00:00');
    assert.equal(canonicalMac('AB-CD-EF-01-23-45'), 'ab:cd:ef:01:23:45');
    assert.equal(isMac('AB-CD-EF-01-23-45'), true);
  });

  test('formatting refuses to read outside the bytes', () => {
    const bytes = new Uint8Array(8);
    for (const offset of [3, -1, 1.5, Number.NaN, 100]) {
      assertAddressError(() => formatMac(bytes, offset), 'BAD_MAC');
    }
  });

  test('every byte value formats and parses back', () => {
    const bytes = new Uint8Array(6);
    for (let value = 0; value < 256; value++) {
      bytes.fill(value);
      const text = formatMac(bytes);
      assert.match(text, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert.deepEqual(parseMac(text), Buffer.from(bytes));
    }
  });

  test('writeMac writes nothing when the text is invalid', () => {
    const target = new Uint8Array(6).fill(0xee);
    assertAddressError(() => writeMac('02:00:0a:d5:fe:zz', target, 0), 'BAD_MAC');
    assert.deepEqual(target, new Uint8Array(6).fill(0xee));
    assertAddressError(() => writeMac('02:00:0a:d5:fe:ff', target, 1), 'BAD_MAC');
    assert.deepEqual(target, new Uint8Array(6).fill(0xee));
  });
});

describe('IPv4 addresses', () => {
  test('parses strict dotted quads to unsigned 32-bit numbers', () => {
    assert.equal(parseIpv4('0.0.0.0'), 0);
    assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
    assert.equal(parseIpv4('10.213.0.1'), 0x0ad50001);
    assert.equal(parseIpv4('192.168.100.200'), 0xc0a864c8);
    assert.equal(parseIpv4('1.0.0.0'), 0x01000000);
  });

  const rejected: unknown[] = [
    '',
    '1',
    '1.2.3',
    '1.2.3.4.5',
    '010.0.0.1',
    '10.0.0.01',
    '00.0.0.0',
    '0.0.0.00',
    '10.0.0.256',
    '256.0.0.0',
    '999.0.0.0',
    '99999999999999999999.1.1.1',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.4\n',
    '1. 2.3.4',
    '1..3.4',
    '.1.2.3',
    '1.2.3.',
    '1.2.3.-4',
    '+1.2.3.4',
    '0x1.2.3.4',
    '1e2.0.0.1',
    '1.2.3.4/24',
    '1.2.3.4:80',
    '１.2.3.4',
    '::1',
    42,
    null,
    undefined,
  ];
  for (const text of rejected) {
    test(`rejects ${JSON.stringify(text) ?? String(text)}`, () => {
      assertAddressError(() => parseIpv4(text as string), 'BAD_IPV4', 'invalid IPv4 address ');
      assert.equal(isIpv4(text), false);
    });
  }

  test('messages name the input and the reason', () => {
    assert.equal(
      assertAddressError(() => parseIpv4('10.0.0.256'), 'BAD_IPV4').message,
      'invalid IPv4 address "10.0.0.256": part 4 is more than 255',
    );
    assert.equal(
      assertAddressError(() => parseIpv4('010.0.0.1'), 'BAD_IPV4').message,
      'invalid IPv4 address "010.0.0.1": part 1 has a leading zero',
    );
    assert.equal(
      assertAddressError(() => parseIpv4('1.2.3'), 'BAD_IPV4').message,
      'invalid IPv4 address "1.2.3": expected exactly four parts separated by dots',
    );
  });

  test('formats canonical dotted quads', () => {
    assert.equal(formatIpv4(0), '0.0.0.0');
    assert.equal(formatIpv4(0xffffffff), '255.255.255.255');
    assert.equal(formatIpv4(0x0ad50001), '10.213.0.1');
    assert.equal(formatIpv4Bytes(Uint8Array.from([9, 10, 213, 0, 7, 9]), 1), '10.213.0.7');
    assert.equal(canonicalIpv4('10.213.0.7'), '10.213.0.7');
    assert.equal(isIpv4('0.0.0.0'), true);
  });

  test('formatting rejects values that are not a uint32 and reads only inside the bytes', () => {
    for (const value of [-1, 2 ** 32, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assertAddressError(() => formatIpv4(value), 'BAD_IPV4');
    }
    for (const offset of [1, -1, 0.5, Number.NaN]) {
      assertAddressError(() => formatIpv4Bytes(new Uint8Array(4), offset), 'BAD_IPV4');
    }
  });

  test('format and parse are inverse over a spread of values', () => {
    let value = 0x12345678;
    for (let i = 0; i < 5000; i++) {
      value = (Math.imul(value, 1103515245) + 12345) >>> 0;
      const text = formatIpv4(value);
      assert.equal(parseIpv4(text), value, text);
    }
    for (let part = 0; part < 256; part++) {
      assert.equal(parseIpv4(formatIpv4(part * 0x01010101)), part * 0x01010101);
    }
  });
});

describe('prefixes and CIDR', () => {
  test('parses address/prefix', () => {
    assert.deepEqual(parseCidr('10.0.0.5/24'), { ip: '10.0.0.5', prefix: 24 });
    assert.deepEqual(parseCidr('0.0.0.0/0'), { ip: '0.0.0.0', prefix: 0 });
    assert.deepEqual(parseCidr('10.213.255.255/32'), { ip: '10.213.255.255', prefix: 32 });
    assert.deepEqual(parseCidr('10.213.0.1/9'), { ip: '10.213.0.1', prefix: 9 });
    assert.equal(formatCidr({ ip: '10.0.0.5', prefix: 24 }), '10.0.0.5/24');
  });

  const rejected: [string, AddressErrorCode][] = [
    ['10.0.0.5', 'BAD_CIDR'],
    ['10.0.0.5/', 'BAD_CIDR'],
    ['/24', 'BAD_CIDR'],
    ['', 'BAD_CIDR'],
    ['/', 'BAD_CIDR'],
    ['10.0.0.5/24/1', 'BAD_CIDR'],
    ['10.0.0.5//24', 'BAD_CIDR'],
    ['10.0.0.5/024', 'BAD_PREFIX'],
    ['10.0.0.5/00', 'BAD_PREFIX'],
    ['10.0.0.5/33', 'BAD_PREFIX'],
    ['10.0.0.5/99', 'BAD_PREFIX'],
    ['10.0.0.5/-1', 'BAD_PREFIX'],
    ['10.0.0.5/+8', 'BAD_PREFIX'],
    ['10.0.0.5/ 24', 'BAD_PREFIX'],
    ['10.0.0.5/24 ', 'BAD_PREFIX'],
    ['10.0.0.5/1e1', 'BAD_PREFIX'],
    ['10.0.0.5/2a', 'BAD_PREFIX'],
    ['10.0.0.05/24', 'BAD_IPV4'],
    ['10.0.0.256/24', 'BAD_IPV4'],
    [' 10.0.0.5/24', 'BAD_IPV4'],
  ];
  for (const [text, code] of rejected) {
    test(`rejects ${JSON.stringify(text)} with ${code}`, () => {
      const error = assertAddressError(() => parseCidr(text), code);
      assert.ok(error.message.includes(JSON.stringify(text)), `message names the whole input: ${error.message}`);
    });
  }

  test('parsePrefix is strict decimal 0..32', () => {
    assert.equal(parsePrefix('0'), 0);
    assert.equal(parsePrefix('8'), 8);
    assert.equal(parsePrefix('32'), 32);
    for (const text of ['', '024', '00', '33', '-0', '1.0', '3 ', '100']) {
      assertAddressError(() => parsePrefix(text), 'BAD_PREFIX', 'invalid prefix length ');
    }
  });

  test('prefixMask covers both ends', () => {
    assert.equal(prefixMask(0), 0);
    assert.equal(prefixMask(1), 0x80000000);
    assert.equal(prefixMask(24), 0xffffff00);
    assert.equal(prefixMask(31), 0xfffffffe);
    assert.equal(prefixMask(32), 0xffffffff);
  });

  test('networkOf', () => {
    assert.equal(networkOf('10.213.7.5', 24), '10.213.7.0');
    assert.equal(networkOf('10.213.7.5', 16), '10.213.0.0');
    assert.equal(networkOf('10.213.7.5', 32), '10.213.7.5');
    assert.equal(networkOf('10.213.7.5', 0), '0.0.0.0');
    assert.equal(networkOf('200.1.2.3', 1), '128.0.0.0');
    assert.equal(networkOf('255.255.255.255', 31), '255.255.255.254');
  });

  test('sameSubnet', () => {
    assert.equal(sameSubnet('10.213.0.1', '10.213.0.254', 24), true);
    assert.equal(sameSubnet('10.213.0.1', '10.213.1.1', 24), false);
    assert.equal(sameSubnet('10.213.0.1', '10.213.1.1', 23), true);
    assert.equal(sameSubnet('1.2.3.4', '200.2.3.4', 0), true);
    assert.equal(sameSubnet('10.213.0.1', '10.213.0.1', 32), true);
    assert.equal(sameSubnet('10.213.0.1', '10.213.0.0', 32), false);
    assert.equal(sameSubnet('128.0.0.1', '255.0.0.1', 1), true);
    assert.equal(sameSubnet('127.0.0.1', '128.0.0.1', 1), false);
  });

  test('helpers reject bad prefixes and addresses', () => {
    for (const prefix of [-1, 33, 1.5, Number.NaN]) {
      assertAddressError(() => networkOf('10.0.0.1', prefix), 'BAD_PREFIX', `invalid prefix length ${String(prefix)}`);
      assertAddressError(() => sameSubnet('10.0.0.1', '10.0.0.2', prefix), 'BAD_PREFIX');
    }
    assertAddressError(() => networkOf('10.0.0.01', 24), 'BAD_IPV4');
    assertAddressError(() => sameSubnet('10.0.0.1', '10.0.0', 24), 'BAD_IPV4');
    assertAddressError(() => formatCidr({ ip: '10.0.0.1', prefix: 40 }), 'BAD_PREFIX');
  });
});
