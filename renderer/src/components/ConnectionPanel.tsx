// Desktop only: choose the agent to talk to. The local agent (or start one through the OS password
// prompt; declining the prompt is an answer, not an error), a remembered cluster, or a new remote
// cluster by address and token. The main process checks every field again and holds the secrets.
import { useCallback, useEffect, useState } from 'react';
import type { ConnectionList, ConnectTarget } from '../../../preload/contract/ipc';
import type { ConnectionManager } from '../api/console-api';
import { ApiRequestError } from '../../../preload/contract/request-tracker';
import { errorMessage } from '../model/errors';
import { formatRelative } from '../model/format';

type RemoteField = 'label' | 'address' | 'token' | 'ca';

interface RemoteValues {
  label: string;
  address: string;
  token: string;
  ca: string;
  remember: boolean;
}

export function ConnectionPanel({ manager, now, onConnected }: { manager: ConnectionManager; now: number; onConnected: () => void }) {
  const [list, setList] = useState<ConnectionList | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ tone: 'bad' | 'info'; text: string } | null>(null);
  const [remote, setRemote] = useState<RemoteValues>({ label: '', address: '', token: '', ca: '', remember: true });
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<RemoteField, string>>>({});

  const refresh = useCallback(() => {
    manager.list().then(setList, (error: unknown) => setMessage({ tone: 'bad', text: errorMessage(error) }));
  }, [manager]);
  useEffect(refresh, [refresh]);

  const connect = async (key: string, target: ConnectTarget): Promise<void> => {
    setBusy(key);
    setMessage(null);
    setFieldErrors({});
    try {
      const state = await manager.connect(target);
      if (state.phase === 'disconnected') setMessage({ tone: 'bad', text: state.detail ?? 'could not connect' });
      else onConnected();
    } catch (error) {
      if (error instanceof ApiRequestError && error.issues.length > 0) {
        const fields: Partial<Record<RemoteField, string>> = {};
        for (const issue of error.issues) {
          const field = issue.field.split('.').pop() as RemoteField;
          if (['label', 'address', 'token', 'ca'].includes(field)) fields[field] ??= issue.message.replace(/^[\w.]+: /, '');
        }
        setFieldErrors(fields);
        // Shown next to the fields; repeat only what no field took.
        if (Object.keys(fields).length > 0) return;
      }
      setMessage({ tone: 'bad', text: errorMessage(error) });
    } finally {
      setBusy(null);
      refresh();
    }
  };

  const startLocal = async (): Promise<void> => {
    setBusy('start');
    setMessage(null);
    try {
      const result = await manager.startLocalAgent();
      if (result.outcome === 'started' || result.outcome === 'already-running') onConnected();
      else setMessage({ tone: result.outcome === 'cancelled' ? 'info' : 'bad', text: result.outcome === 'cancelled' ? 'The password prompt was cancelled; no agent was started.' : result.detail });
    } catch (error) {
      setMessage({ tone: 'bad', text: errorMessage(error) });
    } finally {
      setBusy(null);
      refresh();
    }
  };

  const local = list?.local;
  return (
    <div className="connection-panel" data-testid="connection-panel">
      {message !== null && (
        <p className={`callout callout-${message.tone}`} data-testid="connection-error" role="alert">
          {message.text}
        </p>
      )}
      <section className="connection-section">
        <h3>This computer</h3>
        <div className="connection-row">
          <div>
            <div className="strong">Local agent</div>
            <div className="muted small mono">{local?.endpoint ?? '…'}</div>
            <div className="small">{local === undefined ? 'checking…' : local.answering ? 'running' : 'not running'}</div>
          </div>
          <div className="connection-buttons">
            <button type="button" className="button button-primary" data-testid="connect-local" disabled={busy !== null || local?.answering !== true} onClick={() => void connect('local', { kind: 'local' })}>
              {busy === 'local' ? 'Connecting…' : 'Connect'}
            </button>
            {local?.canStart === true && local.answering !== true && (
              <button type="button" className="button" data-testid="start-local" disabled={busy !== null} onClick={() => void startLocal()} title="Starts a single-host agent; asks for an administrator password">
                {busy === 'start' ? 'Starting…' : 'Start local agent…'}
              </button>
            )}
          </div>
        </div>
      </section>

      {list !== null && list.saved.length > 0 && (
        <section className="connection-section">
          <h3>Remembered clusters</h3>
          {list.saved.map((saved) => (
            <div key={saved.id} className="connection-row" data-testid={`saved-${saved.id}`}>
              <div>
                <div className="strong">{saved.label}</div>
                <div className="muted small mono">
                  {saved.endpoint}
                  {saved.tls ? ' · TLS' : ''}
                  {saved.hasCa ? ' · private CA' : ''}
                </div>
                <div className="small muted">{saved.lastUsed === null ? 'never connected' : `last used ${formatRelative(saved.lastUsed, now)}`}</div>
              </div>
              <div className="connection-buttons">
                <button type="button" className="button" disabled={busy !== null} onClick={() => void connect(saved.id, { kind: 'saved', id: saved.id })}>
                  {busy === saved.id ? 'Connecting…' : 'Connect'}
                </button>
                <button type="button" className="button button-danger-quiet" disabled={busy !== null} onClick={() => void manager.forget(saved.id).then(refresh)}>
                  Forget
                </button>
              </div>
            </div>
          ))}
        </section>
      )}

      <section className="connection-section">
        <h3>Remote cluster</h3>
        <form
          className="form-grid"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            void connect('remote', { kind: 'remote', label: remote.label, address: remote.address, token: remote.token, ca: remote.ca.trim() === '' ? null : remote.ca, remember: remote.remember });
          }}
        >
          <RemoteInput field="label" label="Name" hint="how this cluster is listed" values={remote} errors={fieldErrors} onChange={setRemote} />
          <RemoteInput field="address" label="Agent address" hint="host or host:port; reached over TLS" values={remote} errors={fieldErrors} onChange={setRemote} />
          <RemoteInput field="token" label="Token" hint="64 hex digits from the agent's token file" values={remote} errors={fieldErrors} onChange={setRemote} secret />
          <div className="field field-wide">
            <label className="field-label" htmlFor="remote-ca">
              CA certificate (optional)
            </label>
            <textarea id="remote-ca" className="input mono textarea" rows={3} data-testid="remote-ca" placeholder="-----BEGIN CERTIFICATE-----" value={remote.ca} onChange={(e) => setRemote({ ...remote, ca: e.target.value })} />
            {fieldErrors.ca !== undefined ? <span className="field-error">{fieldErrors.ca}</span> : <span className="field-hint">for an agent certificate signed by a private CA</span>}
          </div>
          <label className="checkbox">
            <input type="checkbox" data-testid="remote-remember" checked={remote.remember} onChange={(e) => setRemote({ ...remote, remember: e.target.checked })} />
            <span>Remember this cluster</span>
          </label>
          <div className="connection-buttons">
            <button type="submit" className="button button-primary" data-testid="remote-connect" disabled={busy !== null}>
              {busy === 'remote' ? 'Connecting…' : 'Connect'}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}

function RemoteInput({ field, label, hint, values, errors, onChange, secret = false }: { field: 'label' | 'address' | 'token'; label: string; hint: string; values: RemoteValues; errors: Partial<Record<RemoteField, string>>; onChange: (values: RemoteValues) => void; secret?: boolean }) {
  const id = `remote-${field}`;
  return (
    <div className={`field${errors[field] === undefined ? '' : ' field-invalid'}`}>
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
        aria-invalid={errors[field] !== undefined}
        value={values[field]}
        onChange={(event) => onChange({ ...values, [field]: event.target.value })}
      />
      {errors[field] !== undefined ? <span className="field-error">{errors[field]}</span> : <span className="field-hint">{hint}</span>}
    </div>
  );
}
