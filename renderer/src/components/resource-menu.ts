// The actions of one resource, shared by the table's context menu and its keyboard shortcuts.
import type { ResourceView } from '../../../preload/contract/domain';
import type { ResourceActions } from './actions';
import type { MenuItem } from './ContextMenu';

export function resourceMenuItems(resource: ResourceView, actions: ResourceActions): MenuItem[] {
  const name = resource.name;
  return [
    { id: 'move', label: 'Move to…', shortcut: 'Enter', run: () => actions.openMove(name) },
    { id: 'online', label: 'Bring online', shortcut: 'O', disabled: resource.enabled && resource.status.state === 'online', run: () => actions.online(name) },
    { id: 'offline', label: 'Take offline', shortcut: 'F', disabled: !resource.enabled && resource.status.state === 'offline', run: () => actions.offline(name) },
    { id: 'edit', label: 'Edit…', shortcut: 'E', run: () => actions.edit(name) },
    { id: 'delete', label: 'Delete…', shortcut: 'Del', danger: true, run: () => actions.remove(name) },
  ];
}

/** The table's single-key shortcuts; null when the key means nothing here. */
export function resourceShortcut(key: string, resource: ResourceView, actions: ResourceActions): (() => void) | null {
  switch (key) {
    case 'Enter':
    case 'm':
    case 'M':
      return () => actions.openMove(resource.name);
    case 'o':
    case 'O':
      return () => actions.online(resource.name);
    case 'f':
    case 'F':
      return () => actions.offline(resource.name);
    case 'e':
    case 'E':
      return () => actions.edit(resource.name);
    case 'Delete':
      return () => actions.remove(resource.name);
    default:
      return null;
  }
}
