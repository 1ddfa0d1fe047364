// IPv6 resources in the cluster's data model (issue 18): the contract carries them, validate.ts reads
// every spelling into one, the CLI, the import and the console's form take them with per-field errors,
// sorting puts IPv4 first — and the agents' API and store checks take them like IPv4 ones.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseCommand, UsageError } from '../../main/cli/args';
import { Agent } from '../../main/agent/agent';
import { AgentApiHandler } from '../../main/agent/api-handler';
import { HostAddressCache } from '../../main/agent/host-address-cache';
import { chooseInterface, type HostAddress } from '../../main/agent/interface-choice';
import { parseIntent } from '../../main/cluster/intents';
import type { ResourceSpec } from '../../main/cluster/model';
import { formatTable, readResourceTable } from '../../main/cluster/resource-table';
import { validateResourceSpec, type SpecContext } from '../../main/cluster/validate';
import { canonicalIpv6 as ndCanonical, compareIpv6 as ndCompare, isCanonicalIpv6 as ndIsCanonical, isIpv6 as ndIsIpv6 } from '../../main/nd/addresses';
import type { InterfaceAddress } from '../../main/host/address-types';
import type { Host } from '../../main/host/host';
import { checkRecord } from '../../main/store/record-check';
import { FileStore } from '../../main/store/file-store';
import type { ClusterStore } from '../../main/store/store';
import { decodeRows, encodeRows } from '../../preload/contract/compact-rows';
import { IpAddressSchema, ResourceSpecSchema, ResourceViewSchema } from '../../preload/contract/domain';
import { isResourceView } from '../../preload/contract/fast-push';
import { compareIpAddresses, formatIpv6Words, isCanonicalIpv6, ipv6Words, isResourceIp, readIpv6Words } from '../../preload/contract/ip-address';
import { sortResources } from '../../preload/contract/resource-order';
import { buildBoard } from '../../renderer/src/model/nodes-board';
import { checkForm, emptyForm, formFromResource, toPatch, toSpecInput, type ResourceFormValues } from '../../renderer/src/model/resource-form';
import { FakeLan } from './fake-host';
import { node as boardNode, resource } from './renderer-fixtures';

const CONTEXT: SpecContext = { nodes: ['n1', 'n2'], existing: [] };

function validSpec(input: Record<string, unknown>, context: SpecContext = CONTEXT): ResourceSpec {
  const result = validateResourceSpec(input, context);
  assert.ok(result.ok, JSON.stringify(result));
  return result.spec;
}

function errorsOf(input: Record<string, unknown>, context: SpecContext = CONTEXT): Array<{ field: string; message: string }> {
  const result = validateResourceSpec(input, context);
  assert.ok(!result.ok, `expected errors for ${JSON.stringify(input)}`);
  for (const error of result.errors) {
    assert.doesNotMatch(error.message, /[\n\r]/, error.message);
    assert.equal(error.message.includes('\u0000'), false, 'a NUL is shown escaped');
  }
  return result.errors;
}

/** Spellings every reader must agree on, hostile ones among them. */
const SPELLINGS = [
  '2001:db8::50', '2001:DB8::50', '2001:0db8:0000:0000:0000:0000:0000:0050', '2001:db8:0:0:0:0:0:50', '2001:db8::0:50',
  '::', '::1', '1::', 'fe80::1', 'ff02::1:ff00:50', '::ffff:1.2.3.4', '::FFFF:1.2.3.4', '::ffff:0102:0304', '::1.2.3.4',
  '2001:db8:0:1:1:1:1:1', '2001:0:0:1::1', '2001:db8::1:0:0:1', '1:0:0:2:0:0:0:3', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8', 'fd00:10::50', '2001:db8::50%eth0', '[2001:db8::50]', '2001:db8::50/64', ' 2001:db8::50', '2001:db8::50\u0000',
  '2001:db8:::50', '2001::db8::50', ':2001:db8::50', '2001:db8::50:', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1',
  '::ffff:1.2.3.04', '::ffff:1.2.3', '1.2.3.4::', `${'1:'.repeat(40)}1`, '10.0.0.50', '', ':', 'x',
];

