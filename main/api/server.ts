// The agent API server: one port that carries the WebSocket API at /api, /healthz, and (when a
// directory is given) the static files of the web console, so that the console's origin and the
// API's origin are one and the same (which is what lets the Origin check be exact).
//
// Listens on 127.0.0.1:7790 by default; any non-loopback address requires TLS (exposure.ts). May also
// listen on a Unix socket (socketPath: a root-only directory, the socket 0600, unix-socket.ts) that
// carries the same API for local clients: nobody else can bind it first, and nobody else can connect.
//
// Login (preload/contract/handshake.ts) and its budget (login-guard.ts): connections that have not
// logged in have their own small budget per client and in all; only sessions count toward
// maxConnections.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  API_PATH,
  CLOSE_CODES,
  HEALTH_PATH,
  MAX_CLIENT_MESSAGE_BYTES,
} from '../../preload/contract/protocol';
import { channelOfListener } from '../../preload/contract/handshake';
import { isTokenFormat } from './auth';
import { Credentials, type UserDirectory } from './credentials';
import { ApiConnection, type ConnectionLimits, type LoginHooks } from './connection';
import { DEFAULT_LOGIN_LIMITS, LoginGuard, type LoginGuardLimits } from './login-guard';
import { socketUrl, UNIX_CHANNEL } from './unix-socket';
import { acceptedHost, originAllowed, urlHost, type ExposurePolicy } from './exposure';
import type { ApiHandler } from './handler';
import { securityHeaders, sendPlain, serveStatic } from './static';
import { listenApi, STARTING_HANDLER, type ApiListeners } from './listen';
import type { TlsMaterial } from './tls';

export interface AgentServerOptions {
  handler: ApiHandler;
  /** The node's token (64 hex digits, see token.ts): the local root's admin credential. */
  token: string;
  /** The cluster's named users (credentials.ts); without it only the token logs in. */
  users?: UserDirectory | null;
  /** Default 127.0.0.1; a non-loopback host requires `tls`. */
  host?: string;
  /** Default 7790 (DEFAULT_API_PORT); 0 picks a free port. */
  port?: number;
  /** Serve https/wss with this certificate. */
  tls?: TlsMaterial | null;
  /** The built web console; without it only /api and /healthz exist. */
  staticDir?: string | null;
  /** Host names besides the loopback ones and `host` that clients use (e.g. the certificate's name). */
  allowedHosts?: readonly string[];
  /** Also serve the API on this Unix socket (its directory is made 0700, the socket 0600). */
  socketPath?: string | null;
  /** Listeners bound beforehand (listen.ts; `ipfo agent` binds them before it joins): host, port, tls and socketPath are theirs. */
  listeners?: ApiListeners;
  /** Simultaneous authenticated sessions; a login beyond them is refused with 'busy' (close 1013). */
  maxConnections?: number;
  /** The budget of connections that have not logged in, failed-login backoff and its log (login-guard.ts). */
  login?: Partial<LoginGuardLimits>;
  /** Interval of WebSocket pings; a peer that misses one whole interval is dropped. 0 = none. */
  heartbeatMs?: number;
  limits?: Partial<ConnectionLimits>;
  log?: (line: string) => void;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  authTimeoutMs: 5_000,
  maxInFlight: 32,
  badMessages: { count: 10, windowMs: 10_000 },
  // A snapshot of 10,000 resources is a few MB; a client that leaves several of them unread is stuck.
  maxBufferedBytes: 32 * 1024 * 1024,
});

export interface AgentServer {
  /** The bound host and port (the port chosen by the system when 0 was asked). */
  readonly host: string;
  readonly port: number;
  /** "ws://127.0.0.1:7790/api" or "wss://...". */
  readonly url: string;
  /** "http://127.0.0.1:7790" or "https://...": where the web console is. */
  readonly origin: string;
  /** The Unix socket's URL ("ws+unix:/run/ipfo/api.sock:/api"), null without one. */
  readonly socketUrl: string | null;
  /** Open WebSockets, logged in or not. */
  connectionCount(): number;
  /** Authenticated sessions. */
  sessionCount(): number;
  /** Closes every connection (1001) and stops listening. */
  close(): Promise<void>;
}

