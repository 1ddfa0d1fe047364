// What the console offers each role (renderer/src/model/roles.ts, components/actions.ts and
// resource-menu.ts): viewers read, operators also move, bring online/offline, re-announce, pause,
// resume and probe, admins also add, edit and remove — the contract's table, never a role name in a component.
// The agent refuses the rest anyway ('forbidden': test/unit/api-users.test.ts, the lab's e2e).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IPC_COMMAND_TYPES } from '../../preload/contract/ipc';
import { ApiRequestError } from '../../preload/contract/request-tracker';
import { COMMAND_ROLES, ROLES, type Role } from '../../preload/contract/users';
import { can, roleHint, sessionLabel } from '../../renderer/src/model/roles';
import { errorMessage } from '../../renderer/src/model/errors';
import { nodeActionsFor, resourceActionsFor, type ResourceActions } from '../../renderer/src/components/actions';
import { hasResourceMenu, resourceMenuItems, resourceShortcut } from '../../renderer/src/components/resource-menu';
import { resource } from './renderer-fixtures';

/** What each role is offered, by the command each control sends. */
const OFFERED: Readonly<Record<Role, readonly string[]>> = {
  viewer: ['snapshot', 'events.query', 'bindings.query', 'resource.export', 'plan'],
  operator: ['snapshot', 'events.query', 'bindings.query', 'resource.export', 'plan', 'resource.move', 'resource.online', 'resource.offline', 'resource.cleanup', 'resource.announce', 'node.pause', 'node.resume', 'node.maintenance', 'probe', 'group.move', 'hook.list'],
  admin: [...IPC_COMMAND_TYPES],
};

function recorder(): { calls: string[]; resourceFns: Parameters<typeof resourceActionsFor>[1]; nodeFns: Parameters<typeof nodeActionsFor>[1] } {
  const calls: string[] = [];
  const call = (what: string) => (name: string) => void calls.push(`${what} ${name}`);
  return {
    calls,
    resourceFns: { openMove: call('move'), online: call('online'), offline: call('offline'), announce: call('announce'), cleanup: call('cleanup'), edit: call('edit'), remove: call('remove') },
    nodeFns: { pause: call('pause'), resume: call('resume') },
  };
}

describe('can(role, command)', () => {
  test('each role is offered exactly its commands, over every command the page may send', () => {
    for (const role of ROLES) {
      const offered = IPC_COMMAND_TYPES.filter((type) => can(role, type));
      assert.deepEqual(offered.sort(), [...OFFERED[role]].sort(), role);
    }
  });

  test('before the login (no role) nothing is offered', () => {
    assert.deepEqual(IPC_COMMAND_TYPES.filter((type) => can(null, type)), []);
  });

  test('a command the contract does not gate is offered to nobody', () => {
    assert.equal(can('admin', 'hello' as never), false);
    assert.ok(IPC_COMMAND_TYPES.every((type) => type in COMMAND_ROLES), 'every command the page may send has a role');
  });

  test('what a disabled control says; who is signed in', () => {
    assert.equal(roleHint('viewer', 'resource.move'), 'Needs the operator role (you are a viewer)');
    assert.equal(roleHint('operator', 'resource.remove'), 'Needs the admin role (you are an operator)');
    assert.equal(roleHint(null, 'probe'), 'Needs the operator role');
    assert.equal(sessionLabel('alice', 'viewer'), 'alice · viewer');
    assert.equal(sessionLabel(null, 'admin'), 'root · admin', 'the node token signs in as root');
  });

  test('a refusal by the agent reads as one', () => {
    const forbidden = new ApiRequestError('forbidden', 'vera has the viewer role; resource.move needs operator or admin');
    assert.equal(errorMessage(forbidden), 'Not allowed: vera has the viewer role; resource.move needs operator or admin');
    assert.equal(errorMessage(new ApiRequestError('not-found', 'no resource web')), 'no resource web');
  });
});

