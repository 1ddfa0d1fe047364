// main/net/windows/owned.ts: which addresses are ours, planning, interface choice. Pure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatOwnedRecords,
  IFA_F_DADFAILED,
  IFA_F_DEPRECATED,
  IFA_F_TENTATIVE,
  knownInterfaces,
  markOwnership,
  parseOwnedRecords,
  planDeregister,
  planRegister,
  resolveAlias,
  stateFlags,
  windowsErrorCode,
  windowsInterfaceForSubnet,
} from '../../main/net/windows/owned';
import { parseNetAdapterJson, parseNetIPAddressJson, type WindowsAddress } from '../../main/net/windows/parse';
import { fixture } from './windows-fixtures';

const active = parseNetIPAddressJson(fixture('get-netipaddress-many.json'));
const adapters = parseNetAdapterJson(fixture('get-netadapter-many.json'));
const known = knownInterfaces(adapters, active);
const VIP = { ifindex: 12, ip: '192.168.50.200', prefix: 32 };

describe('records', () => {
  test('round trip, sorted, without duplicates; empty file = none', () => {
    const text = formatOwnedRecords([VIP, { ifindex: 3, ip: '10.0.0.1', prefix: 24 }, VIP]);
    assert.equal(text, '{\n  "version": 1,\n  "addresses": [\n    {\n      "ifindex": 12,\n      "ip": "192.168.50.200",\n      "prefix": 32\n    },\n    {\n      "ifindex": 3,\n      "ip": "10.0.0.1",\n      "prefix": 24\n    }\n  ]\n}\n');
    assert.deepEqual(parseOwnedRecords(text), [VIP, { ifindex: 3, ip: '10.0.0.1', prefix: 24 }]);
    assert.deepEqual(parseOwnedRecords(''), []);
  });

  test('IPv6 records: RFC 5952 text and a prefix up to 128; any other spelling is damage', () => {
    const six = { ifindex: 12, ip: '2001:db8:10::50', prefix: 64 };
    assert.deepEqual(parseOwnedRecords(formatOwnedRecords([six, VIP])), [VIP, six]);
    for (const bad of [{ ...six, ip: '2001:DB8:10::50' }, { ...six, ip: 'fe80::1%12' }, { ...six, prefix: 129 }, { ...six, ip: '::1' }]) {
      assert.throws(() => parseOwnedRecords(JSON.stringify({ version: 1, addresses: [bad] })), /entry 1 is not \{ifindex, ip, prefix\}/, JSON.stringify(bad));
    }
  });

  test('DAD states as the IFA_F_* flags an InterfaceAddress carries', () => {
    assert.deepEqual(['Preferred', 'Tentative', 'Duplicate', 'Deprecated', 'Invalid'].map(stateFlags), [0, IFA_F_TENTATIVE, IFA_F_DADFAILED, IFA_F_DEPRECATED, 0]);
    const six = parseNetIPAddressJson(fixture('get-netipaddress-ipv6.json'));
    const records = ['2001:db8:10::50', '2001:db8:10::51', '2001:db8:10::52'].map((ip) => ({ ifindex: 12, ip, prefix: 64 }));
    const view = markOwnership(six, [], records);
    assert.deepEqual(view.addresses.filter((a) => a.owned).map((a) => [a.ip, a.flags]), [['2001:db8:10::50', 0], ['2001:db8:10::51', IFA_F_TENTATIVE], ['2001:db8:10::52', IFA_F_DADFAILED]]);
    assert.equal(windowsInterfaceForSubnet(six, new Set(), '10.0.0.5', 24), null, 'the IPv4 question ignores IPv6 rows');
  });

  test('a damaged file is an error, not "nothing is ours"', () => {
    assert.throws(() => parseOwnedRecords('{"version":1,'), /owned-address records are not JSON/);
    assert.throws(() => parseOwnedRecords('{"version":2,"addresses":[]}'), /expected \{"version": 1/);
    assert.throws(() => parseOwnedRecords('{"version":1,"addresses":[{"ifindex":1,"ip":"10.0.0.01","prefix":8}]}'), /entry 1 is not \{ifindex, ip, prefix\}/);
  });
});

describe('ownership after a restart', () => {
  test('ours = recorded AND active-store-only, Manual, SkipAsSource', () => {
    const view = markOwnership(active, [], [VIP]);
    assert.deepEqual(view.addresses.filter((a) => a.owned).map((a) => [a.ifname, a.ip, a.prefix, a.proto, a.validLftSec]), [['Ethernet 2', '192.168.50.200', 32, 0x99, 2]]);
    assert.equal(view.addresses.length, 12, 'the IPv6 link-local address too');
    assert.deepEqual(view.records, [VIP]);
  });

  test('a recorded address that is also in the PersistentStore, or not SkipAsSource, is not ours', () => {
    const persistent = active.filter((a) => a.ip === VIP.ip).map((a): WindowsAddress => ({ ...a, store: 'PersistentStore' }));
    assert.equal(markOwnership(active, persistent, [VIP]).addresses.some((a) => a.owned), false);
    const admin = { ifindex: 12, ip: '192.168.50.10', prefix: 24 };
    assert.equal(markOwnership(active, [], [admin]).addresses.some((a) => a.owned), false, 'SkipAsSource false: an administrator address');
  });

  test('records of addresses that are gone are pruned, so they cannot claim a later one', () => {
    const gone = { ifindex: 40, ip: '10.9.9.9', prefix: 24 };
    assert.deepEqual(markOwnership(active, [], [VIP, gone]).records, [VIP]);
  });
});

describe('interfaces', () => {
  test('aliases resolve to indexes exactly, then case-insensitively, never ambiguously', () => {
    assert.equal(resolveAlias('以太网', known), 18);
    assert.equal(resolveAlias('C:\\Temp\\"x', known), 15);
    assert.equal(resolveAlias('ethernet 2', known), 12);
    assert.equal(resolveAlias('Loopback Pseudo-Interface 1', known), 1, 'from the address list: loopback has no adapter');
    assert.equal(resolveAlias('Ethernet', known), null);
    assert.equal(resolveAlias('a', [{ alias: 'A', ifindex: 1 }, { alias: 'a ', ifindex: 2 }, { alias: 'A', ifindex: 3 }]), null);
  });

  test('interfaceForSubnet: own addresses only, not ours, not loopback, not Duplicate/Tentative', () => {
    const owned = new Set(['12 192.168.50.200/32']);
    assert.equal(windowsInterfaceForSubnet(active, owned, '192.168.50.77', 24), 'Ethernet 2');
    assert.equal(windowsInterfaceForSubnet(active, owned, '192.168.50.77', 32), 'Ethernet 2', '/32 uses the host address prefix');
    assert.equal(windowsInterfaceForSubnet(active, owned, '10.60.0.200', 24), '以太网');
    assert.equal(windowsInterfaceForSubnet(active, owned, '10.50.0.200', 24), null, 'its only address is Duplicate');
    assert.equal(windowsInterfaceForSubnet(active, owned, '169.254.1.1', 16), null, 'Tentative');
    assert.equal(windowsInterfaceForSubnet(active, owned, '127.0.0.5', 8), null);
    assert.equal(windowsInterfaceForSubnet(active, new Set(), '192.168.50.200', 32), 'Ethernet 2');
    assert.equal(windowsInterfaceForSubnet(active, owned, '172.16.0.1', 12), null);
    const twice = [...active, { ...active[3]!, ifindex: 30, alias: 'A second one', ip: '10.20.0.6' }];
    assert.equal(windowsInterfaceForSubnet(twice, owned, '10.20.1.1', 16), 'A second one', 'lowest alias wins, whatever the order');
    assert.throws(() => windowsInterfaceForSubnet(active, owned, '10.0.0', 24), /not an IPv4 dotted quad/);
    assert.throws(() => windowsInterfaceForSubnet(active, owned, '10.0.0.1', 40), /prefix must be an integer 0\.\.32/);
  });
});

describe('planning', () => {
  const current = markOwnership(active, [], [VIP]).addresses;

  test('register: add the new, renew ours, refuse an administrator address, name bad input', () => {
    const plan = planRegister(
      [
        { ifname: '以太网', ip: '10.60.0.200', prefix: 24, validLftSec: 3 },
        { ifname: 'Ethernet 2', ip: '192.168.50.200', prefix: 32, validLftSec: 3, preferredLftSec: 1 },
        { ifname: 'Ethernet 2', ip: '192.168.50.10', prefix: 24 },
        { ifname: 'No Such', ip: '10.0.0.1', prefix: 24 },
        { ifname: 'Ethernet 2', ip: '10.0.0.300', prefix: 24 },
        { ifname: 'bad\nname', ip: '10.0.0.1', prefix: 24 },
      ],
      known,
      current,
    );
    assert.deepEqual(plan.items, [
      { index: 0, item: { action: 'add', ifindex: 18, ip: '10.60.0.200', prefix: 24, validLftSec: 3 } },
      { index: 1, item: { action: 'renew', ifindex: 12, ip: '192.168.50.200', prefix: 32, validLftSec: 3, preferredLftSec: 1 } },
    ]);
    assert.equal(plan.results[0], undefined);
    assert.deepEqual(plan.results.slice(2).map((r) => r && !r.ok && [r.code, r.message]), [
      ['ENOTOWNED', 'refusing to register 192.168.50.10/24 on "Ethernet 2": it exists but is not one we added (no record, or not an active-store-only SkipAsSource address), so it belongs to someone else'],
      ['ENODEV', 'no such interface: "No Such"'],
      ['EINVAL', 'not an IPv4 dotted quad (4 decimal octets 0-255, no leading zeros): "10.0.0.300"'],
      ['EINVAL', 'interface alias "bad\\nname" contains the control character U+000A'],
    ]);
  });

  test('deregister: absent is done, ours is removed, an administrator address is refused', () => {
    const plan = planDeregister(
      [
        { ifname: 'Ethernet 2', ip: '192.168.50.200', prefix: 32 },
        { ifname: 'Ethernet 2', ip: '192.168.50.201', prefix: 32 },
        { ifname: 'Ethernet 2', ip: '192.168.50.10', prefix: 24 },
      ],
      known,
      current,
    );
    assert.deepEqual(plan.items, [{ index: 0, item: { ifindex: 12, ip: '192.168.50.200', prefix: 32 } }]);
    assert.deepEqual(plan.results[1], { address: { ifname: 'Ethernet 2', ip: '192.168.50.201', prefix: 32 }, ok: true });
    assert.equal(plan.results[2]?.ok === false && plan.results[2].code, 'ENOTOWNED');
  });

  test('Windows errors map to registrar codes', () => {
    assert.equal(windowsErrorCode('Access is denied.', 'Windows System Error 5,New-NetIPAddress'), 'EPERM');
    assert.equal(windowsErrorCode('Instance MSFT_NetIPAddress already exists', 'Windows System Error 1,New-NetIPAddress'), 'EEXIST');
    assert.equal(windowsErrorCode('No matching MSFT_NetIPAddress objects found by CIM query', 'CmdletizationQuery_NotFound,Remove-NetIPAddress'), 'ENOENT');
    assert.equal(windowsErrorCode('The parameter is incorrect.', 'Windows System Error 87,New-NetIPAddress'), 'EINVAL');
    assert.equal(windowsErrorCode('Something else', ''), 'EIO');
  });
});