describe('the contract: a resource address of either family', () => {
  test('the contract reads IPv6 text as main/nd does: the same words, the same stored spelling', () => {
    for (const text of SPELLINGS) {
      const words = ipv6Words(text);
      assert.equal(words !== null, ndIsIpv6(text), `valid? ${JSON.stringify(text)}`);
      if (words !== null) assert.equal(formatIpv6Words(words), ndCanonical(text), JSON.stringify(text));
      assert.equal(isCanonicalIpv6(text), ndIsCanonical(text), `canonical? ${JSON.stringify(text)}`);
    }
  });

  test('one reader: main/nd refuses with the contract\'s reason, an IPv4 tail in parseIpv4\'s words', () => {
    for (const text of SPELLINGS) {
      const read = readIpv6Words(text);
      if (typeof read !== 'string') {
        assert.deepEqual(read, ipv6Words(text), JSON.stringify(text));
        continue;
      }
      assert.throws(() => ndCanonical(text), (error: unknown) => {
        const message = (error as Error).message;
        return read.startsWith('its IPv4 tail') ? /: its IPv4 tail: invalid IPv4 address/.test(message) : message.endsWith(`: ${read}`);
      }, JSON.stringify(text));
    }
    assert.equal(readIpv6Words('::ffff:1.2.3.04'), 'its IPv4 tail "1.2.3.04" is not a dotted quad like "192.0.2.1"');
    assert.equal(readIpv6Words(5), 'expected text like "2001:db8::1"');
  });

  test('the schema takes a dotted quad or the RFC 5952 spelling only', () => {
    for (const ip of ['10.0.0.50', '2001:db8::50', '::ffff:1.2.3.4', 'fd00:10::50']) assert.ok(IpAddressSchema.safeParse(ip).success, ip);
    for (const ip of ['2001:DB8::50', '2001:db8::0:50', '2001:0db8::50', '2001:db8::50%eth0', '2001:db8::50/64', '010.0.0.50', '2001:db8::50\u0000', 'a'.repeat(100), 5]) {
      assert.equal(IpAddressSchema.safeParse(ip).success, false, JSON.stringify(ip));
    }
    const spec = validSpec({ name: 'web6', ip: '2001:db8::50/64' });
    assert.ok(ResourceSpecSchema.safeParse(spec).success);
    assert.equal(ResourceSpecSchema.safeParse({ ...spec, ip: '2001:DB8::50' }).success, false);
    assert.equal(ResourceSpecSchema.safeParse({ ...spec, prefix: 129 }).success, false);
    assert.ok(ResourceSpecSchema.safeParse({ ...spec, prefix: 128 }).success);
  });

  test('the fast push check and the compact rows carry IPv6 text, and agree with the schema', () => {
    const rows = [resource('web6', '2001:db8::50', { prefix: 64 }), resource('web', '10.0.0.50'), resource('all', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe', { prefix: 128 })];
    for (const row of rows) {
      assert.equal(isResourceView(row), true, row.ip);
      assert.ok(ResourceViewSchema.safeParse(row).success, row.ip);
    }
    for (const ip of ['2001:DB8::50', '2001:db8::0:50', '2001:db8::50%lan0', '::ffff:01.2.3.4']) {
      const row = { ...rows[0]!, ip };
      assert.equal(isResourceView(row), false, ip);
      assert.equal(ResourceViewSchema.safeParse(row).success, false, ip);
    }
    assert.equal(isResourceView({ ...rows[0]!, prefix: 129 }), false);
    const decoded = decodeRows(JSON.parse(JSON.stringify(encodeRows(rows))) as ReturnType<typeof encodeRows>, isResourceView, 10);
    assert.deepEqual(decoded, rows);
    const tampered = JSON.parse(JSON.stringify(encodeRows(rows))) as ReturnType<typeof encodeRows>;
    tampered.cells[1] = '2001:DB8::50';
    assert.equal(decodeRows(tampered, isResourceView, 10), null);
  });

  test('sorting: every IPv4 address before every IPv6 one, numeric within each family', () => {
    const ips = ['2001:db8::10', '10.0.0.10', '::ffff:1.2.3.4', '2001:db8::9', 'fd00::1', '10.0.0.9', '2001:db8:0:1::1', '1.2.3.4'];
    const sorted = [...ips].sort(compareIpAddresses);
    assert.deepEqual(sorted, ['1.2.3.4', '10.0.0.9', '10.0.0.10', '::ffff:1.2.3.4', '2001:db8::9', '2001:db8::10', '2001:db8:0:1::1', 'fd00::1']);
    // Within IPv6 the order is main/nd's byte order.
    const six = sorted.filter((ip) => ip.includes(':'));
    assert.deepEqual([...six].sort(ndCompare), six);
    assert.equal(compareIpAddresses('2001:db8::50', '2001:db8::50'), 0);
    // Text that is neither never throws, and goes first as before.
    assert.ok(compareIpAddresses('bogus', '10.0.0.1') < 0);
    assert.ok(compareIpAddresses('bogus', '2001:db8::1') < 0);

    const table = sortResources(ips.map((ip, i) => resource(`r${i}`, ip)), { column: 'address', direction: 'asc' }).map((r) => r.ip);
    assert.deepEqual(table, sorted);
    const down = sortResources(ips.map((ip, i) => resource(`r${i}`, ip)), { column: 'address', direction: 'desc' }).map((r) => r.ip);
    assert.deepEqual(down, [...sorted].reverse());

    const board = buildBoard([boardNode('n1')], ips.map((ip, i) => resource(`r${i}`, ip)));
    assert.deepEqual(board.columns[0]!.resources.map((r) => r.ip), sorted);
  });

  test('isResourceIp bounds the text it reads', () => {
    assert.equal(isResourceIp(`${'1:'.repeat(5000)}1`), false);
    assert.equal(isResourceIp(undefined), false);
  });
});

describe('validate.ts: an IPv6 resource', () => {
  test('any RFC 4291 spelling is stored in its RFC 5952 form, with the prefix written in it or beside it', () => {
    for (const ip of ['2001:db8::50', '2001:DB8::50', '2001:0db8:0000:0000:0000:0000:0000:0050', '2001:db8:0:0:0:0:0:50']) {
      assert.equal(validSpec({ name: 'web6', ip: `${ip}/64` }).ip, '2001:db8::50', ip);
      assert.deepEqual([validSpec({ name: 'web6', ip, prefix: 64 }).ip, validSpec({ name: 'web6', ip, prefix: 64 }).prefix], ['2001:db8::50', 64]);
    }
    assert.equal(validSpec({ name: 'w', ip: 'fd00:10::50/128' }).prefix, 128);
    assert.equal(validSpec({ name: 'w', ip: '2001:db8::1/1' }).prefix, 1);
    assert.equal(validSpec({ name: 'w', ip: '2001:db8::50/64', prefix: 64 }).prefix, 64);
    // IPv4 unchanged.
    assert.deepEqual(validSpec({ name: 'w', ip: '10.0.0.50/24' }).ip, '10.0.0.50');
  });

  const one = (input: Record<string, unknown>, field: string, pattern: RegExp): void => {
    const errors = errorsOf({ name: 'web6', ...input });
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0]!.field, field);
    assert.match(errors[0]!.message, pattern);
  };

  test('bad text: each on the address field, saying what is wrong', () => {
    one({ ip: '2001:db8::50%eth0/64' }, 'ip', /zone ids/);
    one({ ip: '2001:db8::50%eth0', prefix: 64 }, 'ip', /zone ids/);
    one({ ip: '[2001:db8::50]/64' }, 'ip', /brackets/);
    one({ ip: '2001:db8::50\u0000/64' }, 'ip', /\\u0000.*not allowed/);
    one({ ip: '2001:db8:::50/64' }, 'ip', /three colons/);
    one({ ip: '2001::db8::50/64' }, 'ip', /only one "::"/);
    one({ ip: '12345::1/64' }, 'ip', /more than 4 hex digits/);
    one({ ip: `${'1:'.repeat(30)}1/64` }, 'ip', /at most 45/);
    one({ ip: '::ffff:1.2.3.04/96' }, 'ip', /IPv4 tail/);
    one({ ip: '2001:db8::50 /64' }, 'ip', /white space/);
  });

  test('bad prefix: 0, 129, "064", twice, and against the prefix field', () => {
    one({ ip: '2001:db8::50/0' }, 'ip', /\/0 would put every IPv6 address on the link/);
    one({ ip: '2001:db8::50/129' }, 'ip', /at most 128/);
    one({ ip: '2001:db8::50/064' }, 'ip', /leading zeros/);
    one({ ip: '2001:db8::50/+64' }, 'ip', /1\.\.128/);
    one({ ip: '2001:db8::50/64/64' }, 'ip', /one "\/"/);
    one({ ip: '2001:db8::50', prefix: 129 }, 'prefix', /1\.\.128 \(got 129\)/);
    one({ ip: '2001:db8::50', prefix: 0 }, 'prefix', /1\.\.128/);
    one({ ip: '2001:db8::50/64', prefix: 48 }, 'prefix', /disagrees with the \/64/);
    one({ ip: '2001:db8::50' }, 'prefix', /"2001:db8::50\/64"/);
    // An IPv4 address keeps its bound.
    one({ ip: '10.0.0.50', prefix: 64 }, 'prefix', /1\.\.32 \(got 64\)/);
  });

  test('not a host address: link-local, multicast, v4-mapped, unspecified, loopback, subnet-router anycast', () => {
    one({ ip: 'fe80::50/64' }, 'ip', /link-local/);
    one({ ip: 'FE80::50/64' }, 'ip', /fe80::50 is link-local/);
    one({ ip: 'febf::1/64' }, 'ip', /link-local/);
    one({ ip: 'ff02::1/64' }, 'ip', /multicast/);
    one({ ip: 'ff02::1:ff00:50/64' }, 'ip', /multicast/);
    one({ ip: '::ffff:1.2.3.4/96' }, 'ip', /IPv4-mapped/);
    one({ ip: '::FFFF:0102:0304/120' }, 'ip', /::ffff:1\.2\.3\.4: an IPv4-mapped/);
    one({ ip: '::/64' }, 'ip', /unspecified/);
    one({ ip: '0:0:0:0:0:0:0:1/128' }, 'ip', /loopback/);
    one({ ip: '2001:db8::/64' }, 'ip', /subnet-router anycast address of 2001:db8::\/64/);
    // /127 has no anycast address (RFC 6164); a unique local or a global address is fine.
    assert.equal(validSpec({ name: 'p2p', ip: '2001:db8::/127' }).ip, '2001:db8::');
    assert.equal(validSpec({ name: 'ula', ip: 'fd12:3456::1/48' }).ip, 'fd12:3456::1');
    assert.equal(validSpec({ name: 'fec0', ip: 'fec0::1/64' }).ip, 'fec0::1');
  });

  test('the same address spelt twice is the same address; IPv4 and IPv6 never collide', () => {
    const existing = [validSpec({ name: 'web6', ip: '2001:db8::50/64' }), validSpec({ name: 'web', ip: '10.0.0.50/24' })];
    const context = { ...CONTEXT, existing };
    for (const ip of ['2001:DB8::50/64', '2001:db8:0:0::50/64', '2001:0db8::0050/48']) {
      const errors = errorsOf({ name: 'other', ip }, context);
      assert.deepEqual(errors, [{ field: 'ip', message: '2001:db8::50 is already the address of resource "web6"' }], ip);
    }
    assert.equal(validSpec({ name: 'other', ip: '::ffff:10.0.0.51/64'.replace('::ffff:10.0.0.51', '2001:db8::51') }, context).ip, '2001:db8::51');
    // Edited in place under another spelling: its own address is not a duplicate.
    assert.equal(validSpec({ name: 'web6', ip: '2001:DB8::50/64' }, { ...context, editing: 'web6' }).ip, '2001:db8::50');
  });

  test('a wrong type or a huge input is one bounded message', () => {
    assert.match(errorsOf({ name: 'w', ip: 6, prefix: 64 }).find((e) => e.field === 'ip')!.message, /"10\.213\.0\.50" or "2001:db8::50" \(got 6\)/);
    const errors = errorsOf({ name: 'w', ip: `${':'.repeat(10_000)}/64` });
    for (const error of errors) assert.ok(error.message.length < 300, error.message);
  });
});

