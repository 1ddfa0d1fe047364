// main/net/windows/parse.ts against recorded outputs (test/unit/fixtures/windows/) and garbage.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodePowerShellAnswer,
  parseNetAdapterJson,
  parseNetIPAddressJson,
  parseNetshShowAddresses,
  parseNetshShowInterfaces,
  parseNetshShowIpv6Addresses,
  parseTimeSpan,
  WindowsParseError,
} from '../../main/net/windows/parse';
import { fixture } from './windows-fixtures';

const parseError = (message: RegExp) => (error: unknown) => error instanceof WindowsParseError && message.test(error.message);

describe('Get-NetIPAddress | ConvertTo-Json', () => {
  test('one address: a single object (not an array), full CIM dump, UTF-8 BOM, CRLF', () => {
    assert.deepEqual(parseNetIPAddressJson(fixture('get-netipaddress-one.json')), [
      {
        family: 'IPv4',
        ifindex: 12,
        alias: 'Ethernet – Büro "Süd"',
        ip: '192.168.50.10',
        prefix: 24,
        prefixOrigin: 'Manual',
        suffixOrigin: 'Manual',
        state: 'Preferred',
        type: 'Unicast',
        skipAsSource: false,
        validLftSec: null,
        preferredLftSec: null,
        store: 'ActiveStore',
      },
    ]);
  });

  test('many addresses: hostile aliases verbatim, lifetimes, states and origins; the link-local IPv6 one without its zone', () => {
    const all = parseNetIPAddressJson(fixture('get-netipaddress-many.json'));
    assert.equal(all.length, 12);
    assert.deepEqual(all.filter((a) => a.family === 'IPv6').map((a) => [a.ifindex, a.alias, `${a.ip}/${a.prefix}`]), [[12, 'Ethernet 2', 'fe80::1c2b:3d4e:5f60:7182/64']], '"fe80::...%12" as Windows prints it: the zone (the index) stripped');
    const list = all.filter((a) => a.family === 'IPv4');
    assert.deepEqual(
      list.map((a) => [a.ifindex, a.alias, `${a.ip}/${a.prefix}`]),
      [
        [1, 'Loopback Pseudo-Interface 1', '127.0.0.1/8'],
        [12, 'Ethernet 2', '192.168.50.10/24'],
        [12, 'Ethernet 2', '192.168.50.200/32'],
        [14, `Büro "LAN" 'A'`, '10.20.0.5/16'],
        [15, 'C:\\Temp\\"x', '10.30.0.5/24'],
        [16, '%PATH% ^&|<> !x!', '10.40.0.5/24'],
        [17, 'Ethernet – Büro', '10.50.0.5/24'],
        [18, '以太网', '10.60.0.5/24'],
        [19, 'trailing\\', '10.70.0.5/24'],
        [20, 'Wi‘Fi’ ‚x‛', '10.80.0.5/24'],
        [21, '[vEthernet] (Default Switch)', '169.254.12.7/16'],
      ],
    );
    const vip = list[2]!;
    assert.deepEqual([vip.skipAsSource, vip.validLftSec, vip.preferredLftSec, vip.prefixOrigin], [true, 2, 2, 'Manual']);
    const dhcp = list[3]!;
    assert.deepEqual([dhcp.prefixOrigin, dhcp.suffixOrigin, dhcp.validLftSec], ['Dhcp', 'Dhcp', 691199]);
    assert.equal(list[6]!.state, 'Duplicate');
    assert.deepEqual([list[10]!.state, list[10]!.prefixOrigin, list[10]!.suffixOrigin], ['Tentative', 'RouterAdvertisement', 'Link']);
    assert.equal(list[0]!.prefixOrigin, 'WellKnown');
  });

  test('no output (no address) is an empty list; enum names (-EnumsAsStrings) are accepted', () => {
    assert.deepEqual(parseNetIPAddressJson(''), []);
    assert.deepEqual(parseNetIPAddressJson('\uFEFF\r\n'), []);
    const named = parseNetIPAddressJson(
      JSON.stringify({ IPAddress: '10.0.0.1', InterfaceIndex: 3, InterfaceAlias: 'x', AddressFamily: 'IPv4', PrefixLength: 8, PrefixOrigin: 'Dhcp', SuffixOrigin: 'Dhcp', AddressState: 'Deprecated', SkipAsSource: false, ValidLifetime: '1.00:00:05', PreferredLifetime: 'Infinite', PolicyStore: 'PersistentStore' }),
    );
    assert.deepEqual([named[0]!.prefixOrigin, named[0]!.state, named[0]!.validLftSec, named[0]!.preferredLftSec, named[0]!.store], ['Dhcp', 'Deprecated', 86_405, null, 'PersistentStore']);
  });

  test('garbage is refused with the tool, the item and the field', () => {
    const good = JSON.parse(fixture('get-netipaddress-many.json')) as Record<string, unknown>[];
    const item = (change: Record<string, unknown>): string => JSON.stringify([good[1], { ...good[2], ...change }]);
    const cases: [string, RegExp][] = [
      ["Get-NetIPAddress : The term 'Get-NetIPAddress' is not recognized as the name of a cmdlet", /^Get-NetIPAddress: output is not JSON .*it starts with "Get-NetIPAddress : The term/],
      ['{"IPAddress": "10.0.0.1",', /output is not JSON/],
      ['42', /item 1 is number 42, expected an object/],
      ['[{"IPAddress":"10.0.0.1"}, "x"]', /item 2 is "x", expected an object/],
      [item({ IPAddress: '10.0.0.300' }), /item 2 IPAddress: not an IPv4 address: "10\.0\.0\.300"/],
      [item({ IPAddress: null }), /item 2 IPAddress: not an IPv4 address: null/],
      [item({ PrefixLength: 33 }), /item 2 PrefixLength: expected an integer 0\.\.32, got number 33/],
      [item({ PrefixLength: '24' }), /item 2 PrefixLength: expected an integer 0\.\.32, got "24"/],
      [item({ InterfaceIndex: 0 }), /item 2 InterfaceIndex: expected a positive integer/],
      [item({ InterfaceAlias: 5 }), /item 2 InterfaceAlias: expected text/],
      [item({ SkipAsSource: 'True' }), /item 2 SkipAsSource: expected true or false, got "True"/],
      [item({ PrefixOrigin: 9 }), /item 2 PrefixOrigin: unknown value number 9/],
      [item({ AddressState: 'Gone' }), /item 2 AddressState: unknown value "Gone"/],
      [item({ AddressFamily: 7 }), /item 2 AddressFamily: expected 2 \(IPv4\) or 23 \(IPv6\)/],
      [item({ ValidLifetime: 'forever' }), /item 2 ValidLifetime: expected "Infinite" or a TimeSpan like "1\.02:03:04", got "forever"/],
      [item({ ValidLifetime: { Days: 1 } }), /item 2 ValidLifetime: a TimeSpan object needs a numeric Ticks or TotalSeconds/],
      [item({ PreferredLifetime: true }), /item 2 PreferredLifetime: expected a TimeSpan object or "Infinite", got boolean true/],
      [item({ Store: 5, PolicyStore: null }), /item 2 Store: expected 0 \(persistent\) or 1 \(active\)/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseNetIPAddressJson(text), parseError(message), text.slice(0, 60));
  });
});

describe('Get-NetIPAddress: IPv6 rows (AddressFamily 23)', () => {
  test('global, temporary, ours, tentative, duplicate, link-local with its zone, loopback: RFC 5952, zone stripped, states kept', () => {
    const list = parseNetIPAddressJson(fixture('get-netipaddress-ipv6.json'));
    assert.deepEqual(
      list.map((a) => [a.family, a.ifindex, `${a.ip}/${a.prefix}`, a.prefixOrigin, a.suffixOrigin, a.state, a.skipAsSource]),
      [
        ['IPv6', 1, '::1/128', 'WellKnown', 'WellKnown', 'Preferred', false],
        ['IPv6', 12, 'fe80::1c2b:3d4e:5f60:7182/64', 'WellKnown', 'Link', 'Preferred', false],
        ['IPv6', 12, '2001:db8:10::5/64', 'Manual', 'Manual', 'Preferred', false],
        ['IPv6', 12, '2001:db8:10:0:a1b2:c3d4:e5f6:789/64', 'RouterAdvertisement', 'Random', 'Preferred', false],
        ['IPv6', 12, '2001:db8:10::50/64', 'Manual', 'Manual', 'Preferred', true],
        ['IPv6', 12, '2001:db8:10::51/64', 'Manual', 'Manual', 'Tentative', true],
        ['IPv6', 12, '2001:db8:10::52/64', 'Manual', 'Manual', 'Duplicate', true],
        ['IPv6', 14, 'fe80::5efe:a14:5/128', 'WellKnown', 'Link', 'Deprecated', false],
      ],
    );
    assert.equal(list[3]!.validLftSec, 86_385);
    assert.equal(list[3]!.preferredLftSec, 14_385);
    assert.equal(list[6]!.validLftSec, 30);
  });

  test('any spelling Windows might use becomes RFC 5952; a family given as text; a bad zone or address is refused', () => {
    const row = (change: Record<string, unknown>): string =>
      JSON.stringify({ IPAddress: '2001:db8::1', InterfaceIndex: 12, InterfaceAlias: 'Ethernet 2', AddressFamily: 23, PrefixLength: 64, PrefixOrigin: 1, SuffixOrigin: 1, AddressState: 4, SkipAsSource: true, ValidLifetime: 'Infinite', PreferredLifetime: 'Infinite', Store: 1, ...change });
    assert.equal(parseNetIPAddressJson(row({ IPAddress: '2001:DB8:0:0:0:0:0:1' }))[0]!.ip, '2001:db8::1');
    assert.equal(parseNetIPAddressJson(row({ IPAddress: 'FE80::1%7', AddressFamily: 'IPv6' }))[0]!.ip, 'fe80::1');
    assert.equal(parseNetIPAddressJson(row({ AddressFamily: undefined, IPAddress: '2001:db8::9' }))[0]!.family, 'IPv6', 'no family: the colon says IPv6');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ IPAddress: 'fe80::1%Ethernet' }, /item 1 IPAddress: not an IPv6 address: "fe80::1%Ethernet"/],
      [{ IPAddress: 'fe80::1%' }, /not an IPv6 address/],
      [{ IPAddress: '2001:db8::1%12' }, /a zone on an address that is not link-local/],
      [{ IPAddress: '2001:db8:::1' }, /not an IPv6 address/],
      [{ IPAddress: '10.0.0.1' }, /not an IPv6 address/],
      [{ IPAddress: 42 }, /not an IPv6 address: number 42/],
      [{ PrefixLength: 129 }, /PrefixLength: expected an integer 0\.\.128, got number 129/],
      [{ AddressState: 9 }, /AddressState: unknown value number 9/],
    ];
    for (const [change, message] of cases) assert.throws(() => parseNetIPAddressJson(row(change)), parseError(message), JSON.stringify(change));
  });
});

