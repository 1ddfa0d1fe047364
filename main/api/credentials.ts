// Who may log in to the API, and as what: the node's token (the local root: role admin) and the
// cluster's named users (preload/contract/users.ts), whose verifiers the agent reads from the store.
// A session keeps the identity it logged in with; when that user is removed, rotated or given
// another role, `stillValid` turns false and the server closes the session.
import { credentialKeys, newNonce, verifierKeys, verifierOf, type VerifierKeys } from '../../preload/contract/handshake';
import { ROOT_ACTOR, type Role, type UserRecord, type Verifier } from '../../preload/contract/users';

/** The users as the agent knows them now (its view of the store). */
export interface UserDirectory {
  user(name: string): UserRecord | null;
  /** Called after users changed (or the whole view was replaced); returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

/** Who a session is. `storedKey` tells a rotated credential from the one the session used. */
export interface Identity {
  user: string | null;
  role: Role;
  storedKey: string | null;
}

/** The verifier a hello is answered with, and whose login it would be (null: nobody's, the login fails at auth). */
export interface Challenge {
  keys: VerifierKeys;
  identity: Identity | null;
}

/** Verifier keys kept per stored key: importing them is cheap, but a login storm should not redo it per try. */
const MAX_CACHED_KEYS = 256;

export class Credentials {
  private readonly cache = new Map<string, VerifierKeys>();

  private constructor(
    private readonly tokenKeys: VerifierKeys,
    /** Random per process: unknown users are answered with a verifier derived from it, so a hello does not tell which users exist. */
    private readonly decoySecret: string,
    readonly directory: UserDirectory | null,
  ) {}

  static async create(token: string, directory: UserDirectory | null): Promise<Credentials> {
    return new Credentials((await credentialKeys(token)).verifier, newNonce(), directory);
  }

  /** What a hello for `user` ('' = the node token) is answered with. */
  async challenge(user: string): Promise<Challenge> {
    if (user === '') return { keys: this.tokenKeys, identity: { user: null, role: 'admin', storedKey: null } };
    const record = this.directory?.user(user) ?? null;
    if (record === null) return { keys: await this.cached(`decoy:${user}`, () => verifierOf(`${this.decoySecret}:${user}`)), identity: null };
    const { storedKey, serverKey } = record.verifier;
    return { keys: await this.cached(`${storedKey}:${serverKey}`, () => Promise.resolve(record.verifier)), identity: { user: record.name, role: record.role, storedKey } };
  }

  /** Whether the session's identity still stands: the token always; a user while its record has the same credential and role. */
  stillValid(identity: Identity): boolean {
    if (identity.user === null) return true;
    const record = this.directory?.user(identity.user) ?? null;
    return record !== null && record.role === identity.role && record.verifier.storedKey === identity.storedKey;
  }

  /** A verifier's keys, kept (bounded) so that a known and an unknown user cost the same after the first try. */
  private async cached(id: string, verifier: () => Promise<Verifier>): Promise<VerifierKeys> {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached;
    const keys = await verifierKeys(await verifier());
    if (this.cache.size >= MAX_CACHED_KEYS) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(id, keys);
    return keys;
  }
}

/** The audit log's name for a session: the credential's identity and the peer the socket saw. */
export function actorOf(identity: Identity, peer: string): string {
  return `${identity.user ?? ROOT_ACTOR}@${peer}`;
}
