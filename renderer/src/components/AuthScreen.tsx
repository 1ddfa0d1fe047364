// Shown instead of the console when the agent refused the token, or when the page has none.
export function AuthScreen({ reason, detail }: { reason: 'auth-failed' | 'no-token'; detail: string | null }) {
  return (
    <main className="gate" data-testid="auth-error" data-reason={reason}>
      <div className="gate-card">
        <div className="gate-icon" aria-hidden="true">
          <svg width="28" height="28" viewBox="0 0 24 24">
            <rect x="5" y="10.5" width="14" height="10" rx="2" fill="none" stroke="currentColor" strokeWidth="1.7" />
            <path d="M8.5 10.5V7.5a3.5 3.5 0 0 1 7 0v3" fill="none" stroke="currentColor" strokeWidth="1.7" />
          </svg>
        </div>
        <h1>{reason === 'auth-failed' ? 'Token refused' : 'No access token'}</h1>
        <p>
          {reason === 'auth-failed'
            ? 'The agent did not accept the token in this link, so the console shows nothing and can change nothing.'
            : 'This page was opened without the agent’s token, so it cannot connect.'}
        </p>
        <p>
          Append <code>#token=</code> followed by the 64 hex digits of the agent’s token file (<code>ipfo agent</code> names the
          file when it starts). The console takes the token out of the address bar once read, so a reload needs it again.
        </p>
        {detail !== null && <p className="gate-detail">Agent said: {detail}</p>}
      </div>
    </main>
  );
}
