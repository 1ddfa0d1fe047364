// main/net/windows/backend.ts against a fake Windows (fake-windows.ts: a CommandRunner that plays
// PowerShell and netsh from the recorded outputs), main/net/windows/npcap.ts, and the address helper
// every platform shares (host/address-types.ts interfaceForSubnetIn).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEADLINE_PASSED, interfaceForSubnetIn, NoSuchInterfaceError, type InterfaceAddress } from '../../main/host/address-types';
import { REQUEST_ENV } from '../../main/net/windows/commands';
import { createWindowsAddressBackend, defaultRecordFile } from '../../main/net/windows/backend';
import { NPCAP_MISSING_MESSAGE, NPCAP_TOO_OLD_MESSAGE, npcapDeviceName, npcapLoadProblem } from '../../main/net/windows/npcap';
import { FakeWindows, MemoryRecords } from './fake-windows';
import { fixture, HOSTILE_ALIASES } from './windows-fixtures';

const owned = (list: readonly InterfaceAddress[]): string[] => list.filter((a) => a.owned).map((a) => `${a.ifindex} ${a.ifname} ${a.ip}/${a.prefix}`);

describe('windows backend over a fake Windows', () => {
  test('register, restart, renew, refuse, deregister: the records and Windows agree', async () => {
    const windows = new FakeWindows();
    const records = new MemoryRecords(windows.log);
    const backend = createWindowsAddressBackend({ run: windows.run, records, systemRoot: 'C:\\Windows' });

    const added = await backend.register([
      { ifname: '以太网', ip: '10.60.0.200', prefix: 24, validLftSec: 3 },
      { ifname: 'C:\\Temp\\"x', ip: '10.30.0.200', prefix: 32 },
      { ifname: 'Ethernet 2', ip: '192.168.50.10', prefix: 24 },
    ]);
    assert.deepEqual(added.map((r) => (r.ok ? 'ok' : r.code)), ['ok', 'ok', 'ENOTOWNED']);
    // The records are written BEFORE the add runs.
    assert.deepEqual(windows.log, [
      'listAddresses',
      'write {"version":1,"addresses":[{"ifindex":15,"ip":"10.30.0.200","prefix":32},{"ifindex":18,"ip":"10.60.0.200","prefix":24}]}',
      'register',
    ]);
    const registerCall = windows.calls[1]!;
    assert.equal(
      registerCall.env?.[REQUEST_ENV],
      '{"v":1,"items":[{"action":"add","family":"IPv4","ifindex":18,"ip":"10.60.0.200","prefix":24,"validSec":3,"preferredSec":3},{"action":"add","family":"IPv4","ifindex":15,"ip":"10.30.0.200","prefix":32,"validSec":null,"preferredSec":null}]}',
    );
    // Commands carry interface indexes: no alias ever reaches PowerShell.
    const texts = windows.calls.flatMap((c) => [...c.args, ...Object.values(c.env ?? {})]);
    for (const alias of [...HOSTILE_ALIASES, '以太网', 'C:\\Temp\\"x'].filter((a) => a.length > 2)) assert.ok(texts.every((t) => !t.includes(alias)), alias);

    // A new process: ours are found again from the records and what Windows shows.
    const restarted = createWindowsAddressBackend({ run: windows.run, records, systemRoot: 'C:\\Windows' });
    assert.deepEqual(owned(await restarted.listOwned()), ['18 以太网 10.60.0.200/24', '15 C:\\Temp\\"x 10.30.0.200/32'], 'in the order Windows lists them');
    assert.deepEqual(owned(await restarted.listOwned('以太网')), ['18 以太网 10.60.0.200/24']);
    assert.equal((await restarted.listAll()).length, 14, 'both families: the link-local IPv6 address too');
    await assert.rejects(restarted.listAll('nope'), NoSuchInterfaceError);
    assert.equal(await restarted.interfaceForSubnet('10.60.0.9', 24), '以太网');
    assert.equal(await restarted.interfaceForSubnet('10.30.0.200', 32), 'C:\\Temp\\"x', 'its own address, not ours, decides');
    assert.equal(await restarted.macOf(`büro "lan" 'a'`), '3c:52:82:ab:cd:ef');
    await assert.rejects(restarted.macOf('nope'), NoSuchInterfaceError);

    windows.log.length = 0;
    const renewed = await restarted.register([{ ifname: '以太网', ip: '10.60.0.200', prefix: 24, validLftSec: 3 }]);
    assert.deepEqual(renewed, [{ address: { ifname: '以太网', ip: '10.60.0.200', prefix: 24, validLftSec: 3 }, ok: true }]);
    assert.deepEqual(windows.log, ['listAddresses', 'register'], 'a renewal changes no record');
    assert.match(windows.calls.at(-1)!.env?.[REQUEST_ENV] ?? '', /"action":"renew","family":"IPv4","ifindex":18/);

    const removed = await restarted.deregister([
      { ifname: '以太网', ip: '10.60.0.200', prefix: 24 },
      { ifname: 'C:\\Temp\\"x', ip: '10.30.0.200', prefix: 32 },
      { ifname: 'Ethernet 2', ip: '192.168.50.10', prefix: 24 },
      { ifname: 'Ethernet 2', ip: '192.168.50.99', prefix: 24 },
    ]);
    assert.deepEqual(removed.map((r) => (r.ok ? 'ok' : r.code)), ['ok', 'ok', 'ENOTOWNED', 'ok']);
    assert.deepEqual(JSON.parse(records.text), { version: 1, addresses: [] });
    assert.deepEqual(owned(await restarted.listAll()), []);
  });

  test('a failed add reports the Windows error and leaves no record behind', async () => {
    const windows = new FakeWindows();
    windows.deny = true;
    const records = new MemoryRecords(windows.log);
    const backend = createWindowsAddressBackend({ run: windows.run, records });
    const results = await backend.register([{ ifname: 'Ethernet 2', ip: '192.168.50.201', prefix: 32 }]);
    assert.deepEqual(results, [{ address: { ifname: 'Ethernet 2', ip: '192.168.50.201', prefix: 32 }, ok: false, code: 'EPERM', message: 'Access is denied.' }]);
    assert.deepEqual(JSON.parse(records.text), { version: 1, addresses: [] });
  });

  test('without PowerShell it falls back to netsh, by interface index', async () => {
    const windows = new FakeWindows();
    windows.noPowerShell = true;
    const records = new MemoryRecords(windows.log);
    const backend = createWindowsAddressBackend({ run: windows.run, records, systemRoot: 'C:\\Windows' });
    const results = await backend.register([{ ifname: '%PATH% ^&|<> !x!', ip: '10.40.0.77', prefix: 24, validLftSec: 5 }]);
    assert.deepEqual(results.map((r) => r.ok), [true]);
    assert.deepEqual(windows.calls.at(-1), {
      file: 'C:\\Windows\\System32\\netsh.exe',
      args: ['interface', 'ipv4', 'add', 'address', 'name=16', 'address=10.40.0.77', 'mask=255.255.255.0', 'type=unicast', 'validlifetime=5', 'preferredlifetime=5', 'store=active', 'skipassource=true'],
    });
    const removed = await backend.deregister([{ ifname: 'Ethernet 2', ip: '192.168.50.10', prefix: 24 }]);
    assert.equal(removed[0]?.ok === false && removed[0].code, 'ENOTOWNED', 'no record: not ours, even via netsh');
  });

  test('apply: one listing, removals first, then additions; the listing it returns has both', async () => {
    const windows = new FakeWindows();
    const records = new MemoryRecords(windows.log);
    const backend = createWindowsAddressBackend({ run: windows.run, records, systemRoot: 'C:\\Windows' });
    await backend.register([{ ifname: 'Ethernet 2', ip: '192.168.50.77', prefix: 32 }]);
    windows.log.length = 0;
    const applied = await backend.apply({
      deregister: [{ ifname: 'Ethernet 2', ip: '192.168.50.77', prefix: 32 }, { ifname: 'Ethernet 2', ip: '192.168.50.10', prefix: 24 }],
      register: [{ address: { ifname: '以太网', ip: '10.60.0.201', prefix: 24, validLftSec: 2 } }, { address: { ifname: 'nope', ip: '10.60.0.202', prefix: 24 } }],
    });
    assert.deepEqual(windows.scripts(), ['listAddresses', 'deregister', 'register'], 'one listing for the whole batch');
    assert.deepEqual(applied.deregistered.map((r) => (r.ok ? 'ok' : r.code)), ['ok', 'ENOTOWNED']);
    assert.deepEqual(applied.registered.map((r) => (r.ok ? 'ok' : r.code)), ['ok', 'ENODEV']);
    assert.deepEqual(owned(applied.after.addresses), ['18 以太网 10.60.0.201/24']);
    assert.equal(applied.after.addresses.find((a) => a.ip === '10.60.0.201')?.validLftSec, 2);
    assert.ok(applied.after.adapters.some((a) => a.name === 'Ethernet 2' && a.guid === '{5E0C3A2B-8F11-4C7A-9B0E-2D4F6A8C1E31}'));
    assert.deepEqual(owned(await backend.listAll()), owned(applied.after.addresses), 'what Windows lists next agrees');
  });

  test('a registration carries its deadline to the script, and is not run once it passed', async () => {
    const windows = new FakeWindows();
    const backend = createWindowsAddressBackend({ run: windows.run, records: new MemoryRecords(windows.log), systemRoot: 'C:\\Windows' });
    const later = process.hrtime.bigint() + 60_000_000_000n;
    const ok = await backend.register([{ ifname: 'Ethernet 2', ip: '192.168.50.78', prefix: 32, validLftSec: 2 }], later);
    assert.deepEqual(ok.map((r) => r.ok), [true]);
    assert.match(windows.calls.at(-1)?.env?.[REQUEST_ENV] ?? '', new RegExp(`"notAfterNs":"${later}"`), 'as text: nanoseconds since boot pass 2^53');
    windows.log.length = 0;
    const passed = await backend.register([{ ifname: 'Ethernet 2', ip: '192.168.50.79', prefix: 32 }], process.hrtime.bigint() - 1n);
    assert.deepEqual(passed.map((r) => (r.ok ? 'ok' : r.code)), [DEADLINE_PASSED]);
    assert.deepEqual(windows.scripts(), ['listAddresses'], 'no register process for an item whose deadline passed');
    assert.deepEqual(windows.ours(), ['12 192.168.50.200/32', '12 192.168.50.78/32']);
  });

  test('IPv6 beside IPv4: one batch, each item its family; recorded, listed in RFC 5952 form, removed', async () => {
    const windows = new FakeWindows();
    windows.dadState = (ip) => (ip === '2001:db8:10::61' ? 'Tentative' : 'Preferred');
    const records = new MemoryRecords(windows.log);
    const backend = createWindowsAddressBackend({ run: windows.run, records, systemRoot: 'C:\\Windows' });
    const added = await backend.register([
      { ifname: 'Ethernet 2', ip: '2001:db8:10::60', prefix: 64, validLftSec: 30 },
      { ifname: 'Ethernet 2', ip: '192.168.50.60', prefix: 32 },
      { ifname: 'Ethernet 2', ip: '2001:db8:10::61', prefix: 64 },
      { ifname: 'Ethernet 2', ip: '2001:DB8:10::62', prefix: 64 },
      { ifname: 'Ethernet 2', ip: '2001:db8:10::63', prefix: 129 },
    ]);
    assert.deepEqual(added.map((r) => (r.ok ? 'ok' : r.code)), ['ok', 'ok', 'ok', 'EINVAL', 'EINVAL']);
    assert.match(added[3]!.ok ? '' : added[3]!.message, /not in RFC 5952 form/);
    const request = JSON.parse(windows.calls.at(-1)?.env?.[REQUEST_ENV] ?? '{}') as { items: { family: string; ip: string }[] };
    assert.deepEqual(request.items.map((i) => `${i.family} ${i.ip}`), ['IPv6 2001:db8:10::60', 'IPv4 192.168.50.60', 'IPv6 2001:db8:10::61']);
    assert.deepEqual(JSON.parse(records.text), {
      version: 1,
      addresses: [
        { ifindex: 12, ip: '192.168.50.60', prefix: 32 },
        { ifindex: 12, ip: '2001:db8:10::60', prefix: 64 },
        { ifindex: 12, ip: '2001:db8:10::61', prefix: 64 },
      ],
    });
    // A restart finds them again; the tentative one carries IFA_F_TENTATIVE, the link-local one is listed without its zone.
    const restarted = createWindowsAddressBackend({ run: windows.run, records, systemRoot: 'C:\\Windows' });
    const all = await restarted.listAll('Ethernet 2');
    assert.deepEqual(owned(all), ['12 Ethernet 2 2001:db8:10::60/64', '12 Ethernet 2 192.168.50.60/32', '12 Ethernet 2 2001:db8:10::61/64']);
    assert.deepEqual(all.filter((a) => a.ip.includes(':')).map((a) => [a.ip, a.flags]), [['fe80::1c2b:3d4e:5f60:7182', 0], ['2001:db8:10::60', 0], ['2001:db8:10::61', 0x40]]);
    const removed = await restarted.deregister([{ ifname: 'Ethernet 2', ip: '2001:db8:10::60', prefix: 64 }, { ifname: 'Ethernet 2', ip: 'fe80::1c2b:3d4e:5f60:7182', prefix: 64 }]);
    assert.deepEqual(removed.map((r) => (r.ok ? 'ok' : r.code)), ['ok', 'ENOTOWNED'], 'the link-local address is Windows\' own');
    assert.deepEqual(JSON.parse(windows.calls.at(-1)?.env?.[REQUEST_ENV] ?? '{}'), { v: 1, items: [{ family: 'IPv6', ifindex: 12, ip: '2001:db8:10::60', prefix: 64 }] });
    assert.deepEqual(windows.ours().filter((x) => x.includes(':')), ['12 2001:db8:10::61/64']);
  });

  test('IPv6 through netsh: interface=<index>, address=<ip>/<prefix>; the listing takes our prefix from the records', async () => {
    const windows = new FakeWindows();
    windows.noPowerShell = true;
    const records = new MemoryRecords(windows.log);
    records.text = JSON.stringify({ version: 1, addresses: [{ ifindex: 12, ip: '2001:db8:10::50', prefix: 64 }] });
    windows.netshIpv6 = fixture('netsh-show-ipv6-addresses.txt');
    const backend = createWindowsAddressBackend({ run: windows.run, records, systemRoot: 'C:\\Windows' });
    const results = await backend.register([{ ifname: 'Ethernet 2', ip: '2001:db8:10::70', prefix: 64, validLftSec: 5 }]);
    assert.deepEqual(results.map((r) => r.ok), [true]);
    assert.deepEqual(windows.calls.at(-1)?.args, ['interface', 'ipv6', 'add', 'address', 'interface=12', 'address=2001:db8:10::70/64', 'type=unicast', 'validlifetime=5', 'preferredlifetime=5', 'store=active', 'skipassource=true']);
    const all = await backend.listAll('Ethernet 2');
    const six = all.filter((a) => a.ip.includes(':'));
    assert.deepEqual(six.map((a) => `${a.ip}/${a.prefix}${a.owned ? ' ours' : ''}`), ['2001:db8:10::5/128', '2001:db8:10:0:a1b2:c3d4:e5f6:789/128', '2001:db8:10::50/64 ours', '2001:db8:10::51/128', '2001:db8:10::52/128', 'fe80::1c2b:3d4e:5f60:7182/128']);
    const removed = await backend.deregister([{ ifname: 'Ethernet 2', ip: '2001:db8:10::50', prefix: 64 }]);
    assert.deepEqual(removed.map((r) => r.ok), [true]);
    assert.deepEqual(windows.calls.at(-1)?.args, ['interface', 'ipv6', 'delete', 'address', 'interface=12', 'address=2001:db8:10::50', 'store=active']);
  });

  test('the default record file is under ProgramData', () => {
    assert.equal(defaultRecordFile({ ProgramData: 'D:\\Data' }), 'D:\\Data\\ipfo\\owned-addresses.json');
    assert.equal(defaultRecordFile({}), 'C:\\ProgramData\\ipfo\\owned-addresses.json');
  });
});

