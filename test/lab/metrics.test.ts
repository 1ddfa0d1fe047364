// Issue 15 §1 and §3 acceptance: a real Prometheus (Debian's package, started here in a client namespace)
// scrapes the three agents over TLS on their LAN addresses, and its HTTP API shows a planned move, a
// rogue's conflict and a takeover counted — the takeover with the client-visible gap the audit log
// records, which a client's own ARP witness confirms. The shipped alert rules load into it and one fires;
// `promtool` checks the rules, runs their unit tests and checks the example scrape configuration.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createLab, LAB_IFNAME, LAB_PREFIX6, type Lab } from './lab';
import { LabCluster } from './cluster';
import type { JsonLines, JsonRecord } from './json-lines';
import { makeEtcdCertificates, type EtcdCertificates } from './etcd-certs';
import { startMacWitness } from './witness';
import { startUdpStream, type RunningStream } from './traffic';

const run = promisify(execFile);
const ARP_SEND = join(__dirname, 'tools', 'arp-send.js');
const HTTP_GET = join(__dirname, 'fixtures', 'http-get.js');
const RESOURCES = resolve(__dirname, '..', '..', '..', 'resources', 'prometheus');
const METRICS_PORT = 9790;
const PROMETHEUS = '127.0.0.1:9090';
const ROGUE_MAC = '00:1b:21:13:5e:9a';

interface QueryResult {
  metric: Record<string, string>;
  value: [number, string];
}

