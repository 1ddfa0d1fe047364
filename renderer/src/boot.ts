// Entry of the console page: paints the first screen before the console itself has loaded.
//
// The console (main.tsx: React, the views, the dialogs) is most of the page's script; evaluating it
// and rendering an empty table took ~600 ms of a 2-core machine before the agent's first push could
// even be read. This entry holds only what the first screen needs: the agent socket (opened first
// of all: early-socket.ts), the login, the contract's checks of what the agent sends, and a plain-DOM
// painter (first-screen/paint.ts). The console's chunk is imported once the first page is painted
// (or at once when there is nothing to paint: the desktop console, a link without a credential, a
// login that does not end in a first page soon), and takes the session over (first-screen/session.ts).
// First: the socket opens before the rest of the entry is evaluated.
import { discardEarlySocket } from './api/early-socket';
import { z } from 'zod';
import type { Push } from '../../preload/contract/protocol';
import { WebSocketApi } from './api/websocket-api';
import { paintConsoleFailure, paintFirstScreen } from './first-screen/paint';
import { setBootState, type BootState } from './first-screen/session';
import { credentialFromHash, hashWithoutCredential, type HashCredential } from './model/token';
import './styles.css';

// The CSP of the agent and of the Electron window forbids eval, so zod must not compile its
// validators with `new Function`: jitless before anything is parsed.
z.config({ jitless: true });

/** A login that has not brought the first page by then: the console loads and says what is going on. */
const FIRST_PAGE_DEADLINE_MS = 1_500;

/** The credential in the link, read once: off the address bar and out of the history (a shoulder, a screenshot, a shared link). */
function takeCredentialFromLink(): HashCredential {
  const found = credentialFromHash(window.location.hash);
  const { pathname, search, hash } = window.location;
  const rest = hashWithoutCredential(hash);
  if (rest !== hash) window.history.replaceState(window.history.state, '', `${pathname}${search}${rest}`);
  return found;
}

let consoleRequested = false;
function loadConsole(): void {
  if (consoleRequested) return;
  consoleRequested = true;
  import('./main').catch((error: unknown) => paintConsoleFailure(error instanceof Error ? error.message : String(error)));
}

/** After the frame that shows the painted rows: a task posted from the next animation frame runs once it is on screen. */
function afterPaint(then: () => void): void {
  requestAnimationFrame(() => setTimeout(then, 0));
}

function boot(): void {
  const desktop = (window as { ipfo?: unknown }).ipfo !== undefined;
  const fromLink: HashCredential = desktop ? { kind: 'none' } : takeCredentialFromLink();
  const session = fromLink.kind === 'credential' ? new WebSocketApi(fromLink.credential) : null;
  const state: BootState = { fromLink, session, painted: false };
  setBootState(state);
  if (session === null) {
    discardEarlySocket();
    loadConsole();
    return;
  }
  const deadline = window.setTimeout(loadConsole, FIRST_PAGE_DEADLINE_MS);
  session.preconnect((push: Push): boolean => {
    if (consoleRequested) return false;
    // Only the paged stream's head is a first page; anything else first (a whole snapshot from an
    // older agent) is the console's to show.
    state.painted = push.type === 'snapshot-head' && paintFirstScreen(push, Date.now());
    window.clearTimeout(deadline);
    if (state.painted) afterPaint(loadConsole);
    else loadConsole();
    // The rest of the snapshot follows at once; read now, its chunks would hold back the frame
    // that shows the first page. The console reads them when it takes the session (start()).
    return state.painted;
  });
}

boot();
