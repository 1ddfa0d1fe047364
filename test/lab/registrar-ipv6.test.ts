// Lab test of the registrar's IPv6 addresses (issue 18) against a real kernel: a lab of one node and one
// client (withLab's namespaces, deleted also on failure), IPv6 switched on for lan0 in both, the
// registrar run by a child process inside the node's namespace (the addon acts on its caller's), and
// `ip -6 -j` as the observer that does not share our code. The IFA_PROTO mark is read from the kernel's
// own dump as strace decodes it, since Debian 12's `ip` does not print an address's protocol.
// Addresses: 2001:db8::/32 (documentation), one /64 per purpose, numbered by the lab's subnet index so
// that two labs never share one.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { canonicalIpv6 } from '../../main/nd/addresses';
import { DEADLINE_PASSED, IPFO_ADDR_PROTO, type InterfaceAddress, type RegistrarResult, type VirtualAddress } from '../../main/net/registrar';
import type { ChildOp, ChildOutput, ReachOutcome } from './fixtures/registrar-child';
import { createLab, LAB_IFNAME, type Lab, type LabHost } from './lab';
import { ip, runCommand, setSysctls } from './netns';

const isRoot = process.getuid?.() === 0;
const CHILD = path.join(__dirname, 'fixtures', 'registrar-child.js');
/** Nothing listens there: a reset is the answer of a host that has the address. */
const CLOSED_PORT = 9;
/** Well below the kernel's DAD (at least one RetransTimer, 1 s, after the address appears; 5 s here). */
const AT_ONCE_MS = 500;

interface ObservedAddress {
  family: string;
  local: string;
  prefixlen: number;
  valid_life_time: number;
  preferred_life_time: number;
  nodad?: boolean;
  tentative?: boolean;
  dadfailed?: boolean;
  dynamic?: boolean;
}

interface ObservedRoute {
  dst: string;
  protocol?: string;
  expires?: number;
}

let lab: Lab | undefined;
let node: LabHost;
let client: LabHost;
/** 2001:db8:<d500 + the lab's subnet index>: the lab's own /48. */
let base = '';

const net64 = (n: number): string => `${base}:${n.toString(16)}::`;
/** Address `host` of /64 number n, in the text the registrar wants. */
const addr = (n: number, host: number): string => canonicalIpv6(`${net64(n)}${host.toString(16)}`);
const V6_FIRST = 1; // the first registration and the mixed batch
const V6_EXPIRY = 2; // lifetimes, renewal, expiry: alone in its /64, so its prefix route is its own
const V6_ADMIN = 0xa; // the administrator's own address, added by hand

const va = (ip6: string, extra: Partial<VirtualAddress> = {}): VirtualAddress => ({ ifname: LAB_IFNAME, ip: ip6, prefix: 64, ...extra });

async function child(host: LabHost, op: ChildOp): Promise<ChildOutput> {
  const result = await lab!.run(host, [process.execPath, CHILD, JSON.stringify(op)], { timeoutMs: 20_000 });
  assert.equal(result.code, 0, `child ${op.op}: exit ${String(result.code)} ${result.stderr}`);
  return JSON.parse(result.stdout) as ChildOutput;
}

async function childValue<T>(host: LabHost, op: ChildOp): Promise<T> {
  const out = await child(host, op);
  if (!out.ok) assert.fail(`child ${op.op} threw ${out.error.name}: ${out.error.message}`);
  return out.value as T;
}

const register = (list: VirtualAddress[]): Promise<RegistrarResult[]> => childValue(node, { op: 'register', list });
const deregister = (list: VirtualAddress[]): Promise<RegistrarResult[]> => childValue(node, { op: 'deregister', list });
const reach = (ip6: string, timeoutMs = AT_ONCE_MS): Promise<ReachOutcome> => childValue(client, { op: 'reach', ip: ip6, port: CLOSED_PORT, timeoutMs });

function assertAllOk(results: RegistrarResult[], count: number): void {
  assert.equal(results.length, count);
  assert.deepEqual(results.filter((r) => !r.ok), [], 'every item should succeed');
}

