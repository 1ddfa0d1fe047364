// The web console's API address, free of the contract's imports: early-socket.ts needs it before the
// rest of the page's script has been evaluated.

/** The API endpoint on the page's own origin: ws://host:port/api, or wss:// for an https page. */
export function apiUrlFor(location: { protocol: string; host: string }, path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}
