// `ipfo claim` and `ipfo watch` when the interface goes away under them (issue 10, part 1): claim says so
// on stderr and as an `interface-lost` JSON event, deregisters and exits 1 — never leaving the address
// behind, also under a new interface name — and rides out a lost carrier; watch reports the loss and
// resumes by itself, still seeing frames.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLab, type Lab, type LabHost } from './lab';
import { startIpfo } from './ipfo';

const ARP_SEND = join(__dirname, 'tools', 'arp-send.js');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ipfo claim and watch when the interface goes away', () => {
  let lab: Lab;
  let n1: LabHost;
  let r1: LabHost;

  before(async () => {
    lab = await createLab({ nodes: 1, clients: 0, rogue: true, name: 'cli-interface-loss' });
    [n1, r1] = [lab.host('n1'), lab.rogue!];
  });
  after(async () => {
    await lab?.destroy();
  });

  /** Every IPv4 address on any interface of n1 (a renamed lan0 is no longer lan0). */
  const allAddresses = async (): Promise<string> => (await lab.run(n1, ['ip', '-o', '-4', 'addr', 'show'])).stdout;

  const cases: Array<{ name: string; fault: () => Promise<void>; undo: () => Promise<void>; kind: RegExp }> = [
    { name: 'set down on the node', fault: () => lab.setAdminUp(n1, false), undo: () => lab.setAdminUp(n1, true), kind: /admin-down|capture-lost/ },
    { name: 'deleted and re-created', fault: () => lab.recreateInterface(n1, 500), undo: () => Promise.resolve(), kind: /missing|replaced|capture-lost/ },
    {
      name: 'renamed',
      fault: async () => {
        for (const args of [['link', 'set', 'lan0', 'down'], ['link', 'set', 'lan0', 'name', 'lanx'], ['link', 'set', 'lanx', 'up']]) {
          assert.equal((await lab.run(n1, ['ip', ...args])).code, 0);
        }
      },
      undo: async () => {
        for (const args of [['link', 'set', 'lanx', 'down'], ['link', 'set', 'lanx', 'name', 'lan0'], ['link', 'set', 'lan0', 'up']]) {
          assert.equal((await lab.run(n1, ['ip', ...args])).code, 0);
        }
      },
      kind: /admin-down|missing|capture-lost/,
    },
  ];

  for (const [i, c] of cases.entries()) {
    test(`claim: interface ${c.name} -> interface-lost, address removed, exit 1`, async () => {
      const vip = lab.vip(i + 1);
      const claim = startIpfo(lab, n1, ['claim', `${vip}/24`, '--dev', 'lan0', '--no-probe', '--json']);
      await claim.waitForEvent('ready', 5000);
      assert.match(await allAddresses(), new RegExp(` ${vip.replaceAll('.', '\\.')}/24 `));
      await c.fault();
      try {
        const { code, signal } = await claim.exited;
        assert.equal(signal, null, `claim died of ${String(signal)}: ${claim.stderr}`);
        assert.equal(code, 1, `exit code; stderr: ${claim.stderr}`);
        const lost = claim.records.find((r) => r.event === 'interface-lost');
        assert.ok(lost, `no interface-lost event in ${JSON.stringify(claim.records)}`);
        assert.match(String(lost.fault), c.kind);
        assert.match(claim.stderr, /ipfo claim: .*releasing/);
        assert.ok(claim.records.some((r) => r.event === 'down'), 'the claim ended with a down event');
        assert.doesNotMatch(await allAddresses(), new RegExp(` ${vip.replaceAll('.', '\\.')}/24 `), 'the address was left behind');
      } finally {
        await c.undo();
      }
    });
  }

  test('claim: a lost carrier is reported and ridden out; the address stays', async () => {
    const vip = lab.vip(9);
    const claim = startIpfo(lab, n1, ['claim', `${vip}/24`, '--dev', 'lan0', '--no-probe', '--json']);
    await claim.waitForEvent('ready', 5000);
    await lab.setLinkUp(n1, false);
    await sleep(1000);
    await lab.setLinkUp(n1, true);
    await sleep(600);
    assert.equal(claim.child.exitCode, null, `claim exited on a carrier loss: ${claim.stderr}`);
    assert.match(claim.stderr, /lost its carrier: still holding/);
    assert.match(claim.stderr, /has its carrier again/);
    assert.match(await allAddresses(), new RegExp(` ${vip.replaceAll('.', '\\.')}/24 `));
    claim.child.kill('SIGTERM');
    assert.equal((await claim.exited).code, 0);
    assert.doesNotMatch(await allAddresses(), new RegExp(` ${vip.replaceAll('.', '\\.')}/24 `));
  });

  test('watch: reports the loss, resumes by itself, and still sees frames', async () => {
    const watch = startIpfo(lab, n1, ['watch', '--dev', 'lan0', '--json']);
    await watch.waitFor((r) => r.event === 'stats', 10_000, 'first stats record');
    await lab.setAdminUp(n1, false);
    const lost = await watch.waitForEvent('interface-lost', 3000);
    assert.match(String(lost.detail), /lan0/);
    await sleep(500);
    await lab.setAdminUp(n1, true);
    await watch.waitForEvent('interface-back', 3000);
    const ip = lab.vip(10);
    const sent = await lab.run(r1, [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'announcement', '--ip', ip], { timeoutMs: 15_000 });
    assert.equal(sent.code, 0, sent.stderr);
    const seen = await watch.waitFor((r) => r.event === 'gratuitous' && r.ip === ip, 5000, 'a frame after the interface came back');
    assert.equal(seen.mac, r1.mac);
    watch.child.kill('SIGTERM');
    const { code } = await watch.exited;
    assert.equal(code, 0, `watch exit code; stderr: ${watch.stderr}`);
    const final = await watch.waitFor((r) => r.event === 'stats' && r.final === true, 2000, 'final stats');
    assert.ok(Number(final.decoded) >= 1, 'frames counted across the captures');
  });
});
