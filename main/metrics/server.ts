// The agent's metrics endpoint (`--metrics HOST:PORT`): GET /metrics in Prometheus's text format, and
// nothing else. Off by default; on loopback in clear, on any other address only over TLS (the metrics
// name every resource, address and node of the cluster: a map of it for whoever listens on the LAN).
// Bound before the agent joins, like the API, so a port in use stops the start with nothing joined.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApiBindError, ExposureError, isLoopbackHost, urlHost } from '../api/exposure';
import type { TlsMaterial } from '../api/tls';
import { EXPOSITION_CONTENT_TYPE } from './registry';

export const METRICS_PATH = '/metrics';
/** Scrapers at once; more are refused at the socket (a scrape is one short request). */
const MAX_CONNECTIONS = 32;

export interface MetricsListener {
  readonly url: string;
  /** From now on, scrapes get `render()`'s text (before: 503, the agent is starting). */
  serve(render: () => string): void;
  close(): Promise<void>;
}

/** Refuses a metrics endpoint that would show the cluster's map in clear text on the network. */
export function checkMetricsBind(host: string, tls: boolean): void {
  if (host.trim() === '') throw new ExposureError('the metrics host is empty');
  if (!tls && !isLoopbackHost(host)) {
    throw new ExposureError(`refusing to serve metrics on ${host} without TLS: listen on 127.0.0.1, or give --metrics-tls-cert and --metrics-tls-key (or the API's --tls-cert and --tls-key)`);
  }
}

export async function listenMetrics(options: { host: string; port: number; tls: TlsMaterial | null; log?: (line: string) => void }): Promise<MetricsListener> {
  checkMetricsBind(options.host, options.tls !== null);
  let render: (() => string) | null = null;
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== METRICS_PATH) return reply(response, 404, 'not found: the metrics are at /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return reply(response, 405, 'method not allowed\n');
    }
    if (render === null) return reply(response, 503, 'the agent is starting\n');
    let text: string;
    try {
      text = render();
    } catch (error) {
      options.log?.(`metrics: ${error instanceof Error ? error.message : String(error)}`);
      return reply(response, 500, 'the metrics could not be read\n');
    }
    response.writeHead(200, { 'Content-Type': EXPOSITION_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : text);
  };
  const server: Server = options.tls === null ? createHttpServer(handle) : createHttpsServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, handle);
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => reject(new ApiBindError(`cannot serve metrics on ${urlHost(options.host)}:${options.port}: ${error.code ?? error.message}`));
    server.once('error', failed);
    server.listen(options.port, options.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  server.on('error', (error) => options.log?.(`metrics server: ${error.message}`));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls === null ? 'http' : 'https'}://${urlHost(options.host)}:${port}${METRICS_PATH}`,
    serve: (next) => {
      render = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function reply(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
