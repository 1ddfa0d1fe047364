// The API's user commands (user.add, list, remove, rotate) as store writes, and the users as the
// API server sees them (its UserDirectory: the agent's view, told of every change).
//
// A new credential's secret exists only in the reply: the store keeps its verifier (handshake.ts),
// from which nobody can log in. Every change is audited with the admin who made it.
import type { CommandResult } from '../api/handler';
import type { UserDirectory } from '../api/credentials';
import { generateToken } from '../api/auth';
import { verifierOf } from '../../preload/contract/handshake';
import { formatCredential, MAX_USERS, userInfoOf, type Role, type UserRecord } from '../../preload/contract/users';
import { RevisionConflictError, type AuditRecord, type ClusterStore, type UserEntry } from '../store/store';
import type { Agent } from './agent';

type Audit = (record: Omit<AuditRecord, 'at'>) => Promise<number>;

const notFound = (name: string): CommandResult => ({ ok: false, error: { code: 'not-found', message: `no user named "${name}"`, field: 'name' } });

export class UserCommands {
  constructor(
    private readonly store: ClusterStore,
    private readonly audit: Audit,
  ) {}

  async add(name: string, role: Role, actor: string): Promise<CommandResult> {
    if ((await this.store.users()).length >= MAX_USERS) {
      return { ok: false, error: { code: 'invalid', message: `the cluster has ${MAX_USERS} users, the most it keeps; remove one first`, field: 'name' } };
    }
    const secret = generateToken();
    const record: UserRecord = { name, role, verifier: await verifierOf(secret), createdAt: Date.now(), createdBy: actor, rotatedAt: null };
    try {
      await this.store.putUser(record, 0);
    } catch (error) {
      if (!(error instanceof RevisionConflictError)) throw error;
      return { ok: false, error: { code: 'conflict', message: `user "${name}" exists already (\`ipfo user rotate ${name}\` gives it a new credential)`, field: 'name' } };
    }
    await this.audit({ actor, action: 'user.added', target: name, outcome: 'ok', detail: `role ${role}`, handoffMs: null });
    return { ok: true, result: { user: userInfoOf(record), credential: formatCredential({ user: name, secret }) } };
  }

  async list(): Promise<CommandResult> {
    const users = (await this.store.users()).map((entry) => userInfoOf(entry.user)).sort((a, b) => a.name.localeCompare(b.name));
    return { ok: true, result: { users } };
  }

  async remove(name: string, actor: string): Promise<CommandResult> {
    const entry = await this.find(name);
    if (entry === null) return notFound(name);
    // Conditional on the revision read: a rotate in between is not silently undone.
    await this.store.deleteUser(name, entry.revision);
    await this.audit({ actor, action: 'user.removed', target: name, outcome: 'ok', detail: `role ${entry.user.role}`, handoffMs: null });
    return { ok: true, result: { user: userInfoOf(entry.user) } };
  }

  async rotate(name: string, actor: string): Promise<CommandResult> {
    const entry = await this.find(name);
    if (entry === null) return notFound(name);
    const secret = generateToken();
    const record: UserRecord = { ...entry.user, verifier: await verifierOf(secret), rotatedAt: Date.now() };
    await this.store.putUser(record, entry.revision);
    await this.audit({ actor, action: 'user.rotated', target: name, outcome: 'ok', detail: null, handoffMs: null });
    return { ok: true, result: { user: userInfoOf(record), credential: formatCredential({ user: name, secret }) } };
  }

  private async find(name: string): Promise<UserEntry | null> {
    return (await this.store.users()).find((entry) => entry.user.name === name) ?? null;
  }
}

/** The users as the agent's view holds them; listeners hear every change of a user and every fresh view. */
export function agentUserDirectory(agent: Agent): UserDirectory {
  return {
    user: (name) => agent.clusterView.user(name),
    onChange(listener) {
      const onChange = (change: { collection: string }): void => {
        if (change.collection === 'users') listener();
      };
      const onReset = (): void => listener();
      agent.on('change', onChange);
      agent.on('reset', onReset);
      return () => {
        agent.off('change', onChange);
        agent.off('reset', onReset);
      };
    },
  };
}
