// LocalAddresses over a socket that folds a storm's repeats (Linux's agent socket, main/native/fold.h; the
// fake LAN's agent sockets fold the same way): the senders its claims hold or probe and its watchers listen
// to are never folded, so a rival that repeats itself reaches the claim every time and a watcher hears every
// answer, while a station nobody here listens to is folded; the list follows claims as they start and end,
// brought up to date once per turn however many start in it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LocalAddresses } from '../../main/agent/local-addresses';
import { request as arpRequest } from '../../main/arp/codec';
import type { AcdEvent } from '../../main/arp/acd';
import { FakeLan, type FakeHost } from './fake-host';

const VIP = '10.231.0.100';
const ROGUE_MAC = '02:66:00:00:00:66';
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setUp(): { lan: FakeLan; node: FakeHost; rogue: FakeHost; local: LocalAddresses; unfoldCalls: string[][]; conflicts: AcdEvent[] } {
  const lan = new FakeLan();
  const node = lan.host('n1', '10.231.0.1', '02:77:00:00:00:01');
  const rogue = lan.host('rogue', '10.231.0.66', ROGUE_MAC);
  const unfoldCalls: string[][] = [];
  const openArp = node.openArp.bind(node);
  node.openArp = (ifname) => {
    const port = openArp(ifname);
    const unfold = port.unfoldSenders!.bind(port);
    port.unfoldSenders = (senders) => {
      const list = [...senders].sort();
      unfoldCalls.push(list);
      unfold(list);
    };
    return port;
  };
  const local = new LocalAddresses({ host: node, lifetimeSec: null });
  const conflicts: AcdEvent[] = [];
  local.on('event', (_resource, event) => {
    if (event.type === 'conflict') conflicts.push(event);
  });
  return { lan, node, rogue, local, unfoldCalls, conflicts };
}

/** The rogue asks for another station `times` times from `senderIp`: requests a folding socket folds from the second on. */
async function rogueAsks(rogue: FakeHost, senderIp: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    rogue.transmitFrom('lan0', arpRequest(ROGUE_MAC, senderIp, '10.231.0.1'));
    await turn();
  }
}

describe('LocalAddresses over a folding socket', () => {
  test('a rival repeating requests from a held address reaches the claim every time; the list follows the claim', async () => {
    const { rogue, local, unfoldCalls, conflicts } = setUp();
    const held = await local.hold({ resource: 'web', ip: VIP, prefix: 24, ifname: 'lan0', acd: { skipProbe: true, announceCount: 1 } });
    assert.equal(held.kind, 'ready');
    assert.deepEqual(unfoldCalls.at(-1), [VIP], "the held address is never folded");
    await rogueAsks(rogue, VIP, 6);
    assert.equal(conflicts.length, 6, `every one of the rival's frames reached the claim: ${conflicts.map((c) => c.type === 'conflict' ? c.action : '').join(', ')}`);
    local.release('web');
    await turn();
    assert.deepEqual(unfoldCalls.at(-1), [], 'released: nothing left unfolded');
    local.close();
  });

  test('a station nobody here listens to is folded; a watcher hears every answer from the address it watches', async () => {
    const { rogue, local } = setUp();
    local.watchInterface('lan0');
    // The station's frames (n1's kernel answers them too: its own replies fold the same way).
    const repeats: number[] = [];
    const frames: string[] = [];
    local.observeFrames((_ifname, frame) => frames.push(frame.arp.senderIp));
    local.observeRepeats((_ifname, { frame, requests, replies }) => {
      if (frame.arp.senderIp === '10.231.0.77') repeats.push(requests + replies);
    });
    await rogueAsks(rogue, '10.231.0.77', 5);
    assert.deepEqual(frames.filter((ip) => ip === '10.231.0.77').length, 1, 'the first frame comes whole');
    assert.equal(repeats.reduce((a, b) => a + b, 0), 4, 'the other four as repeats');

    const heard: string[] = [];
    const watch = local.watchAddress('lan0', '10.231.0.77', (mac) => heard.push(mac));
    await turn();
    await rogueAsks(rogue, '10.231.0.77', 5);
    assert.equal(heard.length, 5, 'the watcher heard every frame');
    watch.stop();
    await turn();
    await rogueAsks(rogue, '10.231.0.77', 3);
    assert.equal(heard.length, 5, 'nothing after stop()');
    assert.equal(repeats.reduce((a, b) => a + b, 0), 7, 'folded again once nobody listens');
    local.close();
  });

  test('a thousand holds in one turn bring the list up to date once', async () => {
    const { local, unfoldCalls } = setUp();
    local.watchInterface('lan0');
    await turn();
    const before = unfoldCalls.length;
    const ips = Array.from({ length: 1000 }, (_, i) => `10.231.${4 + Math.floor(i / 250)}.${(i % 250) + 1}`);
    const holds = ips.map((ip, i) => local.hold({ resource: `r${i}`, ip, prefix: 16, ifname: 'lan0', acd: { skipProbe: true, announceCount: 1 } }));
    await turn();
    assert.equal(unfoldCalls.length, before + 1, 'one update for the whole turn');
    assert.equal(unfoldCalls.at(-1)!.length, 1000);
    await Promise.all(holds);
    local.close();
  });
});
