// The metrics (main/metrics/): the registry's text format byte for byte, its bounds and refusals; what an
// agent counts from the audit entries it writes and reads at scrape time; the endpoint on loopback (a real
// HTTP server and client) and its refusal to serve in clear off loopback; the takeover gap's arithmetic.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AgentMetrics, MAX_RESOURCE_SERIES, MonotonicTotals, type AgentMetricSources, type CaptureReading } from '../../main/metrics/agent-metrics';
import { escapeLabelValue, formatValue, Registry } from '../../main/metrics/registry';
import { checkMetricsBind, listenMetrics } from '../../main/metrics/server';
import { registerProcessMetrics } from '../../main/metrics/process-metrics';
import { describeTakeoverGap, takeoverGapMs } from '../../main/cluster/takeover-gap';
import { parseCommand } from '../../main/cli/args';
import type { AuditRecord } from '../../main/store/store';
import type { SilenceIntent } from '../../main/cluster/intents';

/** The lines of `text` that start with `prefix` (a family's samples). */
const samples = (text: string, prefix: string): string[] => text.split('\n').filter((line) => line.startsWith(prefix));

describe('metrics registry', () => {
  test('counters, gauges and histograms in the text format, byte for byte', () => {
    const registry = new Registry();
    const moves = registry.counter({ name: 'x_moves_total', help: 'Moves.', labelNames: ['kind'] });
    moves.inc({ kind: 'batch' });
    moves.inc({ kind: 'batch' }, 2);
    moves.inc({ kind: 'single' });
    registry.gauge({ name: 'x_up', help: 'Up.\nTwo lines \\ here.' }, () => [{ value: 1 }]);
    const gap = registry.histogram({ name: 'x_gap_seconds', help: 'Gap.', buckets: [0.01, 0.1] });
    gap.observe(0.005);
    gap.observe(0.05);
    gap.observe(3);
    const text = registry.render();
    assert.equal(
      text,
      [
        '# HELP x_moves_total Moves.',
        '# TYPE x_moves_total counter',
        'x_moves_total{kind="batch"} 3',
        'x_moves_total{kind="single"} 1',
        '# HELP x_up Up.\\nTwo lines \\\\ here.',
        '# TYPE x_up gauge',
        'x_up 1',
        '# HELP x_gap_seconds Gap.',
        '# TYPE x_gap_seconds histogram',
        'x_gap_seconds_bucket{le="0.01"} 1',
        'x_gap_seconds_bucket{le="0.1"} 2',
        'x_gap_seconds_bucket{le="+Inf"} 3',
        'x_gap_seconds_sum 3.055',
        'x_gap_seconds_count 3',
        '# HELP ipfo_metrics_series_dropped_total Label sets not kept because their family reached its bound.',
        '# TYPE ipfo_metrics_series_dropped_total counter',
        '',
      ].join('\n'),
    );
  });

  test('label values are escaped; special values are spelled as Prometheus reads them', () => {
    assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
    assert.deepEqual([formatValue(NaN), formatValue(Infinity), formatValue(-Infinity), formatValue(0.25)], ['NaN', '+Inf', '-Inf', '0.25']);
    const registry = new Registry();
    registry.gauge({ name: 'x_info', help: 'Info.', labelNames: ['resource'] }, () => [{ labels: { resource: 'web"}\nx_fake 1' }, value: 1 }]);
    assert.deepEqual(samples(registry.render(), 'x_'), ['x_info{resource="web\\"}\\nx_fake 1"} 1']);
  });

  test('a family keeps at most its bound of label sets; the rest are counted as dropped', () => {
    const registry = new Registry();
    const counter = registry.counter({ name: 'x_by_ip_total', help: 'Bounded.', labelNames: ['ip'], maxSeries: 2 });
    for (const ip of ['a', 'b', 'c', 'd', 'a']) counter.inc({ ip });
    registry.gauge({ name: 'x_rows', help: 'Bounded.', labelNames: ['row'], maxSeries: 3 }, () => [1, 2, 3, 4, 5].map((n) => ({ labels: { row: String(n) }, value: n })));
    const text = registry.render();
    assert.deepEqual(samples(text, 'x_by_ip_total'), ['x_by_ip_total{ip="a"} 2', 'x_by_ip_total{ip="b"} 1']);
    assert.equal(samples(text, 'x_rows').length, 3);
    assert.deepEqual(samples(text, 'ipfo_metrics_series_dropped_total'), ['ipfo_metrics_series_dropped_total{metric="x_by_ip_total"} 2', 'ipfo_metrics_series_dropped_total{metric="x_rows"} 2']);
  });

  test('names, labels and values that break the conventions are refused', () => {
    const registry = new Registry();
    assert.throws(() => registry.counter({ name: 'x_moves', help: '' }), /must end in _total/);
    assert.throws(() => registry.gauge({ name: '1x', help: '' }, () => []), /not valid/);
    assert.throws(() => registry.gauge({ name: 'x_ok', help: '', labelNames: ['__name'] }, () => []), /label name/);
    assert.throws(() => registry.histogram({ name: 'x_h', help: '', labelNames: ['le'], buckets: [1] }), /"le"/);
    assert.throws(() => registry.histogram({ name: 'x_h2', help: '', buckets: [2, 1] }), /ascending/);
    const counter = registry.counter({ name: 'x_total', help: '', labelNames: ['a'] });
    assert.throws(() => counter.inc({ a: 'x' }, -1), /finite amount/);
    assert.throws(() => counter.inc({ b: 'x' }), /labels/);
    assert.throws(() => registry.counter({ name: 'x_total', help: '' }), /registered twice/);
  });

  test('a kernel counter that restarts with its socket still only goes up', () => {
    const totals = new MonotonicTotals();
    assert.deepEqual([totals.advance('eth0', 10), totals.advance('eth0', 15), totals.advance('eth0', 3), totals.advance('eth0', 4)], [10, 15, 18, 19]);
  });
});

