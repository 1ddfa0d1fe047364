// `ipfo watch --audit` and `ipfo witness`, the pure parts: the command lines (bad input refused before
// anything is sent), the sweep's addresses and pacing, and the audit ledger fed by the real binding tracker.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ArpFrame, Ipv4, Mac } from '../../main/arp/frame';
import { parseCommand, UsageError } from '../../main/cli/args';
import { EXIT } from '../../main/cli/exit-codes';
import { witnessExitCode } from '../../main/cli/commands/witness';
import { AuditLedger, MAX_SWEEP_RATE, sweepAddresses, sweepPlan } from '../../main/watch/audit';
import { BindingTracker } from '../../main/watch/bindings';

const A: Mac = '00:00:0c:00:00:0a';
const B: Mac = '00:50:56:00:00:0b';
const OURS: Mac = '02:00:5e:00:00:01';
const vendorOf = (mac: Mac): string | null => ({ [A]: 'Cisco', [B]: 'VMware' } as Record<string, string>)[mac] ?? null;

const replyFrom = (mac: Mac, ip: Ipv4): ArpFrame => ({
  dst: OURS, src: mac, vlan: null, arp: { op: 'reply', senderMac: mac, senderIp: ip, targetMac: OURS, targetIp: '0.0.0.0' },
});

describe('witness and audit command lines', () => {
  test('witness: defaults and spans', () => {
    assert.deepEqual(parseCommand(['witness', '10.0.0.50']), { kind: 'witness', ip: '10.0.0.50', dev: null, everyMs: 20, forMs: null, json: false });
    assert.deepEqual(parseCommand(['witness', '10.0.0.50', '--dev', 'eth0', '--every', '5ms', '--for', '10s', '--json']), { kind: 'witness', ip: '10.0.0.50', dev: 'eth0', everyMs: 5, forMs: 10_000, json: true });
    assert.equal((parseCommand(['witness', '10.0.0.50', '--every', '2s']) as { everyMs: number }).everyMs, 2000);
  });

  test('witness: bad input is a one-line usage error (exit 2)', () => {
    for (const argv of [
      ['witness'], ['witness', '10.0.0'], ['witness', '10.0.0.256'], ['witness', '0.0.0.0'], ['witness', 'a', 'b'],
      ['witness', '10.0.0.50', '--every', '4ms'], ['witness', '10.0.0.50', '--every', '11s'], ['witness', '10.0.0.50', '--every', '20'],
      ['witness', '10.0.0.50', '--for', '0s'], ['witness', '10.0.0.50', '--dev', 'bad name'], ['witness', '10.0.0.50', '--count', '3'],
    ]) {
      assert.throws(() => parseCommand(argv), (error: unknown) => error instanceof UsageError && !error.message.includes('\n'), argv.join(' '));
    }
  });

  test('watch --audit: the network of the CIDR, at most a /16, --every 100ms..1h', () => {
    assert.deepEqual(parseCommand(['watch', '--audit', '10.0.0.7/24']), { kind: 'audit', network: '10.0.0.0', prefix: 24, dev: null, everyMs: 1000, forMs: null, json: false });
    assert.deepEqual(parseCommand(['watch', '--audit', '10.1.0.0/16', '--dev', 'eth0', '--every', '5s', '--for', '1m', '--json']), { kind: 'audit', network: '10.1.0.0', prefix: 16, dev: 'eth0', everyMs: 5000, forMs: 60_000, json: true });
    assert.throws(() => parseCommand(['watch', '--audit', '10.0.0.0/15']), /larger than a \/16/);
    assert.throws(() => parseCommand(['watch', '--audit', '10.0.0.0']), /<network>\/<prefix>/);
    assert.throws(() => parseCommand(['watch', '--audit', '10.0.0.0/24', '--every', '50ms']), /between 100ms and 1h/);
    assert.throws(() => parseCommand(['watch', '--audit', '10.0.0.0/24', '--held', '10.0.0.1']), UsageError);
  });

  test('the exit codes: 5 double MAC, 6 never answered, each its own', () => {
    assert.equal(witnessExitCode({ verdict: 'one-answerer' }), EXIT.ok);
    assert.equal(witnessExitCode({ verdict: 'double-mac' }), 5);
    assert.equal(witnessExitCode({ verdict: 'no-answer' }), 6);
    assert.equal(new Set(Object.values(EXIT)).size, Object.values(EXIT).length);
  });
});

