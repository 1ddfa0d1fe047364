// The periodic re-announcement: which held addresses are due (cluster/announce-refresh.ts, pure) and the
// agent's Announcer on a fake clock (agent/announcer.ts): refresh passes, the lease gate, a bounded burst,
// and the operator's announce-now on the holder itself. Through the store between real agents:
// test/lab/announce.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Announcer } from '../../main/agent/announcer';
import type { ClusterView } from '../../main/agent/cluster-view';
import { dueRefreshes, REFRESHES_PER_PASS } from '../../main/cluster/announce-refresh';
import type { ResourceSpec } from '../../main/cluster/model';
import type { ClusterStore } from '../../main/store/store';

describe('dueRefreshes', () => {
  test('due exactly one period after the last announcement, not a millisecond before', () => {
    const web = { resource: 'web', everyMs: 60_000, lastAnnouncedAt: 1_000 };
    assert.deepEqual(dueRefreshes([web], 60_999), []);
    assert.deepEqual(dueRefreshes([web], 61_000), ['web']);
  });

  test('most overdue first, ties by name, at most the budget', () => {
    const candidates = [
      { resource: 'b', everyMs: 1_000, lastAnnouncedAt: 0 },
      { resource: 'a', everyMs: 1_000, lastAnnouncedAt: 0 },
      { resource: 'late', everyMs: 1_000, lastAnnouncedAt: -5_000 },
      { resource: 'not-yet', everyMs: 10_000, lastAnnouncedAt: 0 },
    ];
    assert.deepEqual(dueRefreshes(candidates, 2_000), ['late', 'a', 'b']);
    assert.deepEqual(dueRefreshes(candidates, 2_000, 2), ['late', 'a']);
    assert.deepEqual(dueRefreshes(candidates, 2_000, 0), []);
  });

  test('a period that is not positive never makes an address due; a bad budget is a caller bug', () => {
    assert.deepEqual(dueRefreshes([{ resource: 'x', everyMs: 0, lastAnnouncedAt: 0 }, { resource: 'y', everyMs: Number.NaN, lastAnnouncedAt: 0 }], 1e9), []);
    assert.throws(() => dueRefreshes([], 0, -1), RangeError);
    assert.throws(() => dueRefreshes([], 0, 1.5), RangeError);
  });
});

/** An Announcer on a fake clock, over a view holding `specs`; `held` are ready here. */
function harness(specs: Array<Pick<ResourceSpec, 'name'> & Partial<ResourceSpec>>, held: Iterable<string>) {
  const clock = { now: 0 };
  const state = { maySend: true, sent: [] as string[], held: new Set(held) };
  const view = { resources: new Map(specs.map((spec) => [spec.name, spec])), intents: new Map(), intentRevisions: new Map() } as unknown as ClusterView;
  // The claim's event comes back at once, as LocalAddresses forwards it to the agent's listener.
  const announcer: Announcer = new Announcer({
    node: 'n1',
    store: {} as ClusterStore,
    view: () => view,
    reannounceHere: (resource) => {
      if (!state.held.has(resource)) return null;
      state.sent.push(resource);
      announcer.onClaimEvent(resource, { type: 'reannounced', at: clock.now });
      return { mac: '02:00:00:00:00:01', ifname: 'eth1' };
    },
    maySend: () => state.maySend,
    onChange: () => () => undefined,
    log: () => undefined,
    now: () => clock.now,
  });
  const announced = (resource: string): void => announcer.onClaimEvent(resource, { type: 'announced', at: clock.now, n: 1, count: 1 });
  return { clock, state, announcer, announced };
}

