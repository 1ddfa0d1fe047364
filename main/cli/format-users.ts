// What `ipfo user` prints (pure): the users as a table, and a new credential with how to keep it.
import type { UserInfo } from '../../preload/contract/users';
import { table } from './format';

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function formatUsers(users: readonly UserInfo[]): string[] {
  if (users.length === 0) return ['no users (the node token in /var/lib/ipfo/token is the local root\'s admin credential; add users with `ipfo user add`)'];
  return table(
    ['USER', 'ROLE', 'CREATED', 'BY', 'ROTATED'],
    users.map((user) => [user.name, user.role, iso(user.createdAt), user.createdBy, user.rotatedAt === null ? '-' : iso(user.rotatedAt)]),
  );
}

/** The credential is shown once: say so, and how to keep it private. */
export function formatNewCredential(user: UserInfo, credential: string, what: 'added' | 'rotated'): string[] {
  return [
    what === 'added' ? `user ${user.name} added with role ${user.role}.` : `user ${user.name}: new credential; the old one no longer works and its sessions have ended.`,
    'Its credential, shown this once (the cluster keeps only what checks it):',
    '',
    `  ${credential}`,
    '',
    `Give it to ${user.name} privately. To use it: (umask 077; echo '<credential>' > ${user.name}.cred), then`,
    `ipfo status --credential-file ${user.name}.cred, or paste it in the console's credential field.`,
  ];
}