function sources(overrides: Partial<AgentMetricSources> = {}): AgentMetricSources {
  return {
    node: 'n1',
    cluster: 'prod',
    resources: () => [{ name: 'web', ip: '10.0.0.50', state: 'online', owner: 'n1' }, { name: 'db', ip: '10.0.0.51', state: 'failed', owner: null }],
    nodes: () => [{ name: 'n1', state: 'online' }, { name: 'n2', state: 'down' }],
    held: () => 1,
    leaseConfirmationAgeSec: () => 0.3756,
    leaseHealthy: () => true,
    fenced: () => false,
    captures: () => [{ ifname: 'eth1', protocol: 'arp', received: 120, malformed: 2, kernelDropped: 0 }],
    healthVerdicts: () => ({ passing: 2, failing: 1 }),
    ...overrides,
  };
}

const audit = (action: string, fields: Partial<AuditRecord> = {}): AuditRecord => ({ at: 1, actor: 'n1', action, target: 'web', outcome: 'ok', detail: null, handoffMs: null, ...fields });

describe('agent metrics', () => {
  test('takeovers, moves, revocations, stragglers and conflicts are counted from the audit entries, gaps in seconds', () => {
    const metrics = new AgentMetrics(sources());
    metrics.audited(audit('failover', { handoffMs: 180 }));
    metrics.audited(audit('failover', { handoffMs: null }));
    metrics.audited(audit('move', { handoffMs: 0.8 }));
    metrics.audited(audit('move', { outcome: 'failed' }));
    metrics.audited(audit('takeover'));
    metrics.audited(audit('arp.straggler', { outcome: 'started' }));
    metrics.audited(audit('arp.conflict', { outcome: 'failed' }));
    metrics.audited(audit('arp.duplicate', { outcome: 'failed' }));
    metrics.audited(audit('arp.duplicate', { outcome: 'failed' }));
    metrics.fenced();
    metrics.leaseLost('revoked');
    metrics.keepaliveRoundTrip(3);
    metrics.checkRun('tcp', true);
    metrics.checkRun('tcp', false);
    metrics.convergenceReport({ ip: '10.0.0.50', stations: 2, converged: ['02:00:00:00:00:01'], stale: ['02:00:00:00:00:02'], afterMs: 420, reason: 'window-ended' });
    const text = metrics.render();
    assert.deepEqual(samples(text, 'ipfo_takeovers_total'), ['ipfo_takeovers_total 2']);
    assert.deepEqual(samples(text, 'ipfo_takeover_gap_seconds_count'), ['ipfo_takeover_gap_seconds_count 1']);
    assert.deepEqual(samples(text, 'ipfo_takeover_gap_seconds_sum'), ['ipfo_takeover_gap_seconds_sum 0.18']);
    assert.deepEqual(samples(text, 'ipfo_takeover_gap_seconds_bucket{le="0.1"}'), ['ipfo_takeover_gap_seconds_bucket{le="0.1"} 0']);
    assert.deepEqual(samples(text, 'ipfo_takeover_gap_seconds_bucket{le="0.25"}'), ['ipfo_takeover_gap_seconds_bucket{le="0.25"} 1']);
    assert.deepEqual(samples(text, 'ipfo_moves_total'), ['ipfo_moves_total 1']);
    assert.deepEqual(samples(text, 'ipfo_handoff_gap_seconds_sum'), ['ipfo_handoff_gap_seconds_sum 0.0008']);
    assert.deepEqual(samples(text, 'ipfo_owner_revocations_total'), ['ipfo_owner_revocations_total 1']);
    assert.deepEqual(samples(text, 'ipfo_arp_stragglers_total'), ['ipfo_arp_stragglers_total 1']);
    assert.deepEqual(samples(text, 'ipfo_arp_conflicts_total'), ['ipfo_arp_conflicts_total{kind="claim"} 1', 'ipfo_arp_conflicts_total{kind="duplicate"} 2']);
    assert.deepEqual(samples(text, 'ipfo_fences_total'), ['ipfo_fences_total 1']);
    assert.deepEqual(samples(text, 'ipfo_lease_losses_total'), ['ipfo_lease_losses_total{reason="revoked"} 1', 'ipfo_lease_losses_total{reason="expired"} 0']);
    assert.deepEqual(samples(text, 'ipfo_store_round_trip_seconds_count'), ['ipfo_store_round_trip_seconds_count 1']);
    assert.deepEqual(samples(text, 'ipfo_health_check_runs_total'), ['ipfo_health_check_runs_total{kind="tcp",result="pass"} 1', 'ipfo_health_check_runs_total{kind="tcp",result="fail"} 1']);
    assert.deepEqual(samples(text, 'ipfo_convergence_seconds_sum'), ['ipfo_convergence_seconds_sum 0.42']);
    assert.deepEqual(samples(text, 'ipfo_convergence_unconverged_stations_total'), ['ipfo_convergence_unconverged_stations_total 1']);
    assert.ok(samples(text, 'ipfo_audit_entries_total').includes('ipfo_audit_entries_total{action="move",outcome="failed"} 1'));
  });

  test('the state of things is read at scrape time', () => {
    let held = 1;
    let dropped = 0;
    const metrics = new AgentMetrics(sources({ held: () => held, captures: () => [{ ifname: 'eth1', protocol: 'arp', received: 120, malformed: 2, kernelDropped: dropped }] }));
    let text = metrics.render();
    assert.deepEqual(samples(text, 'ipfo_node_info'), ['ipfo_node_info{node="n1",cluster="prod"} 1']);
    assert.deepEqual(samples(text, 'ipfo_resource_info'), ['ipfo_resource_info{resource="db",ip="10.0.0.51",state="failed",owner=""} 1', 'ipfo_resource_info{resource="web",ip="10.0.0.50",state="online",owner="n1"} 1'], 'the resources not online first');
    assert.deepEqual(samples(text, 'ipfo_resources{'), ['ipfo_resources{state="online"} 1', 'ipfo_resources{state="failed"} 1']);
    assert.deepEqual(samples(text, 'ipfo_node_up'), ['ipfo_node_up{node="n1",state="online"} 1', 'ipfo_node_up{node="n2",state="down"} 0']);
    assert.deepEqual(samples(text, 'ipfo_lease_confirmation_age_seconds'), ['ipfo_lease_confirmation_age_seconds 0.376']);
    assert.deepEqual(samples(text, 'ipfo_health_profiles'), ['ipfo_health_profiles{verdict="passing"} 2', 'ipfo_health_profiles{verdict="failing"} 1']);
    assert.deepEqual(samples(text, 'ipfo_capture_frames_total'), ['ipfo_capture_frames_total{interface="eth1",protocol="arp"} 120']);
    assert.deepEqual(samples(text, 'ipfo_addresses_held'), ['ipfo_addresses_held 1']);
    held = 0;
    dropped = 7;
    text = metrics.render();
    assert.deepEqual(samples(text, 'ipfo_addresses_held'), ['ipfo_addresses_held 0']);
    assert.deepEqual(samples(text, 'ipfo_capture_kernel_dropped_frames_total'), ['ipfo_capture_kernel_dropped_frames_total{interface="eth1",protocol="arp"} 7']);
  });

  test("an interface's ARP and neighbour discovery captures are counted apart, each across its socket being opened again", () => {
    let readings: CaptureReading[] = [
      { ifname: 'Ethernet 2', protocol: 'arp', received: 500, malformed: 1, kernelDropped: 0 },
      { ifname: 'Ethernet 2', protocol: 'nd', received: 40, malformed: 3, kernelDropped: null },
    ];
    const metrics = new AgentMetrics(sources({ captures: () => readings }));
    let text = metrics.render();
    assert.deepEqual(samples(text, 'ipfo_capture_frames_total'), ['ipfo_capture_frames_total{interface="Ethernet 2",protocol="arp"} 500', 'ipfo_capture_frames_total{interface="Ethernet 2",protocol="nd"} 40']);
    assert.deepEqual(samples(text, 'ipfo_capture_malformed_frames_total'), ['ipfo_capture_malformed_frames_total{interface="Ethernet 2",protocol="arp"} 1', 'ipfo_capture_malformed_frames_total{interface="Ethernet 2",protocol="nd"} 3']);
    // Kernel counters the ND socket could not read: no series rather than a made-up 0.
    assert.deepEqual(samples(text, 'ipfo_capture_kernel_dropped_frames_total'), ['ipfo_capture_kernel_dropped_frames_total{interface="Ethernet 2",protocol="arp"} 0']);
    // The interface failed: both sockets closed and opened again, their counters restarting from 0; the
    // ND socket is not open at this scrape (no IPv6 claim yet), and its total stays.
    readings = [{ ifname: 'Ethernet 2', protocol: 'arp', received: 30, malformed: 0, kernelDropped: 2 }];
    text = metrics.render();
    assert.deepEqual(samples(text, 'ipfo_capture_frames_total'), ['ipfo_capture_frames_total{interface="Ethernet 2",protocol="arp"} 530', 'ipfo_capture_frames_total{interface="Ethernet 2",protocol="nd"} 40']);
    readings = [...readings, { ifname: 'Ethernet 2', protocol: 'nd', received: 5, malformed: 0, kernelDropped: 1 }];
    text = metrics.render();
    assert.deepEqual(samples(text, 'ipfo_capture_frames_total'), ['ipfo_capture_frames_total{interface="Ethernet 2",protocol="arp"} 530', 'ipfo_capture_frames_total{interface="Ethernet 2",protocol="nd"} 45']);
    assert.deepEqual(samples(text, 'ipfo_capture_kernel_dropped_frames_total'), ['ipfo_capture_kernel_dropped_frames_total{interface="Ethernet 2",protocol="arp"} 2', 'ipfo_capture_kernel_dropped_frames_total{interface="Ethernet 2",protocol="nd"} 1']);
  });

  test('a cluster larger than the per-resource bound: every resource not online keeps its series, the states count them all', () => {
    const many = Array.from({ length: MAX_RESOURCE_SERIES + 5 }, (_, i) => ({ name: `r${i}`, ip: '10.0.0.1', state: i % 1000 === 999 ? 'failed' : 'online', owner: null }));
    const text = new AgentMetrics(sources({ resources: () => many })).render();
    const info = samples(text, 'ipfo_resource_info{');
    assert.equal(info.length, MAX_RESOURCE_SERIES);
    assert.equal(info.filter((line) => line.includes('state="failed"')).length, 10);
    assert.deepEqual(samples(text, 'ipfo_resources{'), [`ipfo_resources{state="online"} ${MAX_RESOURCE_SERIES - 5}`, 'ipfo_resources{state="failed"} 10']);
    assert.deepEqual(samples(text, 'ipfo_metrics_series_dropped_total'), ['ipfo_metrics_series_dropped_total{metric="ipfo_resource_info"} 5']);
  });

  test('without a lease there is no confirmation age (not a zero that would look fresh)', () => {
    assert.deepEqual(samples(new AgentMetrics(sources({ leaseConfirmationAgeSec: () => null })).render(), 'ipfo_lease_confirmation_age_seconds '), []);
  });

  test('process metrics carry the usual names', () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    const text = registry.render();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'process_start_time_seconds']) {
      const [line] = samples(text, `${name} `);
      assert.ok(line !== undefined && Number(line.split(' ')[1]) > 0, `${name}: ${line}`);
    }
  });
});

