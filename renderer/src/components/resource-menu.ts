// The actions of one resource, shared by the table's context menu and its keyboard shortcuts. An
// action the role may not run stays in the menu, disabled, saying which role it needs (so the menu
// does not change shape between sessions); its shortcut does nothing.
import type { ResourceView } from '../../../preload/contract/domain';
import type { IpcCommandType } from '../../../preload/contract/ipc';
import type { Role } from '../../../preload/contract/users';
import { roleHint } from '../model/roles';
import type { ResourceActions } from './actions';
import type { MenuItem } from './menu-item';

export function resourceMenuItems(resource: ResourceView, actions: ResourceActions): MenuItem[] {
  const name = resource.name;
  const { openMove, online, offline, announce, cleanup, edit, remove, role } = actions;
  return [
    { id: 'move', label: 'Move to…', shortcut: 'Enter', ...gate(role, openMove, 'resource.move'), run: () => openMove?.(name) },
    {
      id: 'online',
      label: 'Bring online',
      shortcut: 'O',
      ...gate(role, online, 'resource.online', resource.enabled && resource.status.state === 'online'),
      run: () => online?.(name),
    },
    {
      id: 'offline',
      label: 'Take offline',
      shortcut: 'F',
      ...gate(role, offline, 'resource.offline', !resource.enabled && resource.status.state === 'offline'),
      run: () => offline?.(name),
    },
    {
      id: 'announce',
      label: 'Announce now',
      shortcut: 'A',
      // Only its holder can announce it: nothing to do unless it is online.
      ...gate(role, announce, 'resource.announce', resource.status.state !== 'online'),
      run: () => announce?.(name),
    },
    // Bans live in the nodes' records, which the menu does not read: the agent says when there is nothing to clean.
    { id: 'cleanup', label: 'Clean up failures', shortcut: 'C', ...gate(role, cleanup, 'resource.cleanup'), run: () => cleanup?.(name) },
    { id: 'edit', label: 'Edit…', shortcut: 'E', ...gate(role, edit, 'resource.edit'), run: () => edit?.(name) },
    { id: 'delete', label: 'Delete…', shortcut: 'Del', danger: true, ...gate(role, remove, 'resource.remove'), run: () => remove?.(name) },
  ];
}

/** Whether the role may run any of the menu's actions (a viewer gets no menu at all). */
export function hasResourceMenu(actions: ResourceActions): boolean {
  return [actions.openMove, actions.online, actions.offline, actions.announce, actions.cleanup, actions.edit, actions.remove].some((action) => action !== null);
}

/** Disabled when the role lacks the command (null action; the title says which role it needs) or when the action is `moot`. */
function gate(role: Role | null, action: unknown, type: IpcCommandType, moot = false): Pick<MenuItem, 'disabled' | 'title'> {
  if (action === null) return { disabled: true, title: roleHint(role, type) };
  return { disabled: moot };
}

/** The table's single-key shortcuts; null when the key means nothing here (or the role may not). */
export function resourceShortcut(key: string, resource: ResourceView, actions: ResourceActions): (() => void) | null {
  const name = resource.name;
  const bound = (action: ((name: string) => void) | null): (() => void) | null => (action === null ? null : () => action(name));
  switch (key) {
    case 'Enter':
    case 'm':
    case 'M':
      return bound(actions.openMove);
    case 'o':
    case 'O':
      return bound(actions.online);
    case 'f':
    case 'F':
      return bound(actions.offline);
    case 'a':
    case 'A':
      return bound(actions.announce);
    case 'c':
    case 'C':
      return bound(actions.cleanup);
    case 'e':
    case 'E':
      return bound(actions.edit);
    case 'Delete':
      return bound(actions.remove);
    default:
      return null;
  }
}