describe('Announcer: the refresh pass', () => {
  test('re-announces each address with a refresh when its period has passed since its last announcement, and only those', () => {
    const { clock, state, announcer, announced } = harness([{ name: 'web', announceRefreshSec: 60 }, { name: 'db' }], ['web', 'db']);
    announced('web');
    announced('db');
    clock.now = 59_999;
    assert.equal(announcer.refresh(), 0);
    clock.now = 60_000;
    assert.equal(announcer.refresh(), 1);
    assert.deepEqual(state.sent, ['web']);
    // The next one counts from this refresh, not from the first announcement.
    clock.now = 119_999;
    assert.equal(announcer.refresh(), 0);
    clock.now = 120_000;
    assert.equal(announcer.refresh(), 1);
    assert.deepEqual(state.sent, ['web', 'web']);
  });

  test('a defence counts as an announcement: the refresh waits a full period after it', () => {
    const { clock, state, announcer, announced } = harness([{ name: 'web', announceRefreshSec: 10 }], ['web']);
    announced('web');
    clock.now = 8_000;
    announcer.onClaimEvent('web', { type: 'defended', at: 8_000, mac: '02:00:00:00:00:09' });
    clock.now = 10_000;
    assert.equal(announcer.refresh(), 0);
    clock.now = 18_000;
    assert.equal(announcer.refresh(), 1);
    assert.deepEqual(state.sent, ['web']);
  });

  test('never while this node may not send (lease unconfirmed); the refresh goes out once it may again', () => {
    const { clock, state, announcer, announced } = harness([{ name: 'web', announceRefreshSec: 5 }], ['web']);
    announced('web');
    clock.now = 6_000;
    state.maySend = false;
    assert.equal(announcer.refresh(), 0);
    assert.deepEqual(state.sent, []);
    state.maySend = true;
    assert.equal(announcer.refresh(), 1);
  });

  test('an address let go (down) or no longer held ready is forgotten, not tried every second', () => {
    const { clock, state, announcer, announced } = harness([{ name: 'web', announceRefreshSec: 5 }, { name: 'db', announceRefreshSec: 5 }], ['db']);
    announced('web');
    announced('db');
    announcer.onClaimEvent('db', { type: 'down', at: 0, reason: 'released' });
    clock.now = 5_000;
    assert.equal(announcer.refresh(), 0, 'web is not held here (reannounceHere null), db went down');
    state.held.add('web');
    clock.now = 20_000;
    assert.equal(announcer.refresh(), 0, 'web was forgotten until its next announcement');
    announced('web');
    clock.now = 25_000;
    assert.equal(announcer.refresh(), 1);
  });

  test(`a node with more due than ${REFRESHES_PER_PASS} sends a bounded burst per pass, the rest on the next`, () => {
    const names = Array.from({ length: REFRESHES_PER_PASS + 100 }, (_, i) => `r${String(i).padStart(4, '0')}`);
    const { clock, state, announcer, announced } = harness(names.map((name) => ({ name, announceRefreshSec: 1 })), names);
    for (const name of names) announced(name);
    clock.now = 1_000;
    assert.equal(announcer.refresh(), REFRESHES_PER_PASS);
    clock.now = 1_500;
    assert.equal(announcer.refresh(), 100, 'the ones left over are due still');
    assert.equal(new Set(state.sent).size, names.length);
  });
});

describe('Announcer: announce-now on the holder itself', () => {
  test('held here: announced, with the MAC and interface it went out on', async () => {
    const { state, announcer } = harness([{ name: 'web' }], ['web']);
    assert.deepEqual(await announcer.run('n1', 'web', 'alice'), { ok: true, mac: '02:00:00:00:00:01', ifname: 'eth1' });
    assert.deepEqual(state.sent, ['web']);
  });

  test('not held here, or the lease unconfirmed: nothing sent, and the reason says so', async () => {
    const { state, announcer } = harness([{ name: 'web' }], []);
    const notHeld = await announcer.run('n1', 'web', 'alice');
    assert.equal(notHeld.ok, false);
    assert.match('message' in notHeld ? notHeld.message : '', /web is not held on n1/);
    state.held.add('web');
    state.maySend = false;
    const unconfirmed = await announcer.run('n1', 'web', 'alice');
    assert.match('message' in unconfirmed ? unconfirmed.message : '', /lease is not confirmed/);
    assert.deepEqual(state.sent, []);
  });
});
