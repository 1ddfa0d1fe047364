// The MAC witness (tools/mac-witness.ts) for an IPv6 address, on real kernels: its neighbour
// solicitations draw the holders' advertisements, one holder means every answer names its MAC and no
// overlap, two holders of the same address mean overlaps naming both (issue 18: "no moment with two MACs"
// is only worth asserting if a moment with two MACs is seen).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, LAB_PREFIX6, type Lab, type LabHost } from './lab';
import { startMacWitness } from './witness';

const WATCH_MS = 500;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('MAC witness over neighbour discovery', () => {
  let lab: Lab;
  let n1: LabHost, n2: LabHost;
  let vip: string;

  before(async () => {
    lab = await createLab({ nodes: 2, clients: 1, rogue: false, ipv6: true, name: 'witness-nd' });
    [n1, n2] = [lab.host('n1'), lab.host('n2')];
    vip = lab.vip6(1);
  });
  after(async () => {
    await lab?.destroy();
  });

  async function addVip(host: LabHost): Promise<void> {
    const added = await lab.run(host, ['ip', 'addr', 'add', `${vip}/${LAB_PREFIX6}`, 'dev', host.ifname, 'nodad']);
    assert.equal(added.code, 0, added.stderr);
  }

  test('the address on n1 only: every answer names n1\'s MAC, paired with the witness\'s solicitations, no overlap', async (t) => {
    await addVip(n1);
    const witness = await startMacWitness(lab, 'c1', vip);
    await sleep(WATCH_MS);
    const report = await witness.stop();
    t.diagnostic(`${report.probesSent} solicitations sent, ${report.requests} requests, ${report.answerCount} answers from ${Object.keys(report.macs).join(', ')}`);
    assert.equal(report.address, vip);
    assert.ok(report.probesSent >= 10, `only ${report.probesSent} solicitations sent`);
    assert.ok(report.requests >= report.probesSent, `${report.requests} requests seen, ${report.probesSent} sent`);
    assert.deepEqual(Object.keys(report.macs), [n1.mac], `answers from ${JSON.stringify(report.macs)}`);
    assert.ok(report.answerCount >= 10, `only ${report.answerCount} answers`);
    assert.deepEqual(report.overlaps, []);
    assert.deepEqual(report.transitions, []);
    const replies = witness.answers.filter((a) => a.kind === 'reply' && a.request !== null);
    assert.ok(replies.length >= report.answerCount - 2, `${replies.length} of ${report.answerCount} answers paired with a solicitation`);
  });

  test('the same address also on n2: overlaps naming both MACs', async (t) => {
    await addVip(n2);
    const witness = await startMacWitness(lab, 'c1', vip);
    await sleep(WATCH_MS);
    const report = await witness.stop();
    t.diagnostic(`${report.probesSent} solicitations sent, ${report.answerCount} answers, overlaps ${JSON.stringify(report.overlaps)}`);
    const both = [n1.mac, n2.mac].sort();
    assert.deepEqual(Object.keys(report.macs).sort(), both, `answers from ${JSON.stringify(report.macs)}`);
    assert.ok(report.overlaps.length > 0, 'no overlap reported');
    for (const overlap of report.overlaps) assert.deepEqual(overlap.macs, both);
    assert.ok(
      report.overlaps.some((overlap) => overlap.rules.includes('same-request')),
      `no solicitation answered by both: ${JSON.stringify(report.overlaps)}`,
    );
  });
});
