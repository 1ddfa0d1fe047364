// The pieces every command parser shares: the bad-input error (exit 2) and the agent's defaults.
// Kept apart from args.ts so that cluster-args.ts can use them without an import cycle.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const DEFAULT_STORE = 'file:/var/lib/ipfo/store';
export const DEFAULT_TOKEN_FILE = '/var/lib/ipfo/token';
export const DEFAULT_API = '127.0.0.1:7790';

/** host:port with a port 1..65535 (0 allowed for tests: any free port). */
export function parseHostPort(option: string, text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const portText = text.slice(colon + 1);
  if (colon <= 0 || !/^\d{1,5}$/.test(portText) || Number(portText) > 65535 || !/^[A-Za-z0-9.:-]+$/.test(host)) {
    throw new UsageError(`--${option} wants host:port, got "${text}"`);
  }
  return { host, port: Number(portText) };
}