describe('parsers that carry a resource address', () => {
  test('a probe intent names an address of either family, in its stored spelling only', () => {
    const base = { id: 'probe:n2:1', actor: 'cli:test', createdAt: 1, kind: 'probe', node: 'n2', outcome: null };
    assert.equal(parseIntent({ ...base, ip: '2001:db8::50' }).ok, true);
    assert.equal(parseIntent({ ...base, ip: '10.0.0.50' }).ok, true);
    for (const ip of ['2001:DB8::50', '2001:db8::0:50', '2001:db8::50%eth0', '2001:db8::50/64', 5]) {
      assert.deepEqual(parseIntent({ ...base, ip }), { ok: false, reason: 'probe: ip is not an IPv4 or RFC 5952 IPv6 address' }, String(ip));
    }
  });

  test('ipfo resource add and edit take any spelling and send the stored one; the rules exit as usage errors', () => {
    const parsed = parseCommand(['resource', 'add', 'web6', '2001:DB8:0::50/64', '--owners', 'n1,n2']);
    assert.equal(parsed.kind, 'cluster');
    assert.deepEqual((parsed as { op: unknown }).op, { kind: 'resource-add', spec: { name: 'web6', ip: '2001:db8::50', prefix: 64, possibleOwners: ['n1', 'n2'] } });
    const edited = parseCommand(['resource', 'edit', 'web6', '--ip', 'fd00::0050/48']);
    assert.deepEqual((edited as { op: unknown }).op, { kind: 'resource-edit', name: 'web6', patch: { ip: 'fd00::50', prefix: 48 } });
    const refused: Array<[string, RegExp]> = [
      ['fe80::50/64', /^<ip>\/<prefix>: .*link-local/],
      ['ff02::1/64', /multicast/],
      ['::ffff:1.2.3.4/96', /IPv4-mapped/],
      ['::/64', /unspecified/],
      ['::1/128', /loopback/],
      ['2001:db8::50/129', /at most 128/],
      ['2001:db8::50/064', /leading zeros/],
      ['2001:db8::50/0', /\/0/],
      ['2001:db8::50%eth0/64', /zone ids/],
      ['2001:db8::50', /expected an address with its prefix such as 10\.0\.0\.50\/24 or 2001:db8::50\/64/],
    ];
    for (const [cidr, message] of refused) {
      assert.throws(() => parseCommand(['resource', 'add', 'web6', cidr]), (error: unknown) => error instanceof UsageError && message.test(error.message), cidr);
    }
  });

  test('import: IPv6 rows in CSV and JSON, with their line and field errors; an export reads back the same', () => {
    const context = { nodes: ['n1', 'n2'], existing: [validSpec({ name: 'old6', ip: '2001:db8::99/64' })] };
    const csv = [
      'name,ip,owners',
      'web6,2001:DB8::50/64,n1 n2',
      'dup6,2001:db8:0::50/64,',
      'll,fe80::1/64,',
      'pfx,2001:db8::51/129,',
      'old,2001:db8:0:0:0:0:0:99/64,',
      'web4,10.0.0.50/24,',
      'zero,2001:db8::52/064,',
      'mapped,::ffff:10.0.0.9/120,',
    ].join('\n');
    const checked = readResourceTable(csv, 'csv', context);
    assert.deepEqual(checked.valid.map((row) => [row.line, row.spec.name, row.spec.ip, row.spec.prefix]), [[2, 'web6', '2001:db8::50', 64], [7, 'web4', '10.0.0.50', 24]]);
    assert.deepEqual(checked.issues.map((issue) => [issue.line, issue.field]), [[3, 'ip'], [4, 'ip'], [5, 'ip'], [6, 'ip'], [8, 'ip'], [9, 'ip']]);
    assert.deepEqual(checked.issues.map((issue) => /link-local|at most 128|leading zeros|IPv4-mapped|already/.exec(issue.message)?.[0]), ['already', 'link-local', 'at most 128', 'already', 'leading zeros', 'IPv4-mapped']);
    assert.match(checked.issues[0]!.message, /2001:db8::50 is already the address on line 2/);
    assert.match(checked.issues[3]!.message, /already the address of resource "old6"/);

    const json = JSON.stringify([{ name: 'a6', ip: '2001:0DB8::0A', prefix: 64 }, { name: 'b6', ip: '2001:db8::a/64' }]);
    const fromJson = readResourceTable(json, 'json', { nodes: ['n1'], existing: [] });
    assert.deepEqual(fromJson.valid.map((row) => row.spec.ip), ['2001:db8::a']);
    assert.equal(fromJson.issues.length, 1);
    assert.equal(fromJson.issues[0]!.field, 'ip');

    const specs = [validSpec({ name: 'web6', ip: '2001:db8::50/64' }), validSpec({ name: 'web', ip: '10.0.0.50/24' })];
    for (const format of ['csv', 'json'] as const) {
      const text = formatTable(specs, format);
      assert.match(text, /2001:db8::50/);
      const again = readResourceTable(text, format, { nodes: [], existing: [] });
      assert.deepEqual(again.issues, []);
      assert.equal(formatTable(again.valid.map((row) => row.spec), format), text);
    }
  });
});

