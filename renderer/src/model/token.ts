// The web console's credential travels in the URL fragment, which browsers never send to the
// server: "#token=<64 hex>" (the node's token, as `ipfo agent` prints the link) or a user's
// "#token=alice:<64 hex>" (also "#credential=..."; the colon may be written %3A). It is read once at
// start and then removed from the address bar and the history (history.replaceState: boot.ts), so
// it is not left on screen, in the history or in a bookmark. A reload then needs the link again.
import { parseCredential, type Credential } from '../../../preload/contract/users';

/** The fragment's parameters that may carry a credential. */
const CREDENTIAL_PARAMS = ['token', 'credential'] as const;

export type HashCredential =
  /** No credential in the fragment (or an empty one): the page asks for one. */
  | { kind: 'none' }
  /** Something that is not a credential (mistyped, cut off, two different ones): nothing is sent. */
  | { kind: 'invalid' }
  | { kind: 'credential'; credential: Credential };

function paramsOf(hash: string): URLSearchParams {
  return new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
}

/** The credential in a location.hash such as "#token=ab12..." or "#token=alice:ab12..." (other parameters are ignored). */
export function credentialFromHash(hash: string): HashCredential {
  const params = paramsOf(hash);
  const values = new Set(CREDENTIAL_PARAMS.flatMap((name) => params.getAll(name)).map((value) => value.trim()).filter((value) => value !== ''));
  if (values.size === 0) return { kind: 'none' };
  // Two different credentials: which one the person meant is not ours to guess.
  if (values.size > 1) return { kind: 'invalid' };
  const credential = parseCredential([...values][0] ?? '');
  return credential === null ? { kind: 'invalid' } : { kind: 'credential', credential };
}

/** The fragment without its credential parameters, others kept ("#view=nodes"), or "" when nothing is left. */
export function hashWithoutCredential(hash: string): string {
  const params = paramsOf(hash);
  if (!CREDENTIAL_PARAMS.some((name) => params.has(name))) return hash;
  for (const name of CREDENTIAL_PARAMS) params.delete(name);
  const rest = params.toString();
  return rest === '' ? '' : `#${rest}`;
}

export { apiUrlFor } from '../api/api-url';