function codes(results: RegistrarResult[]): string[] {
  return results.map((r) => (r.ok ? 'ok' : r.code));
}

/** The node's lan0 addresses as `ip -j addr show` reports them (both families). */
async function observed(): Promise<ObservedAddress[]> {
  const links = JSON.parse(await ip(['-n', node.ns, '-j', 'addr', 'show', 'dev', LAB_IFNAME])) as { addr_info: ObservedAddress[] }[];
  return links.flatMap((link) => link.addr_info);
}

async function observedOne(ip6: string): Promise<ObservedAddress | undefined> {
  return (await observed()).find((a) => a.family === 'inet6' && a.local === ip6);
}

/** The node's on-link route for /64 number n, if any. */
async function prefixRoute(n: number): Promise<ObservedRoute | undefined> {
  const routes = JSON.parse(await ip(['-n', node.ns, '-6', '-j', 'route', 'show', `${net64(n)}/64`, 'dev', LAB_IFNAME])) as ObservedRoute[];
  return routes.find((r) => r.dst === `${net64(n)}/64`);
}

/**
 * The IFA_PROTO the kernel reports for ip6, read from its RTM_NEWADDR dump as strace decodes it; null
 * when strace is not installed.
 */
async function kernelProto(ip6: string): Promise<string | null> {
  if ((await runCommand('strace', ['-V'])).code !== 0) return null;
  const traced = await lab!.run(node, ['strace', '-qq', '-v', '-s', '4096', '-e', 'trace=recvmsg', 'ip', '-6', 'addr', 'show', 'dev', LAB_IFNAME]);
  assert.equal(traced.code, 0, traced.stderr);
  const message = traced.stderr.split('{nlmsg_len=').find((m) => m.includes(`inet_pton(AF_INET6, "${ip6}")`));
  assert.ok(message !== undefined, `the dump holds ${ip6}`);
  return /nla_type=IFA_PROTO\}, "([^"]*)"/.exec(message)?.[1] ?? 'none';
}

function needsLab(t: TestContext): boolean {
  if (!isRoot) {
    t.skip('needs root: builds network namespaces and adds addresses through rtnetlink');
    return false;
  }
  assert.ok(lab, 'the lab was built');
  return true;
}

