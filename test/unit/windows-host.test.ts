// main/host/windows-host.ts on a fake Windows (fake-windows.ts: PowerShell's scripts played against
// state, through the real backend, builders and parsers): the desired-state facade over the backend
// (coalescing, listings with the accepted changes, settled(), late failures, deadlines, hostile
// aliases), the interfaces and ARP sockets, and LocalAddresses holding an address on it.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, type NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { keepPredecessorAddresses, LeaseDeadlineFile } from '../../main/agent/lease-deadline';
import { LocalAddresses } from '../../main/agent/local-addresses';
import type { ArpFrame } from '../../main/arp/frame';
import { DEADLINE_PASSED, type VirtualAddress } from '../../main/host/address-types';
import { ADDRESS_GONE, type ArpPort, type LateAddressFailure, type NdPort } from '../../main/host/host';
import { DUPLICATE_ADDRESS, openWindowsHost, TENTATIVE_POLL_MS, windowsStateDir, type WindowsHost, type WindowsHostOptions } from '../../main/host/windows-host';
import type { NdFrame } from '../../main/nd/frame';
import type { NdSocketEvents } from '../../main/net/nd-socket';
import type { InterfaceInfo } from '../../main/net/interfaces';
import { PacketIoError, type ArpSocketEvents, type PacketStats } from '../../main/net/pcap';
import { REQUEST_ENV } from '../../main/net/windows/commands';
import { createWindowsAddressBackend } from '../../main/net/windows/backend';
import { FakeWindows, MemoryRecords, ticks, type JsonObject } from './fake-windows';
import { fixture, HOSTILE_ALIASES } from './windows-fixtures';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** One turn of the event loop: the facade sends what was decided in a turn on the next one. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** An ND socket that keeps what was sent and the groups it listens for (no wire). */
class RecordingNdPort extends EventEmitter<NdSocketEvents> implements NdPort {
  readonly stats: PacketStats<string> = { received: 0, decoded: 0, malformed: 0, malformedByCode: {}, sent: 0, kernelReceived: null, kernelDropped: null };
  readonly sent: NdFrame[] = [];
  readonly listening = new Set<string>();
  isClosed = false;
  constructor(readonly iface: InterfaceInfo, readonly device: string) {
    super();
  }
  send(frame: NdFrame): void {
    this.sent.push(frame);
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
    this.isClosed = true;
  }
}

/** An ARP socket that keeps what was sent (no wire). */
class RecordingPort extends EventEmitter<ArpSocketEvents> implements ArpPort {
  readonly stats: PacketStats = { received: 0, decoded: 0, malformed: 0, malformedByCode: {}, sent: 0, kernelReceived: null, kernelDropped: null };
  readonly sent: ArpFrame[] = [];
  isClosed = false;
  constructor(readonly iface: InterfaceInfo, readonly device: string) {
    super();
  }
  send(frame: ArpFrame): void {
    this.sent.push(frame);
  }
  refreshKernelStats(): PacketStats {
    return this.stats;
  }
  close(): void {
    this.isClosed = true;
  }
}

const up = (mac: string, address: string): NetworkInterfaceInfo[] => [{ address, netmask: '255.255.255.0', family: 'IPv4', mac, internal: false, cidr: `${address}/24` }];

async function windowsHost(windows: FakeWindows, options: WindowsHostOptions = {}, records = new MemoryRecords(windows.log)): Promise<{ host: WindowsHost; failures: LateAddressFailure[]; ports: RecordingPort[]; ndPorts: RecordingNdPort[]; logs: string[] }> {
  const ports: RecordingPort[] = [];
  const ndPorts: RecordingNdPort[] = [];
  const logs: string[] = [];
  const backend = createWindowsAddressBackend({ run: windows.run, records, systemRoot: 'C:\\Windows' });
  const host = await openWindowsHost({
    backend,
    refreshMs: 60_000,
    networkInterfaces: () => ({ 'Ethernet 2': up('00:15:5d:01:02:03', '192.168.50.10'), 'Wi‘Fi’ ‚x‛': up('00:15:5d:0a:0b:0c', '10.80.0.5') }),
    openCapture: (iface, device) => {
      const port = new RecordingPort(iface, device);
      ports.push(port);
      return port;
    },
    openNdCapture: (iface, device) => {
      const port = new RecordingNdPort(iface, device);
      ndPorts.push(port);
      return port;
    },
    log: (line) => logs.push(line),
    ...options,
  });
  const failures: LateAddressFailure[] = [];
  host.addresses.onLateFailure((failure) => failures.push(failure));
  return { host, failures, ports, ndPorts, logs };
}

