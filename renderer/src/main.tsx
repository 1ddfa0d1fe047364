// Entry of the console page. The CSP of the agent and of the Electron window forbids eval, so zod
// must not compile its validators with `new Function`: jitless before anything is parsed.
import { z } from 'zod';
import { StrictMode, useCallback, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { Credential } from '../../preload/contract/users';
import type { ConnectionStatus, ConsoleApi } from './api/console-api';
import { BridgeApi } from './api/bridge-api';
import { WebSocketApi } from './api/websocket-api';
import { App } from './components/App';
import { AuthScreen } from './components/AuthScreen';
import { credentialFromHash, hashWithoutCredential, type HashCredential } from './model/token';
import './styles.css';

z.config({ jitless: true });

function connectingTo(endpoint: string): ConnectionStatus {
  return { phase: 'connecting', endpoint, actor: null, user: null, role: null, detail: null, retryAt: null };
}

/** The credential in the link, read once: off the address bar and out of the history (a shoulder, a screenshot, a shared link). */
function takeCredentialFromLink(): HashCredential {
  const found = credentialFromHash(window.location.hash);
  const { pathname, search, hash } = window.location;
  const rest = hashWithoutCredential(hash);
  if (rest !== hash) window.history.replaceState(window.history.state, '', `${pathname}${search}${rest}`);
  return found;
}

interface WebSession {
  api: ConsoleApi;
  status: ConnectionStatus;
  /** A new one per sign-in: the console starts over (App's key). */
  id: number;
}

let sessions = 0;
function webSession(credential: Credential): WebSession {
  return { api: new WebSocketApi(credential), status: connectingTo(window.location.host), id: ++sessions };
}

/** The web console: the link's credential, or the one the person pastes on the sign-in screen. */
function WebConsole({ fromLink }: { fromLink: HashCredential }) {
  const [session, setSession] = useState<WebSession | null>(() => (fromLink.kind === 'credential' ? webSession(fromLink.credential) : null));
  const signIn = useCallback((credential: Credential) => setSession(webSession(credential)), []);
  if (session === null) return <AuthScreen reason={fromLink.kind === 'invalid' ? 'invalid' : 'no-token'} detail={null} onCredential={signIn} />;
  return <App key={session.id} api={session.api} initialStatus={session.status} onCredential={signIn} />;
}

const container = document.getElementById('root');
if (container === null) throw new Error('index.html lacks #root');
createRoot(container).render(
  <StrictMode>
    {window.ipfo !== undefined ? <App api={new BridgeApi(window.ipfo)} initialStatus={connectingTo('desktop')} /> : <WebConsole fromLink={takeCredentialFromLink()} />}
  </StrictMode>,
);
