// The web console's agent socket, opened while the page's script is still being evaluated.
//
// Evaluating the page's entry (the contract's zod schemas) takes ~100-190 ms of a loaded 2-core
// machine, and the first screen waits for the agent's first push, which comes only after the socket
// opened, the login's round trips and the subscription. This module is the entry's first (boot.ts
// imports it before anything else, and it imports nothing that evaluates code), so the TCP connection
// and the WebSocket upgrade happen meanwhile; WebSocketApi takes the socket over (takeEarlySocket)
// and logs in on it as on any other. No message is sent here: the agent says nothing before a hello,
// and the credential is read, checked and used by WebSocketApi only.
import { API_PATH } from '../../../preload/contract/api-path';
import { apiUrlFor } from './api-url';

/** The page's own mark (read by `npm run bench:ui`): evaluation of the entry started. */
performance.mark('ipfo:script-start');

/** A credential parameter in the fragment (model/token.ts reads it properly later). */
const CREDENTIAL_IN_LINK = /(?:^#|&)(?:token|credential)=[^&]/;

interface EarlySocket {
  url: string;
  socket: WebSocket;
}

let early: EarlySocket | null = null;

function openEarly(): EarlySocket | null {
  // The desktop console talks to its main process (window.ipfo), and a page without a credential in
  // its link shows the sign-in screen first: neither connects from here.
  if ((window as { ipfo?: unknown }).ipfo !== undefined || !CREDENTIAL_IN_LINK.test(window.location.hash)) return null;
  const url = apiUrlFor(window.location, API_PATH);
  try {
    return { url, socket: new WebSocket(url) };
  } catch {
    // A refused URL (the page's CSP, say): the console connects the usual way and reports it.
    return null;
  }
}

early = openEarly();

/**
 * The socket opened early for `url`, once, if it is still connecting or open; null otherwise (then
 * the caller opens its own). A socket that was not taken by then is closed.
 */
export function takeEarlySocket(url: string): WebSocket | null {
  const taken = early;
  early = null;
  if (taken === null) return null;
  const usable = taken.url === url && (taken.socket.readyState === WebSocket.CONNECTING || taken.socket.readyState === WebSocket.OPEN);
  if (usable) return taken.socket;
  taken.socket.close();
  return null;
}

/** No session will take the early socket (the link's credential is not one): closed. */
export function discardEarlySocket(): void {
  takeEarlySocket('');
}
