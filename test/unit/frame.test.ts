import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BROADCAST_MAC } from '../../main/arp/frame';

test('broadcast mac is canonical', () => {
  assert.equal(BROADCAST_MAC, 'ff:ff:ff:ff:ff:ff');
});
