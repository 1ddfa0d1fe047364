// Real agents (main/agent/agent.ts) on Windows hosts (main/host/windows-host.ts) whose PowerShell is
// the fake Windows of fake-windows.ts, on the fake LAN of fake-host.ts (ARP, the "kernel" answering for
// the addresses Windows carries, the release datagram), with a real embedded store. What Windows does
// with an address only happens when the fake PowerShell says so, 15 ms per process. An IPv6 resource on one
// node (the fake LAN carries no ND, so no standby watches it over ND and no IPv6 move is played here).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { Agent } from '../../main/agent/agent';
import type { ResourceSpec } from '../../main/cluster/model';
import { validateResourceSpec } from '../../main/cluster/validate';
import type { NdPort } from '../../main/host/host';
import { openWindowsHost, type WindowsHost } from '../../main/host/windows-host';
import type { NdFrame } from '../../main/nd/frame';
import type { InterfaceInfo } from '../../main/net/interfaces';
import type { NdSocketEvents } from '../../main/net/nd-socket';
import type { PacketStats } from '../../main/net/pcap';
import { createWindowsAddressBackend } from '../../main/net/windows/backend';
import { FileStore } from '../../main/store/file-store';
import type { ClusterStore } from '../../main/store/store';
import { FakeLan, type FakeHost } from './fake-host';
import { FakeWindows, MemoryRecords, ticks, type JsonObject } from './fake-windows';
import { sleep, startAgents, stopAgents, until as waitUntil } from './agent-fixture';

const VIP = '10.231.0.100';
/** PowerShell's pace is slower than the fake LAN's: 8 s unless a test says otherwise. */
const until = <T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 8000): Promise<T> => waitUntil(what, probe, timeoutMs);

function spec(name: string, ip: string, preferredOwners: string[]): ResourceSpec {
  const validation = validateResourceSpec({ name, ip: `${ip}/24`, preferredOwners }, { nodes: ['n1', 'n2'], existing: [] });
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
  return validation.spec;
}

/** The station address as Get-NetIPAddress shows it (an administrator's: persistent too, not SkipAsSource). */
const stationEntry = (ifindex: number, ip: string, store: 0 | 1): JsonObject => ({
  IPAddress: ip, InterfaceIndex: ifindex, InterfaceAlias: 'lan0', AddressFamily: 2, Type: 1, PrefixLength: 24, PrefixOrigin: 1, SuffixOrigin: 1,
  AddressState: 4, SkipAsSource: false, ValidLifetime: ticks(null), PreferredLifetime: ticks(null), Store: store,
});

/** A Windows machine on the fake LAN: its adapter is the fake host's lan0, its kernel answers ARP for what the fake Windows carries. */
async function windowsNode(lan: FakeLan, node: string, station: string, mac: string, journal: string[]): Promise<{ fake: FakeHost; windows: FakeWindows; host: WindowsHost }> {
  const fake = lan.host(node, station, mac);
  const index = fake.interfaceState('lan0')!.index;
  const windows = new FakeWindows({
    label: node,
    journal,
    adapters: [{ Name: 'lan0', InterfaceDescription: 'Fake Ethernet', ifIndex: index, Status: 'Up', MacAddress: mac.toUpperCase().replace(/:/g, '-'), InterfaceGuid: `{00000000-0000-4000-8000-0000000000${node.slice(1).padStart(2, '0')}}` }],
    active: [stationEntry(index, station, 1)],
    persistent: [stationEntry(index, station, 0)],
  });
  windows.latencyMs = 15;
  // What Windows carries is what the LAN hears this host answer for.
  windows.onChange = () => {
    const ours = windows.active.filter((a) => a.SkipAsSource === true).map((a) => ({ ifname: 'lan0', ip: String(a.IPAddress), prefix: Number(a.PrefixLength), owned: true }));
    fake.table.splice(0, fake.table.length, ...ours);
  };
  const up = (): NodeJS.Dict<NetworkInterfaceInfo[]> => (fake.interfaceState('lan0')?.carrier ? { lan0: [{ address: station, netmask: '255.255.255.0', family: 'IPv4', mac, internal: false, cidr: `${station}/24` }] } : {});
  const host = await openWindowsHost({
    backend: createWindowsAddressBackend({ run: windows.run, records: new MemoryRecords([]), systemRoot: 'C:\\Windows' }),
    networkInterfaces: up,
    openCapture: () => fake.openArp('lan0'),
    refreshMs: 60_000,
  });
  // The release datagram goes over the fake LAN too (the Windows host's own is a real UDP socket).
  host.openDatagram = (onMessage) => fake.openDatagram(onMessage);
  return { fake, windows, host };
}