describe('metrics endpoint', () => {
  test('off loopback only with TLS', () => {
    assert.throws(() => checkMetricsBind('10.0.0.1', false), /without TLS/);
    assert.throws(() => checkMetricsBind('0.0.0.0', false), /without TLS/);
    assert.doesNotThrow(() => checkMetricsBind('10.0.0.1', true));
    assert.doesNotThrow(() => checkMetricsBind('127.0.0.1', false));
    assert.doesNotThrow(() => checkMetricsBind('::1', false));
  });

  test('--metrics on the command line: loopback, or TLS files of its own or the API\'s', () => {
    const base = ['agent', '--node', 'n1'];
    const parsed = (extra: string[]) => parseCommand([...base, ...extra]) as { metrics?: unknown };
    assert.deepEqual(parsed(['--metrics', '127.0.0.1:9790']).metrics, { host: '127.0.0.1', port: 9790, tlsCert: null, tlsKey: null });
    assert.deepEqual(parsed(['--metrics', '10.0.0.1:9790', '--tls-cert', '/a.crt', '--tls-key', '/a.key']).metrics, { host: '10.0.0.1', port: 9790, tlsCert: '/a.crt', tlsKey: '/a.key' });
    assert.deepEqual(parsed(['--metrics', '10.0.0.1:9790', '--metrics-tls-cert', '/m.crt', '--metrics-tls-key', '/m.key']).metrics, { host: '10.0.0.1', port: 9790, tlsCert: '/m.crt', tlsKey: '/m.key' });
    assert.equal(parsed([]).metrics, undefined);
    assert.throws(() => parsed(['--metrics', '10.0.0.1:9790']), /without TLS/);
    assert.throws(() => parsed(['--metrics', 'nowhere']), /metrics/);
    assert.throws(() => parsed(['--metrics', '127.0.0.1:9790', '--metrics-tls-cert', '/m.crt']), /go together/);
    assert.throws(() => parsed(['--metrics-tls-cert', '/m.crt', '--metrics-tls-key', '/m.key']), /not given/);
  });

  test('GET /metrics on loopback: 503 while starting, then the text; other paths and methods refused', async () => {
    const listener = await listenMetrics({ host: '127.0.0.1', port: 0, tls: null });
    const get = (path: string, method = 'GET') =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const url = new URL(listener.url);
        const req = request({ host: url.hostname, port: url.port, path, method }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      assert.equal((await get('/metrics')).status, 503);
      listener.serve(() => 'x_up 1\n');
      const ok = await get('/metrics');
      assert.deepEqual([ok.status, ok.type, ok.body], [200, 'text/plain; version=0.0.4; charset=utf-8', 'x_up 1\n']);
      assert.equal((await get('/')).status, 404);
      assert.equal((await get('/metrics', 'POST')).status, 405);
      listener.serve(() => {
        throw new Error('broken');
      });
      assert.equal((await get('/metrics')).status, 500);
    } finally {
      await listener.close();
    }
  });
});

