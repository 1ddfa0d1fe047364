// Named users and their roles, as the agent, the CLI and the console share them (pure: zod only).
//
// A user signs in with a credential "NAME:SECRET" (SECRET: 64 hex digits) that the agent prints
// once, at `ipfo user add` or `rotate`; the store keeps only what checks a login (the verifier of
// handshake.ts), never the secret. The node's token file is the local root's credential: role admin,
// actor "root", so a node can always be administered from itself (bootstrap, a lost admin).
import { z } from 'zod';
import { TimestampSchema } from './domain';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = z.enum(ROLES);

/** The identity of a session logged in with the node's token. Not a user name (reserved). */
export const ROOT_ACTOR = 'root';

/** Login-name rules (as useradd's default): lowercase, digits, '_', '.', '-'; starts with a letter or '_'; at most 32. */
export const USER_NAME_PATTERN = /^[a-z_][a-z0-9_.-]{0,31}$/;
export const UserNameSchema = z
  .string()
  .regex(USER_NAME_PATTERN, "must be 1-32 characters: lowercase letters, digits, '_', '.', '-', starting with a letter or '_'")
  .refine((name) => name !== ROOT_ACTOR, `"${ROOT_ACTOR}" is the node token's identity, not a user name`);

/**
 * Which role each command needs: viewers read; operators also move, bring online/offline, clean up,
 * pause, resume, set maintenance, probe and re-announce (both send ARP on the LAN); admins also add, edit and
 * remove resources and manage users. Roles are ordered: a role may do all a lower one may.
 */
export const COMMAND_ROLES = {
  snapshot: 'viewer',
  subscribe: 'viewer',
  'events.query': 'viewer',
  'bindings.query': 'viewer',
  'resource.move': 'operator',
  'resource.online': 'operator',
  'resource.offline': 'operator',
  'resource.cleanup': 'operator',
  'resource.announce': 'operator',
  'group.move': 'operator',
  'node.pause': 'operator',
  'node.resume': 'operator',
  'node.maintenance': 'operator',
  probe: 'operator',
  'resource.add': 'admin',
  'resource.edit': 'admin',
  'resource.remove': 'admin',
  'group.add': 'admin',
  'group.remove': 'admin',
  'user.add': 'admin',
  'user.list': 'admin',
  'user.remove': 'admin',
  'user.rotate': 'admin',
  'hook.add': 'admin',
  'hook.remove': 'admin',
  'hook.test': 'admin',
  'hook.list': 'operator',
  'resource.import': 'admin',
  'resource.export': 'viewer',
  plan: 'viewer',
} as const satisfies Record<string, Role>;
export type RoleGatedCommand = keyof typeof COMMAND_ROLES;

/** Whether `role` may run the command `type` (login commands are not role-gated: false for anything not in the table). */
export function roleAllows(role: Role, type: string): boolean {
  const needed = (COMMAND_ROLES as Record<string, Role | undefined>)[type];
  return needed !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** The least role that may run `type`, for an operator-facing refusal ("needs operator"). */
export function roleNeeded(type: string): Role | null {
  return (COMMAND_ROLES as Record<string, Role | undefined>)[type] ?? null;
}

const Hex32Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

/** What checks a user's login (handshake.ts): StoredKey = SHA-256(ClientKey) and ServerKey, both derived from the secret, hex. */
export const VerifierSchema = z.strictObject({ storedKey: Hex32Schema, serverKey: Hex32Schema });
export type Verifier = z.infer<typeof VerifierSchema>;

/** A user as the store keeps it (key ipfo/<cluster>/users/<name>). */
export const UserRecordSchema = z.strictObject({
  name: UserNameSchema,
  role: RoleSchema,
  verifier: VerifierSchema,
  createdAt: TimestampSchema,
  /** The actor that added the user. */
  createdBy: z.string().max(256),
  /** When the credential was last replaced (user.rotate); null if never. */
  rotatedAt: TimestampSchema.nullable(),
});
export type UserRecord = z.infer<typeof UserRecordSchema>;

/** A user as the API shows it: the record without its verifier. */
export const UserInfoSchema = UserRecordSchema.omit({ verifier: true });
export type UserInfo = z.infer<typeof UserInfoSchema>;

export function userInfoOf(record: UserRecord): UserInfo {
  const { verifier: _verifier, ...info } = record;
  return info;
}

/** Most users a cluster keeps (the API's list is bounded by it). */
export const MAX_USERS = 1_000;

/** A credential as a person holds it: the node's token (64 hex), or a user's "NAME:SECRET". */
export type Credential = { user: null; secret: string } | { user: string; secret: string };

const SECRET_PATTERN = /^[0-9a-f]{64}$/;

/** Reads a credential as typed or pasted (surrounding blanks ignored); null when it is neither form. */
export function parseCredential(text: string): Credential | null {
  const trimmed = text.trim();
  if (SECRET_PATTERN.test(trimmed)) return { user: null, secret: trimmed };
  const colon = trimmed.lastIndexOf(':');
  if (colon <= 0) return null;
  const user = trimmed.slice(0, colon);
  const secret = trimmed.slice(colon + 1);
  if (!UserNameSchema.safeParse(user).success || !SECRET_PATTERN.test(secret)) return null;
  return { user, secret };
}

export function formatCredential(credential: Credential): string {
  return credential.user === null ? credential.secret : `${credential.user}:${credential.secret}`;
}

/** What parseCredential accepts, for error messages. */
export const CREDENTIAL_FORMS = 'a node token (64 hex digits) or a user credential NAME:SECRET (as printed by `ipfo user add`)';
