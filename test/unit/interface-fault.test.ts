// interfaceFault(): whether an interface in use can still carry addresses, and is still the one the
// capture was opened on. Pure: fed with states as readInterfaceState() reports them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeInterfaceFault, interfaceFault } from '../../main/net/interface-fault';
import type { InterfaceState } from '../../main/net/interfaces';

const opened = { index: 7, mac: '02:00:00:00:00:0b' };
const healthy: InterfaceState = { index: 7, mac: '02:00:00:00:00:0b', adminUp: true, carrier: true };

test('a usable interface, still the one opened: no fault', () => {
  assert.equal(interfaceFault(opened, healthy), null);
  assert.equal(interfaceFault(null, healthy), null, 'no capture yet: only usability counts');
});

test('each fault is named, in the order an administrator would look for it', () => {
  assert.deepEqual(interfaceFault(opened, null), { kind: 'missing' });
  assert.deepEqual(interfaceFault(opened, { ...healthy, adminUp: false, carrier: false }), { kind: 'admin-down' });
  assert.deepEqual(interfaceFault(opened, { ...healthy, carrier: false }), { kind: 'no-carrier' });
  assert.deepEqual(interfaceFault(opened, { ...healthy, index: 9 }), { kind: 'replaced', oldIndex: 7, newIndex: 9 });
  assert.deepEqual(interfaceFault(opened, { ...healthy, mac: '02:00:00:00:00:ee' }), { kind: 'mac-changed', oldMac: '02:00:00:00:00:0b', newMac: '02:00:00:00:00:ee' });
  // Re-created with a new MAC too: the new ifindex is what makes the capture deaf, so it is named first.
  assert.equal(interfaceFault(opened, { ...healthy, index: 9, mac: '02:00:00:00:00:ee' })?.kind, 'replaced');
  // Down and re-created: down comes first (nothing can be opened until it is up).
  assert.equal(interfaceFault(opened, { ...healthy, index: 9, adminUp: false })?.kind, 'admin-down');
});

test('without a capture, identity changes are not faults (a new capture takes the new identity)', () => {
  assert.equal(interfaceFault(null, { ...healthy, index: 9, mac: '02:00:00:00:00:ee' }), null);
  assert.deepEqual(interfaceFault(null, { ...healthy, carrier: false }), { kind: 'no-carrier' });
});

test('descriptions name the interface and what changed', () => {
  assert.equal(describeInterfaceFault('lan0', { kind: 'replaced', oldIndex: 7, newIndex: 9 }), 'interface lan0 was re-created (index 7 -> 9)');
  assert.equal(describeInterfaceFault('lan0', { kind: 'mac-changed', oldMac: 'a', newMac: 'b' }), 'interface lan0 changed its MAC (a -> b)');
  assert.match(describeInterfaceFault('lan0', { kind: 'missing' }), /lan0 is gone/);
  assert.equal(describeInterfaceFault('lan0', { kind: 'capture-lost', detail: 'capture on "lan0" lost: x' }), 'capture on "lan0" lost: x');
});