describe('npcap', () => {
  const dlopen = (message: string): Error => Object.assign(new Error(message), { code: 'ERR_DLOPEN_FAILED' });
  const capNode = '\\\\?\\C:\\Program Files\\IP Failover Console\\resources\\app\\node_modules\\cap\\build\\Release\\cap.node';

  test('wpcap.dll missing, in English and German, or named outright: one clear message', () => {
    assert.deepEqual(npcapLoadProblem(dlopen(`The specified module could not be found.\r\n${capNode}`)), { code: 'NPCAP_MISSING', message: NPCAP_MISSING_MESSAGE });
    assert.deepEqual(npcapLoadProblem(dlopen(`Das angegebene Modul wurde nicht gefunden.\r\n${capNode}`)), { code: 'NPCAP_MISSING', message: NPCAP_MISSING_MESSAGE });
    assert.deepEqual(npcapLoadProblem(new Error('wpcap.dll was not found')), { code: 'NPCAP_MISSING', message: NPCAP_MISSING_MESSAGE });
    assert.match(NPCAP_MISSING_MESSAGE, /^Npcap is not installed: install it from https:\/\/npcap\.com with 'WinPcap API-compatible mode'/);
    const other = npcapLoadProblem(dlopen(`Ein unbekannter Fehler.\r\n${capNode}`));
    assert.equal(other?.code, 'NPCAP_MISSING');
    assert.match(other?.message ?? '', /\(Windows said: Ein unbekannter Fehler\.\)$/);
  });

  test('an old WinPcap is told apart; build problems and other errors are not Npcap', () => {
    assert.deepEqual(npcapLoadProblem(dlopen(`The specified procedure could not be found.\r\n${capNode}`)), { code: 'NPCAP_TOO_OLD', message: NPCAP_TOO_OLD_MESSAGE });
    assert.equal(npcapLoadProblem(dlopen(`The module '${capNode}' was compiled against a different Node.js version using NODE_MODULE_VERSION 115.`)), null);
    assert.equal(npcapLoadProblem(dlopen(`${capNode} is not a valid Win32 application.`)), null);
    assert.equal(npcapLoadProblem(Object.assign(new Error("Cannot find module '../build/Release/cap.node'"), { code: 'MODULE_NOT_FOUND' })), null);
    assert.equal(npcapLoadProblem(new Error('EPERM')), null);
    assert.equal(npcapLoadProblem('a string'), null);
  });

  test('device names for cap', () => {
    assert.equal(npcapDeviceName('{5e0c3a2b-8f11-4c7a-9b0e-2d4f6a8c1e31}'), '\\Device\\NPF_{5E0C3A2B-8F11-4C7A-9B0E-2D4F6A8C1E31}');
    assert.throws(() => npcapDeviceName('Ethernet 2'), /not an interface GUID/);
  });
});

describe('interfaceForSubnetIn', () => {
  test('not ours, not loopback, /32 by the host prefix, lowest name', () => {
    const a = (ifname: string | null, ip: string, prefix: number, isOwned = false): InterfaceAddress => ({ ifname, ifindex: 1, ip, prefix, proto: 0, owned: isOwned, label: '', validLftSec: null, preferredLftSec: null, flags: 0 });
    const list = [a('lo', '127.0.0.1', 8), a('eth1', '10.0.0.2', 24), a('eth0', '10.0.0.3', 24), a('eth9', '10.1.0.5', 24, true), a(null, '10.2.0.1', 16)];
    assert.equal(interfaceForSubnetIn(list, '10.0.0.50', 24), 'eth0');
    assert.equal(interfaceForSubnetIn(list, '10.0.0.50', 32), 'eth0');
    assert.equal(interfaceForSubnetIn(list, '10.1.0.9', 24), null);
    assert.equal(interfaceForSubnetIn(list, '127.0.0.9', 8), null);
    assert.equal(interfaceForSubnetIn(list, '10.2.3.4', 16), null);
  });
});