describe('the agent on Windows hosts (fake PowerShell)', () => {
  const dirs: string[] = [];
  let lan: FakeLan;
  let journal: string[];
  let stores: ClusterStore[];
  let agents: Agent[];
  let nodes: Record<string, { fake: FakeHost; windows: FakeWindows; host: WindowsHost }>;
  let logs: string[];

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipfo-windows-agent-unit-'));
    dirs.push(dir);
    lan = new FakeLan();
    journal = [];
    const send = lan.sendDatagram.bind(lan);
    lan.sendDatagram = (bytes, port, address) => {
      journal.push(`datagram to ${address}`);
      send(bytes, port, address);
    };
    nodes = {
      n1: await windowsNode(lan, 'n1', '10.231.0.1', '02:77:00:00:00:01', journal),
      n2: await windowsNode(lan, 'n2', '10.231.0.2', '02:77:00:00:00:02', journal),
    };
    ({ stores, agents, logs } = await startAgents(dir, { n1: nodes.n1!.host, n2: nodes.n2!.host }));
  });

  afterEach(() =>
    stopAgents({ stores, agents, logs }, async () => {
      for (const { host } of Object.values(nodes)) {
        await host.addresses.settled();
        host.close();
      }
    }),
  );

  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const agent = (node: string): Agent => agents[['n1', 'n2'].indexOf(node)]!;
  const ownerOf = (resource: string): string | null => agent('n1').clusterView.ownerOf(resource);
  const stateOf = (resource: string): string | undefined => agent('n1').clusterView.statuses.get(resource)?.state;
  const onWindows = (node: string): string[] => nodes[node]!.windows.ours().map((line) => line.split(' ')[1]!);
  const explain = (): string => `\njournal: ${journal.join(', ')}\nlog:\n  ${logs.slice(-30).join('\n  ')}`;

  async function online(name: string, ip: string, node: string): Promise<void> {
    await stores[0]!.putResource(spec(name, ip, [node]));
    await until(`${name} online on ${node}`, () => stateOf(name) === 'online' && ownerOf(name) === node).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
  }

  test('a resource comes online on one Windows machine: the address is there when the status says online', async () => {
    await online('web', VIP, 'n1');
    assert.deepEqual(onWindows('n1'), [`${VIP}/24`], explain());
    assert.deepEqual(onWindows('n2'), []);
    assert.deepEqual(journal, [`n1 add ${VIP}`]);
    // Through the real backend: the add was New-NetIPAddress, by interface index, in the active store only.
    const add = nodes.n1!.windows.calls.find((c) => /"action":"add"/.test(c.env?.IPFO_REQUEST ?? ''));
    assert.match(add?.env?.IPFO_REQUEST ?? '', new RegExp(`"ifindex":${nodes.n1!.fake.interfaceState('lan0')!.index},"ip":"${VIP.replace(/\./g, '\\.')}"`));
  });

  test('a planned move: removed from the owner\'s Windows before it says so, added on the target\'s after', async () => {
    await online('web', VIP, 'n1');
    await agent('n1').requestMove('web', 'n2', 'unit-test');
    await until('web online on n2', () => stateOf('web') === 'online' && ownerOf('web') === 'n2' && agent('n1').clusterView.intents.size === 0).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.deepEqual(onWindows('n1'), []);
    assert.deepEqual(onWindows('n2'), [`${VIP}/24`]);
    // One holder at a time, on Windows' own word: n1's removal ran before n1 told n2, and n2 added it after.
    assert.deepEqual(journal, [`n1 add ${VIP}`, `n1 remove ${VIP}`, 'datagram to 10.231.0.2', `n2 add ${VIP}`], explain());
    const moves = (await stores[0]!.audit()).filter((e) => e.action === 'move');
    assert.equal(moves.at(-1)?.outcome, 'ok', JSON.stringify(moves));
    assert.equal(moves.at(-1)?.detail, 'n1 -> n2');
  });

  test('Windows refuses the target\'s add: the move fails and the address comes back to the owner', async () => {
    await online('web', VIP, 'n1');
    nodes.n2!.windows.refuse = (script, item) => (script === 'register' && item.ip === VIP ? { message: 'Access is denied.', errorId: 'Windows System Error 5,New-NetIPAddress' } : undefined);
    await agent('n1').requestMove('web', 'n2', 'unit-test');
    await until('the move ended', () => agent('n1').clusterView.intents.size === 0);
    const move = (await stores[0]!.audit()).filter((e) => e.action === 'move').at(-1);
    assert.equal(move?.outcome, 'failed', JSON.stringify(move) + explain());
    await until('web online on n1 again', () => stateOf('web') === 'online' && ownerOf('web') === 'n1' && onWindows('n1').length === 1).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.deepEqual(onWindows('n2'), []);
    assert.match(logs.join('\n'), /n2: warning: register of 10\.231\.0\.100\/24 on lan0 failed on the host: Access is denied\./);
  });
});

