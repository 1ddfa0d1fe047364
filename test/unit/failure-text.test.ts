// One wording of a failed resource for the agent's log and audit, the CLI and the console
// (preload/contract/failure-text.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFailure } from '../../preload/contract/failure-text';
import { resourceStateText } from '../../main/cli/format';
import { resource } from './renderer-fixtures';

describe('failure text', () => {
  test('each kind in one line, naming the MAC or the node', () => {
    assert.equal(describeFailure({ kind: 'conflict', mac: '0a:1b:2c:3d:4e:5f' }), 'conflict with MAC 0a:1b:2c:3d:4e:5f');
    assert.equal(describeFailure({ kind: 'no-eligible-node' }), 'no eligible node');
    assert.equal(describeFailure({ kind: 'interface-missing', node: 'n1', detail: 'no interface in 10.213.0.0/24' }), 'interface missing on n1: no interface in 10.213.0.0/24');
    assert.equal(describeFailure({ kind: 'register-failed', node: 'n2', detail: 'EPERM' }), 'could not register on n2: EPERM');
  });

  test('the CLI shows the same words', () => {
    const base = resource('web', '10.213.0.50', { owner: null, state: 'failed' });
    const failed = { ...base, status: { ...base.status, failure: { kind: 'register-failed', node: 'n2', detail: 'EPERM' } as const } };
    assert.equal(resourceStateText(failed), 'failed: could not register on n2: EPERM');
  });
});