const owned = (host: WindowsHost): string[] => host.addresses.listOwned().map((a) => `${a.ifindex} ${a.ip}/${a.prefix}`).sort();
const vip = (ip: string, validLftSec?: number): VirtualAddress => ({ ifname: 'Ethernet 2', ip, prefix: 32, ...(validLftSec === undefined ? {} : { validLftSec, preferredLftSec: validLftSec }) });
const requestOf = (windows: FakeWindows, at: number): unknown => JSON.parse(windows.calls.filter((c) => /"items"/.test(c.env?.[REQUEST_ENV] ?? ''))[at]?.env?.[REQUEST_ENV] ?? 'null');

describe('the Windows host: addresses as a desired state', () => {
  test('answers at once, lists what it accepted, and settles only once Windows has it', async () => {
    const windows = new FakeWindows();
    const { host, failures } = await windowsHost(windows);
    assert.equal(host.addresses.settled(), null, 'nothing accepted yet: settled');
    const release = windows.hold();
    const results = host.addresses.register([vip('192.168.50.201', 2)]);
    assert.deepEqual(results.map((r) => r.ok), [true]);
    assert.deepEqual(owned(host), ['12 192.168.50.201/32'], 'the listing shows the accepted change at once');
    assert.equal(host.addresses.listOwned('ethernet 2').length, 1, 'aliases compare without case, as on Windows');
    let settled = false;
    const settling = host.addresses.settled();
    assert.ok(settling !== null);
    void settling.then(() => (settled = true));
    await turn();
    await sleep(20);
    assert.equal(settled, false, 'the batch is held in PowerShell');
    assert.deepEqual(windows.ours(), ['12 192.168.50.200/32'], 'Windows does not have it yet');
    release();
    await settling;
    assert.deepEqual(windows.ours(), ['12 192.168.50.200/32', '12 192.168.50.201/32']);
    assert.equal(host.addresses.settled(), null);
    assert.deepEqual(failures, []);

    host.addresses.deregister([vip('192.168.50.201')]);
    assert.deepEqual(owned(host), [], 'a removal shows at once too');
    await host.addresses.settled();
    assert.deepEqual(windows.ours(), ['12 192.168.50.200/32']);
    host.close();
  });

  test('one batch at a time: changes made meanwhile coalesce into the next, a newer renewal replaces the older', async () => {
    const windows = new FakeWindows();
    const { host } = await windowsHost(windows);
    const release = windows.hold();
    host.addresses.register([vip('192.168.50.201', 2)]);
    await turn(); // batch 1 is on its way (held)
    host.addresses.register([vip('192.168.50.202', 2)]);
    host.addresses.register([vip('192.168.50.201', 1)]);
    await turn();
    host.addresses.register([vip('192.168.50.203', 2), vip('192.168.50.201', 2)]);
    host.addresses.deregister([vip('192.168.50.202')]);
    const all = host.addresses.settled();
    release();
    await all;
    assert.deepEqual(windows.scripts(), ['listAddresses', 'listAddresses', 'register', 'listAddresses', 'register'], 'the first listing (open), then two batches');
    assert.deepEqual(requestOf(windows, 0), { v: 1, items: [{ action: 'add', family: 'IPv4', ifindex: 12, ip: '192.168.50.201', prefix: 32, validSec: 2, preferredSec: 2 }] });
    assert.deepEqual(requestOf(windows, 1), {
      v: 1,
      items: [
        { action: 'renew', family: 'IPv4', ifindex: 12, ip: '192.168.50.201', prefix: 32, validSec: 2, preferredSec: 2 },
        { action: 'add', family: 'IPv4', ifindex: 12, ip: '192.168.50.203', prefix: 32, validSec: 2, preferredSec: 2 },
      ],
    }, '.202 was added and removed before it was sent: its removal finds nothing to remove');
    assert.deepEqual(windows.ours(), ['12 192.168.50.200/32', '12 192.168.50.201/32', '12 192.168.50.203/32']);
    assert.deepEqual(owned(host), ['12 192.168.50.201/32', '12 192.168.50.203/32']);
    host.close();
  });

  test('a change PowerShell refuses later is reported, and the listing no longer shows it', async () => {
    const windows = new FakeWindows();
    const { host, failures } = await windowsHost(windows);
    windows.refuse = (script, item) => (script === 'register' && item.ip === '192.168.50.66' ? { message: 'Access is denied.', errorId: 'Windows System Error 5,New-NetIPAddress' } : undefined);
    const results = host.addresses.register([vip('192.168.50.66', 2), vip('192.168.50.67', 2)]);
    assert.deepEqual(results.map((r) => r.ok), [true, true], 'accepted: PowerShell has not run yet');
    await host.addresses.settled();
    assert.deepEqual(failures.map((f) => [f.action, f.address.ip, f.code, f.message]), [['register', '192.168.50.66', 'EPERM', 'Access is denied.']]);
    assert.deepEqual(owned(host), ['12 192.168.50.67/32']);
    host.close();
  });

  test('a batch PowerShell cannot run at all fails every change in it: reported, and not listed', async () => {
    const windows = new FakeWindows();
    const { host, failures, logs } = await windowsHost(windows);
    host.addresses.register([vip('192.168.50.69', 2)]);
    await host.addresses.settled();
    windows.failListing = true;
    host.addresses.deregister([vip('192.168.50.69')]);
    host.addresses.register([vip('192.168.50.68', 2)]);
    assert.deepEqual(owned(host), ['12 192.168.50.68/32']);
    await host.addresses.settled();
    assert.deepEqual(failures.map((f) => [f.action, f.address.ip, f.code]), [['deregister', '192.168.50.69', 'EIO'], ['register', '192.168.50.68', 'EIO']]);
    assert.match(failures[0]?.message ?? '', /Cannot connect to CIM server/);
    assert.deepEqual(owned(host), ['12 192.168.50.69/32'], 'as Windows last showed it: the add did not happen, the removal neither');
    await host.addresses.refresh();
    assert.equal(logs.filter((line) => /listing the addresses failed/.test(line)).length, 1, 'a failed listing is logged once');
    host.close();
  });

  test('deadlines: a passed one is refused at once as on Linux; one that passes while queued is never run', async () => {
    const windows = new FakeWindows();
    let now = process.hrtime.bigint();
    const { host, failures } = await windowsHost(windows, { nowNs: () => now });
    const refused = host.addresses.register([vip('192.168.50.70', 2)], now - 1n);
    assert.deepEqual(refused.map((r) => (r.ok ? 'ok' : r.code)), [DEADLINE_PASSED]);
    assert.equal(host.addresses.settled(), null, 'nothing was queued');
    assert.deepEqual(owned(host), []);

    const release = windows.hold();
    host.addresses.register([vip('192.168.50.71', 2)]);
    await turn(); // held in its listing
    const deadline = process.hrtime.bigint() + 30_000_000n; // 30 ms
    now = process.hrtime.bigint();
    assert.deepEqual(host.addresses.register([vip('192.168.50.72', 2)], deadline).map((r) => r.ok), [true]);
    await sleep(60); // the deadline passes while it waits behind the first batch
    release();
    await host.addresses.settled();
    assert.deepEqual(failures.map((f) => [f.address.ip, f.code]), [['192.168.50.72', DEADLINE_PASSED]]);
    assert.deepEqual(windows.ours(), ['12 192.168.50.200/32', '12 192.168.50.71/32'], 'the late one never reached Windows');
    assert.equal(requestOf(windows, 1), null, 'no second register process: nothing in it was due');
    host.close();
  });

  test('an address Windows dropped by itself (lifetime, an administrator) is reported as gone at the next listing', async () => {
    const windows = new FakeWindows();
    const { host, failures } = await windowsHost(windows);
    host.addresses.register([vip('192.168.50.80', 2)]);
    await host.addresses.settled();
    windows.active = windows.active.filter((a) => a.IPAddress !== '192.168.50.80');
    await host.addresses.refresh();
    assert.deepEqual(failures.map((f) => [f.action, f.address.ip, f.code]), [['register', '192.168.50.80', ADDRESS_GONE]]);
    assert.deepEqual(owned(host), []);
    await host.addresses.refresh();
    assert.equal(failures.length, 1, 'said once');
    host.close();
  });

  test('hostile aliases: found by the listing, sent by index only; an unknown one is refused without running anything', async () => {
    const windows = new FakeWindows();
    const { host } = await windowsHost(windows);
    const calls = windows.calls.length;
    const unknown = host.addresses.register([{ ifname: '$(Remove-Item C:\\*) `whoami` ; & calc', ip: '10.80.0.90', prefix: 24 }]);
    assert.deepEqual(unknown.map((r) => (r.ok ? 'ok' : r.code)), ['ENODEV']);
    assert.deepEqual(host.addresses.register([{ ifname: 'Wi‘Fi’ ‚x‛', ip: '10.80.0.90', prefix: 24 }, { ifname: 'büro "lan" \'a\'', ip: '10.20.0.90', prefix: 16 }, { ifname: 'C:\\Temp\\"x', ip: '10.30.0.5', prefix: 24 }]).map((r) => (r.ok ? 'ok' : r.code)), ['ok', 'ok', 'ENOTOWNED']);
    await host.addresses.settled();
    assert.deepEqual(windows.ours().filter((a) => !a.startsWith('12 ')), ['14 10.20.0.90/16', '20 10.80.0.90/24']);
    const texts = windows.calls.slice(calls).flatMap((c) => [...c.args, ...Object.values(c.env ?? {})]);
    for (const alias of HOSTILE_ALIASES.filter((a) => a.length > 2)) assert.ok(texts.every((t) => !t.includes(alias)), alias);
    assert.deepEqual(host.addresses.listOwned('Wi‘Fi’ ‚x‛').map((a) => a.ip), ['10.80.0.90']);
    assert.throws(() => host.addresses.listAll('nope'), /no such interface: nope/);
    host.close();
  });

  test('interfaces: up from libuv, index and GUID from Get-NetAdapter; ARP on Npcap\'s device; no frame tap', async () => {
    const windows = new FakeWindows();
    const { host, ports } = await windowsHost(windows);
    assert.deepEqual(host.interfaceState('Ethernet 2'), { index: 12, mac: '00:15:5d:01:02:03', adminUp: true, carrier: true });
    assert.deepEqual(host.interfaceState('ETHERNET 2'), { index: 12, mac: '00:15:5d:01:02:03', adminUp: true, carrier: true });
    // Listed by Get-NetAdapter, not by libuv: not up.
    assert.equal(host.interfaceState(`Büro "LAN" 'A'`)?.carrier, false);
    assert.equal(host.interfaceState('nope'), null);
    assert.equal(host.macs()['Ethernet 2'], '00:15:5d:01:02:03');
    assert.equal(host.macs()[`Büro "LAN" 'A'`], '3c:52:82:ab:cd:ef');
    const port = host.openArp('Ethernet 2');
    assert.equal(ports[0]?.device, '\\Device\\NPF_{5E0C3A2B-8F11-4C7A-9B0E-2D4F6A8C1E31}');
    assert.deepEqual(port.iface, { name: 'Ethernet 2', index: 12, mac: '00:15:5d:01:02:03', up: true });
    assert.throws(() => host.openArp('nope'), /no such interface "nope"/);
    assert.equal(host.openProbeAnswers(), null);
    assert.throws(() => host.openFrameTap('Ethernet 2'), /not available on Windows/);
    const endpoint = await host.openDatagram(() => undefined, () => undefined);
    assert.ok(endpoint.port > 0);
    endpoint.close();
    assert.equal(windowsStateDir('/run/ipfo', '/run/ipfo', { ProgramData: 'D:\\Data' }), 'D:\\Data\\ipfo\\run');
    assert.equal(windowsStateDir('E:\\ipfo', '/run/ipfo', {}), 'E:\\ipfo');
    host.close();
  });
});

