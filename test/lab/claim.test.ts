// Acceptance of the foundation in the lab: real kernels, real ARP frames through `cap`, the real `ipfo`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLab, toolArgv, type Lab, type LabHost } from './lab';
import { runIpfo, startIpfo, timeOf } from './ipfo';
import { JsonLines } from './json-lines';
import { echoTarget, startEcho, stopClaim, streamOnce } from './claim-helpers';
import { waitForNeighborMac } from './neighbor-wait';

const ARP_SEND = join(__dirname, 'tools', 'arp-send.js');

describe('ipfo claim/probe on a real LAN', () => {
  let lab: Lab;
  let n1: LabHost, n2: LabHost, c1: LabHost, r1: LabHost;

  before(async () => {
    lab = await createLab({ nodes: 2, clients: 1, rogue: true, name: 'claim-acceptance' });
    [n1, n2, c1, r1] = [lab.host('n1'), lab.host('n2'), lab.host('c1'), lab.host('r1')];
    await startEcho(lab, n1);
    await startEcho(lab, n2);
  });
  after(async () => {
    await lab?.destroy();
  });

  for (const nud of ['stale', 'reachable'] as const) {
    test(`a client whose ${nud} entry points at another MAC follows the announcement within 100 ms`, async () => {
      const vip = lab.vip(nud === 'stale' ? 1 : 2);
      await lab.setNeighbor(c1, vip, n2.mac, nud);
      assert.equal((await lab.neighbor(c1, vip))?.mac, n2.mac);

      const claim = startIpfo(lab, n1, ['claim', `${vip}/24`, '--dev', 'lan0', '--json']);
      const announced = await claim.waitFor((r) => r.event === 'announced' && r.n === 1, 5000, 'first announcement');
      const seenAt = await waitForNeighborMac(lab, c1, vip, n1.mac, 1000);
      const lagMs = seenAt - timeOf(announced);
      assert.ok(lagMs < 100, `client followed ${lagMs} ms after the announcement`);

      const summary = await streamOnce(lab, c1, vip);
      assert.deepEqual(Object.keys(summary.perHost as object), ['n1'], `datagrams answered by ${JSON.stringify(summary.perHost)}`);
      assert.ok((summary.received as number) >= 18, `only ${String(summary.received)} of 20 datagrams answered`);
      assert.ok((await lab.addresses(n1)).includes(`${vip}/24`));
      await stopClaim(claim);
      assert.ok(!(await lab.addresses(n1)).includes(`${vip}/24`), 'address removed after release');
    });
  }

  test('release on node 1 + claim on node 2: the client follows to node 2', async () => {
    const vip = lab.vip(3);
    const stream = new JsonLines(lab.spawn(c1, toolArgv('udp-stream', ['--to', echoTarget(vip), '--interval-ms', '2', '--duration-ms', '20000', '--wait-ms', '200'])));
    const first = startIpfo(lab, n1, ['claim', `${vip}/24`, '--dev', 'lan0', '--no-probe', '--json']);
    await stream.waitFor((r) => r.type === 'owner' && r.host === 'n1', 5000, 'replies from n1');
    await stopClaim(first);
    const second = startIpfo(lab, n2, ['claim', `${vip}/24`, '--dev', 'lan0', '--json']);
    await second.waitForEvent('ready', 5000);
    await stream.waitFor((r) => r.type === 'owner' && r.host === 'n2', 3000, 'replies from n2');
    stream.child.kill('SIGTERM');
    const summary = await stream.waitFor((r) => r.type === 'summary', 5000, 'stream summary');
    const lastOwner = stream.records.filter((r) => r.type === 'owner').at(-1);
    assert.equal(lastOwner?.host, 'n2');
    assert.ok(((summary.perHost as Record<string, number>).n2 ?? 0) > 0);
    assert.ok(!(await lab.addresses(n1)).includes(`${vip}/24`));
    assert.ok((await lab.addresses(n2)).includes(`${vip}/24`));
    await stopClaim(second);
  });

  describe('the rogue holds the address', () => {
    let vip: string;
    before(async () => {
      vip = lab.vip(4);
      await lab.run(r1, ['ip', 'addr', 'add', `${vip}/24`, 'dev', 'lan0']);
    });
    after(async () => {
      await lab.run(r1, ['ip', 'addr', 'del', `${vip}/24`, 'dev', 'lan0']);
    });

    test('ipfo probe names the rogue MAC and exits 3', async () => {
      const result = await runIpfo(lab, n1, ['probe', vip, '--dev', 'lan0']);
      assert.equal(result.code, 3, result.stderr);
      assert.match(result.stdout, new RegExp(`in use by ${r1.mac}`));
      const json = await runIpfo(lab, n1, ['probe', vip, '--dev', 'lan0', '--json']);
      assert.equal(json.code, 3);
      assert.deepEqual(JSON.parse(json.stdout.trim()), { event: 'in-use', ip: vip, mac: r1.mac });
    });

    test('ipfo claim names the rogue MAC, exits 3 and adds no address', async () => {
      const before = await lab.addresses(n1);
      const result = await runIpfo(lab, n1, ['claim', `${vip}/24`, '--dev', 'lan0', '--json']);
      assert.equal(result.code, 3, result.stderr);
      const usedBy = result.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.event === 'used-by');
      assert.deepEqual(usedBy?.macs, [r1.mac]);
      assert.deepEqual(await lab.addresses(n1), before);
    });

    test('a free address probes free (exit 0)', async () => {
      const result = await runIpfo(lab, n1, ['probe', lab.vip(5), '--dev', 'lan0']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), 'free');
    });
  });

  test('a rogue gratuitous ARP: the node reports the conflict with the rogue MAC and defends', async () => {
    const vip = lab.vip(6);
    const claim = startIpfo(lab, n1, ['claim', `${vip}/24`, '--dev', 'lan0', '--no-probe', '--json']);
    await claim.waitForEvent('ready', 5000);
    // The client talks to the address, so it has an entry for it.
    await streamOnce(lab, c1, vip);
    await waitForNeighborMac(lab, c1, vip, n1.mac, 1000);

    const sent = await lab.run(r1, [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'announcement', '--ip', vip]);
    assert.equal(sent.code, 0, sent.stderr);
    const conflict = await claim.waitForEvent('conflict', 2000);
    assert.equal(conflict.mac, r1.mac);
    assert.equal(conflict.action, 'defended');
    const defended = await claim.waitForEvent('defended', 1000);
    assert.equal(defended.mac, r1.mac);
    await waitForNeighborMac(lab, c1, vip, n1.mac, 1000);
    const summary = await streamOnce(lab, c1, vip);
    assert.deepEqual(Object.keys(summary.perHost as object), ['n1']);
    await stopClaim(claim);
  });
});
