// keepalived.conf rendering and VRRP timing for the comparison benchmark (test/bench/keepalived-config.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KEEPALIVED_PROFILES, keepalivedProfile, masterDownIntervalS, renderKeepalivedConfig, skewTimeS, type KeepalivedInstanceConfig } from '../bench/keepalived-config';

const base: KeepalivedInstanceConfig = {
  routerId: 'ipfo-n1',
  ifname: 'lan0',
  virtualRouterId: 51,
  priority: 150,
  state: 'MASTER',
  selfIp: '10.213.7.11',
  peerIp: '10.213.7.12',
  virtualAddress: '10.213.7.101/24',
  profile: KEEPALIVED_PROFILES.default,
};

describe('renderKeepalivedConfig', () => {
  test('unicast adverts to the peer, from the node\'s own address, one virtual address on lan0', () => {
    const text = renderKeepalivedConfig(base);
    assert.match(text, /unicast_src_ip 10\.213\.7\.11\n/);
    assert.match(text, /unicast_peer \{\n\s+10\.213\.7\.12\n\s+\}/);
    assert.match(text, /virtual_ipaddress \{\n\s+10\.213\.7\.101\/24 dev lan0\n\s+\}/);
    assert.match(text, /priority 150\n/);
    assert.match(text, /state MASTER\n/);
    assert.doesNotMatch(text, /nopreempt|mcast/);
  });

  test('the default profile is VRRP v2 with 1 s adverts, the tuned one v3 with 0.1 s', () => {
    assert.match(renderKeepalivedConfig(base), /vrrp_version 2\n[\s\S]*advert_int 1\n/);
    assert.match(renderKeepalivedConfig({ ...base, profile: KEEPALIVED_PROFILES.tuned }), /vrrp_version 3\n[\s\S]*advert_int 0\.1\n/);
  });

  test('refuses values that could inject directives or that keepalived would reject', () => {
    assert.throws(() => renderKeepalivedConfig({ ...base, ifname: 'lan0 }\nvrrp_script x {' }), /interface name/);
    assert.throws(() => renderKeepalivedConfig({ ...base, virtualAddress: '10.213.7.101' }), /virtual address/);
    assert.throws(() => renderKeepalivedConfig({ ...base, priority: 255 }), /priority/);
    assert.throws(() => renderKeepalivedConfig({ ...base, profile: { name: 'default', vrrpVersion: 2, advertIntS: 0.1 } }), /whole seconds/);
  });
});

describe('VRRP timing', () => {
  test('skew and master-down time of a priority-100 backup', () => {
    assert.ok(Math.abs(skewTimeS(KEEPALIVED_PROFILES.default, 100) - 0.609375) < 1e-9);
    assert.ok(Math.abs(masterDownIntervalS(KEEPALIVED_PROFILES.default, 100) - 3.609375) < 1e-9);
    assert.ok(Math.abs(skewTimeS(KEEPALIVED_PROFILES.tuned, 100) - 0.0609375) < 1e-9);
    assert.ok(Math.abs(masterDownIntervalS(KEEPALIVED_PROFILES.tuned, 100) - 0.3609375) < 1e-9);
  });
});

describe('keepalivedProfile', () => {
  test('whole seconds stay on VRRP v2 (keepalived\'s default), sub-second adverts need v3', () => {
    assert.deepEqual(keepalivedProfile(1), { name: 'advert 1 s', vrrpVersion: 2, advertIntS: 1 });
    assert.equal(keepalivedProfile(0.01).vrrpVersion, 3);
    assert.match(renderKeepalivedConfig({ ...base, profile: keepalivedProfile(0.05) }), /vrrp_version 3\n[\s\S]*advert_int 0\.05\n/);
  });

  test('the named profiles are the same as made from their intervals', () => {
    assert.equal(keepalivedProfile(1).vrrpVersion, KEEPALIVED_PROFILES.default.vrrpVersion);
    assert.equal(keepalivedProfile(0.1).vrrpVersion, KEEPALIVED_PROFILES.tuned.vrrpVersion);
  });

  test('refuses what keepalived cannot take', () => {
    assert.throws(() => keepalivedProfile(0), RangeError);
    assert.throws(() => keepalivedProfile(-1), RangeError);
    assert.throws(() => keepalivedProfile(0.005), /centiseconds/);
    assert.throws(() => keepalivedProfile(Number.NaN), RangeError);
  });
});