export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  if (!isTokenFormat(options.token)) throw new Error('the API token must be 64 hex digits (see token.ts)');
  const listeners = options.listeners ?? (await listenApi(options));
  const { host, tls, tcp: server, unix: unixServer } = listeners;
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
  const log = options.log ?? (() => undefined);
  const maxSessions = options.maxConnections ?? 64;
  const guard = new LoginGuard({ ...DEFAULT_LOGIN_LIMITS, ...options.login }, log);
  const credentials = await Credentials.create(options.token, options.users ?? null);
  const scheme = tls === null ? 'http' : 'https';

  const policy: ExposurePolicy = { scheme, host, port: listeners.port, allowedHosts: options.allowedHosts ?? [] };
  const socketOrigin = (acceptedHostName: string | null): string | null =>
    acceptedHostName === null ? null : `${tls === null ? 'ws' : 'wss'}://${acceptedHostName}`;

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const accepted = acceptedHost(policy, request.headers.host);
    for (const [name, value] of Object.entries(securityHeaders(socketOrigin(accepted)))) response.setHeader(name, value);
    if (accepted === null) {
      sendPlain(response, 421, 'this server does not answer to that host name\n');
      return;
    }
    const path = (request.url ?? '').split(/[?#]/, 1)[0];
    if (path === HEALTH_PATH) {
      sendPlain(response, 200, request.method === 'HEAD' ? '' : 'ok\n');
      return;
    }
    if (path === API_PATH) {
      sendPlain(response, 426, 'the API is a WebSocket\n', { Upgrade: 'websocket' });
      return;
    }
    if (options.staticDir === undefined || options.staticDir === null) {
      sendPlain(response, 404, 'not found\n');
      return;
    }
    serveStatic(options.staticDir, request, response).catch((error: unknown) => {
      log(`api: static ${request.url ?? ''}: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) sendPlain(response, 500, 'internal error\n');
      else response.destroy();
    });
  };
  server.off('request', STARTING_HANDLER);
  server.on('request', onRequest);

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES, perMessageDeflate: false });
  const connections = new Map<WebSocket, ApiConnection>();
  const sessions = new Set<WebSocket>();
  const alive = new WeakSet<WebSocket>();

  /** Admits an upgrade under the login budget and makes the WebSocket a connection; `channel` names the listener. */
  const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer, peer: string, channel: string): void => {
    if (!guard.admit(peer)) {
      guard.refused(peer, 'too many connections that have not logged in');
      return refuseUpgrade(socket, 503, 'Service Unavailable');
    }
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      guard.release(peer);
    };
    let handed = false;
    // An upgrade that never becomes a connection (the peer left during the handshake) gives its slot back here.
    socket.once('close', () => {
      if (!handed) release();
    });
    sockets.handleUpgrade(request, socket, head, (ws) => {
      handed = true;
      alive.add(ws);
      ws.on('pong', () => alive.add(ws));
      const login: LoginHooks = {
        failed: (reason) => guard.failed(peer, reason),
        refused: (reason) => guard.refused(peer, reason),
        release,
        authenticated: () => {
          release();
          if (sessions.size >= maxSessions) return false;
          sessions.add(ws);
          return true;
        },
      };
      connections.set(ws, new ApiConnection(ws, { handler: options.handler, credentials, channel, limits, peer, log, login, transport: socket }));
      ws.on('close', () => {
        connections.delete(ws);
        sessions.delete(ws);
      });
    });
  };

  const tcpChannel = (): string => channelOfListener(tls !== null, policy.port);
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const accepted = acceptedHost(policy, request.headers.host);
    const path = (request.url ?? '').split(/[?#]/, 1)[0];
    if (path !== API_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (accepted === null) return refuseUpgrade(socket, 421, 'Misdirected Request');
    if (!originAllowed(policy, request.headers.origin, accepted)) {
      log(`api: refused a WebSocket from origin ${JSON.stringify(request.headers.origin ?? '').slice(0, 100)}`);
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    // "::ffff:127.0.0.1" (an IPv4 peer on a dual-stack socket) reads as 127.0.0.1 in the audit log.
    const peer = (request.socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.)/, '');
    upgrade(request, socket, head, peer, tcpChannel());
  });

  // The Unix socket: the same API for local clients. No browser reaches it (no Host or Origin to
  // check; a request with an Origin is refused all the same), and only root may connect.
  if (unixServer !== null) {
    unixServer.off('request', STARTING_HANDLER);
    unixServer.on('request', (_request: IncomingMessage, response: ServerResponse) => sendPlain(response, 404, 'only the API (/api) is served here\n'));
    unixServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      const path = (request.url ?? '').split(/[?#]/, 1)[0];
      if (path !== API_PATH) return refuseUpgrade(socket, 404, 'Not Found');
      if (request.headers.origin !== undefined) return refuseUpgrade(socket, 403, 'Forbidden');
      upgrade(request, socket, head, 'unix', UNIX_CHANNEL);
    });
  }

  // A removed or rotated user, or one given another role, is logged out at once, on every agent.
  const stopWatchingUsers = credentials.directory?.onChange(() => {
    for (const connection of connections.values()) connection.recheck();
  });

  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const heartbeat =
    heartbeatMs > 0
      ? setInterval(() => {
          for (const ws of connections.keys()) {
            if (!alive.has(ws)) {
              ws.terminate();
              continue;
            }
            alive.delete(ws);
            ws.ping();
          }
        }, heartbeatMs).unref()
      : null;

  const origin = `${scheme}://${urlHost(host)}:${listeners.port}`;
  return {
    host,
    port: listeners.port,
    url: `${tls === null ? 'ws' : 'wss'}://${urlHost(host)}:${listeners.port}${API_PATH}`,
    origin,
    socketUrl: listeners.socketPath === null ? null : socketUrl(listeners.socketPath, API_PATH),
    connectionCount: () => connections.size,
    sessionCount: () => sessions.size,
    close: async () => {
      if (heartbeat !== null) clearInterval(heartbeat);
      stopWatchingUsers?.();
      guard.close();
      for (const connection of connections.values()) connection.close(CLOSE_CODES.goingAway, 'agent shutting down');
      sockets.close();
      await listeners.close();
    },
  };
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