describe('the actions each role gets', () => {
  const offeredActions = (actions: object): string[] =>
    Object.entries(actions)
      .filter(([key, value]) => key !== 'role' && value !== null)
      .map(([key]) => key)
      .sort();

  test('viewer: none; operator: move, online, offline, announce, clean up, pause, resume; admin: all', () => {
    const { resourceFns, nodeFns } = recorder();
    assert.deepEqual(offeredActions(resourceActionsFor('viewer', resourceFns)), []);
    assert.deepEqual(offeredActions(nodeActionsFor('viewer', nodeFns)), []);
    assert.deepEqual(offeredActions(resourceActionsFor('operator', resourceFns)), ['announce', 'cleanup', 'offline', 'online', 'openMove']);
    assert.deepEqual(offeredActions(nodeActionsFor('operator', nodeFns)), ['pause', 'resume']);
    assert.deepEqual(offeredActions(resourceActionsFor('admin', resourceFns)), ['announce', 'cleanup', 'edit', 'offline', 'online', 'openMove', 'remove']);
    assert.deepEqual(offeredActions(nodeActionsFor('admin', nodeFns)), ['pause', 'resume']);
    assert.deepEqual(offeredActions(resourceActionsFor(null, resourceFns)), [], 'not logged in yet');
    assert.equal(resourceActionsFor('viewer', resourceFns).role, 'viewer');
  });

  const web = resource('web', '10.0.0.50', { owner: 'n1' });
  const KEYS = ['Enter', 'm', 'o', 'F', 'A', 'C', 'e', 'Delete'];

  function keysThatAct(actions: ResourceActions): string[] {
    return KEYS.filter((key) => resourceShortcut(key, web, actions) !== null);
  }

  test('a viewer: no menu, and no key does anything', () => {
    const { resourceFns, calls } = recorder();
    const actions = resourceActionsFor('viewer', resourceFns);
    assert.equal(hasResourceMenu(actions), false);
    assert.deepEqual(keysThatAct(actions), []);
    // Even the menu's items, were they drawn, are disabled and run nothing.
    for (const item of resourceMenuItems(web, actions)) {
      assert.equal(item.disabled, true, item.id);
      assert.match(item.title ?? '', /^Needs the (operator|admin) role \(you are a viewer\)$/, item.id);
      item.run();
    }
    assert.deepEqual(calls, []);
  });

  test('an operator: move, online, offline, announce, clean up by key and menu; edit and delete disabled, saying they need admin', () => {
    const { resourceFns, calls } = recorder();
    const actions = resourceActionsFor('operator', resourceFns);
    assert.equal(hasResourceMenu(actions), true);
    assert.deepEqual(keysThatAct(actions), ['Enter', 'm', 'o', 'F', 'A', 'C']);
    const items = new Map(resourceMenuItems(web, actions).map((item) => [item.id, item]));
    assert.equal(items.get('move')?.disabled, false);
    assert.equal(items.get('offline')?.disabled, false);
    // web is online and enabled: "Bring online" is moot, and says nothing about roles.
    assert.deepEqual([items.get('online')?.disabled, items.get('online')?.title], [true, undefined]);
    for (const id of ['edit', 'delete']) assert.deepEqual([items.get(id)?.disabled, items.get(id)?.title], [true, 'Needs the admin role (you are an operator)'], id);
    assert.equal(items.get('announce')?.disabled, false);
    resourceShortcut('Enter', web, actions)?.();
    items.get('offline')?.run();
    items.get('announce')?.run();
    items.get('cleanup')?.run();
    items.get('delete')?.run();
    assert.deepEqual(calls, ['move web', 'offline web', 'announce web', 'cleanup web']);
  });

  test('an admin: everything, by key and menu', () => {
    const { resourceFns, calls } = recorder();
    const actions = resourceActionsFor('admin', resourceFns);
    assert.deepEqual(keysThatAct(actions), KEYS);
    const items = resourceMenuItems(web, actions);
    assert.deepEqual(items.filter((item) => item.disabled !== true).map((item) => item.id), ['move', 'offline', 'announce', 'cleanup', 'edit', 'delete']);
    assert.ok(items.every((item) => item.title === undefined));
    resourceShortcut('Delete', web, actions)?.();
    assert.deepEqual(calls, ['remove web']);
  });

  test('announce now: offered only while the address is online (only its holder can announce it)', () => {
    const { resourceFns } = recorder();
    const actions = resourceActionsFor('operator', resourceFns);
    const announceOf = (view: typeof web) => resourceMenuItems(view, actions).find((item) => item.id === 'announce');
    assert.deepEqual([announceOf(web)?.disabled, announceOf(web)?.label, announceOf(web)?.shortcut], [false, 'Announce now', 'A']);
    for (const state of ['offline', 'online-pending', 'offline-pending', 'failed'] as const) {
      const view = resource('web', '10.0.0.50', { owner: state === 'offline' ? null : 'n1', state });
      assert.deepEqual([announceOf(view)?.disabled, announceOf(view)?.title], [true, undefined], state);
    }
  });
});
