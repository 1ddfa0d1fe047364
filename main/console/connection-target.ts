// Where a remote cluster's agent is, as an operator types it in the connection dialog: "host",
// "host:port", "[v6]" or "[v6]:port". Pure: no I/O.
//
// TLS is not a choice in the dialog: every address but loopback is reached over wss, because the
// agent refuses to serve off-host without TLS and the token must never cross a network in clear
// text. A loopback address (an ssh tunnel) uses ws unless a CA is given.
import { isIP } from 'node:net';
import { API_PATH, DEFAULT_API_PORT } from '../../preload/contract/protocol';
import { isLoopbackHost, urlHost } from '../api/exposure';

export interface AgentEndpoint {
  /** Host name or address, without brackets. */
  host: string;
  port: number;
  tls: boolean;
}

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function isHostName(host: string): boolean {
  if (host.length > 253) return false;
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  return labels.length > 0 && labels.every((label) => LABEL.test(label));
}

export type AddressParse = { ok: true; host: string; port: number } | { ok: false; problem: string };

/** Parses "host[:port]" / "[v6][:port]"; the port defaults to the agent's 7790. */
export function parseAgentAddress(text: string): AddressParse {
  const input = text.trim();
  if (input === '') return { ok: false, problem: 'the address is empty' };
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(input);
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (isIP(host) !== 6) return { ok: false, problem: `"${host}" in brackets is not an IPv6 address` };
  } else {
    const parts = input.split(':');
    if (parts.length > 2) return { ok: false, problem: 'an IPv6 address goes in brackets: [2001:db8::1]:7790' };
    host = parts[0] ?? '';
    portText = parts[1];
    if (isIP(host) !== 4 && !isHostName(host)) {
      return { ok: false, problem: `"${host.slice(0, 80)}" is not a host name or IPv4 address` };
    }
  }
  let port = DEFAULT_API_PORT;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      return { ok: false, problem: `the port must be a number 1..65535, got "${portText.slice(0, 20)}"` };
    }
    port = Number(portText);
  }
  return { ok: true, host: host.toLowerCase(), port };
}

/** The endpoint for an address: TLS for everything but loopback, or when a CA is pinned. */
export function endpointFor(host: string, port: number, hasCa: boolean): AgentEndpoint {
  return { host, port, tls: hasCa || !isLoopbackHost(host) };
}

/** "wss://cluster.example:7790/api". */
export function endpointUrl(endpoint: AgentEndpoint): string {
  return `${endpoint.tls ? 'wss' : 'ws'}://${urlHost(endpoint.host)}:${endpoint.port}${API_PATH}`;
}
