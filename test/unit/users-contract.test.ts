// The users part of the contract (preload/contract/users.ts) and the verifier of handshake.ts: pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerChallenge, checkClientProof, credentialKeys, serverProof, verifierKeys, verifierOf, type Transcript } from '../../preload/contract/handshake';
import { COMMAND_TYPES, isLoginCommand } from '../../preload/contract/protocol';
import { COMMAND_ROLES, formatCredential, parseCredential, roleAllows, roleNeeded, ROLES, UserNameSchema, UserRecordSchema } from '../../preload/contract/users';

const SECRET = 'ab'.repeat(32);

test('every command but the login has a role, so a new command cannot slip past the check', () => {
  const gated = COMMAND_TYPES.filter((type) => !isLoginCommand(type));
  assert.deepEqual(gated.filter((type) => roleNeeded(type) === null), []);
  assert.deepEqual(Object.keys(COMMAND_ROLES).filter((type) => !(COMMAND_TYPES as string[]).includes(type)), [], 'no role for a command that does not exist');
  assert.equal(roleAllows('admin', 'hello'), false, 'login commands are not role-gated commands');
  assert.equal(roleAllows('admin', 'no.such.command'), false);
});

test('roles are ordered: viewer < operator < admin', () => {
  assert.deepEqual(ROLES.map((role) => roleAllows(role, 'snapshot')), [true, true, true]);
  assert.deepEqual(ROLES.map((role) => roleAllows(role, 'resource.move')), [false, true, true]);
  assert.deepEqual(ROLES.map((role) => roleAllows(role, 'resource.add')), [false, false, true]);
  assert.deepEqual(ROLES.map((role) => roleAllows(role, 'user.add')), [false, false, true]);
});

test('credentials: the node token, NAME:SECRET, and nothing else', () => {
  assert.deepEqual(parseCredential(SECRET), { user: null, secret: SECRET });
  assert.deepEqual(parseCredential(` alice:${SECRET}\n`), { user: 'alice', secret: SECRET });
  assert.equal(formatCredential({ user: 'alice', secret: SECRET }), `alice:${SECRET}`);
  for (const hostile of ['', ':', `:${SECRET}`, `alice:`, `alice:${SECRET.toUpperCase()}`, `alice:${SECRET}0`, `Alice:${SECRET}`, `root:${SECRET}`, `a b:${SECRET}`, `al\nice:${SECRET}`, `${'a'.repeat(33)}:${SECRET}`, `alice:${SECRET}:x`, SECRET.slice(1)]) {
    assert.equal(parseCredential(hostile), null, JSON.stringify(hostile));
  }
});

test('user names: as useradd, and "root" is the token\'s', () => {
  for (const good of ['alice', '_svc', 'ops.team-1', 'a'.repeat(32)]) assert.equal(UserNameSchema.safeParse(good).success, true, good);
  for (const bad of ['', 'Alice', '1st', '-x', 'a'.repeat(33), 'root', 'al ice', 'ünï']) assert.equal(UserNameSchema.safeParse(bad).success, false, bad);
});

test('a stored record is strict: no unknown role, no extra field, hex verifier', () => {
  const record = { name: 'alice', role: 'viewer', verifier: { storedKey: 'a'.repeat(64), serverKey: 'b'.repeat(64) }, createdAt: 1, createdBy: 'root@unix', rotatedAt: null };
  assert.equal(UserRecordSchema.safeParse(record).success, true);
  assert.equal(UserRecordSchema.safeParse({ ...record, role: 'superuser' }).success, false);
  assert.equal(UserRecordSchema.safeParse({ ...record, secret: SECRET }).success, false);
  assert.equal(UserRecordSchema.safeParse({ ...record, verifier: { storedKey: 'z'.repeat(64), serverKey: 'b'.repeat(64) } }).success, false);
});

test('the verifier the store keeps checks the proof the credential makes, and only that one', async () => {
  const transcript: Transcript = { channel: 'ws:7790', client: 'cli:x', user: 'alice', clientNonce: '1'.repeat(64), serverNonce: '2'.repeat(64) };
  const keys = await credentialKeys(SECRET);
  const stored = await verifierKeys(await verifierOf(SECRET));
  const proof = await answerChallenge(keys, transcript, await serverProof(stored, transcript));
  assert.notEqual(proof, null);
  assert.equal(await checkClientProof(stored, transcript, proof!), true);
  assert.equal(await checkClientProof(stored, { ...transcript, user: 'bob' }, proof!), false, 'bound to the user');
  assert.equal(await checkClientProof(stored, { ...transcript, channel: 'unix' }, proof!), false, 'bound to the channel');
  assert.equal(await checkClientProof(await verifierKeys(await verifierOf('cd'.repeat(32))), transcript, proof!), false, 'another secret');
  assert.equal(await checkClientProof(stored, transcript, 'not hex'), false);
  assert.equal(await answerChallenge(keys, transcript, '0'.repeat(64)), null, 'a wrong agent proof gets no client proof');
  const verifier = await verifierOf(SECRET);
  assert.ok(!JSON.stringify(verifier).includes(SECRET), 'the verifier does not hold the secret');
});
