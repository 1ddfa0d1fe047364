// What the signed-in session may do, as the console offers it. The agent decides (it answers
// 'forbidden' whatever the page sends); the console only leaves out what would be refused, from the
// contract's own table (preload/contract/users.ts COMMAND_ROLES), so components never name roles.
import { ROOT_ACTOR, roleAllows, roleNeeded, type Role } from '../../../preload/contract/users';
import type { IpcCommandType } from '../../../preload/contract/ipc';

/** Whether a session of `role` may run `type`; nothing before the login said which role (null). */
export function can(role: Role | null, type: IpcCommandType): boolean {
  return role !== null && roleAllows(role, type);
}

/** Why a control is disabled, for its title: "Needs the operator role (you are a viewer)". */
export function roleHint(role: Role | null, type: IpcCommandType): string {
  const needed = roleNeeded(type);
  const needs = needed === null ? 'Not available to this session' : `Needs the ${needed} role`;
  return role === null ? needs : `${needs} (you are ${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role})`;
}

/** Who is signed in, for the status bar: "alice · viewer", "root · admin" for the node token. */
export function sessionLabel(user: string | null, role: Role): string {
  return `${user ?? ROOT_ACTOR} · ${role}`;
}