describe('the console form', () => {
  const form = (values: Partial<ResourceFormValues>): ResourceFormValues => ({ ...emptyForm(), name: 'web6', ...values });
  const existing = [resource('old6', '2001:db8::99', { prefix: 64 }), resource('web', '10.0.0.50')];
  const fields = (values: Partial<ResourceFormValues>): Record<string, string | undefined> => checkForm(form(values), { existing, editing: null }).fields;

  test('accepts IPv6 in any spelling, sends the stored one, and checks the prefix against the family', () => {
    assert.deepEqual(fields({ ip: '2001:DB8::50/64' }), {});
    assert.deepEqual(fields({ ip: '2001:db8::50', prefix: '128' }), {});
    assert.deepEqual({ ip: toSpecInput(form({ ip: '2001:DB8:0::50/64' })).ip, prefix: toSpecInput(form({ ip: '2001:DB8:0::50/64' })).prefix }, { ip: '2001:db8::50', prefix: 64 });
    assert.equal(fields({ ip: '2001:db8::50', prefix: '129' }).prefix, 'a whole number 1..128');
    assert.equal(fields({ ip: '2001:db8::50/0' }).ip, 'the prefix length must be a whole number 1..128');
    assert.equal(fields({ ip: '10.0.0.60', prefix: '33' }).prefix, 'a whole number 1..32');
  });

  test('bad text, a zone id and a duplicate in another spelling, each on the address field', () => {
    assert.match(fields({ ip: '2001:db8:::50/64' }).ip!, /not an IPv6 address/);
    assert.match(fields({ ip: '2001:db8::50%eth0/64' }).ip!, /zone id/);
    assert.match(fields({ ip: '2001:db8::50\u0000/64' }).ip!, /not an IPv6 address/);
    assert.equal(fields({ ip: '2001:DB8:0::99/64' }).ip, '2001:db8::99 belongs to resource "old6" already');
  });

  test('an edit that only respells the address changes nothing', () => {
    const original = existing[0]!;
    const values = { ...formFromResource(original), ip: '2001:DB8::0099' };
    assert.deepEqual(toPatch(values, original), {});
  });
});

