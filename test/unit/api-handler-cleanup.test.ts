// resource.cleanup in the agent's handler (main/agent/api-handler.ts), against a real file store: the
// agent itself is stood in for by its cluster view fed from the store's watch, which is all the
// command reads (no ARP, no leases, no placement).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Agent } from '../../main/agent/agent';
import { ClusterView } from '../../main/agent/cluster-view';
import { AgentApiHandler } from '../../main/agent/api-handler';
import type { ResourceSpec, ResourceStatus } from '../../main/cluster/model';
import { FileStore } from '../../main/store/file-store';
import { resourceSpec } from '../fixtures/records';
import type { Unsubscribe } from '../../main/store/store';

const ACTOR = 'cli:test@127.0.0.1';

const spec = (name: string, enabled = true): ResourceSpec => resourceSpec(name, '10.213.1.1', { enabled });

const failed = (name: string): ResourceStatus => ({
  name,
  state: 'failed',
  owner: null,
  ownerMac: null,
  since: 1_700_000_000_000,
  failure: { kind: 'conflict', mac: '02:00:00:00:00:66' },
  lastHandoffMs: null,
});

describe('resource.cleanup', () => {
  let dir: string;
  let store: FileStore;
  let view: ClusterView;
  let stopWatch: Unsubscribe;
  let handler: AgentApiHandler;
  let asked: string[];
  let answers: Map<string, { ok: true; bans: number; failovers: number } | { ok: false; timedOut: true }>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ipfo-cleanup-'));
    store = await FileStore.open({ dir });
    view = new ClusterView();
    asked = [];
    answers = new Map();
    const agent = Object.assign(new EventEmitter(), {
      clusterView: view,
      node: 'n1',
      // Each node's own part of a cleanup (local-failures.ts): recorded, answered as the test says.
      cleanupOn: (node: string, resource: string) => {
        asked.push(`${node}/${resource}`);
        return Promise.resolve(answers.get(node) ?? { ok: true, bans: 1, failovers: 2 });
      },
    });
    stopWatch = await store.watch(0, (change) => {
      view.apply(change);
      agent.emit('change', change);
    });
    handler = new AgentApiHandler(agent as unknown as Agent, store);
  });

  afterEach(async () => {
    await stopWatch();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Waits until the view (fed by the watch) shows what was written. */
  async function seen(check: () => boolean): Promise<void> {
    for (let tries = 0; !check(); tries++) {
      assert.ok(tries < 200, 'the watch never brought the write');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  test('a failed resource loses its failure, shows offline, keeps its setting, and the audit log says who', async () => {
    await store.putResource(spec('web'));
    await store.putStatus(failed('web'));
    await seen(() => view.statuses.get('web')?.state === 'failed');

    const answer = await handler.execute({ type: 'resource.cleanup', name: 'web' }, ACTOR);
    assert.ok(answer.ok, JSON.stringify(answer));
    const result = answer.result as { outcome: string; detail: string | null; auditSeq: number | null; resource: { enabled: boolean; status: ResourceStatus } | null };
    assert.equal(result.outcome, 'done');
    assert.match(result.detail ?? '', /^web: cleared: conflict with 02:00:00:00:00:66; placement may try it again$/);
    assert.equal(result.resource?.status.state, 'offline');
    assert.equal(result.resource?.status.failure, null);
    assert.equal(result.resource?.enabled, true);

    const status = (await store.statuses()).find((entry) => entry.status.name === 'web')?.status;
    assert.equal(status?.state, 'offline');
    assert.equal(status?.failure, null);
    const entries = (await store.audit()).filter((entry) => entry.action === 'resource.cleanup');
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.target, 'web');
    assert.equal(entries[0]?.actor, ACTOR);
    assert.equal(entries[0]?.outcome, 'ok');
    assert.match(entries[0]?.detail ?? '', /conflict with 02:00:00:00:00:66/);
    assert.equal(result.auditSeq, entries[0]?.seq);
  });

  test('a resource that has not failed: ok, nothing to clean, nothing written', async () => {
    await store.putResource(spec('db', false));
    await seen(() => view.resources.has('db'));
    const before = (await store.audit()).length;

    const answer = await handler.execute({ type: 'resource.cleanup', name: 'db' }, ACTOR);
    assert.ok(answer.ok, JSON.stringify(answer));
    const result = answer.result as { outcome: string; detail: string | null; auditSeq: number | null };
    assert.equal(result.outcome, 'done');
    assert.match(result.detail ?? '', /^nothing to clean up: db has not failed \(offline\) and no node is banned from it$/);
    assert.equal(result.auditSeq, null);
    assert.equal((await store.audit()).length, before);
    assert.deepEqual(await store.statuses(), []);
  });

  test('bans and failover marks: every node whose record has some is asked, and the audit log says what went', async () => {
    await store.putResource(spec('web'));
    await seen(() => view.resources.has('web'));
    const ban = { resource: 'web', since: 1, until: 2, reason: 'could not register on n2: EPERM' };
    view.health.set('n2', { node: 'n2', results: [], bans: [ban], failovers: [{ resource: 'web', at: 1 }] });
    view.health.set('n3', { node: 'n3', results: [], failovers: [{ resource: 'web', at: 1 }] });
    view.health.set('n4', { node: 'n4', results: [], bans: [{ ...ban, resource: 'db' }] });

    const answer = await handler.execute({ type: 'resource.cleanup', name: 'web' }, ACTOR);
    assert.ok(answer.ok, JSON.stringify(answer));
    assert.deepEqual(asked.sort(), ['n2/web', 'n3/web']);
    const result = answer.result as { detail: string | null };
    assert.match(result.detail ?? '', /n2: ban lifted, 2 failover marks dropped; n3: ban lifted, 2 failover marks dropped/);
    const entries = (await store.audit()).filter((entry) => entry.action === 'resource.cleanup');
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.outcome, 'ok');
  });

  test('--node: only that node is asked; one that does not answer is unavailable and the audit says so', async () => {
    await store.putResource(spec('web'));
    await seen(() => view.resources.has('web'));
    view.health.set('n2', { node: 'n2', results: [], bans: [{ resource: 'web', since: 1, until: 2, reason: 'x' }] });
    view.health.set('n3', { node: 'n3', results: [], bans: [{ resource: 'web', since: 1, until: 2, reason: 'x' }] });
    view.nodes.set('n3', { name: 'n3', state: 'up', agentVersion: '1', lastSeen: 1, macs: {} });
    answers.set('n3', { ok: false, timedOut: true });

    const answer = await handler.execute({ type: 'resource.cleanup', name: 'web', node: 'n3' }, ACTOR);
    assert.deepEqual(asked, ['n3/web']);
    assert.equal(answer.ok, false);
    assert.match(JSON.stringify(answer), /not cleaned on n3: no answer within 5 s/);
    const entries = (await store.audit()).filter((entry) => entry.action === 'resource.cleanup');
    assert.equal(entries[0]?.outcome, 'failed');

    const unknown = await handler.execute({ type: 'resource.cleanup', name: 'web', node: 'n9' }, ACTOR);
    assert.deepEqual(unknown, { ok: false, error: { code: 'not-found', message: 'no node named "n9"', field: 'node' } });
  });

  test('an unknown resource: not-found naming the field', async () => {
    const answer = await handler.execute({ type: 'resource.cleanup', name: 'nope' }, ACTOR);
    assert.deepEqual(answer, { ok: false, error: { code: 'not-found', message: 'no resource named "nope"', field: 'name' } });
    assert.equal((await store.audit()).length, 0);
  });
});