describe('registrar: IPv6 on a real kernel', { timeout: 120_000 }, () => {
  before(async () => {
    if (!isRoot) return;
    lab = await createLab({ nodes: 1, clients: 1, rogue: false, name: 'registrar-ipv6' });
    node = lab.host('n1');
    client = lab.host('c1');
    base = `2001:db8:${(0xd500 + lab.subnetIndex).toString(16)}`;
    // The lab keeps IPv6 off; here it is the subject. On the node, DAD sends 5 probes: an address the
    // kernel checks stays tentative (deaf) for 5 s or more, which the NODAD checks below tell apart from
    // "answers at once" with a wide margin.
    await setSysctls(node.ns, { [`net.ipv6.conf.${LAB_IFNAME}.dad_transmits`]: 5, [`net.ipv6.conf.${LAB_IFNAME}.disable_ipv6`]: 0 });
    await setSysctls(client.ns, { [`net.ipv6.conf.${LAB_IFNAME}.disable_ipv6`]: 0 });
    for (const n of [V6_FIRST, V6_EXPIRY, V6_ADMIN]) await ip(['-n', client.ns, 'addr', 'add', `${addr(n, 0xc1)}/64`, 'dev', LAB_IFNAME, 'nodad']);
    // The administrator's address, by hand: no mark, and through DAD as any address `ip` adds.
    await ip(['-n', node.ns, 'addr', 'add', `${addr(V6_ADMIN, 1)}/64`, 'dev', LAB_IFNAME]);
  });

  after(async () => {
    await lab?.destroy();
  });

  test('a registered IPv6 address answers another namespace at once: NODAD, never tentative, marked, lifetimes as set, its /64 on-link', async (t) => {
    if (!needsLab(t)) return;
    const vip = addr(V6_FIRST, 0x101);
    assertAllOk(await register([va(vip, { validLftSec: 30 })]), 1);
    const answered = await reach(vip);
    t.diagnostic(`${vip} answered the client ${answered.elapsedMs.toFixed(1)} ms into its first try: ${answered.outcome}`);
    assert.ok(['refused', 'connected'].includes(answered.outcome), `reached at once: ${JSON.stringify(answered)}`);

    // The same attempt at the administrator's address, which the kernel is still checking (DAD).
    const admin = await observedOne(addr(V6_ADMIN, 1));
    assert.equal(admin?.tentative, true, `the hand-added address is still tentative: ${JSON.stringify(admin)}`);
    assert.equal((await reach(addr(V6_ADMIN, 1))).outcome, 'timeout', 'a tentative address answers nobody: what NODAD avoids');

    const seen = await observedOne(vip);
    assert.ok(seen, 'ip -6 addr shows it');
    assert.equal(seen.prefixlen, 64);
    assert.equal(seen.nodad, true, 'flag nodad');
    assert.equal(seen.tentative, undefined, 'not tentative');
    assert.equal(seen.dadfailed, undefined, 'not dadfailed');
    assert.equal(seen.dynamic, true, 'a finite lifetime');
    assert.ok(seen.valid_life_time <= 30 && seen.valid_life_time >= 28, `valid_life_time ${seen.valid_life_time}`);
    assert.equal(seen.preferred_life_time, seen.valid_life_time, 'preferred = valid: never deprecated');

    const proto = await kernelProto(vip);
    if (proto === null) t.diagnostic('strace is not installed: the mark is checked through our own listing only');
    else assert.equal(proto, '\\x99', 'the kernel reports IFA_PROTO 0x99');

    const route = await prefixRoute(V6_FIRST);
    assert.equal(route?.protocol, 'kernel', `${net64(V6_FIRST)}/64 is on-link: ${JSON.stringify(route)}`);

    const listed = (await childValue<InterfaceAddress[]>(node, { op: 'listAll', ifname: LAB_IFNAME, families: 'ipv6' })).find((a) => a.ip === vip);
    assert.ok(listed, 'our listing has it, in the text we registered');
    assert.deepEqual(
      { ip: listed.ip, prefix: listed.prefix, proto: listed.proto, owned: listed.owned, ifname: listed.ifname, nodad: (listed.flags & 0x02) !== 0 },
      { ip: canonicalIpv6(seen.local), prefix: 64, proto: IPFO_ADDR_PROTO, owned: true, ifname: LAB_IFNAME, nodad: true },
    );
    assert.ok(listed.validLftSec !== null && listed.validLftSec <= 30 && listed.preferredLftSec === listed.validLftSec);
    assertAllOk(await deregister([va(vip)]), 1);
    assert.equal(await observedOne(vip), undefined, 'deregister removed it');
  });

  test('a renewal extends the lifetime (REPLACE) with its /64; the kernel removes an address nobody renews when its 2 s run out', async (t) => {
    if (!needsLab(t)) return;
    const expiring = va(addr(V6_EXPIRY, 0x101), { validLftSec: 2 });
    const renewed = va(addr(V6_EXPIRY, 0x102), { validLftSec: 2 });
    const registeredAt = Date.now();
    assertAllOk(await register([expiring, renewed]), 2);
    const first = await observedOne(renewed.ip);
    assert.ok(first && first.valid_life_time <= 2 && first.preferred_life_time === first.valid_life_time, JSON.stringify(first));
    assert.ok((await prefixRoute(V6_EXPIRY))?.expires !== undefined, 'the kernel gives the /64 the lifetime of its address');

    await sleep(Math.max(0, registeredAt + 1200 - Date.now()));
    assertAllOk(await register([renewed]), 1); // without REPLACE the kernel would answer EEXIST
    const again = await observedOne(renewed.ip);
    assert.ok(again && again.valid_life_time === 2 && again.preferred_life_time === 2, `renewed to 2 s again: ${JSON.stringify(again)}`);

    let goneAfterMs = -1;
    while (Date.now() - registeredAt < 6000) {
      if ((await observedOne(expiring.ip)) === undefined) {
        goneAfterMs = Date.now() - registeredAt;
        break;
      }
      await sleep(100);
    }
    t.diagnostic(`the address with a 2 s lifetime disappeared after ${goneAfterMs} ms`);
    assert.ok(goneAfterMs >= 1500 && goneAfterMs <= 4000, `gone after ${goneAfterMs} ms, expected about 2-3 s`);
    if (Date.now() - registeredAt < 2900) {
      // Still within the renewed lifetime: present, and its /64 still on-link (it answers the client).
      assert.ok(await observedOne(renewed.ip), 'the renewed address outlives the one left alone');
      assert.ok(['refused', 'connected'].includes((await reach(renewed.ip)).outcome), 'and answers: its /64 is still on-link');
    }
    while ((await observedOne(renewed.ip)) !== undefined && Date.now() - registeredAt < 8000) await sleep(100);
    const renewedGoneAfterMs = Date.now() - registeredAt;
    t.diagnostic(`the renewed address disappeared after ${renewedGoneAfterMs} ms`);
    assert.ok(renewedGoneAfterMs > goneAfterMs && renewedGoneAfterMs >= 2700, `the renewal counted: gone after ${renewedGoneAfterMs} ms`);
    // The kernel leaves an expired route to its garbage collector, but no lookup uses it.
    const route = await prefixRoute(V6_EXPIRY);
    assert.ok(route === undefined || (route.expires ?? 1) <= 0, `the /64 expired with its last address: ${JSON.stringify(route)}`);
    const lookup = await runCommand('ip', ['-n', node.ns, '-6', 'route', 'get', addr(V6_EXPIRY, 0x99)]);
    assert.notEqual(lookup.code, 0, `no longer on-link, as an IPv4 subnet route goes with its address: ${lookup.stdout}`);
  });

  test('a renewal past its deadline is not sent: the deadline error, and nothing changes', async (t) => {
    if (!needsLab(t)) return;
    const held = va(addr(V6_EXPIRY, 0x201), { validLftSec: 5 });
    const fresh = va(addr(V6_EXPIRY, 0x202), { validLftSec: 30 });
    assertAllOk(await register([held]), 1);
    const before = await observedOne(held.ip);
    const results = await childValue<RegistrarResult[]>(node, {
      op: 'registerAfterFreeze', list: [{ ...held, validLftSec: 30 }, fresh], deadlineInMs: -1, freeze: false,
    });
    assert.deepEqual(codes(results), [DEADLINE_PASSED, DEADLINE_PASSED]);
    assert.match(results[0]!.ok ? '' : results[0]!.message, /deadline had passed/);
    const after = await observedOne(held.ip);
    assert.ok(before && after && after.valid_life_time <= before.valid_life_time, `lifetime not extended: ${before?.valid_life_time} -> ${after?.valid_life_time}`);
    assert.equal(await observedOne(fresh.ip), undefined, 'nothing new registered');
    assertAllOk(await deregister([held]), 1);
  });

  test("the administrator's IPv6 address is never taken over, removed or listed as ours; an IPv6 address has one prefix", async (t) => {
    if (!needsLab(t)) return;
    const admin = va(addr(V6_ADMIN, 1));
    const ours = va(addr(V6_ADMIN, 0x101), { validLftSec: 30 });
    const [taken] = await register([admin]);
    assert.equal(taken?.ok === false && taken.code, 'ENOTOWNED');
    // Another prefix is the same IPv6 address to the kernel: still refused, not taken over.
    assert.equal(codes(await register([{ ...admin, prefix: 128 }]))[0], 'ENOTOWNED');
    assertAllOk(await register([ours]), 1);
    assertAllOk(await register([ours]), 1); // a renewal
    const route = await prefixRoute(V6_ADMIN);
    assert.ok(route && route.expires === undefined, `the administrator's /64 keeps a route without expiry, so our lifetimes never take it off-link: ${JSON.stringify(route)}`);
    const [otherPrefix] = await register([{ ...ours, prefix: 80 }]);
    assert.equal(otherPrefix?.ok === false && otherPrefix.code, 'EEXIST', 'the kernel would answer success and change nothing');
    assert.equal((await observedOne(ours.ip))?.prefixlen, 64);

    assert.deepEqual(codes(await deregister([admin, ours])), ['ENOTOWNED', 'ok']);
    const left = await observedOne(admin.ip);
    assert.ok(left, 'the administrator address is still there');
    assert.equal(await observedOne(ours.ip), undefined);
    const owned = await childValue<InterfaceAddress[]>(node, { op: 'listOwned', ifname: LAB_IFNAME });
    assert.ok(!owned.some((a) => a.ip === admin.ip), 'not listed as ours');
    const all = await childValue<InterfaceAddress[]>(node, { op: 'listAll', ifname: LAB_IFNAME, families: 'ipv6' });
    assert.deepEqual(all.filter((a) => a.ip === admin.ip).map((a) => [a.proto, a.owned]), [[0, false]], 'listed, unmarked');
    // Removal of our copies anywhere leaves it alone too (it matches by address and prefix).
    assert.equal(await childValue<number>(node, { op: 'removeOwnedAnywhere', addresses: [{ ip: admin.ip, prefix: 64 }] }), 0);
    assert.ok(await observedOne(admin.ip));
    // listAll stays IPv4 unless asked: its callers look for IPv4 station addresses and subnets.
    const v4only = await childValue<InterfaceAddress[]>(node, { op: 'listAll', ifname: LAB_IFNAME });
    assert.deepEqual(v4only.map((a) => a.ip), [node.ip]);
  });

  test('the addon checks IPv6 input; listings come back in RFC 5952 text, not glibc\'s', async (t) => {
    if (!needsLab(t)) return;
    const ifindex = await childValue<number>(node, { op: 'ifindexOf', ifname: LAB_IFNAME });
    const spec = { ifindex, address: addr(V6_FIRST, 0x301), prefix: 64, proto: IPFO_ADDR_PROTO };
    const refusals: Array<[Record<string, unknown>, string]> = [
      [{ address: `${spec.address}%${LAB_IFNAME}` }, 'list[0] address is not an IPv6 address'],
      [{ address: '2001:db8::1::1' }, 'list[0] address is not an IPv6 address'],
      [{ prefix: 129 }, 'list[0] prefix must be an integer in 0..128'],
      [{ label: LAB_IFNAME }, 'list[0] label is for IPv4 addresses only'],
    ];
    for (const [change, message] of refusals) {
      const out = await child(node, { op: 'addonAdd', list: [{ ...spec, ...change }] });
      assert.deepEqual(out.ok ? out : { code: out.error.code, message: out.error.message }, { code: 'ERR_INVALID_ARG_VALUE', message }, JSON.stringify(change));
    }
    for (const families of [5, 4.5, '4', null]) {
      const out = await child(node, { op: 'addonList', ifindex, families });
      assert.equal(!out.ok && out.error.message, 'family must be 4, 6 or 0 (both)', JSON.stringify(families));
    }
    const badFilter = await child(node, { op: 'addonList', ifindex, onlyAddresses: ['fe80::1%lan0'], families: 0 });
    assert.equal(!badFilter.ok && badFilter.error.message, 'onlyAddresses must hold IPv4 or IPv6 addresses');
    assert.equal(await observedOne(spec.address), undefined, 'nothing was added');

    // The one kind of address glibc's inet_ntop does not write in RFC 5952 text: IPv4-compatible
    // (::/96, deprecated but accepted by the kernel), which it dots. A /128 that carries no traffic.
    const compatible = va('::c000:201', { prefix: 128 });
    assertAllOk(await register([compatible]), 1);
    const raw = await childValue<Array<{ address: string }>>(node, { op: 'addonList', ifindex, onlyAddresses: ['::c000:201', node.ip], families: 0 });
    assert.deepEqual(raw.map((a) => a.address), [node.ip, '::192.0.2.1'], 'the filter keeps both families, IPv4 first; glibc dots the tail');
    const owned = await childValue<InterfaceAddress[]>(node, { op: 'listOwned', ifname: LAB_IFNAME });
    assert.deepEqual(owned.map((a) => a.ip), ['::c000:201'], 'the registrar lists it as it was registered');
    assertAllOk(await register([{ ...compatible, validLftSec: 30 }]), 1); // found again as ours: a renewal, not ENOTOWNED
    assertAllOk(await deregister([compatible]), 1);
    assert.equal(await observedOne('::c000:201'), undefined);
  });

  test('a batch of both families: registered in one call, listed together by listOwned, removed together', async (t) => {
    if (!needsLab(t)) return;
    const batch: VirtualAddress[] = [
      { ifname: LAB_IFNAME, ip: lab!.vip(1), prefix: 24, validLftSec: 30 },
      va(addr(V6_FIRST, 0x201), { validLftSec: 30 }),
      { ifname: LAB_IFNAME, ip: lab!.vip(2), prefix: 32 },
      va(addr(V6_FIRST, 0x202), { prefix: 128 }),
      va(addr(V6_FIRST, 0xabcd)),
    ];
    assertAllOk(await register(batch), batch.length);
    const seen = await observed();
    for (const a of batch) {
      const found = seen.find((s) => s.local === a.ip);
      assert.ok(found, `${a.ip} present`);
      assert.equal(found.prefixlen, a.prefix, a.ip);
      if (a.ip.includes(':')) assert.ok(found.nodad === true && found.tentative === undefined, `${a.ip}: nodad, not tentative`);
    }
    const owned = await childValue<InterfaceAddress[]>(node, { op: 'listOwned', ifname: LAB_IFNAME });
    assert.deepEqual(
      owned.map((a) => `${a.ip}/${a.prefix}`).sort(),
      batch.map((a) => `${a.ip}/${a.prefix}`).sort(),
      'listOwned: both families, ours only, canonical text and the right prefixes',
    );
    assert.ok(owned.every((a) => a.proto === IPFO_ADDR_PROTO && a.ifname === LAB_IFNAME));
    assert.equal(owned.find((a) => a.ip === batch[0]!.ip)?.validLftSec !== null, true);
    assert.equal(owned.find((a) => a.ip === batch[3]!.ip)?.validLftSec, null, 'no lifetime: forever');
    // Both answer the client at once, IPv6 with NODAD.
    assert.ok(['refused', 'connected'].includes((await reach(batch[1]!.ip)).outcome));

    // A mixed batch where one item of each family is bad: the rest go through, per item.
    const mixed = await register([
      { ifname: LAB_IFNAME, ip: lab!.vip(3), prefix: 24 },
      va('2001:DB8::1'),
      va(addr(V6_FIRST, 0x203)),
      { ifname: LAB_IFNAME, ip: '10.213.0.300', prefix: 24 },
    ]);
    assert.deepEqual(codes(mixed), ['ok', 'EINVAL', 'ok', 'EINVAL']);
    const all = [...batch, { ifname: LAB_IFNAME, ip: lab!.vip(3), prefix: 24 }, va(addr(V6_FIRST, 0x203))];
    assertAllOk(await deregister(all), all.length);
    assert.deepEqual(await childValue<InterfaceAddress[]>(node, { op: 'listOwned', ifname: LAB_IFNAME }), []);
    const remaining = (await observed()).filter((a) => a.family === 'inet' || !a.local.startsWith('fe80:'));
    assert.deepEqual(remaining.map((a) => a.local).sort(), [node.ip, addr(V6_ADMIN, 1)].sort(), 'only the node and administrator addresses are left');
  });
});
