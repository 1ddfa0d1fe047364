// `ipfo claim` and `ipfo probe` take IPv4 or IPv6: each bad address is a usage error (exit 2) naming
// what is wrong, before any socket opens; a good one comes out canonical with its family.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, UsageError } from '../../main/cli/args';
import { parseClaimCidr, parseProbeAddress } from '../../main/cli/claim-address';
import { validateResourceSpec } from '../../main/cluster/validate';
import { linkLocalProblem } from '../../main/nd/addresses';

describe('claim addresses', () => {
  test('IPv4 and IPv6 come out canonical, with their family', () => {
    assert.deepEqual(parseClaimCidr('10.1.2.3/24'), { family: 4, ip: '10.1.2.3', prefix: 24 });
    assert.deepEqual(parseClaimCidr('2001:db8:10::50/64'), { family: 6, ip: '2001:db8:10::50', prefix: 64 });
    assert.deepEqual(parseClaimCidr('2001:DB8:10:0:0:0:0:50/64'), { family: 6, ip: '2001:db8:10::50', prefix: 64 });
    assert.deepEqual(parseClaimCidr('fd00::1/128'), { family: 6, ip: 'fd00::1', prefix: 128 });
    assert.deepEqual(parseProbeAddress('2001:db8::5'), { family: 6, ip: '2001:db8::5', prefix: 128 });
    assert.deepEqual(parseProbeAddress('10.0.0.5'), { family: 4, ip: '10.0.0.5', prefix: 32 });
  });

  const refusedClaims: Array<[string, RegExp]> = [
    ['fe80::5/64', /link-local/],
    ['FE80::5/64', /link-local/],
    ['febf::5/64', /link-local/],
    ['ff02::1:ff00:5/64', /multicast/],
    ['::ffff:10.0.0.1/96', /IPv4-mapped/],
    ['::/64', /unspecified/],
    ['::1/128', /loopback/],
    ['2001:db8::1/129', /at most 128/],
    ['2001:db8::1/0', /\/0/],
    ['2001:db8::1/064', /leading zeros/],
    ['2001:db8::1/ 64', /prefix/],
    ['2001:db8::1', /<ip>\/<prefix>/],
    ['2001:db8::1/64/64', /one "\/"/],
    ['2001:db8::g/64', /invalid/i],
    ['2001:db8::1%lan0/64', /invalid/i],
    ['2001:db8:::1/64', /invalid/i],
    ['2001:db8::1\u0000/64', /invalid/i],
    ['0.0.0.0/24', /0\.0\.0\.0/],
    ['10.0.0.1/33', /prefix/],
  ];
  for (const [text, message] of refusedClaims) {
    test(`claim ${JSON.stringify(text)} is refused`, () => {
      assert.throws(() => parseClaimCidr(text), (error: unknown) => error instanceof UsageError && message.test(error.message));
      assert.throws(() => parseCommand(['claim', text, '--dev', 'lan0']), UsageError);
    });
  }

  const refusedProbes: Array<[string, RegExp]> = [
    ['2001:db8::1/64', /invalid IPv6 address "2001:db8::1\/64": a probe takes an address without a prefix/],
    ['fe80::1', /^fe80::1 is link-local/],
    ['ff02::1', /^cannot probe "ff02::1": a multicast address/],
    ['::', /^cannot probe "::": :: is the unspecified address/],
    ['::1', /^cannot probe "::1": ::1 is the loopback address/],
    ['::FFFF:10.0.0.1', /^cannot probe "::ffff:10.0.0.1": an IPv4-mapped address/],
    ['2001:db8::zz', /invalid/i],
    ['10.0.0.256', /invalid IPv4/],
    ['0.0.0.0', /invalid IPv4/],
  ];
  for (const [text, message] of refusedProbes) {
    test(`probe ${JSON.stringify(text)} is refused`, () => {
      assert.throws(() => parseProbeAddress(text), (error: unknown) => error instanceof UsageError && message.test(error.message));
      // A probe takes no prefix, so no refusal of one speaks of a /128 the operator never wrote.
      assert.throws(() => parseProbeAddress(text), (error: unknown) => !(error as Error).message.includes('/128'));
      assert.throws(() => parseCommand(['probe', text, '--dev', 'lan0']), UsageError);
    });
  }

  test('claim, probe and the cluster refuse a link-local address in the same words', () => {
    const words = linkLocalProblem('fe80::5');
    assert.ok(words !== null && words.startsWith('fe80::5 is link-local (fe80::/10)'));
    assert.throws(() => parseClaimCidr('FE80::5/64'), (error: unknown) => (error as Error).message === words);
    assert.throws(() => parseProbeAddress('fe80::5'), (error: unknown) => (error as Error).message === words);
    const validation = validateResourceSpec({ name: 'w', ip: 'fe80::5/64' }, { nodes: ['n1'], existing: [] });
    assert.ok(!validation.ok && validation.errors.some((error) => error.field === 'ip' && error.message === words), JSON.stringify(validation));
    assert.equal(linkLocalProblem('fec0::5'), null);
  });

  test('the parsed command carries the canonical IPv6 address', () => {
    const claim = parseCommand(['claim', '2001:DB8:0:0::50/64', '--dev', 'lan0']);
    assert.equal(claim.kind, 'claim');
    assert.equal(claim.kind === 'claim' && claim.ip, '2001:db8::50');
    assert.equal(claim.kind === 'claim' && claim.prefix, 64);
    const probe = parseCommand(['probe', '2001:DB8::50', '--dev', 'lan0']);
    assert.equal(probe.kind === 'probe' && probe.ip, '2001:db8::50');
  });
});
