// What the page's entry (boot.ts) began before the console's own script was loaded, handed to the
// console (main.tsx): the credential read off the link and the agent session already logging in,
// and whether the first screen was painted (then the console shows only once it has rows itself).
import type { WebSocketApi } from '../api/websocket-api';
import type { HashCredential } from '../model/token';

export interface BootState {
  /** The link's credential, read once (and taken off the address bar). */
  fromLink: HashCredential;
  /** The web console's session, connecting since the page started; null in the desktop console or without a credential. */
  session: WebSocketApi | null;
  /** The first screen shows the agent's first page (paint.ts). */
  painted: boolean;
}

let state: BootState | null = null;

export function setBootState(next: BootState): void {
  state = next;
}

/** The boot's state, or null when the page did not start through boot.ts. */
export function bootState(): BootState | null {
  return state;
}
