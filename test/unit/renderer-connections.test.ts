// The desktop console's connection screen as data (renderer/src/model/connection-form.ts,
// connections.ts): the remote form's checks and where errors go, which controls show and are
// enabled for which state, and what the bridge's stream does when the connection changes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectTargetSchema, MAX_LABEL_LENGTH, type ConnectionList, type ConnectionState, type SavedConnection } from '../../preload/contract/ipc';
import {
  checkRemoteForm,
  EMPTY_REMOTE_FORM,
  failureLine,
  hasRemoteErrors,
  issuesToRemoteErrors,
  remoteConnectErrors,
  CREDENTIAL_REFUSED,
  type RemoteFormValues,
} from '../../renderer/src/model/connection-form';
import { connectionControls, connectionHeadline, streamStep } from '../../renderer/src/model/connections';

const TOKEN = 'ab'.repeat(32);
const ALICE = `alice:${'cd'.repeat(32)}`;
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function form(values: Partial<RemoteFormValues>): RemoteFormValues {
  return { ...EMPTY_REMOTE_FORM, label: 'production', address: 'node1.example.net:7790', credential: TOKEN, ...values };
}

describe('the remote form', () => {
  test('a complete form becomes the contract\'s remote target, trimmed; an empty CA is none', () => {
    const checked = checkRemoteForm(form({ label: '  production ', credential: ` ${TOKEN}\n`, ca: '  \n', remember: false }));
    assert.ok(checked.ok);
    assert.deepEqual(checked.target, { kind: 'remote', label: 'production', address: 'node1.example.net:7790', credential: TOKEN, ca: null, remember: false });
    // What the form sends is what main accepts first.
    assert.equal(ConnectTargetSchema.safeParse(checked.target).success, true);
    const withCa = checkRemoteForm(form({ ca: PEM }));
    assert.ok(withCa.ok);
    assert.equal(withCa.target.ca, PEM);
  });

  test('the credential is the node token or a user\'s NAME:SECRET; anything else is marked on the field', () => {
    const user = checkRemoteForm(form({ credential: `  ${ALICE}\n` }));
    assert.ok(user.ok);
    assert.equal(user.target.credential, ALICE);
    for (const bad of ['1234', TOKEN.toUpperCase(), `root:${'cd'.repeat(32)}`, `Alice:${'cd'.repeat(32)}`, 'alice:', `:${'cd'.repeat(32)}`, `alice:${'cd'.repeat(31)}`, `alice:bob:${'cd'.repeat(32)}`, `${ALICE}\nx`, 'x'.repeat(10_000)]) {
      const checked = checkRemoteForm(form({ credential: bad }));
      assert.ok(!checked.ok, bad.slice(0, 80));
      assert.deepEqual(Object.keys(checked.errors.fields), ['credential'], bad.slice(0, 80));
    }
  });

  test('bad input: one message per field, beside its field, and no target to send', () => {
    const checked = checkRemoteForm({ label: '', address: '   ', credential: '1234', ca: 'not a certificate', remember: true });
    assert.equal(checked.ok, false);
    if (checked.ok) return;
    assert.deepEqual(Object.keys(checked.errors.fields).sort(), ['address', 'ca', 'credential', 'label']);
    assert.equal(checked.errors.fields.label, 'must not be empty');
    assert.equal(checked.errors.fields.address, 'must not be empty');
    assert.match(checked.errors.fields.credential ?? '', /^must be a node token \(64 hex digits\) or a user credential NAME:SECRET/);
    assert.match(checked.errors.fields.ca ?? '', /BEGIN CERTIFICATE/);
    assert.equal(checked.errors.general, null, 'every problem has its field');
    assert.ok(hasRemoteErrors(checked.errors));
  });

  test('only the wrong field is marked; limits are said in words', () => {
    const longLabel = checkRemoteForm(form({ label: 'x'.repeat(MAX_LABEL_LENGTH + 1) }));
    assert.ok(!longLabel.ok);
    assert.deepEqual(longLabel.errors.fields, { label: `must be at most ${MAX_LABEL_LENGTH} characters` });
    const twoLines = checkRemoteForm(form({ label: 'prod\nuction' }));
    assert.ok(!twoLines.ok);
    assert.deepEqual(twoLines.errors.fields, { label: 'must be one line of text' });
    const upper = checkRemoteForm(form({ credential: TOKEN.toUpperCase() }));
    assert.ok(!upper.ok);
    assert.deepEqual(Object.keys(upper.errors.fields), ['credential']);
  });

  test('main\'s issues land on the same fields; what has no field is one line', () => {
    const errors = issuesToRemoteErrors(
      [
        { field: 'address', message: 'address: "bad host!" is not a host name or IPv4 address' },
        { field: 'address', message: 'address: second problem' },
        { field: 'ca', message: 'ca: is not a PEM X.509 certificate' },
        { field: 'kind', message: 'kind: invalid' },
      ],
      { message: 'unused' },
    );
    assert.deepEqual(errors.fields, { address: '"bad host!" is not a host name or IPv4 address', ca: 'is not a PEM X.509 certificate' });
    assert.equal(errors.general, 'kind: invalid');
    const fallback = issuesToRemoteErrors([], { message: 'address: bad', field: 'address' });
    assert.deepEqual(fallback, { fields: { address: 'bad' }, general: null });
  });

  test('a failed connect: a refused credential marks the credential, an unreachable agent is one line', () => {
    const refused = remoteConnectErrors({ code: 'auth-failed', message: 'invalid token', issues: [] });
    assert.deepEqual(refused.fields, { credential: CREDENTIAL_REFUSED });
    assert.equal(refused.general, 'Credential refused: invalid token');
    const unreachable = remoteConnectErrors({ code: 'unavailable', message: 'connect ECONNREFUSED 10.0.0.1:7790', issues: [] });
    assert.deepEqual(unreachable, { fields: {}, general: 'connect ECONNREFUSED 10.0.0.1:7790' });
    const badAddress = remoteConnectErrors({ code: 'bad-request', message: 'address: the port must be a number 1..65535, got "x"', field: 'address', issues: [{ field: 'address', message: 'address: the port must be a number 1..65535, got "x"' }] });
    assert.deepEqual(badAddress, { fields: { address: 'the port must be a number 1..65535, got "x"' }, general: null });
    assert.equal(failureLine({ code: 'auth-failed', message: 'no token for the local agent' }), 'Credential refused: no token for the local agent');
    assert.equal(failureLine({ code: 'timeout', message: 'timed out' }), 'timed out');
    assert.equal(hasRemoteErrors({ fields: {}, general: null }), false);
  });
});