describe('the interface of an IPv6 resource', () => {
  const address = (ifname: string, ip: string, prefix: number, owned = false): HostAddress => ({ ifname, ip, prefix, owned });
  const host = [
    address('lan0', '10.0.0.1', 24),
    address('lan0', 'fe80::1', 64),
    address('lan1', 'fe80::2', 64),
    address('lan1', '2001:db8:10::1', 64),
    address('lan2', '2001:db8:20::1', 64),
    address('lan3', '2001:db8:10::99', 64, true),
    address('lo', '::1', 128),
  ];

  test('the interface with an IPv6 address in the prefix; link-local, ours and loopback never decide', () => {
    assert.deepEqual(chooseInterface({ ip: '2001:db8:10::50', prefix: 64, interfaces: {} }, 'n1', host), { ok: true, ifname: 'lan1' });
    assert.deepEqual(chooseInterface({ ip: '2001:db8:20::50', prefix: 48, interfaces: {} }, 'n1', host), { ok: true, ifname: 'lan2' });
    assert.deepEqual(chooseInterface({ ip: '2001:db8::50', prefix: 32, interfaces: {} }, 'n1', host), { ok: true, ifname: 'lan1' });
    // /128: the host address's own prefix decides.
    assert.deepEqual(chooseInterface({ ip: '2001:db8:20::50', prefix: 128, interfaces: {} }, 'n1', host), { ok: true, ifname: 'lan2' });
    // Bits of a prefix not on a byte boundary.
    // 2001:db8:1f:: and 2001:db8:10:: share their first 44 bits, not 45.
    assert.deepEqual(chooseInterface({ ip: '2001:db8:1f::50', prefix: 44, interfaces: {} }, 'n1', host), { ok: true, ifname: 'lan1' });
    assert.equal(chooseInterface({ ip: '2001:db8:1f::50', prefix: 45, interfaces: {} }, 'n1', host).ok, false);
    assert.equal(chooseInterface({ ip: 'fe80::50', prefix: 64, interfaces: {} }, 'n1', host).ok, false);
    assert.equal(chooseInterface({ ip: '2001:db8:30::50', prefix: 64, interfaces: {} }, 'n1', host).ok, false);
    assert.deepEqual(chooseInterface({ ip: '2001:db8:30::50', prefix: 64, interfaces: { n1: 'lan9' } }, 'n1', host), { ok: true, ifname: 'lan9' });
  });

  test('an IPv4 resource is chosen as before, whatever IPv6 addresses are listed', () => {
    assert.deepEqual(chooseInterface({ ip: '10.0.0.50', prefix: 24, interfaces: {} }, 'n1', host), { ok: true, ifname: 'lan0' });
    assert.deepEqual(chooseInterface({ ip: '10.0.0.50', prefix: 32, interfaces: {} }, 'n1', host), { ok: true, ifname: 'lan0' });
    assert.equal(chooseInterface({ ip: '10.0.1.50', prefix: 24, interfaces: {} }, 'n1', host).ok, false);
  });

  test('the address cache lists both families once, keeps its own list IPv4, and chooses from IPv6 stations', () => {
    const listed = (ifname: string, ip: string, prefix: number, owned: boolean): InterfaceAddress => ({ ifname, ifindex: 2, ip, prefix, proto: owned ? 99 : 0, owned, label: '', validLftSec: null, preferredLftSec: null, flags: 0 });
    const calls: unknown[][] = [];
    const table = [listed('lan0', '10.0.0.1', 24, false), listed('lan0', '10.0.0.50', 24, true), listed('lan1', '2001:db8:10::1', 64, false), listed('lan1', '2001:db8:10::7', 64, true)];
    const fake = {
      addresses: {
        listAll: (...args: unknown[]): InterfaceAddress[] => {
          calls.push(args);
          const families = args[1] ?? 'ipv4';
          return families === 'both' ? table : table.filter((a) => !a.ip.includes(':'));
        },
      },
    } as unknown as Host;
    const cache = new HostAddressCache(fake, 'n1', () => 0);
    assert.deepEqual(cache.all().map((a) => a.ip), ['10.0.0.1', '10.0.0.50']);
    assert.deepEqual(cache.stations().map((a) => a.ip), ['10.0.0.1', '2001:db8:10::1']);
    assert.deepEqual(calls, [[undefined, 'both']]);
    const spec6 = validSpec({ name: 'web6', ip: '2001:db8:10::50/64' });
    assert.deepEqual(cache.interfaceFor(spec6), { ok: true, ifname: 'lan1' });
    assert.deepEqual(cache.interfaceFor(validSpec({ name: 'web', ip: '10.0.0.60/24' })), { ok: true, ifname: 'lan0' });
    assert.equal(cache.isPresent(validSpec({ name: 'web', ip: '10.0.0.50/24' }), 'lan0'), true);
  });
});