describe('netsh interface ipv6 show addresses (English)', () => {
  test('per "Interface <index>: <name>": type, DAD state, address; zones stripped, no prefix (netsh prints none)', () => {
    assert.deepEqual(
      parseNetshShowIpv6Addresses(fixture('netsh-show-ipv6-addresses.txt')).map((a) => [a.ifindex, a.alias, a.ip, a.type, a.state]),
      [
        [1, 'Loopback Pseudo-Interface 1', '::1', 'Other', 'Preferred'],
        [12, 'Ethernet 2', '2001:db8:10::5', 'Manual', 'Preferred'],
        [12, 'Ethernet 2', '2001:db8:10:0:a1b2:c3d4:e5f6:789', 'Public', 'Preferred'],
        [12, 'Ethernet 2', '2001:db8:10::50', 'Manual', 'Preferred'],
        [12, 'Ethernet 2', '2001:db8:10::51', 'Manual', 'Tentative'],
        [12, 'Ethernet 2', '2001:db8:10::52', 'Manual', 'Duplicate'],
        [12, 'Ethernet 2', 'fe80::1c2b:3d4e:5f60:7182', 'Other', 'Preferred'],
        [14, `Büro "LAN" 'A'`, 'fe80::5efe:a14:5', 'Other', 'Deprecated'],
      ],
    );
    assert.deepEqual(parseNetshShowIpv6Addresses('\r\n'), []);
  });

  test('other languages and garbage are refused, not guessed', () => {
    const table = 'Addr Type  DAD State   Valid Life Pref. Life Address\r\n---------  ----------- ---------- ---------- ------------------------\r\n';
    const cases: [string, RegExp][] = [
      ['Schnittstelle 12: Ethernet 2\r\n', /line 1: expected "Interface <index>: <name>" \(English netsh output\)/],
      [`Interface 12: Ethernet 2\r\n${table}Manual     Preferred     infinite   infinite 2001:db8::5 x\r\n`, /line 4: expected "Type State ValidLife PrefLife Address"/],
      [`Interface 12: Ethernet 2\r\n${table}Manual     Bogus     infinite   infinite 2001:db8::5\r\n`, /line 4 DAD State: unknown value "Bogus"/],
      [`Interface 12: Ethernet 2\r\n${table}Manual     Preferred     forever   infinite 2001:db8::5\r\n`, /lifetimes "forever" \/ "infinite"/],
      [`Interface 12: Ethernet 2\r\n${table}Manual     Preferred     infinite   infinite 2001:db8::5%zz\r\n`, /not an IPv6 address/],
      [`Interface 12: Ethernet 2\r\nManual     Preferred     infinite   infinite 2001:db8::5\r\n`, /line 2: expected the "Addr Type {2}DAD State \.\.\." table/],
      ['Interface 0: x\r\n', /bad index 0/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseNetshShowIpv6Addresses(text), parseError(message), text);
  });
});

describe('TimeSpan', () => {
  test('objects, MaxValue, INFINITE seconds, text forms', () => {
    assert.equal(parseTimeSpan({ Ticks: 20_000_000 }, 't'), 2);
    assert.equal(parseTimeSpan({ Ticks: 25_000_000, TotalSeconds: 2.5 }, 't'), 2);
    assert.equal(parseTimeSpan({ TotalSeconds: 30 }, 't'), 30);
    assert.equal(parseTimeSpan(JSON.parse('{"Ticks": 9223372036854775807}'), 't'), null, 'TimeSpan.MaxValue as PowerShell prints it');
    assert.equal(parseTimeSpan({ Ticks: 0xffffffff * 10_000_000 }, 't'), null);
    assert.equal(parseTimeSpan('Infinite', 't'), null);
    assert.equal(parseTimeSpan('10675199.02:48:05.4775807', 't'), null);
    assert.equal(parseTimeSpan('00:00:30', 't'), 30);
    assert.equal(parseTimeSpan('2.03:04:05.5', 't'), 2 * 86_400 + 3 * 3600 + 4 * 60 + 5);
    assert.throws(() => parseTimeSpan({ Ticks: -10_000_000 }, 'ValidLifetime'), /ValidLifetime: negative lifetime -1 s/);
    assert.throws(() => parseTimeSpan('00:61:00', 'ValidLifetime'), /is not a valid TimeSpan/);
    assert.throws(() => parseTimeSpan(undefined, 'ValidLifetime'), /got undefined/);
  });
});

describe('Get-NetAdapter | ConvertTo-Json', () => {
  test('many adapters: MAC "00-15-5D-01-02-03" becomes "00:15:5d:01:02:03", GUIDs and hostile names kept', () => {
    const adapters = parseNetAdapterJson(fixture('get-netadapter-many.json'));
    assert.equal(adapters.length, 9);
    assert.deepEqual(adapters[0], {
      name: 'Ethernet 2',
      ifindex: 12,
      description: 'Microsoft Hyper-V Network Adapter',
      guid: '{5E0C3A2B-8F11-4C7A-9B0E-2D4F6A8C1E31}',
      mac: '00:15:5d:01:02:03',
      status: 'Up',
    });
    assert.deepEqual(
      adapters.map((a) => [a.name, a.mac]),
      [
        ['Ethernet 2', '00:15:5d:01:02:03'],
        [`Büro "LAN" 'A'`, '3c:52:82:ab:cd:ef'],
        ['C:\\Temp\\"x', '00:e0:4c:68:00:01'],
        ['%PATH% ^&|<> !x!', '00:e0:4c:68:00:02'],
        ['Ethernet – Büro', 'a0:36:9f:12:34:56'],
        ['以太网', 'a0:36:9f:12:34:57'],
        ['trailing\\', '00:ff:4f:5a:6b:7c'],
        ['Wi‘Fi’ ‚x‛', 'f8:e4:e3:01:02:03'],
        ['[vEthernet] (Default Switch)', '00:15:5d:9a:00:01'],
      ],
    );
    assert.equal(adapters[6]!.status, 'Disconnected');
  });

  test('one adapter is a single object; an adapter without MAC has mac null', () => {
    assert.deepEqual(parseNetAdapterJson(fixture('get-netadapter-one.json')).map((a) => a.mac), ['00:15:5d:01:02:03']);
    assert.equal(parseNetAdapterJson('{"Name":"WAN Miniport (IP)","ifIndex":7,"MacAddress":""}')[0]!.mac, null);
  });

  test('garbage is refused', () => {
    assert.throws(() => parseNetAdapterJson('{"Name":"x","ifIndex":3,"MacAddress":"00-15-5D-01-02"}'), parseError(/item 1 MacAddress: not a MAC address: "00-15-5D-01-02"/));
    assert.throws(() => parseNetAdapterJson('{"Name":"x","ifIndex":3,"MacAddress":"00:15-5D-01-02-03"}'), parseError(/not a MAC address/));
    assert.throws(() => parseNetAdapterJson('{"Name":"","ifIndex":3}'), parseError(/item 1 Name: expected text/));
    assert.throws(() => parseNetAdapterJson('{"Name":"x","ifIndex":"3"}'), parseError(/item 1 ifIndex: expected a positive integer, got "3"/));
    assert.throws(() => parseNetAdapterJson('{"Name":"x","ifIndex":3,"InterfaceGuid":"5E0C3A2B"}'), parseError(/InterfaceGuid: expected/));
    assert.throws(() => parseNetAdapterJson('<Objs Version="1.1.0.1">'), parseError(/^Get-NetAdapter: output is not JSON/));
  });
});

describe('netsh interface ipv4 show addresses / show interfaces (English)', () => {
  test('addresses per interface, names with quotes, backslashes and non-ASCII kept', () => {
    assert.deepEqual(parseNetshShowAddresses(fixture('netsh-show-addresses.txt')), [
      { alias: 'Ethernet 2', ip: '192.168.50.10', prefix: 24 },
      { alias: 'Ethernet 2', ip: '192.168.50.200', prefix: 32 },
      { alias: `Büro "LAN" 'A'`, ip: '10.20.0.5', prefix: 16 },
      { alias: 'C:\\Temp\\"x', ip: '10.30.0.5', prefix: 24 },
      { alias: '%PATH% ^&|<> !x!', ip: '10.40.0.5', prefix: 24 },
      { alias: 'Ethernet – Büro', ip: '10.50.0.5', prefix: 24 },
      { alias: '以太网', ip: '10.60.0.5', prefix: 24 },
      { alias: 'trailing\\', ip: '10.70.0.5', prefix: 24 },
      { alias: 'Loopback Pseudo-Interface 1', ip: '127.0.0.1', prefix: 8 },
    ]);
    assert.deepEqual(parseNetshShowAddresses('\r\n\r\n'), []);
  });

  test('the interface table', () => {
    const rows = parseNetshShowInterfaces(fixture('netsh-show-interfaces.txt'));
    assert.equal(rows.length, 9);
    assert.deepEqual(rows[0], { ifindex: 1, metric: 75, mtu: 4294967295, state: 'connected', alias: 'Loopback Pseudo-Interface 1' });
    assert.deepEqual(rows.map((r) => [r.ifindex, r.alias]).slice(2, 8), [
      [14, `Büro "LAN" 'A'`],
      [15, 'C:\\Temp\\"x'],
      [16, '%PATH% ^&|<> !x!'],
      [17, 'Ethernet – Büro'],
      [18, '以太网'],
      [19, 'trailing\\'],
    ]);
  });

  test('other languages and garbage are refused, not guessed', () => {
    assert.throws(() => parseNetshShowAddresses(fixture('netsh-show-addresses-de.txt')), parseError(/line 2: expected 'Configuration for interface "<name>"' \(English netsh output\), got "Konfiguration für Schnittstelle/));
    assert.throws(() => parseNetshShowAddresses('The following command was not found: interface ipv4 show adresses.'), parseError(/line 1: expected 'Configuration for interface/));
    assert.throws(() => parseNetshShowAddresses('Configuration for interface "x"\r\n    IP Address:   10.0.0.1\r\n'), parseError(/line 2: IP Address 10\.0\.0\.1 has no Subnet Prefix line/));
    assert.throws(() => parseNetshShowAddresses('Configuration for interface "x"\r\n    IP Address:   10.0.0.999\r\n'), parseError(/IP Address is not IPv4: "10\.0\.0\.999"/));
    assert.throws(() => parseNetshShowAddresses('Configuration for interface "x"\r\n    IP Address:   10.0.0.1\r\n    Subnet Prefix:  10.0.0.0/33 (mask 255.255.255.0)\r\n'), parseError(/line 3: expected "a\.b\.c\.d\/n \(mask m\.m\.m\.m\)"/));
    assert.throws(() => parseNetshShowAddresses('Configuration for interface "x"\r\n    Subnet Prefix:  10.0.0.0/8 (mask 255.0.0.0)\r\n'), parseError(/Subnet Prefix without an IP Address/));
    assert.throws(() => parseNetshShowAddresses('Configuration for interface "x"\r\nIP Address: 10.0.0.1\r\n'), parseError(/line 2: unexpected "IP Address: 10\.0\.0\.1" outside an interface block/));
    assert.throws(() => parseNetshShowInterfaces('Idx  Met  MTU  Status  Name\r\n'), parseError(/no "Idx Met MTU State Name" header/));
    assert.throws(() => parseNetshShowInterfaces('Idx     Met         MTU          State                Name\r\n---  ---\r\n  x  1  2  up  y\r\n'), parseError(/line 3: expected "Idx Met MTU State Name", got "x {2}1 {2}2 {2}up {2}y"/));
  });
});

describe('our PowerShell answer envelope', () => {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');

  test('ok and failure answers; non-ASCII survives any console code page', () => {
    assert.deepEqual(decodePowerShellAnswer(`${encode({ ok: true, value: [{ InterfaceAlias: '以太网' }] })}\r\n`), { ok: true, value: [{ InterfaceAlias: '以太网' }] });
    assert.deepEqual(decodePowerShellAnswer(encode({ ok: true })), { ok: true, value: null });
    assert.deepEqual(decodePowerShellAnswer(encode({ ok: false, message: 'Access is denied.', errorId: 'Windows System Error 5,New-NetIPAddress' })), {
      ok: false,
      message: 'Access is denied.',
      errorId: 'Windows System Error 5,New-NetIPAddress',
    });
  });

  test('anything else is refused', () => {
    assert.throws(() => decodePowerShellAnswer(''), parseError(/no answer on stdout/));
    assert.throws(() => decodePowerShellAnswer('#< CLIXML\r\n<Objs Version="1.1.0.1"'), parseError(/not one line of base64; it starts with "#< CLIXML/));
    assert.throws(() => decodePowerShellAnswer('abc'), parseError(/not one line of base64/));
    assert.throws(() => decodePowerShellAnswer(Buffer.from('not json').toString('base64')), parseError(/PowerShell: output is not JSON/));
    assert.throws(() => decodePowerShellAnswer(encode([1, 2])), parseError(/answer is not \{ok, \.\.\.\}/));
  });
});
