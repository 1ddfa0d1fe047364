// The console: React, mounted by the page's entry (boot.ts) once the first screen is painted, or at
// once when there is none. It takes over the agent session the entry began (first-screen/session.ts)
// and replaces the first screen when it shows rows of its own: the page never goes blank between the two.
import { StrictMode, useCallback, useState, type ReactElement } from 'react';
import { createRoot } from 'react-dom/client';
import type { Credential } from '../../preload/contract/users';
import type { ConnectionStatus } from './api/console-api';
import { BridgeApi } from './api/bridge-api';
import { WebSocketApi } from './api/websocket-api';
import { App } from './components/App';
import { AuthScreen } from './components/AuthScreen';
import { FIRST_SCREEN_ID } from './first-screen/paint';
import { bootState } from './first-screen/session';
import type { HashCredential } from './model/token';

function connectingTo(endpoint: string): ConnectionStatus {
  return { phase: 'connecting', endpoint, actor: null, user: null, role: null, detail: null, retryAt: null };
}

interface WebSession {
  api: WebSocketApi;
  status: ConnectionStatus;
  /** A new one per sign-in: the console starts over (App's key). */
  id: number;
}

let sessions = 0;
function webSession(api: WebSocketApi): WebSession {
  return { api, status: connectingTo(window.location.host), id: ++sessions };
}

/** The web console: the link's credential, or the one the person pastes on the sign-in screen. */
function WebConsole({ fromLink, first }: { fromLink: HashCredential; first: WebSession | null }) {
  const [session, setSession] = useState<WebSession | null>(first);
  const signIn = useCallback((credential: Credential) => setSession(webSession(new WebSocketApi(credential))), []);
  if (session === null) return <AuthScreen reason={fromLink.kind === 'invalid' ? 'invalid' : 'no-token'} detail={null} onCredential={signIn} />;
  return <App key={session.id} api={session.api} initialStatus={session.status} onCredential={signIn} />;
}

/** The console's own rows are in: the first screen may go. */
const CONSOLE_ROWS = '[data-testid^="resource-row-"]';
/** A console that shows no rows by then (a refused login, a lost agent) replaces the first screen anyway. */
const TAKEOVER_DEADLINE_MS = 2_000;

/** The console renders beneath the first screen, inert, and replaces it at its first row. */
function takeOverFrom(firstScreen: HTMLElement, container: HTMLElement): void {
  firstScreen.classList.add('first-screen-over');
  container.inert = true;
  let done = false;
  const observer = new MutationObserver(() => {
    if (container.querySelector(CONSOLE_ROWS) !== null) takeOver();
  });
  const deadline = window.setTimeout(() => takeOver(), TAKEOVER_DEADLINE_MS);
  function takeOver(): void {
    if (done) return;
    done = true;
    observer.disconnect();
    window.clearTimeout(deadline);
    firstScreen.remove();
    container.inert = false;
  }
  observer.observe(container, { childList: true, subtree: true });
}

const root = document.getElementById('root');
if (root === null) throw new Error('index.html lacks #root');
const boot = bootState() ?? { fromLink: { kind: 'none' } as const, session: null, painted: false };
const container = document.createElement('div');
container.className = 'console-root';
const firstScreen = document.getElementById(FIRST_SCREEN_ID);
if (firstScreen !== null && boot.painted) takeOverFrom(firstScreen, container);
else firstScreen?.remove();
root.append(container);

function webPage(): ReactElement {
  const first = boot.session === null ? null : webSession(boot.session);
  return <WebConsole fromLink={boot.fromLink} first={first} />;
}

const bridge = window.ipfo;
const page = bridge !== undefined ? <App api={new BridgeApi(bridge)} initialStatus={connectingTo('desktop')} /> : webPage();
createRoot(container).render(<StrictMode>{page}</StrictMode>);
performance.mark('ipfo:script-end');
