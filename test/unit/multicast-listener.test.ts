// main/net/multicast-listener.ts: the interface spelling addMembership needs per platform (pure), and
// a listener that refuses a bad interface before opening anything.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { membershipInterface, MulticastListener } from '../../main/net/multicast-listener';

describe('membershipInterface', () => {
  test('Linux and other Unix: "::%<ifname>" (libuv resolves the scope with if_nametoindex); unchanged', () => {
    assert.equal(membershipInterface('eth0', 2, 'linux'), '::%eth0');
    assert.equal(membershipInterface('ens3.100', 7, 'linux'), '::%ens3.100');
    assert.equal(membershipInterface('en0', 4, 'darwin'), '::%en0');
    assert.throws(() => membershipInterface('eth 0', 2, 'linux'));
    assert.throws(() => membershipInterface('', 2, 'linux'));
  });

  test('Windows: "::%<ifindex>" (libuv reads the scope with atoi: an alias would become 0, the default interface)', () => {
    assert.equal(membershipInterface('Ethernet 2', 12, 'win32'), '::%12');
    assert.equal(membershipInterface('Wi‘Fi’ ‚x‛', 20, 'win32'), '::%20', 'the alias is never part of it');
    assert.equal(membershipInterface('$(calc)', 4294967295, 'win32'), '::%4294967295');
    for (const bad of [0, -1, 1.5, 2 ** 32, Number.NaN]) assert.throws(() => membershipInterface('Ethernet 2', bad, 'win32'), /interface index must be an integer/, String(bad));
  });

  test('open refuses a bad interface before a socket exists', () => {
    assert.throws(() => MulticastListener.open('Ethernet 2', 12, 'linux'));
    assert.throws(() => MulticastListener.open('Ethernet 2', 0, 'win32'), /interface index/);
  });
});
