// Desktop only: where the console is connected, and the choice of agent: the local one (or start
// one through the OS password prompt, where main can; declining the prompt is an answer, not an
// error), a remembered cluster (connect, forget), or a new remote cluster by address and credential (the node's token or a user's).
// What shows when is model/connections.ts; the form's checks are model/connection-form.ts. Main
// checks every field again and holds the secrets.
import { useCallback, useEffect, useState } from 'react';
import type { ConnectionList, ConnectTarget } from '../../../preload/contract/ipc';
import { ApiRequestError } from '../../../preload/contract/request-tracker';
import type { ConnectionManager, ConnectionStatus } from '../api/console-api';
import { checkRemoteForm, EMPTY_REMOTE_FORM, failureLine, remoteConnectErrors, type RemoteFormErrors, type RemoteFormValues } from '../model/connection-form';
import { connectionControls } from '../model/connections';
import { errorMessage } from '../model/errors';
import { formatRelative } from '../model/format';

const NO_ERRORS: RemoteFormErrors = { fields: {}, general: null };

function lineOf(error: unknown): string {
  return error instanceof ApiRequestError ? failureLine(error) : errorMessage(error);
}

export interface ConnectionPanelProps {
  manager: ConnectionManager;
  /** The console's connection as the stream reports it: the panel reads the list again when it changes. */
  status: ConnectionStatus;
  now: number;
  onConnected: () => void;
}

