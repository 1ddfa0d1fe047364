// Named users at the API server: login with a user's credential (SCRAM-style verifier, handshake.ts),
// the role check before anything reaches the handler, and sessions that end when their user is
// removed, rotated or given another role. The users come from an in-memory directory here (the
// agent's, backed by the store, is tested in the lab); the server, the client and the crypto are real.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { connectAgent } from '../../main/api/client';
import { generateToken } from '../../main/api/auth';
import type { UserDirectory } from '../../main/api/credentials';
import { verifierOf, type Transcript } from '../../preload/contract/handshake';
import { CLOSE_CODES, type CommandType } from '../../preload/contract/protocol';
import { ROLES, type Role, type UserRecord } from '../../preload/contract/users';
import { ApiRequestError } from '../../preload/contract/request-tracker';
import { clientProofOf, RawPeer, TOKEN, withServer, type TestCredential } from './api-fixtures';

class TestUsers implements UserDirectory {
  readonly records = new Map<string, UserRecord>();
  readonly secrets = new Map<string, string>();
  private readonly listeners = new Set<() => void>();

  user(name: string): UserRecord | null {
    return this.records.get(name) ?? null;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds (or replaces) a user with a fresh secret; returns the credential. */
  async put(name: string, role: Role): Promise<TestCredential> {
    const secret = generateToken();
    this.records.set(name, { name, role, verifier: await verifierOf(secret), createdAt: 1, createdBy: 'root@127.0.0.1', rotatedAt: null });
    this.secrets.set(name, secret);
    this.changed();
    return { user: name, secret };
  }

  remove(name: string): void {
    this.records.delete(name);
    this.changed();
  }

  setRole(name: string, role: Role): void {
    const record = this.records.get(name);
    if (record !== undefined) this.records.set(name, { ...record, role });
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

const withUsers = (run: (context: Parameters<Parameters<typeof withServer>[0]>[0] & { users: TestUsers }) => Promise<void>): Promise<void> => {
  const users = new TestUsers();
  return withServer((context) => run({ ...context, users }), { users });
};

const text = (credential: TestCredential): string => `${credential.user ?? ''}:${credential.secret}`;

async function refusal(promise: Promise<unknown>): Promise<ApiRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiRequestError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** One request of each role level, and what it needs. */
const SAMPLES: Array<{ type: CommandType; args: Record<string, unknown>; needs: Role }> = [
  { type: 'snapshot', args: {}, needs: 'viewer' },
  { type: 'events.query', args: {}, needs: 'viewer' },
  { type: 'resource.move', args: { name: 'web', target: 'n2' }, needs: 'operator' },
  { type: 'node.pause', args: { name: 'n2' }, needs: 'operator' },
  { type: 'probe', args: { node: 'n1', ip: '10.213.0.60' }, needs: 'operator' },
  { type: 'resource.remove', args: { name: 'web' }, needs: 'admin' },
  { type: 'user.list', args: {}, needs: 'admin' },
];

describe('named users at the API', () => {
  test('a user logs in with NAME:SECRET; the actor is the user at the peer address, whatever label the client sends', () =>
    withUsers(async ({ server, users, handler }) => {
      const alice = await users.put('alice', 'operator');
      const client = await connectAgent({ url: server.url, credential: text(alice), client: 'cli:root' });
      try {
        assert.equal(client.actor, 'alice@127.0.0.1');
        assert.equal(client.user, 'alice');
        assert.equal(client.role, 'operator');
        await client.request('resource.move', { name: 'web', target: 'n2' });
        assert.equal(handler.calls[0]?.actor, 'alice@127.0.0.1', 'the audit actor comes from the credential');
      } finally {
        await client.close();
      }
    }));

  test('each role may run exactly its commands; the rest are refused as forbidden before the handler sees them', () =>
    withUsers(async ({ server, users, handler }) => {
      for (const role of ROLES) {
        const credential = await users.put(`u-${role}`, role);
        const peer = await RawPeer.authenticated(server.url, undefined, {}, credential);
        assert.deepEqual(peer.login, { protocol: 3, actor: `u-${role}@127.0.0.1`, user: `u-${role}`, role });
        for (const sample of SAMPLES) {
          const before = handler.calls.length;
          const reply = await peer.request({ id: sample.type, type: sample.type, ...sample.args });
          const allowed = ROLES.indexOf(role) >= ROLES.indexOf(sample.needs);
          if (allowed) assert.notEqual((reply.error as { code?: string } | undefined)?.code, 'forbidden', `${role} may ${sample.type}`);
          else {
            assert.equal((reply.error as { code: string }).code, 'forbidden', `${role} may not ${sample.type}`);
            assert.match((reply.error as { message: string }).message, new RegExp(`u-${role} has the ${role} role; ${sample.type.replace('.', '\\.')} needs ${sample.needs}`));
            assert.equal(handler.calls.length, before, 'nothing reached the handler');
          }
        }
        peer.close();
      }
    }));

  test('refusals for the role are not bad messages: a viewer clicking twenty times stays connected', () =>
    withUsers(async ({ server, users }) => {
      const viewer = await users.put('vera', 'viewer');
      const peer = await RawPeer.authenticated(server.url, undefined, {}, viewer);
      for (let index = 0; index < 20; index++) {
        const reply = await peer.request({ id: `m${index}`, type: 'resource.move', name: 'web', target: 'n2' });
        assert.equal((reply.error as { code: string }).code, 'forbidden');
      }
      const snapshot = await peer.request({ id: 's', type: 'snapshot' });
      assert.equal(snapshot.ok, true);
      peer.close();
    }));

  test('the node token is root with the admin role', () =>
    withUsers(async ({ server }) => {
      const client = await connectAgent({ url: server.url, credential: TOKEN });
      assert.deepEqual([client.actor, client.user, client.role], ['root@127.0.0.1', null, 'admin']);
      await client.close();
    }));

  test('a wrong secret and an unknown user are refused alike; the hello does not tell which users exist', () =>
    withUsers(async ({ server, users, logs }) => {
      await users.put('alice', 'admin');
      const wrong = await refusal(connectAgent({ url: server.url, credential: `alice:${generateToken()}` }));
      const unknown = await refusal(connectAgent({ url: server.url, credential: `mallory:${generateToken()}` }));
      assert.equal(wrong.code, 'auth-failed');
      assert.equal(unknown.code, 'auth-failed');
      assert.equal(wrong.message.replace('"alice"', '"X"'), unknown.message.replace('"mallory"', '"X"'));
      // At the wire: both hellos are answered with a nonce and a proof of the same form.
      for (const user of ['alice', 'mallory']) {
        const peer = await RawPeer.open(server.url);
        const reply = await peer.request({ id: 'h', type: 'hello', protocol: 3, clientNonce: 'c'.repeat(64), user });
        assert.equal(reply.ok, true);
        assert.match((reply.result as { serverProof: string }).serverProof, /^[0-9a-f]{64}$/);
        peer.close();
      }
      assert.ok(!logs.some((line) => line.includes(users.secrets.get('alice') ?? '?')), 'no secret in the log');
    }));

  test('what the store keeps (the verifier) does not log in: neither as a proof nor as a secret', () =>
    withUsers(async ({ server, users }) => {
      await users.put('alice', 'admin');
      const verifier = users.records.get('alice')!.verifier;
      // The thief can answer as the agent (ServerKey) but not as the client: without ClientKey the proof is HMAC(StoredKey, …) xor a guess.
      const peer = await RawPeer.open(server.url);
      const hello = await peer.request({ id: 'h', type: 'hello', protocol: 3, clientNonce: 'd'.repeat(64), user: 'alice' });
      const transcript: Transcript = { channel: `ws:${server.port}`, client: '', user: 'alice', clientNonce: 'd'.repeat(64), serverNonce: (hello.result as { serverNonce: string }).serverNonce };
      const text = ['ipfo-api-handshake-v3', 'client', transcript.channel, transcript.client, transcript.user, transcript.clientNonce, transcript.serverNonce].join('\n');
      const signature = createHmac('sha256', Buffer.from(verifier.storedKey, 'hex')).update(text).digest('hex');
      const reply = await peer.request({ id: 'a', type: 'auth', proof: signature });
      assert.equal((reply.error as { code: string }).code, 'auth-failed');
      for (const secret of [verifier.storedKey, verifier.serverKey]) {
        assert.equal((await refusal(connectAgent({ url: server.url, credential: `alice:${secret}` }))).code, 'auth-failed');
      }
    }));

  test('removing a user, rotating its credential or changing its role ends its open sessions at once; others stay', () =>
    withUsers(async ({ server, users }) => {
      const root = await RawPeer.authenticated(server.url);
      const bob = await users.put('bob', 'operator');
      for (const change of ['remove', 'rotate', 'role'] as const) {
        const credential = change === 'remove' ? bob : await users.put(`u-${change}`, 'operator');
        const peer = await RawPeer.authenticated(server.url, undefined, {}, credential);
        const name = credential.user!;
        if (change === 'remove') users.remove(name);
        else if (change === 'rotate') await users.put(name, 'operator');
        else users.setRole(name, 'viewer');
        const closed = await peer.closed;
        assert.equal(closed.code, CLOSE_CODES.unauthorized, `${change}: closed with 4401`);
        assert.match(closed.reason, /credential revoked or role changed/);
      }
      const still = await root.request({ id: 's', type: 'snapshot' });
      assert.equal(still.ok, true, 'the token session is untouched');
      root.close();
    }));

  test('a session whose user was removed between hello and auth does not log in', () =>
    withUsers(async ({ server, users }) => {
      const carol = await users.put('carol', 'admin');
      const peer = await RawPeer.open(server.url);
      const transcript = await peer.hello(server.url, undefined, carol);
      users.remove('carol');
      const reply = await peer.request({ id: 'a', type: 'auth', proof: await clientProofOf(transcript, carol.secret) });
      assert.equal((reply.error as { code: string }).code, 'auth-failed');
    }));
});
