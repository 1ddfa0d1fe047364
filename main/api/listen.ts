// The agent API's listeners, bound on their own and first: `ipfo agent` binds them before it joins
// the cluster or touches an address (issue 12: an agent whose port was taken used to join, serve no
// API and ignore SIGTERM). A port or socket that cannot be bound is an ApiBindError (exit 4), and
// the agent stops before anything happened. Light on purpose (Node's http and the exposure rules
// only): the WebSocket server and the contract load later, in server.ts, which attaches to these.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from '../../preload/contract/protocol';
import { ApiBindError, checkBind, ExposureError, isLoopbackHost } from './exposure';
import { checkTlsMaterial, type TlsMaterial } from './tls';
import { listenOnSocketPath } from './unix-socket';

export { ApiBindError };

export interface ApiListenOptions {
  /** Default 127.0.0.1; a non-loopback host requires `tls`. */
  host?: string;
  /** Default 7790; 0 picks a free port. */
  port?: number;
  tls?: TlsMaterial | null;
  /** Also a Unix socket here (unix-socket.ts). */
  socketPath?: string | null;
}

export interface ApiListeners {
  readonly host: string;
  /** The bound port (the system's choice when 0 was asked). */
  readonly port: number;
  readonly tls: TlsMaterial | null;
  /** The TCP listener (https with `tls`); answers 503 until the API attaches. */
  readonly tcp: Server;
  readonly unix: Server | null;
  readonly socketPath: string | null;
  /** Stops listening (and closes what is connected). */
  close(): Promise<void>;
}

const HTTP_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 30_000 };

/** Until the API is attached: "starting" for plain requests; upgrades find no listener and are dropped by Node. */
export const STARTING_HANDLER = (_request: unknown, response: { writeHead(status: number, headers: Record<string, string>): void; end(text: string): void }): void => {
  response.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' });
  response.end('the agent is starting\n');
};

export async function listenApi(options: ApiListenOptions): Promise<ApiListeners> {
  const host = options.host ?? DEFAULT_API_HOST;
  const port = options.port ?? DEFAULT_API_PORT;
  const tls = options.tls ?? null;
  checkBind(host, tls !== null);
  if (tls !== null) checkTlsMaterial(tls);
  const tcp: Server = tls === null ? createHttpServer(HTTP_TIMEOUTS) : createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', ...HTTP_TIMEOUTS });
  tcp.on('request', STARTING_HANDLER);
  await listenTcp(tcp, host, port);
  const address = tcp.address() as AddressInfo;
  if (tls === null && !isLoopbackHost(address.address)) {
    // "localhost" resolved to something else: do not serve in clear text there.
    await closeServer(tcp);
    throw new ExposureError(`${host} resolved to ${address.address}, which is not a loopback address; refusing to serve without TLS`);
  }
  let unix: Server | null = null;
  const socketPath = options.socketPath ?? null;
  if (socketPath !== null) {
    unix = createHttpServer(HTTP_TIMEOUTS);
    unix.on('request', STARTING_HANDLER);
    try {
      await listenOnSocketPath(unix, socketPath);
    } catch (error) {
      await closeServer(tcp);
      throw error instanceof ExposureError ? new ApiBindError(error.message) : new ApiBindError(`the API socket ${socketPath}: ${(error as Error).message}`);
    }
  }
  const listeners: ApiListeners = {
    host,
    port: address.port,
    tls,
    tcp,
    unix,
    socketPath,
    close: async () => {
      await Promise.all([closeServer(tcp), unix === null ? undefined : closeServer(unix)]);
    },
  };
  return listeners;
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') reject(new ApiBindError(`the API port ${host}:${port} is in use (another agent running, or another program on it?)`));
      else if (error.code === 'EADDRNOTAVAIL') reject(new ApiBindError(`${host} is not an address of this host`));
      else if (error.code === 'EACCES') reject(new ApiBindError(`the API port ${host}:${port} may not be bound by this user`));
      else reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
