// main/net/windows/backend.ts against a fake Windows (a CommandRunner that plays PowerShell and netsh
// from the recorded outputs), main/net/windows/npcap.ts, and main/net/address-backend.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { interfaceForSubnetIn, linuxAddressBackend, selectAddressBackend } from '../../main/net/address-backend';
import { NoSuchInterfaceError, type InterfaceAddress } from '../../main/net/registrar';
import { encodeScript, REQUEST_ENV, SCRIPTS, type ScriptName, type WindowsCommand } from '../../main/net/windows/commands';
import { createWindowsAddressBackend, defaultRecordFile, type CommandOutput, type RecordStore } from '../../main/net/windows/backend';
import { NPCAP_MISSING_MESSAGE, NPCAP_TOO_OLD_MESSAGE, npcapDeviceName, npcapLoadProblem } from '../../main/net/windows/npcap';
import { fixture, HOSTILE_ALIASES } from './windows-fixtures';

type JsonObject = Record<string, unknown>;
type Item = { action?: string; ifindex: number; ip: string; prefix: number; validSec?: number | null; preferredSec?: number | null };

const ticks = (seconds: number | null | undefined): JsonObject => ({ Ticks: seconds === null || seconds === undefined ? 2 ** 63 : seconds * 10_000_000 });
const answer = (value: unknown): CommandOutput => ({ stdout: `${Buffer.from(JSON.stringify(value), 'utf8').toString('base64')}\r\n`, stderr: '', exitCode: (value as { ok?: boolean }).ok === false ? 1 : 0 });

/** PowerShell and netsh as far as the backend can tell, state included. */
class FakeWindows {
  active = JSON.parse(fixture('get-netipaddress-many.json')) as JsonObject[];
  readonly adapters = JSON.parse(fixture('get-netadapter-many.json')) as JsonObject[];
  readonly calls: WindowsCommand[] = [];
  readonly log: string[] = [];
  deny = false;
  noPowerShell = false;

  private script(command: WindowsCommand): ScriptName {
    const name = (Object.keys(SCRIPTS) as ScriptName[]).find((n) => encodeScript(SCRIPTS[n]) === command.args.at(-1));
    assert.ok(name !== undefined, 'a known script');
    return name;
  }

  private find(item: Item): number {
    return this.active.findIndex((a) => a.InterfaceIndex === item.ifindex && a.IPAddress === item.ip && a.PrefixLength === item.prefix);
  }

  run = (command: WindowsCommand): Promise<CommandOutput> => {
    this.calls.push(command);
    if (command.file.endsWith('\\netsh.exe')) return Promise.resolve(this.netsh(command.args));
    if (this.noPowerShell) return Promise.reject(Object.assign(new Error('spawn powershell.exe ENOENT'), { code: 'ENOENT' }));
    const name = this.script(command);
    this.log.push(name);
    const request = JSON.parse(command.env?.[REQUEST_ENV] ?? 'null') as { v: number; items?: Item[] };
    assert.equal(request.v, 1);
    if (name === 'listAddresses') return Promise.resolve(answer({ ok: true, value: { active: this.active, persistent: [], adapters: this.adapters } }));
    if (name === 'listAdapters') return Promise.resolve(answer({ ok: true, value: this.adapters }));
    const results = (request.items ?? []).map((item) => {
      if (this.deny) return { ok: false, message: 'Access is denied.', errorId: 'Windows System Error 5,New-NetIPAddress' };
      const at = this.find(item);
      if (name === 'deregister') {
        if (at < 0) return { ok: false, message: 'No matching MSFT_NetIPAddress objects found', errorId: 'CmdletizationQuery_NotFound,Remove-NetIPAddress' };
        this.active.splice(at, 1);
        return { ok: true };
      }
      if (item.action === 'add') {
        if (at >= 0) return { ok: false, message: 'Instance MSFT_NetIPAddress already exists', errorId: 'Windows System Error 1,New-NetIPAddress' };
        const alias = this.adapters.find((a) => a.ifIndex === item.ifindex)?.Name;
        this.active.push({ IPAddress: item.ip, InterfaceIndex: item.ifindex, InterfaceAlias: alias, AddressFamily: 2, Type: 1, PrefixLength: item.prefix, PrefixOrigin: 1, SuffixOrigin: 1, AddressState: 4, SkipAsSource: true, ValidLifetime: ticks(item.validSec), PreferredLifetime: ticks(item.preferredSec), Store: 1 });
      } else {
        const found = this.active[at]!;
        found.ValidLifetime = ticks(item.validSec);
        found.PreferredLifetime = ticks(item.preferredSec);
      }
      return { ok: true };
    });
    return Promise.resolve(answer({ ok: true, value: results }));
  };

