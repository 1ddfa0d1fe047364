// IPv6 resources (issue 18) served by real agents (main/agent/agent.ts) and a real embedded store on
// the fake LAN's neighbour discovery (fake-host.ts FakeNdPort: solicited-node groups, a holder's
// "kernel" answering DAD probes and solicitations as Linux does). The same scenarios as agent.test.ts
// for IPv4: online on one node, the owner gone, a planned move, a stranger advertising the address.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { Agent } from '../../main/agent/agent';
import type { ConflictRecord, ResourceSpec } from '../../main/cluster/model';
import { validateResourceSpec } from '../../main/cluster/validate';
import { solicitedNodeAddress } from '../../main/nd/addresses';
import { buildUnsolicitedAdvertisement } from '../../main/nd/builders';
import { ALL_NODES_IPV6, type NdFrame } from '../../main/nd/frame';
import type { ClusterStore } from '../../main/store/store';
import { FakeLan, type FakeHost } from './fake-host';
import { registrationsWhileHeld as registrationsHeldOn, sleep, startAgents, stopAgents, until } from './agent-fixture';

const VIP6 = '2001:db8:10::50';
const MACS = { n1: '02:77:00:00:00:01', n2: '02:77:00:00:00:02' } as const;
const ROGUE_MAC = '02:66:00:00:00:66';

/** A resource as the API would store it: validated (RFC 5952 text), with every default filled in. */
function spec(name: string, ipWithPrefix: string, preferredOwners: string[]): ResourceSpec {
  const validation = validateResourceSpec({ name, ip: ipWithPrefix, preferredOwners }, { nodes: ['n1', 'n2'], existing: [] });
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
  return validation.spec;
}

const isNa = (frame: NdFrame): frame is NdFrame & { icmp: { type: 'na' } } => frame.icmp.type === 'na';