describe('audit sweep and ledger', () => {
  test('sweep addresses: no network or broadcast address below a /31', () => {
    const hosts = sweepAddresses('10.0.0.0', 24);
    assert.equal(hosts.length, 254);
    assert.equal(hosts[0], '10.0.0.1');
    assert.equal(hosts.at(-1), '10.0.0.254');
    assert.deepEqual(sweepAddresses('10.0.0.8', 30), ['10.0.0.9', '10.0.0.10']);
    assert.deepEqual(sweepAddresses('10.0.0.8', 31), ['10.0.0.8', '10.0.0.9']);
    assert.deepEqual(sweepAddresses('10.0.0.8', 32), ['10.0.0.8']);
    assert.equal(sweepAddresses('10.1.0.0', 16).length, 65_534);
  });

  test('sweep pacing: a /24 in well under --every; never faster than the rate cap', () => {
    assert.deepEqual(sweepPlan(254, 1000), { batch: 6, tickMs: 10, sweepMs: 430 });
    assert.ok(sweepPlan(254, 1000).sweepMs < 1000 / 2);
    const wide = sweepPlan(65_534, 1000);
    assert.equal((wide.batch * 1000) / wide.tickMs, MAX_SWEEP_RATE);
    assert.equal(wide.sweepMs, 13_110);
    assert.deepEqual(sweepPlan(1, 100), { batch: 1, tickMs: 10, sweepMs: 10 });
  });

  test('two MACs answering one address of the CIDR: one duplicate with vendors, once; outside the CIDR ignored', () => {
    const tracker = new BindingTracker({ ownMacs: [OURS], vendorOf });
    const ledger = new AuditLedger('10.0.0.0', 24, vendorOf);
    const findings = [];
    let t = 0;
    for (let sweep = 0; sweep < 3; sweep++) {
      for (const [mac, ip] of [[A, '10.0.0.7'], [B, '10.0.0.7'], [A, '10.0.0.9'], [A, '10.0.1.7'], [B, '10.0.1.7']] as const) {
        for (const event of tracker.observe((t += 1), replyFrom(mac, ip))) findings.push(...ledger.observe(event));
      }
      t += 1000;
    }
    assert.deepEqual(findings.filter((f) => f.type === 'duplicate'), [{ type: 'duplicate', at: 2, ip: '10.0.0.7', macs: [A, B], vendors: ['Cisco', 'VMware'] }]);
    const summary = ledger.summary();
    assert.deepEqual(summary.duplicates, [{ ip: '10.0.0.7', macs: [A, B], vendors: ['Cisco', 'VMware'] }]);
    assert.equal(summary.stations, 2);
    assert.deepEqual(summary.flipFlops.map((f) => f.ip), ['10.0.0.7']);
  });

  test('one MAC per address: nothing to report', () => {
    const tracker = new BindingTracker({ ownMacs: [OURS], vendorOf });
    const ledger = new AuditLedger('10.0.0.0', 24, vendorOf);
    let t = 0;
    for (let sweep = 0; sweep < 3; sweep++) {
      for (const event of tracker.observe((t += 1000), replyFrom(A, '10.0.0.7'))) assert.deepEqual(ledger.observe(event), []);
      for (const event of tracker.observe((t += 1), replyFrom(B, '10.0.0.8'))) assert.deepEqual(ledger.observe(event), []);
    }
    assert.deepEqual(ledger.summary(), { stations: 2, duplicates: [], flipFlops: [] });
  });
});
