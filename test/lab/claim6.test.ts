// Issue 18 in the lab, one node at a time: `ipfo claim` and `ipfo probe` for an IPv6 address on real
// kernels doing their normal neighbour discovery — duplicate address detection, registration without the
// kernel's own DAD, unsolicited advertisements that move the clients' neighbour entries, defence.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLab, LAB_PREFIX6, toolArgv, type Lab, type LabHost } from './lab';
import { runIpfo, startIpfo, timeOf } from './ipfo';
import { JsonLines } from './json-lines';
import { echoTarget, startEcho, stopClaim, streamOnce } from './claim-helpers';
import { waitForNeighborMac } from './neighbor-wait';
import { solicitedNodeAddress } from '../../main/nd/addresses';

const ND_SEND = join(__dirname, 'tools', 'nd-send.js');

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('ipfo claim/probe for IPv6 on a real LAN', () => {
  let lab: Lab;
  let n1: LabHost, n2: LabHost, c1: LabHost, r1: LabHost;

  before(async () => {
    lab = await createLab({ nodes: 2, clients: 1, rogue: true, ipv6: true, name: 'claim6-acceptance' });
    [n1, n2, c1, r1] = [lab.host('n1'), lab.host('n2'), lab.host('c1'), lab.host('r1')];
    await startEcho(lab, n1, '::');
    await startEcho(lab, n2, '::');
  });
  after(async () => {
    await lab?.destroy();
  });

  test('the claim registers without the kernel\'s DAD, and a client whose entry points at another MAC follows the first advertisement within 100 ms', async () => {
    const vip = lab.vip6(1);
    await lab.setNeighbor(c1, vip, n2.mac, 'stale');
    assert.equal((await lab.neighbor(c1, vip))?.mac, n2.mac);

    const claim = startIpfo(lab, n1, ['claim', `${vip}/${LAB_PREFIX6}`, '--dev', 'lan0', '--json']);
    const probes = [];
    for (let n = 1; n <= 3; n++) probes.push(await claim.waitFor((r) => r.event === 'probing' && r.n === n, 5000, `probe ${n}`));
    const announced = await claim.waitFor((r) => r.event === 'announced' && r.n === 1, 5000, 'first advertisement');
    const seenAt = await waitForNeighborMac(lab, c1, vip, n1.mac, 1000);
    const lagMs = seenAt - timeOf(announced);
    assert.ok(lagMs < 100, `client followed ${lagMs} ms after the advertisement`);

    // Registered at once, usable: not tentative (the agent did DAD itself) and marked as ours.
    const info = await addressInfo(lab, n1, vip);
    assert.ok(info, `${vip} is not on n1: ${JSON.stringify(await lab.addresses6(n1))}`);
    assert.equal(info.prefixlen, LAB_PREFIX6);
    assert.equal(info.tentative, undefined, 'the kernel ran its own DAD');
    assert.equal(info.nodad, true);

    const summary = await streamOnce(lab, c1, vip);
    assert.deepEqual(Object.keys(summary.perHost as object), ['n1'], `datagrams answered by ${JSON.stringify(summary.perHost)}`);
    assert.ok((summary.received as number) >= 18, `only ${String(summary.received)} of 20 datagrams answered`);
    await stopClaim(claim);
    assert.equal(await addressInfo(lab, n1, vip), null, 'address removed after release');
  });

  test('release on node 1 + claim on node 2: the client follows, never back to node 1', async () => {
    const vip = lab.vip6(2);
    const first = startIpfo(lab, n1, ['claim', `${vip}/${LAB_PREFIX6}`, '--dev', 'lan0', '--no-probe', '--json']);
    await first.waitForEvent('ready', 5000);
    const stream = new JsonLines(lab.spawn(c1, toolArgv('udp-stream', ['--to', echoTarget(vip), '--interval-ms', '2', '--duration-ms', '20000', '--wait-ms', '200'])));
    await stream.waitFor((r) => r.type === 'owner' && r.host === 'n1', 5000, 'replies from n1');
    await stopClaim(first);
    const second = startIpfo(lab, n2, ['claim', `${vip}/${LAB_PREFIX6}`, '--dev', 'lan0', '--json']);
    await second.waitForEvent('ready', 5000);
    await stream.waitFor((r) => r.type === 'owner' && r.host === 'n2', 3000, 'replies from n2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    stream.child.kill('SIGTERM');
    const summary = await stream.waitFor((r) => r.type === 'summary', 5000, 'stream summary');
    const owners = stream.records.filter((r) => r.type === 'owner').map((r) => r.host);
    assert.deepEqual(owners, ['n1', 'n2'], 'the answering host went n1 then n2, with no way back');
    assert.ok(((summary.perHost as Record<string, number>).n2 ?? 0) > 0);
    assert.equal(await addressInfo(lab, n1, vip), null);
    assert.ok(await addressInfo(lab, n2, vip));
    await stopClaim(second);
  });

  describe('the rogue holds the address', () => {
    let vip: string;
    before(async () => {
      vip = lab.vip6(4);
      await lab.run(r1, ['ip', 'addr', 'add', `${vip}/${LAB_PREFIX6}`, 'dev', 'lan0', 'nodad']);
    });
    after(async () => {
      await lab.run(r1, ['ip', 'addr', 'del', `${vip}/${LAB_PREFIX6}`, 'dev', 'lan0']);
    });

    test('ipfo probe names the rogue MAC and exits 3', async () => {
      const result = await runIpfo(lab, n1, ['probe', vip, '--dev', 'lan0']);
      assert.equal(result.code, 3, result.stderr);
      assert.match(result.stdout, new RegExp(`in use by ${r1.mac}`));
      const json = await runIpfo(lab, n1, ['probe', vip, '--dev', 'lan0', '--json']);
      assert.equal(json.code, 3);
      assert.deepEqual(JSON.parse(json.stdout.trim()), { event: 'in-use', ip: vip, mac: r1.mac });
    });

    test('ipfo claim names the rogue MAC, exits 3 and registers nothing', async () => {
      const before = await lab.addresses6(n1);
      const result = await runIpfo(lab, n1, ['claim', `${vip}/${LAB_PREFIX6}`, '--dev', 'lan0', '--json']);
      assert.equal(result.code, 3, result.stderr);
      const usedBy = jsonLines(result.stdout).find((r) => r.event === 'used-by');
      assert.deepEqual(usedBy?.macs, [r1.mac]);
      assert.deepEqual(await lab.addresses6(n1), before);
    });

    test('a free address probes free (exit 0)', async () => {
      const result = await runIpfo(lab, n1, ['probe', lab.vip6(5), '--dev', 'lan0']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), 'free');
    });
  });

  test('another node probing the same address while we probe: both back off, nothing registered (RFC 4862 §5.4.3)', async () => {
    const vip = lab.vip6(7);
    const claim = startIpfo(lab, n1, ['claim', `${vip}/${LAB_PREFIX6}`, '--dev', 'lan0', '--timeout-ms', '1500', '--json']);
    await claim.waitFor((r) => r.event === 'probing' && r.n === 1, 5000, 'first probe');
    // Before the kernel holds the address the claim itself listens to its solicited-node group (MLD
    // joined, NIC filter open), which is where another node's DAD probe for it is sent.
    const group = solicitedNodeAddress(vip);
    assert.ok((await groups(lab, n1)).includes(group), `n1 has not joined ${group} while probing`);
    const sent = await lab.run(r1, [process.execPath, ND_SEND, '--dev', 'lan0', '--form', 'dad', '--ip', vip]);
    assert.equal(sent.code, 0, sent.stderr);
    const { code } = await claim.exited;
    assert.equal(code, 3, claim.stderr);
    const usedBy = claim.records.find((r) => r.event === 'used-by');
    assert.deepEqual(usedBy?.macs, [r1.mac]);
    assert.equal(await addressInfo(lab, n1, vip), null);
    assert.ok(!(await groups(lab, n1)).includes(group), `n1 still in ${group} after the claim gave up`);
  });

  test('a rogue advertisement: the node reports the conflict with the rogue MAC and defends; the client comes back', async () => {
    const vip = lab.vip6(6);
    const claim = startIpfo(lab, n1, ['claim', `${vip}/${LAB_PREFIX6}`, '--dev', 'lan0', '--no-probe', '--json']);
    await claim.waitForEvent('ready', 5000);
    await streamOnce(lab, c1, vip);
    await waitForNeighborMac(lab, c1, vip, n1.mac, 1000);

    const sent = await lab.run(r1, [process.execPath, ND_SEND, '--dev', 'lan0', '--form', 'na', '--ip', vip]);
    assert.equal(sent.code, 0, sent.stderr);
    const conflict = await claim.waitForEvent('conflict', 2000);
    assert.equal(conflict.mac, r1.mac);
    assert.equal(conflict.action, 'defended');
    assert.equal(conflict.frameKind, 'unsolicited-advertisement');
    const defended = await claim.waitForEvent('defended', 1000);
    assert.equal(defended.mac, r1.mac);
    await waitForNeighborMac(lab, c1, vip, n1.mac, 1000);
    const summary = await streamOnce(lab, c1, vip);
    assert.deepEqual(Object.keys(summary.perHost as object), ['n1']);
    await stopClaim(claim);
  });

  test('bad addresses exit 2 and change nothing', async () => {
    const before = await lab.addresses6(n1);
    const cases: Array<[string[], RegExp]> = [
      [['claim', 'fe80::5/64'], /link-local/],
      [['claim', 'ff02::5/64'], /multicast/],
      [['claim', '::ffff:10.0.0.1/96'], /IPv4-mapped/],
      [['claim', '::/64'], /unspecified/],
      [['claim', `${lab.vip6(8)}/129`], /at most 128/],
      [['claim', `${lab.vip6(8)}/0`], /\/0/],
      [['claim', '2001:db8::g/64'], /invalid/i],
      [['claim', '2001:db8::1%lan0/64'], /invalid/i],
      [['probe', '2001:db8::1/64'], /invalid/i],
      [['probe', 'FE80::1'], /link-local/],
    ];
    for (const [args, message] of cases) {
      const result = await runIpfo(lab, n1, [...args, '--dev', 'lan0']);
      assert.equal(result.code, 2, `${args.join(' ')}: exit ${String(result.code)}; ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
    }
    assert.deepEqual(await lab.addresses6(n1), before);
  });
});

/** The IPv6 multicast groups the host's lan0 is in (`ip -6 maddr`). */
async function groups(lab: Lab, host: LabHost): Promise<string[]> {
  const result = await lab.run(host, ['ip', '-6', 'maddr', 'show', 'dev', 'lan0']);
  return [...result.stdout.matchAll(/inet6 (\S+)/g)].map((match) => match[1]!);
}

interface AddressInfo {
  prefixlen: number;
  tentative?: boolean;
  nodad?: boolean;
}

/** n's lan0 entry for `ip` as `ip -j addr` shows it, or null. */
async function addressInfo(lab: Lab, host: LabHost, ip: string): Promise<AddressInfo | null> {
  const result = await lab.run(host, ['ip', '-6', '-j', 'addr', 'show', 'dev', 'lan0']);
  const links = JSON.parse(result.stdout) as Array<{ addr_info?: Array<Record<string, unknown>> }>;
  const info = links.flatMap((link) => link.addr_info ?? []).find((entry) => entry.local === ip);
  return info === undefined ? null : (info as unknown as AddressInfo);
}
