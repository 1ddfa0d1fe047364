// The lab itself, tested for real: namespaces, a bridge, veths, ARP between
// real kernels, and teardown in every way a test run can end.
// Run serially: node --test --test-concurrency=1 build/test/lab/lab.test.js
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sweepStaleLabs } from './cleanup';
import { createLab, withLab, type Lab, type LabHost } from './lab';
import { LAB_STATE_DIR } from './lab-state';
import { ip, listNamespaces, namespacePids } from './netns';
import { isProcessRunning } from './processes';
import { startUdpEcho, startUdpStream, udpProbe } from './traffic';
import { StreamStats } from './tools/stream-stats';

const TEST_TIMEOUT_MS = 60_000;

function labUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
  return null;
}
const skipReason = labUnavailableReason();
if (skipReason !== null) process.stdout.write(`# lab tests skipped: ${skipReason}\n`);

function assertLabGone(lab: Lab, pids: readonly number[]): void {
  const left = listNamespaces().filter((ns) => lab.namespaces.includes(ns));
  assert.deepEqual(left, [], `namespaces left behind by lab ${lab.id}`);
  for (const pid of pids) assert.equal(isProcessRunning(pid), false, `pid ${pid} still runs after teardown`);
  assert.equal(existsSync(join(LAB_STATE_DIR, `${lab.id}.json`)), false, 'lab record left behind');
  assert.equal(existsSync(join(LAB_STATE_DIR, `subnet-${lab.subnetIndex}.claim`)), false, 'subnet claim left behind');
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Hosts that answered one datagram: waits up to 1 s for a reply (returns at once when it comes), 500 ms when none is expected. */
async function answeredBy(lab: Lab, from: LabHost | string, to: string, options: { expectSilence?: boolean } = {}): Promise<string[]> {
  const report = await udpProbe(lab, from, to, { waitMs: options.expectSilence ? 500 : 1000 });
  return Object.keys(report.perHost).sort();
}

// ---- pure bookkeeping of udp-stream (no root needed) -----------------------

describe('StreamStats', () => {
  test('reports owner changes, the longest reply gap, losses and duplicates', () => {
    const stats = new StreamStats();
    for (const sentAt of [0, 1, 2, 3, 4, 5, 6, 7, 8, 12]) stats.recordSend(sentAt);
    const changes = [
      stats.recordReply({ host: 'n1', seq: 0, t: 0 }, 0.5),
      stats.recordReply({ host: 'n1', seq: 1, t: 1 }, 1.5),
      stats.recordReply({ host: 'n2', seq: 6, t: 6 }, 6.5),
      stats.recordReply({ host: 'n2', seq: 6, t: 6 }, 6.6),
      stats.recordReply({ host: 'n2', seq: 7, t: 7 }, 7.5),
      stats.recordReply({ host: 'n1', seq: 8, t: 8 }, 8.5),
      stats.recordReply({ host: 'x', seq: 99, t: 0 }, 9),
      stats.recordReply({ host: 'x', seq: null, t: null }, 9),
    ].filter((change) => change !== null);
    assert.deepEqual(
      changes.map((c) => [c.host, c.previous, c.first, c.seq]),
      [
        ['n1', null, true, 0],
        ['n2', 'n1', true, 6],
        ['n1', 'n2', false, 8],
      ],
    );
    assert.equal(stats.received, 5);
    const summary = stats.summary();
    assert.equal(summary.sent, 10);
    assert.equal(summary.received, 5);
    assert.equal(summary.lost, 5);
    assert.deepEqual(summary.lostRanges, [[2, 5], [9, 9]]);
    assert.deepEqual(summary.longestLossRun, { fromSeq: 2, toSeq: 5, count: 4 });
    assert.equal(summary.longestGapMs, 5);
    assert.equal(summary.longestGap?.hostBefore, 'n1');
    assert.equal(summary.longestGap?.hostAfter, 'n2');
    assert.deepEqual(summary.perHost, { n1: 3, n2: 3 });
    assert.deepEqual(summary.firstReplyMs, { n1: 0.5, n2: 6.5 });
    assert.equal(summary.duplicates, 1);
    assert.equal(summary.foreign, 2);
    assert.equal(summary.ownerChanges, 3);
    assert.deepEqual(summary.rttMs, { min: 0.5, p50: 0.5, p99: 0.5, max: 0.5 });
    assert.equal(summary.achievedIntervalMs, 1.333);
    assert.equal(summary.longestSendGapMs, 4);
  });
});

// ---- the lab, for real ------------------------------------------------------

describe('lab', { skip: skipReason ?? false, timeout: 10 * TEST_TIMEOUT_MS }, () => {
  before(async () => {
    const report = await sweepStaleLabs();
    for (const lab of report.removed) process.stdout.write(`# swept stale lab ${lab.id} (pid ${lab.ownerPid} gone)\n`);
  });

  test('builds the topology: names, addresses, MACs and quiet, default-ARP kernels', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withLab({ name: 'layout' }, async (lab) => {
      assert.deepEqual(
        lab.hosts.map((h) => [h.name, h.role]),
        [
          ['n1', 'node'],
          ['n2', 'node'],
          ['c1', 'client'],
          ['r1', 'rogue'],
        ],
      );
      assert.match(lab.subnet, /^10\.213\.\d{1,3}\.0\/24$/);
      assert.equal(lab.vip(1), lab.subnet.replace(/0\/24$/, '101'));
      assert.throws(() => lab.vip(0), RangeError);
      const existing = listNamespaces();
      for (const ns of lab.namespaces) {
        assert.ok(existing.includes(ns), `namespace ${ns} exists`);
        assert.match(ns, /^ipfo[0-9a-f]{6}-/);
      }
      for (const name of [lab.bridge, ...lab.hosts.map((h) => h.port)]) assert.ok(Buffer.byteLength(name) <= 15, `${name} fits IFNAMSIZ`);
      assert.equal(new Set(lab.hosts.map((h) => h.mac)).size, lab.hosts.length, 'MACs are unique');
      for (const host of lab.hosts) {
        assert.match(host.mac, /^02:1f:/, 'locally administered');
        assert.equal(host.ifname, 'lan0');
        assert.ok(lab.contains(host.ip));
        assert.deepEqual(await lab.addresses(host), [`${host.ip}/24`]);
        const links = JSON.parse(await ip(['-n', host.ns, '-j', 'link', 'show', 'dev', 'lan0'])) as Array<{ address: string; operstate: string }>;
        assert.equal(links[0]?.address, host.mac);
        assert.equal(links[0]?.operstate, 'UP');
        assert.equal(await lab.sysctl(host, 'net.ipv6.conf.lan0.disable_ipv6'), '1');
        assert.equal(await lab.sysctl(host, 'net.ipv4.conf.lan0.arp_accept'), '0');
      }
      // The tests depend on Linux's default locktime (1 s = 100 USER_HZ ticks) on the client.
      assert.equal(await lab.sysctl('c1', 'net.ipv4.neigh.lan0.locktime'), '100');
      const bridge = JSON.parse(await ip(['-n', lab.switchNs, '-d', '-j', 'link', 'show', 'dev', lab.bridge])) as Array<{
        linkinfo: { info_data: { stp_state: number; forward_delay: number } };
      }>;
      assert.equal(bridge[0]?.linkinfo.info_data.stp_state, 0);
      assert.equal(bridge[0]?.linkinfo.info_data.forward_delay, 0);
      // Nothing of the lab lives in this (the host's) namespace.
      const hostLinks = JSON.parse(await ip(['-j', 'link', 'show'])) as Array<{ ifname: string }>;
      assert.deepEqual(hostLinks.filter((l) => l.ifname.startsWith(`ipfo${lab.id}`)), []);
    });
  });

  test('every host reaches every other host and learns its MAC by ARP', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withLab({ nodes: 2, clients: 1, rogue: true, name: 'reachability' }, async (lab) => {
      await Promise.all(lab.hosts.map((host) => startUdpEcho(lab, host)));
      for (const from of lab.hosts) {
        const targets = lab.hosts.filter((h) => h !== from);
        const answers = await Promise.all(targets.map((to) => answeredBy(lab, from, to.ip)));
        assert.deepEqual(answers, targets.map((to) => [to.name]), `${from.name} reaches every other host`);
        for (const to of targets) {
          const entry = await lab.neighbor(from, to.ip);
          assert.equal(entry?.mac, to.mac, `${from.name} resolved ${to.name}`);
          assert.ok(['reachable', 'stale', 'delay', 'probe'].includes(entry.state), `state ${entry.state}`);
        }
      }
      assert.equal(await lab.neighbor('c1', lab.vip(9)), null, 'no entry for an address nobody used');
    });
  });

  test('setNeighbor writes stale, reachable and permanent entries and steers the traffic', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withLab({ rogue: false, name: 'neighbors' }, async (lab) => {
      const vip = lab.vip(1);
      const [n1, n2] = [lab.host('n1'), lab.host('n2')];
      // Both nodes hold the address: only the client's neighbour entry decides who gets the traffic.
      for (const node of [n1, n2]) {
        const added = await lab.run(node, ['ip', 'addr', 'add', `${vip}/24`, 'dev', 'lan0']);
        assert.equal(added.code, 0, added.stderr);
        await startUdpEcho(lab, node);
      }
      assert.deepEqual(await lab.addresses(n1), [`${n1.ip}/24`, `${vip}/24`]);
      for (const nud of ['stale', 'reachable', 'permanent'] as const) {
        for (const target of [n2, n1]) {
          await lab.setNeighbor('c1', vip, target.mac, nud);
          assert.deepEqual(await lab.neighbor('c1', vip), { mac: target.mac, state: nud });
          assert.deepEqual(await answeredBy(lab, 'c1', vip), [target.name], `${nud} entry -> ${target.name}`);
        }
      }
      await assert.rejects(lab.setNeighbor('c1', '192.0.2.1', n1.mac, 'stale'), RangeError, 'addresses outside the lab are refused');
      await lab.deleteNeighbor('c1', vip);
      assert.equal(await lab.neighbor('c1', vip), null);
    });
  });

  test('setLinkUp(false) and setPartitioned(true) cut a host off; undoing them restores it', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withLab({ nodes: 1, rogue: false, name: 'link' }, async (lab) => {
      const n1 = lab.host('n1');
      await startUdpEcho(lab, n1);
      assert.deepEqual(await answeredBy(lab, 'c1', n1.ip), ['n1']);

      await lab.setLinkUp(n1, false);
      assert.deepEqual(await answeredBy(lab, 'c1', n1.ip, { expectSilence: true }), [], 'no reply with the cable cut');
      const [down] = JSON.parse(await ip(['-n', n1.ns, '-j', 'link', 'show', 'dev', 'lan0'])) as Array<{ flags: string[] }>;
      assert.ok(down?.flags.includes('NO-CARRIER'), 'the host sees carrier loss');
      await lab.setLinkUp(n1, true);
      await waitFor('n1 reachable again', async () => (await answeredBy(lab, 'c1', n1.ip)).includes('n1'));

      await lab.setPartitioned(n1, true);
      assert.deepEqual(await answeredBy(lab, 'c1', n1.ip, { expectSilence: true }), [], 'no reply through a disabled port');
      const [up] = JSON.parse(await ip(['-n', n1.ns, '-j', 'link', 'show', 'dev', 'lan0'])) as Array<{ flags: string[] }>;
      assert.ok(!up?.flags.includes('NO-CARRIER'), 'a partition keeps carrier');
      await lab.setPartitioned(n1, false);
      await waitFor('n1 reachable after the partition', async () => (await answeredBy(lab, 'c1', n1.ip)).includes('n1'));
    });
  });

  test('udp-stream sends ~1 datagram/ms and reports who answered and when the owner changed', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withLab({ rogue: false, name: 'stream' }, async (lab) => {
      const vip = lab.vip(2);
      const [n1, n2] = [lab.host('n1'), lab.host('n2')];
      await startUdpEcho(lab, n1);
      await startUdpEcho(lab, n2);
      for (const node of [n1, n2]) assert.equal((await lab.run(node, ['ip', 'addr', 'add', `${vip}/24`, 'dev', 'lan0'])).code, 0);
      await lab.setNeighbor('c1', vip, n1.mac, 'reachable');

      const stream = startUdpStream(lab, 'c1', vip, { durationMs: 1500, intervalMs: 1 });
      await stream.started;
      await waitFor('replies from n1', () => stream.owners.length > 0);
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Move the traffic the way a gratuitous ARP would: the client's entry now names n2.
      await lab.setNeighbor('c1', vip, n2.mac, 'reachable');
      const report = await stream.done;

      assert.equal(report.stopReason, 'duration');
      assert.ok(report.sent >= 1300 && report.sent <= 1510, `about 1500 datagrams in 1.5 s, sent ${report.sent}`);
      assert.ok(report.achievedIntervalMs !== null && report.achievedIntervalMs < 1.1, `interval ${report.achievedIntervalMs}`);
      assert.ok(report.received >= report.sent * 0.95, `received ${report.received} of ${report.sent}`);
      assert.deepEqual(
        stream.owners.filter((o) => o.first).map((o) => o.host),
        ['n1', 'n2'],
      );
      assert.ok((report.perHost.n1 ?? 0) > 300 && (report.perHost.n2 ?? 0) > 300, JSON.stringify(report.perHost));
      const firstN2 = report.firstReplyMs.n2;
      assert.ok(firstN2 !== undefined && firstN2 > (report.firstReplyMs.n1 ?? Infinity));
      assert.ok(report.longestGapMs !== null && report.longestGapMs < 200, `gap ${report.longestGapMs}`);

      // A stream without an end stops on SIGTERM and still reports.
      const open = startUdpStream(lab, 'c1', n1.ip, { waitMs: 50 });
      await open.started;
      await new Promise((resolve) => setTimeout(resolve, 200));
      const stopped = await open.stop();
      assert.equal(stopped.stopReason, 'signal');
      assert.ok(stopped.received > 50, `received ${stopped.received}`);
      assert.deepEqual(Object.keys(stopped.perHost), ['n1']);

      // A probe to an address nobody holds gets no answer and exits 3.
      const silent = await lab.run('c1', [process.execPath, join(__dirname, 'tools', 'udp-stream.js'), '--to', `${lab.vip(99)}:7000`, '--count', '1', '--wait-ms', '200']);
      assert.equal(silent.code, 3);
      assert.match(silent.stdout, /"received":0/);
    });
  });

  test('destroy stops every process, strays included, deletes every namespace, and is idempotent', { timeout: TEST_TIMEOUT_MS }, async () => {
    const lab = await createLab({ name: 'destroy' });
    try {
      const echoes = await Promise.all(lab.hosts.map((host) => startUdpEcho(lab, host)));
      // setsid forks a child in a new session, outside the group we would signal: a stray.
      lab.spawn('n1', ['setsid', 'sleep', '600'], { stdio: 'ignore' });
      await waitFor('the stray sleep', async () => (await namespacePids(lab.host('n1').ns)).length >= 2);
      const pids = [...echoes.map((echo) => echo.pid ?? -1), ...(await namespacePids(lab.host('n1').ns))];
      for (const pid of pids) assert.ok(isProcessRunning(pid), `pid ${pid} runs before destroy`);

      await lab.destroy();
      assertLabGone(lab, pids);
      assert.equal(lab.isDestroyed, true);
      await lab.destroy();
      assert.throws(() => lab.spawn('n1', ['true']), /destroyed/);
    } finally {
      await lab.destroy();
    }
  });

  test('withLab rethrows the body error and still tears the lab down', { timeout: TEST_TIMEOUT_MS }, async () => {
    let captured: Lab | undefined;
    let echoPid = -1;
    const failure = new Error('test body failed');
    await assert.rejects(
      withLab({ nodes: 1, clients: 0, rogue: false, name: 'throws' }, async (lab) => {
        captured = lab;
        echoPid = (await startUdpEcho(lab, 'n1')).pid ?? -1;
        throw failure;
      }),
      (error) => error === failure,
    );
    assert.ok(captured !== undefined && echoPid > 0);
    assertLabGone(captured, [echoPid]);
  });

  describe('labs of processes that end abnormally', () => {
    const childScript = `
      const { createLab } = require(${JSON.stringify(join(__dirname, 'lab.js'))});
      const { startUdpEcho } = require(${JSON.stringify(join(__dirname, 'traffic.js'))});
      const mode = process.env.IPFO_LAB_CHILD_MODE;
      (async () => {
        const lab = await createLab({ nodes: 1, clients: 0, rogue: false, name: 'child-' + mode });
        const echo = await startUdpEcho(lab, 'n1');
        process.stdout.write(JSON.stringify({ id: lab.id, namespaces: lab.namespaces, echoPid: echo.pid }) + '\\n');
        if (mode === 'uncaught') setTimeout(() => { throw new Error('deliberate uncaught exception'); }, 50);
        else if (mode === 'exit') setTimeout(() => process.exit(0), 50);
        else setInterval(() => undefined, 1000);
      })();
    `;

    interface ChildLab {
      child: ChildProcess;
      exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
      lab: { id: string; namespaces: string[]; echoPid: number };
    }

    async function startChildLab(mode: string): Promise<ChildLab> {
      const child = spawn(process.execPath, ['-e', childScript], {
        env: { ...process.env, IPFO_LAB_CHILD_MODE: mode },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        void exited.then(({ code, signal }) => reject(new Error(`child exited early (${String(code ?? signal)}): ${stderr}`)));
      });
      return { child, exited, lab: JSON.parse(line) as ChildLab['lab'] };
    }

    function killChild(child: ChildProcess): void {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }

    for (const mode of ['SIGTERM', 'SIGINT', 'uncaught', 'exit'] as const) {
      test(`a process ending by ${mode} deletes its labs on the way out`, { timeout: TEST_TIMEOUT_MS }, async () => {
        const { child, exited, lab } = await startChildLab(mode);
        try {
          assert.ok(lab.namespaces.every((ns) => listNamespaces().includes(ns)), 'child lab is up');
          if (mode === 'SIGTERM' || mode === 'SIGINT') child.kill(mode);
          const end = await exited;
          if (mode === 'SIGTERM' || mode === 'SIGINT') assert.equal(end.signal, mode, 'the signal still ends the process');
          if (mode === 'uncaught') assert.equal(end.code, 1);
          if (mode === 'exit') assert.equal(end.code, 0);
          assert.deepEqual(listNamespaces().filter((ns) => lab.namespaces.includes(ns)), []);
          await waitFor('the child lab echo to go', () => !isProcessRunning(lab.echoPid));
          assert.equal(existsSync(join(LAB_STATE_DIR, `${lab.id}.json`)), false);
        } finally {
          killChild(child);
        }
      });
    }

    test('a lab of a SIGKILLed process is removed by sweepStaleLabs, live labs are kept', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withLab({ nodes: 1, clients: 0, rogue: false, name: 'survivor' }, async (live) => {
        const { child, exited, lab } = await startChildLab('SIGKILL');
        try {
          child.kill('SIGKILL');
          await exited;
          // No hook can run on SIGKILL: everything is still there.
          assert.ok(lab.namespaces.every((ns) => listNamespaces().includes(ns)), 'namespaces outlive a SIGKILLed owner');
          assert.ok(isProcessRunning(lab.echoPid), 'its processes too');

          const report = await sweepStaleLabs();
          const swept = report.removed.find((entry) => entry.id === lab.id);
          assert.ok(swept !== undefined, `swept ${lab.id}: ${JSON.stringify(report)}`);
          assert.equal(swept.error, undefined);
          assert.ok(swept.killedPids.includes(lab.echoPid));
          assert.deepEqual(listNamespaces().filter((ns) => lab.namespaces.includes(ns)), []);
          assert.equal(isProcessRunning(lab.echoPid), false);
          assert.equal(existsSync(join(LAB_STATE_DIR, `${lab.id}.json`)), false);

          assert.ok(report.live.includes(live.id), 'the live lab is reported live');
          assert.ok(live.namespaces.every((ns) => listNamespaces().includes(ns)), 'and left alone');
        } finally {
          killChild(child);
        }
      });
    });
  });
});
