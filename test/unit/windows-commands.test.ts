// main/net/windows/commands.ts: exact argument vectors, data only in the environment, refusals.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  deregisterCommand,
  encodeScript,
  listAdaptersCommand,
  listAddressesCommand,
  MAX_BATCH,
  netshAddAddress,
  netshDeleteAddress,
  netshShowAddresses,
  netshShowInterfaces,
  netshShowIpv6Addresses,
  powershellPath,
  registerCommand,
  REQUEST_ENV,
  SCRIPTS,
  type RegisterItem,
  type WindowsCommand,
} from '../../main/net/windows/commands';
import { windowsCommandLine } from '../../main/net/windows/quote';
import { WindowsInputError } from '../../main/net/windows/validate';
import { commandLineToArgv, HOSTILE_ALIASES } from './windows-fixtures';

const PS = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const NETSH = 'C:\\Windows\\System32\\netsh.exe';
const psArgs = (script: string): string[] => ['-NoLogo', '-NoProfile', '-NonInteractive', '-InputFormat', 'None', '-OutputFormat', 'Text', '-EncodedCommand', encodeScript(script)];

function decodedScript(command: WindowsCommand): string {
  return Buffer.from(command.args.at(-1)!, 'base64').toString('utf16le');
}

describe('PowerShell commands', () => {
  test('register: exact argv; the data is JSON in IPFO_REQUEST, preferred lifetime defaults to valid', () => {
    const items: RegisterItem[] = [
      { action: 'add', ifindex: 12, ip: '192.168.50.200', prefix: 32, validLftSec: 2 },
      { action: 'renew', ifindex: 14, ip: '10.20.0.9', prefix: 16, validLftSec: 30, preferredLftSec: 10 },
      { action: 'add', ifindex: 18, ip: '10.60.0.9', prefix: 24 },
    ];
    const command = registerCommand(items);
    assert.deepEqual(command, {
      file: PS,
      args: psArgs(SCRIPTS.register),
      env: {
        IPFO_REQUEST:
          '{"v":1,"items":[' +
          '{"action":"add","family":"IPv4","ifindex":12,"ip":"192.168.50.200","prefix":32,"validSec":2,"preferredSec":2},' +
          '{"action":"renew","family":"IPv4","ifindex":14,"ip":"10.20.0.9","prefix":16,"validSec":30,"preferredSec":10},' +
          '{"action":"add","family":"IPv4","ifindex":18,"ip":"10.60.0.9","prefix":24,"validSec":null,"preferredSec":null}]}',
      },
    });
    assert.equal(REQUEST_ENV, 'IPFO_REQUEST');
  });

  test('one batch mixes families: each item names its own -AddressFamily; IPv6 in RFC 5952 text, prefix up to 128', () => {
    const command = registerCommand([
      { action: 'add', ifindex: 12, ip: '2001:db8:10::50', prefix: 64, validLftSec: 2 },
      { action: 'add', ifindex: 12, ip: '192.168.50.200', prefix: 32 },
      { action: 'renew', ifindex: 12, ip: 'fe80::50', prefix: 128 },
    ]);
    assert.equal(
      command.env?.IPFO_REQUEST,
      '{"v":1,"items":[' +
        '{"action":"add","family":"IPv6","ifindex":12,"ip":"2001:db8:10::50","prefix":64,"validSec":2,"preferredSec":2},' +
        '{"action":"add","family":"IPv4","ifindex":12,"ip":"192.168.50.200","prefix":32,"validSec":null,"preferredSec":null},' +
        '{"action":"renew","family":"IPv6","ifindex":12,"ip":"fe80::50","prefix":128,"validSec":null,"preferredSec":null}]}',
    );
    assert.equal(deregisterCommand([{ ifindex: 12, ip: '2001:db8:10::50', prefix: 64 }]).env?.IPFO_REQUEST, '{"v":1,"items":[{"family":"IPv6","ifindex":12,"ip":"2001:db8:10::50","prefix":64}]}');
  });

  test('deregister, list addresses and list adapters: exact argv', () => {
    assert.deepEqual(deregisterCommand([{ ifindex: 12, ip: '192.168.50.200', prefix: 32 }]), {
      file: PS,
      args: psArgs(SCRIPTS.deregister),
      env: { IPFO_REQUEST: '{"v":1,"items":[{"family":"IPv4","ifindex":12,"ip":"192.168.50.200","prefix":32}]}' },
    });
    assert.deepEqual(listAddressesCommand(), { file: PS, args: psArgs(SCRIPTS.listAddresses), env: { IPFO_REQUEST: '{"v":1}' } });
    assert.deepEqual(listAdaptersCommand('D:\\WINNT'), {
      file: 'D:\\WINNT\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      args: psArgs(SCRIPTS.listAdapters),
      env: { IPFO_REQUEST: '{"v":1}' },
    });
  });

  test('the scripts are fixed ASCII constants that use the cmdlets as the issue asks', () => {
    for (const [name, script] of Object.entries(SCRIPTS)) {
      assert.match(script, /^[\x20-\x7e\n]+$/, `${name} is ASCII`);
      assert.match(script, /\$env:IPFO_REQUEST/, `${name} reads the request from the environment`);
      assert.doesNotMatch(script, /-InterfaceAlias/, `${name} never passes an alias (a wildcard pattern) to a cmdlet`);
    }
    assert.match(SCRIPTS.register, /New-NetIPAddress -Type Unicast @common/);
    assert.match(SCRIPTS.register, /SkipAsSource = \$true/);
    assert.match(SCRIPTS.register, /PolicyStore = 'ActiveStore'/);
    assert.match(SCRIPTS.register, /ValidLifetime = \[TimeSpan\]::FromSeconds/);
    assert.match(SCRIPTS.register, /PreferredLifetime = \[TimeSpan\]::FromSeconds/);
    assert.match(SCRIPTS.deregister, /Remove-NetIPAddress .*-PolicyStore ActiveStore -Confirm:\$false/);
    // Both families listed; each change names its item's family (checked by the script too).
    assert.match(SCRIPTS.listAddresses, /Get-NetIPAddress -PolicyStore ActiveStore/);
    assert.doesNotMatch(SCRIPTS.listAddresses, /-AddressFamily/);
    assert.match(SCRIPTS.register, /AddressFamily = \[string\]\$item\.family/);
    assert.match(SCRIPTS.deregister, /Remove-NetIPAddress -AddressFamily \(\[string\]\$item\.family\)/);
    for (const script of [SCRIPTS.register, SCRIPTS.deregister]) assert.match(script, /if \(\$item\.family -ne 'IPv4' -and \$item\.family -ne 'IPv6'\) \{ throw 'ipfo: unknown address family' \}/);
    assert.match(SCRIPTS.listAdapters, /Get-NetAdapter \| Select-Object Name, InterfaceDescription, ifIndex, InterfaceGuid, MacAddress, Status/);
  });

  test('the PowerShell command line needs no quoting at all: base64 and fixed switches only', () => {
    for (const command of [registerCommand([{ action: 'add', ifindex: 7, ip: '10.0.0.1', prefix: 24 }]), listAddressesCommand(), listAdaptersCommand()]) {
      for (const arg of command.args) assert.match(arg, /^[A-Za-z0-9+/=-]+$/);
      assert.equal(windowsCommandLine(command.file, command.args), [command.file, ...command.args].join(' '));
      assert.equal(decodedScript(command), Object.values(SCRIPTS).find((s) => encodeScript(s) === command.args.at(-1)));
    }
  });

  test('invalid addresses, prefixes, lifetimes and indexes are refused with the reason, nothing is built', () => {
    const base: RegisterItem = { action: 'add', ifindex: 12, ip: '10.0.0.5', prefix: 24 };
    const cases: [Partial<RegisterItem> & Record<string, unknown>, RegExp][] = [
      [{ ip: '10.0.0.256' }, /address 2: not an IPv4 dotted quad .*"10\.0\.0\.256"/],
      [{ ip: '010.0.0.1' }, /not an IPv4 dotted quad/],
      [{ ip: '10.0.0.5 ; calc' }, /not an IPv4 dotted quad/],
      [{ ip: 'fe80::1', prefix: 129 }, /prefix must be an integer 0\.\.128, got 129/],
      // IPv6: RFC 5952 text only, no zone, nothing that is not an address a host holds, nothing else smuggled in.
      [{ ip: '2001:DB8::5' }, /IPv6 address "2001:DB8::5" is not in RFC 5952 form/],
      [{ ip: '2001:db8:0:0::5' }, /is not in RFC 5952 form/],
      [{ ip: 'fe80::1%12' }, /not an IPv6 address: "fe80::1%12"/],
      [{ ip: 'fe80::1%Ethernet 2' }, /not an IPv6 address/],
      [{ ip: '2001:db8::5/64' }, /not an IPv6 address/],
      [{ ip: '2001:db8::5 ; calc' }, /not an IPv6 address/],
      [{ ip: "2001:db8::5'; Remove-NetIPAddress -Confirm:$false; '" }, /not an IPv6 address/],
      [{ ip: '2001:db8::5\r\nInterface 1: x' }, /not an IPv6 address/],
      [{ ip: '2001:db8::5\0' }, /not an IPv6 address/],
      [{ ip: '2001:db8:::5' }, /not an IPv6 address/],
      [{ ip: '::' }, /cannot be held: :: is the unspecified address/],
      [{ ip: '::1' }, /cannot be held: ::1 is the loopback address/],
      [{ ip: 'ff02::1:ff00:5' }, /cannot be held: a multicast address/],
      [{ ip: '::ffff:10.0.0.5' }, /cannot be held: an IPv4-mapped address/],
      [{ prefix: 33 }, /prefix must be an integer 0\.\.32, got 33/],
      [{ prefix: -1 }, /prefix must be an integer 0\.\.32, got -1/],
      [{ prefix: 24.5 }, /prefix must be an integer 0\.\.32, got 24\.5/],
      [{ validLftSec: 0 }, /validLftSec must be an integer 1\.\.4294967294 seconds .*got 0/],
      [{ validLftSec: 1.5 }, /validLftSec must be an integer/],
      [{ validLftSec: 2 ** 32 }, /validLftSec must be an integer/],
      [{ validLftSec: Number.NaN }, /validLftSec must be an integer/],
      [{ validLftSec: 10, preferredLftSec: 11 }, /preferredLftSec \(11\) must not exceed validLftSec \(10\)/],
      [{ preferredLftSec: -1 }, /preferredLftSec must be an integer 0\.\./],
      [{ ifindex: 0 }, /interface index must be an integer 1\.\.4294967295, got 0/],
      [{ ifindex: 1.5 }, /interface index must be an integer/],
      [{ action: 'replace' as RegisterItem['action'] }, /action must be "add" or "renew"/],
    ];
    for (const [change, message] of cases) {
      let built: WindowsCommand | undefined;
      assert.throws(
        () => {
          built = registerCommand([{ action: 'add', ifindex: 9, ip: '10.9.9.9', prefix: 24 }, { ...base, ...change }]);
        },
        (error: unknown) => error instanceof WindowsInputError && error.code === 'EINVAL' && message.test(error.message),
        JSON.stringify(change),
      );
      assert.equal(built, undefined);
    }
    assert.throws(() => deregisterCommand([{ ifindex: 12, ip: '1.2.3.4', prefix: 40 }]), /address 1: prefix must be an integer 0\.\.32, got 40/);
    assert.throws(() => registerCommand([]), /no addresses given/);
    const tooMany = Array.from({ length: MAX_BATCH + 1 }, (): RegisterItem => ({ ...base }));
    assert.throws(() => registerCommand(tooMany), /129 addresses in one command; at most 128/);
  });

  test('SystemRoot must be an absolute drive path', () => {
    assert.equal(powershellPath('C:\\Windows\\'), PS);
    for (const bad of ['Windows', '\\\\server\\share', 'C:\\Windows" & calc', 'C:\\Windows\\..\\Temp', '', 'C:/Windows']) {
      assert.throws(() => powershellPath(bad), /SystemRoot must be an absolute path like C:\\Windows/, bad);
    }
  });
});

