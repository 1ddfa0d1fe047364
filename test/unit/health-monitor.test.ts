// The agent's health monitor on a fake clock and a fake host: one run per profile per interval however
// many resources share it, verdicts published only when they change (a new reason at most every 5 s),
// transitions audited, a hung check counted as failed, profiles of removed resources forgotten.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterView } from '../../main/agent/cluster-view';
import { HealthMonitor, type HealthMonitorContext } from '../../main/agent/health-monitor';
import type { CheckRun, NetworkCheck } from '../../main/host/health-checks';
import type { ResourceSpec } from '../../main/cluster/model';
import type { AuditRecord, Membership } from '../../main/store/store';
import type { HealthSpec, NodeHealth } from '../../preload/contract/health';

const HEALTH: HealthSpec = { checks: [{ kind: 'tcp', host: '127.0.0.1', port: 80 }], intervalMs: 1_000, timeoutMs: 50, fall: 2, rise: 2 };
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function spec(name: string, extra: Partial<ResourceSpec> = {}): ResourceSpec {
  return { name, ip: `10.213.0.${10 + name.length}`, prefix: 24, possibleOwners: [], preferredOwners: [], failback: { mode: 'never' }, interfaces: {}, enabled: true, announceForm: 'request', defendPolicy: 'always', health: HEALTH, ...extra };
}

function harness(answer: (check: NetworkCheck) => Promise<CheckRun>) {
  const view = new ClusterView();
  let now = 0;
  const written: NodeHealth[] = [];
  const audited: Array<Omit<AuditRecord, 'at'>> = [];
  const ran: string[] = [];
  const membership = { node: 'n1', leaseId: '7' } as Membership;
  const context = {
    node: 'n1',
    view: () => view,
    membership: () => membership,
    log: () => undefined,
    store: { putHealth: (_m: Membership, record: NodeHealth) => (written.push(record), Promise.resolve(1)) },
    host: { runCheck: (check: NetworkCheck) => (ran.push(check.kind), answer(check)), defaultGateway: () => null },
    arpAnswered: () => Promise.resolve(false),
    ifnameFor: () => ({ ok: true as const, ifname: 'lan0' }),
    audit: (record: Omit<AuditRecord, 'at'>) => (audited.push(record), Promise.resolve()),
    now: () => now,
    wallNow: () => 1_000_000 + now,
    policy: () => ({}),
  } as unknown as HealthMonitorContext;
  const monitor = new HealthMonitor(context);
  return {
    view,
    monitor,
    written,
    audited,
    ran,
    async advance(ms: number): Promise<void> {
      now += ms;
      monitor.tick();
      await settle();
      await settle();
      monitor.tick();
      await settle();
    },
  };
}

describe('the health monitor', () => {
  test('one run per profile per interval, shared by every resource with it; verdicts published when they change', async () => {
    let up = true;
    const h = harness(() => Promise.resolve(up ? { ok: true, reason: 'accepted' } : { ok: false, reason: 'refused' }));
    for (const name of ['a', 'b', 'c']) h.view.resources.set(name, spec(name));
    h.view.resources.set('other', spec('other', { possibleOwners: ['n2'] })); // not this node's to check
    h.view.resources.set('plain', spec('plain', { health: undefined }));
    await h.advance(0);
    assert.deepEqual(h.ran, ['tcp'], 'one run for the three resources');
    // Under the new lease first (nothing known yet), then the first verdict.
    assert.deepEqual(h.written.map((record) => record.results.map((r) => [r.healthy, r.reason])), [[], [[true, 'accepted']]]);
    const base = h.written.length;
    await h.advance(500);
    assert.equal(h.ran.length, 1, 'not before the interval');
    await h.advance(500);
    assert.equal(h.ran.length, 2);
    assert.equal(h.written.length, base, 'nothing changed: nothing written');
    up = false;
    await h.advance(5_000);
    assert.equal(h.written.length, base + 1, 'a new reason under the same verdict is written');
    assert.equal(h.written.at(-1)!.results[0]!.healthy, true, 'one failure of fall 2: still healthy');
    await h.advance(1_000);
    assert.equal(h.written.at(-1)!.results[0]!.healthy, false);
    assert.deepEqual(h.audited.map((a) => [a.action, a.target]), [['check.failed', 'a'], ['check.failed', 'b'], ['check.failed', 'c']]);
    assert.match(h.audited[0]!.detail ?? '', /^on n1: refused \(profile shared by 3 resources\)$/);
  });

  test('a reason that changes at every run is written at most every 5 s', async () => {
    let run = 0;
    const h = harness(() => Promise.resolve({ ok: false, reason: `exit 1 (attempt ${++run})` }));
    h.view.resources.set('a', spec('a', { health: { ...HEALTH, fall: 1 } }));
    await h.advance(0);
    const first = h.written.length;
    for (let i = 0; i < 4; i++) await h.advance(1_000);
    assert.equal(h.written.length, first, 'four new reasons in 4 s: not written yet');
    await h.advance(1_000);
    assert.equal(h.written.length, first + 1);
  });

  test('a check that never settles is failed after its timeout, and its profile runs again', async () => {
    const h = harness(() => new Promise<CheckRun>(() => undefined));
    h.view.resources.set('a', spec('a', { health: { ...HEALTH, fall: 1 } }));
    await h.advance(0);
    await new Promise((resolve) => setTimeout(resolve, HEALTH.timeoutMs + 1_100));
    await h.advance(1_000);
    assert.equal(h.written.at(-1)?.results[0]?.healthy, false);
    assert.match(h.written.at(-1)!.results[0]!.reason, /did not finish within 50 ms/);
    assert.equal(h.ran.length, 2, 'the next interval ran it again');
  });

  test('a removed resource\'s profile is forgotten and the record says so', async () => {
    const h = harness(() => Promise.resolve({ ok: true, reason: 'accepted' }));
    h.view.resources.set('a', spec('a'));
    await h.advance(0);
    assert.equal(h.written.at(-1)!.results.length, 1);
    h.view.resources.delete('a');
    await h.advance(10);
    assert.deepEqual(h.written.at(-1)!.results, []);
  });
});
