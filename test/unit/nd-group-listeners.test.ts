// The solicited-node groups an ND socket joins and leaves (main/nd/group-listeners.ts): counted per
// address, shared by addresses whose last 24 bits agree, a refused join counting nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupListeners } from '../../main/nd/group-listeners';

const VIP = '2001:db8:10::50';
// The same last 24 bits as VIP in another prefix: the same solicited-node group.
const GROUP_MATE = '2001:db8:99::50';
const OTHER = '2001:db8:10::51';
const GROUP = 'ff02::1:ff00:50';

function recorder(): { listeners: GroupListeners; ops: string[]; listen(ip: string): void; stop(ip: string): void } {
  const listeners = new GroupListeners();
  const ops: string[] = [];
  return {
    listeners,
    ops,
    listen: (ip) => listeners.listen(ip, (group) => ops.push(`join ${group}`)),
    stop: (ip) => listeners.stop(ip, (group) => ops.push(`leave ${group}`)),
  };
}

describe('solicited-node group listeners', () => {
  test('two claims of one address: the group is joined once and left after the second ends', () => {
    const r = recorder();
    r.listen(VIP);
    r.listen(VIP);
    r.stop(VIP);
    assert.deepEqual(r.ops, [`join ${GROUP}`]);
    assert.deepEqual(r.listeners.groups(), [GROUP]);
    r.stop(VIP);
    assert.deepEqual(r.ops, [`join ${GROUP}`, `leave ${GROUP}`]);
    assert.deepEqual(r.listeners.groups(), []);
  });

  test('addresses sharing a group: left only when neither listens any more', () => {
    const r = recorder();
    r.listen(VIP);
    r.listen(GROUP_MATE);
    r.listen(OTHER);
    r.stop(VIP);
    assert.deepEqual(r.ops, [`join ${GROUP}`, 'join ff02::1:ff00:51']);
    r.stop(GROUP_MATE);
    r.stop(OTHER);
    assert.deepEqual(r.ops, [`join ${GROUP}`, 'join ff02::1:ff00:51', `leave ${GROUP}`, 'leave ff02::1:ff00:51']);
  });

  test('a stop without a listen, or one too many, changes nothing', () => {
    const r = recorder();
    r.stop(VIP);
    r.listen(VIP);
    r.stop(VIP);
    r.stop(VIP);
    r.listen(GROUP_MATE);
    assert.deepEqual(r.ops, [`join ${GROUP}`, `leave ${GROUP}`, `join ${GROUP}`]);
  });

  test('a join the kernel refuses counts nothing: the next listen joins again', () => {
    const listeners = new GroupListeners();
    assert.throws(() => listeners.listen(VIP, () => {
      throw new Error('ENODEV');
    }), /ENODEV/);
    assert.deepEqual(listeners.groups(), []);
    const joined: string[] = [];
    listeners.listen(VIP, (group) => joined.push(group));
    assert.deepEqual(joined, [GROUP]);
  });

  test('a multicast address has no solicited-node group: refused before anything is joined', () => {
    const r = recorder();
    assert.throws(() => r.listen('ff02::1'), /multicast/);
    assert.deepEqual(r.ops, []);
  });
});