const DISCONNECTED: ConnectionState = { phase: 'disconnected', kind: null, id: null, label: null, endpoint: null, actor: null, user: null, role: null, detail: null };
const LOCAL: ConnectionState = { phase: 'connected', kind: 'local', id: null, label: 'This host', endpoint: 'ws://127.0.0.1:7790/api', actor: 'root@127.0.0.1', user: null, role: 'admin', detail: null };
const PROD_ID = '0123456789abcdef';
const PROD: ConnectionState = { phase: 'connected', kind: 'remote', id: PROD_ID, label: 'production', endpoint: 'wss://node1.example.net:7790/api', actor: 'alice@10.0.0.9', user: 'alice', role: 'viewer', detail: null };

function saved(id: string, label: string): SavedConnection {
  return { id, label, endpoint: `wss://${label}.example.net:7790/api`, tls: true, hasCa: false, lastUsed: null };
}

function list(current: ConnectionState, local: Partial<ConnectionList['local']> = {}): ConnectionList {
  return {
    saved: [saved(PROD_ID, 'production'), saved('fedcba9876543210', 'staging')],
    local: { endpoint: 'ws://127.0.0.1:7790/api', answering: true, canStart: true, ...local },
    current,
  };
}

describe('which controls show', () => {
  test('before the list is in: checking, nothing to connect to locally, the form usable', () => {
    const controls = connectionControls(null, false);
    assert.equal(controls.local.state, 'checking');
    assert.equal(controls.local.canConnect, false);
    assert.equal(controls.local.showStart, false);
    assert.deepEqual(controls.saved, []);
    assert.equal(controls.showDisconnect, false);
    assert.equal(controls.canSubmitRemote, true);
  });

  test('disconnected, a local agent answers: connect to it; no start button; every remembered cluster connectable', () => {
    const controls = connectionControls(list({ ...DISCONNECTED, detail: 'no agent answers on 127.0.0.1:7790' }), false);
    assert.equal(controls.local.state, 'running');
    assert.equal(controls.local.canConnect, true);
    assert.equal(controls.local.showStart, false);
    assert.deepEqual(controls.saved.map((s) => [s.entry.label, s.current, s.canConnect, s.canForget]), [
      ['production', false, true, true],
      ['staging', false, true, true],
    ]);
    assert.equal(controls.showDisconnect, false);
    assert.deepEqual(controls.headline, { tone: 'bad', text: 'Not connected: no agent answers on 127.0.0.1:7790' });
  });

  test('no local agent: "start" only where main says it can', () => {
    const canStart = connectionControls(list(DISCONNECTED, { answering: false, canStart: true }), false);
    assert.equal(canStart.local.state, 'not running');
    assert.equal(canStart.local.canConnect, false);
    assert.equal(canStart.local.showStart, true);
    assert.equal(canStart.local.canStart, true);
    const cannot = connectionControls(list(DISCONNECTED, { answering: false, canStart: false }), false);
    assert.equal(cannot.local.showStart, false);
    assert.equal(cannot.local.canStart, false);
  });

  test('connected locally: local is current (no second connect), disconnect shows', () => {
    const controls = connectionControls(list(LOCAL), false);
    assert.equal(controls.local.current, true);
    assert.equal(controls.local.canConnect, false);
    assert.equal(controls.showDisconnect, true);
    assert.ok(controls.saved.every((s) => !s.current && s.canConnect));
    assert.deepEqual(controls.headline, { tone: 'ok', text: 'Connected to This host (ws://127.0.0.1:7790/api) as root@127.0.0.1 (admin).' });
  });

  test('connected to a remembered cluster: that one is current, the others and the local agent connectable', () => {
    const controls = connectionControls(list(PROD), false);
    assert.deepEqual(controls.saved.map((s) => [s.entry.label, s.current, s.canConnect]), [
      ['production', true, false],
      ['staging', false, true],
    ]);
    assert.equal(controls.local.canConnect, true);
    assert.equal(controls.local.current, false);
  });

  test('while an action runs, nothing else can start', () => {
    const controls = connectionControls(list(DISCONNECTED, { answering: false }), true);
    assert.equal(controls.local.canStart, false);
    assert.equal(controls.local.showStart, true, 'still shown, only disabled');
    assert.ok(controls.saved.every((s) => !s.canConnect && !s.canForget));
    assert.equal(controls.canSubmitRemote, false);
  });

  test('the headline for each phase', () => {
    assert.deepEqual(connectionHeadline(null), { tone: 'info', text: 'Looking for an agent…' });
    assert.deepEqual(connectionHeadline({ ...PROD, phase: 'connecting', actor: null, user: null, role: null }), { tone: 'info', text: 'Connecting to production (wss://node1.example.net:7790/api)…' });
    assert.deepEqual(connectionHeadline(PROD), { tone: 'ok', text: 'Connected to production (wss://node1.example.net:7790/api) as alice@10.0.0.9 (viewer).' });
    assert.deepEqual(connectionHeadline(LOCAL), { tone: 'ok', text: 'Connected to This host (ws://127.0.0.1:7790/api) as root@127.0.0.1 (admin).' });
    assert.deepEqual(connectionHeadline(DISCONNECTED), { tone: 'info', text: 'Not connected to any agent.' });
    assert.equal(connectionHeadline({ ...DISCONNECTED, kind: 'local', detail: 'the agent refused the token' }).tone, 'bad');
  });
});