describe('the Windows host: IPv6 addresses', () => {
  const vip6 = (ip: string): VirtualAddress => ({ ifname: 'Ethernet 2', ip, prefix: 64, validLftSec: 30, preferredLftSec: 30 });

  test("listAll shows IPv6 only when asked for 'both' (as on Linux); listOwned shows both families", async () => {
    const windows = new FakeWindows({ active: [...(JSON.parse(fixture('get-netipaddress-many.json')) as JsonObject[]), ...(JSON.parse(fixture('get-netipaddress-ipv6.json').replace(/^\uFEFF/, '')) as JsonObject[])] });
    const { host } = await windowsHost(windows);
    host.addresses.register([vip6('2001:db8:10::90'), vip('192.168.50.90')]);
    await host.addresses.settled();
    assert.ok(host.addresses.listAll('Ethernet 2').every((a) => !a.ip.includes(':')), 'IPv4 only by default');
    assert.deepEqual(
      host.addresses.listAll('Ethernet 2', 'both').filter((a) => a.ip.includes(':')).map((a) => `${a.ip}/${a.prefix}${a.owned ? ' ours' : ''}`),
      ['fe80::1c2b:3d4e:5f60:7182/64', '2001:db8:10::5/64', '2001:db8:10:0:a1b2:c3d4:e5f6:789/64', '2001:db8:10::50/64', '2001:db8:10::51/64', '2001:db8:10::52/64', '2001:db8:10::90/64 ours'],
      'RFC 5952 text, the link-local one without its zone; the fixture\'s SkipAsSource rows are not recorded: not ours',
    );
    assert.deepEqual(owned(host), ['12 192.168.50.90/32', '12 2001:db8:10::90/64']);
    assert.deepEqual(host.addresses.register([{ ...vip6('2001:db8:10::5') }]).map((r) => (r.ok ? 'ok' : r.code)), ['ENOTOWNED'], "an administrator's IPv6 address is not ours");
    const calls = windows.calls.length;
    const hostile = ['2001:DB8:10::91', 'fe80::91%12', "2001:db8:10::91'; Remove-NetIPAddress -Confirm:$false; '", '2001:db8:10::91\r\nInterface 1: x', '2001:db8:10::91/64', '::', 'ff02::1', '::ffff:192.168.50.91'];
    const refused = host.addresses.register(hostile.map(vip6));
    assert.deepEqual(refused.map((r) => (r.ok ? 'ok' : r.code)), hostile.map(() => 'EINVAL'));
    assert.deepEqual(host.addresses.register([{ ...vip6('2001:db8:10::91'), prefix: 129 }]).map((r) => (r.ok ? 'ok' : r.code)), ['EINVAL']);
    await turn();
    assert.equal(windows.calls.length, calls, 'nothing ran for them');
    assert.equal(host.addresses.removeOwnedAnywhere([{ ip: '2001:db8:10::90', prefix: 64 }]), 1);
    await host.addresses.settled();
    assert.ok(!windows.ours().includes('12 2001:db8:10::90/64'));
    host.close();
  });

  test('a tentative address (Windows runs DAD) is not settled until a listing shows it preferred', async () => {
    const windows = new FakeWindows();
    windows.dadState = () => 'Tentative';
    const { host, failures } = await windowsHost(windows);
    host.addresses.register([vip6('2001:db8:10::92')]);
    let settled = false;
    const settling = host.addresses.settled();
    assert.ok(settling !== null);
    void settling.then(() => (settled = true));
    for (let i = 0; i < 40 && !windows.ours().includes('12 2001:db8:10::92/64'); i++) await sleep(5);
    await sleep(TENTATIVE_POLL_MS + 100);
    assert.equal(settled, false, 'on Windows, but tentative: not carried yet');
    assert.notEqual(host.addresses.settled(), null);
    windows.dadDone('2001:db8:10::92');
    await settling;
    assert.equal(host.addresses.settled(), null);
    assert.deepEqual(failures, []);
    host.close();
  });

  test('an address DAD finds duplicate is a late failure and is removed again; one tentative too long stops holding up settled()', async () => {
    const windows = new FakeWindows();
    windows.dadState = (ip) => (ip === '2001:db8:10::93' ? 'Duplicate' : 'Tentative');
    const { host, failures, logs } = await windowsHost(windows, { tentativeMaxMs: 400 });
    host.addresses.register([vip6('2001:db8:10::93')]);
    await host.addresses.settled();
    assert.deepEqual(failures.map((f) => [f.action, f.address.ip, f.code]), [['register', '2001:db8:10::93', DUPLICATE_ADDRESS]]);
    assert.match(failures[0]!.message, /duplicate address detection found 2001:db8:10::93 held by another node/);
    assert.deepEqual(owned(host), [], 'not listed as ours: the host never carried it');
    await host.addresses.settled();
    assert.ok(!windows.ours().includes('12 2001:db8:10::93/64'), 'removed from Windows');

    host.addresses.register([vip6('2001:db8:10::94')]);
    const started = performance.now();
    await host.addresses.settled();
    assert.ok(performance.now() - started >= 350, 'waited for DAD about as long as allowed');
    assert.match(logs.join('\n'), /2001:db8:10::94 on Ethernet 2 is still tentative after 400 ms/);
    assert.deepEqual(owned(host), ['12 2001:db8:10::94/64']);
    host.close();
  });

  test("ND on Npcap's device like ARP; an unknown interface is refused", async () => {
    const windows = new FakeWindows();
    const { host, ndPorts } = await windowsHost(windows);
    const nd = host.openNd('Ethernet 2');
    assert.equal(ndPorts[0]?.device, '\\Device\\NPF_{5E0C3A2B-8F11-4C7A-9B0E-2D4F6A8C1E31}');
    assert.deepEqual(nd.iface, { name: 'Ethernet 2', index: 12, mac: '00:15:5d:01:02:03', up: true });
    assert.throws(() => host.openNd('nope'), (error: unknown) => error instanceof PacketIoError && error.code === 'NO_SUCH_INTERFACE');
    host.close();
  });
});