describe('metrics, scraped by a real Prometheus', () => {
  let lab: Lab;
  let cluster: LabCluster;
  let certs: EtcdCertificates;
  let prometheus: ChildProcess | null = null;
  let dir: string;
  let events: JsonLines;
  let stream: RunningStream | null = null;

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 2, rogue: true, ipv6: true, name: 'metrics' });
    const setMac = await lab.run('r1', ['ip', 'link', 'set', 'dev', 'lan0', 'address', ROGUE_MAC]);
    assert.equal(setMac.code, 0, setMac.stderr);
    const nodeIps = lab.nodes.map((n) => n.ip);
    certs = await makeEtcdCertificates(nodeIps);
    cluster = await LabCluster.start(lab, {
      etcdHost: 'c2',
      agentArgs: (node) => ['--metrics', `${lab.host(node).ip}:${METRICS_PORT}`, '--metrics-tls-cert', certs.serverCert, '--metrics-tls-key', certs.serverKey],
    });
    events = cluster.followEvents('n3');
    dir = mkdtempSync(join(tmpdir(), `ipfo-prometheus-${lab.id}-`));
    copyFileSync(join(RESOURCES, 'ipfo-alerts.yml'), join(dir, 'ipfo-alerts.yml'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 900ms }',
        'rule_files: [ipfo-alerts.yml]',
        'scrape_configs:',
        '  - job_name: ipfo',
        '    scheme: https',
        `    tls_config: { ca_file: ${JSON.stringify(certs.ca)} }`,
        `    static_configs: [{ targets: [${nodeIps.map((ip) => `'${ip}:${METRICS_PORT}'`).join(', ')}] }]`,
        '',
      ].join('\n'),
    );
    prometheus = lab.spawn('c1', ['prometheus', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${PROMETHEUS}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    prometheus.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await cluster.until('Prometheus ready', async () => (await get('/-/ready')).status === 200, 20_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nprometheus: ${stderr}`);
    });
  });

  after(async () => {
    events?.child.kill('SIGTERM');
    stream?.child.kill('SIGTERM');
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await new Promise((done) => prometheus!.once('exit', done));
    }
    await cluster?.destroy();
    await lab?.destroy();
    certs?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** GET on Prometheus's port, from its own namespace. */
  async function get(path: string): Promise<{ status: number; body: string }> {
    const result = await lab.run('c1', [process.execPath, HTTP_GET, `http://${PROMETHEUS}${path}`], { timeoutMs: 10_000 });
    return JSON.parse(result.stdout.trim() || '{"status":0,"body":""}') as { status: number; body: string };
  }

  async function query(expr: string): Promise<QueryResult[]> {
    const { status, body } = await get(`/api/v1/query?query=${encodeURIComponent(expr)}`);
    assert.equal(status, 200, body);
    return (JSON.parse(body) as { data: { result: QueryResult[] } }).data.result;
  }

  /** Waits until `expr` has a sample for which `holds` is true; returns it. */
  async function until(expr: string, holds: (value: number, labels: Record<string, string>) => boolean, timeoutMs = 15_000): Promise<QueryResult> {
    let found: QueryResult | undefined;
    let last: QueryResult[] = [];
    await cluster.until(`Prometheus: ${expr}`, async () => {
      last = await query(expr);
      found = last.find((r) => holds(Number(r.value[1]), r.metric));
      return found !== undefined;
    }, timeoutMs).catch((error: unknown) => {
      throw new Error(`${String(error).slice(0, 2000)}\nlast answer: ${JSON.stringify(last)}`);
    });
    return found!;
  }

  function entry(action: string, target: string, detail?: RegExp): JsonRecord | undefined {
    return events.records.find((r) => r.action === action && r.target === target && (detail === undefined || detail.test(String(r.detail))));
  }

  test('every agent is scraped over TLS and reports the cluster', async () => {
    const up = await until('sum(up{job="ipfo"})', (v) => v === 3);
    assert.equal(Number(up.value[1]), 3);
    const info = await until('count(ipfo_node_info)', (v) => v === 3);
    assert.equal(Number(info.value[1]), 3);
    const scraped = new Set((await query('count by (__name__) ({job="ipfo"})')).map((s) => s.metric.__name__));
    const expected = ['ipfo_node_info', 'ipfo_node_up', 'ipfo_addresses_held', 'ipfo_lease_confirmation_age_seconds', 'ipfo_lease_healthy', 'ipfo_fenced', 'ipfo_takeovers_total', 'ipfo_moves_total', 'ipfo_owner_revocations_total', 'ipfo_fences_total', 'ipfo_lease_losses_total', 'ipfo_arp_conflicts_total', 'ipfo_arp_stragglers_total', 'ipfo_takeover_gap_seconds_count', 'ipfo_handoff_gap_seconds_bucket', 'ipfo_convergence_seconds_sum', 'ipfo_store_round_trip_seconds_count', 'ipfo_health_profiles', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'nodejs_eventloop_delay_seconds'];
    assert.deepEqual(expected.filter((name) => !scraped.has(name)), [], `scraped: ${[...scraped].sort().join(', ')}`);
    const rtt = await until('max(ipfo_store_round_trip_seconds_count)', (v) => v > 0);
    assert.ok(Number(rtt.value[1]) > 0);
    // The bounded label sets hold: no label carries a MAC.
    const labels = await get('/api/v1/labels');
    assert.doesNotMatch(labels.body, /"mac"/i);
  });

  test('a planned move: counted with its handoff gap', async (t) => {
    const added = await cluster.api('n1', 'resource.add', { spec: { name: 'web', ip: `${lab.vip(1)}/24`, preferredOwners: ['n1', 'n2', 'n3'] } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n1', 'web', 'n1');
    // A client that uses the address (its ARP is in the nodes' binding tables by the takeover below).
    stream = startUdpStream(lab, 'c1', lab.vip(1), { intervalMs: 20, pacing: 'sleep' });
    await stream.started;
    const moved = await cluster.cli('n3', ['move', 'web', 'n2']);
    assert.equal(moved.code, 0, moved.stderr);
    await cluster.waitOwner('n1', 'web', 'n2');
    const moves = await until('sum(ipfo_moves_total)', (v) => v >= 1);
    const gap = await until('sum(ipfo_handoff_gap_seconds_sum) / sum(ipfo_handoff_gap_seconds_count)', (v) => Number.isFinite(v));
    t.diagnostic(`moves ${moves.value[1]}, mean handoff gap ${(Number(gap.value[1]) * 1000).toFixed(2)} ms`);
    assert.ok(Number(gap.value[1]) < 0.5, `handoff gap ${gap.value[1]} s`);
    const owner = await until('ipfo_resource_info{resource="web",instance=~".*"}', (v, labels) => v === 1 && labels.owner === 'n2');
    assert.equal(owner.metric.state, 'online');
  });

  test("a rogue's gratuitous ARP: the conflict counted, and the shipped alert fires", async () => {
    const vip = lab.vip(2);
    const added = await cluster.api('n1', 'resource.add', { spec: { name: 'db', ip: `${vip}/24`, preferredOwners: ['n3', 'n1', 'n2'] } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n1', 'db', 'n3');
    const send = await lab.run('r1', [process.execPath, ARP_SEND, '--dev', 'lan0', '--form', 'announcement', '--ip', vip], { timeoutMs: 10_000 });
    assert.equal(send.code, 0, send.stderr);
    await until('sum(ipfo_arp_conflicts_total{kind="claim"})', (v) => v >= 1);
    const alert = await until('ALERTS{alertname="IpfoArpConflict", alertstate="firing"}', (v) => v === 1);
    assert.equal(alert.metric.kind, 'claim');
  });

  test("an IPv6 address: its node's neighbour discovery capture is counted apart from the ARP capture", async () => {
    const added = await cluster.api('n1', 'resource.add', { spec: { name: 'web6', ip: `${lab.vip6(1)}/${LAB_PREFIX6}`, preferredOwners: ['n1'] } });
    assert.equal(added.ok, true, JSON.stringify(added));
    await cluster.waitOwner('n1', 'web6', 'n1');
    const instance = `${lab.host('n1').ip}:${METRICS_PORT}`;
    // n1 probed and announced the address on its ND socket, which hears its own frames.
    const nd = await until(`ipfo_capture_frames_total{instance="${instance}",interface="${LAB_IFNAME}",protocol="nd"}`, (v) => v > 0);
    const arp = await until(`ipfo_capture_frames_total{instance="${instance}",interface="${LAB_IFNAME}",protocol="arp"}`, (v) => v > 0);
    assert.equal(nd.metric.protocol, 'nd');
    assert.equal(arp.metric.protocol, 'arp');
    const drops = await until(`ipfo_capture_kernel_dropped_frames_total{instance="${instance}",protocol="nd"}`, (v) => v >= 0);
    assert.equal(Number(drops.value[1]), 0, 'no ND frame dropped on a quiet LAN');
  });

  test('a takeover: counted, with the gap clients saw — the audit log, the metric and a client witness agree; the stations the binding tables know are told and seen converging', async (t) => {
    const vip = lab.vip(1);
    const client = lab.host('c1').mac;
    // The takeover's convergence works from the stored binding tables (saved every 10 s): c1 must be in them.
    await cluster.until('c1 in the stored binding tables', async () => {
      const tables = await cluster.api('n3', 'bindings.query', {});
      return JSON.stringify(tables.result).includes(client);
    }, 25_000);
    const witness = await startMacWitness(lab, 'c1', vip);
    const before = (await query('sum(ipfo_takeover_gap_seconds_count)')).map((r) => Number(r.value[1]))[0] ?? 0;
    await cluster.killAgent('n2');
    await cluster.until('web taken over', async () => {
      const web = (await cluster.status('n3')).resources.find((r) => r.name === 'web');
      return web?.state === 'online' && web.owner !== 'n2';
    }, 15_000);
    await new Promise((done) => setTimeout(done, 300));
    const report = await witness.stop();
    assert.deepEqual(report.overlaps, [], 'never two MACs at once');
    const transition = report.transitions.find((tr) => tr.from === cluster.host('n2').mac);
    assert.ok(transition, `the client saw the address leave n2: ${JSON.stringify(report.transitions)}`);
    const failover = await events.waitFor((r) => r.action === 'failover' && r.target === 'web', 10_000, 'the failover entry');
    assert.match(String(failover.detail), /^from n2, [\d.]+ ms after its last answer: /);
    const recorded = Number(failover.handoffMs);
    t.diagnostic(`takeover gap: audit ${recorded} ms, client witness ${transition.silenceMs.toFixed(1)} ms (probing every 20 ms); ${String(failover.detail)}`);
    // The witness hears the last answer and the first one with its 20 ms probes; our figure runs from the
    // standby's last answer (probed every 50 ms) to the announcement: they agree within a few probe periods.
    assert.ok(Math.abs(recorded - transition.silenceMs) <= 120, `audit ${recorded} ms vs witness ${transition.silenceMs} ms`);
    assert.ok(entry('takeover', 'web', /n2 left/), 'the standby recorded the revocation');
    const count = await until('sum(ipfo_takeover_gap_seconds_count)', (v) => v >= before + 1);
    const sum = await until('sum(ipfo_takeover_gap_seconds_sum)', (v) => v > 0);
    assert.ok(Number(count.value[1]) >= 1);
    assert.ok(Math.abs(Number(sum.value[1]) * 1000 - recorded) < 1, `metric sum ${sum.value[1]} s vs audit ${recorded} ms`);
    await until('sum(ipfo_takeovers_total)', (v) => v >= 1);
    // The new owner told c1 (which still streams to the address) and saw it use the new MAC.
    const converged = await events.waitFor((r) => r.action === 'arp.convergence' && r.target === 'web' && /^after the takeover from n2/.test(String(r.detail)), 15_000, 'the convergence entry after the takeover');
    t.diagnostic(String(converged.detail));
    const detail = String(converged.detail);
    assert.match(detail, new RegExp(`told \\d+ stations? the new MAC of ${vip.replace(/\./g, '\\.')} by unicast gratuitous ARP; `));
    const seen = detail.split('; not heard from since')[0]!;
    assert.ok(/seen using it/.test(seen) && seen.includes(client), `c1 (${client}) seen using the new MAC: ${detail}`);
    await until('sum(ipfo_takeover_stations_seen_total)', (v) => v >= 1);
    await until(`up{job="ipfo", instance="${lab.host('n2').ip}:${METRICS_PORT}"}`, (v) => v === 0);
  });

  test('promtool: the shipped rules are valid, their unit tests pass, the example scrape configuration is valid', async () => {
    const rules = await run('promtool', ['check', 'rules', join(RESOURCES, 'ipfo-alerts.yml')]);
    assert.match(rules.stdout, /SUCCESS: 6 rules found/);
    const tests = await run('promtool', ['test', 'rules', join(RESOURCES, 'ipfo-alerts.test.yml')]);
    assert.match(tests.stdout, /SUCCESS/);
    const config = await run('promtool', ['check', 'config', '--syntax-only', join(RESOURCES, 'prometheus.example.yml')]);
    assert.match(config.stdout, /SUCCESS/);
  });
});