describe('the bridge stream follows the connection', () => {
  const connecting = (state: ConnectionState): ConnectionState => ({ ...state, phase: 'connecting', actor: null, user: null, role: null });
  const lost: ConnectionState = { ...DISCONNECTED, detail: 'lost the connection to ws://127.0.0.1:7790/api: connection closed (1006)' };

  test('the first state changes nothing: the subscription that brought it is under way', () => {
    assert.deepEqual(streamStep(null, LOCAL), { reset: false, resubscribe: false });
    assert.deepEqual(streamStep(null, DISCONNECTED), { reset: false, resubscribe: false });
  });

  test('a session that begins subscribes again; one that goes on does not', () => {
    assert.deepEqual(streamStep(DISCONNECTED, connecting(LOCAL)), { reset: false, resubscribe: false });
    assert.deepEqual(streamStep(connecting(LOCAL), LOCAL), { reset: false, resubscribe: true });
    assert.deepEqual(streamStep(LOCAL, LOCAL), { reset: false, resubscribe: false });
    // The id appears once a new cluster is remembered: still the same session.
    assert.deepEqual(streamStep({ ...PROD, id: null }, PROD), { reset: false, resubscribe: false });
  });

  test('a session that ends drops the cluster on screen', () => {
    assert.deepEqual(streamStep(LOCAL, lost), { reset: true, resubscribe: false });
    assert.deepEqual(streamStep(LOCAL, connecting(PROD)), { reset: true, resubscribe: false });
    // Straight to another cluster (no connecting state seen): both.
    assert.deepEqual(streamStep(LOCAL, PROD), { reset: true, resubscribe: true });
  });
});
