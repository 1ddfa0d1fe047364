// Entry of the console page. The CSP of the agent and of the Electron window forbids eval, so zod
// must not compile its validators with `new Function`: jitless before anything is parsed.
import { z } from 'zod';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { ConnectionStatus, ConsoleApi } from './api/console-api';
import { BridgeApi } from './api/bridge-api';
import { WebSocketApi } from './api/websocket-api';
import { App } from './components/App';
import { AuthScreen } from './components/AuthScreen';
import { hashWithoutToken, tokenFromHash } from './model/token';
import './styles.css';

z.config({ jitless: true });

function connectionFor(): { api: ConsoleApi; status: ConnectionStatus } | null {
  if (window.ipfo !== undefined) {
    return { api: new BridgeApi(window.ipfo), status: { phase: 'connecting', endpoint: 'desktop', actor: null, detail: null, retryAt: null } };
  }
  const token = tokenFromHash(window.location.hash);
  if (token === null) return null;
  // Read once: off the address bar and out of the history (a shoulder, a screenshot, a shared link).
  const { pathname, search, hash } = window.location;
  window.history.replaceState(window.history.state, '', `${pathname}${search}${hashWithoutToken(hash)}`);
  return { api: new WebSocketApi(token), status: { phase: 'connecting', endpoint: window.location.host, actor: null, detail: null, retryAt: null } };
}

const container = document.getElementById('root');
if (container === null) throw new Error('index.html lacks #root');
const connection = connectionFor();
createRoot(container).render(
  <StrictMode>{connection === null ? <AuthScreen reason="no-token" detail={null} /> : <App api={connection.api} initialStatus={connection.status} />}</StrictMode>,
);
