// resource.import in the agent's handler (main/agent/api-handler.ts), against a real file store: the
// agent is stood in for by a cluster view that the test feeds from the store when it chooses, so "the
// view has not seen the last batch yet" — a busy agent's everyday state during an import — is a state
// the test holds, not a race it hopes to win.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Agent } from '../../main/agent/agent';
import { ClusterView } from '../../main/agent/cluster-view';
import { AgentApiHandler } from '../../main/agent/api-handler';
import type { CommandResults } from '../../preload/contract/protocol';
import { FileStore } from '../../main/store/file-store';
import type { StoreChange } from '../../main/store/store';
import { resourceSpec } from '../fixtures/records';

const ACTOR = 'cli:test@127.0.0.1';

type ImportResult = CommandResults['resource.import'];

describe('resource.import: each batch is checked against the view and the batches before it', () => {
  let dir: string;
  let store: FileStore;
  let view: ClusterView;
  let handler: AgentApiHandler;
  /** Changes the store has sent that the view has not applied yet. */
  let pending: StoreChange[];
  let stopWatch: () => Promise<void>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ipfo-import-handler-'));
    store = await FileStore.open({ dir });
    view = new ClusterView();
    pending = [];
    stopWatch = await store.watch(0, (change) => {
      pending.push(change);
    });
    const agent = Object.assign(new EventEmitter(), { clusterView: view });
    handler = new AgentApiHandler(agent as unknown as Agent, store);
  });

  afterEach(async () => {
    await stopWatch();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The view catches up with everything the store has sent. */
  async function catchUp(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const change of pending.splice(0)) view.apply(change);
  }

  async function importRows(rows: unknown[]): Promise<ImportResult> {
    const answer = await handler.execute({ type: 'resource.import', rows, skipInvalid: false } as never, ACTOR);
    assert.ok(answer.ok, JSON.stringify(answer));
    return answer.result as ImportResult;
  }

  test('a second batch sent before the view holds the first: its address and name taken by the first are refused, nothing of it created', async () => {
    const first = await importRows([resourceSpec('web', '10.213.9.10'), resourceSpec('db', '10.213.9.11')]);
    assert.deepEqual(first.created, ['web', 'db']);
    assert.equal(view.resources.size, 0, 'the view must not have seen the first batch yet, or this proves nothing');

    const second = await importRows([resourceSpec('mail', '10.213.9.10'), resourceSpec('db', '10.213.9.12'), resourceSpec('dns', '10.213.9.13')]);
    assert.deepEqual(second.created, []);
    assert.deepEqual(second.invalid.map((issue) => [issue.index, issue.field]), [[0, 'ip'], [1, 'name']]);
    assert.equal(second.auditSeq, null);

    assert.deepEqual((await store.resources()).map((entry) => entry.spec.name).sort(), ['db', 'web']);
  });

  test('batches sent together (not waiting for each other) are checked one after the other', async () => {
    const [first, second] = await Promise.all([importRows([resourceSpec('web', '10.213.9.10')]), importRows([resourceSpec('mail', '10.213.9.10')])]);
    assert.deepEqual(first.created, ['web']);
    assert.deepEqual(second.created, []);
    assert.deepEqual(second.invalid.map((issue) => issue.field), ['ip']);
    assert.deepEqual((await store.resources()).map((entry) => entry.spec.name), ['web']);
  });

  test('once the view has caught up, what it says counts: a resource removed since may be imported again', async () => {
    await importRows([resourceSpec('web', '10.213.9.10')]);
    await store.deleteResource('web');
    await catchUp();
    assert.equal(view.resources.has('web'), false);
    const again = await importRows([resourceSpec('web', '10.213.9.10')]);
    assert.deepEqual(again.created, ['web']);
    assert.deepEqual(again.invalid, []);
  });

  test('every batch that created something has its audit entry, numbered in the reply', async () => {
    const first = await importRows([resourceSpec('web', '10.213.9.10')]);
    const second = await importRows([resourceSpec('db', '10.213.9.11'), resourceSpec('dns', '10.213.9.12')]);
    const entries = (await store.audit()).filter((entry) => entry.action === 'resource.import');
    assert.deepEqual(entries.map((entry) => entry.detail), ['1 created (web)', '2 created (db .. dns)']);
    assert.deepEqual([first.auditSeq, second.auditSeq], entries.map((entry) => entry.seq));
  });
});