describe('the agents take IPv6 resources', () => {
  test('a stored IPv6 record passes the record check; a bad one says what is wrong with it', () => {
    const spec = validSpec({ name: 'web6', ip: '2001:db8::50/64' });
    assert.deepEqual(checkRecord('resources', 'web6', spec), { ok: true, value: spec });
    const bad = checkRecord('resources', 'll6', { ...spec, name: 'll6', ip: 'fe80::50' });
    assert.ok(!bad.ok && /link-local/.test(bad.reason), JSON.stringify(bad));
    const upper = checkRecord('resources', 'up6', { ...spec, name: 'up6', ip: '2001:DB8::50' });
    assert.ok(!upper.ok && /RFC 5952/.test(upper.reason), JSON.stringify(upper));
    assert.equal(checkRecord('resources', 'web', validSpec({ name: 'web', ip: '10.0.0.50/24' })).ok, true);
  });

  test('through the real API handler: add, edit and import take IPv6 in any spelling and store the RFC 5952 one; bad IPv6 is refused on the ip field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipfo-agent-ipv6-api-'));
    const lan = new FakeLan();
    const host = lan.host('n1', '10.231.0.1', '02:77:00:00:00:01');
    let store: ClusterStore | null = null;
    let agent: Agent | null = null;
    try {
      store = await FileStore.open({ dir });
      agent = new Agent({ node: 'n1', store, version: 'test', host, ownerSilenceMs: 250, log: () => undefined });
      await agent.start();
      const handler = new AgentApiHandler(agent, store);
      // Disabled: added and edited here, not claimed (the fake LAN's IPv6 is another test's).
      const added = await handler.execute({ type: 'resource.add', spec: { name: 'web6', ip: '2001:DB8:0::50/64', enabled: false } }, 'unit-test');
      assert.ok(added.ok, JSON.stringify(added));
      assert.equal(agent.clusterView.resources.get('web6')?.ip, '2001:db8::50');
      const linkLocal = await handler.execute({ type: 'resource.add', spec: { name: 'll6', ip: 'fe80::50/64', enabled: false } }, 'unit-test');
      assert.ok(!linkLocal.ok && linkLocal.error.field === 'spec.ip' && /link-local/.test(linkLocal.error.message), JSON.stringify(linkLocal));
      const edited = await handler.execute({ type: 'resource.edit', name: 'web6', patch: { ip: '2001:db8:0:0::51', prefix: 64 } }, 'unit-test');
      assert.ok(edited.ok, JSON.stringify(edited));
      const imported = await handler.execute({ type: 'resource.import', rows: [{ name: 'a4', ip: '10.231.0.101/24', enabled: false }, { name: 'a6', ip: '2001:db8::52/64', enabled: false }, { name: 'b6', ip: 'ff02::52/64', enabled: false }], skipInvalid: true }, 'unit-test');
      assert.ok(imported.ok, JSON.stringify(imported));
      const result = imported.result as { created: string[]; invalid: Array<{ index: number; field: string; message: string }> };
      assert.deepEqual(result.created, ['a4', 'a6']);
      assert.deepEqual(result.invalid.map((issue) => [issue.index, issue.field]), [[2, 'ip']]);
      const deadline = Date.now() + 5000;
      while ((agent.clusterView.resources.get('web6')?.ip !== '2001:db8::51' || !agent.clusterView.resources.has('a6')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(agent.clusterView.resources.get('web6')?.ip, '2001:db8::51');
      assert.equal(agent.clusterView.resources.get('a6')?.ip, '2001:db8::52');
      assert.equal(agent.clusterView.rejected.size, 0);
    } finally {
      await agent?.stop({ handOff: false }).catch(() => undefined);
      await store?.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
