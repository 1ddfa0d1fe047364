// The web console's token travels in the URL fragment ("#token=<64 hex>"), which browsers never
// send to the server; it is read once at start.

/** The token in a location.hash such as "#token=ab12..." (other fragment parameters are ignored). */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const token = params.get('token')?.trim() ?? '';
  return token === '' ? null : token;
}

/** The API endpoint on the page's own origin: ws://host:port/api, or wss:// for an https page. */
export function apiUrlFor(location: { protocol: string; host: string }, path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}