describe('LocalAddresses on the Windows host', () => {
  const request = (ip: string) => ({ resource: `r-${ip}`, ip, prefix: 32, ifname: 'Ethernet 2', acd: { skipProbe: true, announceCount: 1 } });

  test('a hold is ready only once Windows carries the address', async () => {
    const windows = new FakeWindows();
    windows.latencyMs = 20;
    const { host } = await windowsHost(windows);
    const local = new LocalAddresses({ host, lifetimeSec: null });
    const outcome = await local.hold(request('192.168.50.90'));
    assert.equal(outcome.kind, 'ready');
    assert.ok(windows.ours().includes('12 192.168.50.90/32'), 'on Windows when the hold says ready');
    assert.equal(local.isReady('r-192.168.50.90'), true);
    local.releaseMany(['r-192.168.50.90']);
    assert.notEqual(local.settled(), null);
    await local.settled();
    assert.ok(!windows.ours().includes('12 192.168.50.90/32'));
    local.close();
    host.close();
  });

  test('an IPv6 hold: ND on its own socket, the solicited-node group joined, ready only once Windows\' DAD is done; a duplicate fails it', async () => {
    const windows = new FakeWindows();
    windows.latencyMs = 5;
    windows.dadState = () => 'Tentative';
    const { host, ndPorts } = await windowsHost(windows);
    const local = new LocalAddresses({ host, lifetimeSec: null });
    const request6 = (ip: string) => ({ resource: `r-${ip}`, ip, prefix: 64, ifname: 'Ethernet 2', acd: { skipProbe: true, announceCount: 1 } });
    let ready = false;
    const holding = local.hold(request6('2001:db8:10::95')).then((outcome) => {
      ready = true;
      return outcome;
    });
    assert.deepEqual([...ndPorts[0]!.listening], ['2001:db8:10::95']);
    for (let i = 0; i < 40 && !windows.ours().includes('12 2001:db8:10::95/64'); i++) await sleep(5);
    await sleep(50);
    assert.equal(ready, false, 'Windows lists it tentative: not ready');
    windows.dadDone('2001:db8:10::95');
    assert.equal((await holding).kind, 'ready');
    assert.ok(ndPorts[0]!.sent.some((f) => f.icmp.type === 'na' && f.icmp.target === '2001:db8:10::95'), 'announced over ND');

    windows.dadState = () => 'Duplicate';
    const outcome = await local.hold(request6('2001:db8:10::96'));
    assert.equal(outcome.kind, 'failed');
    assert.match(outcome.kind === 'failed' ? outcome.reason : '', /duplicate address detection found 2001:db8:10::96/);
    await host.addresses.settled();
    assert.ok(!windows.ours().includes('12 2001:db8:10::96/64'));
    local.close();
    host.close();
  });

  test('a registration Windows refuses fails the hold; a held address Windows lost ends its claim', async () => {
    const windows = new FakeWindows();
    windows.latencyMs = 20;
    windows.refuse = (script, item) => (script === 'register' && item.ip === '192.168.50.91' ? { message: 'Access is denied.', errorId: 'Windows System Error 5,New-NetIPAddress' } : undefined);
    const { host } = await windowsHost(windows);
    const local = new LocalAddresses({ host, lifetimeSec: null });
    const warnings: string[] = [];
    local.on('warning', (text) => warnings.push(text));
    assert.deepEqual(await local.hold(request('192.168.50.91')), { kind: 'failed', reason: 'Access is denied.' });
    assert.equal(local.has('r-192.168.50.91'), false);
    assert.match(warnings.join('\n'), /register of 192\.168\.50\.91\/32 on Ethernet 2 failed on the host: Access is denied\./);

    assert.equal((await local.hold(request('192.168.50.92'))).kind, 'ready');
    const downs: string[] = [];
    local.on('event', (resource, event) => {
      if (event.type === 'down') downs.push(`${resource} ${event.reason}`);
    });
    windows.active = windows.active.filter((a) => a.IPAddress !== '192.168.50.92');
    await host.addresses.refresh();
    assert.deepEqual(downs, ['r-192.168.50.92 link-down']);
    assert.equal(local.has('r-192.168.50.92'), false);
    local.close();
    host.close();
  });
});

