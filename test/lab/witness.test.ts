// The two-MAC witness against real kernels: it must report an overlap when two
// nodes really hold one address, and none when one node holds it or when the
// address moves cleanly (release, then add and announce on the other node).
// Run serially: node --test --test-concurrency=1 build/test/lab/witness.test.js
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLab, type Lab, type LabHost } from './lab';
import { ip } from './netns';
import { startMacWitness } from './witness';

const ARP_SEND = join(__dirname, 'tools', 'arp-send.js');
const INTERVAL_MS = 20;
const WATCH_MS = 300;

function labUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
  return null;
}
const skipReason = labUnavailableReason();
if (skipReason !== null) process.stdout.write(`# witness lab tests skipped: ${skipReason}\n`);

describe('mac-witness on a real LAN', { skip: skipReason ?? false, timeout: 120_000 }, () => {
  let lab: Lab;
  let n1: LabHost, n2: LabHost;
  let vip: string;

  const addVip = (host: LabHost): Promise<string> => ip(['-n', host.ns, 'addr', 'add', `${vip}/24`, 'dev', host.ifname]);
  const delVip = (host: LabHost): Promise<string> => ip(['-n', host.ns, 'addr', 'del', `${vip}/24`, 'dev', host.ifname]);
  const holders = async (): Promise<string[]> => {
    const all = await Promise.all([n1, n2].map(async (host) => ((await lab.addresses(host)).includes(`${vip}/24`) ? [host.name] : [])));
    return all.flat();
  };

  before(async () => {
    lab = await createLab({ nodes: 2, clients: 1, rogue: false, name: 'witness' });
    [n1, n2] = [lab.host('n1'), lab.host('n2')];
  });

  after(async () => {
    await lab?.destroy();
  });

  test('one node holding the address: its MAC only, no overlap', async () => {
    vip = lab.vip(1);
    await addVip(n1);
    const witness = await startMacWitness(lab, 'c1', vip, { intervalMs: INTERVAL_MS });
    await sleep(WATCH_MS);
    const summary = await witness.stop();
    await delVip(n1);
    assert.deepEqual(summary.overlaps, []);
    assert.deepEqual(Object.keys(summary.macs), [n1.mac]);
    // ~15 probes in 300 ms; a loaded machine may fire fewer timers, but never only a handful.
    assert.ok(summary.probesSent >= 8, `probes sent: ${summary.probesSent}`);
    assert.ok((summary.macs[n1.mac]?.answers ?? 0) >= summary.probesSent - 1, `answers ${JSON.stringify(summary.macs)} for ${summary.probesSent} probes`);
    assert.deepEqual(summary.transitions, []);
    assert.equal(witness.answers.length, summary.answerCount, 'one answer line per answer');
    assert.ok(witness.answers.every((a) => a.mac === n1.mac && a.kind === 'reply' && a.request !== null));
  });

  test('two nodes holding the address at once: an overlap naming both MACs', async () => {
    vip = lab.vip(2);
    await addVip(n1);
    await addVip(n2);
    assert.deepEqual(await holders(), ['n1', 'n2']);
    const witness = await startMacWitness(lab, 'c1', vip, { intervalMs: INTERVAL_MS });
    await sleep(WATCH_MS);
    const summary = await witness.stop();
    await Promise.all([delVip(n1), delVip(n2)]);
    assert.ok(summary.overlaps.length >= 1, `no overlap reported: ${JSON.stringify(summary)}`);
    const expected = [n1.mac, n2.mac].sort();
    for (const overlap of summary.overlaps) assert.deepEqual(overlap.macs, expected);
    assert.ok(summary.overlaps.some((o) => o.rules.includes('same-request')), 'both replied to one request');
    // Both held it for the whole watch: the overlap spans most of it.
    const spanMs = Math.max(...summary.overlaps.map((o) => o.toWallMs - o.fromWallMs));
    assert.ok(spanMs >= WATCH_MS / 2, `overlap spans ${spanMs} ms of ${WATCH_MS}`);
  });

  test('the second node added while the first still holds it: caught as it happens', async () => {
    vip = lab.vip(3);
    await addVip(n1);
    const witness = await startMacWitness(lab, 'c1', vip, { intervalMs: INTERVAL_MS });
    await sleep(100);
    const addedAt = Date.now();
    await addVip(n2);
    await sleep(100);
    await delVip(n1);
    const removedAt = Date.now();
    await sleep(100);
    const summary = await witness.stop();
    await delVip(n2);
    assert.equal(summary.overlaps.length, 1, JSON.stringify(summary.overlaps));
    const [overlap] = summary.overlaps;
    assert.deepEqual(overlap?.macs, [n1.mac, n2.mac].sort());
    // Inside the time both held it (wall clocks of two processes: allow a few ms).
    assert.ok((overlap?.fromWallMs ?? 0) >= addedAt - 5 && (overlap?.toWallMs ?? 0) <= removedAt + 5, `overlap ${JSON.stringify(overlap)} outside [${addedAt}, ${removedAt}]`);
  });

  test('a clean move (release, then add and announce on the other node): no overlap, one transition', async () => {
    vip = lab.vip(4);
    await addVip(n1);
    const witness = await startMacWitness(lab, 'c1', vip, { intervalMs: INTERVAL_MS });
    await sleep(150);
    await delVip(n1);
    await addVip(n2);
    const announce = await lab.run(n2, [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'announcement', '--ip', vip]);
    assert.equal(announce.code, 0, announce.stderr);
    await sleep(150);
    const summary = await witness.stop();
    await delVip(n2);
    assert.deepEqual(summary.overlaps, []);
    assert.deepEqual(Object.keys(summary.macs).sort(), [n1.mac, n2.mac].sort());
    assert.deepEqual(
      summary.transitions.map((t) => [t.from, t.to]),
      [[n1.mac, n2.mac]],
    );
    assert.ok(witness.answers.some((a) => a.mac === n2.mac && a.kind === 'announcement'), 'the announcement is recorded');
  });
});
