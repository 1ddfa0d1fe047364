// Entry of the console page. The CSP of the agent and of the Electron window forbids eval, so zod
// must not compile its validators with `new Function`: jitless before anything is parsed.
// First of all: opens the agent's socket while the rest of the bundle evaluates (early-socket.ts).
import { discardEarlySocket } from './api/early-socket';
import { z } from 'zod';
import { StrictMode, useCallback, useState, type ReactElement } from 'react';
import { createRoot } from 'react-dom/client';
import type { Credential } from '../../preload/contract/users';
import type { ConnectionStatus } from './api/console-api';
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
  api: WebSocketApi;
  status: ConnectionStatus;
  /** A new one per sign-in: the console starts over (App's key). */
  id: number;
}

let sessions = 0;
function webSession(credential: Credential): WebSession {
  return { api: new WebSocketApi(credential), status: connectingTo(window.location.host), id: ++sessions };
}

/** The web console: the link's credential, or the one the person pastes on the sign-in screen. */
function WebConsole({ fromLink, first }: { fromLink: HashCredential; first: WebSession | null }) {
  const [session, setSession] = useState<WebSession | null>(first);
  const signIn = useCallback((credential: Credential) => setSession(webSession(credential)), []);
  if (session === null) return <AuthScreen reason={fromLink.kind === 'invalid' ? 'invalid' : 'no-token'} detail={null} onCredential={signIn} />;
  return <App key={session.id} api={session.api} initialStatus={session.status} onCredential={signIn} />;
}

const container = document.getElementById('root');
if (container === null) throw new Error('index.html lacks #root');
// The web console with a credential in its link connects before React renders anything: the agent's
// first push (the first screen) is on its way while the page builds.
function webPage(): ReactElement {
  const fromLink = takeCredentialFromLink();
  const first = fromLink.kind === 'credential' ? webSession(fromLink.credential) : null;
  if (first === null) discardEarlySocket();
  first?.api.preconnect();
  return <WebConsole fromLink={fromLink} first={first} />;
}

const bridge = window.ipfo;
const page = bridge !== undefined ? <App api={new BridgeApi(bridge)} initialStatus={connectingTo('desktop')} /> : webPage();
createRoot(container).render(<StrictMode>{page}</StrictMode>);
performance.mark('ipfo:script-end');
