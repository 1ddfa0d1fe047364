// Bad operator input (exit 2), from the command line or the agent's configuration file. It lives
// here, below both the CLI and the install code, so that install code never imports the CLI;
// main/cli/usage.ts re-exports it for the command parsers.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

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
