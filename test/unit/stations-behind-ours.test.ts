// Which subnets have one of our virtual addresses as their primary while the administrator's own
// address sits behind it (main/net/stations-behind-ours.ts). The listings are the lab's, as
// `ip -4 addr show dev lan0` printed them after the primary-address fault (interface-faults lab).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InterfaceAddress } from '../../main/host/address-types';
import { IFA_F_SECONDARY, stationsBehindOurs } from '../../main/net/stations-behind-ours';

const OURS = 99;

function address(ip: string, options: { owned?: boolean; secondary?: boolean; prefix?: number; ifname?: string | null; ifindex?: number } = {}): InterfaceAddress {
  const owned = options.owned ?? false;
  return {
    ifname: options.ifname === undefined ? 'lan0' : options.ifname,
    ifindex: options.ifindex ?? 2,
    ip,
    prefix: options.prefix ?? 24,
    proto: owned ? OURS : 0,
    owned,
    label: 'lan0',
    validLftSec: owned ? 2 : null,
    preferredLftSec: owned ? 2 : null,
    flags: options.secondary === true ? IFA_F_SECONDARY : 0,
  };
}

describe('stationsBehindOurs', () => {
  test('the lab after the fault: ours primary, the station address last, as a secondary', () => {
    const listing = [
      address('10.213.239.101', { owned: true }),
      address('10.213.239.102', { owned: true, secondary: true }),
      address('10.213.239.103', { owned: true, secondary: true }),
      address('10.213.239.11', { secondary: true }),
    ];
    const found = stationsBehindOurs(listing);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.ifname, 'lan0');
    assert.equal(found[0]?.station.ip, '10.213.239.11');
    assert.deepEqual(found[0]?.ours.map((a) => a.ip), ['10.213.239.101', '10.213.239.102', '10.213.239.103']);
  });

  test('the normal order (station first, ours behind it) needs nothing', () => {
    const listing = [address('10.213.239.11'), address('10.213.239.101', { owned: true, secondary: true }), address('10.213.239.102', { owned: true, secondary: true })];
    assert.deepEqual(stationsBehindOurs(listing), []);
  });

  test("two station addresses of one subnet (the administrator's own order) are not ours to change", () => {
    assert.deepEqual(stationsBehindOurs([address('10.0.0.1'), address('10.0.0.2', { secondary: true }), address('10.0.0.9', { owned: true, secondary: true })]), []);
  });

  test('ours as the primary of a subnet with no station address in it: nothing to put first', () => {
    assert.deepEqual(stationsBehindOurs([address('10.0.0.1'), address('10.9.0.5', { owned: true })]), []);
  });

  test('another interface, another prefix length or another network is another subnet', () => {
    const station = address('10.0.0.11', { secondary: true });
    assert.deepEqual(stationsBehindOurs([address('10.0.0.5', { owned: true, ifindex: 3, ifname: 'lan1' }), station]), [], 'another interface');
    assert.deepEqual(stationsBehindOurs([address('10.0.0.5', { owned: true, prefix: 16 }), station]), [], 'another prefix length');
    assert.deepEqual(stationsBehindOurs([address('10.0.1.5', { owned: true }), station]), [], 'another network');
  });

  test('one entry per subnet, even with two station addresses behind ours; each interface on its own', () => {
    const listing = [
      address('10.0.0.5', { owned: true }),
      address('10.0.0.11', { secondary: true }),
      address('10.0.0.12', { secondary: true }),
      address('10.1.0.5', { owned: true, ifindex: 3, ifname: 'lan1' }),
      address('10.1.0.11', { secondary: true, ifindex: 3, ifname: 'lan1' }),
    ];
    assert.deepEqual(stationsBehindOurs(listing).map((entry) => `${entry.ifname} ${entry.station.ip} ${entry.ours.map((a) => a.ip).join(',')}`), ['lan0 10.0.0.11 10.0.0.5', 'lan1 10.1.0.11 10.1.0.5']);
  });

  test('IPv6 and addresses of a vanished interface are left out; a listing without IFA_* flags (Windows) finds nothing', () => {
    assert.deepEqual(stationsBehindOurs([address('fd00::5', { owned: true, prefix: 64 }), address('fd00::11', { secondary: true, prefix: 64 })]), []);
    assert.deepEqual(stationsBehindOurs([address('10.0.0.5', { owned: true }), address('10.0.0.11', { secondary: true, ifname: null })]), []);
    assert.deepEqual(stationsBehindOurs([address('10.0.0.11'), address('10.0.0.5', { owned: true })]), []);
  });
});