  private netsh(args: readonly string[]): CommandOutput {
    this.log.push(`netsh ${args.join(' ')}`);
    const text = args.join(' ');
    if (text === 'interface ipv4 show interfaces') return { stdout: fixture('netsh-show-interfaces.txt'), stderr: '', exitCode: 0 };
    if (text === 'interface ipv4 show addresses') return { stdout: fixture('netsh-show-addresses.txt'), stderr: '', exitCode: 0 };
    return { stdout: 'Ok.\r\n\r\n', stderr: '', exitCode: 0 };
  }
}

class MemoryRecords implements RecordStore {
  text = '';
  constructor(private readonly log: string[]) {}
  read(): Promise<string> {
    return Promise.resolve(this.text);
  }
  write(text: string): Promise<void> {
    this.log.push(`write ${text.replace(/\s+/g, '')}`);
    this.text = text;
    return Promise.resolve();
  }
}

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
      '{"v":1,"items":[{"action":"add","ifindex":18,"ip":"10.60.0.200","prefix":24,"validSec":3,"preferredSec":3},{"action":"add","ifindex":15,"ip":"10.30.0.200","prefix":32,"validSec":null,"preferredSec":null}]}',
    );
    // Commands carry interface indexes: no alias ever reaches PowerShell.
    const texts = windows.calls.flatMap((c) => [...c.args, ...Object.values(c.env ?? {})]);
    for (const alias of [...HOSTILE_ALIASES, '以太网', 'C:\\Temp\\"x'].filter((a) => a.length > 2)) assert.ok(texts.every((t) => !t.includes(alias)), alias);

    // A new process: ours are found again from the records and what Windows shows.
    const restarted = createWindowsAddressBackend({ run: windows.run, records, systemRoot: 'C:\\Windows' });
    assert.deepEqual(owned(await restarted.listOwned()), ['18 以太网 10.60.0.200/24', '15 C:\\Temp\\"x 10.30.0.200/32'], 'in the order Windows lists them');
    assert.deepEqual(owned(await restarted.listOwned('以太网')), ['18 以太网 10.60.0.200/24']);
    assert.equal((await restarted.listAll()).length, 13);
    await assert.rejects(restarted.listAll('nope'), NoSuchInterfaceError);
    assert.equal(await restarted.interfaceForSubnet('10.60.0.9', 24), '以太网');
    assert.equal(await restarted.interfaceForSubnet('10.30.0.200', 32), 'C:\\Temp\\"x', 'its own address, not ours, decides');
    assert.equal(await restarted.macOf(`büro "lan" 'a'`), '3c:52:82:ab:cd:ef');
    await assert.rejects(restarted.macOf('nope'), NoSuchInterfaceError);

    windows.log.length = 0;
    const renewed = await restarted.register([{ ifname: '以太网', ip: '10.60.0.200', prefix: 24, validLftSec: 3 }]);
    assert.deepEqual(renewed, [{ address: { ifname: '以太网', ip: '10.60.0.200', prefix: 24, validLftSec: 3 }, ok: true }]);
    assert.deepEqual(windows.log, ['listAddresses', 'register'], 'a renewal changes no record');
    assert.match(windows.calls.at(-1)!.env?.[REQUEST_ENV] ?? '', /"action":"renew","ifindex":18/);

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

describe('address-backend', () => {
  test('selectAddressBackend: Linux wraps the registrar, Windows loads lazily, others are refused', async () => {
    assert.equal(await selectAddressBackend('linux'), linuxAddressBackend);
    const windows = await selectAddressBackend('win32');
    assert.equal(typeof windows.register, 'function');
    assert.equal(await selectAddressBackend('win32'), windows, 'one shared Windows backend');
    await assert.rejects(selectAddressBackend('darwin'), /no address backend for platform darwin/);
  });

  test('interfaceForSubnetIn: not ours, not loopback, /32 by the host prefix, lowest name', () => {
    const a = (ifname: string | null, ip: string, prefix: number, isOwned = false): InterfaceAddress => ({ ifname, ifindex: 1, ip, prefix, proto: 0, owned: isOwned, label: '', validLftSec: null, preferredLftSec: null, flags: 0 });
    const list = [a('lo', '127.0.0.1', 8), a('eth1', '10.0.0.2', 24), a('eth0', '10.0.0.3', 24), a('eth9', '10.1.0.5', 24, true), a(null, '10.2.0.1', 16)];
    assert.equal(interfaceForSubnetIn(list, '10.0.0.50', 24), 'eth0');
    assert.equal(interfaceForSubnetIn(list, '10.0.0.50', 32), 'eth0');
    assert.equal(interfaceForSubnetIn(list, '10.1.0.9', 24), null);
    assert.equal(interfaceForSubnetIn(list, '127.0.0.9', 8), null);
    assert.equal(interfaceForSubnetIn(list, '10.2.3.4', 16), null);
  });
});