describe('takeover gap', () => {
  const evidence = (lastHeardAt: number | null, createdAt = 10_000): SilenceIntent => ({ id: 'silence:n1:1', kind: 'silence', actor: 'n2', createdAt, node: 'n1', lastHeardAt });

  test('from the last answer heard to the announcement', () => {
    assert.equal(takeoverGapMs(evidence(9_700), 10_180.456), 480.46);
    assert.equal(takeoverGapMs(evidence(9_700), 9_600), 0, 'clocks a little apart never make a negative gap');
  });

  test('unknown without evidence, without a last answer, or with evidence of an older silence', () => {
    assert.equal(takeoverGapMs(undefined, 10_000), null);
    assert.equal(takeoverGapMs(evidence(null), 10_000), null);
    assert.equal(takeoverGapMs(evidence(9_700), 10_000 + 60_001), null);
  });

  test('in words', () => {
    assert.equal(describeTakeoverGap('n1', 480.46), 'from n1, 480.46 ms after its last answer');
    assert.equal(describeTakeoverGap('n1', null), 'from n1 (gap unknown: no standby heard its last answer)');
  });
});

describe('shipped dashboard and alert rules', () => {
  const root = join(__dirname, '..', '..', '..', 'resources');
  /** Every family an agent exports, by name (histograms also by their _bucket, _sum and _count series). */
  function exported(): Set<string> {
    const metrics = new AgentMetrics(sources());
    registerProcessMetrics(metrics.registry);
    const names = new Set<string>();
    for (const line of metrics.render().split('\n')) {
      const typed = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (!typed) continue;
      names.add(typed[1]!);
      if (typed[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${typed[1]!}${suffix}`);
    }
    return names;
  }

  test('every ipfo_, process_ and nodejs_ series they name is one the agent exports', () => {
    const names = exported();
    const dashboard = JSON.parse(readFileSync(join(root, 'grafana', 'ipfo-dashboard.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    assert.ok(dashboard.panels.length >= 10);
    const exprs = dashboard.panels.flatMap((panel) => {
      assert.ok(panel.targets.length > 0, `panel ${panel.title} queries something`);
      return panel.targets.map((target) => target.expr);
    });
    exprs.push(readFileSync(join(root, 'prometheus', 'ipfo-alerts.yml'), 'utf8'));
    const used = new Set(exprs.flatMap((expr) => expr.match(/\b(?:ipfo|process|nodejs)_[a-z_]+/g) ?? []));
    assert.ok(used.size >= 20, `names used: ${[...used].join(', ')}`);
    assert.deepEqual([...used].filter((name) => !names.has(name)), []);
  });
});