/** An ND socket on a link where nobody else speaks IPv6: it sends into the void and hears nothing (the fake LAN carries no ND). */
class SilentNdPort extends EventEmitter<NdSocketEvents> implements NdPort {
  readonly stats: PacketStats<string> = { received: 0, decoded: 0, malformed: 0, malformedByCode: {}, sent: 0, kernelReceived: null, kernelDropped: null };
  readonly sent: NdFrame[] = [];
  readonly listening = new Set<string>();
  constructor(readonly iface: InterfaceInfo) {
    super();
  }
  send(frame: NdFrame): void {
    this.sent.push(frame);
    this.stats.sent++;
  }
  listenFor(ip: string): void {
    this.listening.add(ip);
  }
  stopListeningFor(ip: string): void {
    this.listening.delete(ip);
  }
  refreshKernelStats(): PacketStats<string> {
    return this.stats;
  }
  close(): void {
    this.removeAllListeners();
  }
}

describe('the agent on a Windows host serves an IPv6 resource (fake PowerShell, one node)', () => {
  const VIP6 = '2001:db8:231::100';
  const station6 = (ifindex: number, store: 0 | 1): JsonObject => ({ ...stationEntry(ifindex, '2001:db8:231::1', store), AddressFamily: 23, PrefixLength: 64 });

  test('registered with -AddressFamily IPv6 through the real backend; online only once Windows\' DAD is done; announced over ND', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipfo-windows-agent6-unit-'));
    const lan = new FakeLan();
    const mac = '02:77:00:00:00:01';
    const fake = lan.host('n1', '10.231.0.1', mac);
    const index = fake.interfaceState('lan0')!.index;
    const windows = new FakeWindows({
      label: 'n1',
      adapters: [{ Name: 'lan0', InterfaceDescription: 'Fake Ethernet', ifIndex: index, Status: 'Up', MacAddress: mac.toUpperCase().replace(/:/g, '-'), InterfaceGuid: '{00000000-0000-4000-8000-000000000001}' }],
      active: [stationEntry(index, '10.231.0.1', 1), station6(index, 1), { ...station6(index, 1), IPAddress: `fe80::77:ff:fe00:1%${index}`, PrefixOrigin: 2, SuffixOrigin: 4}],
      persistent: [stationEntry(index, '10.231.0.1', 0), station6(index, 0)],
    });
    windows.latencyMs = 5;
    windows.dadState = () => 'Tentative';
    const ndPorts: SilentNdPort[] = [];
    const host = await openWindowsHost({
      backend: createWindowsAddressBackend({ run: windows.run, records: new MemoryRecords([]), systemRoot: 'C:\\Windows' }),
      networkInterfaces: () => ({ lan0: [{ address: '10.231.0.1', netmask: '255.255.255.0', family: 'IPv4', mac, internal: false, cidr: '10.231.0.1/24' }] }),
      openCapture: () => fake.openArp('lan0'),
      openNdCapture: (iface) => {
        const port = new SilentNdPort(iface);
        ndPorts.push(port);
        return port;
      },
      refreshMs: 60_000,
    });
    const store = await FileStore.open({ dir });
    const logs: string[] = [];
    const agent = new Agent({ node: 'n1', store, version: 'test', host, ownerSilenceMs: 250, log: (line) => logs.push(line) });
    const explain = (): string => `\nlog:\n  ${logs.slice(-30).join('\n  ')}\nscripts: ${windows.scripts().join(', ')}`;
    try {
      await agent.start();
      const validation = validateResourceSpec({ name: 'web6', ip: `${VIP6}/64`, preferredOwners: ['n1'] }, { nodes: ['n1', 'n2'], existing: [] });
      assert.ok(validation.ok, JSON.stringify(validation));
      await store.putResource(validation.spec);
      await until('the IPv6 address on Windows', () => windows.ours().includes(`${index} ${VIP6}/64`)).catch((error: Error) => {
        throw new Error(error.message + explain());
      });
      const add = windows.calls.find((c) => /"action":"add"/.test(c.env?.IPFO_REQUEST ?? ''));
      assert.match(add?.env?.IPFO_REQUEST ?? '', new RegExp(`"family":"IPv6","ifindex":${index},"ip":"${VIP6}","prefix":64`));
      await sleep(400);
      assert.notEqual(agent.clusterView.statuses.get('web6')?.state, 'online', 'tentative on Windows: not online yet' + explain());
      windows.dadDone(VIP6);
      await until('web6 online on n1', () => agent.clusterView.statuses.get('web6')?.state === 'online' && agent.clusterView.ownerOf('web6') === 'n1').catch((error: Error) => {
        throw new Error(error.message + explain());
      });
      assert.equal(ndPorts.length, 1, 'one ND socket on the interface');
      assert.deepEqual(ndPorts[0]!.iface, { name: 'lan0', index, mac, up: true });
      assert.ok(ndPorts[0]!.listening.has(VIP6), 'its solicited-node group joined');
      assert.ok(ndPorts[0]!.sent.some((f) => f.icmp.type === 'na' && f.icmp.target === VIP6), 'announced over ND' + explain());
    } finally {
      await agent.stop({ handOff: false }).catch(() => undefined);
      await host.addresses.settled();
      host.close();
      await store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
