// Shown instead of the console when the agent refused the credential, or when the page has none (or
// something that is not one). The person may paste a credential of either form: the node's token or
// a user's "NAME:SECRET"; it is checked here before anything is sent (users.ts parseCredential).
import { useState, type FormEvent } from 'react';
import { CREDENTIAL_FORMS, parseCredential, type Credential } from '../../../preload/contract/users';

export type AuthReason = 'auth-failed' | 'no-token' | 'invalid';

const TITLES: Readonly<Record<AuthReason, string>> = {
  'auth-failed': 'Credential refused',
  'no-token': 'No credential',
  invalid: 'Not a credential',
};

const EXPLANATIONS: Readonly<Record<AuthReason, string>> = {
  'auth-failed': 'The agent did not accept this credential, so the console shows nothing and can change nothing.',
  'no-token': 'This page was opened without a credential, so it cannot connect.',
  invalid: 'The link holds something that is neither a node token nor a user credential; nothing was sent to the agent.',
};

export interface AuthScreenProps {
  reason: AuthReason;
  detail: string | null;
  /** Signs in with a pasted credential; absent where the page cannot (the desktop console). */
  onCredential?: ((credential: Credential) => void) | undefined;
}

export function AuthScreen({ reason, detail, onCredential }: AuthScreenProps) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const credential = parseCredential(text);
    if (credential === null) {
      setError(`Not a credential: paste ${CREDENTIAL_FORMS}.`);
      return;
    }
    setText('');
    onCredential?.(credential);
  };
  return (
    <main className="gate" data-testid="auth-error" data-reason={reason}>
      <div className="gate-card">
        <div className="gate-icon" aria-hidden="true">
          <svg width="28" height="28" viewBox="0 0 24 24">
            <rect x="5" y="10.5" width="14" height="10" rx="2" fill="none" stroke="currentColor" strokeWidth="1.7" />
            <path d="M8.5 10.5V7.5a3.5 3.5 0 0 1 7 0v3" fill="none" stroke="currentColor" strokeWidth="1.7" />
          </svg>
        </div>
        <h1>{TITLES[reason]}</h1>
        <p>{EXPLANATIONS[reason]}</p>
        <p>
          Append <code>#token=</code> to the address, followed by the 64 hex digits of the agent’s token file (<code>ipfo agent</code> names the file
          when it starts) or by a user’s credential <code>NAME:SECRET</code> as <code>ipfo user add</code> printed it. The console takes it out of the
          address bar once read, so a reload needs it again.
        </p>
        {detail !== null && <p className="gate-detail">Agent said: {detail}</p>}
        {onCredential !== undefined && (
          <form className="gate-form" onSubmit={submit} noValidate>
            <label className="field-label" htmlFor="auth-credential">
              Or paste a credential
            </label>
            <div className="gate-form-row">
              <input
                id="auth-credential"
                className="input mono"
                type="password"
                autoComplete="off"
                spellCheck={false}
                data-testid="auth-credential"
                aria-invalid={error !== null}
                aria-describedby={error === null ? undefined : 'auth-credential-error'}
                value={text}
                onChange={(event) => {
                  setText(event.target.value);
                  setError(null);
                }}
              />
              <button type="submit" className="button button-primary" data-testid="auth-submit">
                Sign in
              </button>
            </div>
            {error !== null && (
              <span className="field-error" id="auth-credential-error" data-testid="auth-credential-error" role="alert">
                {error}
              </span>
            )}
          </form>
        )}
      </div>
    </main>
  );
}