describe('IPv6 resources on fake hosts', () => {
  const dirs: string[] = [];
  let lan: FakeLan;
  let stores: ClusterStore[];
  let agents: Agent[];
  let hosts: Record<string, FakeHost>;
  let logs: string[];

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipfo-agent-ipv6-unit-'));
    dirs.push(dir);
    lan = new FakeLan();
    hosts = { n1: lan.host('n1', '10.231.0.1', MACS.n1), n2: lan.host('n2', '10.231.0.2', MACS.n2) };
    // Each node's station address in the resource's /64: what chooses lan0 for it (interface-choice.ts).
    hosts.n1!.addStation6('2001:db8:10::1', 64);
    hosts.n2!.addStation6('2001:db8:10::2', 64);
    ({ stores, agents, logs } = await startAgents(dir, hosts));
  });

  afterEach(() => stopAgents({ stores, agents, logs }));

  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const agent = (node: string): Agent => agents[['n1', 'n2'].indexOf(node)]!;
  const ownerOf = (resource: string): string | null => agent('n1').clusterView.ownerOf(resource);
  const stateOf = (resource: string): string | undefined => agent('n1').clusterView.statuses.get(resource)?.state;
  const explain = (): string => `\nlog:\n  ${logs.slice(-30).join('\n  ')}`;
  const from = (node: string): NdFrame[] => lan.ndWire.filter((w) => w.from === node).map((w) => w.frame);

  const registrationsWhileHeld = (target: string, owner: string): string[] => registrationsHeldOn(hosts, target, owner);

  async function online(name: string, ip: string, node: string): Promise<void> {
    await stores[0]!.putResource(spec(name, `${ip}/64`, [node]));
    await until(`${name} online on ${node}`, () => stateOf(name) === 'online' && ownerOf(name) === node && hosts[node]!.held().includes(ip)).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
  }

  /** Audit entries that say a node took a peer's frame for a stranger's (a question, a trusted probe, an advertisement of a move). */
  async function conflictsRecorded(): Promise<string[]> {
    return (await stores[0]!.audit()).filter((e) => e.action === 'arp.conflict' || e.action === 'fail').map((e) => `${e.actor} ${e.action}: ${e.detail}`);
  }

  /**
   * The standby (n2) asked n1 with the DAD question and n1's kernel answered: from now on n1's silence
   * counts. The answer must come after the question: n1's own announcement when it took the address has
   * the same form, and a standby that has heard nothing yet never finds the owner silent (an owner cut
   * right then was not failed over within the bound, ~1 run in 8).
   */
  async function standbyHeardOwner(): Promise<void> {
    await until('n2 asking n1 and n1 answering', () => {
      const wire = lan.ndWire;
      const asked = wire.findIndex((w) => w.from === 'n2' && w.frame.icmp.type === 'ns' && w.frame.icmp.target === VIP6 && w.frame.icmp.question === true);
      return asked >= 0 && wire.slice(asked + 1).some((w) => w.from === 'n1' && isNa(w.frame) && w.frame.icmp.target === VIP6 && w.frame.ipv6.dst === ALL_NODES_IPV6 && !w.frame.icmp.solicited);
    }).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    // The answer is on the wire; n2's socket hands it over in a later turn.
    await sleep(50);
  }

  test('an IPv6 resource comes online on exactly one node: DAD probes, registered on lan0 in RFC 5952 text, advertised with override', async () => {
    await online('web6', VIP6, 'n1');
    assert.deepEqual(hosts.n1!.held(), [VIP6]);
    assert.deepEqual(hosts.n2!.held(), []);
    assert.deepEqual(hosts.n1!.addresses.listOwned('lan0').map((a) => [a.ip, a.prefix]), [[VIP6, 64]]);
    assert.equal(agent('n1').clusterView.statuses.get('web6')?.ownerMac, MACS.n1);
    // On the wire: n1 probed (DAD from ::, to the address's solicited-node group, no nonce of ours) before
    // it advertised (from the address, to all nodes, override set, its MAC) — and nothing went out as ARP.
    const fromN1 = from('n1').filter((f) => f.icmp.target === VIP6);
    const firstAdvertisement = fromN1.findIndex(isNa);
    assert.ok(firstAdvertisement > 0, JSON.stringify(fromN1));
    for (const probe of fromN1.slice(0, firstAdvertisement)) {
      assert.equal(probe.icmp.type, 'ns');
      assert.equal(probe.ipv6.src, '::');
      assert.equal(probe.ipv6.dst, solicitedNodeAddress(VIP6));
      assert.equal(probe.icmp.type === 'ns' && probe.icmp.question, undefined);
    }
    const advertisement = fromN1[firstAdvertisement]!;
    assert.deepEqual([advertisement.ipv6.src, advertisement.ipv6.dst, advertisement.ipv6.hopLimit], [VIP6, ALL_NODES_IPV6, 255]);
    assert.deepEqual(advertisement.icmp, { type: 'na', target: VIP6, router: false, solicited: false, override: true, targetLinkAddr: MACS.n1 });
    assert.ok(!lan.wire.some((w) => w.frame.arp.targetIp === VIP6 || w.frame.arp.senderIp === VIP6));
    // n1's ND socket joined the address's solicited-node group (so another node's DAD probe reaches it however the LAN prunes multicast).
    assert.ok(hosts.n1!.openNdPorts().some((port) => port.groups().includes(solicitedNodeAddress(VIP6))));
  });

  test("the owner's interface set down on the node (its IPv6 addresses flushed): the standby hears it go silent and takes the address", async () => {
    await online('web6', VIP6, 'n1');
    await standbyHeardOwner();
    await sleep(200); // a few more questions: none is taken for a claim
    assert.deepEqual(await conflictsRecorded(), []);
    hosts.n1!.setDown();
    await until('web6 online on n2', () => stateOf('web6') === 'online' && ownerOf('web6') === 'n2' && hosts.n2!.held().includes(VIP6)).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.match(logs.join('\n'), /n2: n1 silent on \S+ for 2001:db8:10::50/);
    await until("the status names n2's MAC", () => agent('n1').clusterView.statuses.get('web6')?.ownerMac === MACS.n2);
    // n2 advertised the address at its MAC, override set, for every cache to follow.
    await until('n2 advertised the address', () => from('n2').some((f) => isNa(f) && f.icmp.target === VIP6 && f.icmp.override && f.icmp.targetLinkAddr === MACS.n2));
    await until('the failover in the audit log', async () => (await stores[0]!.audit()).some((e) => e.action === 'failover' && e.target === 'web6' && e.outcome === 'ok' && e.detail?.startsWith('from n1'))).catch(async (error: Error) => {
      throw new Error(`${error.message}\naudit: ${JSON.stringify((await stores[0]!.audit()).map((e) => [e.actor, e.action, e.target, e.outcome, e.detail]))}${explain()}`);
    });
    hosts.n1!.setUp();
    await sleep(500);
    // Back up, n1 does not take the address back from a live owner.
    assert.deepEqual(hosts.n1!.held(), []);
    assert.deepEqual(hosts.n2!.held(), [VIP6]);
  });

  test("the owner's agent stopped abruptly and its host cut off: the other node takes the address within the silence bound", async () => {
    await online('web6', VIP6, 'n1');
    await standbyHeardOwner();
    const cutAt = Date.now();
    await agent('n1').abandon(); // crash-like: no hand-over, the address stays in n1's kernel, the lease left to expire
    assert.deepEqual(hosts.n1!.held(), [VIP6], 'a crashed agent leaves its addresses behind');
    hosts.n1!.keepIpv6OnDown = true; // the cable cut, not an admin down: the kernel keeps the address, but nobody hears it
    hosts.n1!.setDown();
    await until('web6 held by n2', () => hosts.n2!.held().includes(VIP6) && agent('n2').clusterView.ownerOf('web6') === 'n2' && agent('n2').clusterView.statuses.get('web6')?.state === 'online').catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    const tookMs = Date.now() - cutAt;
    assert.ok(tookMs < 3000, `took ${tookMs} ms`);
    assert.match(logs.join('\n'), /n2: n1 silent on \S+ for 2001:db8:10::50/);
  });

  test('a planned move hands the IPv6 address over: the trusted probe answered by the owner, never held by both hosts at once', async () => {
    await online('web6', VIP6, 'n1');
    const violations = registrationsWhileHeld('n2', 'n1');
    await agent('n1').requestMove('web6', 'n2', 'unit-test');
    await until('web6 online on n2', () => stateOf('web6') === 'online' && ownerOf('web6') === 'n2' && agent('n1').clusterView.intents.size === 0).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.deepEqual(violations, []);
    assert.deepEqual(await conflictsRecorded(), [], "neither node took the other's probe or advertisement for a stranger's");
    assert.equal(lan.datagrams.sent, 1);
    assert.deepEqual(hosts.n1!.held(), []);
    assert.deepEqual(hosts.n2!.held(), [VIP6]);
    const moves = (await stores[0]!.audit()).filter((e) => e.action === 'move');
    assert.equal(moves.at(-1)?.outcome, 'ok', JSON.stringify(moves));
    assert.equal(moves.at(-1)?.detail, 'n1 -> n2');
    assert.equal(typeof moves.at(-1)?.handoffMs, 'number');
    // n2's DAD probes before the handover were answered by n1's kernel (the owner, trusted), to all nodes.
    assert.ok(from('n1').some((f) => isNa(f) && f.icmp.target === VIP6 && f.ipv6.dst === ALL_NODES_IPV6 && f.icmp.targetLinkAddr === MACS.n1));
    await until('n2 advertised the address', () => from('n2').some((f) => isNa(f) && f.icmp.target === VIP6 && f.icmp.targetLinkAddr === MACS.n2));
    // The solicited-node group follows the address: n2 listens for it, n1 left it.
    const group = solicitedNodeAddress(VIP6);
    assert.ok(hosts.n2!.openNdPorts().some((port) => port.groups().includes(group)));
    assert.ok(hosts.n1!.openNdPorts().every((port) => !port.groups().includes(group)));
  });

  test('a drain moves IPv6 and IPv4 addresses together as one batch: one registration on the target, never held by both hosts, the IPv6 ones asked over ND', async () => {
    const ips6 = [1, 2, 3].map((i) => `2001:db8:10::${110 + i}`);
    const ips4 = ['10.231.0.114', '10.231.0.115'];
    for (const [i, ip] of ips6.entries()) await online(`v6-${i}`, ip, 'n1');
    for (const [i, ip] of ips4.entries()) {
      await stores[0]!.putResource(spec(`v4-${i}`, `${ip}/24`, ['n1']));
      await until(`v4-${i} online on n1`, () => stateOf(`v4-${i}`) === 'online' && hosts.n1!.held().includes(ip));
    }
    const all = [...ips6, ...ips4];
    const violations = registrationsWhileHeld('n2', 'n1');
    const batches: number[] = [];
    const register = hosts.n2!.addresses.register.bind(hosts.n2!.addresses);
    (hosts.n2!.addresses as { register: typeof register }).register = (list, notAfter) => {
      if (list.some((item) => all.includes(item.ip) && item.validLftSec === undefined)) batches.push(list.length);
      return register(list, notAfter);
    };
    await sleep(300); // the last claim's status and audit writes end: no work in flight when the drain is planned
    const questionsBefore = from('n2').filter((f) => f.icmp.type === 'ns' && f.icmp.question === true).length;
    await stores[0]!.setNodeState('n1', 'paused');
    await until('every address on n2', () => all.every((ip) => hosts.n2!.held().includes(ip)) && hosts.n1!.held().length === 0).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.deepEqual(violations, []);
    assert.deepEqual(batches, [5], `one netlink batch for the five: ${JSON.stringify(batches)}`);
    assert.deepEqual(await conflictsRecorded(), []);
    // The target's trusted probe asked each IPv6 address with the DAD question; the owner's kernel answered.
    const asked = new Set(from('n2').filter((f) => f.icmp.type === 'ns' && f.icmp.question === true).slice(questionsBefore).map((f) => f.icmp.target));
    for (const ip of ips6) assert.ok(asked.has(ip), `${ip} asked: ${JSON.stringify([...asked])}`);
    await until('five move entries', async () => (await stores[0]!.audit()).filter((e) => e.action === 'move' && e.actor === 'drain' && e.outcome === 'ok').length === 5).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
  });

  test("frames dropped on the target's ND socket during a drain's probe: the probe counts for nothing and is made again; the addresses move all the same", async () => {
    const ips6 = [1, 2].map((i) => `2001:db8:10::${120 + i}`);
    for (const [i, ip] of ips6.entries()) await online(`v6-${i}`, ip, 'n1');
    await sleep(300);
    // The first question n2 asks fills its ND socket's ring: the next answer that reaches it is lost.
    const port = hosts.n2!.openNdPorts()[0];
    assert.ok(port, 'n2 has an ND socket (its standby asks n1 over it)');
    let armed = false;
    const send = port.send.bind(port);
    port.send = (frame) => {
      if (!armed && frame.icmp.type === 'ns' && frame.icmp.question === true && ips6.includes(frame.icmp.target) && agent('n2').clusterView.intents.size > 0) {
        armed = true;
        port.dropNext = 1;
      }
      send(frame);
    };
    await stores[0]!.setNodeState('n1', 'paused');
    await until('every address on n2', () => ips6.every((ip) => hosts.n2!.held().includes(ip)) && hosts.n1!.held().length === 0, 10_000).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.ok(armed, 'a question of the batch probe was seen');
    assert.equal(port.stats.kernelDropped, 1);
    assert.match(logs.join('\n'), /n2: .*dropped 1 frames during the probe; probing again/);
    // What Prometheus reads: the drop on the ND socket, apart from the ARP socket of the same interface.
    const metrics = agent('n2').metrics.render().split('\n');
    assert.ok(metrics.includes('ipfo_capture_kernel_dropped_frames_total{interface="lan0",protocol="nd"} 1'), metrics.filter((line) => line.startsWith('ipfo_capture')).join('\n'));
    assert.ok(metrics.includes('ipfo_capture_kernel_dropped_frames_total{interface="lan0",protocol="arp"} 0'));
    const ndFrames = metrics.find((line) => line.startsWith('ipfo_capture_frames_total{interface="lan0",protocol="nd"} '));
    assert.equal(Number(ndFrames?.split(' ')[1]), port.stats.received);
  });

  test("the owner's interface down and up while the other node is paused: the kernel flushed the IPv6 address, the owner holds it again once up", async () => {
    await online('web6', VIP6, 'n1');
    await stores[0]!.setNodeState('n2', 'paused');
    await until('n2 paused in n1\'s view', () => agent('n1').clusterView.nodes.get('n2')?.state === 'paused');
    hosts.n1!.setDown();
    assert.deepEqual(hosts.n1!.held(), [], 'flushed with the admin down (keep_addr_on_down=0)');
    await sleep(300);
    hosts.n1!.setUp();
    await until('web6 held by n1 again', () => hosts.n1!.held().includes(VIP6) && stateOf('web6') === 'online' && ownerOf('web6') === 'n1', 8000).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.deepEqual(hosts.n2!.held(), []);
  });

  test('a node whose host serves no IPv6 (openNd refused, as on Windows for now) fails its own claim, is banned from the resource, and the other node serves it', async () => {
    hosts.n1!.refuseNd = true;
    await stores[0]!.putResource(spec('web6', `${VIP6}/64`, ['n1']));
    await until('web6 online on n2', () => stateOf('web6') === 'online' && ownerOf('web6') === 'n2' && hosts.n2!.held().includes(VIP6), 8000).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.deepEqual(hosts.n1!.held(), []);
    assert.match(logs.join('\n'), /n1: web6: could not register on n1: this host serves no IPv6 resources .*n1 banned from it/);
  });

  test('an IPv6 address a stranger already holds is never registered: its kernel answers the DAD probe, the node fails the resource as a conflict with its MAC', async () => {
    const stranger = lan.host('rogue', '10.231.0.66', ROGUE_MAC);
    stranger.addStation6(VIP6, 64); // configured there by hand
    await stores[0]!.putResource(spec('web6', `${VIP6}/64`, ['n1']));
    await until('web6 failed', () => stateOf('web6') === 'failed').catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.deepEqual(agent('n1').clusterView.statuses.get('web6')?.failure, { kind: 'conflict', mac: ROGUE_MAC });
    assert.equal(ownerOf('web6'), null, 'the key was let go');
    assert.deepEqual(hosts.n1!.held(), []);
    assert.deepEqual(hosts.n2!.held(), []);
    // The stranger's kernel answered n1's DAD probe to all nodes; n1 never advertised the address.
    assert.ok(from('rogue').some((f) => isNa(f) && f.icmp.target === VIP6 && f.icmp.targetLinkAddr === ROGUE_MAC));
    assert.ok(!from('n1').some((f) => isNa(f) && f.icmp.target === VIP6));
  });

  test("a stranger answering the target's trusted probe fails the move; the owner keeps the IPv6 address", async () => {
    await online('web6', VIP6, 'n1');
    const stranger = lan.host('rogue', '10.231.0.66', ROGUE_MAC);
    stranger.addStation6(VIP6, 64);
    await agent('n1').requestMove('web6', 'n2', 'unit-test');
    await until('the move ended', () => agent('n1').clusterView.intents.size === 0);
    const moves = (await stores[0]!.audit()).filter((e) => e.action === 'move');
    assert.equal(moves.at(-1)?.outcome, 'failed', JSON.stringify(moves));
    assert.match(String(moves.at(-1)?.detail), new RegExp(`answered by ${ROGUE_MAC}`));
    assert.equal(ownerOf('web6'), 'n1');
    assert.deepEqual(hosts.n1!.held(), [VIP6]);
    assert.deepEqual(hosts.n2!.held(), []);
  });

  test("a stranger's advertisement for the held address is a conflict the owner records with the stranger's MAC", async () => {
    await online('web6', VIP6, 'n1');
    const rogue = lan.host('rogue', '10.231.0.66', ROGUE_MAC);
    const port = rogue.openNd('lan0');
    // From off the link (hop limit not 255: RFC 4861 §7.2.5, every host drops it): no conflict.
    const advertisement = buildUnsolicitedAdvertisement(ROGUE_MAC, VIP6);
    port.send({ ...advertisement, ipv6: { ...advertisement.ipv6, hopLimit: 64 } });
    await sleep(300);
    assert.deepEqual(await conflictsRecorded(), []);
    port.send(advertisement);
    let conflicts: ConflictRecord[] = [];
    await until('the conflict in the audit log', async () => {
      conflicts = (await stores[0]!.audit()).flatMap((e) => (e.arp?.kind === 'conflict' ? [e.arp.conflict] : []));
      return conflicts.length > 0;
    }).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.equal(conflicts.length, 1, JSON.stringify(conflicts));
    const { theirMac, address, node, resource } = conflicts[0]!;
    assert.deepEqual({ theirMac, address, node, resource }, { theirMac: ROGUE_MAC, address: VIP6, node: 'n1', resource: 'web6' });
    // The owner defended: it advertised the address at its own MAC again after the stranger's.
    const rogueAt = lan.ndWire.findLastIndex((w) => w.from === 'rogue');
    await until('n1 defended', () => lan.ndWire.slice(rogueAt + 1).some((w) => w.from === 'n1' && isNa(w.frame) && w.frame.icmp.target === VIP6 && w.frame.icmp.targetLinkAddr === MACS.n1 && w.frame.icmp.override));
    assert.equal(conflicts[0]!.defended, true);
    assert.equal(ownerOf('web6'), 'n1');
    assert.deepEqual(hosts.n1!.held(), [VIP6]);
  });
});
