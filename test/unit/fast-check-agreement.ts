// The console's fast check of a push (preload/contract/fast-push.ts) against the contract's parser:
// what the fast check accepts, the contract must accept too, with the same value.
import assert from 'node:assert/strict';
import { fastPush } from '../../preload/contract/fast-push';
import { parseServerMessage } from '../../preload/contract/parse';
import type { Push } from '../../preload/contract/protocol';

/**
 * Sends `message` through JSON and the fast check. Null when the fast check declined it (the console
 * then asks the contract); else asserts the contract accepts it as the same push, and returns that push.
 * `what` names the message in the failure ("fast check accepted <what> the contract refuses").
 */
export function fastCheckAgrees(message: unknown, what: string): Push | null {
  const text = JSON.stringify(message);
  const fast = fastPush(JSON.parse(text));
  if (fast === null) return null;
  const slow = parseServerMessage(text);
  assert.equal(slow.kind, 'push', `fast check accepted ${what} the contract refuses: ${text.slice(0, 300)}`);
  if (slow.kind === 'push') assert.deepEqual(fast, slow.push);
  return fast;
}
