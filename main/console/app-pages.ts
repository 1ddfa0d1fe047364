// The pages of the Electron window and what may talk to the main process. Pure: no I/O, no Electron.
//
// Pages are served from a custom scheme, app://, rather than file://: every file:// page shares one
// origin with the whole disk, while app://console/ is an origin of its own whose requests main
// answers from one directory only (and with the CSP header below).
//   app://console/...          the React renderer (renderer/dist): the console's one UI, connection
//                              screen included
import { staticSegments } from '../api/static';

export const APP_SCHEME = 'app';
export const CONSOLE_ORIGIN = 'app://console';
export const CONSOLE_PAGE_URL = `${CONSOLE_ORIGIN}/index.html`;

/**
 * The window's Content Security Policy: scripts, styles, fonts and images from the page's own
 * origin only, and workers too (the console's model runs in one: renderer/src/worker/); no network
 * at all (the renderer reaches the agent through IPC, never directly); no inline script, eval,
 * plugins, framing, <base> or form posts.
 */
export const WINDOW_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "frame-src 'none'",
  "worker-src 'self'",
  "manifest-src 'none'",
].join('; ');

export type AppRequest = { kind: 'console'; segments: string[] } | { kind: 'refused'; reason: string };

/** What an app:// URL names, or why it names nothing. */
export function resolveAppRequest(url: string): AppRequest {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { kind: 'refused', reason: 'not a URL' };
  }
  if (parsed.protocol !== `${APP_SCHEME}:`) return { kind: 'refused', reason: 'not an app: URL' };
  if (parsed.username !== '' || parsed.password !== '' || parsed.port !== '') return { kind: 'refused', reason: 'unexpected URL parts' };
  // Check the path as it came, before any normalisation (static.ts explains why).
  const rawPath = url.slice(`${APP_SCHEME}://${parsed.host}`.length).split(/[?#]/, 1)[0] ?? '';
  const checked = staticSegments(rawPath === '' ? '/' : rawPath);
  if ('refused' in checked) return { kind: 'refused', reason: checked.refused };
  if (parsed.host === 'console') return { kind: 'console', segments: checked.segments.length === 0 ? ['index.html'] : checked.segments };
  return { kind: 'refused', reason: 'unknown app host' };
}

/** The pages whose top frame may call the main process: exact origin and path, any query or fragment. */
export const TRUSTED_PAGES: readonly string[] = [CONSOLE_PAGE_URL, `${CONSOLE_ORIGIN}/`];

/** What main knows about the sender of an IPC message (from the event and the window). */
export interface SenderFacts {
  /** The message came from the console window's web contents. */
  fromConsoleWindow: boolean;
  /** The sending frame is that window's top frame (not an iframe). */
  isTopFrame: boolean;
  /** The sending frame's URL; null when the frame is gone (navigated away or destroyed). */
  frameUrl: string | null;
}

export type SenderVerdict = { ok: true } | { ok: false; reason: string };

/** Whether an IPC message may be served: our window, its top frame, one of our pages. */
export function senderVerdict(sender: SenderFacts, trustedPages: readonly string[] = TRUSTED_PAGES): SenderVerdict {
  if (!sender.fromConsoleWindow) return { ok: false, reason: 'not the console window' };
  if (!sender.isTopFrame) return { ok: false, reason: 'not the top frame' };
  if (sender.frameUrl === null) return { ok: false, reason: 'the frame is gone' };
  let url: URL;
  try {
    url = new URL(sender.frameUrl);
  } catch {
    return { ok: false, reason: 'the frame URL does not parse' };
  }
  const page = `${url.protocol}//${url.host}${url.pathname}`;
  if (url.username !== '' || url.password !== '' || !trustedPages.includes(page)) {
    return { ok: false, reason: `untrusted page ${JSON.stringify(page.slice(0, 200))}` };
  }
  return { ok: true };
}