export function ConnectionPanel({ manager, status, now, onConnected }: ConnectionPanelProps) {
  const [list, setList] = useState<ConnectionList | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ tone: 'bad' | 'info'; text: string } | null>(null);
  const [remote, setRemote] = useState<RemoteFormValues>(EMPTY_REMOTE_FORM);
  const [remoteErrors, setRemoteErrors] = useState<RemoteFormErrors>(NO_ERRORS);

  const refresh = useCallback(() => {
    manager.list().then(setList, (error: unknown) => setMessage({ tone: 'bad', text: lineOf(error) }));
  }, [manager]);
  useEffect(refresh, [refresh, status.phase, status.endpoint]);

  /** One action at a time; the list is read again after each. */
  const act = async (key: string, action: () => Promise<void>): Promise<void> => {
    if (busy !== null) return;
    setBusy(key);
    setMessage(null);
    try {
      await action();
    } catch (error) {
      setMessage({ tone: 'bad', text: lineOf(error) });
    } finally {
      setBusy(null);
      refresh();
    }
  };

  const connect = (key: string, target: ConnectTarget): Promise<void> =>
    act(key, async () => {
      const state = await manager.connect(target);
      if (state.phase === 'disconnected') setMessage({ tone: 'bad', text: state.detail ?? 'could not connect' });
      else onConnected();
    });

  const connectRemote = (): Promise<void> => {
    const checked = checkRemoteForm(remote);
    if (!checked.ok) {
      // Nothing is sent: the operator corrects the marked fields.
      setRemoteErrors(checked.errors);
      return Promise.resolve();
    }
    setRemoteErrors(NO_ERRORS);
    return act('remote', async () => {
      try {
        const state = await manager.connect(checked.target);
        if (state.phase === 'disconnected') {
          setRemoteErrors({ fields: {}, general: state.detail ?? 'could not connect' });
          return;
        }
        setRemote({ ...EMPTY_REMOTE_FORM, remember: remote.remember });
        onConnected();
      } catch (error) {
        if (!(error instanceof ApiRequestError)) throw error;
        setRemoteErrors(remoteConnectErrors(error));
      }
    });
  };

  const startLocal = (): Promise<void> =>
    act('start', async () => {
      const result = await manager.startLocalAgent();
      if (result.outcome === 'started' || result.outcome === 'already-running') onConnected();
      else setMessage({ tone: result.outcome === 'cancelled' ? 'info' : 'bad', text: result.outcome === 'cancelled' ? 'The password prompt was cancelled; no agent was started.' : result.detail });
    });

  const controls = connectionControls(list, busy !== null);
  const { local } = controls;
  return (
    <div className="connection-panel" data-testid="connection-panel">
      <div className={`callout callout-${controls.headline.tone} connection-current`} data-testid="connection-state" data-tone={controls.headline.tone} role="status">
        <span>{controls.headline.text}</span>
        {controls.showDisconnect && (
          <button type="button" className="button" data-testid="disconnect" disabled={busy !== null} onClick={() => void act('disconnect', async () => void (await manager.disconnect()))}>
            {busy === 'disconnect' ? 'Disconnecting…' : 'Disconnect'}
          </button>
        )}
      </div>
      {message !== null && (
        <p className={`callout callout-${message.tone}`} data-testid="connection-error" role="alert">
          {message.text}
        </p>
      )}
      <section className="connection-section">
        <h3>This computer</h3>
        <div className="connection-row" data-testid="local-agent">
          <div>
            <div className="strong">Local agent</div>
            <div className="muted small mono">{local.endpoint}</div>
            <div className="small" data-testid="local-state">
              {local.state === 'checking' ? 'checking…' : local.state}
              {local.current ? ' · connected' : ''}
            </div>
          </div>
          <div className="connection-buttons">
            <button type="button" className="button button-primary" data-testid="connect-local" disabled={!local.canConnect} onClick={() => void connect('local', { kind: 'local' })}>
              {busy === 'local' ? 'Connecting…' : local.current ? 'Connected' : 'Connect'}
            </button>
            {local.showStart && (
              <button type="button" className="button" data-testid="start-local" disabled={!local.canStart} onClick={() => void startLocal()} title="Starts a single-host agent; asks for an administrator password">
                {busy === 'start' ? 'Waiting for the password prompt…' : 'Start local agent…'}
              </button>
            )}
          </div>
        </div>
        {local.showStart && (
          <p className="small muted">
            Starting an agent asks for an administrator password: the agent registers addresses and sends ARP, which needs root. It runs in single-host mode (a file store, no etcd).
          </p>
        )}
      </section>

      <section className="connection-section" data-testid="saved-connections">
        <h3>Remembered clusters</h3>
        {list !== null && controls.saved.length === 0 && <p className="small muted">None yet.</p>}
        {controls.saved.map(({ entry, current, canConnect, canForget }) => (
          <div key={entry.id} className="connection-row" data-testid={`saved-${entry.id}`} data-current={current}>
            <div>
              <div className="strong">
                {entry.label}
                {current && <span className="muted small"> · connected</span>}
              </div>
              <div className="muted small mono">
                {entry.endpoint}
                {entry.tls ? ' · TLS' : ''}
                {entry.hasCa ? ' · private CA' : ''}
              </div>
              <div className="small muted">{entry.lastUsed === null ? 'never connected' : `last used ${formatRelative(entry.lastUsed, now)}`}</div>
            </div>
            <div className="connection-buttons">
              <button type="button" className="button" aria-label={`Connect to ${entry.label}`} disabled={!canConnect} onClick={() => void connect(entry.id, { kind: 'saved', id: entry.id })}>
                {busy === entry.id ? 'Connecting…' : 'Connect'}
              </button>
              <button
                type="button"
                className="button button-danger-quiet"
                aria-label={`Forget ${entry.label}`}
                disabled={!canForget}
                onClick={() => void act(`forget:${entry.id}`, async () => void (await manager.forget(entry.id)))}
              >
                Forget
              </button>
            </div>
          </div>
        ))}
      </section>

      <section className="connection-section">
        <h3>Remote cluster</h3>
        <form
          className="form-grid"
          noValidate
          data-testid="remote-form"
          onSubmit={(event) => {
            event.preventDefault();
            void connectRemote();
          }}
        >
          {remoteErrors.general !== null && (
            <p className="callout callout-bad field-wide" data-testid="remote-error" role="alert">
              {remoteErrors.general}
            </p>
          )}
          <RemoteInput field="label" label="Name" hint="how this cluster is listed" values={remote} errors={remoteErrors} onChange={setRemote} />
          <RemoteInput field="address" label="Agent address" hint="host or host:port; any address but loopback is reached over TLS" values={remote} errors={remoteErrors} onChange={setRemote} />
          <RemoteInput field="credential" label="Credential" hint="the agent's token (64 hex digits) or a user's NAME:SECRET from ipfo user add" values={remote} errors={remoteErrors} onChange={setRemote} secret />
          <div className={`field field-wide${remoteErrors.fields.ca === undefined ? '' : ' field-invalid'}`}>
            <label className="field-label" htmlFor="remote-ca">
              CA certificate (optional)
            </label>
            <textarea
              id="remote-ca"
              className="input mono textarea"
              rows={3}
              data-testid="remote-ca"
              spellCheck={false}
              aria-invalid={remoteErrors.fields.ca !== undefined}
              placeholder="-----BEGIN CERTIFICATE-----"
              value={remote.ca}
              onChange={(e) => setRemote({ ...remote, ca: e.target.value })}
            />
            {remoteErrors.fields.ca !== undefined ? (
              <span className="field-error" data-testid="remote-ca-error">
                {remoteErrors.fields.ca}
              </span>
            ) : (
              <span className="field-hint">for an agent certificate signed by a private CA</span>
            )}
          </div>
          <label className="checkbox">
            <input type="checkbox" data-testid="remote-remember" checked={remote.remember} onChange={(e) => setRemote({ ...remote, remember: e.target.checked })} />
            <span>Remember this cluster (the credential is stored for this user only)</span>
          </label>
          <div className="connection-buttons">
            <button type="submit" className="button button-primary" data-testid="remote-connect" disabled={!controls.canSubmitRemote}>
              {busy === 'remote' ? 'Connecting…' : 'Connect'}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}

function RemoteInput({
  field,
  label,
  hint,
  values,
  errors,
  onChange,
  secret = false,
}: {
  field: 'label' | 'address' | 'credential';
  label: string;
  hint: string;
  values: RemoteFormValues;
  errors: RemoteFormErrors;
  onChange: (values: RemoteFormValues) => void;
  secret?: boolean;
}) {
  const id = `remote-${field}`;
  const error = errors.fields[field];
  return (
    <div className={`field${error === undefined ? '' : ' field-invalid'}`}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        className={secret ? 'input mono' : 'input'}
        type={secret ? 'password' : 'text'}
        data-testid={id}
        autoComplete="off"
        spellCheck={false}
        aria-invalid={error !== undefined}
        value={values[field]}
        onChange={(event) => onChange({ ...values, [field]: event.target.value })}
      />
      {error !== undefined ? (
        <span className="field-error" data-testid={`${id}-error`}>
          {error}
        </span>
      ) : (
        <span className="field-hint">{hint}</span>
      )}
    </div>
  );
}
