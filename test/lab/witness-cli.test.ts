// `ipfo witness` and `ipfo watch --audit` on real kernels (issue 15 §4), run from a client station of the lab:
// (a) during a planned move on a two-node cluster (agents + etcd) the witness reports the MAC change n1 -> n2
//     with a silence > 0 and below a bound, no double MAC, exit 0; (b) a rogue's gratuitous ARP for the held
//     address: a double-MAC moment naming the owner's and the rogue's MACs, exit 5; (c) two plain stations given
//     the same address (no agents): the audit of the lab's /24 names the duplicate with both MACs, exit 5.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { ipfoArgv, runIpfo, startIpfo } from './ipfo';
import type { JsonRecord } from './json-lines';

const ARP_SEND = join(__dirname, 'tools', 'arp-send.js');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const EXIT_DOUBLE_MAC = 5;
const of = (records: readonly JsonRecord[], event: string): JsonRecord[] => records.filter((r) => r.event === event);

describe('ipfo witness on a cluster: a planned move and a rogue', { timeout: 180_000 }, () => {
  let lab: Lab;
  let cluster: LabCluster;
  let vip: string;

  before(async () => {
    lab = await createLab({ nodes: 2, clients: 1, rogue: true, name: 'witness-cli' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
    vip = lab.vip(1);
    const added = await cluster.api('n1', 'resource.add', { spec: { name: 'web', ip: `${vip}/24`, preferredOwners: ['n1'] } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n1', 'web', 'n1');
  });
  after(async () => {
    await cluster?.destroy();
    await lab?.destroy();
  });

  test('a planned move: the change n1 -> n2 with its silence, no double MAC, exit 0', async (t) => {
    const [n1, n2] = [cluster.host('n1').mac, cluster.host('n2').mac];
    // No --dev: the client's lan0 is the interface with an address in the subnet of the VIP.
    const witness = startIpfo(lab, 'c1', ['witness', vip, '--every', '10ms', '--for', '5s', '--json']);
    const start = await witness.waitForEvent('start', 10_000);
    assert.equal(start.dev, 'lan0');
    assert.equal((await witness.waitForEvent('answering', 5_000)).mac, n1);
    await sleep(1_000);
    const moved = await cluster.cli('n2', ['move', 'web', 'n2']);
    assert.equal(moved.code, 0, moved.stderr);
    t.diagnostic(moved.stdout.trim());
    const exited = await witness.exited;
    assert.equal(exited.code, 0, witness.stderr);

    const changes = of(witness.records, 'change');
    assert.equal(changes.length, 1, JSON.stringify(changes));
    const change = changes[0]!;
    assert.equal(change.from, n1);
    assert.equal(change.to, n2);
    const gapMs = change.gapMs as number;
    t.diagnostic(`silence around the move, as the witness measured it: ${gapMs} ms; gaps: ${JSON.stringify(of(witness.records, 'gap'))}`);
    assert.ok(gapMs > 0 && gapMs < 1_000, `the silence around the move: ${gapMs} ms`);
    // At least one probe went out between the old MAC's last answer and the new one's first.
    assert.ok((change.probesBetween as number) >= 1, JSON.stringify(change));
    assert.deepEqual(of(witness.records, 'double-mac'), []);
    const summary = of(witness.records, 'summary')[0]!;
    t.diagnostic(JSON.stringify(summary));
    assert.equal(summary.verdict, 'one-answerer');
    assert.equal(summary.changes, 1);
    assert.equal(summary.doubleMacMoments, 0);
    assert.equal(summary.exitCode, 0);
    // ~500 probes in 5 s at 10 ms, nearly all seen on the wire and answered.
    const sent = summary.probesSent as number;
    assert.ok(sent >= 400 && sent <= 520, `probes sent: ${sent}`);
    assert.ok((summary.probesSeen as number) >= sent - 2, `probes seen ${String(summary.probesSeen)} of ${sent}`);
    assert.ok((summary.answers as number) >= sent * 0.9, `answers: ${String(summary.answers)} of ${sent} probes`);
    // The longest gap includes the move's, and is below the bound too.
    assert.ok((summary.longestGapMs as number) < 1_000, `longest gap ${String(summary.longestGapMs)} ms`);
    assert.deepEqual((summary.macs as Array<{ mac: string }>).map((m) => m.mac), [n1, n2]);
  });

  test('the people\'s output: the move back n2 -> n1 in one line, a summary line, exit 0', async (t) => {
    await cluster.waitOwner('n1', 'web', 'n2');
    const [n1, n2] = [cluster.host('n1').mac, cluster.host('n2').mac];
    const witness = lab.run('c1', ipfoArgv(['witness', vip, '--every', '10ms', '--for', '3s']), { timeoutMs: 20_000 });
    await sleep(1_000);
    const moved = await cluster.cli('n1', ['move', 'web', 'n1']);
    assert.equal(moved.code, 0, moved.stderr);
    const done = await witness;
    t.diagnostic(`${moved.stdout.trim()}\n${done.stdout}`);
    assert.equal(done.code, 0, done.stderr);
    const lines = done.stdout.trim().split('\n');
    assert.match(lines[0]!, new RegExp(`^witnessing ${vip.replaceAll('.', '\\.')} on lan0 \\(${lab.host('c1').mac}, asking from ${lab.host('c1').ip.replaceAll('.', '\\.')}\\), a probe every 10 ms for 3000 ms$`));
    assert.equal(lines.filter((line) => line.includes(` change ${vip}: ${n2} (locally administered) -> ${n1} (locally administered), `)).length, 1, done.stdout);
    assert.match(lines.at(-1)!, /^summary: \d+ probes sent, \d+ answers, longest gap [\d.]+ ms \(\d+ gaps?; probes at most [\d.]+ ms apart\), 1 MAC change, 0 double-MAC moments; answered by /);
  });

  test('a rogue\'s gratuitous ARP for the held address: a double-MAC moment naming both MACs, exit 5', async (t) => {
    await cluster.waitOwner('n2', 'web', 'n1');
    const owner = cluster.host('n1').mac;
    const rogue = lab.rogue!.mac;
    const witness = startIpfo(lab, 'c1', ['witness', vip, '--dev', 'lan0', '--json']);
    assert.equal((await witness.waitForEvent('answering', 10_000)).mac, owner);
    await sleep(500);
    const sent = await lab.run('r1', [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'announcement', '--ip', vip, '--count', '10', '--interval-ms', '10'], { timeoutMs: 10_000 });
    assert.equal(sent.code, 0, sent.stderr);
    const double = await witness.waitForEvent('double-mac', 5_000);
    t.diagnostic(JSON.stringify(double));
    assert.deepEqual(double.macs, [owner, rogue].sort());
    await sleep(500);
    await lab.stop(witness.child); // SIGTERM: the summary, then the exit code
    const exited = await witness.exited;
    assert.equal(exited.code, EXIT_DOUBLE_MAC, witness.stderr);
    const summary = of(witness.records, 'summary')[0]!;
    t.diagnostic(JSON.stringify(summary));
    assert.equal(summary.verdict, 'double-mac');
    assert.ok((summary.doubleMacMoments as number) >= 1);
    assert.equal(summary.exitCode, EXIT_DOUBLE_MAC);
    const ends = of(witness.records, 'double-mac-end');
    assert.ok(ends.length >= 1 && (ends[0]!.macs as string[]).includes(rogue), JSON.stringify(ends));
  });

  test('an address nobody holds: never answered, exit 6', async () => {
    const witness = startIpfo(lab, 'c1', ['witness', lab.vip(99), '--every', '20ms', '--for', '500ms', '--json']);
    const exited = await witness.exited;
    assert.equal(exited.code, 6, witness.stderr);
    const summary = of(witness.records, 'summary')[0]!;
    assert.equal(summary.verdict, 'no-answer');
    assert.equal(summary.answers, 0);
    const [gap] = of(witness.records, 'gap');
    assert.equal(gap?.ongoing, true);
    assert.equal(gap?.fromStart, true);
  });
});

describe('ipfo watch --audit: two plain stations with one address', { timeout: 120_000 }, () => {
  let lab: Lab;

  before(async () => {
    lab = await createLab({ nodes: 1, clients: 3, rogue: false, name: 'witness-audit' });
  });
  after(async () => {
    await lab?.destroy();
  });

  test('the duplicate is named with both MACs; exit 5', async (t) => {
    const shared = lab.vip(7);
    for (const host of ['c1', 'c2']) {
      const added = await lab.run(host, ['ip', 'addr', 'add', `${shared}/24`, 'dev', 'lan0']);
      assert.equal(added.code, 0, added.stderr);
    }
    const audit = startIpfo(lab, 'c3', ['watch', '--audit', lab.subnet, '--every', '500ms', '--for', '3s', '--json']);
    const exited = await audit.exited;
    assert.equal(exited.code, EXIT_DOUBLE_MAC, audit.stderr);
    const macs = [lab.host('c1').mac, lab.host('c2').mac].sort();
    const found = of(audit.records, 'duplicate');
    assert.deepEqual(found.map((r) => [r.ip, r.macs]), [[shared, macs]], JSON.stringify(found));
    const summary = of(audit.records, 'summary')[0]!;
    t.diagnostic(JSON.stringify(summary));
    assert.deepEqual((summary.duplicates as Array<{ ip: string; macs: string[] }>).map((d) => [d.ip, d.macs]), [[shared, macs]]);
    assert.ok((summary.sweeps as number) >= 4, `sweeps: ${String(summary.sweeps)}`);
    // n1, c1, c2 (their own addresses) and the shared one answered; c3 is the auditor.
    assert.ok((summary.stations as number) >= 4, `stations: ${String(summary.stations)}`);
    assert.equal(summary.exitCode, EXIT_DOUBLE_MAC);
    // For people: the duplicate in one line, the summary at the end.
    const human = await runIpfo(lab, 'c3', ['watch', '--audit', lab.subnet, '--every', '500ms', '--for', '1500ms'], 20_000);
    t.diagnostic(human.stdout);
    assert.equal(human.code, EXIT_DOUBLE_MAC, human.stderr);
    assert.match(human.stdout, new RegExp(` DUPLICATE ${shared.replaceAll('.', '\\.')}: answered by ${macs[0]} \\(locally administered\\) and ${macs[1]} \\(locally administered\\)\n`));
    assert.match(human.stdout, /\nsummary: \d+ sweeps of [\d.]+\/24 \(\d+ requests\), \d+ addresses claimed, 1 duplicate \(/);
  });

  test('one station per address: nothing reported, exit 0', async () => {
    await lab.run('c2', ['ip', 'addr', 'del', `${lab.vip(7)}/24`, 'dev', 'lan0']);
    const audit = startIpfo(lab, 'c3', ['watch', '--audit', lab.subnet, '--dev', 'lan0', '--every', '500ms', '--for', '2s', '--json']);
    const exited = await audit.exited;
    assert.equal(exited.code, 0, audit.stderr);
    assert.deepEqual(of(audit.records, 'duplicate'), []);
    const summary = of(audit.records, 'summary')[0]!;
    assert.deepEqual(summary.duplicates, []);
  });
});
