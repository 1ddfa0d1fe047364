import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseInterface, type HostAddress } from '../../main/agent/interface-choice';

const host: HostAddress[] = [
  { ifname: 'lo', ip: '127.0.0.1', prefix: 8, owned: false },
  { ifname: 'eth0', ip: '192.168.1.10', prefix: 24, owned: false },
  { ifname: 'eth1', ip: '10.0.0.10', prefix: 24, owned: false },
  { ifname: 'eth2', ip: '172.16.5.5', prefix: 16, owned: false },
  { ifname: 'eth3', ip: '10.9.9.50', prefix: 24, owned: true },
];

test('the interface with an address in the resource subnet is chosen', () => {
  assert.deepEqual(chooseInterface({ ip: '10.0.0.50', prefix: 24, interfaces: {} }, 'n1', host), { ok: true, ifname: 'eth1' });
  assert.deepEqual(chooseInterface({ ip: '172.16.200.1', prefix: 16, interfaces: {} }, 'n1', host), { ok: true, ifname: 'eth2' });
});

test('a /32 resource uses the network of the host address', () => {
  assert.deepEqual(chooseInterface({ ip: '192.168.1.77', prefix: 32, interfaces: {} }, 'n1', host), { ok: true, ifname: 'eth0' });
});

test('an interface named for the node wins; names for other nodes are ignored', () => {
  assert.deepEqual(chooseInterface({ ip: '10.0.0.50', prefix: 24, interfaces: { n1: 'bond0' } }, 'n1', host), { ok: true, ifname: 'bond0' });
  assert.deepEqual(chooseInterface({ ip: '10.0.0.50', prefix: 24, interfaces: { n2: 'bond0' } }, 'n1', host), { ok: true, ifname: 'eth1' });
});

test('our own (marked) addresses and loopback never decide; no match is a clear failure', () => {
  const choice = chooseInterface({ ip: '10.9.9.60', prefix: 24, interfaces: {} }, 'n1', host);
  assert.equal(choice.ok, false);
  assert.match(choice.ok ? '' : choice.detail, /no interface of n1 has an address in the subnet of 10\.9\.9\.60\/24/);
  assert.equal(chooseInterface({ ip: '127.0.0.5', prefix: 8, interfaces: {} }, 'n1', host).ok, false);
});

test('two interfaces in one subnet: the first by name, so every run agrees', () => {
  const twice: HostAddress[] = [...host, { ifname: 'eth0b', ip: '192.168.1.11', prefix: 24, owned: false }];
  assert.deepEqual(chooseInterface({ ip: '192.168.1.90', prefix: 24, interfaces: {} }, 'n1', twice), { ok: true, ifname: 'eth0' });
});
