// Who may reach the agent API: where it may listen, which Host names it answers to, and which
// browser origins may open its WebSocket. Pure functions (no I/O).
//
// 1. Listening: loopback by default. A non-loopback address only with TLS: the token travels in
//    the first message and must not cross a network in clear text.
// 2. Host header (plain HTTP, i.e. loopback): only the loopback names and the bound host. This
//    defeats DNS rebinding: a page of evil.example whose name is re-pointed at 127.0.0.1 reaches
//    our port, but its requests carry "Host: evil.example:7790" and are refused.
// 3. Origin (WebSocket upgrade): browsers always send it, so a WebSocket opened by some other page
//    (cross-site WebSocket hijacking) shows a foreign origin and is refused; only the console the
//    server itself serves may connect. Non-browser clients (CLI, Electron main) send no Origin and
//    authenticate with the token alone.
//    With TLS, the origin must match the Host the browser asked for: a rebinding attacker cannot
//    present our certificate for their own name, so the TLS handshake already fails for them. An
//    operator may still restrict the names with allowedHosts.
import { isIP } from 'node:net';

export class ExposureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExposureError';
  }
}

/** The API's port or socket could not be bound (in use, not an address of this host, a socket directory not ours): exit 4. */
export class ApiBindError extends ExposureError {
  constructor(message: string) {
    super(message);
    this.name = 'ApiBindError';
  }
}

/** True for 127.0.0.0/8, ::1, their IPv4-mapped forms, and the name "localhost". */
export function isLoopbackHost(host: string): boolean {
  const bare = stripBrackets(host).toLowerCase();
  if (bare === 'localhost') return true;
  if (bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Refuses a bind that would expose the token in clear text. */
export function checkBind(host: string, tls: boolean): void {
  if (host.trim() === '') throw new ExposureError('the API host is empty');
  if (!tls && !isLoopbackHost(host)) {
    throw new ExposureError(
      `refusing to serve the API on ${host} without TLS: the token would cross the network in clear text. ` +
        'Listen on 127.0.0.1 (the default), or give a TLS certificate and key.',
    );
  }
}

/** "host" or "[v6]" as it appears in a URL or a Host header. */
export function urlHost(host: string): string {
  const bare = stripBrackets(host);
  return isIP(bare) === 6 ? `[${bare}]` : bare;
}

export interface ExposurePolicy {
  readonly scheme: 'http' | 'https';
  readonly port: number;
  /** Extra Host names besides the loopback ones and the bound host (e.g. the name in the certificate). */
  readonly allowedHosts: readonly string[];
  /** The bound host. */
  readonly host: string;
}

const HOST_HEADER_PATTERN = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/;

function splitHostHeader(header: string): { name: string; port: number | null } | null {
  if (!HOST_HEADER_PATTERN.test(header)) return null;
  const match = /^(.*?)(?::([0-9]{1,5}))?$/.exec(header);
  if (match === null) return null;
  const name = match[1] ?? '';
  return { name: name.toLowerCase(), port: match[2] === undefined ? null : Number(match[2]) };
}

function knownNames(policy: ExposurePolicy): Set<string> {
  const names = new Set(policy.allowedHosts.map((name) => urlHost(name).toLowerCase()));
  names.add(urlHost(policy.host).toLowerCase());
  if (isLoopbackHost(policy.host)) for (const name of ['127.0.0.1', 'localhost', '[::1]']) names.add(name);
  return names;
}

/**
 * The Host header if it names this server, normalised ("127.0.0.1:7790"); null when it does not.
 * The result is safe to put into a response header (checked syntax, no spaces or quotes).
 */
export function acceptedHost(policy: ExposurePolicy, header: string | undefined): string | null {
  if (header === undefined) return null;
  const parsed = splitHostHeader(header);
  if (parsed === null) return null;
  const defaultPort = policy.scheme === 'https' ? 443 : 80;
  if ((parsed.port ?? defaultPort) !== policy.port) return null;
  const openToAnyName = policy.scheme === 'https' && policy.allowedHosts.length === 0;
  if (!openToAnyName && !knownNames(policy).has(parsed.name)) return null;
  return parsed.port === null ? parsed.name : `${parsed.name}:${parsed.port}`;
}

/**
 * Whether a WebSocket upgrade may proceed: no Origin (not a browser), or exactly the origin of the
 * page this server served under the accepted Host.
 */
export function originAllowed(policy: ExposurePolicy, origin: string | undefined, host: string | null): boolean {
  if (origin === undefined) return true;
  if (host === null) return false;
  return origin.toLowerCase() === `${policy.scheme}://${host}`;
}
