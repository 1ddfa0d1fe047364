// The web console's token travels in the URL fragment ("#token=<64 hex>"), which browsers never
// send to the server; it is read once at start and then removed from the address bar and the
// history (history.replaceState: main.tsx), so it is not left on screen, in the history or in a
// bookmark. A reload then needs the link again.

/** The token in a location.hash such as "#token=ab12..." (other fragment parameters are ignored). */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const token = params.get('token')?.trim() ?? '';
  return token === '' ? null : token;
}

/** The fragment without its token parameter, others kept ("#view=nodes"), or "" when nothing is left. */
export function hashWithoutToken(hash: string): string {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  if (!params.has('token')) return hash;
  params.delete('token');
  const rest = params.toString();
  return rest === '' ? '' : `#${rest}`;
}

/** The API endpoint on the page's own origin: ws://host:port/api, or wss:// for an https page. */
export function apiUrlFor(location: { protocol: string; host: string }, path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}