describe('netsh commands', () => {
  test('add and delete by index: exact argv', () => {
    assert.deepEqual(netshAddAddress({ iface: { ifindex: 12 }, ip: '192.168.50.200', prefix: 24, validLftSec: 30 }), {
      file: NETSH,
      args: ['interface', 'ipv4', 'add', 'address', 'name=12', 'address=192.168.50.200', 'mask=255.255.255.0', 'type=unicast', 'validlifetime=30', 'preferredlifetime=30', 'store=active', 'skipassource=true'],
    });
    assert.deepEqual(netshAddAddress({ iface: { ifindex: 3 }, ip: '10.1.2.3', prefix: 0 }).args, ['interface', 'ipv4', 'add', 'address', 'name=3', 'address=10.1.2.3', 'mask=0.0.0.0', 'type=unicast', 'store=active', 'skipassource=true']);
    assert.deepEqual(netshDeleteAddress({ iface: { ifindex: 12 }, ip: '192.168.50.200' }), {
      file: NETSH,
      args: ['interface', 'ipv4', 'delete', 'address', 'name=12', 'address=192.168.50.200', 'store=active'],
    });
    assert.deepEqual(netshShowAddresses().args, ['interface', 'ipv4', 'show', 'addresses']);
    assert.deepEqual(netshShowInterfaces().args, ['interface', 'ipv4', 'show', 'interfaces']);
    assert.deepEqual(netshShowIpv6Addresses().args, ['interface', 'ipv6', 'show', 'addresses']);
  });

  test('IPv6: interface=, address=<ip>/<prefix>, the lifetimes, active store, skipassource', () => {
    assert.deepEqual(netshAddAddress({ iface: { ifindex: 12 }, ip: '2001:db8:10::50', prefix: 64, validLftSec: 30 }), {
      file: NETSH,
      args: ['interface', 'ipv6', 'add', 'address', 'interface=12', 'address=2001:db8:10::50/64', 'type=unicast', 'validlifetime=30', 'preferredlifetime=30', 'store=active', 'skipassource=true'],
    });
    assert.deepEqual(netshAddAddress({ iface: { alias: 'Ethernet 2' }, ip: 'fe80::50', prefix: 128 }).args, ['interface', 'ipv6', 'add', 'address', 'interface=Ethernet 2', 'address=fe80::50/128', 'type=unicast', 'store=active', 'skipassource=true']);
    assert.deepEqual(netshDeleteAddress({ iface: { ifindex: 12 }, ip: '2001:db8:10::50' }).args, ['interface', 'ipv6', 'delete', 'address', 'interface=12', 'address=2001:db8:10::50', 'store=active']);
    for (const ip of ['2001:DB8::50', 'fe80::50%12', '2001:db8::50 store=persistent', '::']) {
      assert.throws(() => netshAddAddress({ iface: { ifindex: 12 }, ip, prefix: 64 }), WindowsInputError, ip);
      assert.throws(() => netshDeleteAddress({ iface: { ifindex: 12 }, ip }), WindowsInputError, ip);
    }
  });

  test('a hostile alias is ONE argv element name=<alias> and reaches netsh unchanged', () => {
    for (const alias of HOSTILE_ALIASES) {
      if (alias.includes('\t')) continue; // refused: see below
      const command = netshAddAddress({ iface: { alias }, ip: '10.0.0.5', prefix: 24, validLftSec: 3, preferredLftSec: 1 });
      const expected = ['interface', 'ipv4', 'add', 'address', `name=${alias}`, 'address=10.0.0.5', 'mask=255.255.255.0', 'type=unicast', 'validlifetime=3', 'preferredlifetime=1', 'store=active', 'skipassource=true'];
      assert.deepEqual(command, { file: NETSH, args: expected });
      assert.deepEqual(commandLineToArgv(windowsCommandLine(command.file, command.args)), [NETSH, ...expected], alias);
      const removal = netshDeleteAddress({ iface: { alias }, ip: '10.0.0.5' });
      assert.deepEqual(commandLineToArgv(windowsCommandLine(removal.file, removal.args)), [NETSH, ...removal.args]);
      // IPv6: the same alias as ONE element interface=<alias>.
      const add6 = netshAddAddress({ iface: { alias }, ip: '2001:db8:10::50', prefix: 64 });
      assert.equal(add6.args[4], `interface=${alias}`);
      assert.deepEqual(commandLineToArgv(windowsCommandLine(add6.file, add6.args)), [NETSH, ...add6.args], alias);
      const removal6 = netshDeleteAddress({ iface: { alias }, ip: '2001:db8:10::50' });
      assert.deepEqual(commandLineToArgv(windowsCommandLine(removal6.file, removal6.args)), [NETSH, ...removal6.args]);
    }
  });

  test('aliases no Windows command can carry are refused with the reason', () => {
    const cases: [string, RegExp][] = [
      ['', /interface alias is empty/],
      ['a\0b', /contains NUL/],
      ['a\ud800', /lone UTF-16 surrogate/],
      ['tab\there', /control character U\+0009/],
      ['line\nbreak', /control character U\+000A/],
      ['x'.repeat(257), /longer than 256 characters/],
      ['12', /all digits, which netsh would read as an index/],
    ];
    for (const [alias, message] of cases) {
      assert.throws(() => netshAddAddress({ iface: { alias }, ip: '10.0.0.5', prefix: 24 }), (error: unknown) => error instanceof WindowsInputError && message.test(error.message), JSON.stringify(alias));
    }
    assert.throws(() => netshAddAddress({ iface: { ifindex: 12 }, ip: '10.0.0.5', prefix: 24, validLftSec: 5, preferredLftSec: 6 }), /must not exceed/);
    assert.throws(() => netshDeleteAddress({ iface: { ifindex: -4 }, ip: '10.0.0.5' }), /interface index must be/);
  });
});