describe('an agent restarted at once on Windows', () => {
  /** A fake Windows with addresses a predecessor left (recorded as ours), each with `lifetimeSec` left. */
  function predecessor(lifetimeSec: number): { windows: FakeWindows; records: MemoryRecords } {
    const windows = new FakeWindows();
    for (const ip of ['192.168.50.95', '192.168.50.96']) {
      windows.active.push({ IPAddress: ip, InterfaceIndex: 12, InterfaceAlias: 'Ethernet 2', AddressFamily: 2, Type: 1, PrefixLength: 32, PrefixOrigin: 1, SuffixOrigin: 1, AddressState: 4, SkipAsSource: true, ValidLifetime: ticks(lifetimeSec), PreferredLifetime: ticks(lifetimeSec), Store: 1 });
    }
    const records = new MemoryRecords(windows.log);
    records.text = JSON.stringify({ version: 1, addresses: [{ ifindex: 12, ip: '192.168.50.95', prefix: 32 }, { ifindex: 12, ip: '192.168.50.96', prefix: 32 }] });
    return { windows, records };
  }

  test("renews its predecessor's addresses with the running agent's deadline, or not at all when it came too late", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipfo-windows-lease-'));
    try {
      new LeaseDeadlineFile(dir, 'n1').write(performance.now() + 3000);
      const alive = predecessor(1);
      const { host } = await windowsHost(alive.windows, {}, alive.records);
      const line = keepPredecessorAddresses(host.addresses, dir, 'n1', 3, { deadline: true });
      assert.match(line ?? '', /^kept 2 addresses of the previous agent, 2 renewed for 2 s/);
      await host.addresses.settled();
      const renewal = requestOf(alive.windows, 0) as { items: Array<{ action: string; validSec: number; notAfterNs?: string }> };
      assert.deepEqual(renewal.items.map((i) => [i.action, i.validSec]), [['renew', 2], ['renew', 2]]);
      // It must land before the renewed lifetime could outlive the lease (3 s - 0.4 s slack - 2 s from now).
      const notAfter = BigInt(renewal.items[0]!.notAfterNs ?? '0');
      const ahead = Number(notAfter - process.hrtime.bigint()) / 1e6;
      assert.ok(ahead > 0 && ahead < 600, `${ahead} ms`);
      host.close();

      // Addresses about to expire (0 s left): a renewal may not bring them back.
      new LeaseDeadlineFile(dir, 'n1').write(performance.now() + 3000);
      const expiring = predecessor(0);
      const late = await windowsHost(expiring.windows, {}, expiring.records);
      assert.match(keepPredecessorAddresses(late.host.addresses, dir, 'n1', 3, { deadline: true }) ?? '', /2 addresses of the previous agent found, 2 not renewed: too late for its lease/);
      assert.equal(late.host.addresses.settled(), null, 'nothing was queued');
      late.host.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
