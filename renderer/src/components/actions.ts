// What the views may ask the console to do; App carries the requests out and reports the outcome.
// Function-valued properties (not methods): views pass them around detached from the object.
// An action the session's role may not run is null (the command each one sends decides, through
// model/roles.ts): a view then draws no control for it, or a disabled one that says which role it
// needs, and binds no key to it.
import type { IpcCommandType } from '../../../preload/contract/ipc';
import type { Role } from '../../../preload/contract/users';
import { can } from '../model/roles';

type Gated<Fns> = { readonly [K in keyof Fns]: Fns[K] | null };

interface ResourceFns {
  /** Opens the move dialog; `target` preselects a node (a drop on a node column). */
  openMove: (name: string, target?: string) => void;
  online: (name: string) => void;
  offline: (name: string) => void;
  /** The holder announces the address again now (stale ARP caches on the LAN). */
  announce: (name: string) => void;
  /** Forgets its failure and lifts the failure policy's bans and counts on every node. */
  cleanup: (name: string) => void;
  edit: (name: string) => void;
  remove: (name: string) => void;
}

interface GroupFns {
  /** Opens the group's move dialog; `target` preselects a node (a drop on a node column). */
  openGroupMove: (name: string, target?: string) => void;
}

interface NodeFns {
  pause: (name: string) => void;
  resume: (name: string) => void;
}

/** The command each action ends in (the move dialog's is the move; its probe is gated in the dialog). */
export const RESOURCE_ACTION_COMMANDS = {
  openMove: 'resource.move',
  online: 'resource.online',
  offline: 'resource.offline',
  announce: 'resource.announce',
  cleanup: 'resource.cleanup',
  edit: 'resource.edit',
  remove: 'resource.remove',
} as const satisfies Record<keyof ResourceFns, IpcCommandType>;

export const GROUP_ACTION_COMMANDS = { openGroupMove: 'group.move' } as const satisfies Record<keyof GroupFns, IpcCommandType>;

export const NODE_ACTION_COMMANDS = { pause: 'node.pause', resume: 'node.resume' } as const satisfies Record<keyof NodeFns, IpcCommandType>;

export type ResourceActions = Gated<ResourceFns> & {
  /** The session's role, for what a disabled control says (null before the login). */
  readonly role: Role | null;
};

export type NodeActions = Gated<NodeFns> & { readonly role: Role | null };

export type GroupActions = Gated<GroupFns> & { readonly role: Role | null };

function gated<Fns extends object>(role: Role | null, fns: Fns, commands: Record<keyof Fns, IpcCommandType>): Gated<Fns> {
  const out: Partial<Record<keyof Fns, unknown>> = {};
  for (const key of Object.keys(commands) as Array<keyof Fns>) out[key] = can(role, commands[key]) ? fns[key] : null;
  return out as Gated<Fns>;
}

/** The resource actions a session of `role` is offered: the others are null. */
export function resourceActionsFor(role: Role | null, fns: ResourceFns): ResourceActions {
  return { role, ...gated(role, fns, RESOURCE_ACTION_COMMANDS) };
}

/** The node actions a session of `role` is offered: the others are null. */
export function nodeActionsFor(role: Role | null, fns: NodeFns): NodeActions {
  return { role, ...gated(role, fns, NODE_ACTION_COMMANDS) };
}

/** The group actions a session of `role` is offered: the others are null. */
export function groupActionsFor(role: Role | null, fns: GroupFns): GroupActions {
  return { role, ...gated(role, fns, GROUP_ACTION_COMMANDS) };
}
